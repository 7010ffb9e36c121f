"""Argument checks at the public API's boundary: each names the argument, the value and what is allowed.

Integers must be integers (``2.5``, ``"4"`` and ``True`` are refused, never truncated or parsed),
numbers must be finite, labels are one class id or name per sample, soft labels are finite rows that
sum to 1. The errors are :class:`ArgumentError`, both a TypeError and a ValueError, so callers that
catch either keep working.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import re
from pathlib import Path
from typing import Any, Sequence

import torch

SEED_MAX = 2**64 - 1  # torch.Generator.manual_seed takes 64-bit unsigned seeds
SOFT_LABEL_TOLERANCE = 1e-4


class ArgumentError(TypeError, ValueError):
    """An argument of the wrong type or outside its range; the message says what is allowed."""


def shown(value: Any) -> str:
    """A value as messages show it: its repr (shortened) and, where that is ambiguous, its type."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return text if type(value) in (int, float) else f"{text} ({type(value).__name__})"


def _bounds(minimum, maximum) -> str:
    if minimum is not None and maximum is not None:
        return f"from {minimum} to {maximum}"
    if minimum is not None:
        return f">= {minimum}"
    return f"<= {maximum}" if maximum is not None else ""


def check_int(
    name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None, why: str | None = None
) -> int:
    """``value`` as a Python int (ints and NumPy/torch integer scalars; not bool, float or str) within bounds."""
    allowed = f"an integer {_bounds(minimum, maximum)}".rstrip() + (f" ({why})" if why else "")
    if isinstance(value, bool) or (isinstance(value, torch.Tensor) and value.dtype == torch.bool):
        raise ArgumentError(f"{name} must be {allowed}, got {shown(value)}")
    if isinstance(value, torch.Tensor) and (value.ndim != 0 or value.is_floating_point()):
        raise ArgumentError(
            f"{name} must be {allowed}, got a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
        )
    if not isinstance(value, (numbers.Integral, torch.Tensor)):
        raise ArgumentError(f"{name} must be {allowed}, got {shown(value)}")
    number = int(value)
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ArgumentError(f"{name} must be {allowed}, got {number}")
    return number


def check_real(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    below: float | None = None,
) -> float:
    """``value`` as a finite float (ints and floats; not bool or str); ``above``/``below`` are strict bounds."""
    parts = [
        f">= {minimum:g}" if minimum is not None else "",
        f"> {above:g}" if above is not None else "",
        f"<= {maximum:g}" if maximum is not None else "",
        f"< {below:g}" if below is not None else "",
    ]
    allowed = "a finite number " + " and ".join(p for p in parts if p)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ArgumentError(f"{name} must be {allowed.rstrip()}, got {shown(value)}")
    number = float(value)
    if (
        not math.isfinite(number)
        or (minimum is not None and number < minimum)
        or (above is not None and number <= above)
        or (maximum is not None and number > maximum)
        or (below is not None and number >= below)
    ):
        raise ArgumentError(f"{name} must be {allowed.rstrip()}, got {value!r}")
    return number


def check_seed(name: str, value: Any) -> int:
    return check_int(name, value, minimum=0, maximum=SEED_MAX)


def check_choice(name: str, value: Any, options: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in options:
        raise ArgumentError(f"{name} must be one of {', '.join(map(repr, options))}; got {shown(value)}")
    return value


def _is_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple, range)) or (
        hasattr(value, "__len__") and hasattr(value, "__getitem__") and not isinstance(value, (str, bytes, dict))
    )


def check_seeds(name: str, value: Any) -> list[int]:
    """A non-empty sequence of seeds (a list, tuple or range of ints)."""
    if isinstance(value, torch.Tensor):
        value = value.tolist() if value.ndim == 1 and not value.is_floating_point() else value
    if not _is_sequence(value) or isinstance(value, torch.Tensor):
        raise ArgumentError(
            f"{name} must be a non-empty list of integer seeds from 0 to {SEED_MAX}, got {shown(value)}"
        )
    if len(value) == 0:
        raise ArgumentError(f"{name} must hold at least one seed, got an empty {type(value).__name__}")
    return [check_seed(f"{name}[{i}]", seed) for i, seed in enumerate(value)]


# ---- class labels ------------------------------------------------------------------------------
def check_class(config, label: Any, name: str = "label") -> int:
    """A class id (an int in 0..K-1) or one of ``config.class_names``, as the class id."""
    names, k = list(config.class_names), config.num_classes
    if isinstance(label, str):
        if label in names:
            return names.index(label)
        raise ArgumentError(
            f"{name} {label!r} is not a class of this model; its classes are {names} (or their ids 0..{k - 1} as ints)"
        )
    return check_int(name, label, minimum=0, maximum=k - 1, why=f"a class id of this {k}-class model, or a class name")


