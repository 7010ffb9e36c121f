"""Weight clipping of the critic (Arjovsky et al., 2017, "Wasserstein GAN")."""

from __future__ import annotations

import torch

from ..game import StepContext, Technique
from ._common import number, parse_options
from .setup import TECHNIQUES, TechniqueSetup


class WeightClipping(Technique):
    """After every D step, every D parameter is clamped to [-clip, clip]."""

    name = "weight_clipping"

    def __init__(self, clip: float = 0.01):
        self.clip = clip

    def after_d_step(self, discriminator, ctx: StepContext) -> None:
        with torch.no_grad():
            for p in discriminator.parameters():
                p.clamp_(-self.clip, self.clip)


@TECHNIQUES.register("weight_clipping")
def weight_clipping(options, setup: TechniqueSetup) -> None:
    """Weight clipping: D's parameters clamped to [-c, c] after each step, a crude Lipschitz bound (WGAN, Arjovsky et
    al., 2017).

    Options: ``clip`` (c, default 0.01 as in the paper; a bare number sets it).
    """
    opts = parse_options("weight_clipping", options, {"clip": 0.01}, shorthand="clip")
    setup.techniques.append(WeightClipping(number("weight_clipping", "clip", opts["clip"], 0.0, low_open=True)))
