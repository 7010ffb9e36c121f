"""AC-GAN (Odena, Olah & Shlens, 2016, "Conditional Image Synthesis with Auxiliary Classifier GANs",
arXiv:1610.09585).

The generator is class-conditional (the one-hot label is concatenated to z, as in cgan). The
discriminator does NOT take the label: from the same body features it outputs the adversarial logit
(real or fake, the source S) and K class logits (an auxiliary classifier, gan_hub/nn/auxiliary.py,
attached in ``setup``). With L_S the source log-likelihood and L_C = E log P(C=c | x_real) +
E log P(C=c | x_fake) the class log-likelihood, D maximises L_S + L_C and G maximises L_C - L_S. As
losses to minimise, with the run's objective for the source term (non-saturating by default):

    D:  objective.discriminator_loss(real, fake) + w * [CE(class_logits(x), y) + CE(class_logits(G(z, y)), y)]
    G:  objective.generator_loss(fake)            + w * CE(class_logits(G(z, y')), y')

where CE is the mean cross-entropy, y the real batch's labels (the D step generates its fakes with
them), y' the labels sampled for the G step and w = ``class_weight`` (1, the paper's equal weighting).
Both players minimise the class loss of the fakes: G is rewarded for samples D recognises as the
requested class. Techniques apply as in the base algorithm; a technique that replaces the adversarial
generator loss (feature matching) replaces only the source term, the class term stays. When D is
shown more fakes than labels (experience replay), the fake class term of the D step is left out.

Logs: ``d_class`` (the D step's weighted class loss), ``d_class_acc`` (class accuracy of D on the real batch),
``d_fake_class_acc`` (on the fakes), ``g_class`` (the G step's class loss).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..game import Batch, DOutput
from ..nn.auxiliary import add_auxiliary_classifier
from ..objectives import Objective
from ..registry import VARIANTS
from .base import AdversarialAlgorithm, Technique, VariantSpec

Tensor = torch.Tensor


def auxiliary_class_loss(class_logits: Tensor, labels: Tensor) -> Tensor:
    """Mean cross-entropy -log softmax(class_logits)[y] over the batch, in float32.

    ``labels``: class indices [N], or soft class codes [N, K] (probabilities).
    """
    target = labels.float() if labels.is_floating_point() else labels
    return F.cross_entropy(class_logits.float(), target)


def class_accuracy(class_logits: Tensor, labels: Tensor) -> float:
    """Fraction of the batch whose highest class logit is the label (the argmax of soft labels)."""
    target = labels.argmax(1) if labels.is_floating_point() else labels
    return (class_logits.argmax(1) == target).float().mean().item()


class ACGANAlgorithm(AdversarialAlgorithm):
    """AC-GAN's losses; ``class_weight`` (w, default 1) weighs the class terms of both players."""

    g_terms_use_fake_scores = True  # the class term stays when feature matching replaces the source term

    def __init__(self, objective: Objective, techniques: list[Technique] | None = None, class_weight: float = 1.0):
        super().__init__(objective, techniques)
        if not class_weight >= 0:
            raise ValueError(f"class_weight must be non-negative, got {class_weight!r}")
        self.class_weight = float(class_weight)

    def setup(self, generator: nn.Module, discriminator: nn.Module) -> None:
        # before the techniques' own setup (which may record D's parameters) and before any optimizer exists
        add_auxiliary_classifier(getattr(discriminator, "module", discriminator))
        super().setup(generator, discriminator)

    def discriminator_wrappers(self) -> list[dict]:
        return [{"name": "auxiliary_classifier"}]

    def discriminate(self, discriminator: nn.Module, images: Tensor, labels: Tensor | None) -> DOutput:
        out = DOutput.of(discriminator(images, None))  # D predicts the class instead of reading it
        if "class_logits" not in out.extras:
            raise TypeError(
                "acgan needs a discriminator with an auxiliary classifier: call the algorithm's setup first"
            )
        return out

    @staticmethod
    def _require_labels(labels: Tensor | None) -> Tensor:
        if labels is None:
            raise ValueError("acgan trains on labelled data: run it as a class-conditional variant")
        return labels

    def d_logs(self, batch: Batch, real: DOutput, fake: DOutput) -> dict[str, float]:
        logs = {
            **super().d_logs(batch, real, fake),
            "d_class_acc": class_accuracy(real["class_logits"], self._require_labels(batch.labels)),
        }
        if len(fake.logits) == len(batch.labels):
            logs["d_fake_class_acc"] = class_accuracy(fake["class_logits"], batch.fake_labels)
        return logs

    def d_terms(self, batch: Batch, real: DOutput, fake: DOutput) -> dict[str, Tensor]:
        labels = self._require_labels(batch.labels)
        class_loss = auxiliary_class_loss(real["class_logits"], labels)
        if len(fake.logits) == len(labels):  # replayed fakes carry no labels: their class term is left out
            class_loss = class_loss + auxiliary_class_loss(fake["class_logits"], batch.fake_labels)
        return {"class": self.class_weight * class_loss}

    def g_terms(self, batch: Batch, fake: DOutput | None) -> dict[str, Tensor]:
        return {
            "class": self.class_weight * auxiliary_class_loss(fake["class_logits"], self._require_labels(batch.labels))
        }


VARIANTS.register(
    "acgan",
    VariantSpec(
        name="acgan",
        arch="dcgan",
        arch_kwargs={"base_channels": 64},
        objective="non-saturating",
        conditional=True,
        algorithm=ACGANAlgorithm,
        summary="auxiliary classifier GAN: one-hot label into G; D predicts real/fake and the class from shared "
        "features",
        paper="Odena, Olah & Shlens, Conditional Image Synthesis with Auxiliary Classifier GANs, 2016 "
        "(arXiv:1610.09585)",
    ),
)
