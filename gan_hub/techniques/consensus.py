"""Consensus optimisation (Mescheder et al., 2017, "The Numerics of GANs")."""

from __future__ import annotations

import torch

from ..game import Batch, Technique
from ._common import number, parse_options
from .setup import TECHNIQUES, TechniqueSetup


def half_squared_gradient_norm(loss: torch.Tensor, module: torch.nn.Module) -> torch.Tensor:
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

      * D step: + gamma/2 ||grad_phi L_D||^2, L_D the variant's whole D loss of the step (fakes fixed);
      * G step: + gamma/2 ||grad_theta L_G||^2, L_G the variant's whole G loss of the step (D fixed).

    L_D and L_G are the losses the algorithm computed (``batch.loss``: adversarial loss plus the
    variant's own terms, before penalties), so the regulariser follows any variant's game: energies,
    latent pairs, unrolled discriminators. The cross terms (how phi changes ||grad_theta L_G||^2 and
    theta changes ||grad_phi L_D||^2) are dropped; they would need G's graph in D's step and vice versa.
    Costs a double backward per step.
    """

    name = "consensus"

    def __init__(self, gamma: float = 10.0):
        self.gamma = gamma

    def d_penalty(self, batch: Batch) -> torch.Tensor:
        return self.gamma * half_squared_gradient_norm(batch.loss, batch.discriminator)

    def g_penalty(self, batch: Batch) -> torch.Tensor:
        return self.gamma * half_squared_gradient_norm(batch.loss, batch.generator)


@TECHNIQUES.register("consensus")
def consensus(options, setup: TechniqueSetup) -> None:
    """Consensus optimisation: both players also minimise gamma/2 ||v||^2 of the gradient field (Mescheder et al.,
    2017).

    Options: ``gamma`` (default 10, the paper's value; a bare number sets it). With alternating steps
    each player is penalised by its own loss's gradient's squared norm only (see Consensus).
    """
    opts = parse_options("consensus", options, {"gamma": 10.0}, shorthand="gamma")
    setup.techniques.append(Consensus(number("consensus", "gamma", opts["gamma"], 0.0)))
