"""Least-squares GAN (Mao et al. 2017, "Least Squares Generative Adversarial Networks", arXiv:1611.04076).

With a and b the labels D should give fake and real data, and c the value G wants D to give its
samples (the paper's a-b-c coding, its equation 2):

    D minimises 1/2 E_x (D(x) - b)^2 + 1/2 E_z (D(G(z)) - a)^2
    G minimises 1/2 E_z (D(G(z)) - c)^2

D's output is a raw score (no sigmoid). The paper gives two settings:

* a = -1, b = 1, c = 0: satisfies b - c = 1 and b - a = 2, under which minimising the objective
  minimises the Pearson chi^2 divergence between p_data + p_g and 2 p_g (its section 3.2.1);
* a = 0, b = 1, c = 1 (c = b: G wants its samples to look real), the 0-1 coding used in most of
  its experiments; the registered ``least-squares`` objective uses this one.

Neither condition is enforced: ``least_squares(a, b, c)`` accepts any codes.
"""

from __future__ import annotations

from typing import Optional

import torch

from .base import Objective, identity, register

Tensor = torch.Tensor

MAO_2017 = "Mao et al. 2017, Least Squares Generative Adversarial Networks, arXiv:1611.04076"


def least_squares(a: float = 0.0, b: float = 1.0, c: float = 1.0, name: Optional[str] = None) -> Objective:
    """An LSGAN objective with fake code ``a``, real code ``b`` and generator target ``c``."""

    def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return 0.5 * (real_logits - b).pow(2).mean() + 0.5 * (fake_logits - a).pow(2).mean()

    def generator_loss(fake_logits: Tensor, real_logits: Optional[Tensor] = None) -> Tensor:
        return 0.5 * (fake_logits - c).pow(2).mean()

    if name is None:
        name = "least-squares" if (a, b, c) == (0.0, 1.0, 1.0) else f"least-squares(a={a:g},b={b:g},c={c:g})"
    return Objective(
        name,
        discriminator_loss,
        generator_loss,
        f"Squared distance of D's raw score to codes: D pulls real to {b:g} and fake to {a:g}, G pulls fake to {c:g}.",
        paper=MAO_2017,
        probability=identity,  # the raw score, to compare against the codes a and b
    )


LEAST_SQUARES = register(least_squares())
