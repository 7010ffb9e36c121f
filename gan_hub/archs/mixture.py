"""Mixtures of generators and of discriminators for MIX+GAN (Arora, Ge, Liang, Ma & Zhang, 2017,
"Generalization and Equilibrium in Generative Adversarial Nets (GANs)", arXiv:1703.00573).

Each player is a mixed strategy over T networks of the same architecture: T generators G_0..G_{T-1}
with mixture weights w_g = softmax(alpha_g), and T discriminators D_0..D_{T-1} with weights
w_d = softmax(alpha_d). The logits alpha are parameters of the module (``mixture_logits``), so they
train with the rest of the player and are saved in model.safetensors with the component weights.

Two architectures are registered:

* ``mix-dcgan``: T DCGAN generators / discriminators (gan_hub/archs/dcgan.py);
* ``mix-mlp``: T fully connected ones (gan_hub/archs/mlp.py);
* ``mix-pacgan-mlp``: T of PacGAN's point networks (gan_hub/archs/pacgan_mlp.py), for MIX+GAN in the
  published 2-D protocol (bench/toy_protocol.py).

Both take the keyword arguments of their base architecture plus ``components`` (T, default 3; the
paper used T <= 5, the authors' released CIFAR-10 code T = 5; 3 keeps CPU training affordable, since
a training step runs 2T generator and T(2T + 1) discriminator forwards, against 2 and 3 for one pair).

Sampling (``MixtureGenerator.forward``, what ``Generator.generate`` calls): each sample picks one
component with probability w_g[i], deterministically from its latent, so the same latents (and the
same seed) always give the same images. With z the latent and Phi the standard normal CDF,

    u  = Phi(z[0])                      uniform on (0, 1) for z ~ N(0, I)
    i  = the component whose interval [c_{i-1}, c_i) of the cumulative weights c holds u
    u' = (u - c_{i-1}) / w_g[i]         uniform on (0, 1) again, and independent of i
    z' = z with z[0] replaced by Phi^{-1}(u')

and the sample is G_i(z'). So component i is chosen with probability exactly w_g[i], and given the
choice its latent z' is still exactly N(0, I): the first coordinate only selects the component, it
does not bias what the component draws (without the re-spreading, G_i would only ever see first
coordinates from its own band). The routing runs in float64 (float32 on MPS) and carries no
gradient. Latent interpolations jump between components where u crosses a boundary c_i.

For training, ``forward(z, labels, components=True)`` returns ``(samples, weights, index)``: every
component's output on the routed latents z' [T, N, ...], the weights w_g [T] (with gradient, for
the MIX+GAN payoff) and the chosen component per sample [N]; ``samples[index, arange(N)]`` is the
mixture's batch, equal to ``forward(z, labels)`` in training mode. The discriminator's
``forward(x, labels, components=True)`` returns ``(logits, weights)``: every component's logits
[T, N] and w_d [T]. Going through ``forward`` (not a separate method) keeps these calls working
through a DistributedDataParallel wrapper. Plain ``forward(x, labels)`` of the discriminator returns
the w_d-weighted mean of the component logits [N], a single score for techniques that call D
directly (gradient penalty, consensus); the MIX+GAN payoff itself uses the components.

In evaluation mode the generator runs each component only on the samples routed to it; in training
mode it runs every component on the whole batch and picks, so batch norm sees the same batches as
in ``components=True``.
"""

from __future__ import annotations

import torch
from torch import nn

from ..registry import ARCHS
from .dcgan import DCGANDiscriminator, DCGANGenerator
from .mlp import MLPDiscriminator, MLPGenerator
from .pacgan_mlp import MaxoutDiscriminator, PointGenerator

Tensor = torch.Tensor

DEFAULT_COMPONENTS = 3


def _check_components(components: int) -> int:
    if not isinstance(components, int) or isinstance(components, bool) or components < 1:
        raise ValueError(
            f"components (the number T of mixture components) must be a positive integer, got {components!r}"
        )
    return components


class _Mixture(nn.Module):
    """T networks and the logits of their mixture weights (zeros: uniform weights at the start)."""

    def __init__(self, networks: list[nn.Module]):
        super().__init__()
        self.components = nn.ModuleList(networks)
        self.mixture_logits = nn.Parameter(torch.zeros(len(networks)))

    @property
    def num_components(self) -> int:
        return len(self.components)

    def mixture_weights(self) -> Tensor:
        """softmax of the logits, in float32: positive and summing to one."""
        return torch.softmax(self.mixture_logits.float(), dim=0)


def route_latents(z: Tensor, weights: Tensor) -> tuple[Tensor, Tensor]:
    """(index [N], z' [N, D]): the component for each latent and the latent it is fed (see module doc).

    ``weights`` [T] must be positive and sum to one; no gradient flows through the routing.
    """
    if z.dim() != 2 or z.shape[1] < 1:
        raise ValueError(f"latents must have shape [N, latent_dim], got {tuple(z.shape)}")
    with torch.no_grad():
        T = weights.numel()
        if T == 1:
            return torch.zeros(len(z), dtype=torch.long, device=z.device), z
        dtype = torch.float32 if z.device.type == "mps" else torch.float64
        w = weights.detach().to(z.device, dtype)
        upper = torch.cumsum(w, 0)
        upper[-1] = 1.0  # rounding must not leave a u above the last interval
        lower = torch.cat([upper.new_zeros(1), upper[:-1]])
        width = upper - lower
        # u < 1 strictly, so searchsorted (the first interval whose upper end exceeds u) never picks an
        # interval of zero width, even for a weight that underflowed to 0
        u = torch.special.ndtr(z[:, 0].to(dtype)).clamp_(max=1.0 - torch.finfo(dtype).eps)
        index = torch.searchsorted(upper, u, right=True).clamp_(max=T - 1)
        edge = 4 * torch.finfo(dtype).eps  # keeps u' inside (0, 1), so Phi^{-1}(u') stays finite (|z'| < 8 in float64)
        u_within = ((u - lower[index]) / width[index].clamp_min(torch.finfo(dtype).tiny)).clamp_(edge, 1.0 - edge)
        routed = z.clone()
        routed[:, 0] = torch.special.ndtri(u_within).to(z.dtype)
    return index, routed


