"""Progressive growing of GANs (Karras, Aila, Laine & Lehtinen, 2017, arXiv:1710.10196).

Training starts with both networks at 4x4 and adds a level (twice the resolution) at a time up to
the variant's 32x32 (gan_hub/archs/progan.py holds the networks). The stage is a function of the step
alone (:class:`GrowthSchedule`), so a resumed run is exact and every process agrees:

    steps [0, stable)                          level 0 (4x4), alpha 1
    then, for each level l = 1..L in turn:     fade_steps with alpha = (steps into the fade) / fade_steps,
                                               from 0 up towards 1, then stable_steps at alpha 1
    after the last level's stable phase        level L, alpha 1 for good

While a level fades in, alpha blends the new block's output with the upsampled output of the level
below in G (to_rgb), and the new block's features with those of the downsampled image in D
(from_rgb). Real images are shown to D at the current resolution: the 32x32 image is average-pooled
down to it and, during a fade, blended in the same way as G's output,
alpha * x_r + (1 - alpha) * upsample(avgpool(x_r)), so real and fake images are formed alike.

MNIST (28x28) is trained at 32x32: the variant's ``image_size`` makes the trainer pad every digit with
2 black pixels per side (the LeNet-5 convention; the digits keep their scale). The exported generator
is built at its top level with alpha 1, so ``generate`` returns 32x32 images.

Defaults: the paper's WGAN-GP loss (lambda 10, one D step per G step), Adam lr 1e-3, betas (0, 0.99),
an EMA generator (0.999), equalized learning rate, pixel norm and the minibatch standard-deviation
feature. The paper fades in and stabilises each level over 800k images; our default is 500 steps each
(32k images at batch 64), so the 32x32 level is fully in at step 3,000 of the default 5,000. Not
implemented: the paper's small drift term 0.001 E[D(x)^2] on the critic.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import torch
import torch.nn.functional as F
from torch import nn

from ..archs.progan import Growing
from ..objectives import Objective
from ..registry import VARIANTS
from ..techniques._common import unwrap
from .base import AdversarialAlgorithm, StepContext, Technique, VariantSpec

Tensor = torch.Tensor

DEFAULT_FADE_STEPS = 500
DEFAULT_STABLE_STEPS = 500
IMAGE_SIZE = 32


def _steps(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class GrowthSchedule:
    """(level, alpha) as a function of the step; ``levels`` = L doublings above 4x4."""

    levels: int
    fade_steps: int = DEFAULT_FADE_STEPS
    stable_steps: int = DEFAULT_STABLE_STEPS

    def __post_init__(self):
        _steps("levels", self.levels, 0)
        _steps("fade_steps", self.fade_steps, 0)
        _steps("stable_steps", self.stable_steps, 1)

    def at(self, step: int) -> tuple[int, float]:
        if step < self.stable_steps:
            return 0, 1.0
        level, into = divmod(step - self.stable_steps, self.fade_steps + self.stable_steps)
        level += 1
        if level > self.levels:
            return self.levels, 1.0
        return level, (min(1.0, into / self.fade_steps) if self.fade_steps else 1.0)

    def resolution(self, step: int) -> int:
        return 4 * 2 ** self.at(step)[0]

    @property
    def grown_at(self) -> int:
        """The first step at the top level with alpha 1."""
        return (
            self.stable_steps + (self.levels - 1) * (self.fade_steps + self.stable_steps) + self.fade_steps
            if self.levels
            else 0
        )


def real_at(real: Tensor, resolution: int, alpha: float) -> Tensor:
    """Real images brought to ``resolution`` (average pooling) and, while a level fades in (alpha < 1),
    blended with their own half-resolution version upsampled, as G's output is."""
    factor = real.shape[-1] // resolution
    if factor * resolution != real.shape[-1]:
        raise ValueError(
            f"real images of {real.shape[-1]}x{real.shape[-1]} cannot be pooled to {resolution}x{resolution}"
        )
    x = F.avg_pool2d(real, factor) if factor > 1 else real
    if alpha < 1.0:
        x = alpha * x + (1 - alpha) * F.interpolate(F.avg_pool2d(x, 2), scale_factor=2, mode="nearest")
    return x


