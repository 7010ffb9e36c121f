"""Critic objectives with a linear generator cost: Wasserstein GAN and the hinge loss.

Both read D's output as an unbounded critic value, so "D(x)" is logged as the raw value.

WGAN (Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN", arXiv:1701.07875): the critic f
estimates the Wasserstein-1 distance sup_{||f||_L <= 1} E f(real) - E f(fake), so

    critic minimises E f(G(z)) - E f(x)          G minimises -E f(G(z))

The Lipschitz constraint is not part of the loss. The paper enforces it by clipping every critic
weight to [-c, c] with c = 0.01 after each critic step and trains with RMSProp at learning rate
5e-5, n_critic = 5 critic steps per generator step (its Algorithm 1); those belong to the variant
that uses this objective, not here. (A gradient penalty, Gulrajani et al. 2017, is the other usual
way and is likewise added by the variant.)

Hinge (Lim & Ye 2017, "Geometric GAN", arXiv:1705.02894; used with spectral normalisation by
Miyato et al. 2018, arXiv:1802.05957):

    D minimises E relu(1 - D(x)) + E relu(1 + D(G(z)))      G minimises -E D(G(z))
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from .base import Objective, identity, register

Tensor = torch.Tensor


def wasserstein_critic_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    return fake_logits.mean() - real_logits.mean()


def wasserstein_generator_loss(fake_logits: Tensor, real_logits: Optional[Tensor] = None) -> Tensor:
    return -fake_logits.mean()


def hinge_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    return F.relu(1.0 - real_logits).mean() + F.relu(1.0 + fake_logits).mean()


def hinge_generator_loss(fake_logits: Tensor, real_logits: Optional[Tensor] = None) -> Tensor:
    return -fake_logits.mean()


WASSERSTEIN = register(
    Objective(
        "wasserstein",
        wasserstein_critic_loss,
        wasserstein_generator_loss,
        "Critic maximises E f(real) - E f(fake) (a Wasserstein-1 estimate under a Lipschitz constraint); "
        "G maximises E f(fake).",
        paper="Arjovsky, Chintala & Bottou 2017, Wasserstein GAN, arXiv:1701.07875",
        probability=identity,
        zero_sum=True,
    )
)
HINGE = register(
    Objective(
        "hinge",
        hinge_discriminator_loss,
        hinge_generator_loss,
        "D pushes real scores above 1 and fake below -1 with a hinge; G maximises E D(G(z)).",
        paper="Lim & Ye 2017, Geometric GAN, arXiv:1705.02894; Miyato et al. 2018, "
        "Spectral Normalization for Generative Adversarial Networks, arXiv:1802.05957",
        probability=identity,
    )
)
