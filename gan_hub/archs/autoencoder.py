"""Autoencoder discriminators for the energy-based variants (EBGAN, BEGAN).

The discriminator reconstructs its input; the variant's algorithm turns the reconstruction error
into an energy. ``forward(x)`` returns the reconstruction [N, C, H, W]; ``encode(x)`` returns the
code [N, code_dim] (EBGAN's pulling-away term acts on the codes of the fakes) and ``decode(code)``
maps a code back to an image. ``forward(x, return_code=True)`` returns both in one pass, also
through a DistributedDataParallel wrapper.

Two architectures are registered; their generator entries reuse the matching generator, so a
variant says ``arch="dcgan", discriminator_arch="autoencoder"`` (or ``"mlp"`` / ``"autoencoder-mlp"``):

* ``autoencoder``: strided convolutions down to the DCGAN start resolution (7x7 for 28x28, 4x4 for
  32x32), a fully connected code of width ``d_hidden`` (default 64, BEGAN's embedding size), then
  transposed convolutions back, mirroring the DCGAN networks. ELU activations as in BEGAN, a linear
  output layer, no normalisation unless ``d_norm="batch"``.
* ``autoencoder-mlp``: fully connected encoder and decoder of ``num_layers`` layers of ``hidden_dim``
  units around a code of ``code_dim`` units (default hidden_dim // 4).

A run's ``arch_kwargs`` reach both the generator and the discriminator, so each autoencoder takes only
keyword arguments its generator also accepts (and ignores the generator's own, like ``g_hidden``).

Both are unconditional: they raise ``ValueError`` for ``num_classes > 0`` and ignore ``labels``,
which ``forward`` accepts only so that it has the signature of every other discriminator.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..registry import ARCHS
from .dcgan import D_NORMS, DCGANGenerator, base_resolution
from .mlp import MLPGenerator, data_shape


def _require_unconditional(num_classes: int, name: str) -> None:
    if num_classes:
        raise ValueError(
            f"the {name} discriminator is unconditional (EBGAN and BEGAN are), but num_classes={num_classes} "
            "was asked: use it with an unconditional variant"
        )


class AutoencoderDiscriminator(nn.Module):
    """Shared interface: subclasses set ``self.encoder`` and ``self.decoder``."""

    encoder: nn.Module
    decoder: nn.Module
    code_dim: int

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        return self.decoder(code)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None, return_code: bool = False):
        code = self.encoder(x)
        reconstruction = self.decoder(code)
        return (reconstruction, code) if return_code else reconstruction


class ConvAutoencoderDiscriminator(AutoencoderDiscriminator):
    """Convolutional autoencoder for the image sizes the dcgan architecture supports.

    ``base_channels`` is the width after the first strided convolution (doubled at each further one),
    ``d_hidden`` the width of the code, ``d_norm`` "none" (default, as in BEGAN) or "batch".
    """

    def __init__(
        self,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        base_channels: int = 64,
        d_hidden: int = 64,
        d_norm: str = "none",
        g_hidden: int = 0,
    ):  # g_hidden shapes only the generator
        super().__init__()
        _require_unconditional(num_classes, "autoencoder")
        if d_norm not in D_NORMS:
            raise ValueError(f"d_norm must be one of {D_NORMS}, got {d_norm!r}")
        if d_hidden < 1:
            raise ValueError(f"the autoencoder's code width d_hidden must be at least 1, got {d_hidden}")
        start, doublings = base_resolution(image_size)
        batch_norm = d_norm == "batch"

        def norm(width: int) -> list[nn.Module]:
            return [nn.BatchNorm2d(width)] if batch_norm else []

        encoder, width = [nn.Conv2d(channels, base_channels, 4, 2, 1), nn.ELU()], base_channels
        for _ in range(doublings - 1):
            encoder += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=not batch_norm), *norm(width * 2), nn.ELU()]
            width *= 2
        encoder += [nn.Flatten(), nn.Linear(width * start * start, d_hidden)]
        decoder = [nn.Linear(d_hidden, width * start * start), nn.Unflatten(1, (width, start, start)), nn.ELU()]
        for _ in range(doublings - 1):
            decoder += [
                nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=not batch_norm),
                *norm(width // 2),
                nn.ELU(),
            ]
            width //= 2
        decoder.append(nn.ConvTranspose2d(width, channels, 4, 2, 1))  # linear output: any real-valued reconstruction
        self.encoder = nn.Sequential(*encoder)
        self.decoder = nn.Sequential(*decoder)
        self.code_dim = d_hidden


class MLPAutoencoderDiscriminator(AutoencoderDiscriminator):
    """Fully connected autoencoder (for the mlp architecture, vector data such as the 2-D toys, and tiny tests)."""

    def __init__(
        self,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        hidden_dim: int = 512,
        num_layers: int = 2,
        code_dim: int | None = None,
    ):
        super().__init__()
        _require_unconditional(num_classes, "autoencoder-mlp")
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        code_dim = code_dim or max(1, hidden_dim // 4)
        shape = data_shape(channels, image_size)
        encoder, width = [nn.Flatten()], math.prod(shape)
        for _ in range(num_layers):
            encoder += [nn.Linear(width, hidden_dim), nn.ELU()]
            width = hidden_dim
        encoder.append(nn.Linear(width, code_dim))
        decoder, width = [], code_dim
        for _ in range(num_layers):
            decoder += [nn.Linear(width, hidden_dim), nn.ELU()]
            width = hidden_dim
        decoder += [nn.Linear(width, math.prod(shape)), nn.Unflatten(1, shape)]
        self.encoder = nn.Sequential(*encoder)
        self.decoder = nn.Sequential(*decoder)
        self.code_dim = code_dim


from .spec import ArchSpec  # noqa: E402

ARCHS.register("autoencoder", ArchSpec(DCGANGenerator, ConvAutoencoderDiscriminator))
ARCHS.register("autoencoder-mlp", ArchSpec(MLPGenerator, MLPAutoencoderDiscriminator))
