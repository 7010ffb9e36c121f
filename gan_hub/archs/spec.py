"""What an architecture registers: the constructors of its generator and its discriminator."""

from dataclasses import dataclass
from typing import Callable

from torch import nn


@dataclass(frozen=True)
class ArchSpec:
    generator: Callable[..., nn.Module]
    discriminator: Callable[..., nn.Module]
