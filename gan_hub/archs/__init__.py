"""Generator/discriminator architectures: layers and forward only, registered by name."""
from ..registry import ARCHS
from . import bigan, dcgan, mixture, mlp, progan, sagan, semi_supervised  # noqa: F401  (each registers its architectures)
from .spec import ArchSpec

__all__ = ["ARCHS", "ArchSpec"]
