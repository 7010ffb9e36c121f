"""Training options: one dataclass, filled from defaults, then a YAML file, then the command line."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml


class TrainConfigError(ValueError):
    pass


@dataclass
class TrainConfig:
    variant: str = "dcgan"
    dataset: str = "mnist"
    output_dir: str | None = None  # None: runs/VARIANT-DATASET
    data_dir: str | None = None
    max_steps: int = 5000
    batch_size: int | None = None  # per process; None: the variant's default
    seed: int = 0
    mixed_precision: str = "no"
    objective: str | None = None  # None: the variant's objective
    arch: str | None = None  # None: the variant's architecture
    arch_kwargs: dict[str, Any] = field(default_factory=dict)  # merged over the variant's
    latent_dim: int | None = None
    lr_g: float | None = None
    lr_d: float | None = None
    beta1: float | None = None
    beta2: float | None = None
    n_critic: int | None = None
    optimizer: str | None = None  # adam or rmsprop; None: the variant's
    techniques: dict[str, Any] = field(default_factory=dict)  # merged over the variant's; false turns one off
    variant_options: dict[str, Any] = field(default_factory=dict)  # the variant algorithm's options, e.g. unroll_steps
    ema_decay: float | None = None  # 0 disables the EMA generator
    lr_decay_start: int | None = None  # from this step, both learning rates fall linearly to 0 at max_steps
    stop_at_step: int | None = None  # stop and export here, keeping the max_steps schedule (e.g. the best checkpoint)
    log_every: int = 50
    sample_every: int = 500
    eval_every: int = 1000
    eval_samples_during_training: int = 1000
    checkpoint_every: int = 500
    keep_checkpoints: int = 2
    eval_samples: int = 10000
    num_workers: int = 0
    push_to_hub: str | None = None
    init_from: str | None = None  # a model folder or Hub repo id whose G and D weights start the run

    def __post_init__(self):
        if self.output_dir is None:
            self.output_dir = f"runs/{self.variant}-{self.dataset}"
        if self.mixed_precision not in ("no", "fp16", "bf16"):
            raise TrainConfigError(f"mixed_precision must be no, fp16 or bf16, got {self.mixed_precision!r}")
        for name in ("max_steps", "log_every", "sample_every", "eval_every", "checkpoint_every", "keep_checkpoints"):
            if int(getattr(self, name)) < 1:
                raise TrainConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.batch_size is not None and self.batch_size < 1:
            raise TrainConfigError(f"batch_size must be at least 1, got {self.batch_size}")
        if self.lr_decay_start is not None and not 0 <= self.lr_decay_start < self.max_steps:
            raise TrainConfigError(f"lr_decay_start must be in [0, max_steps), got {self.lr_decay_start}")
        if self.stop_at_step is not None and not 0 < self.stop_at_step <= self.max_steps:
            raise TrainConfigError(f"stop_at_step must be in (0, max_steps], got {self.stop_at_step}")
        for name in ("arch_kwargs", "techniques", "variant_options"):
            if not isinstance(getattr(self, name), dict):
                raise TrainConfigError(f"{name} must be a mapping of option: value, got {getattr(self, name)!r}")
        if self.eval_samples < 0:
            raise TrainConfigError(f"eval_samples must be >= 0, got {self.eval_samples}")

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_yaml(cls, path: str | Path, overrides: dict[str, Any] | None = None) -> "TrainConfig":
        path = Path(path)
        if not path.is_file():
            raise TrainConfigError(f"config file {path} does not exist")
        data = yaml.safe_load(path.read_text()) or {}
        if not isinstance(data, dict):
            raise TrainConfigError(f"{path} must hold a mapping of option: value")
        data = {k.replace("-", "_"): v for k, v in data.items()}
        unknown = sorted(set(data) - set(cls.field_names()))
        if unknown:
            raise TrainConfigError(f"unknown keys {unknown} in {path}; known keys: {cls.field_names()}")
        data.update(overrides or {})
        return cls(**data)

    @property
    def last_step(self) -> int:
        return self.stop_at_step or self.max_steps

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
