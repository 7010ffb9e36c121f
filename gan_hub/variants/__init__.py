"""Variants: one small file per preset, registered by name. Adding one never touches the trainer.

Every module of this package is imported here (each registers its variants), so a new variant is a
new file and nothing else.
"""

import importlib
import pkgutil

from ..registry import VARIANTS
from .base import AdversarialAlgorithm, VariantSpec

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base" and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")


def get_variant(name: str) -> VariantSpec:
    return VARIANTS.get(name)


__all__ = ["AdversarialAlgorithm", "VariantSpec", "get_variant", "VARIANTS"]
