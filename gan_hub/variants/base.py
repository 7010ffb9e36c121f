"""What a variant is: a named preset composing an architecture, an objective, training techniques and
optimizer defaults, plus the algorithm that says how one discriminator step and one generator step go.

The trainer owns backward, optimizer steps, freezing, mixed precision and checkpoints; an algorithm
only computes losses and runs its hooks, so it works unchanged under accelerate on one or many
processes. Techniques (gan_hub/techniques) plug into the same hooks, so they combine with any variant.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..game import Batch, DOutput, StepContext, Technique, check_compatible, unwrap
from ..objectives import Objective
from ..optim import build_optimizer

Tensor = torch.Tensor


class AdversarialAlgorithm:
    """The classic alternating game, as a template: D scores a real and a fake batch, then G is scored by D.

    The base class owns both steps. A variant changes only what differs, by overriding hooks:

    * ``discriminate(D, images, labels)`` -> :class:`DOutput`: how D scores a batch (logits plus named
      extras such as class logits or code predictions). Penalties and feature matching go through it.
    * ``features(D, images, labels)``: the features feature matching compares (default ``D.body``).
    * ``generate(G, z, labels, batch)``: the step's fakes (default ``G(z, labels)``).
    * ``score_real(batch, images)`` / ``score_fake(batch, images)``: D on the step's real and fake
      inputs (default: ``discriminate`` with the batch's labels), for variants whose D needs more
      than the images (BiGAN's latent pairs).
    * ``d_adversarial_loss(batch, real_out, fake_out)`` / ``g_adversarial_loss(batch, fake_out)``:
      the game's two losses (default: the run's objective on the logits).
    * ``d_terms(batch, real_out, fake_out)`` / ``g_terms(batch, fake_out)``: named extra loss terms
      (AC-GAN's class loss, InfoGAN's information term), added to the loss and logged by name;
      ``d_logs`` / ``g_logs``: what else to log.
    * ``incompatible``: technique effects (gan_hub.game) the variant cannot take, with the reason.
    """

    incompatible: dict[str, str] = {}
    # the G step scores the fakes even when a technique replaces the adversarial loss, because g_terms read them
    g_terms_use_fake_scores = False

    def __init__(self, objective: Objective, techniques: list[Technique] | None = None):
        self.objective = objective
        self.techniques = list(techniques or [])
        check_compatible(type(self).__name__, self.incompatible, self.techniques)

    # ---- hooks shared by every algorithm ----------------------------------------------------------
    def setup(self, generator: nn.Module, discriminator: nn.Module) -> None:
        for t in self.techniques:
            t.setup(generator, discriminator)

    def bind_data(self, dataset, seed: int) -> None:
        """Called once by the trainer with the training set and the run's seed, before training. An
        algorithm that draws examples of its own (the semi-supervised labelled subset) takes them here."""

    def bind_optimizers(self, g_optimizer: torch.optim.Optimizer, d_optimizer: torch.optim.Optimizer) -> None:
        """Called once the players' optimizers exist; an algorithm that looks ahead through D's optimizer
        (the unrolled GAN) keeps it."""

    def discriminator_export(self, discriminator: nn.Module) -> dict[str, Tensor]:
        """The discriminator weights the trainer exports (``discriminator.safetensors``): by default the
        network's own; an algorithm that keeps an average of them (semi-supervised) returns that."""
        return discriminator.state_dict()

    def options(self) -> dict[str, Any]:
        """The variant options this algorithm runs with, defaults filled in (recorded as what ran)."""
        return dict(getattr(self, "resolved_options", {}))

    # ---- what the networks need from the algorithm (recorded in config.json) ----------------------
    def generator_wrappers(self) -> list[dict[str, Any]]:
        """Network wrappers (gan_hub.networks) the algorithm needs around the generator, e.g. InfoGAN's codes."""
        return []

    def discriminator_wrappers(self) -> list[dict[str, Any]]:
        """Network wrappers the algorithm needs around the discriminator, e.g. AC-GAN's class head."""
        return []

    def discriminator_kwargs(self, dataset_info) -> dict[str, Any]:
        """Constructor options the discriminator needs from the dataset (the semi-supervised D's classes)."""
        return {}

    def after_d_step(self, discriminator: nn.Module, ctx: StepContext) -> None:
        for t in self.techniques:
            t.after_d_step(discriminator, ctx)

    def after_g_step(self, generator: nn.Module, ctx: StepContext) -> None:
        for t in self.techniques:
            t.after_g_step(generator, ctx)

    def state_dict(self) -> dict[str, Tensor]:
        return {f"{i}.{t.name}.{k}": v for i, t in enumerate(self.techniques) for k, v in t.state_dict().items()}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        for i, t in enumerate(self.techniques):
            prefix = f"{i}.{t.name}."
            t.load_state_dict({k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)})

    # ---- what a variant overrides -----------------------------------------------------------------
    def discriminate(self, discriminator: nn.Module, images: Tensor, labels: Tensor | None) -> DOutput:
        return DOutput.of(discriminator(images, labels))

    def features(self, discriminator: nn.Module, images: Tensor, labels: Tensor | None) -> Tensor:
        body = getattr(unwrap(discriminator), "body", None)
        if body is None:
            raise ValueError(
                f"feature matching needs a discriminator with a .body (features); "
                f"{type(unwrap(discriminator)).__name__} has none"
            )
        return body(images)

    def generate(self, generator: nn.Module, z: Tensor, labels: Tensor | None, batch: Batch) -> Tensor:
        return generator(z, labels)

    def scored_fakes(self, batch: Batch) -> Tensor:
        """The fakes D scores in either step (before the techniques' input hooks): the step's fakes."""
        return batch.fake

    def score_real(self, batch: Batch, images: Tensor) -> DOutput:
        return self.discriminate(batch.discriminator, images, batch.labels)

    def score_fake(self, batch: Batch, images: Tensor) -> DOutput:
        # experience replay may hand D more (or fewer) fakes than labels; replayed fakes carry no labels
        labels = batch.fake_labels
        return self.discriminate(
            batch.discriminator, images, labels if labels is None or len(labels) == len(images) else None
        )

    def score_fake_for_generator(self, batch: Batch, images: Tensor) -> DOutput:
        """D on the G step's fakes (default ``score_fake``; the unrolled GAN scores them with an unrolled D)."""
        return self.score_fake(batch, images)

    def d_adversarial_loss(self, batch: Batch, real: DOutput, fake: DOutput) -> Tensor:
        return self.objective.discriminator_loss(real.logits.float(), fake.logits.float())

    def g_adversarial_loss(self, batch: Batch, fake: DOutput) -> Tensor:
        real_logits = None
        if self.objective.uses_real_logits_in_generator:
            with torch.no_grad():
                real_logits = self.score_real(batch, batch.real).logits.float()
        return self.objective.generator_loss(fake.logits.float(), real_logits)

    def d_logs(self, batch: Batch, real: DOutput, fake: DOutput) -> dict[str, float]:
        prob = self.objective.probability
        return {"d_real": prob(real.logits.float()).mean().item(), "d_fake": prob(fake.logits.float()).mean().item()}

    def g_logs(self, batch: Batch, fake: DOutput | None) -> dict[str, float]:
        return {}

    def d_terms(self, batch: Batch, real: DOutput, fake: DOutput) -> dict[str, Tensor]:
        return {}

    def g_terms(self, batch: Batch, fake: DOutput | None) -> dict[str, Tensor]:
        return {}

    # ---- the template steps -----------------------------------------------------------------------
    def batch(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        real: Tensor,
        labels: Tensor | None,
        z: Tensor,
        ctx: StepContext,
    ) -> Batch:
        return Batch(
            generator,
            discriminator,
            real,
            labels,
            z,
            ctx,
            discriminate=lambda x, y=None: self.discriminate(discriminator, x, y),
            features=lambda x, y=None: self.features(discriminator, x, y),
            fake_labels=labels,
        )

    @staticmethod
    def _add(loss: Tensor, logs: dict[str, float], prefix: str, terms: dict[str, Tensor | None]) -> Tensor:
        for name, term in terms.items():
            if term is not None:
                loss = loss + term
                logs[f"{prefix}_{name}"] = term.item()
        return loss

    def discriminator_loss(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        real: Tensor,
        labels: Tensor | None,
        z: Tensor,
        ctx: StepContext,
    ) -> tuple[Tensor, dict[str, float]]:
        batch = self.batch(generator, discriminator, real, labels, z, ctx)
        with torch.no_grad():
            batch.fake = self.generate(generator, z, labels, batch)
        real_in, fake_in = real, self.scored_fakes(batch).to(real.dtype)
        for t in self.techniques:
            real_in, fake_in = t.d_inputs(batch, real_in, fake_in)
        # Separate forwards for real and fake, as in DCGAN: batch norm in D then normalises each batch
        # the same way in the D step and the G step (a mixed batch would let D judge batch statistics
        # that the generator step never sees).
        real_out, fake_out = self.score_real(batch, real_in), self.score_fake(batch, fake_in)
        loss = self.d_adversarial_loss(batch, real_out, fake_out)
        logs: dict[str, float] = {}
        loss = self._add(loss, logs, "d", self.d_terms(batch, real_out, fake_out))
        logs = {"d_loss": loss.item(), **self.d_logs(batch, real_out, fake_out), **logs}
        batch.loss = loss
        loss = self._add(loss, logs, "d", {t.name: t.d_penalty(batch) for t in self.techniques})
        return loss, logs

    def generator_loss(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        z: Tensor,
        labels: Tensor | None,
        real: Tensor,
        ctx: StepContext,
    ) -> tuple[Tensor, dict[str, float]]:
        batch = self.batch(generator, discriminator, real, labels, z, ctx)
        batch.fake = self.generate(generator, z, labels, batch)
        replaced = [loss for t in self.techniques if (loss := t.generator_loss(batch)) is not None]
        fake_out = None
        if not replaced or self.g_terms_use_fake_scores:
            fake_in = self.scored_fakes(batch)
            for t in self.techniques:
                fake_in = t.g_inputs(batch, fake_in)
            fake_out = self.score_fake_for_generator(batch, fake_in)
        loss = sum(replaced) if replaced else self.g_adversarial_loss(batch, fake_out)
        logs: dict[str, float] = {}
        loss = self._add(loss, logs, "g", self.g_terms(batch, fake_out))
        logs = {"g_loss": loss.item(), **self.g_logs(batch, fake_out), **logs}
        batch.loss = loss
        loss = self._add(loss, logs, "g", {t.name: t.g_penalty(batch) for t in self.techniques})
        return loss, logs


