"""The zoo's quality bar for MNIST models, read from a model's own scores (metrics.json).

Measured as every zoo score is (``generate(10000, seed=0)``, the project's MNIST classifier, 10 splits):

* every model: 10/10 classes covered, KL(classes || uniform) at most 0.05, classifier IS@10k at least 8.5;
* conditional models: classifier IS@10k at least 9.7 and label agreement at least 97 %.

A model under its bar stays in the zoo with its honest scores; its card and the leaderboard say which
part of the bar it misses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MIN_CLASSES = 10
MAX_KL = 0.05
MIN_IS = 8.5
MIN_IS_CONDITIONAL = 9.7
MIN_LABEL_AGREEMENT = 0.97
# bars of the zoo as a whole, over its unconditional models
HALF_AT_LEAST_IS = 9.3
BEST_AT_LEAST_IS = 9.5
SCORER = "mnist-classifier"
# the metrics of a variant's own parts (gan_hub.metrics.variant_scores), outside the bar
VARIANT_SCORE_METRICS = ("code_agreement", "reconstruction_agreement", "test_errors")
NUM_SAMPLES = 10000


@dataclass
class Verdict:
    applies: bool  # False where the model has no scores of the bar's protocol
    misses: list[str] = field(default_factory=list)
    short_misses: list[str] = field(default_factory=list)

    @property
    def met(self) -> bool:
        return self.applies and not self.misses

    def summary(self, short: bool = False) -> str:
        """ "met", or "under: " and each miss; ``short`` names the scores briefly (for table cells)."""
        if not self.applies:
            return "not measured"
        return "met" if self.met else "under: " + "; ".join(self.short_misses if short else self.misses)


def _value(entry: dict[str, Any]) -> float:
    return float(entry.get("mean", entry.get("value")))


def check(scores: list[dict[str, Any]], conditional: bool) -> Verdict:
    """Which parts of the bar a model's scores miss, each as "classifier IS@10k 8.21 < 8.5"."""
    found = {
        s.get("metric"): s
        for s in scores
        if s.get("scorer") == SCORER and s.get("num_samples") == NUM_SAMPLES and s.get("seed", 0) == 0
    }
    needed = ("inception_score", "modes_covered", "kl_to_uniform") + (("accuracy",) if conditional else ())
    if any(metric not in found for metric in needed):
        return Verdict(applies=False)
    misses = []
    min_is = MIN_IS_CONDITIONAL if conditional else MIN_IS
    short_misses = []
    tests = [
        ("inception_score", "IS", lambda v: v >= min_is, f"< {min_is:g}"),
        ("modes_covered", "classes", lambda v: v >= MIN_CLASSES, f"< {MIN_CLASSES}"),
        ("kl_to_uniform", "KL", lambda v: v <= MAX_KL, f"> {MAX_KL:g}"),
    ]
    if conditional:
        tests.append(("accuracy", "agreement", lambda v: v >= MIN_LABEL_AGREEMENT, f"< {MIN_LABEL_AGREEMENT:g}"))
    for metric, short_name, passes, failing in tests:
        value = _value(found[metric])
        if not passes(value):
            misses.append(f"{found[metric]['name']} {value:.4g} {failing}")
            short_misses.append(f"{short_name} {value:.3g} {failing}")
    return Verdict(applies=True, misses=misses, short_misses=short_misses)


def zoo_summary(models: list[tuple[str, bool, list[dict[str, Any]]]]) -> str:
    """One paragraph on the zoo's bars from (name, conditional, scores) of each MNIST model."""
    verdicts = [(name, conditional, check(scores, conditional), scores) for name, conditional, scores in models]
    measured = [v for v in verdicts if v[2].applies]
    if not measured:
        return ""
    unconditional = [
        (next(_value(s) for s in scores if s.get("metric") == "inception_score"), name)
        for name, conditional, verdict, scores in measured
        if not conditional
    ]
    met = sum(v[2].met for v in measured)
    text = f"Quality bars: {met} of {len(measured)} models meet their own bar"
    if unconditional:
        high = sum(value >= HALF_AT_LEAST_IS for value, _ in unconditional)
        best_value, best_name = max(unconditional)
        half = "met" if 2 * high >= len(unconditional) else "not met"
        best = "met" if best_value >= BEST_AT_LEAST_IS else "not met"
        text += (
            f"; unconditional models at classifier IS@10k {HALF_AT_LEAST_IS:g} or more: {high} of {len(unconditional)}"
            f" (bar: at least half, {half}); best unconditional model: {best_name} at {best_value:.3f}"
            f" (bar: {BEST_AT_LEAST_IS:g}, {best})"
        )
    return text + "."
