"""InfoGAN's latent codes and Q head (Chen et al., 2016, "InfoGAN", arXiv:1606.03657).

Latent layout. An InfoGAN model's latent is one standard-normal vector of width ``latent_dim``, the
same kind of latent every other gan-hub model takes, so seeds, the trainer's noise, interpolation,
the metrics and the app need nothing special. It is read as three consecutive blocks:

    z = [ noise (latent_dim - K - C) | K categorical slots | C continuous slots ]

and turned into the generator's input [noise, one_hot(c), u] by :meth:`CodeLayout.split` and
:meth:`CodeLayout.network_input`:

* the categorical code is c = argmax of the K slots: the argmax of K independent standard normals is
  uniform over the K categories, so c ~ Cat(K, 1/K) as in the paper;
* each continuous code is u = erf(g / sqrt(2)) = 2 Phi(g) - 1 of its slot g ~ N(0, 1), so
  u ~ Uniform(-1, 1) as in the paper.

So the network's input width is ``latent_dim`` (noise + K + C); K and C are recorded in the config's
``arch_kwargs`` as ``info_categorical`` and ``info_continuous`` and the noise width is the rest.
Explicit codes (any category, any real continuous value, also outside [-1, 1]) bypass the slots:
:meth:`InfoCodeGenerator.from_codes` takes (noise, categorical, continuous) directly.

Q head. :func:`add_info_head` replaces a discriminator's head by an :class:`InfoHead` that returns,
from the same body features, the adversarial logit [N] and Q(c | x): K categorical logits and the
means of C unit-variance Gaussians over the continuous codes, through one hidden layer (the authors'
MNIST Q: FC 128, batch norm, leaky ReLU, FC output), as one mapping (gan_hub.game.DOutput reads it).
Everything comes back from the network's own call, so through a DDP wrapper, which synchronises Q's
gradients; nothing is kept on the module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

INFO_OPTIONS = ("info_categorical", "info_continuous")

Tensor = torch.Tensor


def _count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return value


@dataclass(frozen=True)
class CodeLayout:
    """How a latent of width ``latent_dim`` splits into noise, K categorical and C continuous slots."""

    latent_dim: int
    categorical: int = 0  # K, the number of categories of the one categorical code (0: none)
    continuous: int = 0  # C, the number of continuous codes

    def __post_init__(self):
        _count("info_categorical", self.categorical)
        _count("info_continuous", self.continuous)
        if self.categorical == 1:
            raise ValueError("info_categorical must be 0 (no categorical code) or at least 2 categories, got 1")
        if not self.categorical and not self.continuous:
            raise ValueError("an InfoGAN latent needs at least one code: set info_categorical or info_continuous")
        if self.noise_dim < 1:
            raise ValueError(
                f"latent_dim {self.latent_dim} leaves no noise after {self.categorical} categorical and "
                f"{self.continuous} continuous code slots: raise latent_dim"
            )

    @classmethod
    def from_options(cls, latent_dim: int, arch_kwargs: dict) -> "CodeLayout | None":
        """The layout that a config's ``arch_kwargs`` describe, or None for a model without codes."""
        if not any(k in arch_kwargs for k in INFO_OPTIONS):
            return None
        return cls(int(latent_dim), arch_kwargs.get("info_categorical", 0), arch_kwargs.get("info_continuous", 0))

    @property
    def noise_dim(self) -> int:
        return self.latent_dim - self.categorical - self.continuous

    def split(self, z: Tensor) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """(noise [N, noise_dim], category [N] int64 or None, continuous codes [N, C] in (-1, 1) or None)."""
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"expected latents of shape [N, {self.latent_dim}], got {tuple(z.shape)}")
        n, k = self.noise_dim, self.categorical
        category = z[:, n : n + k].argmax(1) if k else None
        continuous = torch.erf(z[:, n + k :] / math.sqrt(2.0)) if self.continuous else None
        return z[:, :n], category, continuous

    def network_input(self, noise: Tensor, categorical: Tensor | None, continuous: Tensor | None) -> Tensor:
        """[noise, one-hot category (or given category probabilities [N, K]), continuous codes]."""
        parts = [noise]
        if self.categorical:
            if categorical is None:
                raise ValueError("this model has a categorical code: pass it")
            parts.append(
                categorical.to(noise.dtype)
                if categorical.is_floating_point()
                else F.one_hot(categorical.long(), self.categorical).to(noise.dtype)
            )
        if self.continuous:
            if continuous is None:
                raise ValueError("this model has continuous codes: pass them")
            parts.append(continuous.to(noise.dtype))
        return torch.cat(parts, dim=1)

    def resolve_codes(
        self, n: int, codes: dict, drawn_categorical: Tensor | None, drawn_continuous: Tensor | None
    ) -> tuple[Tensor | None, Tensor | None]:
        """Explicit ``codes`` (see ``Generator.generate``) over the codes a seed drew; what is not given stays drawn."""
        if not isinstance(codes, dict):
            raise TypeError(f"codes must be a dict with 'categorical' and/or 'continuous', got {type(codes).__name__}")
        unknown = sorted(set(codes) - {"categorical", "continuous"})
        if unknown:
            raise ValueError(f"unknown code(s) {unknown}; InfoGAN codes are 'categorical' and 'continuous'")
        categorical, continuous = drawn_categorical, drawn_continuous
        if codes.get("categorical") is not None:
            categorical = self._categorical(n, codes["categorical"])
        if codes.get("continuous") is not None:
            continuous = self._continuous(n, codes["continuous"], drawn_continuous)
        return categorical, continuous

    def _categorical(self, n: int, value: Any) -> Tensor:
        k = self.categorical
        if not k:
            raise ValueError("this model has no categorical code")
        if isinstance(value, Tensor) and value.is_floating_point():
            if value.shape != (n, k):
                raise ValueError(f"categorical probabilities must have shape ({n}, {k}), got {tuple(value.shape)}")
            return value.float()
        if isinstance(value, bool) or isinstance(value, Real) and not isinstance(value, Integral):
            raise TypeError(f"a categorical code is an integer category, got {value!r}")
        if isinstance(value, Integral) or isinstance(value, Tensor) and value.ndim == 0:
            ids = torch.full((n,), int(value), dtype=torch.long)  # the same category for every sample
        else:
            ids = torch.tensor(value.tolist() if isinstance(value, Tensor) else list(value), dtype=torch.long)
            if ids.shape != (n,):
                raise ValueError(f"got {len(ids)} categorical codes for {n} samples")
        if len(ids) and not (0 <= int(ids.min()) and int(ids.max()) < k):
            raise ValueError(f"categorical codes must be in 0..{k - 1}, got {ids.unique().tolist()}")
        return ids

    def _continuous(self, n: int, value: Any, drawn: Tensor | None) -> Tensor:
        c = self.continuous
        if not c:
            raise ValueError("this model has no continuous codes")
        if isinstance(value, Real):
            if c != 1:
                raise ValueError(
                    f"this model has {c} continuous codes: give a list of {c} values (None keeps a code drawn)"
                )
            value = [value]
        if isinstance(value, Tensor):
            t = value.detach().float().cpu()
            if t.shape == (c,):
                t = t.expand(n, c)
            if t.shape != (n, c):
                raise ValueError(f"continuous codes must have shape ({c},) or ({n}, {c}), got {tuple(value.shape)}")
            return t.clone()
        value = list(value)
        if value and all(v is None or isinstance(v, Real) for v in value):  # one value per code, for every sample
            if len(value) != c:
                raise ValueError(f"this model has {c} continuous codes, got {len(value)} values")
            out = drawn.clone().float() if drawn is not None else torch.zeros(n, c)
            for j, v in enumerate(value):
                if v is not None:
                    out[:, j] = float(v)
            return out
        return self._continuous(n, torch.tensor(value, dtype=torch.float32), drawn)  # one row per sample


