"""gan-hub: pretrained GANs of every classic variant, loadable with one call."""

__version__ = "0.1.0"

# Imported on first use, so that `gan-hub --help` and `import gan_hub` stay fast (torch loads with the first model).
_LAZY = {
    "Generator": ".hub",
    "Discriminator": ".hub",
    "GeneratorConfig": ".config",
    "VARIANTS": ".registry",
    "Classifier": ".classifier",
}


def list_variants() -> list[str]:
    """Every registered variant name."""
    from . import variants  # noqa: F401  (registers the variants)
    from .registry import VARIANTS

    return VARIANTS.names()


def __getattr__(name: str):
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module 'gan_hub' has no attribute {name!r}")


__all__ = ["Classifier", "Discriminator", "Generator", "GeneratorConfig", "__version__", "list_variants"]
