"""Progressive growing networks (Karras et al., 2017, arXiv:1710.10196), from 4x4 up to ``image_size``
(a power of two, 8 or more: 32 for the `progan` variant).

Levels: level 0 is 4x4 and level l is 4 * 2^l; the top level L gives ``image_size``. Both networks
hold every level's layers from the start and run those up to their current ``level``:

* G: z (pixel-normalised) -> 4x4 block -> per level l >= 1: nearest upsampling, two 3x3 convolutions
  -> to_rgb[l] (a 1x1 convolution to the image). While level l fades in, the output is
  alpha * to_rgb[l](block_l(h)) + (1 - alpha) * upsample(to_rgb[l-1](h)).
* D mirrors it: from_rgb[l] (1x1) -> per level, two 3x3 convolutions and 2x2 average pooling -> at
  4x4 the minibatch standard-deviation map, a 3x3 and a 4x4 convolution and the logit. While level l
  fades in, the features entering level l-1 are
  alpha * block_l(from_rgb[l](x)) + (1 - alpha) * from_rgb[l-1](avgpool(x)).

Equalized learning rate, pixel norm and leaky ReLU (0.2) as in the paper; G's output is linear, as
in the paper (images are compared in [-1, 1]). ``set_growth(level, alpha)`` chooses the stage; a new
network starts at the top level with alpha 1, so an exported generator samples at ``image_size``.
Widths: ``base_channels`` at the top level, doubling per level down, at most 4 * ``base_channels``.

Layers of the levels above the current one (and the unused to_rgb / from_rgb) enter the output as
0 * weight, so data-parallel training sees a gradient (of zero) for every parameter at every stage.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..nn import OneHotConcat, ProjectionHead
from ..nn.progressive import EqualizedConv2d, EqualizedLinear, MinibatchStdDev, PixelNorm
from ..registry import ARCHS

Tensor = torch.Tensor


def num_levels(image_size: int) -> int:
    """L, the number of doublings from 4x4 to ``image_size``."""
    levels = (image_size // 4).bit_length() - 1
    if image_size < 8 or 4 * 2**levels != image_size:
        raise ValueError(f"progressive growing needs a power-of-two image size of at least 8, got {image_size}")
    return levels


def level_widths(levels: int, base_channels: int) -> list[int]:
    return [min(base_channels * 2 ** (levels - level), 4 * base_channels) for level in range(levels + 1)]


class Growing(nn.Module):
    """The stage (``level``, ``alpha``) shared by both networks, and the zero term for unused layers."""

    levels: int

    def _init_growth(self, levels: int) -> None:
        self.levels, self.level, self.alpha = levels, levels, 1.0

    def set_growth(self, level: int, alpha: float = 1.0) -> None:
        if not 0 <= level <= self.levels:
            raise ValueError(f"level must be in [0, {self.levels}], got {level}")
        if not 0.0 <= alpha <= 1.0 or (level == 0 and alpha != 1.0):
            raise ValueError(f"alpha must be in [0, 1] (and 1 at level 0), got {alpha} at level {level}")
        self.level, self.alpha = int(level), float(alpha)

    @property
    def resolution(self) -> int:
        return 4 * 2**self.level

    def _touch_unused(self, out: Tensor, used: list[nn.Module]) -> Tensor:
        """out + 0 * (one weight of every parameter outside ``used``), while training."""
        if not self.training:
            return out
        used_ids = {id(p) for module in used for p in module.parameters()}
        unused = [p for p in self.parameters() if id(p) not in used_ids and p.requires_grad]
        return out + sum(p.flatten()[0] for p in unused) * 0.0 if unused else out


def _conv_block(in_channels: int, out_channels: int) -> list[nn.Module]:
    return [EqualizedConv2d(in_channels, out_channels, 3), nn.LeakyReLU(0.2)]


class ProGANGenerator(Growing):
    def __init__(self, latent_dim: int, channels: int, image_size: int, num_classes: int = 0, base_channels: int = 64):
        super().__init__()
        self._init_growth(num_levels(image_size))
        widths = level_widths(self.levels, base_channels)
        self.condition = OneHotConcat(num_classes)
        self.input_norm = PixelNorm()
        self.initial = nn.Sequential(
            EqualizedLinear(latent_dim + num_classes, widths[0] * 16, gain=2**0.5 / 4),
            nn.Unflatten(1, (widths[0], 4, 4)),
            nn.LeakyReLU(0.2),
            PixelNorm(),
            *_conv_block(widths[0], widths[0]),
            PixelNorm(),
        )
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.Upsample(scale_factor=2, mode="nearest"),
                *_conv_block(widths[level - 1], widths[level]),
                PixelNorm(),
                *_conv_block(widths[level], widths[level]),
                PixelNorm(),
            )
            for level in range(1, self.levels + 1)
        )
        self.to_rgb = nn.ModuleList(EqualizedConv2d(width, channels, 1, gain=1.0) for width in widths)

    def features(self, z: Tensor, labels: Tensor | None, level: int) -> Tensor:
        """The feature map at ``level`` (before to_rgb)."""
        h = self.initial(self.input_norm(self.condition(z, labels)))
        for block in self.blocks[:level]:
            h = block(h)
        return h

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        level, alpha = self.level, self.alpha
        if level == 0:
            return self._touch_unused(
                self.to_rgb[0](self.features(z, labels, 0)), [self.condition, self.initial, self.to_rgb[0]]
            )
        previous = self.features(z, labels, level - 1)
        out = self.to_rgb[level](self.blocks[level - 1](previous))
        used = [self.condition, self.initial, *self.blocks[:level], self.to_rgb[level]]
        if alpha < 1.0:
            old = F.interpolate(self.to_rgb[level - 1](previous), scale_factor=2, mode="nearest")
            out = alpha * out + (1 - alpha) * old
            used.append(self.to_rgb[level - 1])
        return self._touch_unused(out, used)


class ProGANDiscriminator(Growing):
    def __init__(self, channels: int, image_size: int, num_classes: int = 0, base_channels: int = 64):
        super().__init__()
        self._init_growth(num_levels(image_size))
        widths = level_widths(self.levels, base_channels)
        self.from_rgb = nn.ModuleList(
            nn.Sequential(EqualizedConv2d(channels, width, 1), nn.LeakyReLU(0.2)) for width in widths
        )
        self.blocks = nn.ModuleList(  # blocks[l - 1]: level l -> level l - 1
            nn.Sequential(
                *_conv_block(widths[level], widths[level]),
                *_conv_block(widths[level], widths[level - 1]),
                nn.AvgPool2d(2),
            )
            for level in range(1, self.levels + 1)
        )
        self.body_4x4 = nn.Sequential(
            MinibatchStdDev(),
            *_conv_block(widths[0] + 1, widths[0]),
            EqualizedConv2d(widths[0], widths[0], 4, padding=0),
            nn.LeakyReLU(0.2),
        )
        self.final = nn.Flatten()  # the unpadded 4x4 convolution leaves 1x1
        self.head = ProjectionHead(widths[0], num_classes)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor:
        level, alpha = self.level, self.alpha
        if x.shape[-1] != self.resolution or x.shape[-2] != self.resolution:
            raise ValueError(
                f"the discriminator is at {self.resolution}x{self.resolution} (level {level}); got images "
                f"of {tuple(x.shape[-2:])}: downsample them to the current resolution"
            )
        h = self.from_rgb[level](x)
        used = [self.from_rgb[level], self.body_4x4, self.final, self.head, *self.blocks[:level]]
        if level > 0:
            h = self.blocks[level - 1](h)
            if alpha < 1.0:
                h = alpha * h + (1 - alpha) * self.from_rgb[level - 1](F.avg_pool2d(x, 2))
                used.append(self.from_rgb[level - 1])
            for block in reversed(self.blocks[: level - 1]):
                h = block(h)
        logits = self.head(self.final(self.body_4x4(h)), labels)
        return self._touch_unused(logits, used)


from .spec import ArchSpec  # noqa: E402

ARCHS.register("progan", ArchSpec(ProGANGenerator, ProGANDiscriminator))