class InfoCodeGenerator(nn.Module):
    """G(z, labels) for an InfoGAN latent z: the codes are read from z's slots (see :class:`CodeLayout`)
    and ``net`` is called on [noise, one-hot category, continuous codes]."""

    structured_latent = True  # part of z is not plain noise: no truncation trick

    def __init__(self, net: nn.Module, layout: CodeLayout):
        super().__init__()
        self.net = net
        self.layout = layout

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        return self.net(self.layout.network_input(*self.layout.split(z)), labels)

    def from_codes(
        self, noise: Tensor, categorical: Tensor | None, continuous: Tensor | None, labels: Tensor | None = None
    ) -> Tensor:
        """Images for explicit codes: category ids [N] (or probabilities [N, K]) and continuous values [N, C]."""
        device = noise.device
        categorical = None if categorical is None else categorical.to(device)
        continuous = None if continuous is None else continuous.to(device)
        return self.net(self.layout.network_input(noise, categorical, continuous), labels)


def with_info_codes(net: nn.Module, layout: CodeLayout) -> InfoCodeGenerator:
    """Wrap a generator built for inputs of width ``layout.latent_dim`` so that it reads InfoGAN latents.

    A virtual-batch-norm generator keeps its reference batch in the network's input space: its
    standard-normal reference latents are mapped through the code layout once, here.
    """
    from .virtual_batch_norm import VirtualBatchNormGenerator

    if isinstance(net, VirtualBatchNormGenerator):
        with torch.no_grad():
            net.reference_z.copy_(layout.network_input(*layout.split(net.reference_z)))
    return InfoCodeGenerator(net, layout)


