"""The app's input bounds and their validation, in plain Python: the UI is built from these numbers
before torch is imported, and every door (UI, HTTP) checks its inputs with these functions."""

from __future__ import annotations

import math
from typing import Any

# Bounds of the inputs; the UI's sliders use the same numbers.
SEED_RANGE = (0, 2**32 - 1)
COUNT_RANGE = (1, 64)
STEPS_RANGE = (2, 32)
COLUMNS_RANGE = (1, 16)
SCORE_N_RANGE = (100, 10_000)
BATCH_RANGE = (10, 1_000)
SCORE_SPLITS = 10
SCORE_ASSIGNMENT = "shuffled"  # see gan_hub.metrics.inception_score._split_ids
TRUNCATION_RANGE = (0.0, 3.0)  # 0 = off; else the |z| threshold of the truncation trick
# The redraw of the truncation trick takes about log(n * dim) / P(|z| <= t) rounds: at 0.05 a few
# hundred (milliseconds), at 1e-5 a million (minutes). The floor keeps every request's work bounded.
TRUNCATION_FLOOR = 0.05
COMPARE_RANGE = (2, 4)  # models side by side
COMPARE_COUNT_RANGE = (1, 16)
POINTS_PER_COUNT = 100  # a 2-D model draws count x 100 points: a scatter over the modes needs hundreds
ANIMATION_FPS = 8
METHODS = ("lerp", "slerp")  # the interpolations of gan_hub.sampling (a test checks they agree)

CYCLE = "all classes (cycle)"
NO_CLASS = "(unconditional model)"
ISCORE = "inception_score"


class InputError(ValueError):
    """An input the user can fix: the message says what is allowed; ``field`` names the input."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# ---- validation ---------------------------------------------------------------------------------
def check_int(name: str, value: Any, bounds: tuple[int, int]) -> int:
    """``value`` as an int within ``bounds`` (inclusive), else InputError naming the field and the limits."""
    lo, hi = bounds
    if value is None or value == "":
        raise InputError(f"{name} is required (an integer from {lo} to {hi})", name)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be an integer from {lo} to {hi}, got {value!r}", name) from None
    if not math.isfinite(number) or number != int(number):
        raise InputError(f"{name} must be a whole number from {lo} to {hi}, got {value!r}", name)
    number = int(number)
    if not lo <= number <= hi:
        raise InputError(f"{name} must be between {lo} and {hi}, got {number}", name)
    return number


def check_float(name: str, value: Any, bounds: tuple[float, float]) -> float:
    lo, hi = bounds
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number from {lo:g} to {hi:g}, got {value!r}", name) from None
    if not math.isfinite(number) or not lo <= number <= hi:
        raise InputError(f"{name} must be between {lo:g} and {hi:g}, got {value!r}", name)
    return number


__all__ = [
    "ANIMATION_FPS",
    "BATCH_RANGE",
    "COLUMNS_RANGE",
    "COMPARE_COUNT_RANGE",
    "COMPARE_RANGE",
    "COUNT_RANGE",
    "CYCLE",
    "ISCORE",
    "METHODS",
    "NO_CLASS",
    "SCORE_ASSIGNMENT",
    "SCORE_N_RANGE",
    "SCORE_SPLITS",
    "SEED_RANGE",
    "STEPS_RANGE",
    "TRUNCATION_FLOOR",
    "TRUNCATION_RANGE",
    "InputError",
    "check_float",
    "check_int",
]
