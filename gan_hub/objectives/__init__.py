"""GAN objectives: loss pairs as pure functions of discriminator outputs (no optimizer, no backward).

Every objective has

    discriminator_loss(real_logits, fake_logits)   -> scalar D minimises
    generator_loss(fake_logits, real_logits=None)  -> scalar G minimises

and is registered in ``gan_hub.registry.OBJECTIVES``:

    classic.py        minimax, non-saturating, maximum-likelihood (Goodfellow 2014/2016, 1/2 factors)
                      + one-sided label smoothing (Salimans et al. 2016)
    least_squares.py  least-squares (LSGAN) and the ``least_squares(a, b, c)`` factory
    wasserstein.py    wasserstein (WGAN critic), hinge
    fgan.py           fgan-kl, fgan-reverse-kl, fgan-pearson, fgan-hellinger, fgan-js
    relativistic.py   relativistic-standard, relativistic-average, relativistic-average-ls

Only the relativistic objectives read ``real_logits`` in the generator loss
(``Objective.uses_real_logits_in_generator``); the others ignore it.
"""

from __future__ import annotations

from ..registry import OBJECTIVES
from .base import Objective, identity, register, require_real_logits
from .classic import (
    bce_discriminator_loss,
    maximum_likelihood_generator_loss,
    minimax_generator_loss,
    non_saturating_generator_loss,
    one_sided_label_smoothing,
)
from .fgan import DIVERGENCES, fgan_objective
from .least_squares import least_squares
from .relativistic import (
    ragan_discriminator_loss,
    ragan_generator_loss,
    ralsgan_discriminator_loss,
    ralsgan_generator_loss,
    rsgan_discriminator_loss,
    rsgan_generator_loss,
)
from .wasserstein import (
    hinge_discriminator_loss,
    hinge_generator_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)


def get_objective(name: str) -> Objective:
    """Look an objective up by name.

    A suffix ``+ls<target>`` (e.g. ``non-saturating+ls0.9``) applies one-sided label smoothing to
    a registered binary-cross-entropy objective.
    """
    base, sep, target = name.rpartition("+ls")
    if sep and base:
        try:
            value = float(target)
        except ValueError:
            raise ValueError(f"objective {name!r}: expected a number after '+ls', got {target!r}") from None
        return one_sided_label_smoothing(OBJECTIVES.get(base), value)
    return OBJECTIVES.get(name)


__all__ = [
    "OBJECTIVES",
    "DIVERGENCES",
    "Objective",
    "bce_discriminator_loss",
    "fgan_objective",
    "get_objective",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "identity",
    "least_squares",
    "maximum_likelihood_generator_loss",
    "minimax_generator_loss",
    "non_saturating_generator_loss",
    "one_sided_label_smoothing",
    "ragan_discriminator_loss",
    "ragan_generator_loss",
    "ralsgan_discriminator_loss",
    "ralsgan_generator_loss",
    "register",
    "require_real_logits",
    "rsgan_discriminator_loss",
    "rsgan_generator_loss",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
]
