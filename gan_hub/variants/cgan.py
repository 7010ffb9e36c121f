from ..registry import VARIANTS
from .base import VariantSpec

VARIANTS.register(
    "cgan",
    VariantSpec(
        name="cgan",
        summary="conditional GAN on the DCGAN architecture: one-hot label into G, projection discriminator",
        paper="Mirza & Osindero, Conditional Generative Adversarial Nets, 2014 (arXiv:1411.1784)",
        arch="dcgan",
        objective="non-saturating",
        conditional=True,
        arch_kwargs={"base_channels": 64},
    ),
)