class MixtureGenerator(_Mixture):
    """T generators; ``forward`` draws each sample from one of them with probability w_g[i]."""

    structured_latent = True  # part of z is not plain noise: no truncation trick

    def route(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """(index [N], z' [N, D]): which component draws each latent, and the latent it gets."""
        return route_latents(z, self.mixture_weights())

    def forward_components(self, z: Tensor, labels: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor]:
        """(samples [T, N, ...] on the routed latents, weights w_g [T], index [N])."""
        index, routed = self.route(z)
        samples = torch.stack([g(routed, labels) for g in self.components])
        return samples, self.mixture_weights(), index

    def forward(self, z: Tensor, labels: Tensor | None = None, components: bool = False):
        if components:
            return self.forward_components(z, labels)
        if self.training or len(z) == 0:
            samples, _, index = self.forward_components(z, labels)
            return samples[index, torch.arange(len(z), device=samples.device)]
        index, routed = self.route(z)
        out = None
        for i, g in enumerate(self.components):
            chosen = (index == i).nonzero(as_tuple=True)[0]
            if len(chosen) == 0:
                continue
            part = g(routed[chosen], None if labels is None else labels[chosen])
            if out is None:
                out = part.new_empty((len(z), *part.shape[1:]))
            out[chosen] = part
        return out


class MixtureDiscriminator(_Mixture):
    """T discriminators; ``forward`` returns the w_d-weighted mean logit, or every component's logits."""

    def forward_components(self, x: Tensor, labels: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """(logits [T, N], weights w_d [T])."""
        return torch.stack([d(x, labels) for d in self.components]), self.mixture_weights()

    def forward(self, x: Tensor, labels: Tensor | None = None, components: bool = False):
        logits, weights = self.forward_components(x, labels)
        if components:
            return logits, weights
        return (weights.to(logits.dtype)[:, None] * logits).sum(0)


# ---- the registered architectures: explicit signatures, so callers can inspect their options ------
class MixDCGANGenerator(MixtureGenerator):
    def __init__(
        self,
        latent_dim: int,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        base_channels: int = 64,
        g_hidden: int = 0,
        components: int = DEFAULT_COMPONENTS,
        d_hidden: int = 0,
        d_norm: str = "batch",
    ):  # d_* shape only the discriminator
        T = _check_components(components)
        super().__init__(
            [
                DCGANGenerator(latent_dim, channels, image_size, num_classes, base_channels, g_hidden=g_hidden)
                for _ in range(T)
            ]
        )


class MixDCGANDiscriminator(MixtureDiscriminator):
    def __init__(
        self,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        base_channels: int = 64,
        d_norm: str = "batch",
        d_hidden: int = 0,
        components: int = DEFAULT_COMPONENTS,
        g_hidden: int = 0,
    ):  # g_hidden shapes only the generator
        T = _check_components(components)
        super().__init__(
            [
                DCGANDiscriminator(channels, image_size, num_classes, base_channels, d_norm=d_norm, d_hidden=d_hidden)
                for _ in range(T)
            ]
        )


class MixMLPGenerator(MixtureGenerator):
    def __init__(
        self,
        latent_dim: int,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        hidden_dim: int = 512,
        num_layers: int = 2,
        components: int = DEFAULT_COMPONENTS,
    ):
        T = _check_components(components)
        super().__init__(
            [MLPGenerator(latent_dim, channels, image_size, num_classes, hidden_dim, num_layers) for _ in range(T)]
        )


class MixMLPDiscriminator(MixtureDiscriminator):
    def __init__(
        self,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        hidden_dim: int = 512,
        num_layers: int = 2,
        components: int = DEFAULT_COMPONENTS,
    ):
        T = _check_components(components)
        super().__init__(
            [MLPDiscriminator(channels, image_size, num_classes, hidden_dim, num_layers) for _ in range(T)]
        )


class MixPointGenerator(MixtureGenerator):
    def __init__(
        self,
        latent_dim: int,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        hidden_dim: int = 400,
        num_layers: int = 4,
        components: int = DEFAULT_COMPONENTS,
    ):
        T = _check_components(components)
        super().__init__(
            [PointGenerator(latent_dim, channels, image_size, num_classes, hidden_dim, num_layers) for _ in range(T)]
        )


class MixMaxoutDiscriminator(MixtureDiscriminator):
    def __init__(
        self,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        hidden_dim: int = 200,
        num_layers: int = 3,
        pieces: int = 5,
        components: int = DEFAULT_COMPONENTS,
    ):
        T = _check_components(components)
        super().__init__(
            [MaxoutDiscriminator(channels, image_size, num_classes, hidden_dim, num_layers, pieces) for _ in range(T)]
        )


from .spec import ArchSpec  # noqa: E402

ARCHS.register("mix-dcgan", ArchSpec(MixDCGANGenerator, MixDCGANDiscriminator))
ARCHS.register("mix-mlp", ArchSpec(MixMLPGenerator, MixMLPDiscriminator))
ARCHS.register("mix-pacgan-mlp", ArchSpec(MixPointGenerator, MixMaxoutDiscriminator))
