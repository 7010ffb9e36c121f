"""Networks for BiGAN / ALI (Donahue, Kraehenbuehl & Darrell, 2016; Dumoulin et al., 2016): a generator
that carries an encoder, and a discriminator of (image, latent) pairs. Registered as ``bigan``.

* :class:`BiGANGenerator` holds ``generator`` (the DCGAN generator, G: z -> x) and ``encoder`` (E: x -> z,
  the DCGAN discriminator's convolutional body followed by a linear layer to the latent width). Both
  live in one module, so the generator's optimizer trains them together and ``model.safetensors``
  holds both. ``forward(z)`` is G(z), as for every generator; ``forward(z, real=x)`` returns
  (G(z), E(x)) in one call (so a DDP wrapper sees, and synchronises, both); ``encode(x)`` is E(x).
* :class:`JointDiscriminator` scores pairs: ``forward(x, labels, z=z)``. The image goes through the
  DCGAN discriminator's body, the latent through a two-layer MLP of width ``z_hidden``, and the
  concatenated features through a hidden layer of width ``z_hidden`` to one logit. The latent branch
  and the joint layers are created by :meth:`JointDiscriminator.attach_latent` (the bigan algorithm's
  setup calls it with the generator's latent width, which a discriminator is not built with).

A run's ``arch_kwargs`` reach both networks, so each accepts the other's options and ignores them.
Both are unconditional (BiGAN is): they raise ``ValueError`` for ``num_classes > 0``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from ..registry import ARCHS
from .dcgan import DCGANDiscriminator, DCGANGenerator


def _require_unconditional(num_classes: int, name: str) -> None:
    if num_classes:
        raise ValueError(f"the {name} network is unconditional (BiGAN is), but num_classes={num_classes} was asked")


def _image_body(
    channels: int, image_size: int, base_channels: int, d_norm: str, d_hidden: int
) -> tuple[nn.Module, int]:
    """The DCGAN discriminator's body (strided convolutions, optional fully connected layer) and its output width."""
    image = DCGANDiscriminator(channels, image_size, 0, base_channels=base_channels, d_norm=d_norm, d_hidden=d_hidden)
    return image.body, image.head.linear.in_features


class BiGANEncoder(nn.Module):
    """E: images [N, C, H, W] in [-1, 1] -> latents [N, latent_dim] (deterministic, linear output)."""

    def __init__(
        self,
        latent_dim: int,
        channels: int,
        image_size: int,
        base_channels: int = 64,
        d_norm: str = "batch",
        d_hidden: int = 0,
    ):
        super().__init__()
        self.body, width = _image_body(channels, image_size, base_channels, d_norm, d_hidden)
        # PyTorch's default initialisation (not DCGAN's N(0, 0.02)): E's first latents then have a spread
        # comparable to the prior's instead of being near zero, which D would spot at once.
        self.out = nn.Linear(width, latent_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(x))


class BiGANGenerator(nn.Module):
    """G and E in one module: G(z) by default, (G(z), E(real)) with ``real``; see the module docstring."""

    def __init__(
        self,
        latent_dim: int,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        base_channels: int = 64,
        g_hidden: int = 0,
        d_hidden: int = 0,
        d_norm: str = "batch",
        z_hidden: int = 512,
    ):  # z_hidden: D only
        super().__init__()
        _require_unconditional(num_classes, "bigan generator")
        self.latent_dim = latent_dim
        self.generator = DCGANGenerator(
            latent_dim, channels, image_size, 0, base_channels=base_channels, g_hidden=g_hidden
        )
        self.encoder = BiGANEncoder(latent_dim, channels, image_size, base_channels, d_norm, d_hidden)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None, real: torch.Tensor | None = None):
        images = self.generator(z, None)
        return images if real is None else (images, self.encoder(real))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x)


class JointDiscriminator(nn.Module):
    """D(x, z) -> logit [N] for (image, latent) pairs; see the module docstring.

    ``latent_dim`` may be given here or later through :meth:`attach_latent`.
    """

    def __init__(
        self,
        channels: int,
        image_size: int,
        num_classes: int = 0,
        base_channels: int = 64,
        d_hidden: int = 0,
        d_norm: str = "batch",
        z_hidden: int = 512,
        g_hidden: int = 0,  # g_hidden: G only
        latent_dim: int | None = None,
    ):
        super().__init__()
        _require_unconditional(num_classes, "bigan joint discriminator")
        if isinstance(z_hidden, bool) or not isinstance(z_hidden, int) or z_hidden < 1:
            raise ValueError(f"z_hidden must be a positive integer, got {z_hidden!r}")
        self.body, self.image_features = _image_body(channels, image_size, base_channels, d_norm, d_hidden)
        self.z_hidden = z_hidden
        self.latent: nn.Module | None = None
        self.joint: nn.Module | None = None
        if latent_dim is not None:
            self.attach_latent(latent_dim)

    @property
    def latent_dim(self) -> int | None:
        return None if self.latent is None else self.latent[0].in_features

    def attach_latent(self, latent_dim: int) -> "JointDiscriminator":
        """Create the latent branch and the joint layers for latents of width ``latent_dim`` (once; before
        the optimizer is built). Spectrally normalised when the image body is."""
        if self.latent is not None:
            if latent_dim != self.latent_dim:
                raise ValueError(
                    f"the joint discriminator already reads latents of width {self.latent_dim}, not {latent_dim}"
                )
            return self
        h = self.z_hidden
        self.latent = nn.Sequential(
            nn.Linear(latent_dim, h), nn.LeakyReLU(0.2, True), nn.Linear(h, h), nn.LeakyReLU(0.2, True)
        )
        self.joint = nn.Sequential(nn.Linear(self.image_features + h, h), nn.LeakyReLU(0.2, True), nn.Linear(h, 1))
        reference = next(self.body.parameters())
        self.latent.to(device=reference.device, dtype=reference.dtype)
        self.joint.to(device=reference.device, dtype=reference.dtype)
        if any(parametrize.is_parametrized(m, "weight") for m in self.body.modules() if hasattr(m, "weight")):
            from ..nn.spectral import apply_spectral_norm

            apply_spectral_norm(self.latent)
            apply_spectral_norm(self.joint)
        return self

    def forward(
        self, x: torch.Tensor, labels: torch.Tensor | None = None, z: torch.Tensor | None = None
    ) -> torch.Tensor:
        if self.latent is None:
            raise RuntimeError(
                "the joint discriminator has no latent branch yet: call attach_latent(latent_dim) "
                "(the bigan algorithm's setup does)"
            )
        if z is None:
            raise ValueError(
                "the bigan discriminator scores (image, latent) pairs: call D(x, labels, z=z). Techniques "
                "that score images alone (gradient penalty, consensus, feature matching) do not apply"
            )
        features = self.body(x).flatten(1)
        return self.joint(torch.cat([features, self.latent(z.to(features.dtype))], dim=1)).squeeze(1)


from .spec import ArchSpec  # noqa: E402

ARCHS.register("bigan", ArchSpec(BiGANGenerator, JointDiscriminator))
