"""Training techniques as switches that combine with any variant.

A run's switches are a mapping ``{name: options}`` (the variant's defaults, then ``techniques:`` in
the training config; ``false`` turns a default off). :func:`configure` turns them into

* loss-side :class:`~gan_hub.variants.base.Technique` objects whose hooks the algorithm calls,
* network wrappers (gan_hub.networks: virtual batch norm, spectral norm, minibatch discrimination),
  recorded in each network's section of config.json and applied around any architecture, and
* a possibly wrapped objective (one-sided label smoothing).

Each technique lives in its own module and registers a builder here under its switch name.
"""

from . import registered  # noqa: F401  (registers the builders)
from .setup import TECHNIQUES, TechniqueSetup, configure, describe, merge_switches

__all__ = ["TECHNIQUES", "TechniqueSetup", "configure", "describe", "merge_switches"]
