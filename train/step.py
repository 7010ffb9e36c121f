"""One alternating training step: a discriminator update, then (every ``n_critic`` steps) a generator update.

Shared by the accelerate trainer and the CPU toy benchmark (bench/toy_modes.py): the trainer passes
accelerate's backward, autocast and unwrap; plain PyTorch loops use the defaults.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn


@dataclass
class Players:
    generator: nn.Module
    discriminator: nn.Module
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    algorithm: object  # gan_hub.variants.base.AdversarialAlgorithm
    n_critic: int = 1

    def __post_init__(self):
        self.algorithm.bind_optimizers(self.opt_g, self.opt_d)


def alternating_step(
    players: Players,
    real: torch.Tensor,
    labels: torch.Tensor | None,
    sample_latents: Callable[[int], torch.Tensor],
    sample_labels: Callable[[int], torch.Tensor | None],
    ctx,
    backward: Callable = torch.Tensor.backward,
    autocast: Callable = contextlib.nullcontext,
    unwrap: Callable = lambda m: m,
) -> tuple[dict[str, float], bool]:
    """Returns the logs and whether the generator was updated (so the caller can update its EMA)."""
    p, n = players, len(real)
    with autocast():
        d_loss, logs = p.algorithm.discriminator_loss(
            unwrap(p.generator), p.discriminator, real, labels, sample_latents(n), ctx
        )
    backward(d_loss)
    p.opt_d.step()
    p.opt_d.zero_grad(set_to_none=True)
    p.algorithm.after_d_step(unwrap(p.discriminator), ctx)
    if ctx.step % p.n_critic != 0:
        return logs, False
    frozen_d = unwrap(p.discriminator).requires_grad_(False)
    try:
        with autocast():
            g_loss, g_logs = p.algorithm.generator_loss(
                p.generator, frozen_d, sample_latents(n), sample_labels(n), real, ctx
            )
        backward(g_loss)
        p.opt_g.step()
        p.opt_g.zero_grad(set_to_none=True)
    finally:
        frozen_d.requires_grad_(True)
    p.algorithm.after_g_step(unwrap(p.generator), ctx)
    logs.update(g_logs)
    return logs, True
