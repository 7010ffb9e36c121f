"""Gradient penalty (Gulrajani et al., 2017, "Improved Training of Wasserstein GANs", WGAN-GP)."""

from __future__ import annotations

import torch

from ..game import SCORES_NEW_INPUTS, Batch, Technique
from ._common import OwnedRNG, SeededTechnique, integer, number, parse_options
from .setup import TECHNIQUES, TechniqueSetup


class GradientPenalty(SeededTechnique, Technique):
    """weight * E[(||grad_x D(x_hat)||_2 - 1)^2] on x_hat = eps * x_real + (1 - eps) * x_fake, eps ~ U[0, 1].

    One eps per example, drawn from the technique's own generator (saved in checkpoints). Conditional
    critics are differentiated at (x_hat, label): real and fake share the batch's labels. The paper
    advises against batch norm in the critic (the penalty is per example); use a variant or
    ``d_norm: none`` without it.
    """

    name = "gradient_penalty"
    effects = frozenset({SCORES_NEW_INPUTS})

    def __init__(self, weight: float = 10.0, seed: int = 0):
        self.weight = weight
        self.rng = OwnedRNG(seed)

    def d_penalty(self, batch: Batch) -> torch.Tensor:
        real = batch.real.detach()
        fake = batch.fake.detach().to(real.dtype)
        eps = self.rng.rand((len(real),) + (1,) * (real.dim() - 1), like=real)
        x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
        scores = batch.discriminate(x_hat, batch.labels).logits.float()
        (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
        norm = (grad.float().flatten(1).pow(2).sum(1) + 1e-12).sqrt()  # +1e-12: finite gradient at grad = 0
        return self.weight * (norm - 1).pow(2).mean()


@TECHNIQUES.register("gradient_penalty")
def gradient_penalty(options, setup: TechniqueSetup) -> None:
    """Gradient penalty: D's gradient norm is pushed to 1 on real-fake interpolates (WGAN-GP, Gulrajani et al., 2017).

    Options: ``weight`` (lambda, default 10 as in the paper; a bare number sets it), ``seed`` (default 0).
    """
    opts = parse_options("gradient_penalty", options, {"weight": 10.0, "seed": 0}, shorthand="weight")
    setup.techniques.append(
        GradientPenalty(
            number("gradient_penalty", "weight", opts["weight"], 0.0),
            integer("gradient_penalty", "seed", opts["seed"], low=0),
        )
    )
