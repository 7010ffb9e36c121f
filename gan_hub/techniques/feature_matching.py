"""Feature matching (Salimans et al., 2016, "Improved Techniques for Training GANs", sec. 3.1)."""

from __future__ import annotations

import torch

from ..game import REPLACES_GENERATOR_LOSS, Batch, Technique
from ._common import parse_options
from .setup import TECHNIQUES, TechniqueSetup

REDUCTIONS = ("sum", "mean")


class FeatureMatching(Technique):
    """G minimises ||E_real f(x) - E_fake f(G(z))||_2^2 with f the variant's D features (``features``; D.body by
    default), instead of the adversarial loss.

    ``reduction="sum"`` is the paper's squared norm; ``"mean"`` divides it by the number of features, as
    the authors' MNIST code does (``T.mean(T.square(...))``). The two differ only by a constant factor,
    which matters when the optimizer is not scale-free: the authors' Adam adds its eps under the square
    root, so a gradient 250 times smaller is damped where plain Adam would not damp it.

    The real features are computed without gradient and averaged over processes (``ctx.reduce_mean``),
    so under data parallelism every process matches the same real statistic.
    """

    name = "feature_matching"
    effects = frozenset({REPLACES_GENERATOR_LOSS})

    def __init__(self, reduction: str = "sum"):
        if reduction not in REDUCTIONS:
            raise ValueError(
                f"technique 'feature_matching': reduction must be one of {', '.join(REDUCTIONS)}, got {reduction!r}"
            )
        self.reduction = reduction

    def generator_loss(self, batch: Batch) -> torch.Tensor:
        with torch.no_grad():
            real_mean = batch.ctx.reduce_mean(batch.features(batch.real, batch.labels).float().flatten(1).mean(0))
        fake_mean = batch.features(batch.fake, batch.fake_labels).float().flatten(1).mean(0)
        squared = (real_mean - fake_mean).pow(2)
        return squared.sum() if self.reduction == "sum" else squared.mean()


@TECHNIQUES.register("feature_matching")
def feature_matching(options, setup: TechniqueSetup) -> None:
    """Feature matching: G matches the mean of D's intermediate features on real data (Salimans et al., 2016).

    Options: ``reduction``: ``sum`` (default; the paper's squared norm) or ``mean`` (over the features, as
    the authors' MNIST code). Replaces the adversarial generator loss; D trains as usual.
    """
    setup.techniques.append(FeatureMatching(**parse_options("feature_matching", options, {"reduction": "sum"})))
