"""The gan-hub Gradio app: a catalog of models (``catalog``), what its buttons do (``actions``) and the UI (``ui``).

    from gan_hub.app import build_demo, launch
    launch(build_demo(["org/dcgan-mnist"]))

``catalog`` and ``actions`` do not import Gradio; ``build_demo`` and ``launch`` import it on first use.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from .catalog import DEFAULT_CACHE_SIZE, DEFAULT_ZOO, ENV_MODELS, Catalog, CatalogError, ModelEntry  # noqa: E402


def build_demo(*args, **kwargs):
    """See :func:`gan_hub.app.ui.build_demo`."""
    from .ui import build_demo as _build_demo

    return _build_demo(*args, **kwargs)


def launch(*args, **kwargs):
    """See :func:`gan_hub.app.ui.launch`."""
    from .ui import launch as _launch

    return _launch(*args, **kwargs)


__all__ = [
    "Catalog",
    "CatalogError",
    "DEFAULT_CACHE_SIZE",
    "DEFAULT_ZOO",
    "ENV_MODELS",
    "ModelEntry",
    "build_demo",
    "launch",
]
