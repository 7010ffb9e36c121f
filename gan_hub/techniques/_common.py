"""Helpers shared by the technique modules: option parsing, owned random generators, unwrapping."""

from __future__ import annotations

import numbers
from typing import Any

import torch

from ..game import unwrap  # noqa: F401  (re-exported for the technique modules)


def parse_options(name: str, options: Any, defaults: dict[str, Any], shorthand: str | None = None) -> dict[str, Any]:
    """The technique's options with defaults filled in.

    ``True`` (or an empty mapping) means the defaults; a mapping overrides some of them; a bare number
    sets the ``shorthand`` option when the technique has one (e.g. ``label_smoothing: 0.8``). Unknown
    keys raise ValueError naming the technique and its known options.
    """
    known = sorted(defaults)
    if options is True:
        return dict(defaults)
    if isinstance(options, dict):
        unknown = sorted(set(options) - set(defaults))
        if unknown:
            raise ValueError(f"technique {name!r}: unknown option(s) {unknown}; known options: {known or '(none)'}")
        return {**defaults, **options}
    if shorthand is not None and isinstance(options, numbers.Real) and not isinstance(options, bool):
        return {**defaults, shorthand: options}
    accepted = "true or a mapping of options" + (f" or a number (its {shorthand!r})" if shorthand else "")
    raise ValueError(
        f"technique {name!r}: options must be {accepted}; known options: {known or '(none)'}; got {options!r}"
    )


def number(
    name: str, key: str, value: Any, low: float | None = None, high: float | None = None, low_open: bool = False
) -> float:
    """``value`` as a float, checked against [low, high] (or (low, high] when ``low_open``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"technique {name!r}: option {key!r} must be a number, got {value!r}")
    value = float(value)
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and value > high
    if too_low or too_high:
        bounds = f"{'(' if low_open else '['}{'-inf' if low is None else low}, {'inf' if high is None else high}]"
        raise ValueError(f"technique {name!r}: option {key!r} must lie in {bounds}, got {value}")
    return value


def integer(name: str, key: str, value: Any, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"technique {name!r}: option {key!r} must be an integer >= {low}, got {value!r}")
    return int(value)


def process_rank() -> int:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank()
    return 0


class OwnedRNG:
    """A CPU ``torch.Generator`` that belongs to one technique.

    Seeded on first use from the technique's ``seed`` and the process rank (techniques are built
    before the process group exists, so the rank is read lazily), so processes draw different noise.
    The global RNG is also drawn by data loading; a generator of its own lets a resumed run repeat an
    uninterrupted one exactly once its state is restored from the checkpoint.
    """

    def __init__(self, seed: int):
        self.seed = int(seed)
        self._generator: torch.Generator | None = None

    @property
    def generator(self) -> torch.Generator:
        if self._generator is None:
            self._generator = torch.Generator().manual_seed(self.seed * 1_000_003 + process_rank())
        return self._generator

    def get_state(self) -> torch.Tensor:
        return self.generator.get_state()

    def set_state(self, state: torch.Tensor) -> None:
        self.generator.set_state(state.to("cpu", torch.uint8))

    def randn(self, shape, like: torch.Tensor) -> torch.Tensor:
        return torch.randn(tuple(shape), generator=self.generator).to(like.device, like.dtype)

    def rand(self, shape, like: torch.Tensor) -> torch.Tensor:
        return torch.rand(tuple(shape), generator=self.generator).to(like.device, like.dtype)


class SeededTechnique:
    """Mixin for a technique whose only state is its :class:`OwnedRNG` ``self.rng``."""

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"rng": self.rng.get_state()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        if "rng" in state:
            self.rng.set_state(state["rng"])
