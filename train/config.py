"""Training options: one dataclass, filled from defaults, then a YAML file, then the command line."""

from __future__ import annotations

import dataclasses
import math
import re
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
    dataset_options: dict[str, Any] = field(default_factory=dict)  # the dataset builder's, e.g. stacked-mnist's size
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
    optimizer: str | None = None  # one of gan_hub.optim.OPTIMIZERS; None: the variant's
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
        check_fields(self)
        if self.output_dir is None:
            self.output_dir = f"runs/{self.variant}-{self.dataset}"
        if Path(self.output_dir).exists() and not Path(self.output_dir).is_dir():
            raise TrainConfigError(
                f"output_dir (--output-dir) {self.output_dir} is a file, not a folder: give a folder for the run"
            )
        if self.data_dir is not None and Path(self.data_dir).exists() and not Path(self.data_dir).is_dir():
            raise TrainConfigError(f"data_dir (--data-dir) {self.data_dir} is a file, not a folder")
        if self.lr_decay_start is not None and not 0 <= self.lr_decay_start < self.max_steps:
            raise TrainConfigError(f"lr_decay_start must be in [0, max_steps), got {self.lr_decay_start}")
        if self.stop_at_step is not None and not 0 < self.stop_at_step <= self.max_steps:
            raise TrainConfigError(f"stop_at_step must be in (0, max_steps], got {self.stop_at_step}")

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_yaml(cls, path: str | Path, overrides: dict[str, Any] | None = None) -> "TrainConfig":
        path = Path(path)
        if not path.is_file():
            raise TrainConfigError(f"config file {path} does not exist")
        try:
            data = yaml.safe_load(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError as err:
            raise TrainConfigError(f"{path} is not UTF-8 text ({err.reason} at byte {err.start})") from None
        except yaml.YAMLError as err:
            raise TrainConfigError(f"{path} is not valid YAML: {' '.join(str(err).split())}") from None
        if data is None:
            data = {}
        if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
            raise TrainConfigError(f"{path} must hold a mapping of option: value (keys as the flags, with - or _)")
        data = {k.replace("-", "_"): v for k, v in data.items()}
        unknown = sorted(set(data) - set(cls.field_names()))
        if unknown:
            raise TrainConfigError(f"unknown keys {unknown} in {path}; known keys: {cls.field_names()}")
        # PyYAML (YAML 1.1) reads 1e-4, without a dot, as text: take it as the number it is written as
        data = {
            k: float(v) if FIELD_RULES.get(k, ("",))[0] == "real" and isinstance(v, str) and EXPONENT.match(v) else v
            for k, v in data.items()
        }
        data.update(overrides or {})
        return cls(**data)

    @property
    def last_step(self) -> int:
        return self.stop_at_step or self.max_steps

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


EXPONENT = re.compile(r"^[+-]?\d+[eE][+-]?\d+$")
SEED_MAX = 2**32 - 1  # numpy's seed range; accelerate.set_seed seeds numpy too
SPLITS = 10  # the Inception Score's splits: a score needs at least one sample per split
# field -> (kind, lower bound, upper bound, None allowed); kinds: int, real, str, mapping
FIELD_RULES: dict[str, tuple] = {
    "variant": ("str", None, None, False),
    "dataset": ("str", None, None, False),
    "dataset_options": ("mapping", None, None, False),
    "output_dir": ("str", None, None, True),
    "data_dir": ("str", None, None, True),
    "max_steps": ("int", 1, None, False),
    "batch_size": ("int", 1, None, True),
    "seed": ("int", 0, SEED_MAX, False),
    "mixed_precision": ("choice", ("no", "fp16", "bf16"), None, False),
    "objective": ("str", None, None, True),
    "arch": ("str", None, None, True),
    "arch_kwargs": ("mapping", None, None, False),
    "latent_dim": ("int", 1, None, True),
    "lr_g": ("real", "> 0", None, True),
    "lr_d": ("real", "> 0", None, True),
    "beta1": ("real", ">= 0", "< 1", True),
    "beta2": ("real", ">= 0", "< 1", True),
    "n_critic": ("int", 1, None, True),
    "optimizer": ("str", None, None, True),
    "techniques": ("mapping", None, None, False),
    "variant_options": ("mapping", None, None, False),
    "ema_decay": ("real", ">= 0", "< 1", True),
    "lr_decay_start": ("int", 0, None, True),
    "stop_at_step": ("int", 1, None, True),
    "log_every": ("int", 1, None, False),
    "sample_every": ("int", 1, None, False),
    "eval_every": ("int", 1, None, False),
    "eval_samples_during_training": ("samples", None, None, False),
    "checkpoint_every": ("int", 1, None, False),
    "keep_checkpoints": ("int", 1, None, False),
    "eval_samples": ("samples", None, None, False),
    "num_workers": ("int", 0, None, False),
    "push_to_hub": ("repo", None, None, True),
}


def option_name(field_name: str) -> str:
    """How a field is named in messages: the YAML key and the flag, e.g. "lr_g (--lr-g)"."""
    return f"{field_name} (--{field_name.replace('_', '-')})"


def check_fields(cfg: TrainConfig) -> None:
    """Type and range of every field, with a message naming the key (YAML) and the flag (command line)."""
    for name, (kind, low, high, optional) in FIELD_RULES.items():
        value = getattr(cfg, name)
        if value is None and optional:
            continue
        try:
            check_field(kind, low, high, value)
        except ValueError as err:
            raise TrainConfigError(
                f"{option_name(name)} must be {err}, got {value!r}"
                f"{'' if value is None else f' ({type(value).__name__})'}"
            ) from None


def check_field(kind: str, low, high, value) -> None:
    """Raise ValueError(what is allowed) unless ``value`` fits."""
    if kind in ("str", "repo"):
        if not isinstance(value, str) or not value.strip():
            raise ValueError("a non-empty text")
        if kind == "repo":
            check_repo_id(value)
    elif kind == "choice":
        if value not in low:
            raise ValueError(f"one of {', '.join(low)}")
    elif kind == "mapping":
        if not isinstance(value, dict):
            raise ValueError("a mapping of option: value")
    elif kind in ("int", "samples"):
        allowed = (
            "0 (off) or a whole number >= 10 (one sample per Inception Score split)"
            if kind == "samples"
            else f"a whole number from {low} to {high}"
            if high is not None
            else f"a whole number >= {low}"
        )
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < (low or 0)
            or (high is not None and value > high)
        ):
            raise ValueError(allowed)
        if kind == "samples" and 0 < value < SPLITS:
            raise ValueError(allowed)
    elif kind == "real":
        bounds = " and ".join(b for b in (low, high) if b)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"a number {bounds}")
        ok = {"> 0": value > 0, ">= 0": value >= 0, "< 1": value < 1, None: True}
        if not (ok[low] and ok[high]):
            raise ValueError(f"a number {bounds}")


def check_repo_id(value: str) -> None:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(value)
    except HFValidationError as err:
        raise ValueError("a Hub repo id ORG/NAME (letters, digits, '-', '_' and '.'; no '--' or '..')") from err
    if value.count("/") != 1:
        raise ValueError("a Hub repo id of the form ORG/NAME")
