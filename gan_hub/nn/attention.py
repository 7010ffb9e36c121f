"""Self-attention over the positions of a feature map (Zhang, Goodfellow, Metaxas & Odena, 2018,
"Self-Attention Generative Adversarial Networks", arXiv:1805.08318, sec. 3).

For a feature map x with C channels and N = H * W positions, three 1x1 convolutions give

    f(x) (keys, C/8 channels),  g(x) (queries, C/8 channels),  h(x) (values, C/2 channels),

position j attends to every position i with weights beta[j, i] = softmax_i( g(x_j) . f(x_i) ),
o_j = v( sum_i beta[j, i] h(x_i) ) with a 1x1 output convolution v back to C channels, and the block
returns y = gamma * o + x. The scalar gamma is learned and starts at 0, so the block is the identity
at initialisation and the network learns how much non-local evidence to mix in (the paper's point:
rely on local cues first, then gradually on distant ones).

Unlike a convolution, whose output at a position sees only a fixed neighbourhood, every output
position here depends on every input position, so distant parts of an image can be made consistent
in one layer. The cost is an N x N attention matrix per image, which is why the block goes at a
moderate resolution. The max-pooling of keys and values used in the authors' later code is left out.
"""

from __future__ import annotations

import torch
from torch import nn


class SelfAttention2d(nn.Module):
    """SAGAN self-attention block: ``forward(x) = gamma * o(x) + x`` for x of shape [B, C, H, W].

    ``key_channels`` (for f and g) defaults to C/8 and ``value_channels`` (for h) to C/2, both at least 1.
    ``attention(x)`` returns the weights [B, N, N]: row j is the distribution of query position j over
    the N = H * W key positions (positions in row-major order), so every row sums to 1.
    """

    def __init__(self, channels: int, key_channels: int | None = None, value_channels: int | None = None):
        super().__init__()
        key_channels = key_channels or max(1, channels // 8)
        value_channels = value_channels or max(1, channels // 2)
        self.f = nn.Conv2d(channels, key_channels, 1)  # keys
        self.g = nn.Conv2d(channels, key_channels, 1)  # queries
        self.h = nn.Conv2d(channels, value_channels, 1)  # values
        self.v = nn.Conv2d(value_channels, channels, 1)  # output projection
        self.gamma = nn.Parameter(torch.zeros(1))

    def attention(self, x: torch.Tensor) -> torch.Tensor:
        keys = self.f(x).flatten(2)  # [B, C', N]
        queries = self.g(x).flatten(2)  # [B, C', N]
        scores = queries.transpose(1, 2) @ keys  # [B, N (query j), N (key i)]
        return torch.softmax(scores, dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        beta = self.attention(x)
        values = self.h(x).flatten(2)  # [B, C_v, N]
        attended = (values @ beta.transpose(1, 2)).unflatten(2, x.shape[2:])  # o_j before v: sum_i beta[j,i] h_i
        return self.gamma * self.v(attended) + x

    def extra_repr(self) -> str:
        return (
            f"channels={self.v.out_channels}, key_channels={self.f.out_channels}, value_channels={self.h.out_channels}"
        )


__all__ = ["SelfAttention2d"]
