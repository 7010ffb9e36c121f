"""DCGAN (Radford et al., 2015): strided (transposed) convolutions, batch norm, ReLU in G, LeakyReLU in D."""
from __future__ import annotations

import torch
from torch import nn

from ..nn import OneHotConcat, ProjectionHead
from ..registry import ARCHS


def base_resolution(image_size: int) -> tuple[int, int]:
    """Halve the image size while it stays even and above 7: returns (start size, number of doublings)."""
    size, doublings = image_size, 0
    while size > 7 and size % 2 == 0:
        size, doublings = size // 2, doublings + 1
    if doublings == 0:
        raise ValueError(f"dcgan needs an even image size above 7, got {image_size}")
    return size, doublings


def init_dcgan_weights(module: nn.Module) -> None:
    """N(0, 0.02) for convolutions and linear layers, N(1, 0.02) for batch-norm scales, as in the paper."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class DCGANGenerator(nn.Module):
    def __init__(self, latent_dim: int, channels: int, image_size: int, num_classes: int = 0, base_channels: int = 64):
        super().__init__()
        self.start, doublings = base_resolution(image_size)
        width = base_channels * 2 ** (doublings - 1)
        self.start_channels = width
        self.condition = OneHotConcat(num_classes)
        self.project = nn.Sequential(
            nn.Linear(latent_dim + num_classes, width * self.start**2, bias=False),
            nn.Unflatten(1, (width, self.start, self.start)),
            nn.BatchNorm2d(width),
            nn.ReLU(True),
        )
        blocks = []
        for _ in range(doublings - 1):
            blocks += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width // 2), nn.ReLU(True)]
            width //= 2
        blocks += [nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh()]
        self.upsample = nn.Sequential(*blocks)
        init_dcgan_weights(self)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.upsample(self.project(self.condition(z, labels)))


class DCGANDiscriminator(nn.Module):
    def __init__(self, channels: int, image_size: int, num_classes: int = 0, base_channels: int = 64):
        super().__init__()
        start, doublings = base_resolution(image_size)
        layers, width = [nn.Conv2d(channels, base_channels, 4, 2, 1), nn.LeakyReLU(0.2, True)], base_channels
        for _ in range(doublings - 1):
            layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width * 2), nn.LeakyReLU(0.2, True)]
            width *= 2
        layers.append(nn.Flatten())
        self.body = nn.Sequential(*layers)
        self.head = ProjectionHead(width * start * start, num_classes)
        init_dcgan_weights(self)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.body(x), labels)


from . import ArchSpec  # noqa: E402

ARCHS.register("dcgan", ArchSpec(DCGANGenerator, DCGANDiscriminator))
