"""Variants that change the game's loss: least squares, Wasserstein (clipped or penalised), hinge with
spectral norm, the f-GAN divergences and the relativistic discriminators. All on the DCGAN networks."""

from ..registry import VARIANTS
from .base import VariantSpec

DCGAN = {"base_channels": 64}
NO_BATCH_NORM_IN_D = {"base_channels": 64, "d_norm": "none"}  # a penalty on D's gradient is per sample


def register(spec: VariantSpec) -> None:
    VARIANTS.register(spec.name, spec)


register(
    VariantSpec(
        name="lsgan",
        arch="dcgan",
        arch_kwargs=DCGAN,
        objective="least-squares",
        summary="least-squares GAN: D regresses real to b=1 and fake to a=0, G pulls fakes to c=1",
        paper="Mao et al., Least Squares Generative Adversarial Networks, 2017 (arXiv:1611.04076)",
    )
)
register(
    VariantSpec(
        name="wgan",
        arch="dcgan",
        arch_kwargs=DCGAN,
        objective="wasserstein",
        techniques={"weight_clipping": {"clip": 0.01}},
        optimizer="rmsprop",
        lr_g=5e-5,
        lr_d=5e-5,
        n_critic=5,
        summary="Wasserstein GAN: critic with weights clipped to [-0.01, 0.01], RMSProp 5e-5, 5 critic steps per G "
        "step",
        paper="Arjovsky, Chintala & Bottou, Wasserstein GAN, 2017 (arXiv:1701.07875)",
    )
)
register(
    VariantSpec(
        name="wgan-gp",
        arch="dcgan",
        arch_kwargs=NO_BATCH_NORM_IN_D,
        objective="wasserstein",
        techniques={"gradient_penalty": {"weight": 10.0}},
        lr_g=1e-4,
        lr_d=1e-4,
        betas=(0.0, 0.9),
        n_critic=5,
        summary="WGAN with gradient penalty (lambda 10) on random interpolates, Adam 1e-4 betas (0, 0.9), 5 critic "
        "steps",
        paper="Gulrajani et al., Improved Training of Wasserstein GANs, 2017 (arXiv:1704.00028)",
    )
)
register(
    VariantSpec(
        name="hinge-sn",
        arch="dcgan",
        arch_kwargs=NO_BATCH_NORM_IN_D,
        objective="hinge",
        techniques={"spectral_norm": True},
        summary="hinge loss with spectral normalization of every discriminator layer",
        paper="Miyato et al., Spectral Normalization for Generative Adversarial Networks, 2018 (arXiv:1802.05957)",
    )
)
for divergence, label in (
    ("kl", "KL"),
    ("reverse-kl", "reverse KL"),
    ("pearson", "Pearson chi-squared"),
    ("hellinger", "squared Hellinger"),
    ("js", "Jensen-Shannon"),
):
    register(
        VariantSpec(
            name=f"fgan-{divergence}",
            arch="dcgan",
            arch_kwargs=DCGAN,
            objective=f"fgan-{divergence}",
            summary=f"f-GAN minimising the {label} divergence through its variational bound",
            paper="Nowozin, Cseke & Tomioka, f-GAN: Training Generative Neural Samplers using Variational "
            "Divergence Minimization, 2016 (arXiv:1606.00709)",
        )
    )
RELATIVISTIC = (
    "Jolicoeur-Martineau, The relativistic discriminator: a key element missing from standard GAN, "
    "2018 (arXiv:1807.00734)"
)
register(
    VariantSpec(
        name="rsgan",
        arch="dcgan",
        arch_kwargs=DCGAN,
        objective="relativistic-standard",
        paper=RELATIVISTIC,
        summary="relativistic standard GAN: D estimates the probability that real data is more realistic than fake",
    )
)
register(
    VariantSpec(
        name="ragan",
        arch="dcgan",
        arch_kwargs=DCGAN,
        objective="relativistic-average",
        paper=RELATIVISTIC,
        summary="relativistic average GAN: each sample is judged against the mean critic value of the other kind",
    )
)
register(
    VariantSpec(
        name="ralsgan",
        arch="dcgan",
        arch_kwargs=DCGAN,
        objective="relativistic-average-ls",
        paper=RELATIVISTIC,
        summary="relativistic average least-squares GAN",
    )
)
