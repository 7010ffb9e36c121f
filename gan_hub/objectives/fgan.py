"""f-GAN: variational divergence minimisation (Nowozin, Cseke & Tomioka 2016, arXiv:1606.00709).

D outputs an unconstrained value v = V(x); the output activation g_f maps it into the domain of
f*, the convex conjugate of the divergence's generator f, giving T(x) = g_f(V(x)). The paper's
saddle-point objective (its equation 6) is

    F = E_real[g_f(V(x))] - E_fake[f*(g_f(V(G(z))))]

which D maximises (``discriminator_loss = -F``); at the optimum F is a lower bound on the
divergence D_f(P_data || Q_G).

Generator: the paper's section 3.2 carries Goodfellow's non-saturating trick over to every f:
instead of minimising F, the generator ascends E_fake[g_f(V(G(z)))], "maximizing the variational
function output on the generated samples", and the paper shows this keeps the saddle point's
stationary points. That is what is implemented here:

    G minimises -E_fake[g_f(V(G(z)))]

Divergences (the paper's Table 2, activation g_f and conjugate f*), each written through the
composition f*(g_f(v)) in closed form so that nothing overflows in fp32 for |v| up to ~80:

    name               g_f(v)                     f*(t)               f*(g_f(v))
    kl                 v                          exp(t - 1)          exp(v - 1)
    reverse-kl         -exp(-v)                   -1 - log(-t)        v - 1
    pearson            v                          t^2/4 + t           v^2/4 + v
    hellinger          1 - exp(-v)                t / (1 - t)         exp(v) - 1
    js                 log 2 - log(1 + exp(-v))   -log(2 - exp(t))    softplus(v) - log 2

(for js, exp(g_f(v)) = 2 sigmoid(v), so 2 - exp(t) = 2 sigmoid(-v) and -log of it is
softplus(v) - log 2; log(1 + exp(-v)) is softplus(-v)). The hellinger entry is the squared
Hellinger distance with f(u) = (sqrt(u) - 1)^2.

"D(x)" is logged as T = g_f(v), the variational function itself; at the optimum T equals
f'(p_data / p_g), so it reads differently per divergence (e.g. 1 + log ratio for KL).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import torch
import torch.nn.functional as F

from .base import Objective, register

Tensor = torch.Tensor

NOWOZIN_2016 = (
    "Nowozin, Cseke & Tomioka 2016, f-GAN: Training Generative Neural Samplers using "
    "Variational Divergence Minimization, arXiv:1606.00709"
)
LOG2 = math.log(2.0)


@dataclass(frozen=True)
class Divergence:
    label: str
    activation: Callable[[Tensor], Tensor]  # g_f(v)
    conjugate_of_activation: Callable[[Tensor], Tensor]  # f*(g_f(v))


# exp terms run in fp32: under half precision exp overflows from v ~ 11.
DIVERGENCES: dict[str, Divergence] = {
    "kl": Divergence("Kullback-Leibler KL(P_data || Q)", lambda v: v, lambda v: torch.exp(v.float() - 1.0)),
    "reverse-kl": Divergence(
        "reverse Kullback-Leibler KL(Q || P_data)", lambda v: -torch.exp(-v.float()), lambda v: v - 1.0
    ),
    "pearson": Divergence("Pearson chi^2", lambda v: v, lambda v: 0.25 * v * v + v),
    "hellinger": Divergence(
        "squared Hellinger", lambda v: 1.0 - torch.exp(-v.float()), lambda v: torch.expm1(v.float())
    ),
    "js": Divergence("Jensen-Shannon", lambda v: LOG2 - F.softplus(-v), lambda v: F.softplus(v) - LOG2),
}


def fgan_objective(divergence: str) -> Objective:
    """The f-GAN objective for one of ``DIVERGENCES`` (named ``fgan-<divergence>``)."""
    try:
        div = DIVERGENCES[divergence]
    except KeyError:
        raise ValueError(f"unknown f-divergence {divergence!r}; choose one of: {', '.join(DIVERGENCES)}") from None

    def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        return div.conjugate_of_activation(fake_logits).mean() - div.activation(real_logits).mean()

    def generator_loss(fake_logits: Tensor, real_logits: Optional[Tensor] = None) -> Tensor:
        return -div.activation(fake_logits).mean()

    return Objective(
        f"fgan-{divergence}",
        discriminator_loss,
        generator_loss,
        f"f-GAN with the {div.label} divergence: D maximises E g(V(real)) - E f*(g(V(fake))); "
        "G maximises E g(V(fake)).",
        paper=NOWOZIN_2016,
        probability=div.activation,
    )


FGAN_OBJECTIVES = {name: register(fgan_objective(name)) for name in DIVERGENCES}
