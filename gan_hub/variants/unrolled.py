"""Unrolled GAN (Metz, Poole, Pfau & Sohl-Dickstein, 2016, arXiv:1611.02163).

The generator is scored not by the current discriminator D(theta_D) but by the discriminator that k
further optimisation steps would produce against the current generator,

    theta_D^0 = theta_D,   theta_D^{i+1} = theta_D^i - eta * grad_{theta_D} L_D(theta_G, theta_D^i),
    L_G^unrolled(theta_G) = L_G(theta_G, theta_D^k(theta_G, theta_D)),

and G's gradient is taken THROUGH the k updates (theta_D^k depends on theta_G because L_D sees G's
samples), so G anticipates how D would react to its move. This needs second derivatives: each inner
gradient is taken with ``create_graph=True``. The real discriminator is untouched: the unroll starts
from detached views of its current parameters (and clones of its buffers, so batch-norm running
statistics or spectral-norm power-iteration vectors of the real D do not move), runs the network with
``torch.func.functional_call``, and throws the unrolled weights away afterwards. D's own update is
the ordinary discriminator step of :class:`AdversarialAlgorithm`.

Inner update rule (``unroll_optimizer``). By default the unroll continues the discriminator's own
optimizer, as the paper does: ``"adam"`` copies the trainer's Adam moment estimates and step count
for D (:class:`~gan_hub.variants.inner_optim.AdamUnroll`) and differentiates through k Adam updates,
moments included. The trainer hands the optimizer over through :meth:`bind_optimizers` (called when
``train.step.Players`` is built). ``"sgd"`` unrolls plain gradient descent with step ``unroll_lr``
instead (the surrogate of the project's earlier versions). Adam is nearly scale-free (its step is
about lr * m / sqrt(v)), so with fresh moments its first steps are ~ lr * sign(gradient) and pass
little back to G; with D's real moments the step is close to linear in the new gradient.

Inner losses. Every inner step uses the objective's discriminator loss on this G step's real batch
and this G step's fakes (the same batch for all k steps, as in the paper's surrogate). Technique
hooks are not run inside the unroll: ``d_inputs`` may have side effects (experience replay's buffer)
and ``d_penalty`` would need third derivatives. The outer G loss applies ``g_inputs`` (instance noise)
and adds ``g_penalty`` terms as usual. Techniques that replace the generator loss (feature matching)
read the real D and cannot see the unrolled one: they are refused.

Zero-sum objectives (minimax, Wasserstein: ``Objective.zero_sum``). The paper's generator minimises the
game's value function at the unrolled D, f(theta_G, theta_D^k(theta_G)), which is minus D's loss there:
its real-data term depends on G too, through theta_D^k. So for these objectives G's loss is
-L_D(theta_D^k) whole (what the authors' notebook minimises: ``-unrolled_loss``), not only the fake
term. Other objectives have no single value function; G's own loss is read at theta_D^k.

With ``unroll_steps=0`` the loss is the plain adversarial generator loss (for a zero-sum objective up to
the real term, which is then free of G: the same gradient).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call

from ..game import REPLACES_GENERATOR_LOSS, Batch, DOutput
from ..objectives import Objective
from ..registry import VARIANTS
from .base import AdversarialAlgorithm, Technique, VariantSpec
from .inner_optim import AdamUnroll, SGDUnroll

Tensor = torch.Tensor

DEFAULT_UNROLL_STEPS = 5
DEFAULT_UNROLL_LR = 1e-2
UNROLL_OPTIMIZERS = ("adam", "sgd")


def _unwrap(module: nn.Module) -> nn.Module:
    return getattr(module, "module", module)  # a DDP wrapper holds the network in .module


def _loss_precision(logits: Tensor) -> Tensor:
    """Half-precision logits in float32 for the losses, as the base algorithm does; float64 stays float64."""
    return logits if logits.dtype in (torch.float32, torch.float64) else logits.float()


def unroll_discriminator(
    discriminator: nn.Module,
    objective: Objective,
    real: Tensor,
    fake: Tensor,
    labels: Tensor | None,
    steps: int,
    inner: AdamUnroll | SGDUnroll,
) -> dict[str, Tensor]:
    """The state (parameters and buffers, by name) of ``discriminator`` after ``steps`` updates of the
    ``inner`` rule on ``objective.discriminator_loss(D(real), D(fake))``, as a differentiable function of
    ``fake`` (and so of the generator that produced it).

    The starting parameters are detached from the module's own (their gradients never reach the real
    D); buffers are cloned, so any in-place update during the unroll (batch-norm running statistics)
    changes only the copies.
    """
    params = {name: p.detach().requires_grad_(True) for name, p in discriminator.named_parameters()}
    buffers = {name: b.detach().clone() for name, b in discriminator.named_buffers()}
    names = list(params)
    for _ in range(steps):
        state = {**params, **buffers}
        real_logits = _loss_precision(functional_call(discriminator, state, (real, labels)))
        fake_logits = _loss_precision(functional_call(discriminator, state, (fake, labels)))
        loss = objective.discriminator_loss(real_logits, fake_logits)
        grads = torch.autograd.grad(loss, [params[n] for n in names], create_graph=True, allow_unused=True)
        params = inner.step(params, dict(zip(names, grads)))
    return {**params, **buffers}


class UnrolledAlgorithm(AdversarialAlgorithm):
    """The generator loss evaluated against D after ``unroll_steps`` differentiable D updates.

    ``unroll_steps``: k (default 5); ``unroll_optimizer``: ``"adam"`` (default: D's own Adam, moments
    included) or ``"sgd"``; ``unroll_lr``: the step size eta of ``"sgd"`` (default 1e-2). The D step is
    the base algorithm's.
    """

    incompatible = {
        REPLACES_GENERATOR_LOSS: "a replacement loss would read the current discriminator, not the unrolled one"
    }

    def __init__(
        self,
        objective: Objective,
        techniques: list[Technique] | None = None,
        unroll_steps: int = DEFAULT_UNROLL_STEPS,
        unroll_lr: float = DEFAULT_UNROLL_LR,
        unroll_optimizer: str = "adam",
    ):
        super().__init__(objective, techniques)
        if isinstance(unroll_steps, bool) or not isinstance(unroll_steps, int) or unroll_steps < 0:
            raise ValueError(f"unroll_steps must be a non-negative integer, got {unroll_steps!r}")
        if not unroll_lr > 0:
            raise ValueError(f"unroll_lr must be positive, got {unroll_lr!r}")
        if unroll_optimizer not in UNROLL_OPTIMIZERS:
            raise ValueError(f"unroll_optimizer must be one of {UNROLL_OPTIMIZERS}, got {unroll_optimizer!r}")
        self.unroll_steps, self.unroll_lr, self.unroll_optimizer = unroll_steps, float(unroll_lr), unroll_optimizer
        self.d_optimizer: torch.optim.Optimizer | None = None

    def bind_optimizers(self, g_optimizer: torch.optim.Optimizer, d_optimizer: torch.optim.Optimizer) -> None:
        """Remember D's optimizer: the ``"adam"`` unroll continues from its state."""
        self.d_optimizer = d_optimizer

    def _inner_rule(self, net: nn.Module) -> AdamUnroll | SGDUnroll:
        if self.unroll_optimizer == "sgd" or self.unroll_steps == 0:
            return SGDUnroll(self.unroll_lr)
        if self.d_optimizer is None:
            raise RuntimeError(
                "unroll_optimizer='adam' unrolls the discriminator's own Adam: pass it with "
                "bind_optimizers(g_optimizer, d_optimizer) before training (train.step.Players "
                "does), or use unroll_optimizer='sgd'"
            )
        return AdamUnroll(self.d_optimizer, dict(net.named_parameters()))

    def score_fake_for_generator(self, batch: Batch, images: Tensor) -> DOutput:
        net = _unwrap(batch.discriminator)
        state = unroll_discriminator(
            net,
            self.objective,
            batch.real,
            batch.fake.to(batch.real.dtype),
            batch.labels,
            self.unroll_steps,
            self._inner_rule(net),
        )
        batch.extras["unrolled"] = state
        return DOutput(_loss_precision(functional_call(net, state, (images, batch.labels))))

    def g_adversarial_loss(self, batch: Batch, fake: DOutput) -> Tensor:
        real_logits = None
        if self.objective.uses_real_logits_in_generator or self.objective.zero_sum:
            # the unrolled D depends on G, so its real logits do too: keep their graph
            net = _unwrap(batch.discriminator)
            real_logits = _loss_precision(functional_call(net, batch.extras["unrolled"], (batch.real, batch.labels)))
        if self.objective.zero_sum:  # the paper's surrogate f(theta_G, theta_D^k(theta_G)), real term included
            return -self.objective.discriminator_loss(real_logits, fake.logits)
        return self.objective.generator_loss(fake.logits, real_logits)


VARIANTS.register(
    "unrolled",
    VariantSpec(
        name="unrolled",
        arch="dcgan",
        arch_kwargs={"base_channels": 64, "d_norm": "none"},
        objective="non-saturating",
        algorithm=UnrolledAlgorithm,
        summary=f"unrolled GAN: G is scored by D after {DEFAULT_UNROLL_STEPS} differentiable steps of D's own Adam "
        "(moments included), backpropagated through the unroll",
        paper="Metz, Poole, Pfau & Sohl-Dickstein, Unrolled Generative Adversarial Networks, 2016 (arXiv:1611.02163)",
    ),
)
