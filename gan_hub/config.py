"""The generator config that ``config.json`` serialises: everything needed to rebuild the network."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_NAME = "config.json"


class ConfigError(ValueError):
    """A config that cannot describe a generator (unknown key, wrong value)."""


@dataclass
class GeneratorConfig:
    variant: str
    arch: str
    latent_dim: int = 100
    num_classes: int = 0
    class_names: list[str] = field(default_factory=list)
    image_size: int = 28
    channels: int = 1
    dataset: str = ""
    arch_kwargs: dict[str, Any] = field(default_factory=dict)
    # Provenance: training config, seed, steps, git commit, library versions. Not used to build.
    provenance: dict[str, Any] = field(default_factory=dict)
    format_version: int = 1

    def __post_init__(self):
        if self.num_classes and self.class_names and len(self.class_names) != self.num_classes:
            raise ConfigError(f"class_names has {len(self.class_names)} names but num_classes is {self.num_classes}")
        if self.num_classes and not self.class_names:
            self.class_names = [str(i) for i in range(self.num_classes)]
        for name in ("latent_dim", "channels"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if int(self.image_size) < 0:
            raise ConfigError(f"image_size must be positive (or 0 for vector data), got {self.image_size}")

    @property
    def is_vector(self) -> bool:
        """True for vector data (e.g. 2-D points: image_size 0, ``channels`` coordinates), not images."""
        return self.image_size == 0

    @property
    def conditional(self) -> bool:
        return self.num_classes > 0

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GeneratorConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown config keys {unknown}; known keys: {sorted(known)}")
        missing = [k for k in ("variant", "arch") if k not in data]
        if missing:
            raise ConfigError(f"config is missing required keys {missing}")
        return cls(**data)

    def save(self, folder: str | Path) -> Path:
        from .io import atomic_write_text

        return atomic_write_text(Path(folder) / CONFIG_NAME, json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, folder: str | Path) -> "GeneratorConfig":
        path = Path(folder) / CONFIG_NAME
        if not path.is_file():
            raise FileNotFoundError(f"no {CONFIG_NAME} in {folder}: is this a gan-hub model folder?")
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ConfigError(f"{path} is not valid JSON ({err}); re-export the model") from err
        try:
            return cls.from_dict(data)
        except ConfigError as err:
            raise ConfigError(f"{path}: {err}") from err
