"""Variants: one small file per preset, registered by name. Adding one never touches the trainer."""
from ..registry import VARIANTS
from .base import AdversarialAlgorithm, VariantSpec
from . import cgan, dcgan, gan, improved, losses  # noqa: E402,F401  (registers the variants)
from . import energy  # noqa: E402,F401  (registers ebgan and began)
from . import sagan  # noqa: E402,F401  (registers sagan)
from . import acgan, unrolled  # noqa: E402,F401  (registers acgan and unrolled)
from . import bigan, infogan  # noqa: E402,F401  (registers bigan and infogan)
from . import mixgan  # noqa: E402,F401  (registers mix-gan)
from . import progan, semi_supervised  # noqa: E402,F401  (registers progan and semi-supervised)


def get_variant(name: str) -> VariantSpec:
    return VARIANTS.get(name)


__all__ = ["AdversarialAlgorithm", "VariantSpec", "get_variant", "VARIANTS"]
