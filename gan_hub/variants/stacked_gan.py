"""Stacked GAN (Huang, Li, Poursaeed, Hopcroft & Belongie, 2017, "Stacked Generative Adversarial
Networks", arXiv:1612.04357): the "SGAN (Stacked GAN)" of the seed review.

Meant for MNIST: the encoder is the digit classifier, so label k asks for digit k. Other grey images
are resized to its 28x28 (the tests train it on the small synthetic set that way).

A pretrained bottom-up encoder is cut into a hierarchy of levels, and one GAN is trained per level to
invert one encoder stage, conditioned on the level above. Here the encoder is the project's MNIST
classifier (gan_hub/metrics/mnist_classifier.py), split at two levels:

    E1: image x (1x28x28) -> h = its 128-d pooled features;   E2: h -> the 10 class logits (y).

and generation runs top-down: G2(y, z2) -> h_hat, then G1(h_hat, z1) -> x_hat. Each level i has its
own discriminator D_i (D1 on images, D2 on 128-d features) and three losses for its generator:

* adversarial: G_i's samples against the real representations (x for D1; h = E1(x) for D2);
* conditional: E_i(G_i(h_{i+1}, z_i)) must give back the condition: the mean squared distance of E1(x_hat)
  to h for G1 (the paper's Euclidean loss, averaged over the 128 features) and the
  cross-entropy of E2(h_hat) with y for G2 (the paper's L_cond);
* entropy: a head Q_i on D_i's features recovers z_i from G_i's sample, ||Q_i - z_i||^2, a variational
  bound that keeps G_i from ignoring its noise (the paper's L_ent); D_i's step trains Q_i on the fakes.

Training has the paper's two phases: for the first ``independent_steps`` steps each level is trained
alone (G1 conditioned on the real features E1(x) of the batch, G2 on the batch's labels); afterwards
jointly, G1 conditioned on G2's output, so G1's losses also reach G2. The weights of the losses are
options (``conditional_weight`` 1, ``entropy_weight`` 1; the paper tunes them per dataset). The
adversarial losses use the run's objective (non-saturating by default).

The model is one class-conditional generator (``latent_dim`` = z1 + z2, ``top_noise`` = dim z2), so
``Generator.generate(n, seed, labels=...)`` samples top-down and exports and loads like any other model.
The encoder is fixed (not trained, not exported: it ships with the library).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..archs.dcgan import DCGANDiscriminator, DCGANGenerator
from ..archs.spec import ArchSpec
from ..game import REPLAYS_PAST_FAKES, Batch, DOutput, unwrap
from ..registry import ARCHS, VARIANTS
from .base import AdversarialAlgorithm, VariantSpec

Tensor = torch.Tensor
FEATURES = 128  # E1's output width: the MNIST classifier's pooled features
TOP_NOISE = 50


def _mlp(widths: list[int], out_activation: nn.Module | None = None) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nn.LeakyReLU(0.2, True))
    if out_activation is not None:
        layers.append(out_activation)
    return nn.Sequential(*layers)


class StackedGenerator(nn.Module):
    """G(z, y) = G1(G2(y, z2), z1) with z = [z1 | z2]; ``top`` is G2 (labels + z2 -> features), ``bottom`` G1."""

    def __init__(
        self,
        latent_dim: int,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        base_channels: int = 64,
        top_noise: int = TOP_NOISE,
        hidden: int = 256,
    ):
        super().__init__()
        if num_classes < 2:
            raise ValueError(
                "stacked-gan's top level generates features from class labels: train it on a labelled dataset"
            )
        if not 0 < top_noise < latent_dim:
            raise ValueError(f"top_noise must be between 0 and latent_dim ({latent_dim}), got {top_noise}")
        self.num_classes, self.top_noise, self.bottom_noise = num_classes, top_noise, latent_dim - top_noise
        self.image_shape = (channels, image_size, image_size)
        self.top = _mlp([num_classes + top_noise, hidden, hidden, FEATURES], nn.ReLU())  # features are post-ReLU
        self.bottom = DCGANGenerator(self.bottom_noise + FEATURES, channels, image_size, 0, base_channels)

    def split(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """(z1 for the bottom level, z2 for the top level)."""
        return z[:, : self.bottom_noise], z[:, self.bottom_noise :]

    def features(self, z2: Tensor, labels: Tensor) -> Tensor:
        y = labels.float() if labels.is_floating_point() else F.one_hot(labels, self.num_classes).float()
        return self.top(torch.cat([y.to(z2.dtype), z2], 1))

    def images(self, z1: Tensor, features: Tensor) -> Tensor:
        return self.bottom(torch.cat([z1, features.to(z1.dtype)], 1), None)

    def forward(self, z: Tensor, labels: Tensor | None = None, condition: Tensor | None = None, levels: bool = False):
        """Images, top-down. ``condition`` (features) conditions the bottom level instead of G2's output;
        ``levels`` returns both levels' outputs, {"images", "features"}."""
        if labels is None:
            raise ValueError("stacked-gan generates from class labels: pass labels")
        z1, z2 = self.split(z)
        features = self.features(z2, labels)
        images = self.images(z1, features if condition is None else condition)
        return {"images": images, "features": features} if levels else images


