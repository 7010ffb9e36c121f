from ..registry import VARIANTS
from .base import VariantSpec

VARIANTS.register(
    "gan",
    VariantSpec(
        name="gan",
        summary="original GAN: MLP generator and discriminator; minimax, non-saturating or maximum-likelihood G loss",
        paper="Goodfellow et al., Generative Adversarial Nets, 2014 (arXiv:1406.2661)",
        arch="mlp",
        objective="non-saturating",
        arch_kwargs={"hidden_dim": 512, "num_layers": 2},
    ),
)
