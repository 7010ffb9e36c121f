"""The semi-supervised GAN's MNIST networks (Salimans et al., 2016, arXiv:1606.03498, sec. 5 and the
networks of its MNIST experiment), for any image size:

* G: z -> 500 -> 500 -> C*H*W, fully connected, batch norm and softplus on the hidden layers, weight
  normalisation and a sigmoid on the output. The sigmoid's [0, 1] is mapped to the project's image
  range [-1, 1] as 2 sigmoid(a) - 1.
  Three details differ from the authors' G: its batch norm trains a scale (theirs has none), the
  output layer's trained scale starts at the norm of torch's default initialisation (theirs at 1, on
  Glorot-uniform directions), and the latent is N(0, 1) where theirs is uniform on [0, 1) (each unit
  after the first linear layer and batch norm sums 100 of them, so G's later layers see much the same).
* D: C*H*W -> 1000 -> 500 -> 250 -> 250 -> 250 -> K, fully connected with weight normalisation,
  ReLU, and Gaussian noise added to every layer's input while training (std 0.3 on the image, 0.5 on
  the hidden layers). As in the authors' code, directions start from N(0, 0.1), the data-dependent
  initialisation sets every layer's scale and bias, and only the output layer trains its scale
  (``torch.nn.utils.parametrizations.weight_norm``); the hidden layers' scales stay fixed
  (:class:`FixedScaleNorm`), so the noise keeps its weight relative to the activations. Its output is the K class
  logits l_1..l_K of the K+1 classifier whose fake class has the fixed logit 0
  (gan_hub/variants/semi_supervised.py). ``body`` ends at the last hidden layer's activations: the
  features that feature matching compares; ``head`` is the last noise layer and the K-way linear map.

K comes from ``d_classes`` (the dataset's class names, recorded by the trainer in ``arch_kwargs``).
``hidden_dim`` makes every hidden layer of both networks that wide (small networks for tests).
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import weight_norm

from ..nn import OneHotConcat
from ..nn.noise import GaussianNoise
from ..registry import ARCHS
from .mlp import data_shape

G_HIDDEN = (500, 500)
D_HIDDEN = (1000, 500, 250, 250, 250)


def _widths(default: Sequence[int], hidden_dim: int | None) -> list[int]:
    return [hidden_dim] * len(default) if hidden_dim else list(default)


def _image_shape(channels: int, image_size: int) -> tuple[int, ...]:
    if not image_size:
        raise ValueError("the semi-supervised networks are for images (sigmoid output), not vector data")
    return data_shape(channels, image_size)


class SemiSupervisedGenerator(nn.Module):
    def __init__(
        self,
        latent_dim: int,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        g_hidden: Sequence[int] = G_HIDDEN,
        hidden_dim: int | None = None,
        d_hidden: Sequence[int] = D_HIDDEN,
        d_classes=None,
        input_noise: float = 0.3,
        hidden_noise: float = 0.5,
    ):  # d_*, *_noise shape only the discriminator
        super().__init__()
        self.out_shape = _image_shape(channels, image_size)
        self.condition = OneHotConcat(num_classes)
        layers, width = [], latent_dim + num_classes
        for hidden in _widths(g_hidden, hidden_dim):
            layers += [nn.Linear(width, hidden), nn.BatchNorm1d(hidden), nn.Softplus()]
            width = hidden
        layers += [weight_norm(nn.Linear(width, math.prod(self.out_shape))), nn.Sigmoid()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(self.condition(z, labels)).mul(2).sub(1).view(len(z), *self.out_shape)


def num_discriminator_classes(d_classes) -> int:
    """K from ``d_classes``: the class names (a list) or their number."""
    count = len(d_classes) if isinstance(d_classes, (list, tuple)) else d_classes
    if isinstance(count, bool) or not isinstance(count, int) or count < 2:
        raise ValueError(
            f"the K+1 discriminator needs the dataset's classes (d_classes: at least 2 class names), "
            f"got {d_classes!r}; train it on a labelled dataset"
        )
    return count


class UnitInterval(nn.Module):
    """[-1, 1] -> [0, 1]: the paper's D reads pixels in [0, 1], the scale its noise std 0.3 refers to."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.add(1).mul(0.5)


