"""Fully connected generator and discriminator (the original GAN's networks).

With ``image_size=0`` they work on vectors of ``channels`` numbers (the 2-D toy mixtures): the
generator's output is then linear (no tanh), since such data is not scaled to [-1, 1]."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..nn import OneHotConcat, ProjectionHead
from ..registry import ARCHS


def data_shape(channels: int, image_size: int) -> tuple[int, ...]:
    return (channels, image_size, image_size) if image_size else (channels,)


class MLPGenerator(nn.Module):
    def __init__(
        self,
        latent_dim: int,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        hidden_dim: int = 512,
        num_layers: int = 2,
    ):
        super().__init__()
        self.out_shape = data_shape(channels, image_size)
        self.condition = OneHotConcat(num_classes)
        layers, width = [], latent_dim + num_classes
        for _ in range(num_layers):
            layers += [nn.Linear(width, hidden_dim), nn.BatchNorm1d(hidden_dim), nn.ReLU(True)]
            width = hidden_dim
        layers += [nn.Linear(width, math.prod(self.out_shape))] + ([nn.Tanh()] if image_size else [])
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(self.condition(z, labels)).view(len(z), *self.out_shape)


class MLPDiscriminator(nn.Module):
    def __init__(
        self, channels: int, image_size: int, num_classes: int = 0, hidden_dim: int = 512, num_layers: int = 2
    ):
        super().__init__()
        layers, width = [nn.Flatten()], math.prod(data_shape(channels, image_size))
        for _ in range(num_layers):
            layers += [nn.Linear(width, hidden_dim), nn.LeakyReLU(0.2, True)]
            width = hidden_dim
        self.body = nn.Sequential(*layers)
        self.head = ProjectionHead(width, num_classes)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.body(x), labels)


from .spec import ArchSpec  # noqa: E402

ARCHS.register("mlp", ArchSpec(MLPGenerator, MLPDiscriminator))
