"""Datasets by name: image datasets (MNIST, Fashion-MNIST, Stacked MNIST, synthetic) and 2-D point mixtures.

    from gan_hub.data import load_dataset
    ds = load_dataset("stacked-mnist", data_dir, train=False)   # uint8 [10000, 3, 28, 28], labels 0..999
    pts = load_dataset("ring8", size=1000)                       # PointDataset of float32 [1000, 2]

Importing this package registers every builder in :data:`DATASETS`.
"""

from ..registry import DATASETS
from .images import (
    DIGITS,
    FASHION,
    IDX_FILES,
    DatasetInfo,
    ImageDataset,
    centre_crop,
    default_data_dir,
    fashion_mnist,
    fit_image_size,
    load_dataset,
    mnist,
    read_idx,
    synthetic,
)
from .stacked_mnist import STACKED_CLASSES, StackedMNIST, stack_digits, stacked_mnist
from .toy2d import GRID25, MIXTURES, RING8, RING8_UNIT, Mixture2D, PointDataset, grid25, mixture, mixture_dataset, ring8

__all__ = [
    "DATASETS",
    "DIGITS",
    "FASHION",
    "GRID25",
    "IDX_FILES",
    "MIXTURES",
    "RING8",
    "RING8_UNIT",
    "STACKED_CLASSES",
    "DatasetInfo",
    "ImageDataset",
    "Mixture2D",
    "PointDataset",
    "StackedMNIST",
    "default_data_dir",
    "fashion_mnist",
    "fit_image_size",
    "grid25",
    "load_dataset",
    "mixture",
    "mixture_dataset",
    "mnist",
    "read_idx",
    "ring8",
    "centre_crop",
    "stack_digits",
    "stacked_mnist",
    "synthetic",
]