def find_info_generator(generator: nn.Module) -> InfoCodeGenerator | None:
    net = getattr(generator, "module", generator)  # a DDP wrapper holds the network in .module
    return net if isinstance(net, InfoCodeGenerator) else None


# ---- the Q head ----------------------------------------------------------------------------------------
class InfoHead(nn.Module):
    """head(features) -> {"logits": adversarial logit [N], "q_categorical": [N, K], "q_continuous": [N, C]}
    (a Q key only for the codes the model has)."""

    def __init__(
        self,
        adversarial: nn.Module,
        in_features: int,
        categorical: int,
        continuous: int,
        hidden: int = 128,
        batch_norm: bool = True,
    ):
        super().__init__()
        if isinstance(hidden, bool) or not isinstance(hidden, int) or hidden < 1:
            raise ValueError(f"the Q head's hidden width must be a positive integer, got {hidden!r}")
        self.adversarial = adversarial
        self.categorical, self.continuous = categorical, continuous
        self.q = nn.Sequential(
            nn.Linear(in_features, hidden, bias=not batch_norm),
            *([nn.BatchNorm1d(hidden)] if batch_norm else []),
            nn.LeakyReLU(0.2, True),
            nn.Linear(hidden, categorical + continuous),
        )
        for m in self.q.modules():  # DCGAN's initialisation
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm1d):
                nn.init.normal_(m.weight, 1.0, 0.02)
                nn.init.zeros_(m.bias)

    def predict(self, features: Tensor) -> tuple[Tensor | None, Tensor | None]:
        out = self.q(features.flatten(1))
        k = self.categorical
        return (out[:, :k] if k else None), (out[:, k:] if self.continuous else None)

    def forward(self, features: Tensor, labels: Tensor | None = None) -> dict[str, Tensor]:
        categorical, continuous = self.predict(features)
        out = {"logits": self.adversarial(features, labels)}
        if categorical is not None:
            out["q_categorical"] = categorical
        if continuous is not None:
            out["q_continuous"] = continuous
        return out


def info_head(discriminator: nn.Module) -> InfoHead:
    head = getattr(getattr(discriminator, "module", discriminator), "head", None)
    if not isinstance(head, InfoHead):
        raise TypeError("this discriminator has no InfoGAN Q head: call add_info_head (the algorithm's setup) first")
    return head


