"""Minibatch discrimination (Salimans et al., 2016, "Improved Techniques for Training GANs", sec. 3.2).

The features f(x_i) in R^A of every example are multiplied by a learned tensor T in R^{A x B x C},
giving B rows M_{i,b} in R^C. Examples are compared row by row,

    c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_1),     o(x_i)_b = sum_{j != i} c_b(x_i, x_j),

and the discriminator's head sees [f(x_i), o(x_i)] (A + B features). The sum leaves out j = i (whose
term is always exp(0) = 1), so o(x_i)_b = 0 for an example unlike all others and n - 1 for a batch
of n identical examples: a collapsed generator batch is easy to tell apart from a real one.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .conditioning import ProjectionHead


class MinibatchDiscrimination(nn.Module):
    """[N, A] features -> [N, A + B]: the features followed by each example's closeness to the others."""

    def __init__(self, in_features: int, num_kernels: int = 100, kernel_dim: int = 5):
        super().__init__()
        for name, value in (("in_features", in_features), ("num_kernels", num_kernels), ("kernel_dim", kernel_dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"minibatch discrimination: {name} must be a positive integer, got {value!r}")
        self.in_features, self.num_kernels, self.kernel_dim = in_features, num_kernels, kernel_dim
        # Scaled so that the rows M_{i,b} have entries of the features' own size whatever A is; with an
        # unscaled init, wide bodies (thousands of features) put every pair at a huge L1 distance and
        # o(x) would start at 0 for every batch, collapsed or not.
        self.T = nn.Parameter(torch.randn(in_features, num_kernels, kernel_dim) / math.sqrt(in_features))

    @property
    def out_features(self) -> int:
        return self.in_features + self.num_kernels

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        h = features.flatten(1)
        n = len(h)
        rows = (h @ self.T.flatten(1).to(h.dtype)).float().view(n, self.num_kernels, self.kernel_dim)  # M: [N, B, C]
        per_kernel = rows.transpose(0, 1)  # [B, N, C]
        # cdist never builds the [N, N, B, C] difference tensor: 5-6x faster than broadcasting at N = 256.
        distance = torch.cdist(per_kernel, per_kernel, p=1)  # ||M_i,b - M_j,b||_1: [B, N, N]
        # The self-pair's distance is exactly 0, so dropping j = i means subtracting exp(0) = 1.
        closeness = (torch.exp(-distance).sum(2) - 1.0).transpose(0, 1)  # o(x_i)_b, j != i: [N, B]
        return torch.cat([h, closeness.to(h.dtype)], dim=1)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, num_kernels={self.num_kernels}, kernel_dim={self.kernel_dim}"


class MinibatchDiscriminationHead(nn.Module):
    """A discriminator head behind a minibatch-discrimination layer: head([f(x), o(x)], labels)."""

    def __init__(self, in_features: int, num_classes: int = 0, num_kernels: int = 100, kernel_dim: int = 5):
        super().__init__()
        self.minibatch = MinibatchDiscrimination(in_features, num_kernels, kernel_dim)
        self.head = ProjectionHead(self.minibatch.out_features, num_classes)

    def forward(self, features: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.minibatch(features), labels)


def add_minibatch_discrimination(discriminator: nn.Module, num_kernels: int = 100, kernel_dim: int = 5) -> nn.Module:
    """Put a minibatch-discrimination layer between ``discriminator.body`` and its head (in place).

    The discriminator must compute ``head(body(x), labels)`` with a :class:`ProjectionHead`; the head
    is replaced by a fresh one of width A + B (same number of classes) behind the new layer, and the
    body is kept as it is, so feature matching still reads the body's features. Returns the
    discriminator.
    """
    head = getattr(discriminator, "head", None)
    if not hasattr(discriminator, "body") or not isinstance(head, ProjectionHead):
        raise ValueError(
            f"minibatch discrimination needs a discriminator with .body and a ProjectionHead .head; "
            f"{type(discriminator).__name__} has head {type(head).__name__}"
        )
    num_classes = head.embed.num_embeddings if head.embed is not None else 0
    new_head = MinibatchDiscriminationHead(head.linear.in_features, num_classes, num_kernels, kernel_dim)
    discriminator.head = new_head.to(head.linear.weight.device)
    return discriminator


__all__ = ["MinibatchDiscrimination", "MinibatchDiscriminationHead", "add_minibatch_discrimination"]
