"""Stacked MNIST: three MNIST digits in the R, G and B channels, so 10**3 = 1000 modes.

The mode-collapse benchmark of Metz et al. (Unrolled GANs) and Lin et al. (PacGAN): every sample
stacks three digits drawn independently and uniformly at random (with replacement) from one MNIST
split; its label is ``100 * d_R + 10 * d_G + d_B`` (0..999).
"""

from __future__ import annotations

import torch

from ..registry import DATASETS
from .images import DatasetInfo, ImageDataset, mnist

STACKED_CLASSES = [f"{k:03d}" for k in range(1000)]
PLACE_VALUES = torch.tensor([100, 10, 1])  # R, G, B


class StackedMNIST(ImageDataset):
    """An :class:`ImageDataset` of uint8 [N, 3, 28, 28] images that also keeps where each channel came from.

    ``source_indices[n, c]`` is the index, in the underlying MNIST split, of the digit in channel ``c``
    of sample ``n``.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, info: DatasetInfo, source_indices: torch.Tensor):
        super().__init__(images, labels, info)
        self.source_indices = source_indices


def stack_digits(
    images: torch.Tensor, labels: torch.Tensor, size: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Stack ``size`` triples of digits drawn uniformly with replacement from ``images`` [M, 1, H, W].

    Returns (uint8 images [size, 3, H, W], int64 labels [size], int64 source indices [size, 3]).
    """
    if images.ndim != 4 or images.shape[1] != 1:
        raise ValueError(f"expected single-channel images [M, 1, H, W], got {tuple(images.shape)}")
    if len(images) == 0:
        raise ValueError("cannot stack digits from an empty dataset")
    if size < 0:
        raise ValueError(f"size must be >= 0, got {size}")
    index = torch.randint(0, len(images), (size, 3), generator=generator)
    stacked = images[:, 0][index]  # [size, 3, H, W]
    stacked_labels = (labels.long()[index] * PLACE_VALUES).sum(dim=1)
    return stacked.contiguous(), stacked_labels, index


@DATASETS.register("stacked-mnist")
def stacked_mnist(
    data_dir=None, train: bool = True, download: bool = True, size: int | None = None, seed: int | None = None
) -> StackedMNIST:
    """Stacked MNIST built on the MNIST ``train`` (60k) or test (10k) split.

    ``size`` defaults to the size of that split; ``seed`` defaults to 0 for train and 1 for test, so the
    dataset is the same on every call with the same arguments.
    """
    source = mnist(data_dir=data_dir, train=train, download=download)
    gen = torch.Generator().manual_seed((0 if train else 1) if seed is None else seed)
    images, labels, index = stack_digits(source.images, source.labels, len(source) if size is None else size, gen)
    info = DatasetInfo(
        "stacked-mnist", channels=3, image_size=source.info.image_size, class_names=list(STACKED_CLASSES)
    )
    return StackedMNIST(images, labels, info, index)
