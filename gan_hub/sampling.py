"""Seeded latents, lerp/slerp and class grids: the one place that decides which z a seed means."""

from __future__ import annotations

from typing import Sequence

import torch

from .validation import check_choice, check_int, check_real, check_seed

INTERPOLATIONS = ("lerp", "slerp")


# The truncation trick redraws |z| > t; each redraw lands inside with probability about 0.8 t, so the work
# grows as 1/t. The floor bounds it (at most ~60x the untruncated draw); the round budget is a backstop.
TRUNCATION_MIN = 0.02
MAX_REDRAW_ROUNDS = 100_000


def latents(n: int, latent_dim: int, seed: int, truncation: float | None = None) -> torch.Tensor:
    """n standard-normal latents from ``seed`` (CPU generator, so every device gets the same z).

    ``truncation`` (the truncation trick): entries with |z| > truncation are redrawn from the same
    generator until none is left, so z follows a normal truncated to [-t, t]. Entries already inside
    keep their values: a truncated sample is its untruncated self with only the outliers redrawn.
    ``truncation`` must be at least ``TRUNCATION_MIN`` (0.02), which bounds the time the redraws take.
    """
    n, seed = check_int("n", n, minimum=0), check_seed("seed", seed)
    rng = torch.Generator().manual_seed(seed)
    z = torch.randn(n, latent_dim, generator=rng)
    if truncation is None:
        return z
    truncation = check_real("truncation", truncation, minimum=TRUNCATION_MIN)
    outside = z.abs() > truncation
    for _ in range(MAX_REDRAW_ROUNDS):
        if not outside.any():
            return z
        z[outside] = torch.randn(int(outside.sum()), generator=rng)
        outside = z.abs() > truncation
    raise RuntimeError(f"truncation {truncation}: latents still outside after {MAX_REDRAW_ROUNDS} redraw rounds")


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
    check_choice("method", method, INTERPOLATIONS)
    steps = check_int("steps", steps, minimum=2, why="both end points")
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
