"""Feature matching (Salimans et al., 2016, "Improved Techniques for Training GANs", sec. 3.1)."""

from __future__ import annotations

import torch

from ..game import REPLACES_GENERATOR_LOSS, Batch, Technique
from ._common import parse_options
from .setup import TECHNIQUES, TechniqueSetup


class FeatureMatching(Technique):
    """G minimises ||E_real f(x) - E_fake f(G(z))||_2^2 with f the variant's D features (``features``; D.body by
    default), instead of the adversarial loss.

    The real features are computed without gradient and averaged over processes (``ctx.reduce_mean``),
    so under data parallelism every process matches the same real statistic.
    """

    name = "feature_matching"
    effects = frozenset({REPLACES_GENERATOR_LOSS})

    def generator_loss(self, batch: Batch) -> torch.Tensor:
        with torch.no_grad():
            real_mean = batch.ctx.reduce_mean(batch.features(batch.real, batch.labels).float().flatten(1).mean(0))
        fake_mean = batch.features(batch.fake, batch.fake_labels).float().flatten(1).mean(0)
        return (real_mean - fake_mean).pow(2).sum()


@TECHNIQUES.register("feature_matching")
def feature_matching(options, setup: TechniqueSetup) -> None:
    """Feature matching: G matches the mean of D's intermediate features on real data (Salimans et al., 2016).

    Options: none (``true``). Replaces the adversarial generator loss; D trains as usual.
    """
    parse_options("feature_matching", options, {})
    setup.techniques.append(FeatureMatching())
