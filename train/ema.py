"""The exported generator's exponential moving average, updated with one fused call per tensor group."""

from __future__ import annotations

import torch


def ema_with_warmup(decay: float):
    """``AveragedModel``'s ``multi_avg_fn``: average += (current - average) * (1 - rate), with a rate that ramps
    up as (1 + n) / (10 + n) to ``decay``, so early averages forget the random initial weights.

    The tensors of a group share a device and dtype; floating-point ones are averaged with one
    ``torch._foreach_lerp_`` (instead of a Python loop over the tensors), integer buffers (batch norm's
    ``num_batches_tracked``) take the current value.
    """

    def update(averages: list[torch.Tensor], currents: list[torch.Tensor], num_averaged: torch.Tensor) -> None:
        if not averages[0].is_floating_point():
            torch._foreach_copy_(averages, currents)
            return
        n = float(num_averaged)
        rate = min(decay, (1 + n) / (10 + n))
        torch._foreach_lerp_(averages, currents, 1 - rate)

    return update