class StackedDiscriminator(nn.Module):
    """D1 on images and D2 on features, each with a Q head recovering its level's noise.

    D(x) -> {"logits": D1's logit, "q_bottom": Q1(x)}; D(x, features=h) adds "top_logits" and "q_top"."""

    def __init__(
        self,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        base_channels: int = 64,
        latent_dim: int = 100,
        top_noise: int = TOP_NOISE,
        hidden: int = 256,
    ):
        super().__init__()
        self.bottom = DCGANDiscriminator(channels, image_size, 0, base_channels)
        width = self.bottom.head.linear.in_features
        self.q_bottom = nn.Linear(width, latent_dim - top_noise)
        self.top_body = _mlp([FEATURES, hidden, hidden])
        self.top_head = nn.Linear(hidden, 1)
        self.q_top = nn.Linear(hidden, top_noise)

    def forward(self, x: Tensor, labels: Tensor | None = None, features: Tensor | None = None) -> dict[str, Tensor]:
        body = self.bottom.body(x)
        out = {"logits": self.bottom.head(body, None), "q_bottom": self.q_bottom(body.flatten(1))}
        if features is not None:
            top = F.leaky_relu(self.top_body(features), 0.2)
            out.update(top_logits=self.top_head(top).squeeze(1), q_top=self.q_top(top))
        return out


ARCHS.register("stacked", ArchSpec(StackedGenerator, StackedDiscriminator))


