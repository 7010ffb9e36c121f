"""One-sided label smoothing as a switch: wraps the run's objective."""

from __future__ import annotations

from ..objectives import one_sided_label_smoothing
from ._common import number, parse_options
from .setup import TECHNIQUES, TechniqueSetup


@TECHNIQUES.register("label_smoothing")
def label_smoothing(options, setup: TechniqueSetup) -> None:
    """One-sided label smoothing: D's target for real data is lowered to 0.9 (Salimans et al., 2016).

    Options: ``target`` (default 0.9; a bare number sets it). Only for binary-cross-entropy objectives
    (minimax, non-saturating, maximum-likelihood); fake targets stay 0.
    """
    opts = parse_options("label_smoothing", options, {"target": 0.9}, shorthand="target")
    target = number("label_smoothing", "target", opts["target"], 0.0, 1.0, low_open=True)
    setup.objective = one_sided_label_smoothing(setup.objective, target)
