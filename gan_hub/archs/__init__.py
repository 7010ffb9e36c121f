"""Generator/discriminator architectures: layers and forward only, registered by name."""
from dataclasses import dataclass
from typing import Callable

from torch import nn

from ..registry import ARCHS


@dataclass(frozen=True)
class ArchSpec:
    generator: Callable[..., nn.Module]
    discriminator: Callable[..., nn.Module]


from . import dcgan, mlp  # noqa: E402,F401  (registers the architectures)
from . import sagan  # noqa: E402,F401  (registers sagan: dcgan with self-attention)
from . import bigan  # noqa: E402,F401  (registers bigan: a generator with an encoder, a joint discriminator)
from . import mixture  # noqa: E402,F401  (registers mix-dcgan and mix-mlp: mixtures for MIX+GAN)
from . import progan  # noqa: E402,F401  (registers progan: progressively grown networks)
from . import semi_supervised  # noqa: E402,F401  (registers semi-supervised-mlp: the K+1 discriminator's networks)
from . import pacgan_mlp  # noqa: E402,F401  (registers pacgan-mlp: PacGAN's 2-D point networks, maxout D)

__all__ = ["ARCHS", "ArchSpec"]
