"""SAGAN-style networks (Zhang et al., 2018, arXiv:1805.08318): the DCGAN generator and discriminator
with one self-attention block (gan_hub/nn/attention.py) in each.

``attention_resolution`` is the side of the feature map that gets the block, the same in G (after
the ReLU of the layer that produces that size) and in D (after the LeakyReLU of the layer that
produces it). It may be any intermediate size of the DCGAN networks: the start size and its doublings
below the output, e.g. 7 or 14 for 28x28 images, 4, 8 or 16 for 32x32. The default is the largest of
them that is at most 32: 14 for 28x28, 8 for 16x16, 16 for 32x32, 32 for 64x64 and 128x128. The
largest map gives attention the most positions to relate (the paper found the bigger feature maps,
32x32 and 64x64 for 128x128 images, better than 8x8 and 16x16), and the cap keeps the N x N attention
matrix affordable (N = 1,024 positions at 32x32, 16,384 at 128x128).

The discriminator has no batch norm by default (``d_norm="none"``): SAGAN's discriminator relies on
spectral normalisation instead, which the variant switches on for every layer, the attention
block's 1x1 convolutions included. Everything else, conditioning included (one-hot concatenation in
G, a projection head in D), is the DCGAN architecture's; keyword arguments that shape only the other
network (``g_hidden`` for D, ``d_hidden``/``d_norm`` for G) are accepted and ignored, as in dcgan.
"""

from __future__ import annotations

from torch import nn

from ..nn.attention import SelfAttention2d
from ..registry import ARCHS
from .dcgan import DCGANDiscriminator, DCGANGenerator, base_resolution, init_dcgan_weights

MAX_DEFAULT_RESOLUTION = 32


def attention_resolutions(image_size: int) -> list[int]:
    """The intermediate feature-map sizes of the DCGAN networks for this image size, smallest first."""
    start, doublings = base_resolution(image_size)
    return [start * 2**k for k in range(doublings)]


def resolve_attention_resolution(image_size: int, attention_resolution: int | None) -> int:
    choices = attention_resolutions(image_size)
    if attention_resolution is None:
        return max((r for r in choices if r <= MAX_DEFAULT_RESOLUTION), default=choices[0])
    if attention_resolution not in choices:
        raise ValueError(
            f"attention_resolution must be one of the feature-map sizes {choices} for "
            f"{image_size}x{image_size} images, got {attention_resolution}"
        )
    return attention_resolution


def _with_attention(
    layers: nn.Sequential, size: int, channels: int, target: int, scale: float, activation: type[nn.Module]
) -> nn.Sequential:
    """``layers`` with a self-attention block after the first ``activation`` at feature-map size ``target``.

    ``size``/``channels`` describe the input of ``layers``; each (transposed) convolution multiplies the
    size by ``scale`` and sets the channel count. A target equal to the input size puts the block first.
    """
    modules = list(layers)
    if size == target:
        index = 0
    else:
        index = None
        for i, m in enumerate(modules):
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                size, channels = int(size * scale), m.out_channels
            elif isinstance(m, activation) and size == target:
                index = i + 1
                break
        if index is None:
            raise ValueError(
                f"no feature map of size {target} in {type(layers).__name__}"
            )  # unreachable for valid targets
    block = SelfAttention2d(channels)
    init_dcgan_weights(block)  # N(0, 0.02) like every other layer; gamma stays 0
    return nn.Sequential(*modules[:index], block, *modules[index:])


def _attention_block(module: nn.Module) -> SelfAttention2d:
    return next(m for m in module.modules() if isinstance(m, SelfAttention2d))


class SAGANGenerator(DCGANGenerator):
    def __init__(
        self,
        latent_dim: int,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        base_channels: int = 64,
        g_hidden: int = 0,
        attention_resolution: int | None = None,
        d_hidden: int = 0,
        d_norm: str = "none",
    ):  # d_* shape only the discriminator
        super().__init__(latent_dim, channels, image_size, num_classes, base_channels, g_hidden=g_hidden)
        self.attention_resolution = resolve_attention_resolution(image_size, attention_resolution)
        self.upsample = _with_attention(
            self.upsample, self.start, self.start_channels, self.attention_resolution, scale=2, activation=nn.ReLU
        )

    @property
    def attention(self) -> SelfAttention2d:
        return _attention_block(self)


class SAGANDiscriminator(DCGANDiscriminator):
    def __init__(
        self,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        base_channels: int = 64,
        d_norm: str = "none",
        d_hidden: int = 0,
        attention_resolution: int | None = None,
        g_hidden: int = 0,
    ):  # g_hidden shapes only the generator
        super().__init__(channels, image_size, num_classes, base_channels, d_norm=d_norm, d_hidden=d_hidden)
        self.attention_resolution = resolve_attention_resolution(image_size, attention_resolution)
        self.body = _with_attention(
            self.body, image_size, channels, self.attention_resolution, scale=0.5, activation=nn.LeakyReLU
        )

    @property
    def attention(self) -> SelfAttention2d:
        return _attention_block(self)


from .spec import ArchSpec  # noqa: E402

ARCHS.register("sagan", ArchSpec(SAGANGenerator, SAGANDiscriminator))
