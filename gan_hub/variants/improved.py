"""Improved GAN (Salimans et al., 2016): the DCGAN networks with all five stabilising techniques on."""

from ..registry import VARIANTS
from .base import VariantSpec

VARIANTS.register(
    "improved-gan",
    VariantSpec(
        name="improved-gan",
        arch="dcgan",
        arch_kwargs={"base_channels": 64},
        objective="non-saturating",
        techniques={
            "feature_matching": True,
            "minibatch_discrimination": True,
            "historical_averaging": True,
            "label_smoothing": 0.9,
            "virtual_batch_norm": True,
        },
        lr_g=3e-4,
        lr_d=3e-4,
        summary="feature matching, minibatch discrimination, historical averaging, one-sided label smoothing, virtual "
        "batch norm",
        paper="Salimans et al., Improved Techniques for Training GANs, 2016 (arXiv:1606.03498)",
    ),
)
