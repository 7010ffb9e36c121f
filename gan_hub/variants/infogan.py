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

from ..game import REPLAYS_PAST_FAKES, Batch, DOutput
from ..nn.info import add_info_head, find_info_generator, information_loss
from ..objectives import Objective
from ..registry import VARIANTS
from .base import AdversarialAlgorithm, Technique, VariantSpec

Tensor = torch.Tensor

DEFAULT_CATEGORICAL = 10
DEFAULT_CONTINUOUS = 2
DEFAULT_NOISE = 62  # the paper's MNIST noise; the latent is 62 + 10 + 2 = 74 wide


def _prefixed(prefix: str, logs: dict[str, float]) -> dict[str, float]:
    return {f"{prefix}_{k}": v for k, v in logs.items()}


class InfoGANAlgorithm(AdversarialAlgorithm):
    """InfoGAN's losses. ``categorical_weight`` (1) and ``continuous_weight`` (0.1) weigh the two parts of
    the information term; ``q_hidden`` (128) is the width of Q's hidden layer; ``categorical`` (K, 10) and
    ``continuous`` (C, 2) are the codes (the latent is noise + K + C wide: set latent_dim to match)."""

    incompatible = {REPLAYS_PAST_FAKES: "infogan scores Q on the step's fakes, whose codes are those of its latents"}
    g_terms_use_fake_scores = True  # the information term stays when feature matching replaces the adversarial one

    def __init__(
        self,
        objective: Objective,
        techniques: list[Technique] | None = None,
        categorical_weight: float = 1.0,
        continuous_weight: float = 0.1,
        q_hidden: int = 128,
        categorical: int = DEFAULT_CATEGORICAL,
        continuous: int = DEFAULT_CONTINUOUS,
    ):
        super().__init__(objective, techniques)
        self.categorical, self.continuous = categorical, continuous
        for name, value in (("categorical_weight", categorical_weight), ("continuous_weight", continuous_weight)):
            if not value >= 0:
                raise ValueError(f"{name} must be non-negative, got {value!r}")
        self.categorical_weight, self.continuous_weight = float(categorical_weight), float(continuous_weight)
        self.q_hidden = q_hidden
        self.layout = None

    def generator_wrappers(self) -> list[dict]:
        return [{"name": "info_codes", "categorical": self.categorical, "continuous": self.continuous}]

    def discriminator_wrappers(self) -> list[dict]:
        return [
            {
                "name": "info_head",
                "categorical": self.categorical,
                "continuous": self.continuous,
                "hidden": self.q_hidden,
            }
        ]

    def setup(self, generator: nn.Module, discriminator: nn.Module) -> None:
        info = find_info_generator(generator)
        if info is None:
            raise TypeError(
                "infogan needs a generator that reads latent codes (the info_codes network wrapper, "
                "which the trainer adds from the algorithm's generator_wrappers)"
            )
        self.layout = info.layout
        # before the techniques' own setup (which may record D's parameters) and before any optimizer exists
        add_info_head(
            getattr(discriminator, "module", discriminator),
            self.layout.categorical,
            self.layout.continuous,
            self.q_hidden,
        )
        super().setup(generator, discriminator)

    def _codes(self, z: Tensor) -> tuple[Tensor | None, Tensor | None]:
        if self.layout is None:
            raise RuntimeError("call the algorithm's setup(G, D) first")
        _, categorical, continuous = self.layout.split(z)
        return categorical, continuous

    def _information(self, q: tuple[Tensor | None, Tensor | None], z: Tensor) -> tuple[Tensor, dict[str, float]]:
        return information_loss(*q, *self._codes(z), self.categorical_weight, self.continuous_weight)

    def discriminate(self, discriminator: nn.Module, images: Tensor, labels: Tensor | None) -> DOutput:
        out = DOutput.of(discriminator(images, labels))
        if not {"q_categorical", "q_continuous"} & set(out.extras):
            raise TypeError("infogan needs a discriminator with a Q head: call the algorithm's setup first")
        return out

    @staticmethod
    def _q(out: DOutput) -> tuple[Tensor | None, Tensor | None]:
        return out.extras.get("q_categorical"), out.extras.get("q_continuous")

    def d_terms(self, batch: Batch, real: DOutput, fake: DOutput) -> dict[str, Tensor]:
        info, info_logs = self._information(self._q(fake), batch.z)  # Q is scored on the fakes, whose codes are known
        batch.extras["info_logs"] = info_logs
        return {"info": info}

    def d_logs(self, batch: Batch, real: DOutput, fake: DOutput) -> dict[str, float]:
        return {**super().d_logs(batch, real, fake), **_prefixed("d", batch.extras.pop("info_logs", {}))}

    def g_terms(self, batch: Batch, fake: DOutput | None) -> dict[str, Tensor]:
        info, info_logs = self._information(self._q(fake), batch.z)
        batch.extras["info_logs"] = info_logs
        return {"info": info}

    def g_logs(self, batch: Batch, fake: DOutput | None) -> dict[str, float]:
        return _prefixed("g", batch.extras.pop("info_logs", {}))


VARIANTS.register(
    "infogan",
    VariantSpec(
        name="infogan",
        arch="dcgan",
        objective="non-saturating",
        algorithm=InfoGANAlgorithm,
        # InfoGAN's MNIST networks: fully connected layers of 1024 units in G and D (as in the dcgan-mnist preset)
        arch_kwargs={"base_channels": 64, "g_hidden": 1024, "d_hidden": 1024},
        latent_dim=DEFAULT_NOISE + DEFAULT_CATEGORICAL + DEFAULT_CONTINUOUS,
        lr_g=1e-3,
        lr_d=2e-4,
        betas=(0.5, 0.999),
        summary=f"InfoGAN: {DEFAULT_NOISE} noise + a {DEFAULT_CATEGORICAL}-way categorical and {DEFAULT_CONTINUOUS} "
        "uniform codes; a Q head on D recovers them (mutual-information term, weight 1 / 0.1)",
        paper="Chen, Duan, Houthooft, Schulman, Sutskever & Abbeel, InfoGAN: Interpretable Representation Learning by "
        "Information Maximizing Generative Adversarial Nets, 2016 (arXiv:1606.03657)",
    ),
)
