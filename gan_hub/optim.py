"""The optimizers a variant or a training run can name, and the one torch does not ship.

``adam`` and ``rmsprop`` are torch's. ``adam-eps-in-sqrt`` is Adam as the Improved-GAN authors wrote it
(Salimans et al., 2016, the ``adam_updates`` of their Theano code): the step is

    lr * m_hat / sqrt(v_hat + eps)          eps = 1e-8

where torch's Adam takes ``lr * m_hat / (sqrt(v_hat) + eps)``. Both agree when gradients are large,
but with eps under the root a parameter whose gradients stay below sqrt(eps) = 1e-4 moves in
proportion to its gradient instead of by about ``lr`` a step. In the semi-supervised GAN's weight-normed
discriminator most direction entries have such gradients (measured on our MNIST runs: 99 % of the
first layer's), so torch's Adam turns them several times faster than the authors' optimizer did.
"""

from __future__ import annotations

import torch

OPTIMIZERS = ("adam", "adam-eps-in-sqrt", "rmsprop")
ADAM_KINDS = ("adam", "adam-eps-in-sqrt")  # the ones that take betas


class AdamEpsInSqrt(torch.optim.Optimizer):
    """Adam with eps inside the square root (see the module docstring). Its state has torch Adam's keys
    (``step``, ``exp_avg``, ``exp_avg_sq``), so code that reads Adam's moments reads these too."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        if not lr > 0 or not 0 <= betas[0] < 1 or not 0 <= betas[1] < 1 or not eps >= 0:
            raise ValueError(f"invalid Adam settings: lr={lr}, betas={betas}, eps={eps}")
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "eps": eps})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            beta1, beta2 = group["betas"]
            states = [self._state(p) for p in params]
            grads = [p.grad for p in params]
            means, squares = [s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states]
            torch._foreach_lerp_(means, grads, 1 - beta1)
            torch._foreach_mul_(squares, beta2)
            torch._foreach_addcmul_(squares, grads, grads, value=1 - beta2)
            for state in states:
                state["step"] += 1
            steps = [float(state["step"]) for state in states]
            denominators = torch._foreach_div(squares, [1 - beta2**t for t in steps])
            torch._foreach_add_(denominators, group["eps"])
            torch._foreach_sqrt_(denominators)
            torch._foreach_addcdiv_(params, means, denominators, [-group["lr"] / (1 - beta1**t) for t in steps])
        return loss

    def _state(self, param: torch.Tensor) -> dict:
        state = self.state[param]
        if not state:
            state["step"] = torch.tensor(0.0)
            state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
            state["exp_avg_sq"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        return state


def build_optimizer(kind: str, params, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
    """One of :data:`OPTIMIZERS` over ``params``; ``betas`` are Adam's (RMSprop takes torch's defaults)."""
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas, fused=True)  # one kernel: 5x faster step on CPU
    if kind == "adam-eps-in-sqrt":
        return AdamEpsInSqrt(params, lr=lr, betas=betas)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    raise ValueError(f"unknown optimizer {kind!r}; use one of: {', '.join(OPTIMIZERS)}")
