"""The vocabulary of one training step, shared by algorithms (gan_hub/variants) and techniques
(gan_hub/techniques) without either importing the other.

* :class:`StepContext`: the step, the horizon, a cross-process mean.
* :class:`DOutput`: what the discriminator says about a batch: logits plus named extras (class
  logits, InfoGAN's code predictions, an autoencoder's reconstruction and energy, ...).
* :class:`Batch`: the one record handed to every technique hook: the players, the real batch, the
  latents and fakes of this step, and the algorithm's own ways of asking D (``discriminate``,
  ``features``), so that a penalty scores an input exactly the way the variant does.
* :class:`Technique`: a switch that changes training without changing the variant, with its declared
  :attr:`Technique.effects`, checked against what an algorithm cannot combine with (:func:`check_compatible`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

Tensor = torch.Tensor

# What a technique may do that some algorithms cannot take (Technique.effects, AdversarialAlgorithm.incompatible).
REPLACES_GENERATOR_LOSS = "replaces the generator loss"
REPLAYS_PAST_FAKES = "shows D fakes of past steps, not those of this step's latents"
SCORES_NEW_INPUTS = "scores inputs D did not see in the step (interpolates)"


@dataclass
class StepContext:
    """What a loss may need to know about the run: the step, the horizon, and a cross-process mean."""

    step: int
    max_steps: int
    reduce_mean: Callable[[Tensor], Tensor] = lambda t: t  # the mean over processes (identity in one process)

    @property
    def progress(self) -> float:
        return min(1.0, self.step / max(1, self.max_steps))


@dataclass
class DOutput:
    """The discriminator's logits [N] (or the variant's score) and its named extra outputs."""

    logits: Tensor
    extras: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        try:
            return self.extras[name]
        except KeyError:
            raise KeyError(
                f"the discriminator gave no {name!r}; it gave: {sorted(self.extras) or 'logits only'}"
            ) from None

    @classmethod
    def of(cls, result: Any) -> "DOutput":
        """A network's raw result as a DOutput: a tensor of logits, or a mapping with ``logits`` and extras."""
        if isinstance(result, DOutput):
            return result
        if isinstance(result, dict):
            extras = dict(result)
            if "logits" not in extras:
                raise ValueError(f"a discriminator that returns a mapping must include 'logits'; got {sorted(extras)}")
            return cls(extras.pop("logits"), extras)
        return cls(result)


@dataclass
class Batch:
    """One step's record, passed first to every technique hook.

    ``real``/``labels``: the data batch (before any technique changed it); ``z``: this step's latents;
    ``fake``: the generator's output for them (detached in the D step); ``fake_labels``: the labels the
    fakes were generated with. ``discriminate(x, labels)`` and ``features(x)`` ask D the variant's
    way. ``loss``: the player's loss before penalties (set before ``d_penalty``/``g_penalty``).
    ``extras``: per-step values an algorithm keeps for its own terms (e.g. MIX+GAN's component pick).
    """

    generator: nn.Module
    discriminator: nn.Module
    real: Tensor
    labels: Tensor | None
    z: Tensor
    ctx: StepContext
    discriminate: Callable[[Tensor, Tensor | None], DOutput]
    features: Callable[[Tensor], Tensor]
    fake: Tensor | None = None
    fake_labels: Tensor | None = None
    loss: Tensor | None = None
    extras: dict[str, Any] = field(default_factory=dict)


class Technique:
    """A switch that changes training without changing the variant. Every hook is optional.

    Hooks, in the order the algorithm calls them (``batch`` first, always):
      * ``setup(G, D)`` once, after the networks exist and before training (e.g. take averages);
      * ``d_inputs(batch, real, fake)`` -> (real, fake) seen by D in the D step (instance noise, replay);
      * ``g_inputs(batch, fake)`` -> fake seen by D in the G step (instance noise);
      * ``generator_loss(batch)`` -> scalar that REPLACES the adversarial G loss (feature matching), or None;
      * ``d_penalty(batch)`` / ``g_penalty(batch)`` -> scalar added to the player's loss, or None;
      * ``after_d_step(D, ctx)`` / ``after_g_step(G, ctx)`` after each optimizer step (clipping, averages);
      * ``state_dict()`` / ``load_state_dict(state)``: tensors saved in checkpoints (per process).

    ``effects`` declares what the technique does that an algorithm may be unable to take (the
    module's constants); :func:`check_compatible` is the one place that compares them.
    """

    name = "technique"
    effects: frozenset[str] = frozenset()

    def setup(self, generator: nn.Module, discriminator: nn.Module) -> None:
        """Nothing to prepare by default."""

    def d_inputs(self, batch: Batch, real: Tensor, fake: Tensor) -> tuple[Tensor, Tensor]:
        return real, fake

    def g_inputs(self, batch: Batch, fake: Tensor) -> Tensor:
        return fake

    def generator_loss(self, batch: Batch) -> Tensor | None:
        return None

    def d_penalty(self, batch: Batch) -> Tensor | None:
        return None

    def g_penalty(self, batch: Batch) -> Tensor | None:
        return None

    def after_d_step(self, discriminator: nn.Module, ctx: StepContext) -> None:
        """Nothing to do after D's optimizer step by default."""

    def after_g_step(self, generator: nn.Module, ctx: StepContext) -> None:
        """Nothing to do after G's optimizer step by default."""

    def state_dict(self) -> dict[str, Tensor]:
        return {}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        """No state by default."""


def unwrap(module: nn.Module) -> nn.Module:
    """The network inside a (Distributed)DataParallel wrapper."""
    while isinstance(module, (nn.parallel.DistributedDataParallel, nn.DataParallel)):
        module = module.module
    return module


def check_compatible(algorithm_name: str, incompatible: dict[str, str], techniques: list[Technique]) -> None:
    """Refuse techniques whose effects the algorithm cannot take; ``incompatible`` maps an effect to why."""
    clashes = [
        f"{t.name} {effect}, but {why}"
        for t in techniques
        for effect in sorted(t.effects)
        if (why := incompatible.get(effect))
    ]
    if clashes:
        raise ValueError(
            f"{algorithm_name} cannot combine with: " + "; ".join(clashes) + ". Turn those techniques off."
        )


__all__ = [
    "Batch",
    "REPLAYS_PAST_FAKES",
    "DOutput",
    "REPLACES_GENERATOR_LOSS",
    "SCORES_NEW_INPUTS",
    "StepContext",
    "Technique",
    "check_compatible",
    "unwrap",
]
