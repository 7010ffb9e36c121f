"""Class conditioning: one-hot concatenation for generators, a projection head for discriminators."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class OneHotConcat(nn.Module):
    """Appends the one-hot class code to a latent vector (identity when unconditional)."""

    def __init__(self, num_classes: int):
        super().__init__()
        self.num_classes = num_classes

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        if not self.num_classes:
            return z
        if labels is None:
            raise ValueError("this network is class-conditional: pass labels")
        # Float labels [N, K] are soft class codes (used to interpolate between classes).
        code = labels.to(z.dtype) if labels.is_floating_point() else F.one_hot(labels, self.num_classes).to(z.dtype)
        return torch.cat([z, code], dim=1)

    @property
    def extra_dim(self) -> int:
        return self.num_classes


class ProjectionHead(nn.Module):
    """Logit from features h: w.h + b, plus <embed(y), h> when conditional (Miyato & Koyama, 2018)."""

    def __init__(self, in_features: int, num_classes: int = 0):
        super().__init__()
        self.linear = nn.Linear(in_features, 1)
        self.embed = nn.Embedding(num_classes, in_features) if num_classes else None
        if self.embed is not None:
            nn.init.normal_(self.embed.weight, std=0.02)

    def forward(self, h: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        logit = self.linear(h).squeeze(1)
        if self.embed is not None:
            if labels is None:
                raise ValueError("this discriminator is class-conditional: pass labels")
            logit = logit + (self.embed(labels) * h).sum(dim=1)
        return logit
