"""InfoGAN (Chen, Duan, Houthooft, Schulman, Sutskever & Abbeel, 2016, "InfoGAN: Interpretable
Representation Learning by Information Maximizing Generative Adversarial Nets", arXiv:1606.03657).

The generator's input is noise plus latent codes c: one categorical code (K categories, uniform) and C
continuous codes (uniform in [-1, 1]). Both are read from the model's ordinary standard-normal latent
(gan_hub/nn/info.py explains the layout), so a seed fixes noise and codes together, and the network
itself is an unchanged architecture (DCGAN) on the concatenated input.

InfoGAN adds to the GAN game a term that keeps the codes recoverable from the samples: the mutual
information I(c; G(z, c)), through its variational lower bound
L_I(G, Q) = E_{c, x ~ G(z, c)} log Q(c | x) + H(c). Q shares the discriminator's body and adds its own
head (gan_hub/nn/info.py: categorical logits and the means of unit-variance Gaussians for the
continuous codes, attached in ``setup``). With the run's objective for the adversarial terms
(non-saturating by default), the losses minimised are

    D and Q:  objective.discriminator_loss(real, fake) + L_info(Q(G(z, c)), c)
    G:        objective.generator_loss(fake)            + L_info(Q(G(z, c')), c')
    L_info  = lambda_cat * CE(Q_cat(x), c_cat) + lambda_cont * sum_j (c_j - mu_j(x))^2 / 2

i.e. min_{G, Q} max_D V(D, G) - lambda L_I(G, Q). lambda_cat = 1 (the paper's lambda for discrete
codes); lambda_cont = 0.1 (the paper uses a smaller lambda for continuous codes; 0.1 is our choice).
Q is trained in the D step (D's optimizer holds Q's parameters), G in the G step (D and Q are frozen
there). The codes of each step are those of the step's latents z.

Techniques apply as in the base algorithm; a technique that replaces the adversarial generator loss
(feature matching) replaces only that term, the information term stays. Experience replay is refused:
it swaps some of the D step's fakes for past ones, whose codes are not those of this step's latents.

Logs: ``d_info`` / ``g_info`` (the weighted information loss of each step), ``d_info_cat_acc`` /
``g_info_cat_acc`` (Q's accuracy on the categorical code of the fakes), ``d_info_cat``, ``d_info_cont``
(the unweighted cross-entropy and Gaussian NLL), and the same for ``g_``.
"""
from __future__ import annotations

import torch
from torch import nn

from ..nn.info import add_info_head, discriminate_with_codes, find_info_generator, info_head, information_loss
from ..objectives import Objective
from ..registry import VARIANTS
from .base import AdversarialAlgorithm, StepContext, Technique, VariantSpec

Tensor = torch.Tensor

DEFAULT_CATEGORICAL = 10
DEFAULT_CONTINUOUS = 2
DEFAULT_NOISE = 62  # the paper's MNIST noise; the latent is 62 + 10 + 2 = 74 wide


def _prefixed(prefix: str, logs: dict[str, float]) -> dict[str, float]:
    return {f"{prefix}_{k}": v for k, v in logs.items()}


