"""One place that turns a training config into a run: variant defaults <- YAML <- command line.

:func:`compose` resolves every setting (an explicit 0 stays 0: a value counts as given when it is not
None), builds the techniques and the algorithm, and, given the dataset's shape, the model config with
its generator and discriminator sections. The trainer, the CLI's validation, ``bench/`` and the tests
all use it, and provenance and model cards record its resolved values: what ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gan_hub.config import GeneratorConfig
from gan_hub.networks import NetworkConfig, split_kwargs
from gan_hub.objectives import get_objective
from gan_hub.optim import OPTIMIZERS
from gan_hub.techniques import TechniqueSetup, configure, merge_switches
from gan_hub.variants import get_variant
from gan_hub.variants.base import AdversarialAlgorithm, OptimizerSpec, VariantSpec

from .config import TrainConfig, TrainConfigError

# the settings a resume may change: how long and how often to log, sample, score and checkpoint
RESUMABLE_CHANGES = frozenset(
    {
        "max_steps",
        "stop_at_step",
        "log_every",
        "sample_every",
        "eval_every",
        "eval_samples_during_training",
        "checkpoint_every",
        "keep_checkpoints",
        "eval_samples",
        "num_workers",
        "output_dir",
        "data_dir",
        "push_to_hub",
        "init_from",
    }
)


def _given(value: Any, default: Any) -> Any:
    return default if value is None else value


@dataclass
class Run:
    """A training config resolved against its variant: every setting that decides what is trained."""

    cfg: TrainConfig
    spec: VariantSpec
    settings: dict[str, Any]
    setup: TechniqueSetup
    algorithm: AdversarialAlgorithm

    @property
    def optimizer(self) -> OptimizerSpec:
        s = self.settings
        return OptimizerSpec(s["optimizer"], s["lr_g"], s["lr_d"], tuple(s["betas"]))

    def model_config(self, info) -> GeneratorConfig:
        """The model config for a dataset of ``info``'s shape and classes (gan_hub.data.DatasetInfo)."""
        s, spec = self.settings, self.spec
        conditional = spec.conditional
        try:
            split = split_kwargs(s["arch"], s["arch_kwargs"], spec.discriminator_arch)
        except (KeyError, ValueError) as err:
            raise TrainConfigError(str(err)) from None
        d_kwargs = {**split["discriminator"], **self.algorithm.discriminator_kwargs(info)}
        return GeneratorConfig(
            variant=self.cfg.variant,
            latent_dim=s["latent_dim"],
            dataset=self.cfg.dataset,
            num_classes=info.num_classes if conditional else 0,
            class_names=list(info.class_names) if conditional else [],
            image_size=info.image_size,
            channels=info.channels,
            generator=NetworkConfig(
                s["arch"], split["generator"], self.setup.generator_wrappers + self.algorithm.generator_wrappers()
            ),
            discriminator=NetworkConfig(
                spec.discriminator_arch or s["arch"],
                d_kwargs,
                self.setup.discriminator_wrappers + self.algorithm.discriminator_wrappers(),
            ),
        )


def compose(cfg: TrainConfig) -> Run:
    """Resolve ``cfg`` against its variant; every error names the option and what is allowed."""
    spec = get_variant(cfg.variant)
    arch = _given(cfg.arch, spec.arch)
    # --arch to another architecture drops the variant's options for its own (they would not fit)
    arch_kwargs = {**(spec.arch_kwargs if arch == spec.arch else {}), **cfg.arch_kwargs}
    switches = merge_switches(spec.techniques, cfg.techniques)
    setup = configure(switches, get_objective(_given(cfg.objective, spec.objective)))
    algorithm = spec.build_algorithm(setup.objective, setup.techniques, cfg.variant_options)
    settings = {
        "variant": cfg.variant,
        "dataset": cfg.dataset,
        "seed": cfg.seed,
        "mixed_precision": cfg.mixed_precision,
        "objective": setup.objective.name,
        "arch": arch,
        "arch_kwargs": arch_kwargs,
        "latent_dim": _given(cfg.latent_dim, spec.latent_dim),
        "optimizer": _given(cfg.optimizer, spec.optimizer),
        "lr_g": _given(cfg.lr_g, spec.lr_g),
        "lr_d": _given(cfg.lr_d, spec.lr_d),
        "betas": [_given(cfg.beta1, spec.betas[0]), _given(cfg.beta2, spec.betas[1])],
        "n_critic": _given(cfg.n_critic, spec.n_critic),
        "batch_size": _given(cfg.batch_size, spec.batch_size),
        "ema_decay": _given(cfg.ema_decay, spec.ema_decay),
        "lr_decay_start": cfg.lr_decay_start,
        "techniques": switches,
        "variant_options": {**algorithm.options(), **cfg.variant_options},
        "max_steps": cfg.max_steps,
        "stop_at_step": cfg.stop_at_step,
        # only when given, so the records of runs from before the option still match on resume
        **({"dataset_options": cfg.dataset_options} if cfg.dataset_options else {}),
    }
    _check(settings)
    try:
        split_kwargs(arch, arch_kwargs, spec.discriminator_arch)
    except (KeyError, ValueError) as err:
        raise TrainConfigError(f"arch_kwargs (--arch-kwargs): {str(err).strip(chr(39))}") from None
    return Run(cfg, spec, settings, setup, algorithm)


def _check(s: dict[str, Any]) -> None:
    if s["optimizer"] not in OPTIMIZERS:
        raise TrainConfigError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got {s['optimizer']!r}")
    for name in ("lr_g", "lr_d"):
        if not s[name] > 0:
            raise TrainConfigError(f"{name} must be a positive learning rate, got {s[name]!r}")
    for name in ("latent_dim", "n_critic", "batch_size"):
        if isinstance(s[name], bool) or not isinstance(s[name], int) or s[name] < 1:
            raise TrainConfigError(f"{name} must be an integer >= 1, got {s[name]!r}")
    if not 0 <= s["ema_decay"] < 1:
        raise TrainConfigError(f"ema_decay must be in [0, 1) (0 turns the EMA generator off), got {s['ema_decay']!r}")
    if not all(0 <= b < 1 for b in s["betas"]):
        raise TrainConfigError(f"beta1 and beta2 must be in [0, 1), got {s['betas']}")


def config_differences(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """The settings that differ between a run folder's recorded settings and this run's, ignoring what a
    resume may change (RESUMABLE_CHANGES); one line per setting, "name: recorded -> now"."""
    keys = sorted((set(recorded) | set(current)) - RESUMABLE_CHANGES)
    return [
        f"{k}: {recorded.get(k, '(not recorded)')!r} -> {current.get(k, '(not set)')!r}"
        for k in keys
        if _normalised(recorded.get(k)) != _normalised(current.get(k))
    ]


def _normalised(value: Any) -> Any:
    """JSON's view of a value (tuples are lists), so a recorded setting compares equal to a resolved one."""
    import json

    return json.loads(json.dumps(value, sort_keys=True, default=str))
