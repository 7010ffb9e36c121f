"""The model config that ``config.json`` serialises: everything needed to rebuild both networks.

Format version 2 (what this library writes)::

    {"format_version": 2, "variant": ..., "latent_dim": ..., "num_classes": ..., "class_names": [...],
     "image_size": ..., "channels": ..., "dataset": ...,
     "generator":     {"arch": ..., "kwargs": {...}, "wrappers": [{"name": ..., ...}, ...]},
     "discriminator": {"arch": ..., "kwargs": {...}, "wrappers": [...]},
     "provenance": {...}}

Version 1 (one ``arch`` and one ``arch_kwargs`` bag for both networks, technique options among them)
still loads: it is converted on reading (:func:`upgrade_v1`).
"""

from __future__ import annotations

import json
import numbers
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_NAME = "config.json"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)

# version-1 arch_kwargs keys that were network wrappers, not constructor arguments
_V1_GENERATOR_WRAPPER_KEYS = ("g_norm", "g_vbn_reference_size", "info_categorical", "info_continuous")
_V1_DISCRIMINATOR_WRAPPER_KEYS = ("d_spectral_norm", "d_minibatch")


@dataclass
class NetworkConfig:
    """One network: ``arch`` (a registered architecture), its constructor's ``kwargs``, and ``wrappers``
    ([{"name": ..., **options}], applied in order around it)."""

    arch: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    wrappers: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"arch": self.arch, "kwargs": dict(self.kwargs), "wrappers": [dict(w) for w in self.wrappers]}

    @classmethod
    def from_dict(cls, data: Any, where: str = "network") -> "NetworkConfig":
        if not isinstance(data, dict):
            raise ValueError(f"{where} must be a mapping with arch, kwargs and wrappers, got {type(data).__name__}")
        unknown = sorted(set(data) - {"arch", "kwargs", "wrappers"})
        if unknown:
            raise ValueError(f"{where} has unknown key(s) {unknown}; known: arch, kwargs, wrappers")
        arch, kwargs, wrappers = data.get("arch"), data.get("kwargs", {}), data.get("wrappers", [])
        if not isinstance(arch, str) or not arch:
            raise ValueError(f"{where}.arch must be an architecture name, got {arch!r}")
        if not isinstance(kwargs, dict):
            raise ValueError(f"{where}.kwargs must be a mapping of option: value, got {type(kwargs).__name__}")
        if not isinstance(wrappers, list) or not all(
            isinstance(w, dict) and isinstance(w.get("name"), str) for w in wrappers
        ):
            raise ValueError(f"{where}.wrappers must be a list of mappings each with a 'name', got {wrappers!r}")
        return cls(arch, dict(kwargs), [dict(w) for w in wrappers])


class ConfigError(ValueError):
    """A config that cannot describe a model (unknown key, wrong value)."""


