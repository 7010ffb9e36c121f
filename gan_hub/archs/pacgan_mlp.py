"""PacGAN's networks for 2-D points (Lin et al., 2018; the authors' synthetic-data code).

* Generator: ``num_layers`` (4) hidden layers of ``hidden_dim`` (400) units, each linear (no bias)
  -> batch norm -> ReLU, then a linear output with bias. Batch-norm running statistics move with
  momentum 0.05, as the authors' population updates do.
* Discriminator: ``num_layers`` (3) linear maxout layers of ``hidden_dim`` (200) units with ``pieces``
  (5) pieces each, then a linear logit. PacGAN's packing is the ``pacgan`` variant's ``pack`` network
  wrapper around it (m consecutive samples side by side: a batch of N rows gives N/m logits).

``seeds`` = S builds S independent copies in one network (gan_hub.nn.seeded) that read S blocks of
rows; with S = 1 the layers are plain ``nn`` layers, so every technique that rewrites a network
(virtual batch norm, minibatch discrimination, spectral norm) applies as it does elsewhere.
"""

from __future__ import annotations

import torch
from torch import nn

from ..nn import ProjectionHead
from ..nn.seeded import SeedLinear, batch_norm, linear
from ..registry import ARCHS

BN_MOMENTUM = 0.05


def _points_only(channels: int, image_size: int, num_classes: int) -> None:
    if image_size or num_classes:
        raise ValueError(
            f"pacgan-mlp networks are for unconditional points (image_size 0, no classes); "
            f"got image_size={image_size}, num_classes={num_classes}"
        )


class PointGenerator(nn.Module):
    def __init__(
        self,
        latent_dim: int,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        hidden_dim: int = 400,
        num_layers: int = 4,
        seeds: int = 1,
    ):
        super().__init__()
        _points_only(channels, image_size, num_classes)
        layers, width = [], latent_dim
        for _ in range(num_layers):
            layers += [
                linear(seeds, width, hidden_dim, bias=False),
                batch_norm(seeds, hidden_dim, BN_MOMENTUM),
                nn.ReLU(),
            ]
            width = hidden_dim
        layers.append(linear(seeds, width, channels))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z)


class Maxout(nn.Module):
    """Linear to ``out * pieces`` units, then the maximum over each unit's ``pieces``."""

    def __init__(self, seeds: int, in_features: int, out_features: int, pieces: int):
        super().__init__()
        self.linear, self.out_features, self.pieces = (
            linear(seeds, in_features, out_features * pieces),
            out_features,
            pieces,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # max(dim) sends each gradient to the one winning piece (an index); amax would split it over ties, a
        # backward three times as slow here, for ties that continuous pre-activations practically never have
        return self.linear(x).view(-1, self.out_features, self.pieces).max(dim=-1).values


class SeedHead(nn.Module):
    """The logit of S seed copies: a :class:`SeedLinear` to one unit."""

    def __init__(self, seeds: int, in_features: int):
        super().__init__()
        self.linear = SeedLinear(seeds, in_features, 1)

    def forward(self, h: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.linear(h).squeeze(1)


class MaxoutDiscriminator(nn.Module):
    def __init__(
        self,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        hidden_dim: int = 200,
        num_layers: int = 3,
        pieces: int = 5,
        seeds: int = 1,
    ):
        super().__init__()
        _points_only(channels, image_size, num_classes)
        layers, width = [], channels
        for _ in range(num_layers):
            layers.append(Maxout(seeds, width, hidden_dim, pieces))
            width = hidden_dim
        self.body = nn.Sequential(*layers)
        self.head = ProjectionHead(width) if seeds == 1 else SeedHead(seeds, width)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.body(x), labels)


from .spec import ArchSpec  # noqa: E402

ARCHS.register("pacgan-mlp", ArchSpec(PointGenerator, MaxoutDiscriminator))
