"""What a variant is: a named preset composing an architecture, an objective and optimizer defaults,
plus the algorithm that says how one discriminator step and one generator step go."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..objectives import Objective

Tensor = torch.Tensor


class AdversarialAlgorithm:
    """The classic alternating game: D scores a real and a fake batch, then G is scored by D.

    Only losses are computed here; the trainer owns backward, optimizer steps, freezing and
    mixed precision, so an algorithm works unchanged under accelerate on one or many processes.
    """

    def __init__(self, objective: Objective):
        self.objective = objective

    def discriminator_loss(self, generator: nn.Module, discriminator: nn.Module, real: Tensor,
                           labels: Tensor | None, z: Tensor) -> tuple[Tensor, dict[str, float]]:
        with torch.no_grad():
            fake = generator(z, labels)
        # Separate forwards for real and fake, as in DCGAN: batch norm in D then normalises each batch
        # the same way in the D step and the G step (a mixed batch would let D judge batch statistics
        # that the generator step never sees).
        real_logits = discriminator(real, labels).float()
        fake_logits = discriminator(fake.to(real.dtype), labels).float()
        loss = self.objective.discriminator_loss(real_logits, fake_logits)
        return loss, {"d_loss": loss.item(), "d_real": torch.sigmoid(real_logits).mean().item(),
                      "d_fake": torch.sigmoid(fake_logits).mean().item()}

    def generator_loss(self, generator: nn.Module, discriminator: nn.Module, z: Tensor,
                       labels: Tensor | None) -> tuple[Tensor, dict[str, float]]:
        fake_logits = discriminator(generator(z, labels), labels).float()
        loss = self.objective.generator_loss(fake_logits)
        return loss, {"g_loss": loss.item()}


@dataclass(frozen=True)
class VariantSpec:
    name: str
    summary: str
    paper: str
    arch: str
    objective: str = "non-saturating"
    conditional: bool = False
    arch_kwargs: dict[str, Any] = field(default_factory=dict)
    algorithm: type[AdversarialAlgorithm] = AdversarialAlgorithm
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    n_critic: int = 1
    ema_decay: float = 0.999
    latent_dim: int = 100
    batch_size: int = 64

    def build_algorithm(self, objective: Objective) -> AdversarialAlgorithm:
        return self.algorithm(objective)