def _integer(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


@dataclass(init=False)
class GeneratorConfig:
    """What rebuilds a model: shapes and classes, one :class:`NetworkConfig` per network, provenance.

    ``GeneratorConfig(variant, arch, arch_kwargs=...)`` (the version-1 shorthand) splits one bag of
    architecture options between the networks (:func:`gan_hub.networks.split_kwargs`).
    """

    variant: str
    latent_dim: int
    num_classes: int
    class_names: list[str]
    image_size: int
    channels: int
    dataset: str
    generator: NetworkConfig
    discriminator: NetworkConfig | None
    provenance: dict[str, Any]
    format_version: int

    def __init__(
        self,
        variant: str,
        arch: str | None = None,
        latent_dim: int = 100,
        num_classes: int = 0,
        class_names: list[str] | None = None,
        image_size: int = 28,
        channels: int = 1,
        dataset: str = "",
        arch_kwargs: dict[str, Any] | None = None,
        provenance: dict[str, Any] | None = None,
        format_version: int = FORMAT_VERSION,
        generator: NetworkConfig | None = None,
        discriminator: NetworkConfig | None = None,
        discriminator_arch: str | None = None,
    ):
        if not isinstance(variant, str) or not variant:
            raise ConfigError(f"variant must be a variant name, got {variant!r}")
        self.variant = variant
        self.latent_dim = _integer("latent_dim", latent_dim, 1)
        self.num_classes = _integer("num_classes", num_classes, 0)
        self.image_size = _integer("image_size", image_size, 0)
        self.channels = _integer("channels", channels, 1)
        if not isinstance(dataset, str):
            raise ConfigError(f"dataset must be a string, got {dataset!r}")
        self.dataset = dataset
        names = [] if class_names is None else class_names
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ConfigError(f"class_names must be a list of strings, got {class_names!r}")
        if self.num_classes and names and len(names) != self.num_classes:
            raise ConfigError(f"class_names has {len(names)} names but num_classes is {self.num_classes}")
        if names and not self.num_classes:
            raise ConfigError(f"class_names given ({len(names)}) for a model without classes (num_classes 0)")
        self.class_names = names or [str(i) for i in range(self.num_classes)]
        if not isinstance(provenance or {}, dict):
            raise ConfigError(f"provenance must be a mapping, got {type(provenance).__name__}")
        self.provenance = dict(provenance or {})
        self.format_version = format_version
        if generator is None:
            if not isinstance(arch, str) or not arch:
                raise ConfigError("a config needs the generator's architecture (arch, or a generator section)")
            if not isinstance(arch_kwargs or {}, dict):
                raise ConfigError(f"arch_kwargs must be a mapping of option: value, got {type(arch_kwargs).__name__}")
            generator, discriminator = _networks_from_bag(arch, dict(arch_kwargs or {}), discriminator_arch)
        self.generator, self.discriminator = generator, discriminator

    # ---- what the rest of the library reads ------------------------------------------------------
    @property
    def arch(self) -> str:
        return self.generator.arch

    @property
    def arch_kwargs(self) -> dict[str, Any]:
        """Both networks' constructor options in one mapping (for display)."""
        return {**(self.discriminator.kwargs if self.discriminator else {}), **self.generator.kwargs}

    @property
    def is_vector(self) -> bool:
        """True for vector data (e.g. 2-D points: image_size 0, ``channels`` coordinates), not images."""
        return self.image_size == 0

    @property
    def conditional(self) -> bool:
        return self.num_classes > 0

    def wrapper(self, role: str, name: str) -> dict[str, Any] | None:
        """The options of the named wrapper around the ``role`` network, or None."""
        net = self.generator if role == "generator" else self.discriminator
        return next((w for w in (net.wrappers if net else []) if w["name"] == name), None)

    # ---- serialisation ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "variant": self.variant,
            "latent_dim": self.latent_dim,
            "num_classes": self.num_classes,
            "class_names": list(self.class_names),
            "image_size": self.image_size,
            "channels": self.channels,
            "dataset": self.dataset,
            "generator": self.generator.to_dict(),
            "discriminator": self.discriminator.to_dict() if self.discriminator else None,
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, data: Any) -> "GeneratorConfig":
        if not isinstance(data, dict):
            raise ConfigError(f"a config must be a JSON object, got {type(data).__name__}")
        version = data.get("format_version", 1)
        if version not in READABLE_VERSIONS:
            raise ConfigError(
                f"format_version {version!r} is not one this library reads ({READABLE_VERSIONS}); "
                "upgrade gan-hub (pip install -U gan-hub) or re-export the model"
            )
        if version == 1:
            data = upgrade_v1(data)
        known = {
            "format_version",
            "variant",
            "latent_dim",
            "num_classes",
            "class_names",
            "image_size",
            "channels",
            "dataset",
            "generator",
            "discriminator",
            "provenance",
        }
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown config keys {unknown}; known keys: {sorted(known)}")
        missing = [k for k in ("variant", "generator") if k not in data]
        if missing:
            raise ConfigError(f"config is missing required keys {missing}")
        try:
            generator = NetworkConfig.from_dict(data["generator"], "generator")
            discriminator = (
                None
                if data.get("discriminator") is None
                else NetworkConfig.from_dict(data["discriminator"], "discriminator")
            )
        except ValueError as err:
            raise ConfigError(str(err)) from None
        fields = {
            k: data[k]
            for k in ("latent_dim", "num_classes", "class_names", "image_size", "channels", "dataset", "provenance")
            if k in data
        }
        return cls(data["variant"], generator=generator, discriminator=discriminator, **fields)

    def save(self, folder: str | Path) -> Path:
        from .io import atomic_write_text

        return atomic_write_text(
            Path(folder) / CONFIG_NAME, json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"
        )

    @classmethod
    def load(cls, folder: str | Path) -> "GeneratorConfig":
        path = Path(folder) / CONFIG_NAME
        if not path.is_file():
            raise FileNotFoundError(f"no {CONFIG_NAME} in {folder}: is this a gan-hub model folder?")
        try:
            data = json.loads(path.read_bytes().decode("utf-8"))
        except UnicodeDecodeError as err:
            raise ConfigError(
                f"{path} is not UTF-8 text ({err.reason} at byte {err.start}); re-export the model"
            ) from None
        except json.JSONDecodeError as err:
            raise ConfigError(f"{path} is not valid JSON ({err}); re-export the model") from None
        try:
            return cls.from_dict(data)
        except ConfigError as err:
            raise ConfigError(f"{path}: {err}") from None


