"""Differentiable copies of optimizer steps, for algorithms that look ahead (the unrolled GAN).

Each step maps (parameters, gradients, state) to new (parameters, state) with ordinary tensor ops,
so autograd can differentiate the result with respect to whatever the gradients depend on. Nothing
is done in place and the real optimizer is never touched.

* :class:`SGDUnroll`: theta <- theta - lr * g.
* :class:`AdamUnroll`: the update of ``torch.optim.Adam`` (bias-corrected moments, eps added to the
  corrected root second moment), started from a snapshot of a real Adam optimizer's moments and step
  count, so the look-ahead continues the discriminator's own optimisation (Metz et al., 2017).
"""

from __future__ import annotations

import math

import torch

Tensor = torch.Tensor


def _safe_sqrt(v: Tensor) -> Tensor:
    """sqrt(v) with derivative 0 (not inf) where v == 0: a weight that never had a gradient (an unused
    maxout piece) has v = 0 and m = 0, so its update is 0 and must not turn the backward pass into NaN."""
    positive = v > 0
    return torch.where(positive, torch.where(positive, v, torch.ones_like(v)).sqrt(), torch.zeros_like(v))


class SGDUnroll:
    """Plain gradient descent with step ``lr``."""

    def __init__(self, lr: float):
        self.lr = float(lr)

    def step(self, params: dict[str, Tensor], grads: dict[str, Tensor | None]) -> dict[str, Tensor]:
        return {n: p if grads[n] is None else p - self.lr * grads[n] for n, p in params.items()}


class AdamUnroll:
    """Adam steps continuing from a real ``torch.optim.Adam``'s state for the parameters in ``named``.

    ``named`` maps parameter names to the parameter objects the optimizer holds (the keys of its state).
    Parameters the optimizer has not stepped yet start from zero moments and step 0, as Adam would.
    Options Adam uses that a look-ahead does not support (amsgrad, maximize, decoupled or foreach-only
    variants) are refused with a clear error.
    """

    def __init__(self, optimizer: torch.optim.Optimizer, named: dict[str, torch.nn.Parameter]):
        optimizer = getattr(optimizer, "optimizer", optimizer)  # accelerate wraps the torch optimizer
        if not isinstance(optimizer, torch.optim.Adam) or isinstance(optimizer, torch.optim.AdamW):
            raise ValueError(
                f"unrolling Adam needs the discriminator's torch.optim.Adam, got {type(optimizer).__name__}; "
                "use unroll_optimizer='sgd' for other optimizers"
            )
        group_of = {id(p): g for g in optimizer.param_groups for p in g["params"]}
        self.lr, self.betas, self.eps, self.weight_decay, self.moments = {}, {}, {}, {}, {}
        for name, p in named.items():
            group = group_of.get(id(p))
            if group is None:
                raise ValueError(f"discriminator parameter {name!r} is not in the optimizer passed for unrolling")
            if group.get("amsgrad") or group.get("maximize"):
                raise ValueError("unrolling supports plain Adam only (amsgrad=False, maximize=False)")
            self.lr[name] = float(group["lr"])
            self.betas[name] = tuple(float(b) for b in group["betas"])
            self.eps[name], self.weight_decay[name] = float(group["eps"]), float(group["weight_decay"])
            state = optimizer.state.get(p, {})
            if "exp_avg" in state:
                step = int(state["step"])  # a tensor in recent torch, an int in older ones
                self.moments[name] = (state["exp_avg"].detach().clone(), state["exp_avg_sq"].detach().clone(), step)
            else:
                self.moments[name] = (torch.zeros_like(p), torch.zeros_like(p), 0)

    def step(self, params: dict[str, Tensor], grads: dict[str, Tensor | None]) -> dict[str, Tensor]:
        new = {}
        for name, p in params.items():
            g = grads[name]
            if g is None:
                new[name] = p
                continue
            if self.weight_decay[name]:
                g = g + self.weight_decay[name] * p
            (b1, b2), (m, v, t) = self.betas[name], self.moments[name]
            t += 1
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            self.moments[name] = (m, v, t)
            denom = _safe_sqrt(v) / math.sqrt(1 - b2**t) + self.eps[name]
            new[name] = p - (self.lr[name] / (1 - b1**t)) * m / denom
        return new


__all__ = ["AdamUnroll", "SGDUnroll"]
