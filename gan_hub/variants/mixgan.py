"""MIX+GAN (Arora, Ge, Liang, Ma & Zhang, 2017, "Generalization and Equilibrium in Generative
Adversarial Nets (GANs)", arXiv:1703.00573).

The paper shows that an approximate equilibrium exists when both players may play small mixtures
of networks, and turns that into a training protocol that wraps an existing GAN: each player is a
mixture of T networks (gan_hub/archs/mixture.py: generators G_i with weights w_g = softmax(alpha_g),
discriminators D_j with weights w_d = softmax(alpha_d)), and the payoff is the expected payoff of the
two mixed strategies,

    F = sum_{i,j} w_g[i] * w_d[j] * phi(G_i, D_j),

where phi is the wrapped GAN's payoff for one pair. With the run's objective (non-saturating by
default, as for DCGAN, one of the GANs the paper wraps), the losses minimised here are

    D:  sum_{i,j} w_g[i] w_d[j] * objective.discriminator_loss(D_j(x), D_j(G_i(z)))  + lambda * R(w_d)
    G:  sum_{i,j} w_g[i] w_d[j] * objective.generator_loss(D_j(G_i(z)))             + lambda * R(w_g)

Each player's own weights carry gradient (the logits alpha train with its networks: the softmax
parametrisation is the paper's exponentiated-gradient form); the other player's are constants. All
components see the same latents z (routed as in the architecture's sampler, which keeps them
exactly N(0, I)), and D_j judges each generator's batch in its own forward, so batch norm sees the
same batches in the D step and in the G step.

R keeps the weights from collapsing onto one component, which the paper guards against with an
entropy regulariser on the mixture weights. Its form follows the authors' released code
(PrincetonML/MIX-plus-GANs, cifar10/train_mixgan.py: weight 0.1, added to both players' losses):

    R(w) = -(1/T) sum_k log w[k] = log T + KL(uniform || w)      (``entropy_form="uniform-cross-entropy"``)

the cross-entropy of the weights against the uniform distribution, smallest (log T) at uniform
weights; its gradient with respect to the logits is w[k] - 1/T, which pulls an over-weighted
component down and a starved one up, and does not vanish as a weight goes to zero.
``entropy_form="entropy"`` uses minus the Shannon entropy instead, R(w) = -H(w) = sum_k w[k] log w[k]
(so loss -= lambda * H(w)), also smallest at uniform weights. lambda = ``entropy_weight`` (0.1).

Techniques apply as in the base algorithm: ``d_inputs`` acts on the real batch and all T x N fakes at
once (it must keep their number, so experience replay is refused), ``g_inputs`` on each component's
batch, and penalties see the mixture's own fake batch (each sample from its routed component).
Techniques that replace the generator loss (feature matching) are refused: the payoff is the point.

Logs: ``w_g0``..``w_g{T-1}``, ``w_d0``.., the Shannon entropies ``g_weights_entropy`` and
``d_weights_entropy`` (in nats; log T at uniform weights), ``d_payoff`` / ``g_payoff`` (F without
the regulariser); ``d_real`` / ``d_fake`` are the mixtures' mean D outputs.
"""

from __future__ import annotations

import torch
from torch import nn

from ..archs.mixture import MixtureDiscriminator, MixtureGenerator
from ..game import REPLACES_GENERATOR_LOSS, REPLAYS_PAST_FAKES, Batch, DOutput
from ..objectives import Objective
from ..registry import VARIANTS
from .base import AdversarialAlgorithm, Technique, VariantSpec

Tensor = torch.Tensor

ENTROPY_FORMS = ("uniform-cross-entropy", "entropy")


def _log_weights(weights: Tensor) -> Tensor:
    return torch.log(weights.clamp_min(torch.finfo(weights.dtype).tiny))


def weights_entropy(weights: Tensor) -> Tensor:
    """Shannon entropy -sum_k w[k] log w[k] in nats (0 for one-hot weights, log T for uniform ones)."""
    return -(weights * _log_weights(weights)).sum()


