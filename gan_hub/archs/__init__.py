"""Generator/discriminator architectures: layers and forward only, registered by name."""

from ..registry import ARCHS
from . import (  # noqa: F401  (each registers its architectures)
    bigan,
    dcgan,
    mixture,
    mlp,
    pacgan_mlp,
    point_variants,
    progan,
    sagan,
    semi_supervised,
    tanh_mlp,
)
from .spec import ArchSpec

__all__ = ["ARCHS", "ArchSpec"]
