"""Instance noise (Sønderby et al., 2016; Arjovsky & Bottou, 2017)."""

from __future__ import annotations

import torch

from ..game import Batch, StepContext, Technique
from ._common import OwnedRNG, SeededTechnique, integer, number, parse_options
from .setup import TECHNIQUES, TechniqueSetup

DEFAULTS = {"std": 0.1, "anneal": 0.5, "seed": 0}


class InstanceNoise(SeededTechnique, Technique):
    """Gaussian noise on every input of D (real and fake, D step and G step).

    The std falls linearly from ``std`` at the start to 0 at ``anneal`` x training (``ctx.progress``)
    and stays 0 afterwards; inputs are then returned unchanged. Noise comes from the technique's own
    generator (saved in checkpoints), so a resumed run draws the same noise.
    """

    name = "instance_noise"

    def __init__(self, std: float = 0.1, anneal: float = 0.5, seed: int = 0):
        self.std, self.anneal = std, anneal
        self.rng = OwnedRNG(seed)

    def current_std(self, ctx: StepContext) -> float:
        return self.std * max(0.0, 1.0 - ctx.progress / self.anneal)

    def _noisy(self, x: torch.Tensor, std: float) -> torch.Tensor:
        return x + std * self.rng.randn(x.shape, like=x)

    def d_inputs(self, batch: Batch, real, fake):
        std = self.current_std(batch.ctx)
        if std == 0:
            return real, fake
        return self._noisy(real, std), self._noisy(fake, std)

    def g_inputs(self, batch: Batch, fake):
        std = self.current_std(batch.ctx)
        return fake if std == 0 else self._noisy(fake, std)


@TECHNIQUES.register("instance_noise")
def instance_noise(options, setup: TechniqueSetup) -> None:
    """Instance noise: annealed Gaussian noise on D's real and fake inputs makes their supports overlap (Sønderby et
    al., 2016).

    Options: ``std`` (default 0.1 on the [-1, 1] image scale, 5% of the range: enough to blur
    pixel-exact differences without hiding structure), ``anneal`` (fraction of training over which
    the std falls linearly to 0, default 0.5, so the second half trains on clean data), ``seed``
    (default 0; the process rank is added).
    """
    opts = parse_options("instance_noise", options, DEFAULTS)
    setup.techniques.append(
        InstanceNoise(
            std=number("instance_noise", "std", opts["std"], 0.0),
            anneal=number("instance_noise", "anneal", opts["anneal"], 0.0, 1.0, low_open=True),
            seed=integer("instance_noise", "seed", opts["seed"], low=0),
        )
    )