class InfoGANAlgorithm(AdversarialAlgorithm):
    """InfoGAN's losses. ``categorical_weight`` (1) and ``continuous_weight`` (0.1) weigh the two parts of
    the information term; ``q_hidden`` (128) is the width of Q's hidden layer."""

    def __init__(self, objective: Objective, techniques: list[Technique] | None = None,
                 categorical_weight: float = 1.0, continuous_weight: float = 0.1, q_hidden: int = 128):
        super().__init__(objective, techniques)
        for name, value in (("categorical_weight", categorical_weight), ("continuous_weight", continuous_weight)):
            if not value >= 0:
                raise ValueError(f"{name} must be non-negative, got {value!r}")
        self.categorical_weight, self.continuous_weight = float(categorical_weight), float(continuous_weight)
        self.q_hidden = q_hidden
        self.layout = None
        if any(t.name == "experience_replay" for t in self.techniques):
            raise ValueError("experience_replay shows D past fakes whose codes are unknown, so Q could not be scored "
                             "on them: turn it off for infogan")

    def setup(self, generator: nn.Module, discriminator: nn.Module) -> None:
        info = find_info_generator(generator)
        if info is None:
            raise TypeError("infogan needs a generator that reads latent codes: set info_categorical and/or "
                            "info_continuous in arch_kwargs (they are dropped when --arch overrides the variant's "
                            "architecture without repeating them)")
        self.layout = info.layout
        # before the techniques' own setup (which may record D's parameters) and before any optimizer exists
        add_info_head(getattr(discriminator, "module", discriminator), self.layout.categorical, self.layout.continuous,
                      self.q_hidden)
        super().setup(generator, discriminator)

    def _codes(self, z: Tensor) -> tuple[Tensor | None, Tensor | None]:
        if self.layout is None:
            raise RuntimeError("call the algorithm's setup(G, D) first")
        _, categorical, continuous = self.layout.split(z)
        return categorical, continuous

    def _information(self, q: tuple[Tensor | None, Tensor | None], z: Tensor) -> tuple[Tensor, dict[str, float]]:
        return information_loss(*q, *self._codes(z), self.categorical_weight, self.continuous_weight)

    def discriminator_loss(self, generator: nn.Module, discriminator: nn.Module, real: Tensor,
                           labels: Tensor | None, z: Tensor, ctx: StepContext) -> tuple[Tensor, dict[str, float]]:
        with torch.no_grad():
            fake = generator(z, labels)
        real_in, fake_in = self._d_inputs(real, fake.to(real.dtype), ctx)
        # separate real and fake forwards, as in the base algorithm (batch norm sees each batch alone);
        # Q is scored on the fakes only, whose codes are known
        real_logits, _ = discriminate_with_codes(discriminator, real_in, labels)
        fake_logits, q = discriminate_with_codes(discriminator, fake_in, self._fake_labels(labels, fake_in))
        loss = self.objective.discriminator_loss(real_logits.float(), fake_logits.float())
        prob = self.objective.probability
        logs = {"d_real": prob(real_logits.float()).mean().item(), "d_fake": prob(fake_logits.float()).mean().item()}
        info, info_logs = self._information(q, z)
        loss = loss + info
        logs = {"d_loss": loss.item(), **logs, "d_info": info.item(), **_prefixed("d", info_logs)}
        loss = self._add_d_penalties(loss, logs, generator, discriminator, real, fake, labels, ctx)
        info_head(discriminator).codes = None  # a penalty's forward may have left some: keep no graph alive
        return loss, logs

    def generator_loss(self, generator: nn.Module, discriminator: nn.Module, z: Tensor, labels: Tensor | None,
                       real: Tensor, ctx: StepContext) -> tuple[Tensor, dict[str, float]]:
        fake = generator(z, labels)
        fake_logits, q = discriminate_with_codes(discriminator, self._g_inputs(fake, ctx), labels)
        adversarial = self.adversarial_generator_loss(discriminator, real, fake, labels, ctx, fake_logits,
                                                      score=lambda x: discriminate_with_codes(discriminator, x, labels)[0])
        info, info_logs = self._information(q, z)
        loss = adversarial + info
        logs = {"g_loss": loss.item(), "g_info": info.item(), **_prefixed("g", info_logs)}
        loss = self._add_g_penalties(loss, logs, generator, discriminator, ctx)
        info_head(discriminator).codes = None
        return loss, logs


VARIANTS.register("infogan", VariantSpec(
    name="infogan", arch="dcgan", objective="non-saturating", algorithm=InfoGANAlgorithm,
    # InfoGAN's MNIST networks: fully connected layers of 1024 units in G and D (as in the dcgan-mnist preset)
    arch_kwargs={"base_channels": 64, "g_hidden": 1024, "d_hidden": 1024,
                 "info_categorical": DEFAULT_CATEGORICAL, "info_continuous": DEFAULT_CONTINUOUS},
    latent_dim=DEFAULT_NOISE + DEFAULT_CATEGORICAL + DEFAULT_CONTINUOUS,
    lr_g=1e-3, lr_d=2e-4, betas=(0.5, 0.999),
    summary=f"InfoGAN: {DEFAULT_NOISE} noise + a {DEFAULT_CATEGORICAL}-way categorical and {DEFAULT_CONTINUOUS} "
            "uniform codes; a Q head on D recovers them (mutual-information term, weight 1 / 0.1)",
    paper="Chen, Duan, Houthooft, Schulman, Sutskever & Abbeel, InfoGAN: Interpretable Representation Learning by "
          "Information Maximizing Generative Adversarial Nets, 2016 (arXiv:1606.03657)",
))
