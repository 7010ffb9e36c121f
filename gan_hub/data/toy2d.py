"""2-D mixtures of Gaussians used to measure mode collapse.

* ``ring8``: 8 modes equally spaced on a circle of radius 2, std 0.02 (Metz et al., Unrolled GANs).
* ``ring8-unit``: 8 modes at (cos 2 pi k / 8, sin 2 pi k / 8), radius 1, std 0.01 (PacGAN's and the
  Unrolled GAN notebook's scale; eight distinct angles, not the notebook's ``linspace(0, 2 pi, 8)``,
  whose first and last modes coincide).
* ``grid25``: a 5x5 grid of modes at {-4, -2, 0, 2, 4}^2, std 0.05 (VEEGAN, PacGAN).

All components have equal weight and an isotropic standard deviation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.utils.data import Dataset

from ..registry import DATASETS, Registry
from .images import DatasetInfo

MIXTURES: Registry = Registry("2-D mixture")


@dataclass(frozen=True, eq=False)
class Mixture2D:
    """An equal-weight mixture of isotropic Gaussians in 2-D: ``centers`` float64 [K, 2], one ``std``."""

    name: str
    centers: torch.Tensor
    std: float

    def __post_init__(self):
        centers = torch.as_tensor(self.centers, dtype=torch.float64)
        if centers.ndim != 2 or centers.shape[1] != 2 or len(centers) == 0:
            raise ValueError(f"centers must be [K, 2] with K >= 1, got {tuple(centers.shape)}")
        if not self.std > 0:
            raise ValueError(f"std must be > 0, got {self.std}")
        object.__setattr__(self, "centers", centers)

    @property
    def num_modes(self) -> int:
        return len(self.centers)

    @property
    def mode_names(self) -> list[str]:
        """One name per mode: its centre, e.g. ``"(1.41, 1.41)"``."""
        return [f"({x + 0.0:.2f}, {y + 0.0:.2f})" for x, y in self.centers.round(decimals=6).tolist()]

    def sample_with_modes(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` points (float32 [n, 2]) and the mode each was drawn from (int64 [n])."""
        modes = torch.randint(0, self.num_modes, (n,), generator=generator)
        noise = torch.randn(n, 2, generator=generator, dtype=torch.float64)
        return (self.centers[modes] + self.std * noise).float(), modes

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` points, float32 [n, 2]."""
        return self.sample_with_modes(n, generator)[0]


def _ring(num_modes: int, radius: float) -> torch.Tensor:
    angles = torch.arange(num_modes, dtype=torch.float64) * (2 * math.pi / num_modes)
    return radius * torch.stack([angles.cos(), angles.sin()], dim=1)


def _grid(values: list[float]) -> torch.Tensor:
    axis = torch.tensor(values, dtype=torch.float64)
    xs, ys = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([xs.flatten(), ys.flatten()], dim=1)


RING8 = MIXTURES.register("ring8", Mixture2D("ring8", _ring(8, 2.0), 0.02))
RING8_UNIT = MIXTURES.register("ring8-unit", Mixture2D("ring8-unit", _ring(8, 1.0), 0.01))
GRID25 = MIXTURES.register("grid25", Mixture2D("grid25", _grid([-4.0, -2.0, 0.0, 2.0, 4.0]), 0.05))


def mixture(name: str) -> Mixture2D:
    """The mixture registered as ``name``; an unknown name raises UnknownNameError listing the known ones."""
    return MIXTURES.get(name)


class PointDataset(Dataset):
    """float32 points [N, 2] and int64 labels (the mode each point was drawn from); items are (point, label).

    ``info`` is a :class:`DatasetInfo` with ``channels=2`` (coordinates) and ``image_size=0`` (points,
    not images: the convention of GeneratorConfig for vector data) and one class name per mode; ``mixture`` is the
    generating :class:`Mixture2D`.
    """

    def __init__(self, points: torch.Tensor, labels: torch.Tensor, info: DatasetInfo, mixture: Mixture2D | None = None):
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(f"points must be [N, 2], got {tuple(points.shape)}")
        if len(points) != len(labels):
            raise ValueError(f"{len(points)} points but {len(labels)} labels")
        self.points, self.labels, self.info, self.mixture = points.float(), labels.long(), info, mixture

    def __len__(self) -> int:
        return len(self.points)

    def __getitem__(self, index: int):
        return self.points[index], self.labels[index]


def mixture_dataset(
    mix: Mixture2D, train: bool = True, size: int | None = None, seed: int | None = None
) -> PointDataset:
    """``size`` points of ``mix`` (default 100,000 for train, 10,000 for test), seeded 0 (train) / 1 (test)."""
    size = (100_000 if train else 10_000) if size is None else size
    gen = torch.Generator().manual_seed((0 if train else 1) if seed is None else seed)
    points, modes = mix.sample_with_modes(size, gen)
    info = DatasetInfo(mix.name, channels=2, image_size=0, class_names=mix.mode_names)
    return PointDataset(points, modes, info, mix)


@DATASETS.register("ring8")
def ring8(
    data_dir=None, train: bool = True, download: bool = True, size: int | None = None, seed: int | None = None
) -> PointDataset:
    """Points of :data:`RING8`; ``data_dir`` and ``download`` are accepted for a uniform signature and unused."""
    return mixture_dataset(RING8, train, size, seed)


@DATASETS.register("grid25")
def grid25(
    data_dir=None, train: bool = True, download: bool = True, size: int | None = None, seed: int | None = None
) -> PointDataset:
    """Points of :data:`GRID25`; ``data_dir`` and ``download`` are accepted for a uniform signature and unused."""
    return mixture_dataset(GRID25, train, size, seed)


@DATASETS.register("ring8-unit")
def ring8_unit(
    data_dir=None, train: bool = True, download: bool = True, size: int | None = None, seed: int | None = None
) -> PointDataset:
    """Points of :data:`RING8_UNIT`; ``data_dir`` and ``download`` are accepted for a uniform signature and unused."""
    return mixture_dataset(RING8_UNIT, train, size, seed)