def add_info_head(discriminator: nn.Module, categorical: int, continuous: int, hidden: int = 128) -> nn.Module:
    """Give ``discriminator`` (with ``.body`` and a projection head) a Q head, in place; returns it.

    The Q head has batch norm when the body has, and is spectrally normalised when the adversarial head
    is. Applying it twice with the same codes is harmless. Call it before the optimizer is built.
    """
    from .auxiliary import _projection_and_width

    head = getattr(discriminator, "head", None)
    if isinstance(head, InfoHead):
        if (head.categorical, head.continuous) != (categorical, continuous):
            raise ValueError(
                f"the discriminator already has a Q head for {head.categorical} categories and "
                f"{head.continuous} continuous codes"
            )
        return discriminator
    if not hasattr(discriminator, "body") or head is None:
        raise ValueError(
            f"a Q head needs a discriminator with .body and .head; {type(discriminator).__name__} has none"
        )
    projection, width = _projection_and_width(head)
    batch_norm = any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in discriminator.body.modules())
    weight = projection.linear.weight
    new_head = InfoHead(head, width, categorical, continuous, hidden, batch_norm).to(
        device=weight.device, dtype=weight.dtype
    )
    if parametrize.is_parametrized(projection.linear, "weight"):
        from .spectral import apply_spectral_norm

        apply_spectral_norm(new_head.q)
    discriminator.head = new_head
    return discriminator


def discriminate_with_codes(
    discriminator: nn.Module, x: Tensor, labels: Tensor | None = None
) -> tuple[Tensor, tuple[Tensor | None, Tensor | None]]:
    """(adversarial logits [N], (categorical logits [N, K], continuous means [N, C])); through DDP if wrapped."""
    info_head(discriminator)
    out = discriminator(x, labels)
    return out["logits"], (out.get("q_categorical"), out.get("q_continuous"))


def information_loss(
    q_categorical: Tensor | None,
    q_continuous: Tensor | None,
    categorical: Tensor | None,
    continuous: Tensor | None,
    categorical_weight: float = 1.0,
    continuous_weight: float = 0.1,
) -> tuple[Tensor, dict[str, float]]:
    """lambda_cat * CE(Q's logits, c) + lambda_cont * Gaussian NLL of the continuous codes, in float32.

    The Gaussian has unit variance and Q's mean: its NLL per code is (u - mu)^2 / 2 (the constant
    log(2 pi) / 2 is left out), summed over the codes and averaged over the batch. Minimising this is
    maximising the variational lower bound L_I of the mutual information I(c; G(z, c)) (up to H(c), a
    constant). Returns the loss and logs (``info_cat``, ``info_cat_acc``, ``info_cont``: the unweighted parts).
    """
    parts, logs = [], {}
    if categorical is not None:
        if q_categorical is None:
            raise ValueError("Q gives no categorical logits")
        target = categorical.float() if categorical.is_floating_point() else categorical
        ce = F.cross_entropy(q_categorical.float(), target)
        parts.append(categorical_weight * ce)
        hard = categorical.argmax(1) if categorical.is_floating_point() else categorical
        logs.update(info_cat=ce.item(), info_cat_acc=(q_categorical.argmax(1) == hard).float().mean().item())
    if continuous is not None:
        if q_continuous is None:
            raise ValueError("Q gives no continuous means")
        nll = 0.5 * (continuous.float() - q_continuous.float()).pow(2).sum(1).mean()
        parts.append(continuous_weight * nll)
        logs["info_cont"] = nll.item()
    if not parts:
        raise ValueError("no codes to score")
    return sum(parts), logs


__all__ = [
    "CodeLayout",
    "INFO_OPTIONS",
    "InfoCodeGenerator",
    "InfoHead",
    "add_info_head",
    "discriminate_with_codes",
    "find_info_generator",
    "info_head",
    "information_loss",
    "with_info_codes",
]
