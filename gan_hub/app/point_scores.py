"""The Score tab for 2-D models: the published 2-D protocol's scores (PacGAN's, scored as VEEGAN does) of
the points generated so far, after each batch, as an image model's classifier IS streams.

The points are ``g.generate(num_samples, seed)``; each update scores all of them so far with
:func:`gan_hub.metrics.modes.protocol_coverage`, so the last update is exactly what the library gives for
those points (with 2,500 samples and seed 12345, the model card's numbers). No Gradio here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Iterator

from .limits import BATCH_RANGE, SCORE_N_RANGE, SEED_RANGE, InputError, check_int

PROTOCOL = "the published 2-D protocol: PacGAN's, scored as VEEGAN does"
CAPTURED = "modes_captured"


@dataclass
class PointsUpdate:
    n: int
    total: int
    points: Any  # torch.Tensor [n, 2]: every point so far
    mixture: str

    @property
    def final(self) -> bool:
        return self.n == self.total

    @cached_property
    def scores(self) -> dict[str, Any]:
        """protocol_coverage of the points so far (computed when asked: most updates are never drawn)."""
        from ..metrics.modes import protocol_coverage

        return protocol_coverage(self.points, self.mixture)

    @property
    def per_mode(self) -> list[int]:
        """High-quality points nearest each mode."""
        return self.scores["counts"]


def points_stream(g, num_samples: Any, batch_size: Any, seed: Any = 0) -> Iterator[PointsUpdate]:
    """Generate ``num_samples`` points in batches; after each, an update holding every point so far."""
    import torch

    from ..metrics.evaluate import sample_batches

    num_samples = check_int("N (samples)", num_samples, SCORE_N_RANGE)
    batch_size = check_int("batch size", batch_size, BATCH_RANGE)
    seed = check_int("seed", seed, SEED_RANGE)
    if not g.config.is_vector:
        raise InputError("the 2-D protocol scores 2-D points; this model makes images")
    batches = []
    for points, _ in sample_batches(g, num_samples, seed, batch_size):
        batches.append(points)
        so_far = torch.cat(batches)
        yield PointsUpdate(len(so_far), num_samples, so_far, g.config.dataset)


def reference_scores(mixture: str, num_samples: int, seed: int) -> dict[str, Any]:
    """The protocol's scores of ``num_samples`` points drawn from the mixture itself (the real data)."""
    import torch

    from ..data.toy2d import mixture as named_mixture
    from ..metrics.modes import protocol_coverage

    points = named_mixture(mixture).sample(num_samples, torch.Generator().manual_seed(seed))
    return protocol_coverage(points, mixture)


def card_scores(metrics: dict | None) -> dict[str, dict]:
    """The model card's protocol scores by metric (``modes_captured``, ``high_quality_share``, ...)."""
    return {s["metric"]: s for s in (metrics or {}).get("scores", []) if "metric" in s and "value" in s}


def _line(scores: dict[str, Any]) -> str:
    k = scores["num_modes"]
    share = scores["high_quality_share"]
    kl = scores["kl_to_uniform"]
    return (
        f"modes captured {scores[CAPTURED]} of {k}; high-quality share "
        f"{'n/a' if share is None else f'{100 * share:.1f} %'}; reverse KL {'n/a' if kl is None else f'{kl:.4f}'}; "
        f"modes covered (strict, at least {scores['min_count']} each) {scores['modes_covered']} of {k}"
    )


def points_markdown(update: PointsUpdate, seed: int, reference: dict[str, Any], card: dict[str, dict]) -> str:
    """The Score tab's text for one update of a 2-D model."""
    s = update.scores
    state = "final, exact for all samples" if update.final else f"running, {update.n} of {update.total} samples"
    lines = [
        f"### modes captured@{update.n} = {s[CAPTURED]} of {s['num_modes']} ({s['mixture']})",
        f"*{state}; {PROTOCOL}: a point is high quality within {s['quality_stds']:g} standard deviations of "
        "its nearest mode, and a mode is captured by at least one high-quality point (the scorer applies to "
        "image models only).*",
        "",
        f"**Generated (seed {seed}):** {_line(s)}.",
        "",
        f"**Real data (the mixture, the same N):** {_line(reference)}.",
    ]
    if card:
        shown = "; ".join(f"{e['name']} = {e['value']:.4g}" for e in card.values() if e["value"] is not None)
        first = next(iter(card.values()))
        lines += [
            "",
            f"**Model card:** {shown} (num_samples={first.get('num_samples')}, seed={first.get('seed')}: "
            "with that N and seed this tab gives the same numbers)",
        ]
    return "\n".join(lines)


def points_payload(update: PointsUpdate, seed: int, batch_size: int) -> dict[str, Any]:
    """The machine-readable numbers of one update (the Score tab's JSON output)."""
    s = update.scores
    return {
        "name": f"modes captured@{update.n}",
        "metric": CAPTURED,
        "protocol": PROTOCOL,
        "n": update.n,
        "num_samples": update.total,
        "seed": seed,
        "batch_size": batch_size,
        **{k: s[k] for k in (CAPTURED, "modes_covered", "num_modes", "high_quality_share", "kl_to_uniform")},
        "mixture": s["mixture"],
        "quality_stds": s["quality_stds"],
        "min_count": s["min_count"],
        "high_quality_per_mode": update.per_mode,
        "final": update.final,
    }


__all__ = ["PointsUpdate", "card_scores", "points_markdown", "points_payload", "points_stream", "reference_scores"]