def check_classes(config, classes: Any, name: str = "classes") -> list[int]:
    """None (every class) or a non-empty sequence of class ids or names, as class ids."""
    if classes is None:
        return list(range(config.num_classes))
    if isinstance(classes, torch.Tensor):
        classes = classes.tolist() if classes.ndim == 1 and not classes.is_floating_point() else [classes]
    if not _is_sequence(classes) or len(classes) == 0:
        raise ArgumentError(
            f"{name} must be a non-empty list of class ids (0..{config.num_classes - 1}) or names "
            f"{list(config.class_names)}, got {shown(classes)}"
        )
    return [check_class(config, c, f"{name}[{i}]") for i, c in enumerate(classes)]


def check_labels(labels: Any, n: int, config) -> torch.Tensor | None:
    """Class ids int64 [n], soft labels float [n, K], or None (unconditional; conditional: classes cycled).

    ``labels``: a sequence of n class ids or names, an integer tensor [n], or a float tensor [n, K] of
    probabilities (finite, non-negative, each row summing to 1).
    """
    if labels is None:
        return torch.arange(n) % config.num_classes if config.conditional else None
    if not config.conditional:
        raise ArgumentError(f"labels: this {config.variant} model is not class-conditional; call it without labels")
    k = config.num_classes
    usage = (
        f"labels must be a sequence of {n} class ids (0..{k - 1}) or names, one per sample, "
        f"or a float tensor [{n}, {k}] of class probabilities"
    )
    if isinstance(labels, torch.Tensor):
        if labels.is_floating_point():
            return check_soft_labels(labels, n, k)
        if labels.dtype == torch.bool or labels.is_complex() or labels.ndim != 1:
            raise ArgumentError(f"{usage}; got a {labels.dtype} tensor of shape {tuple(labels.shape)}")
        labels = labels.tolist()
    elif isinstance(labels, (str, bytes)):
        raise ArgumentError(
            f"{usage}; got the single string {labels!r} (for one class for all samples, pass [{labels!r}] * {n})"
        )
    elif not _is_sequence(labels):
        raise ArgumentError(f"{usage}; got {shown(labels)} (for one class for all samples, pass [{labels!r}] * {n})")
    if len(labels) != n:
        raise ArgumentError(f"{usage}; got {len(labels)} labels for {n} samples")
    return torch.tensor(
        [check_class(config, label, f"labels[{i}]") for i, label in enumerate(labels)], dtype=torch.long
    )


def check_soft_labels(labels: torch.Tensor, n: int, k: int) -> torch.Tensor:
    if labels.shape != (n, k):
        raise ArgumentError(
            f"soft labels must have shape ({n}, {k}) (one probability row per sample), got {tuple(labels.shape)}"
        )
    if not torch.isfinite(labels).all() or (labels < 0).any():
        raise ArgumentError("soft labels must be finite and non-negative (class probabilities)")
    sums = labels.double().sum(dim=1)
    bad = (sums - 1).abs() > SOFT_LABEL_TOLERANCE
    if bad.any():
        row = int(bad.nonzero()[0])
        raise ArgumentError(
            f"soft labels: each row must sum to 1 (probabilities); row {row} sums to {float(sums[row]):.6g}"
        )
    return labels


# ---- model locations ---------------------------------------------------------------------------
HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?$")


def check_model_location(name: str, value: Any) -> str | Path:
    if isinstance(value, (str, os.PathLike)) and str(value).strip():
        return value
    raise ArgumentError(f"{name} must be a local model folder or a Hub repo id (ORG/NAME), got {shown(value)}")


def looks_local(name_or_path: str | os.PathLike) -> bool:
    """True for anything that is not a plausible Hub repo id and so must never be looked up on the Hub.

    Local: a Path object, anything starting with ``.``, ``/``, ``~`` or a drive letter, anything with
    a backslash or more than one ``/``, anything whose first component is an existing local folder
    (``model_zoo/x``), and any string that is not of the form NAME or ORG/NAME.
    """
    if isinstance(name_or_path, Path):
        return True
    text = str(name_or_path)
    if text.startswith((".", "/", "~", "\\")) or "\\" in text or text.count("/") > 1 or re.match(r"^[A-Za-z]:", text):
        return True
    if "/" in text and Path(text.split("/")[0]).is_dir():
        return True
    return not HUB_ID.match(text) or ".." in text or "--" in text or text.endswith(".git")


def unreachable_message(name: str | os.PathLike) -> str:
    return (
        f"{name} is not a folder here ({Path.cwd()}) and the Hub could not be reached to fetch it as a repo "
        "(offline, or HF_ENDPOINT unreachable), nor is it cached: give the model folder's path, or go online"
    )


def read_json_object(path: Path, what: str) -> dict | None:
    """The JSON object in ``path`` (None when there is no file); any other content is a ValueError naming it."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as err:
        raise ValueError(
            f"{path} is not UTF-8 text ({err.reason} at byte {err.start}): {what} is damaged; "
            "download or export the model again"
        ) from err
    except json.JSONDecodeError as err:
        raise ValueError(
            f"{path} is not valid JSON ({err}): {what} is damaged; download or export the model again"
        ) from err
    if not isinstance(data, dict):
        raise ValueError(
            f"{path} must hold a JSON object, got {type(data).__name__}: {what} is damaged; "
            "download or export the model again"
        )
    return data
