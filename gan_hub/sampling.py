"""Seeded latents, lerp/slerp and class grids: the one place that decides which z a seed means."""
from __future__ import annotations

from typing import Sequence

import torch

INTERPOLATIONS = ("lerp", "slerp")


def latents(n: int, latent_dim: int, seed: int, truncation: float | None = None) -> torch.Tensor:
    """n standard-normal latents from ``seed`` (CPU generator, so every device gets the same z).

    ``truncation`` (the truncation trick): entries with |z| > truncation are redrawn from the same
    generator until none is left, so z follows a normal truncated to [-t, t]. Entries already inside
    keep their values: a truncated sample is its untruncated self with only the outliers redrawn.
    """
    rng = torch.Generator().manual_seed(int(seed))
    z = torch.randn(n, latent_dim, generator=rng)
    if truncation is None:
        return z
    if not truncation > 0:
        raise ValueError(f"truncation must be a positive threshold on |z|, got {truncation!r}")
    outside = z.abs() > truncation
    while outside.any():
        z[outside] = torch.randn(int(outside.sum()), generator=rng)
        outside = z.abs() > truncation
    return z


def latent_for_seed(seed: int, latent_dim: int) -> torch.Tensor:
    """The single latent that a seed names in interpolations and class grids."""
    return latents(1, latent_dim, seed)[0]


def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    t = t.reshape(-1, *([1] * a.ndim))
    return (1 - t) * a + t * b


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation (Shoemake, 1985); falls back to lerp for nearly parallel vectors."""
    a64, b64 = a.double(), b.double()
    cos = torch.dot(a64, b64) / (a64.norm() * b64.norm())
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    if omega.abs() < 1e-6:
        return lerp(a, b, t)
    t64 = t.double().reshape(-1, 1)
    out = (torch.sin((1 - t64) * omega) * a64 + torch.sin(t64 * omega) * b64) / torch.sin(omega)
    return out.to(a.dtype)


def interpolate_latents(a: torch.Tensor, b: torch.Tensor, steps: int, method: str = "slerp") -> torch.Tensor:
    if method not in INTERPOLATIONS:
        raise ValueError(f"unknown interpolation {method!r}; choose one of {INTERPOLATIONS}")
    if steps < 2:
        raise ValueError(f"steps must be at least 2 (both end points), got {steps}")
    t = torch.linspace(0.0, 1.0, steps)
    return (slerp if method == "slerp" else lerp)(a, b, t)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """Generator output in [-1, 1] -> uint8 in [0, 255]."""
    return images.float().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8).cpu()


def image_grid(images: torch.Tensor, nrow: int, padding: int = 2):
    """uint8 [N, C, H, W] -> a PIL image of the grid with ``nrow`` images per row."""
    from PIL import Image
    from torchvision.utils import make_grid

    grid = make_grid(images, nrow=nrow, padding=padding, pad_value=255)
    array = grid.permute(1, 2, 0).numpy()
    return Image.fromarray(array[:, :, 0] if images.shape[1] == 1 else array)


def grid_columns(n: int) -> int:
    """A near-square layout for n images."""
    return max(1, int(n**0.5 + 0.999))


def cycle_labels(n: int, num_classes: int) -> list[int]:
    return [i % num_classes for i in range(n)]


def class_grid_labels(classes: Sequence[int], columns: int) -> list[int]:
    return [c for c in classes for _ in range(columns)]
