"""Additive Gaussian noise on a layer's input, in training mode only (the semi-supervised GAN's D)."""

from __future__ import annotations

import torch
from torch import nn


class GaussianNoise(nn.Module):
    """x + std * N(0, 1) while training; the identity in eval mode (so a trained classifier is deterministic)."""

    def __init__(self, std: float):
        super().__init__()
        if not std >= 0:
            raise ValueError(f"noise std must be non-negative, got {std!r}")
        self.std = float(std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.std == 0:
            return x
        return x + self.std * torch.randn_like(x)

    def extra_repr(self) -> str:
        return f"std={self.std}"
