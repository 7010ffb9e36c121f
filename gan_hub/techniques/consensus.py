"""Consensus optimisation (Mescheder et al., 2017, "The Numerics of GANs")."""
from __future__ import annotations

import torch

from ..variants.base import StepContext, Technique
from . import TECHNIQUES, TechniqueSetup
from ._common import number, parse_options


def _half_squared_norm_of_gradient(loss: torch.Tensor, module: torch.nn.Module) -> torch.Tensor:
    """1/2 ||d loss / d params||^2 over the trainable parameters, differentiable (create_graph=True)."""
    params = [p for p in module.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss, params, create_graph=True, allow_unused=True)
    return 0.5 * sum((g.float() ** 2).sum() for g in grads if g is not None)


class Consensus(Technique):
    """Adds gamma/2 ||v||^2, v the game's vector field, to the players' losses.

    Mescheder et al. update both players simultaneously and add gamma * L(x) with
    L = 1/2 ||v||^2 = 1/2 (||grad_theta L_G||^2 + ||grad_phi L_D||^2) to both losses, so each player
    also follows the gradient of the *other* player's component. With the alternating steps used here
    each player's regulariser is its own component only:

      * D step: + gamma/2 ||grad_phi L_D(phi; real, fake)||^2, on the step's batch (fakes fixed);
      * G step: + gamma/2 ||grad_theta L_G(theta; z)||^2, on the step's fakes (D fixed).

    The cross terms (how phi changes ||grad_theta L_G||^2 and theta changes ||grad_phi L_D||^2) are
    dropped; they would need G's graph in D's step and vice versa. Both losses are recomputed here
    with the run's objective (on the inputs before instance noise or replay), which costs one extra
    D forward per step and a double backward.
    """

    name = "consensus"

    def __init__(self, setup: TechniqueSetup, gamma: float = 10.0):
        self._setup = setup  # read at call time: another switch (label smoothing) may replace the objective
        self.gamma = gamma
        self._g_step = None

    @property
    def objective(self):
        return self._setup.objective

    def d_penalty(self, generator, discriminator, real, fake, labels, ctx: StepContext) -> torch.Tensor:
        fake = fake.detach().to(real.dtype)
        loss = self.objective.discriminator_loss(discriminator(real, labels).float(), discriminator(fake, labels).float())
        return self.gamma * _half_squared_norm_of_gradient(loss, discriminator)

    def generator_loss(self, discriminator, real, fake, labels, ctx: StepContext):
        self._g_step = (discriminator, real, fake, labels)  # kept for g_penalty; the G loss is not replaced
        return None

    def g_penalty(self, generator, discriminator, ctx: StepContext):
        if self._g_step is None:
            return None
        d, real, fake, labels = self._g_step
        self._g_step = None
        real_logits = None
        if self.objective.uses_real_logits_in_generator:
            with torch.no_grad():
                real_logits = d(real, labels).float()
        loss = self.objective.generator_loss(d(fake, labels).float(), real_logits)
        return self.gamma * _half_squared_norm_of_gradient(loss, generator)


@TECHNIQUES.register("consensus")
def consensus(options, setup: TechniqueSetup) -> None:
    """Consensus optimisation: both players also minimise gamma/2 ||v||^2 of the gradient field (Mescheder et al., 2017).

    Options: ``gamma`` (default 10, the paper's value; a bare number sets it). With alternating steps
    each player is penalised by its own gradient's squared norm only (see Consensus).
    """
    opts = parse_options("consensus", options, {"gamma": 10.0}, shorthand="gamma")
    setup.techniques.append(Consensus(setup, number("consensus", "gamma", opts["gamma"], 0.0)))
