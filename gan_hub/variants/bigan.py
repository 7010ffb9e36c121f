"""BiGAN (Donahue, Kraehenbuehl & Darrell, 2016, "Adversarial Feature Learning", arXiv:1605.09782);
the same game as ALI (Dumoulin et al., 2016, "Adversarially Learned Inference", arXiv:1606.00704)
with a deterministic encoder.

Besides the generator G: z -> x there is an encoder E: x -> z, and the discriminator judges joint
pairs: real pairs (x, E(x)) with x from the data against fake pairs (G(z), z) with z from the prior.
The game is

    min_{G, E} max_D  E_x log D(x, E(x)) + E_z log(1 - D(G(z), z)),

whose optimum has E = G^{-1} (on the data), so E learns a latent representation of images without
labels. The networks are the ``bigan`` architecture (gan_hub/archs/bigan.py): E is a submodule of the
generator network (one optimizer trains G and E; the exported model carries the encoder, which
``Generator.encode`` / ``Generator.reconstruct`` use) and D is a joint discriminator D(x, labels, z=z).

Losses, with the run's objective (non-saturating by default) and l_r, l_f the logits of the real and
fake pairs:

    D:      objective.discriminator_loss(l_r, l_f)
    G, E:   objective.discriminator_loss(l_f, l_r)

G and E minimise D's loss with the labels swapped: the real pairs are to be called fake and the fake
pairs real. For the non-saturating objective this is -log D(G(z), z) - log(1 - D(x, E(x))), the
"inverted" objective BiGAN trains G and E with (stronger gradients early on than the minimax form);
for the Wasserstein objective it is the usual critic-difference loss for both.

Techniques: ``d_inputs`` / ``g_inputs`` (instance noise) change the images of the pairs; penalties
are added as usual, but techniques that call D on images alone (gradient penalty, consensus) fail,
since D needs the latent too, and techniques that replace the generator loss (feature matching) are
refused. Experience replay is refused too: it swaps some of the D step's fakes for past ones, which
would then be paired with the wrong latents.
"""
from __future__ import annotations

import torch
from torch import nn

from ..archs.bigan import BiGANGenerator, JointDiscriminator
from ..objectives import Objective
from ..registry import VARIANTS
from .base import AdversarialAlgorithm, StepContext, Technique, VariantSpec

Tensor = torch.Tensor


def _unwrap(module: nn.Module) -> nn.Module:
    return getattr(module, "module", module)  # a DDP wrapper holds the network in .module


class BiGANAlgorithm(AdversarialAlgorithm):
    """BiGAN's losses on (image, latent) pairs; see the module docstring."""

    def __init__(self, objective: Objective, techniques: list[Technique] | None = None):
        super().__init__(objective, techniques)
        replacing = [t.name for t in self.techniques if type(t).generator_loss is not Technique.generator_loss]
        if replacing:
            raise ValueError(f"technique(s) {replacing} replace the generator loss, which in bigan also trains the "
                             "encoder: turn them off for this variant")
        if any(t.name == "experience_replay" for t in self.techniques):
            raise ValueError("experience_replay would pair past fakes with this step's latents: turn it off for bigan")

    def setup(self, generator: nn.Module, discriminator: nn.Module) -> None:
        g, d = _unwrap(generator), _unwrap(discriminator)
        if not isinstance(g, BiGANGenerator):
            raise TypeError(f"bigan needs the 'bigan' architecture's generator with an encoder (without virtual batch "
                            f"norm), got {type(g).__name__}")
        if not isinstance(d, JointDiscriminator):
            raise TypeError(f"bigan needs the 'bigan' architecture's joint discriminator, got {type(d).__name__}")
        d.attach_latent(g.latent_dim)  # before the techniques' setup and before any optimizer exists
        super().setup(generator, discriminator)

    @staticmethod
    def _check_pairs(fake: Tensor, z: Tensor) -> None:
        if len(fake) != len(z):
            raise ValueError(f"bigan pairs every fake with its own latent, but a technique turned {len(z)} fakes into "
                             f"{len(fake)}")

    def discriminator_loss(self, generator: nn.Module, discriminator: nn.Module, real: Tensor,
                           labels: Tensor | None, z: Tensor, ctx: StepContext) -> tuple[Tensor, dict[str, float]]:
        with torch.no_grad():
            fake, encoded = generator(z, None, real=real)
        real_in, fake_in = self._d_inputs(real, fake.to(real.dtype), ctx)
        self._check_pairs(fake_in, z)
        # separate real and fake forwards, as in the base algorithm (batch norm sees each batch alone)
        real_logits = discriminator(real_in, None, z=encoded).float()
        fake_logits = discriminator(fake_in, None, z=z).float()
        loss = self.objective.discriminator_loss(real_logits, fake_logits)
        prob = self.objective.probability
        logs = {"d_loss": loss.item(), "d_real": prob(real_logits).mean().item(), "d_fake": prob(fake_logits).mean().item()}
        loss = self._add_d_penalties(loss, logs, generator, discriminator, real, fake, labels, ctx)
        return loss, logs

    def generator_loss(self, generator: nn.Module, discriminator: nn.Module, z: Tensor, labels: Tensor | None,
                       real: Tensor, ctx: StepContext) -> tuple[Tensor, dict[str, float]]:
        fake, encoded = generator(z, None, real=real)  # one call: through DDP, G's and E's gradients are synchronised
        fake_in = self._g_inputs(fake, ctx)
        self._check_pairs(fake_in, z)
        fake_logits = discriminator(fake_in, None, z=z).float()
        real_logits = discriminator(real, None, z=encoded).float()
        loss = self.objective.discriminator_loss(fake_logits, real_logits)  # the labels swapped
        logs = {"g_loss": loss.item(), "g_encoded_std": encoded.detach().float().std().item()}
        loss = self._add_g_penalties(loss, logs, generator, discriminator, ctx)
        return loss, logs


VARIANTS.register("bigan", VariantSpec(
    name="bigan", arch="bigan", objective="non-saturating", algorithm=BiGANAlgorithm,
    arch_kwargs={"base_channels": 64, "z_hidden": 512},
    latent_dim=50, lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999),
    summary="BiGAN / ALI: an encoder E trained with G; D judges (x, E(x)) against (G(z), z) pairs; "
            "Generator.encode / reconstruct",
    paper="Donahue, Kraehenbuehl & Darrell, Adversarial Feature Learning, 2016 (arXiv:1605.09782); "
          "Dumoulin et al., Adversarially Learned Inference, 2016 (arXiv:1606.00704)",
))
