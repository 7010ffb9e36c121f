"""Feature matching (Salimans et al., 2016, "Improved Techniques for Training GANs", sec. 3.1)."""
from __future__ import annotations

import torch

from ..variants.base import StepContext, Technique
from . import TECHNIQUES, TechniqueSetup
from ._common import parse_options, unwrap


class FeatureMatching(Technique):
    """G minimises ||E_real f(x) - E_fake f(G(z))||_2^2 with f = D.body, instead of the adversarial loss.

    The real features are computed without gradient and averaged over processes (``ctx.reduce_mean``),
    so under data parallelism every process matches the same real statistic.
    """

    name = "feature_matching"

    def generator_loss(self, discriminator, real, fake, labels, ctx: StepContext) -> torch.Tensor:
        body = getattr(unwrap(discriminator), "body", None)
        if body is None:
            raise ValueError(f"feature matching needs a discriminator with a .body (features); "
                             f"{type(unwrap(discriminator)).__name__} has none")
        with torch.no_grad():
            real_mean = ctx.reduce_mean(body(real).float().flatten(1).mean(0))
        fake_mean = body(fake).float().flatten(1).mean(0)
        return (real_mean - fake_mean).pow(2).sum()


@TECHNIQUES.register("feature_matching")
def feature_matching(options, setup: TechniqueSetup) -> None:
    """Feature matching: G matches the mean of D's intermediate features on real data (Salimans et al., 2016).

    Options: none (``true``). Replaces the adversarial generator loss; D trains as usual.
    """
    parse_options("feature_matching", options, {})
    setup.techniques.append(FeatureMatching())
