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
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


class DCGANGenerator(nn.Module):
    """``g_hidden > 0`` puts a fully connected layer of that width before the projection to the first
    feature map, as in InfoGAN's MNIST generator: room to split the latent space between modes."""

    def __init__(
        self,
        latent_dim: int,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        base_channels: int = 64,
        g_hidden: int = 0,
        d_hidden: int = 0,
        d_norm: str = "batch",
    ):  # d_* shape only the discriminator
        super().__init__()
        self.start, doublings = base_resolution(image_size)
        width = base_channels * 2 ** (doublings - 1)
        self.start_channels = width
        self.condition = OneHotConcat(num_classes)
        hidden = (
            [nn.Linear(latent_dim + num_classes, g_hidden, bias=False), nn.BatchNorm1d(g_hidden), nn.ReLU(True)]
            if g_hidden
            else []
        )
        self.project = nn.Sequential(
            *hidden,
            nn.Linear(g_hidden or latent_dim + num_classes, width * self.start**2, bias=False),
            nn.Unflatten(1, (width, self.start, self.start)),
            nn.BatchNorm2d(width),
            nn.ReLU(True),
        )
        blocks = []
        for _ in range(doublings - 1):
            blocks += [
                nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(width // 2),
                nn.ReLU(True),
            ]
            width //= 2
        blocks += [nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh()]
        self.upsample = nn.Sequential(*blocks)
        init_dcgan_weights(self)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.upsample(self.project(self.condition(z, labels)))


D_NORMS = ("batch", "none")


class DCGANDiscriminator(nn.Module):
    """``d_norm="batch"`` is the paper's D; ``"none"`` drops batch norm, so D judges each image on its own
    instead of normalising real and fake batches separately."""

    def __init__(
        self,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        base_channels: int = 64,
        d_norm: str = "batch",
        d_hidden: int = 0,
        g_hidden: int = 0,
    ):  # g_hidden shapes only the generator
        super().__init__()
        if d_norm not in D_NORMS:
            raise ValueError(f"d_norm must be one of {D_NORMS}, got {d_norm!r}")
        start, doublings = base_resolution(image_size)
        layers, width = [nn.Conv2d(channels, base_channels, 4, 2, 1), nn.LeakyReLU(0.2, True)], base_channels
        for _ in range(doublings - 1):
            norm = [nn.BatchNorm2d(width * 2)] if d_norm == "batch" else []
            layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=d_norm != "batch"), *norm, nn.LeakyReLU(0.2, True)]
            width *= 2
        layers.append(nn.Flatten())
        features = width * start * start
        if d_hidden:  # InfoGAN's MNIST discriminator: a fully connected layer before the output
            layers += [
                nn.Linear(features, d_hidden, bias=d_norm != "batch"),
                *([nn.BatchNorm1d(d_hidden)] if d_norm == "batch" else []),
                nn.LeakyReLU(0.2, True),
            ]
            features = d_hidden
        self.body = nn.Sequential(*layers)
        self.head = ProjectionHead(features, num_classes)
        init_dcgan_weights(self)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.body(x), labels)


from .spec import ArchSpec  # noqa: E402

ARCHS.register("dcgan", ArchSpec(DCGANGenerator, DCGANDiscriminator))
