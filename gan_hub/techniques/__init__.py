"""Training techniques as switches that combine with any variant.

A run's switches are a mapping ``{name: options}`` (the variant's defaults, then ``techniques:`` in
the training config; ``false`` turns a default off). :func:`configure` turns them into

* loss-side :class:`~gan_hub.variants.base.Technique` objects whose hooks the algorithm calls,
* network wrappers (gan_hub.networks: virtual batch norm, spectral norm, minibatch discrimination),
  recorded in each network's section of config.json and applied around any architecture, and
* a possibly wrapped objective (one-sided label smoothing).

Each technique lives in its own module and registers a builder here under its switch name.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..objectives import Objective
from ..registry import Registry
from ..game import Technique

TECHNIQUES: Registry = Registry("technique")


@dataclass
class TechniqueSetup:
    objective: Objective
    techniques: list[Technique] = field(default_factory=list)
    generator_wrappers: list[dict[str, Any]] = field(default_factory=list)      # gan_hub.networks wrappers,
    discriminator_wrappers: list[dict[str, Any]] = field(default_factory=list)  # recorded in config.json


Builder = Callable[[Any, TechniqueSetup], None]  # (options, setup) -> None; mutates the setup


def merge_switches(defaults: dict[str, Any], overrides: dict[str, Any] | None) -> dict[str, Any]:
    """The variant's switches updated by the run's; a value of False or None removes a switch."""
    merged = {**defaults, **(overrides or {})}
    return {name: options for name, options in merged.items() if options is not False and options is not None}


def configure(switches: dict[str, Any], objective: Objective) -> TechniqueSetup:
    setup = TechniqueSetup(objective)
    for name, options in switches.items():
        TECHNIQUES.get(name)(options, setup)
    return setup


def describe() -> dict[str, str]:
    """Switch name -> one-line summary (the builder's docstring's first line)."""
    return {name: (TECHNIQUES.get(name).__doc__ or "").strip().splitlines()[0] for name in TECHNIQUES.names()}


from . import registered  # noqa: E402,F401  (registers the builders)

__all__ = ["TECHNIQUES", "TechniqueSetup", "configure", "describe", "merge_switches"]
