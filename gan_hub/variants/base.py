"""What a variant is: a named preset composing an architecture, an objective, training techniques and
optimizer defaults, plus the algorithm that says how one discriminator step and one generator step go.

The trainer owns backward, optimizer steps, freezing, mixed precision and checkpoints; an algorithm
only computes losses and runs its hooks, so it works unchanged under accelerate on one or many
processes. Techniques (gan_hub/techniques) plug into the same hooks, so they combine with any variant.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

from ..objectives import Objective

Tensor = torch.Tensor


@dataclass
class StepContext:
    """What a loss may need to know about the run: the step, the horizon, and a cross-process mean."""

    step: int
    max_steps: int
    reduce_mean: Callable[[Tensor], Tensor] = lambda t: t  # the mean over processes (identity in one process)

    @property
    def progress(self) -> float:
        return min(1.0, self.step / max(1, self.max_steps))


class Technique:
    """A switch that changes training without changing the variant. Every hook is optional.

    Hooks, in the order the algorithm calls them:
      * ``setup(G, D)`` once, after the networks exist and before training (e.g. take averages);
      * ``d_inputs(real, fake, ctx)`` -> (real, fake) seen by D in the D step (instance noise, replay);
      * ``g_inputs(fake, ctx)`` -> fake seen by D in the G step (instance noise);
      * ``d_penalty(G, D, real, fake, labels, ctx)`` -> scalar added to D's loss, or None;
      * ``g_penalty(G, D, ctx)`` -> scalar added to G's loss, or None;
      * ``generator_loss(D, real, fake, labels, ctx)`` -> scalar that REPLACES the adversarial G loss
        (feature matching), or None;
      * ``after_d_step(D, ctx)`` / ``after_g_step(G, ctx)`` after each optimizer step (clipping, averages);
      * ``state_dict()`` / ``load_state_dict(state)``: tensors saved in checkpoints (per process).
    """

    name = "technique"

    def setup(self, generator: nn.Module, discriminator: nn.Module) -> None:
        pass

    def d_inputs(self, real: Tensor, fake: Tensor, ctx: StepContext) -> tuple[Tensor, Tensor]:
        return real, fake

    def g_inputs(self, fake: Tensor, ctx: StepContext) -> Tensor:
        return fake

    def d_penalty(self, generator, discriminator, real, fake, labels, ctx: StepContext) -> Tensor | None:
        return None

    def g_penalty(self, generator, discriminator, ctx: StepContext) -> Tensor | None:
        return None

    def generator_loss(self, discriminator, real, fake, labels, ctx: StepContext) -> Tensor | None:
        return None

    def after_d_step(self, discriminator: nn.Module, ctx: StepContext) -> None:
        pass

    def after_g_step(self, generator: nn.Module, ctx: StepContext) -> None:
        pass

    def state_dict(self) -> dict[str, Tensor]:
        return {}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        pass


class AdversarialAlgorithm:
    """The classic alternating game: D scores a real and a fake batch, then G is scored by D."""

    def __init__(self, objective: Objective, techniques: list[Technique] | None = None):
        self.objective = objective
        self.techniques = list(techniques or [])

    # ---- hooks shared by every algorithm ----------------------------------------------------------
    def setup(self, generator: nn.Module, discriminator: nn.Module) -> None:
        for t in self.techniques:
            t.setup(generator, discriminator)

    def bind_data(self, dataset, seed: int) -> None:
        """Called once by the trainer with the training set and the run's seed, before training. An
        algorithm that draws examples of its own (the semi-supervised labelled subset) takes them here."""

    def discriminator_export(self, discriminator: nn.Module) -> dict[str, Tensor]:
        """The discriminator weights the trainer exports (``discriminator.safetensors``): by default the
        network's own; an algorithm that keeps an average of them (semi-supervised) returns that."""
        return discriminator.state_dict()

    def _d_inputs(self, real: Tensor, fake: Tensor, ctx: StepContext) -> tuple[Tensor, Tensor]:
        for t in self.techniques:
            real, fake = t.d_inputs(real, fake, ctx)
        return real, fake

    def _g_inputs(self, fake: Tensor, ctx: StepContext) -> Tensor:
        for t in self.techniques:
            fake = t.g_inputs(fake, ctx)
        return fake

    def _add_d_penalties(self, loss, logs, generator, discriminator, real, fake, labels, ctx):
        for t in self.techniques:
            penalty = t.d_penalty(generator, discriminator, real, fake, labels, ctx)
            if penalty is not None:
                loss = loss + penalty
                logs[f"d_{t.name}"] = penalty.item()
        return loss

    def _add_g_penalties(self, loss, logs, generator, discriminator, ctx):
        for t in self.techniques:
            penalty = t.g_penalty(generator, discriminator, ctx)
            if penalty is not None:
                loss = loss + penalty
                logs[f"g_{t.name}"] = penalty.item()
        return loss

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
            t.load_state_dict({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)})

    # ---- the two losses -------------------------------------------------------------------------
    def discriminator_loss(self, generator: nn.Module, discriminator: nn.Module, real: Tensor,
                           labels: Tensor | None, z: Tensor, ctx: StepContext) -> tuple[Tensor, dict[str, float]]:
        with torch.no_grad():
            fake = generator(z, labels)
        real_in, fake_in = self._d_inputs(real, fake.to(real.dtype), ctx)
        # Separate forwards for real and fake, as in DCGAN: batch norm in D then normalises each batch
        # the same way in the D step and the G step (a mixed batch would let D judge batch statistics
        # that the generator step never sees).
        real_logits = discriminator(real_in, labels).float()
        fake_logits = discriminator(fake_in, self._fake_labels(labels, fake_in)).float()
        loss = self.objective.discriminator_loss(real_logits, fake_logits)
        prob = self.objective.probability
        logs = {"d_loss": loss.item(), "d_real": prob(real_logits).mean().item(), "d_fake": prob(fake_logits).mean().item()}
        loss = self._add_d_penalties(loss, logs, generator, discriminator, real, fake, labels, ctx)
        return loss, logs

    @staticmethod
    def _fake_labels(labels: Tensor | None, fake: Tensor) -> Tensor | None:
        # experience replay may hand D more (or fewer) fakes than labels; replayed fakes carry no labels
        return labels if labels is None or len(labels) == len(fake) else None

    def adversarial_generator_loss(self, discriminator: nn.Module, real: Tensor, fake: Tensor, labels: Tensor | None,
                                   ctx: StepContext, fake_logits: Tensor | None = None,
                                   score: Callable[[Tensor], Tensor] | None = None) -> Tensor:
        """The objective's G loss, or the loss a technique puts in its place (feature matching).

        ``fake_logits`` may be given when the caller already scored the fakes; ``score(x)`` gives D's
        logits for x (default ``discriminator(x, labels)``), used for the real batch of relativistic objectives.
        """
        replaced = [loss for t in self.techniques
                    if (loss := t.generator_loss(discriminator, real, fake, labels, ctx)) is not None]
        if replaced:
            return sum(replaced)
        score = score or (lambda x: discriminator(x, labels))
        if fake_logits is None:
            fake_logits = score(self._g_inputs(fake, ctx))
        real_logits = None
        if self.objective.uses_real_logits_in_generator:
            with torch.no_grad():
                real_logits = score(real).float()
        return self.objective.generator_loss(fake_logits.float(), real_logits)

    def generator_loss(self, generator: nn.Module, discriminator: nn.Module, z: Tensor, labels: Tensor | None,
                       real: Tensor, ctx: StepContext) -> tuple[Tensor, dict[str, float]]:
        loss = self.adversarial_generator_loss(discriminator, real, generator(z, labels), labels, ctx)
        logs = {"g_loss": loss.item()}
        loss = self._add_g_penalties(loss, logs, generator, discriminator, ctx)
        return loss, logs


