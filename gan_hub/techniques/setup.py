"""The technique registry and what configuring a run's switches produces (see gan_hub.techniques)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from ..game import Technique
from ..objectives import Objective
from ..registry import Registry

TECHNIQUES: Registry = Registry("technique")


@dataclass
class TechniqueSetup:
    objective: Objective
    techniques: list[Technique] = field(default_factory=list)
    generator_wrappers: list[dict[str, Any]] = field(default_factory=list)  # gan_hub.networks wrappers,
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
    """Switch name -> one-line summary (the builder's docstring's first sentence, which may wrap)."""
    return {
        name: " ".join((TECHNIQUES.get(name).__doc__ or "").strip().split("\n\n")[0].split())
        for name in TECHNIQUES.names()
    }
