"""The Unrolled GAN authors' demo networks for 2-D points (Metz, Poole, Pfau & Sohl-Dickstein; the
notebook of poolio/unrolled_gan), registered as ``tanh-mlp``:

* G: z -> ``num_layers`` x ``hidden_dim`` (2 x 128) tanh -> the point, linear;
* D: x -> 2 x 128 tanh -> one logit;
* every weight matrix orthogonal with gain ``init_gain`` (1.4), biases 0, as the notebook's
  ``slim.fully_connected`` layers under ``tf.orthogonal_initializer(gain=1.4)``.

No normalisation layers: the unroll differentiates through D's updates and nothing else moves.
"""

from __future__ import annotations

import torch
from torch import nn

from ..nn import ProjectionHead
from ..registry import ARCHS
from .pacgan_mlp import _points_only
from .spec import ArchSpec

GAIN = 1.4


def _tanh_stack(width: int, hidden_dim: int, num_layers: int) -> list[nn.Module]:
    layers = []
    for _ in range(num_layers):
        layers += [nn.Linear(width, hidden_dim), nn.Tanh()]
        width = hidden_dim
    return layers


def _orthogonal(module: nn.Module, gain: float) -> None:
    for layer in module.modules():
        if isinstance(layer, nn.Linear):
            nn.init.orthogonal_(layer.weight, gain=gain)
            nn.init.zeros_(layer.bias)


class TanhMLPGenerator(nn.Module):
    def __init__(
        self,
        latent_dim: int,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        hidden_dim: int = 128,
        num_layers: int = 2,
        init_gain: float = GAIN,
    ):
        super().__init__()
        _points_only(channels, image_size, num_classes)
        self.net = nn.Sequential(*_tanh_stack(latent_dim, hidden_dim, num_layers), nn.Linear(hidden_dim, channels))
        _orthogonal(self, init_gain)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z)


class TanhMLPDiscriminator(nn.Module):
    def __init__(
        self,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        hidden_dim: int = 128,
        num_layers: int = 2,
        init_gain: float = GAIN,
    ):
        super().__init__()
        _points_only(channels, image_size, num_classes)
        self.body = nn.Sequential(*_tanh_stack(channels, hidden_dim, num_layers))
        self.head = ProjectionHead(hidden_dim)
        _orthogonal(self, init_gain)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.body(x), labels)


ARCHS.register("tanh-mlp", ArchSpec(TanhMLPGenerator, TanhMLPDiscriminator))
