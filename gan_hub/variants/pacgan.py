"""PacGAN (Lin, Khetan, Fanti & Oh, 2018, "PacGAN: The power of two samples in generative adversarial
networks", arXiv:1712.04086).

The discriminator judges m samples at once: m real samples, or m fakes, concatenated along the
channel axis (images [N, C, H, W] -> [N/m, m C, H, W]; 2-D points [N, d] -> [N/m, m d]). A generator
that drops modes makes packs whose members are too alike, which a packed D can see and a D of single
samples cannot; the paper shows packing penalises mode collapse with no other change to the game.
So everything else is the base algorithm with the DCGAN (non-saturating) objective: only the
discriminator's input changes, through the ``pack`` network wrapper (registered here), which builds
the architecture's D for m times the channels and packs consecutive samples before calling it.
The D batch is N/m, so the batch size must be a multiple of m. The packing is recorded in
``config.json`` (the discriminator's wrappers), so the exported discriminator loads like any other.

``pack`` (m, default 2) is the variant's option: ``--variant-options '{"pack": 4}'``.
"""

from __future__ import annotations

from numbers import Integral

import torch
from torch import nn

from ..game import unwrap
from ..networks import WRAPPERS
from ..registry import VARIANTS
from .base import AdversarialAlgorithm, VariantSpec

Tensor = torch.Tensor


def pack_samples(x: Tensor, m: int) -> Tensor:
    """[N, C, ...] -> [N/m, m C, ...]: consecutive groups of m samples side by side along the channels."""
    if len(x) % m:
        raise ValueError(
            f"PacGAN packs {m} samples into each discriminator input, but got a batch of {len(x)}: "
            f"use a batch size that is a multiple of {m}"
        )
    return x.reshape(len(x) // m, m * x.shape[1], *x.shape[2:])


class PackedDiscriminator(nn.Module):
    """D(x) = inner(pack(x)): one logit per pack of ``m`` consecutive samples."""

    def __init__(self, inner: nn.Module, m: int):
        super().__init__()
        self.inner, self.m = inner, m

    def forward(self, x: Tensor, labels: Tensor | None = None):
        if labels is not None:
            raise ValueError("PacGAN's packed discriminator is unconditional: it judges packs, not labelled samples")
        return self.inner(pack_samples(x, self.m), None)


@WRAPPERS.register("pack")
def pack(build, model, m: int = 2) -> nn.Module:
    """The architecture's discriminator for m packed samples."""
    return PackedDiscriminator(build(channels=model.channels * m), m)


class PacGANAlgorithm(AdversarialAlgorithm):
    """The base game with a packed discriminator; ``pack`` is m (2, 3 or 4 in the paper; any integer >= 1)."""

    def __init__(self, objective, techniques=None, pack: int = 2):
        super().__init__(objective, techniques)
        if isinstance(pack, bool) or not isinstance(pack, Integral) or pack < 1:
            raise ValueError(f"pack must be an integer >= 1 (the number of samples D judges together), got {pack!r}")
        self.pack = int(pack)

    def discriminator_wrappers(self) -> list[dict]:
        return [{"name": "pack", "m": self.pack}]

    def features(self, discriminator: nn.Module, images: Tensor, labels: Tensor | None) -> Tensor:
        inner = unwrap(discriminator).inner
        if not hasattr(inner, "body"):
            raise ValueError(f"feature matching needs a discriminator with a .body; {type(inner).__name__} has none")
        return inner.body(pack_samples(images, self.pack))


VARIANTS.register(
    "pacgan",
    VariantSpec(
        name="pacgan",
        arch="dcgan",
        arch_kwargs={"base_channels": 64},
        objective="non-saturating",
        algorithm=PacGANAlgorithm,
        summary="PacGAN: D judges packs of m samples (all real or all fake) concatenated along channels; DCGAN "
        "objective",
        paper="Lin, Khetan, Fanti & Oh, PacGAN: The power of two samples in generative adversarial networks, 2018 "
        "(arXiv:1712.04086)",
    ),
)
