"""The Objective record and the registry helpers shared by every objective module.

An objective is a pair of pure functions of the discriminator's raw outputs ("logits" for the
classifier family, "critic values" for the rest): nothing here runs a network, an optimizer or a
backward pass.

    discriminator_loss(real_logits, fake_logits)        -> scalar that D minimises
    generator_loss(fake_logits, real_logits=None)       -> scalar that G minimises

The generator loss receives the real logits too because relativistic objectives compare fake
against real scores; every other objective ignores them, and ``uses_real_logits_in_generator``
tells a caller when it may skip the real forward pass in the generator step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import torch

from ..registry import OBJECTIVES

Tensor = torch.Tensor


def identity(x: Tensor) -> Tensor:
    """Show the raw discriminator output unchanged (critic values have no probability reading)."""
    return x


@dataclass(frozen=True)
class Objective:
    """A named GAN loss pair.

    ``probability`` maps D's raw output to the number logged as "D(x)": ``torch.sigmoid`` for the
    binary-classifier and relativistic-classifier objectives, the identity for raw critic scores
    (Wasserstein, hinge, least squares) and the output activation g_f(v) for f-GAN.
    """

    name: str
    discriminator_loss: Callable[[Tensor, Tensor], Tensor]  # (real_logits, fake_logits) -> scalar
    generator_loss: Callable[..., Tensor]  # (fake_logits, real_logits=None) -> scalar
    summary: str = ""
    paper: str = ""
    probability: Callable[[Tensor], Tensor] = torch.sigmoid
    uses_real_logits_in_generator: bool = False
    # the generator loss is minus the discriminator loss up to a term free of G (minimax, Wasserstein):
    # the game's one value function, which unrolling differentiates whole
    zero_sum: bool = False


def register(objective: Objective) -> Objective:
    OBJECTIVES.register(objective.name, objective)
    return objective


def require_real_logits(real_logits: Optional[Tensor], objective_name: str) -> Tensor:
    if real_logits is None:
        raise ValueError(
            f"the {objective_name!r} generator loss compares fake against real scores: "
            "call generator_loss(fake_logits, real_logits)"
        )
    return real_logits
