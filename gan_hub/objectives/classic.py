"""The binary-classifier GAN of Goodfellow et al. (2014) and its three generator costs.

Conventions follow Goodfellow's NIPS 2016 tutorial (arXiv:1701.00160), with D(x) = sigmoid(logit):

    J(D)                = -1/2 E_x log D(x) - 1/2 E_z log(1 - D(G(z)))
    minimax J(G)        =  1/2 E_z log(1 - D(G(z)))               (= -J(D) up to a term free of G)
    non-saturating J(G) = -1/2 E_z log D(G(z))
    max.-likelihood J(G)= -1/2 E_z exp(sigmoid^-1(D(G(z)))) = -1/2 E_z exp(logit)

log D = -softplus(-logit) and log(1 - D) = -softplus(logit) keep every term finite in fp16/bf16.

One-sided label smoothing (Salimans et al. 2016, "Improved Techniques for Training GANs",
arXiv:1606.03498, section 3.4) replaces the real target 1 by a soft target such as 0.9 in the
discriminator's cross-entropy and keeps the fake target at 0; smoothing the fake side as well
would reward D for assigning mass where the data have none, so only the real side is smoothed.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Optional

import torch
import torch.nn.functional as F

from .base import Objective, register

Tensor = torch.Tensor

GOODFELLOW_2014 = "Goodfellow et al. 2014, Generative Adversarial Nets, arXiv:1406.2661"
TUTORIAL_2016 = "Goodfellow 2016, NIPS 2016 Tutorial: Generative Adversarial Networks, arXiv:1701.00160"
SALIMANS_2016 = "Salimans et al. 2016, Improved Techniques for Training GANs, arXiv:1606.03498"


def bce_discriminator_loss(real_logits: Tensor, fake_logits: Tensor, real_target: float = 1.0) -> Tensor:
    """1/2 cross-entropy of D on real (against ``real_target``) + 1/2 cross-entropy on fake (against 0).

    With real target t the real term is -t log D(x) - (1 - t) log(1 - D(x))
    = t softplus(-logit) + (1 - t) softplus(logit).
    """
    real_term = real_target * F.softplus(-real_logits) + (1.0 - real_target) * F.softplus(real_logits)
    return 0.5 * real_term.mean() + 0.5 * F.softplus(fake_logits).mean()


def minimax_generator_loss(fake_logits: Tensor, real_logits: Optional[Tensor] = None) -> Tensor:
    return -0.5 * F.softplus(fake_logits).mean()


def non_saturating_generator_loss(fake_logits: Tensor, real_logits: Optional[Tensor] = None) -> Tensor:
    return 0.5 * F.softplus(-fake_logits).mean()


def maximum_likelihood_generator_loss(fake_logits: Tensor, real_logits: Optional[Tensor] = None) -> Tensor:
    # exp in fp32: the logit can be large early in training.
    return -0.5 * torch.exp(fake_logits.float()).mean()


MINIMAX = register(
    Objective(
        "minimax",
        bce_discriminator_loss,
        minimax_generator_loss,
        "G minimises 1/2 E log(1 - D(G(z))): the zero-sum game; gradients vanish when D wins.",
        paper=f"{GOODFELLOW_2014}; 1/2 factors from {TUTORIAL_2016}",
        probability=torch.sigmoid,
        zero_sum=True,
    )
)
NON_SATURATING = register(
    Objective(
        "non-saturating",
        bce_discriminator_loss,
        non_saturating_generator_loss,
        "G minimises -1/2 E log D(G(z)): strong gradients when D rejects the samples.",
        paper=f"{GOODFELLOW_2014}; 1/2 factors from {TUTORIAL_2016}",
        probability=torch.sigmoid,
    )
)
MAXIMUM_LIKELIHOOD = register(
    Objective(
        "maximum-likelihood",
        bce_discriminator_loss,
        maximum_likelihood_generator_loss,
        "G minimises -1/2 E exp(logit D(G(z))): approximates maximum likelihood at an optimal D.",
        paper="Goodfellow 2014, On distinguishability criteria for estimating generative models, "
        f"arXiv:1412.6515; {TUTORIAL_2016}",
        probability=torch.sigmoid,
    )
)


def one_sided_label_smoothing(objective: Objective, target: float = 0.9) -> Objective:
    """The same objective with D's real target lowered to ``target`` (fake target stays 0).

    Only the binary-cross-entropy objectives (minimax, non-saturating, maximum-likelihood) have a
    real label to smooth; anything else raises ValueError. The result is not registered; it is
    named ``"<name>+ls<target>"``, which ``get_objective`` also understands.
    """
    if objective.discriminator_loss is not bce_discriminator_loss:
        raise ValueError(
            f"one-sided label smoothing needs a binary cross-entropy discriminator loss "
            f"(minimax, non-saturating, maximum-likelihood); {objective.name!r} has none"
        )
    if not 0.0 < target <= 1.0:
        raise ValueError(f"label-smoothing target must lie in (0, 1], got {target}")
    return dataclasses.replace(
        objective,
        name=f"{objective.name}+ls{target:g}",
        discriminator_loss=functools.partial(bce_discriminator_loss, real_target=target),
        summary=f"{objective.summary} D's real target smoothed to {target:g} (one-sided).",
        paper=f"{objective.paper}; label smoothing: {SALIMANS_2016}",
        zero_sum=False,  # D's smoothed target is no longer the game G plays
    )
