"""gan-hub: pretrained GANs of every classic variant, loadable with one call."""
from .config import GeneratorConfig
from .registry import VARIANTS

__version__ = "0.1.0"


def list_variants() -> list[str]:
    """Every registered variant name."""
    from . import variants  # noqa: F401  (registers the variants)

    return VARIANTS.names()


def __getattr__(name: str):
    if name == "Generator":  # imported on first use: it brings in torch (the app's first page does without)
        from .hub import Generator

        return Generator
    if name == "Classifier":  # imported on first use: it brings in the variants and techniques
        from .classifier import Classifier

        return Classifier
    raise AttributeError(f"module 'gan_hub' has no attribute {name!r}")


__all__ = ["Classifier", "Generator", "GeneratorConfig", "list_variants", "__version__"]