@dataclass(frozen=True)
class OptimizerSpec:
    """``kind``: one of :data:`gan_hub.optim.OPTIMIZERS` (Adam's take ``betas``); learning rates per player."""

    kind: str = "adam"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)

    def build(self, params, lr: float, betas: tuple[float, float] | None = None) -> torch.optim.Optimizer:
        return build_optimizer(self.kind, params, lr, betas or self.betas)


@dataclass(frozen=True)
class VariantSpec:
    name: str
    summary: str
    paper: str
    arch: str
    discriminator_arch: str | None = None  # another registered architecture's discriminator (e.g. an autoencoder)
    objective: str = "non-saturating"
    conditional: bool = False
    arch_kwargs: dict[str, Any] = field(default_factory=dict)
    techniques: dict[str, Any] = field(default_factory=dict)  # technique name -> options (see gan_hub.techniques)
    algorithm: type[AdversarialAlgorithm] = AdversarialAlgorithm
    optimizer: str = "adam"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    n_critic: int = 1
    ema_decay: float = 0.999
    latent_dim: int = 100
    batch_size: int = 64
    image_size: int | None = None  # the variant's resolution: the trainer pads or shrinks real images to it

    def algorithm_options(self) -> list[str]:
        """The options its algorithm takes besides the objective and techniques (``variant_options``)."""
        parameters = inspect.signature(self.algorithm).parameters.values()
        return [
            p.name
            for p in parameters
            if p.name not in ("objective", "techniques") and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]

    def build_algorithm(
        self, objective: Objective, techniques: list[Technique] | None = None, options: dict[str, Any] | None = None
    ) -> AdversarialAlgorithm:
        """The algorithm with ``options`` (a training config's ``variant_options``, e.g. the unrolled
        variant's ``unroll_steps``); an option the algorithm does not take is an error naming those it does."""
        options = dict(options or {})
        known = self.algorithm_options()
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise ValueError(
                f"variant {self.name!r} has no option(s) {unknown}; its options are: {', '.join(known) or '(none)'}"
            )
        algorithm = self.algorithm(objective, techniques, **options)
        parameters = inspect.signature(self.algorithm).parameters
        algorithm.resolved_options = {name: options.get(name, parameters[name].default) for name in known}
        return algorithm

    @property
    def optimizer_spec(self) -> OptimizerSpec:
        return OptimizerSpec(self.optimizer, self.lr_g, self.lr_d, self.betas)
