"""How one network of a model is described and built: an architecture, its own keyword arguments, and
the wrappers applied around it, in order (``config.json`` holds one such section per network).

A wrapper is registered by name in :data:`WRAPPERS` as ``wrap(build, model, **options) -> nn.Module``:
``build(**overrides)`` constructs what lies inside it (the architecture's network, with earlier wrappers
applied; ``overrides`` replace constructor arguments, e.g. PacGAN's packed ``channels``), and ``model``
is the model config (latent width, classes, image shape). The standard wrappers live here; a variant
registers its own in its file.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from torch import nn

from . import archs  # noqa: F401  (registers the architectures)
from .config import NetworkConfig
from .registry import ARCHS, Registry

WRAPPERS: Registry = Registry("network wrapper")
ROLES = ("generator", "discriminator")
# keys that shape one network only, whatever the constructor accepts: g_* the generator, d_* the discriminator
_OTHER_PREFIX = {"generator": "d_", "discriminator": "g_"}


def constructor(arch: str, role: str) -> Callable[..., nn.Module]:
    spec = ARCHS.get(arch)
    return spec.generator if role == "generator" else spec.discriminator


def accepted_kwargs(arch: str, role: str) -> set[str]:
    params = inspect.signature(constructor(arch, role)).parameters.values()
    return {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def split_kwargs(arch: str, kwargs: dict[str, Any], discriminator_arch: str | None = None) -> dict[str, dict[str, Any]]:
    """One shared bag of architecture options (version-1 configs, YAML ``arch_kwargs``) as each network's own:
    a key goes to each network whose constructor takes it, g_* keys to the generator only and d_* keys to the
    discriminator only. A key neither takes is an error naming both networks' options."""
    arch_of = {"generator": arch, "discriminator": discriminator_arch or arch}
    accepted = {
        role: accepted_kwargs(arch_of[role], role) - {"latent_dim", "channels", "image_size", "num_classes"}
        for role in ROLES
    }
    split: dict[str, dict[str, Any]] = {role: {} for role in ROLES}
    for key, value in kwargs.items():
        roles = [r for r in ROLES if key in accepted[r] and not key.startswith(_OTHER_PREFIX[r])]
        if not roles:
            raise ValueError(
                f"unknown architecture option {key!r}: the {arch_of['generator']} generator takes "
                f"{sorted(accepted['generator'])}, the {arch_of['discriminator']} discriminator "
                f"{sorted(accepted['discriminator'])}"
            )
        for role in roles:
            split[role][key] = value
    return split


def build_network(role: str, net: NetworkConfig, model) -> nn.Module:
    """The ``role`` network of ``model`` (a GeneratorConfig) as ``net`` describes it."""
    make = constructor(net.arch, role)
    base = {"channels": model.channels, "image_size": model.image_size, "num_classes": model.num_classes, **net.kwargs}
    if role == "generator":
        base["latent_dim"] = model.latent_dim

    def build(**overrides) -> nn.Module:
        return make(**{**base, **overrides})

    for wrapper in net.wrappers:
        build = _wrapped(build, wrapper, model)
    return build()


def _wrapped(inner: Callable[..., nn.Module], wrapper: dict[str, Any], model) -> Callable[..., nn.Module]:
    options = {k: v for k, v in wrapper.items() if k != "name"}
    wrap = WRAPPERS.get(wrapper["name"])
    return lambda **overrides: wrap(lambda **more: inner(**{**overrides, **more}), model, **options)


# ---- the standard wrappers ---------------------------------------------------------------------------
@WRAPPERS.register("virtual_batch_norm")
def _virtual_batch_norm(build, model, reference_size: int = 64) -> nn.Module:
    from .nn.virtual_batch_norm import with_virtual_batch_norm

    return with_virtual_batch_norm(build(), model.latent_dim, model.num_classes, reference_size=reference_size)


@WRAPPERS.register("info_codes")
def _info_codes(build, model, categorical: int = 0, continuous: int = 0) -> nn.Module:
    from .nn.info import CodeLayout, with_info_codes

    return with_info_codes(build(), CodeLayout(int(model.latent_dim), categorical, continuous))


@WRAPPERS.register("minibatch_discrimination")
def _minibatch_discrimination(build, model, num_kernels: int = 100, kernel_dim: int = 5) -> nn.Module:
    from .nn.minibatch import add_minibatch_discrimination

    return add_minibatch_discrimination(build(), num_kernels=num_kernels, kernel_dim=kernel_dim)


@WRAPPERS.register("spectral_norm")
def _spectral_norm(build, model) -> nn.Module:
    from .nn.spectral import apply_spectral_norm

    return apply_spectral_norm(build())


@WRAPPERS.register("auxiliary_classifier")
def _auxiliary_classifier(build, model, num_classes: int | None = None) -> nn.Module:
    from .nn.auxiliary import add_auxiliary_classifier

    return add_auxiliary_classifier(build(), num_classes)


@WRAPPERS.register("info_head")
def _info_head(build, model, categorical: int = 0, continuous: int = 0, hidden: int = 128) -> nn.Module:
    from .nn.info import add_info_head

    return add_info_head(build(), categorical, continuous, hidden)


__all__ = ["NetworkConfig", "ROLES", "WRAPPERS", "accepted_kwargs", "build_network", "split_kwargs"]
