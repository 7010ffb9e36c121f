"""Layers that hold S independent copies of their weights, one per training seed, for training S small
networks at once in one process (one batched matmul instead of S small ones).

A batch of S * B rows is read as S blocks of B rows, block s going through copy s; nothing mixes
rows of different blocks, so the S copies train exactly as S separate runs would (up to the scale
of the gradients: a loss averaged over all S * B rows gives copy s 1/S of its own gradient, which
Adam's update does not see apart from its eps).

Each copy has the layout of the PyTorch layer it stands for (``nn.Linear`` weight [out, in],
``nn.BatchNorm1d`` per-feature vectors), so :func:`seed_state_dict` slices copy s into a state dict
that loads into the same network built with one seed (plain ``nn`` layers).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

Tensor = torch.Tensor


class SeedLinear(nn.Module):
    """S linear layers: weight [S, out, in], bias [S, out] (or no bias)."""

    def __init__(self, seeds: int, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        self.seeds, self.in_features, self.out_features = seeds, in_features, out_features
        self.weight = nn.Parameter(torch.empty(seeds, out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(seeds, out_features)) if bias else None
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x: Tensor) -> Tensor:
        x = x.reshape(self.seeds, -1, self.in_features)
        w = self.weight.transpose(1, 2)
        y = torch.bmm(x, w) if self.bias is None else torch.baddbmm(self.bias.unsqueeze(1), x, w)
        return y.reshape(-1, self.out_features)

    def extra_repr(self) -> str:
        return (
            f"seeds={self.seeds}, in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class SeedBatchNorm1d(nn.Module):
    """S batch norms over features: each block of rows is normalised with its own statistics."""

    def __init__(self, seeds: int, num_features: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.seeds, self.num_features, self.momentum, self.eps = seeds, num_features, momentum, eps
        self.weight = nn.Parameter(torch.ones(seeds, num_features))
        self.bias = nn.Parameter(torch.zeros(seeds, num_features))
        self.register_buffer("running_mean", torch.zeros(seeds, num_features))
        self.register_buffer("running_var", torch.ones(seeds, num_features))
        self.register_buffer("num_batches_tracked", torch.tensor(0, dtype=torch.long))  # as nn.BatchNorm1d keeps

    def forward(self, x: Tensor) -> Tensor:
        s, f = self.seeds, self.num_features
        if self.training:
            self.num_batches_tracked.add_(1)
        # one channel per (seed, feature): [B, S * F], so F.batch_norm gives each block its own statistics
        wide = x.reshape(s, -1, f).transpose(0, 1).reshape(-1, s * f)
        out = F.batch_norm(
            wide,
            self.running_mean.view(-1),
            self.running_var.view(-1),
            self.weight.reshape(-1),
            self.bias.reshape(-1),
            self.training,
            self.momentum,
            self.eps,
        )
        return out.reshape(-1, s, f).transpose(0, 1).reshape(-1, f)

    def extra_repr(self) -> str:
        return f"seeds={self.seeds}, num_features={self.num_features}, momentum={self.momentum}"


def linear(seeds: int, in_features: int, out_features: int, bias: bool = True) -> nn.Module:
    """``nn.Linear`` for one seed, :class:`SeedLinear` for several."""
    return (
        nn.Linear(in_features, out_features, bias) if seeds == 1 else SeedLinear(seeds, in_features, out_features, bias)
    )


def batch_norm(seeds: int, num_features: int, momentum: float = 0.1) -> nn.Module:
    """``nn.BatchNorm1d`` for one seed, :class:`SeedBatchNorm1d` for several."""
    return (
        nn.BatchNorm1d(num_features, momentum=momentum)
        if seeds == 1
        else SeedBatchNorm1d(seeds, num_features, momentum)
    )


def _per_seed(module: nn.Module) -> bool:
    return isinstance(module, (SeedLinear, SeedBatchNorm1d))


def seed_state_dict(network: nn.Module, seed_index: int) -> dict[str, Tensor]:
    """Copy ``seed_index`` of a network built with S seeds, as the state dict of the one-seed network."""
    owners = {name: m for name, m in network.named_modules() if _per_seed(m)}
    state = {}
    for key, value in network.state_dict().items():
        owner = key.rpartition(".")[0]
        state[key] = value[seed_index].clone() if owner in owners and value.ndim else value.clone()
    return state


def init_normal_per_seed(network: nn.Module, seeds: list[int], std: float = 0.02) -> None:
    """Weights ~ N(0, std^2), biases 0, batch-norm scales 1: copy s drawn from ``torch.Generator(seeds[s])``.

    Parameters are visited in ``named_parameters`` order and each copy draws its [out, in] matrices in
    turn, so copy s of an S-seed network equals the one-seed network initialised with ``[seeds[s]]``.
    """
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    with torch.no_grad():
        for name, module in network.named_modules():
            if not isinstance(module, (nn.Linear, SeedLinear)):
                continue
            weight = module.weight.view(len(seeds), *module.weight.shape[-2:])
            for copy, gen in zip(weight, gens):
                copy.copy_(torch.randn(copy.shape, generator=gen) * std)
            if module.bias is not None:
                module.bias.zero_()


__all__ = ["SeedBatchNorm1d", "SeedLinear", "batch_norm", "init_normal_per_seed", "linear", "seed_state_dict"]