class FixedScaleNorm(nn.Module):
    """Weight normalisation whose scale is not trained: W = s * V / ||V|| row by row, with s a buffer (set
    by the data-dependent initialisation). The authors' hidden layers keep their scale fixed this way, so
    the network cannot grow its activations to drown the training noise."""

    def __init__(self, rows: int):
        super().__init__()
        self.register_buffer("scale", torch.ones(rows, 1))

    def forward(self, direction: torch.Tensor) -> torch.Tensor:
        return direction * (self.scale / direction.norm(dim=1, keepdim=True))  # one pass over the matrix


def normalised_linear(width: int, out: int, trained_scale: bool) -> nn.Linear:
    """A linear layer with directions drawn from N(0, 0.1) (the authors' initialisation: with weight
    normalisation the size of V sets how fast Adam turns it) and a fixed or a trained scale."""
    layer = nn.Linear(width, out)
    nn.init.normal_(layer.weight, 0.0, 0.1)
    if trained_scale:
        return weight_norm(layer)
    parametrize.register_parametrization(layer, "weight", FixedScaleNorm(out))
    return layer


def _scale(layer: nn.Linear) -> torch.Tensor:
    weight = layer.parametrizations.weight
    return weight.original0 if hasattr(weight, "original0") else weight[0].scale


class SemiSupervisedDiscriminator(nn.Module):
    """x -> K class logits [N, K] (the fake class's logit is the constant 0 and is not computed)."""

    def __init__(
        self,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        d_classes=None,
        d_hidden: Sequence[int] = D_HIDDEN,
        hidden_dim: int | None = None,
        input_noise: float = 0.3,
        hidden_noise: float = 0.5,
        g_hidden: Sequence[int] = G_HIDDEN,
    ):  # g_hidden shapes only G
        super().__init__()
        if num_classes:
            raise ValueError("the K+1 discriminator predicts the class itself: it takes no class-conditional input")
        self.num_classes = num_discriminator_classes(d_classes)
        layers, width = [nn.Flatten(), UnitInterval()], math.prod(_image_shape(channels, image_size))
        noise = input_noise
        for hidden in _widths(d_hidden, hidden_dim):
            layers += [GaussianNoise(noise), normalised_linear(width, hidden, trained_scale=False), nn.ReLU()]
            width, noise = hidden, hidden_noise
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(GaussianNoise(noise), normalised_linear(width, self.num_classes, trained_scale=True))

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.body(x))

    @torch.no_grad()
    def data_dependent_init(self, x: torch.Tensor, eps: float = 1e-6) -> None:
        """Weight normalisation's data-dependent initialisation (Salimans & Kingma, 2016, sec. 3), as the
        paper's MNIST code does on 500 training images: layer by layer on the batch ``x``, each linear
        layer's scale s and bias b are set so that its outputs have mean 0 and standard deviation 1 over
        the batch (s = 1 / std, b = -mean / std of the unit-norm-row pre-activations). As in the authors'
        code the training noise is on while it measures."""
        h = x
        for layer in [*self.body, *self.head]:
            if isinstance(layer, nn.Linear):
                scale = _scale(layer)
                scale.fill_(1.0)
                layer.bias.zero_()
                t = layer(h)
                mean, std = t.mean(0), t.std(0) + eps
                scale.copy_((1.0 / std).reshape(scale.shape))
                layer.bias.copy_(-mean / std)
            h = layer(h)


from .spec import ArchSpec  # noqa: E402

ARCHS.register("semi-supervised-mlp", ArchSpec(SemiSupervisedGenerator, SemiSupervisedDiscriminator))
