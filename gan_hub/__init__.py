"""gan-hub: pretrained GANs of every classic variant, loadable with one call."""
from .registry import VARIANTS

__version__ = "0.1.0"


def list_variants() -> list[str]:
    """Every registered variant name."""
    from . import variants  # noqa: F401  (registers the variants)

    return VARIANTS.names()


def __getattr__(name: str):
    if name in ("Generator", "Discriminator"):  # imported on first use: they bring in torch (the app's first
        from . import hub                        # page does without)

        return getattr(hub, name)
    if name == "GeneratorConfig":
        from .config import GeneratorConfig

        return GeneratorConfig
    if name == "Classifier":  # imported on first use: it brings in the variants and techniques
        from .classifier import Classifier

        return Classifier
    raise AttributeError(f"module 'gan_hub' has no attribute {name!r}")


__all__ = ["Classifier", "Discriminator", "Generator", "GeneratorConfig", "list_variants", "__version__"]
