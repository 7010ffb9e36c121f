"""Relativistic GANs (Jolicoeur-Martineau 2018, "The relativistic discriminator: a key element
missing from standard GAN", arXiv:1807.00734).

C is the critic's raw output (the logit before any sigmoid). A relativistic discriminator scores
how much more realistic a real sample is than a fake one, so the generator's loss also depends on
the real scores: every objective here has ``uses_real_logits_in_generator=True`` and its generator
loss raises ValueError without them.

RSGAN, real sample i paired with fake sample i (batches of equal size):

    L_D = -E log sigmoid(C(x_r) - C(x_f)) = E softplus(-(C(x_r) - C(x_f)))
    L_G = -E log sigmoid(C(x_f) - C(x_r)) = E softplus(-(C(x_f) - C(x_r)))

RaSGAN (relativistic average), with D~(x_r) = sigmoid(C(x_r) - E C(x_f)) and
D~(x_f) = sigmoid(C(x_f) - E C(x_r)), the batch means standing in for the expectations:

    L_D = -E_r log D~(x_r) - E_f log(1 - D~(x_f))
        = E_r softplus(-(C(x_r) - mean C(x_f))) + E_f softplus(C(x_f) - mean C(x_r))
    L_G = -E_f log D~(x_f) - E_r log(1 - D~(x_r))      (real and fake swapped)

RaLSGAN:

    L_D = E_r (C(x_r) - mean C(x_f) - 1)^2 + E_f (C(x_f) - mean C(x_r) + 1)^2
    L_G = E_f (C(x_f) - mean C(x_r) - 1)^2 + E_r (C(x_r) - mean C(x_f) + 1)^2

These are the paper's formulas as written: the two expectations are summed, with no 1/2 factor
(some public implementations halve both losses, which only rescales the step size). Note that,
unlike LSGAN's ``least-squares`` objective here, RaLSGAN has no 1/2 on the squares either.

"D(x)" is logged as sigmoid(C(x)) for RSGAN/RaSGAN and as the raw C(x) for RaLSGAN; for a
relativistic critic only differences of C are meaningful, so these are displays, not the
paper's D~, which needs the other batch.
"""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from .base import Objective, identity, register, require_real_logits

Tensor = torch.Tensor

JOLICOEUR_2018 = (
    "Jolicoeur-Martineau 2018, The relativistic discriminator: a key element missing "
    "from standard GAN, arXiv:1807.00734"
)


def _paired(first: Tensor, second: Tensor, name: str) -> Tensor:
    if first.shape != second.shape:
        raise ValueError(
            f"{name} pairs real sample i with fake sample i: the real and fake logits "
            f"must have one shape, got {tuple(first.shape)} and {tuple(second.shape)}"
        )
    return first - second


def rsgan_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    return F.softplus(-_paired(real_logits, fake_logits, "relativistic-standard")).mean()


def rsgan_generator_loss(fake_logits: Tensor, real_logits: Optional[Tensor] = None) -> Tensor:
    real_logits = require_real_logits(real_logits, "relativistic-standard")
    return F.softplus(-_paired(fake_logits, real_logits, "relativistic-standard")).mean()


def _ragan(wanted_high: Tensor, wanted_low: Tensor) -> Tensor:
    """-E log D~(high) - E log(1 - D~(low)) for the side that should score higher."""
    return F.softplus(-(wanted_high - wanted_low.mean())).mean() + F.softplus(wanted_low - wanted_high.mean()).mean()


def ragan_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    return _ragan(real_logits, fake_logits)


def ragan_generator_loss(fake_logits: Tensor, real_logits: Optional[Tensor] = None) -> Tensor:
    return _ragan(fake_logits, require_real_logits(real_logits, "relativistic-average"))


def _ralsgan(wanted_high: Tensor, wanted_low: Tensor) -> Tensor:
    return (wanted_high - wanted_low.mean() - 1.0).pow(2).mean() + (wanted_low - wanted_high.mean() + 1.0).pow(2).mean()


def ralsgan_discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    return _ralsgan(real_logits, fake_logits)


def ralsgan_generator_loss(fake_logits: Tensor, real_logits: Optional[Tensor] = None) -> Tensor:
    return _ralsgan(fake_logits, require_real_logits(real_logits, "relativistic-average-ls"))


RELATIVISTIC_STANDARD = register(
    Objective(
        "relativistic-standard",
        rsgan_discriminator_loss,
        rsgan_generator_loss,
        "RSGAN: D raises C(real) - C(fake) pairwise through a sigmoid cross-entropy; G raises C(fake) - C(real).",
        paper=JOLICOEUR_2018,
        probability=torch.sigmoid,
        uses_real_logits_in_generator=True,
    )
)
RELATIVISTIC_AVERAGE = register(
    Objective(
        "relativistic-average",
        ragan_discriminator_loss,
        ragan_generator_loss,
        "RaSGAN: cross-entropy on each score minus the other side's batch mean; G's loss swaps real and fake.",
        paper=JOLICOEUR_2018,
        probability=torch.sigmoid,
        uses_real_logits_in_generator=True,
    )
)
RELATIVISTIC_AVERAGE_LS = register(
    Objective(
        "relativistic-average-ls",
        ralsgan_discriminator_loss,
        ralsgan_generator_loss,
        "RaLSGAN: squared distance of each score minus the other side's batch mean to +-1; G's loss swaps real and "
        "fake.",
        paper=JOLICOEUR_2018,
        probability=identity,
        uses_real_logits_in_generator=True,
    )
)
