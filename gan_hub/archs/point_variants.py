"""PacGAN's point networks (``pacgan-mlp``) in the shapes that two families of variants need, so that
every unconditional variant runs in the published 2-D protocol (bench/toy_protocol.py):

* ``pacgan-autoencoder`` (BEGAN, EBGAN): PacGAN's generator with an autoencoder discriminator.
  PacGAN's maxout D has no autoencoder form, so the encoder and the decoder each take its depth and
  width (3 layers of 200 units; ELU, as BEGAN's networks) around a code of ``code_dim`` units.
* ``pacgan-bigan`` (BiGAN / ALI, which PacGAN's Table 1 reports on these toys): PacGAN's generator
  carrying an encoder E: x -> z that mirrors it (4 x 400 ReLU with batch norm, linear output), and a
  joint discriminator D(x, z): PacGAN's maxout D (3 x 200 units, 5 pieces) on the pair [x, z].

Both interfaces are those of the image networks (gan_hub/archs/autoencoder.py, gan_hub/archs/bigan.py),
so the variants' algorithms run on them unchanged. One seed per network (no ``seeds`` stacking).
"""

from __future__ import annotations

import torch
from torch import nn

from ..registry import ARCHS
from .autoencoder import MLPAutoencoderDiscriminator
from .pacgan_mlp import MaxoutDiscriminator, PointGenerator, _points_only
from .spec import ArchSpec

D_WIDTH, D_LAYERS, PIECES = 200, 3, 5


class PointAutoencoderDiscriminator(MLPAutoencoderDiscriminator):
    """Reconstructs 2-D points: encoder and decoder of ``d_layers`` x ``d_width`` ELU units each."""

    def __init__(
        self,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        d_width: int = D_WIDTH,
        d_layers: int = D_LAYERS,
        code_dim: int | None = None,
        hidden_dim: int = 400,  # G's options, which a run's arch_kwargs also hand to D
        num_layers: int = 4,
    ):
        _points_only(channels, image_size, num_classes)
        super().__init__(channels, image_size, 0, hidden_dim=d_width, num_layers=d_layers, code_dim=code_dim)


class PointBiGANGenerator(nn.Module):
    """G and E in one module, as :class:`gan_hub.archs.bigan.BiGANGenerator`: G(z), or (G(z), E(real))."""

    def __init__(
        self,
        latent_dim: int,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        hidden_dim: int = 400,
        num_layers: int = 4,
    ):
        super().__init__()
        self.latent_dim = latent_dim
        self.generator = PointGenerator(latent_dim, channels, image_size, num_classes, hidden_dim, num_layers)
        self.encoder = PointGenerator(channels, latent_dim, 0, 0, hidden_dim, num_layers)  # the mirror: x -> z

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None, real: torch.Tensor | None = None):
        points = self.generator(z)
        return points if real is None else (points, self.encoder(real))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)


class PointJointDiscriminator(nn.Module):
    """D(x, z) -> logit [N]: PacGAN's maxout D on the concatenated pair; its input width is set by
    :meth:`attach_latent` (the bigan algorithm calls it with G's latent width)."""

    def __init__(
        self,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        d_width: int = D_WIDTH,
        d_layers: int = D_LAYERS,
        pieces: int = PIECES,
        latent_dim: int | None = None,
        hidden_dim: int = 400,  # G's options, which a run's arch_kwargs also hand to D
        num_layers: int = 4,
    ):
        super().__init__()
        _points_only(channels, image_size, num_classes)
        self.channels, self.shape = channels, (d_width, d_layers, pieces)
        self.pair: MaxoutDiscriminator | None = None
        if latent_dim is not None:
            self.attach_latent(latent_dim)

    @property
    def latent_dim(self) -> int | None:
        return None if self.pair is None else self.pair.body[0].linear.in_features - self.channels

    def attach_latent(self, latent_dim: int) -> "PointJointDiscriminator":
        if self.pair is not None:
            if latent_dim != self.latent_dim:
                raise ValueError(
                    f"the joint discriminator already reads latents of width {self.latent_dim}, not {latent_dim}"
                )
            return self
        width, layers, pieces = self.shape
        self.pair = MaxoutDiscriminator(self.channels + latent_dim, 0, 0, width, layers, pieces)
        return self

    def forward(
        self, x: torch.Tensor, labels: torch.Tensor | None = None, z: torch.Tensor | None = None
    ) -> torch.Tensor:
        if self.pair is None:
            raise RuntimeError("the joint discriminator has no latent branch yet: call attach_latent(latent_dim)")
        if z is None:
            raise ValueError("the bigan discriminator scores (point, latent) pairs: call D(x, labels, z=z)")
        return self.pair(torch.cat([x, z.to(x.dtype)], dim=1))


ARCHS.register("pacgan-autoencoder", ArchSpec(PointGenerator, PointAutoencoderDiscriminator))
ARCHS.register("pacgan-bigan", ArchSpec(PointBiGANGenerator, PointJointDiscriminator))
