"""Spectral normalisation of a discriminator (Miyato et al., 2018, "Spectral Normalization for GANs").

Every convolution, transposed convolution and linear weight W is divided by an estimate of its
largest singular value sigma(W), kept up to date by one step of power iteration per training-mode
forward (PyTorch's ``torch.nn.utils.parametrizations.spectral_norm``). Convolution kernels are read
as the matrix [out_channels, in_channels * kernel] (dimension 1 first for transposed convolutions),
as in the paper. Embeddings (the projection head's class embedding) are left as they are.
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

NORMALISED_LAYERS = (
    nn.Linear,
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
)


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectral-normalise every Conv/ConvTranspose/Linear weight inside ``module`` (in place); returns it.

    Layers whose weight is already parametrised are left alone, so applying it twice is harmless.
    """
    for layer in list(module.modules()):
        if (
            isinstance(layer, NORMALISED_LAYERS)
            and isinstance(getattr(layer, "weight", None), nn.Parameter)
            and not parametrize.is_parametrized(layer, "weight")
        ):
            spectral_norm(layer)
    return module


__all__ = ["apply_spectral_norm", "NORMALISED_LAYERS"]
