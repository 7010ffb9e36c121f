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
SCORER = "mnist-classifier"
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