def _networks_from_bag(
    arch: str, bag: dict[str, Any], discriminator_arch: str | None = None
) -> tuple[NetworkConfig, NetworkConfig]:
    """Version 1's one bag of options as a generator and a discriminator section."""
    g_wrappers: list[dict[str, Any]] = []
    if bag.pop("g_norm", "batch") == "virtual-batch":
        g_wrappers.append({"name": "virtual_batch_norm", "reference_size": bag.pop("g_vbn_reference_size", 64)})
    bag.pop("g_vbn_reference_size", None)
    info = {k: bag.pop(f"info_{k}") for k in ("categorical", "continuous") if f"info_{k}" in bag}
    if info:
        g_wrappers.append({"name": "info_codes", **info})
    d_wrappers: list[dict[str, Any]] = []
    if bag.get("d_minibatch"):
        d_wrappers.append({"name": "minibatch_discrimination", **dict(bag["d_minibatch"])})
    if bag.get("d_spectral_norm"):
        d_wrappers.append({"name": "spectral_norm"})
    for key in _V1_DISCRIMINATOR_WRAPPER_KEYS:
        bag.pop(key, None)
    from .networks import split_kwargs  # the architectures (and torch) load only when a config is converted

    try:
        split = split_kwargs(arch, bag, discriminator_arch)
    except (KeyError, ValueError) as err:
        raise ConfigError(str(err)) from None
    return (
        NetworkConfig(arch, split["generator"], g_wrappers),
        NetworkConfig(discriminator_arch or arch, split["discriminator"], d_wrappers),
    )


def upgrade_v1(data: dict[str, Any]) -> dict[str, Any]:
    """A version-1 config (one ``arch``, one ``arch_kwargs``) in the version-2 layout."""
    data = dict(data)
    unknown = sorted(
        set(data)
        - {
            "variant",
            "arch",
            "latent_dim",
            "num_classes",
            "class_names",
            "image_size",
            "channels",
            "dataset",
            "arch_kwargs",
            "provenance",
            "format_version",
        }
    )
    if unknown:
        raise ConfigError(f"unknown config keys {unknown} in a version-1 config")
    if not isinstance(data.get("arch"), str):
        raise ConfigError(f"a version-1 config needs arch (an architecture name), got {data.get('arch')!r}")
    bag = data.pop("arch_kwargs", {}) or {}
    if not isinstance(bag, dict):
        raise ConfigError(f"arch_kwargs must be a mapping of option: value, got {type(bag).__name__}")
    generator, discriminator = _networks_from_bag(data.pop("arch"), dict(bag))
    data.update(format_version=FORMAT_VERSION, generator=generator.to_dict(), discriminator=discriminator.to_dict())
    return data