def _growing(module: nn.Module, role: str) -> Growing:
    net = unwrap(module)
    if not isinstance(net, Growing):
        raise TypeError(
            f"progan needs progressively growing networks (the progan architecture); the {role} is {type(net).__name__}"
        )
    return net


class ProGANAlgorithm(AdversarialAlgorithm):
    """The base algorithm's losses at the stage the schedule gives for the step. Options:
    ``fade_steps`` (alpha's ramp, default 500) and ``stable_steps`` (each level at alpha 1, default 500)."""

    def __init__(
        self,
        objective: Objective,
        techniques: list[Technique] | None = None,
        fade_steps: int = DEFAULT_FADE_STEPS,
        stable_steps: int = DEFAULT_STABLE_STEPS,
    ):
        super().__init__(objective, techniques)
        self.fade_steps = _steps("fade_steps", fade_steps, 0)
        self.stable_steps = _steps("stable_steps", stable_steps, 1)
        self.schedule: GrowthSchedule | None = None

    def setup(self, generator: nn.Module, discriminator: nn.Module) -> None:
        g, d = _growing(generator, "generator"), _growing(discriminator, "discriminator")
        if g.levels != d.levels:
            raise ValueError(f"the generator grows to level {g.levels} but the discriminator to {d.levels}")
        self.schedule = GrowthSchedule(g.levels, self.fade_steps, self.stable_steps)
        super().setup(generator, discriminator)

    def grow(self, generator: nn.Module, discriminator: nn.Module, step: int) -> tuple[int, float]:
        """Set both networks to the schedule's stage for ``step``; returns (level, alpha)."""
        if self.schedule is None:
            raise RuntimeError("call the algorithm's setup(G, D) first")
        level, alpha = self.schedule.at(step)
        for net, role in ((generator, "generator"), (discriminator, "discriminator")):
            _growing(net, role).set_growth(level, alpha)
        return level, alpha

    def discriminator_loss(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        real: Tensor,
        labels: Tensor | None,
        z: Tensor,
        ctx: StepContext,
    ) -> tuple[Tensor, dict[str, float]]:
        level, alpha = self.grow(generator, discriminator, ctx.step)
        loss, logs = super().discriminator_loss(
            generator, discriminator, real_at(real, 4 * 2**level, alpha), labels, z, ctx
        )
        return loss, {**logs, "resolution": float(4 * 2**level), "alpha": alpha}

    def generator_loss(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        z: Tensor,
        labels: Tensor | None,
        real: Tensor,
        ctx: StepContext,
    ) -> tuple[Tensor, dict[str, float]]:
        level, alpha = self.grow(generator, discriminator, ctx.step)
        return super().generator_loss(generator, discriminator, z, labels, real_at(real, 4 * 2**level, alpha), ctx)


VARIANTS.register(
    "progan",
    VariantSpec(
        name="progan",
        arch="progan",
        arch_kwargs={"base_channels": 64},
        objective="wasserstein",
        algorithm=ProGANAlgorithm,
        techniques={"gradient_penalty": {"weight": 10.0}},
        lr_g=1e-3,
        lr_d=1e-3,
        betas=(0.0, 0.99),
        n_critic=1,
        image_size=IMAGE_SIZE,
        summary=f"progressive growing: 4x4 -> 8 -> 16 -> {IMAGE_SIZE}x{IMAGE_SIZE} (MNIST padded to 32), each level "
        f"faded in "
        f"over {DEFAULT_FADE_STEPS} steps and held {DEFAULT_STABLE_STEPS}; WGAN-GP, equalized lr, pixel norm, "
        "minibatch stddev",
        paper="Karras, Aila, Laine & Lehtinen, Progressive Growing of GANs for Improved Quality, Stability, and "
        "Variation, "
        "2017 (arXiv:1710.10196)",
    ),
)