class StackedGANAlgorithm(AdversarialAlgorithm):
    """The two-level game; options: ``independent_steps`` (the first phase's length, 2000),
    ``conditional_weight`` (1) and ``entropy_weight`` (1)."""

    incompatible = {REPLAYS_PAST_FAKES: "stacked-gan pairs every fake with its own condition and noise"}

    def __init__(
        self,
        objective,
        techniques=None,
        independent_steps: int = 2000,
        conditional_weight: float = 1.0,
        entropy_weight: float = 1.0,
    ):
        super().__init__(objective, techniques)
        if isinstance(independent_steps, bool) or not isinstance(independent_steps, int) or independent_steps < 0:
            raise ValueError(f"independent_steps must be an integer >= 0, got {independent_steps!r}")
        for name, value in (("conditional_weight", conditional_weight), ("entropy_weight", entropy_weight)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        self.independent_steps = independent_steps
        self.conditional_weight, self.entropy_weight = float(conditional_weight), float(entropy_weight)
        self._encoder = None

    # ---- the fixed encoder hierarchy --------------------------------------------------------------
    def encoder(self, like: Tensor):
        if self._encoder is None:
            from ..metrics.mnist_classifier import load_mnist_classifier

            self._encoder = load_mnist_classifier().module.eval().requires_grad_(False)
        return self._encoder.to(like.device)

    def encode_features(self, images: Tensor) -> Tensor:
        """E1: images in [-1, 1] -> the classifier's 128-d pooled features (differentiable in the images)."""
        e = self.encoder(images)
        if images.shape[-2:] != (e.image_size, e.image_size):  # other sizes are resized to the classifier's
            images = F.interpolate(
                images.float(), size=(e.image_size, e.image_size), mode="bilinear", align_corners=False
            )
        pixels = (images.float() + 1) / 2
        return e.body((pixels - e.pixel_mean) / e.pixel_std)

    def classify_features(self, features: Tensor) -> Tensor:
        """E2: features -> class logits."""
        return self.encoder(features).head(features)

    def setup(self, generator: nn.Module, discriminator: nn.Module) -> None:
        g = unwrap(generator)
        if not isinstance(g, StackedGenerator) or g.num_classes > 10 or g.image_shape[0] != 1:
            raise ValueError(
                "stacked-gan's encoder hierarchy is the project's MNIST classifier: train it on grey "
                "images with at most 10 classes (MNIST digits: class k is the classifier's digit k) "
                "with the 'stacked' architecture"
            )
        super().setup(generator, discriminator)

    # ---- the step's hooks ---------------------------------------------------------------------------
    def joint(self, batch: Batch) -> bool:
        return batch.ctx.step >= self.independent_steps

    def generate(self, generator: nn.Module, z: Tensor, labels: Tensor | None, batch: Batch) -> Tensor:
        with torch.no_grad():
            batch.extras["real_features"] = self.encode_features(batch.real)
        condition = None if self.joint(batch) else batch.extras["real_features"]
        out = generator(z, labels, condition=condition, levels=True)
        batch.extras["fake_features"] = out["features"]
        batch.extras["condition"] = out["features"] if condition is None else condition
        return out["images"]

    def score_real(self, batch: Batch, images: Tensor) -> DOutput:
        return DOutput.of(batch.discriminator(images, None, features=batch.extras["real_features"]))

    def score_fake(self, batch: Batch, images: Tensor) -> DOutput:
        return DOutput.of(batch.discriminator(images, None, features=batch.extras["fake_features"]))

    def d_adversarial_loss(self, batch: Batch, real: DOutput, fake: DOutput) -> Tensor:
        bottom = self.objective.discriminator_loss(real.logits.float(), fake.logits.float())
        top = self.objective.discriminator_loss(real["top_logits"].float(), fake["top_logits"].float())
        return bottom + top

    def g_adversarial_loss(self, batch: Batch, fake: DOutput) -> Tensor:
        real_logits = real_top = None
        if self.objective.uses_real_logits_in_generator:
            with torch.no_grad():
                real = self.score_real(batch, batch.real)
            real_logits, real_top = real.logits.float(), real["top_logits"].float()
        return self.objective.generator_loss(fake.logits.float(), real_logits) + self.objective.generator_loss(
            fake["top_logits"].float(), real_top
        )

    def entropy(self, batch: Batch, fake: DOutput) -> Tensor:
        z1, z2 = unwrap(batch.generator).split(batch.z)
        return (fake["q_bottom"].float() - z1.float()).pow(2).mean() + (fake["q_top"].float() - z2.float()).pow(
            2
        ).mean()

    def conditional(self, batch: Batch) -> dict[str, Tensor]:
        """Each level's conditional loss: G1 must keep E1's features of its condition, G2 the class of its label."""
        bottom = (self.encode_features(batch.fake) - batch.extras["condition"].float()).pow(2).mean()
        top = F.cross_entropy(self.classify_features(batch.extras["fake_features"].float()), batch.labels)
        return {"conditional_bottom": bottom, "conditional_top": top}

    def d_terms(self, batch: Batch, real: DOutput, fake: DOutput) -> dict[str, Tensor]:
        return {"entropy": self.entropy_weight * self.entropy(batch, fake)}

    g_terms_use_fake_scores = True  # the entropy term reads Q's outputs on the fakes

    def g_terms(self, batch: Batch, fake: DOutput | None) -> dict[str, Tensor]:
        conditional = self.conditional(batch)
        return {
            **{k: self.conditional_weight * v for k, v in conditional.items()},
            "entropy": self.entropy_weight * self.entropy(batch, fake),
        }

    def g_logs(self, batch: Batch, fake: DOutput | None) -> dict[str, float]:
        return {"joint": float(self.joint(batch))}


VARIANTS.register(
    "stacked-gan",
    VariantSpec(
        name="stacked-gan",
        arch="stacked",
        arch_kwargs={"base_channels": 64, "top_noise": TOP_NOISE},
        objective="non-saturating",
        conditional=True,
        algorithm=StackedGANAlgorithm,
        summary="Stacked GAN: the MNIST classifier split into two encoder levels; G2 (label, z2) -> features, G1 "
        "(features, z1) -> image; adversarial, conditional and entropy losses per level; independent then joint",
        paper="Huang, Li, Poursaeed, Hopcroft & Belongie, Stacked Generative Adversarial Networks, 2017 "
        "(arXiv:1612.04357)",
    ),
)
