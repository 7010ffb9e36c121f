from ..registry import VARIANTS
from .base import VariantSpec

VARIANTS.register(
    "dcgan",
    VariantSpec(
        name="dcgan",
        summary="deep convolutional GAN: strided convolutions, batch norm, Adam 2e-4 / beta1 0.5",
        paper="Radford et al., Unsupervised Representation Learning with DCGANs, 2015 (arXiv:1511.06434)",
        arch="dcgan",
        objective="non-saturating",
        arch_kwargs={"base_channels": 64},
    ),
)