@dataclass(frozen=True)
class OptimizerSpec:
    """``kind``: "adam" (with ``betas``) or "rmsprop"; learning rates per player."""

    kind: str = "adam"
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)

    def build(self, params, lr: float, betas: tuple[float, float] | None = None) -> torch.optim.Optimizer:
        if self.kind == "adam":
            return torch.optim.Adam(params, lr=lr, betas=betas or self.betas, fused=True)  # one kernel: 5x faster step on CPU
        if self.kind == "rmsprop":
            return torch.optim.RMSprop(params, lr=lr)
        raise ValueError(f"unknown optimizer {self.kind!r}; use adam or rmsprop")


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
    # D classifies the dataset's K classes (the semi-supervised K+1 discriminator) while G stays
    # unconditional: the trainer records the class names in arch_kwargs["d_classes"].
    discriminator_classes: bool = False
    image_size: int | None = None  # the variant's resolution: the trainer pads or shrinks real images to it

    def algorithm_options(self) -> list[str]:
        """The options its algorithm takes besides the objective and techniques (``variant_options``)."""
        parameters = inspect.signature(self.algorithm).parameters.values()
        return [p.name for p in parameters if p.name not in ("objective", "techniques")
                and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]

    def build_algorithm(self, objective: Objective, techniques: list[Technique] | None = None,
                        options: dict[str, Any] | None = None) -> AdversarialAlgorithm:
        """The algorithm with ``options`` (a training config's ``variant_options``, e.g. the unrolled
        variant's ``unroll_steps``); an option the algorithm does not take is an error naming those it does."""
        options = dict(options or {})
        known = self.algorithm_options()
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise ValueError(f"variant {self.name!r} has no option(s) {unknown}; its options are: "
                             f"{', '.join(known) or '(none)'}")
        return self.algorithm(objective, techniques, **options)

    @property
    def optimizer_spec(self) -> OptimizerSpec:
        return OptimizerSpec(self.optimizer, self.lr_g, self.lr_d, self.betas)