def mixture_regularizer(weights: Tensor, form: str = "uniform-cross-entropy") -> Tensor:
    """R(w), added (times lambda) to the loss of the player that owns w; smallest at uniform weights."""
    if form == "uniform-cross-entropy":
        return -_log_weights(weights).mean()
    if form == "entropy":
        return -weights_entropy(weights)
    raise ValueError(f"entropy_form must be one of {ENTROPY_FORMS}, got {form!r}")


def mixture_payoff(pair_losses: Tensor, generator_weights: Tensor, discriminator_weights: Tensor) -> Tensor:
    """sum_{i,j} w_g[i] w_d[j] pair_losses[i, j] for pair_losses [T_g, T_d]."""
    return generator_weights.to(pair_losses.dtype) @ pair_losses @ discriminator_weights.to(pair_losses.dtype)


def _module(net: nn.Module) -> nn.Module:
    return getattr(net, "module", net)  # through a DistributedDataParallel wrapper


class MixGANAlgorithm(AdversarialAlgorithm):
    """MIX+GAN's weighted payoff; ``entropy_weight`` (lambda, 0.1) and ``entropy_form`` set R."""

    incompatible = {
        REPLACES_GENERATOR_LOSS: "mix-gan's generator loss is the mixtures' payoff",
        REPLAYS_PAST_FAKES: "mix-gan shows D every generator's batch of this step separately",
    }

    def __init__(
        self,
        objective: Objective,
        techniques: list[Technique] | None = None,
        entropy_weight: float = 0.1,
        entropy_form: str = "uniform-cross-entropy",
    ):
        super().__init__(objective, techniques)
        if not entropy_weight >= 0:
            raise ValueError(f"entropy_weight must be non-negative, got {entropy_weight!r}")
        if entropy_form not in ENTROPY_FORMS:
            raise ValueError(f"entropy_form must be one of {ENTROPY_FORMS}, got {entropy_form!r}")
        self.entropy_weight = float(entropy_weight)
        self.entropy_form = entropy_form

    def setup(self, generator: nn.Module, discriminator: nn.Module) -> None:
        if not isinstance(_module(generator), MixtureGenerator) or not isinstance(
            _module(discriminator), MixtureDiscriminator
        ):
            raise ValueError(
                "mix-gan needs mixture networks (architecture mix-dcgan or mix-mlp), got "
                f"{type(_module(generator)).__name__} and {type(_module(discriminator)).__name__}"
            )
        super().setup(generator, discriminator)

    def regularizer(self, weights: Tensor) -> Tensor:
        return self.entropy_weight * mixture_regularizer(weights, self.entropy_form)

    @staticmethod
    def _weight_logs(prefix: str, weights: Tensor) -> dict[str, float]:
        w = weights.detach().float()
        logs = {f"w_{prefix}{k}": v for k, v in enumerate(w.tolist())}
        logs[f"{prefix}_weights_entropy"] = weights_entropy(w).item()
        return logs

    # The step's fakes are the mixture's (each latent's routed component, as in sampling: penalties and
    # feature-style techniques see those); D scores every component's batch (``scored_fakes``) with
    # every discriminator component, and the payoff weighs each (generator, discriminator) pair.
    def generate(self, generator: nn.Module, z: Tensor, labels: Tensor | None, batch: Batch) -> Tensor:
        samples, w_g, index = generator(z, labels, components=True)  # [T_g, N, ...], [T_g], [N]
        batch.extras.update(samples=samples, w_g=w_g)
        return samples[index, torch.arange(samples.shape[1], device=samples.device)]

    def scored_fakes(self, batch: Batch) -> Tensor:
        return batch.extras["samples"].flatten(0, 1)

    def discriminate(self, discriminator: nn.Module, images: Tensor, labels: Tensor | None) -> DOutput:
        logits, w_d = discriminator(images, labels, components=True)  # [T_d, N], [T_d]
        return DOutput((w_d.to(logits.dtype)[:, None] * logits).sum(0), {"components": logits, "w_d": w_d})

    def score_fake(self, batch: Batch, images: Tensor) -> DOutput:
        t_g = batch.extras["samples"].shape[0]
        if len(images) != len(batch.extras["samples"].flatten(0, 1)):
            raise ValueError(
                "mix-gan shows D every generator's batch separately: a technique changed the number of fakes"
            )
        outs = [
            self.discriminate(batch.discriminator, part, batch.fake_labels) for part in images.unflatten(0, (t_g, -1))
        ]
        return DOutput(
            torch.stack([o.logits for o in outs]),
            {"components": torch.stack([o["components"] for o in outs]), "w_d": outs[0]["w_d"]},
        )  # [T_g, N], [T_g, T_d, N]

    def d_adversarial_loss(self, batch: Batch, real: DOutput, fake: DOutput) -> Tensor:
        real_logits, fake_logits = real["components"].float(), fake["components"].float()
        pair_losses = torch.stack(
            [
                torch.stack(
                    [
                        self.objective.discriminator_loss(real_logits[j], fake_logits[i, j])
                        for j in range(len(real_logits))
                    ]
                )
                for i in range(len(fake_logits))
            ]
        )
        batch.extras["payoff"] = payoff = mixture_payoff(pair_losses, batch.extras["w_g"].detach().float(), real["w_d"])
        return payoff

    def g_adversarial_loss(self, batch: Batch, fake: DOutput) -> Tensor:
        fake_logits = fake["components"].float()  # [T_g, T_d, N]
        real_logits = None
        if self.objective.uses_real_logits_in_generator:
            with torch.no_grad():
                real_logits = self.score_real(batch, batch.real)["components"].float()
        pair_losses = torch.stack(
            [
                torch.stack(
                    [
                        self.objective.generator_loss(
                            fake_logits[i, j], None if real_logits is None else real_logits[j]
                        )
                        for j in range(fake_logits.shape[1])
                    ]
                )
                for i in range(len(fake_logits))
            ]
        )
        batch.extras["payoff"] = payoff = mixture_payoff(pair_losses, batch.extras["w_g"].float(), fake["w_d"].detach())
        return payoff

    def d_terms(self, batch: Batch, real: DOutput, fake: DOutput) -> dict[str, Tensor]:
        return {"entropy": self.regularizer(real["w_d"])}

    def g_terms(self, batch: Batch, fake: DOutput | None) -> dict[str, Tensor]:
        return {"entropy": self.regularizer(batch.extras["w_g"].float())}

    def d_logs(self, batch: Batch, real: DOutput, fake: DOutput) -> dict[str, float]:
        prob, w_d, w_g = self.objective.probability, real["w_d"].detach(), batch.extras["w_g"].detach().float()
        with torch.no_grad():
            d_real = (w_d * prob(real["components"].float()).mean(1)).sum()
            d_fake = w_g @ prob(fake["components"].float()).mean(2) @ w_d
        return {
            "d_payoff": batch.extras["payoff"].item(),
            "d_real": d_real.item(),
            "d_fake": d_fake.item(),
            **self._weight_logs("d", w_d),
        }

    def g_logs(self, batch: Batch, fake: DOutput | None) -> dict[str, float]:
        return {"g_payoff": batch.extras["payoff"].item(), **self._weight_logs("g", batch.extras["w_g"])}


VARIANTS.register(
    "mix-gan",
    VariantSpec(
        name="mix-gan",
        arch="mix-dcgan",
        arch_kwargs={"base_channels": 64, "components": 3},
        objective="non-saturating",
        algorithm=MixGANAlgorithm,
        summary="MIX+GAN: mixtures of 3 DCGAN generators and 3 discriminators with learned weights; weighted payoff "
        "plus an entropy regulariser",
        paper="Arora, Ge, Liang, Ma & Zhang, Generalization and Equilibrium in Generative Adversarial Nets (GANs), "
        "2017 "
        "(arXiv:1703.00573)",
    ),
)
