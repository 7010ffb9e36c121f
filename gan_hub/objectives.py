"""Loss pairs as pure functions of discriminator logits: no optimizer, no backward inside.

Conventions follow Goodfellow's 2016 NIPS tutorial, with D(x) = sigmoid(logit):

    J(D)                = -1/2 E_x log D(x) - 1/2 E_z log(1 - D(G(z)))
    minimax J(G)        =  1/2 E_z log(1 - D(G(z)))               (= -J(D) up to a term free of G)
    non-saturating J(G) = -1/2 E_z log D(G(z))
    max.-likelihood J(G)= -1/2 E_z exp(sigmoid^-1(D(G(z)))) = -1/2 E_z exp(logit)

log D = -softplus(-logit) and log(1 - D) = -softplus(logit) keep every term finite in fp16/bf16.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from .registry import OBJECTIVES

Tensor = torch.Tensor


@dataclass(frozen=True)
class Objective:
    name: str
    discriminator_loss: Callable[[Tensor, Tensor], Tensor]  # (real_logits, fake_logits) -> scalar
    generator_loss: Callable[[Tensor], Tensor]  # fake_logits -> scalar
    summary: str = ""


def bce_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    return 0.5 * F.softplus(-real_logits).mean() + 0.5 * F.softplus(fake_logits).mean()


def minimax_generator_loss(fake_logits: Tensor) -> Tensor:
    return -0.5 * F.softplus(fake_logits).mean()


def non_saturating_generator_loss(fake_logits: Tensor) -> Tensor:
    return 0.5 * F.softplus(-fake_logits).mean()


def maximum_likelihood_generator_loss(fake_logits: Tensor) -> Tensor:
    # exp in fp32: the logit can be large early in training.
    return -0.5 * torch.exp(fake_logits.float()).mean()


for _objective in (
    Objective("minimax", bce_discriminator_loss, minimax_generator_loss,
              "G minimises 1/2 E log(1 - D(G(z))): the zero-sum game; gradients vanish when D wins."),
    Objective("non-saturating", bce_discriminator_loss, non_saturating_generator_loss,
              "G minimises -1/2 E log D(G(z)): strong gradients when D rejects the samples."),
    Objective("maximum-likelihood", bce_discriminator_loss, maximum_likelihood_generator_loss,
              "G minimises -1/2 E exp(logit D(G(z))): approximates maximum likelihood at an optimal D."),
):
    OBJECTIVES.register(_objective.name, _objective)


def get_objective(name: str) -> Objective:
    return OBJECTIVES.get(name)
