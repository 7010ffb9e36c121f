"""Spectral normalisation as a switch: applies gan_hub.nn.spectral to the training D."""

from __future__ import annotations

from ._common import parse_options
from .setup import TECHNIQUES, TechniqueSetup


@TECHNIQUES.register("spectral_norm")
def spectral_norm(options, setup: TechniqueSetup) -> None:
    """Spectral normalisation of every D weight, keeping D about 1-Lipschitz (Miyato et al., 2018).

    Options: none (``true``). Every Conv/ConvTranspose/Linear weight of D is divided by its largest
    singular value, estimated by one power iteration per training forward.
    """
    parse_options("spectral_norm", options, {})
    setup.discriminator_wrappers.append({"name": "spectral_norm"})
