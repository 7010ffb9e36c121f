"""An auxiliary classifier on a discriminator's features (Odena, Olah & Shlens, 2016, AC-GAN).

The discriminator keeps computing ``head(body(x))``; :func:`add_auxiliary_classifier` replaces its head
by an :class:`AuxiliaryClassifierHead` that returns ``{"logits": adversarial logit [N], "class_logits":
[N, K]}``, both from the same body features (gan_hub.game.DOutput reads that mapping). The
discriminator stops reading the label: the head's class embedding (projection) is removed. Both
outputs come back from the network's own ``__call__``, and therefore through a DDP wrapper, which is
what lets data parallelism synchronise the class head's gradients; nothing is kept on the module.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from .conditioning import ProjectionHead
from .minibatch import MinibatchDiscriminationHead


class AuxiliaryClassifierHead(nn.Module):
    """head(features) -> {"logits": adversarial logit [N], "class_logits": [N, K]}."""

    def __init__(self, adversarial: nn.Module, in_features: int, num_classes: int):
        super().__init__()
        if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 2:
            raise ValueError(f"an auxiliary classifier needs at least 2 classes, got {num_classes!r}")
        self.adversarial = adversarial
        self.classifier = nn.Linear(in_features, num_classes)
        nn.init.normal_(self.classifier.weight, 0.0, 0.02)  # DCGAN's initialisation: near-uniform class scores at first
        nn.init.zeros_(self.classifier.bias)

    @property
    def num_classes(self) -> int:
        return self.classifier.out_features

    def classify(self, features: torch.Tensor) -> torch.Tensor:
        """Class logits [N, K] from body features."""
        return self.classifier(features.flatten(1))

    def forward(self, features: torch.Tensor, labels: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        # ``labels`` is accepted for the discriminator's call signature and ignored: AC-GAN's D predicts the class.
        return {"logits": self.adversarial(features, None), "class_logits": self.classify(features)}


def _projection_and_width(head: nn.Module) -> tuple[ProjectionHead, int]:
    if isinstance(head, ProjectionHead):
        return head, head.linear.in_features
    if isinstance(head, MinibatchDiscriminationHead):
        return head.head, head.minibatch.in_features
    raise ValueError(
        f"an auxiliary classifier needs a ProjectionHead (or minibatch-discrimination) head, got {type(head).__name__}"
    )


def add_auxiliary_classifier(discriminator: nn.Module, num_classes: int | None = None) -> nn.Module:
    """Give ``discriminator`` (with ``.body`` and a projection head) a K-way class head, in place.

    ``num_classes`` defaults to the size of the head's class embedding (a class-conditional network);
    the embedding is then dropped, so the discriminator no longer sees labels. A spectrally normalised
    head gets a spectrally normalised classifier. Applying it twice is harmless. Call it before the
    optimizer is built: it adds parameters and removes the embedding's. Returns the discriminator.
    """
    head = getattr(discriminator, "head", None)
    if isinstance(head, AuxiliaryClassifierHead):
        if num_classes is not None and num_classes != head.num_classes:
            raise ValueError(f"the discriminator already classifies {head.num_classes} classes, not {num_classes}")
        return discriminator
    if not hasattr(discriminator, "body") or head is None:
        raise ValueError(
            f"an auxiliary classifier needs a discriminator with .body and .head; "
            f"{type(discriminator).__name__} has none"
        )
    projection, width = _projection_and_width(head)
    if num_classes is None:
        if projection.embed is None:
            raise ValueError("the discriminator is not class-conditional: pass num_classes")
        num_classes = projection.embed.num_embeddings
    projection.embed = None  # the adversarial logit no longer depends on the label
    weight = projection.linear.weight
    new_head = AuxiliaryClassifierHead(head, width, num_classes).to(device=weight.device, dtype=weight.dtype)
    if parametrize.is_parametrized(projection.linear, "weight"):
        from .spectral import apply_spectral_norm

        apply_spectral_norm(new_head.classifier)
    discriminator.head = new_head
    return discriminator


def discriminate(discriminator: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(adversarial logits [N], class logits [N, K]) of a discriminator with an auxiliary classifier.

    ``discriminator`` may be wrapped (DDP): the forward runs through the wrapper.
    """
    head = getattr(getattr(discriminator, "module", discriminator), "head", None)
    if not isinstance(head, AuxiliaryClassifierHead):
        raise TypeError("this discriminator has no auxiliary classifier: call add_auxiliary_classifier first")
    out = discriminator(x, None)
    return out["logits"], out["class_logits"]


__all__ = ["AuxiliaryClassifierHead", "add_auxiliary_classifier", "discriminate"]
