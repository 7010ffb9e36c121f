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
that work on the step's losses (consensus, historical averaging) apply as usual. Refused, by their
declared effects: penalties that score new images alone (gradient penalty: D needs the latent too),
techniques that replace the generator loss (feature matching: G's loss also trains E), and
experience replay (past fakes would be paired with this step's latents).
"""

from __future__ import annotations

import torch
from torch import nn

from ..game import REPLACES_GENERATOR_LOSS, REPLAYS_PAST_FAKES, SCORES_NEW_INPUTS, Batch, DOutput
from ..networks import WRAPPERS
from ..registry import VARIANTS
from .base import AdversarialAlgorithm, VariantSpec

Tensor = torch.Tensor


def _unwrap(module: nn.Module) -> nn.Module:
    return getattr(module, "module", module)  # a DDP wrapper holds the network in .module


class BiGANAlgorithm(AdversarialAlgorithm):
    """BiGAN's losses on (image, latent) pairs; see the module docstring."""

    incompatible = {
        REPLACES_GENERATOR_LOSS: "in bigan the generator loss also trains the encoder",
        REPLAYS_PAST_FAKES: "bigan pairs every fake with its own latent",
        SCORES_NEW_INPUTS: "bigan's D scores (image, latent) pairs, not images alone",
    }

    def setup(self, generator: nn.Module, discriminator: nn.Module) -> None:
        g, d = _unwrap(generator), _unwrap(discriminator)
        # any networks with BiGAN's interface: an encoder (``encode``, ``forward(z, real=x)``) and a joint D
        # (``attach_latent``, ``forward(x, labels, z=z)``): the 'bigan' architecture's, or the 2-D 'pacgan-bigan'
        if not (callable(getattr(g, "encode", None)) and hasattr(g, "latent_dim")):
            raise TypeError(
                f"bigan needs a generator with an encoder (the 'bigan' architecture's, without virtual batch "
                f"norm), got {type(g).__name__}"
            )
        if not callable(getattr(d, "attach_latent", None)):
            raise TypeError(f"bigan needs a joint discriminator (the 'bigan' architecture's), got {type(d).__name__}")
        d.attach_latent(g.latent_dim)  # before the techniques' setup and before any optimizer exists
        super().setup(generator, discriminator)

    def discriminator_wrappers(self) -> list[dict]:
        return [{"name": "latent_branch"}]

    def generate(self, generator: nn.Module, z: Tensor, labels: Tensor | None, batch: Batch) -> Tensor:
        # one call: through DDP, G's and E's gradients are synchronised
        fake, batch.extras["encoded"] = generator(z, None, real=batch.real)
        return fake

    def discriminate(self, discriminator: nn.Module, images: Tensor, labels: Tensor | None) -> DOutput:
        raise ValueError("bigan's discriminator scores (image, latent) pairs: it cannot score images alone")

    def score_real(self, batch: Batch, images: Tensor) -> DOutput:
        return DOutput.of(batch.discriminator(images, None, z=batch.extras["encoded"]))

    def score_fake(self, batch: Batch, images: Tensor) -> DOutput:
        if len(images) != len(batch.z):
            raise ValueError(
                f"bigan pairs every fake with its own latent, but a technique turned {len(batch.z)} fakes "
                f"into {len(images)}"
            )
        return DOutput.of(batch.discriminator(images, None, z=batch.z))

    def g_adversarial_loss(self, batch: Batch, fake: DOutput) -> Tensor:
        real = self.score_real(batch, batch.real)  # E is trained through the real pairs' latents
        return self.objective.discriminator_loss(fake.logits.float(), real.logits.float())  # the labels swapped

    def g_logs(self, batch: Batch, fake: DOutput | None) -> dict[str, float]:
        return {"g_encoded_std": batch.extras["encoded"].detach().float().std().item()}


@WRAPPERS.register("latent_branch")
def latent_branch(build, model) -> nn.Module:
    """The joint discriminator's latent branch, for latents of the model's width."""
    return build().attach_latent(model.latent_dim)


VARIANTS.register(
    "bigan",
    VariantSpec(
        name="bigan",
        arch="bigan",
        objective="non-saturating",
        algorithm=BiGANAlgorithm,
        arch_kwargs={"base_channels": 64, "z_hidden": 512},
        latent_dim=50,
        lr_g=2e-4,
        lr_d=2e-4,
        betas=(0.5, 0.999),
        summary="BiGAN / ALI: an encoder E trained with G; D judges (x, E(x)) against (G(z), z) pairs; "
        "Generator.encode / reconstruct",
        paper="Donahue, Kraehenbuehl & Darrell, Adversarial Feature Learning, 2016 (arXiv:1605.09782); "
        "Dumoulin et al., Adversarially Learned Inference, 2016 (arXiv:1606.00704)",
    ),
)
