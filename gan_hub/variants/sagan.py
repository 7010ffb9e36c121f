"""SAGAN (Zhang et al., 2018): self-attention in both networks, hinge loss, spectral norm, TTUR."""

from ..registry import VARIANTS
from .base import VariantSpec

VARIANTS.register(
    "sagan",
    VariantSpec(
        name="sagan",
        arch="sagan",
        arch_kwargs={"base_channels": 64, "d_norm": "none"},
        objective="hinge",
        techniques={"spectral_norm": True},
        lr_g=1e-4,
        lr_d=4e-4,
        betas=(0.0, 0.9),
        n_critic=1,
        summary="self-attention GAN: one attention block in G and D, hinge loss, spectral norm in D, "
        "TTUR (Adam lr G 1e-4 / D 4e-4, betas (0, 0.9))",
        paper="Zhang, Goodfellow, Metaxas & Odena, Self-Attention Generative Adversarial Networks, 2018 "
        "(arXiv:1805.08318)",
    ),
)
