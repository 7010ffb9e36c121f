"""Image datasets by name (MNIST, Fashion-MNIST, a synthetic test set) and the IDX reader they share.

Each builder returns an :class:`ImageDataset` of uint8 images plus labels.

Images are kept as uint8 in memory and scaled to [-1, 1] per item, which is what every
generator's tanh output is compared against.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.utils.data import Dataset

from ..registry import DATASETS

DIGITS = [str(i) for i in range(10)]
FASHION = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
IDX_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


@dataclass
class DatasetInfo:
    name: str
    channels: int
    image_size: int
    class_names: list[str] = field(default_factory=list)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


class ImageDataset(Dataset):
    """uint8 images [N, C, H, W] and int64 labels; items are (float image in [-1, 1], label)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, info: DatasetInfo):
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError(f"images must be uint8 [N, C, H, W], got {images.dtype} {tuple(images.shape)}")
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.images, self.labels, self.info = images, labels.long(), info

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        return self.images[index].float().div(127.5).sub(1.0), self.labels[index]

    def __getitems__(self, indices: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """A DataLoader's whole batch in one indexing and one conversion instead of one per item."""
        index = torch.as_tensor(indices, dtype=torch.long)
        return list(zip(self.images[index].float().div_(127.5).sub_(1.0), self.labels[index]))


def default_data_dir() -> Path:
    return Path(os.environ.get("GAN_HUB_DATA", Path.home() / ".cache" / "gan_hub" / "datasets"))


def read_idx(path: Path) -> torch.Tensor:
    """Read an IDX file (plain or gzip) of unsigned bytes into a uint8 tensor."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise ValueError(f"{path} is damaged ({type(err).__name__}: {err}): download it again") from None
    if len(raw) < 4:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes (only {len(raw)} bytes): download it again")
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08 or len(raw) < 4 + 4 * ndim:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    shape = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    data = torch.frombuffer(bytearray(raw[4 + 4 * ndim :]), dtype=torch.uint8)
    if data.numel() != int(torch.tensor(shape).prod()):
        raise ValueError(f"{path} is truncated: expected shape {shape}")
    return data.reshape(shape)


def _find_idx(data_dir: Path, stem: str) -> Path | None:
    for folder in (data_dir, data_dir / "raw", data_dir / "MNIST" / "raw", data_dir / "FashionMNIST" / "raw"):
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                return folder / name
    return None


def _idx_dataset(name: str, torchvision_cls: str, class_names: list[str], data_dir, train: bool, download: bool):
    info = DatasetInfo(name, channels=1, image_size=28, class_names=class_names)
    root = Path(data_dir) if data_dir else default_data_dir()
    image_file, label_file = (_find_idx(root, stem) for stem in IDX_FILES[train])
    if bool(image_file) != bool(label_file):
        missing = IDX_FILES[train][1] if image_file else IDX_FILES[train][0]
        raise FileNotFoundError(
            f"{name}: {root} has {(image_file or label_file).name} but not {missing}[.gz]: "
            "add the missing file (or remove both to download them)"
        )
    if image_file and label_file:
        images, labels = read_idx(image_file), read_idx(label_file)
        if len(images) != len(labels):
            raise ValueError(f"{name}: {image_file} holds {len(images)} images but {label_file} {len(labels)} labels")
    else:
        import torchvision.datasets as tvd

        try:
            ds = getattr(tvd, torchvision_cls)(str(root), train=train, download=download)
        except RuntimeError as err:
            raise FileNotFoundError(
                f"{name}: no IDX files in {root} and torchvision could not fetch them ({err}). "
                f"Pass --data-dir pointing at a folder holding {IDX_FILES[train][0]}[.gz], or run on a connected "
                f"machine."
            ) from err
        images, labels = ds.data, ds.targets
    return ImageDataset(images.unsqueeze(1).contiguous(), labels, info)


@DATASETS.register("mnist")
def mnist(data_dir=None, train: bool = True, download: bool = True) -> ImageDataset:
    return _idx_dataset("mnist", "MNIST", DIGITS, data_dir, train, download)


@DATASETS.register("fashion-mnist")
def fashion_mnist(data_dir=None, train: bool = True, download: bool = True) -> ImageDataset:
    return _idx_dataset("fashion-mnist", "FashionMNIST", FASHION, data_dir, train, download)


@DATASETS.register("synthetic")
def synthetic(
    data_dir=None,
    train: bool = True,
    download: bool = False,
    size: int = 256,
    image_size: int = 16,
    num_classes: int = 4,
) -> ImageDataset:
    """A tiny, deterministic dataset for tests: class k is a bright square in the k-th cell of a grid."""
    gen = torch.Generator().manual_seed(0 if train else 1)
    labels = torch.arange(size) % num_classes
    images = torch.randint(0, 40, (size, 1, image_size, image_size), generator=gen, dtype=torch.uint8)
    cells = int(num_classes**0.5 + 0.999)
    cell = image_size // cells
    for k in range(num_classes):
        r, c = divmod(k, cells)
        images[labels == k, :, r * cell : (r + 1) * cell, c * cell : (c + 1) * cell] = 220
    info = DatasetInfo(
        "synthetic", channels=1, image_size=image_size, class_names=[f"cell {k}" for k in range(num_classes)]
    )
    return ImageDataset(images, labels, info)


def fit_image_size(dataset, size: int) -> ImageDataset:
    """``dataset`` with its images brought to ``size`` x ``size``: centred black padding when they are
    smaller (MNIST's 28x28 in a 32x32 frame, as LeNet-5 read it: the digits keep their scale), area
    averaging when they are larger. The same dataset when they already fit."""
    if not isinstance(dataset, ImageDataset):
        raise ValueError(f"this variant trains on images of {size}x{size}; {dataset.info.name} is not an image dataset")
    images, current = dataset.images, dataset.info.image_size
    if current == size:
        return dataset
    if current < size:
        before = (size - current) // 2
        after = size - current - before
        images = torch.nn.functional.pad(images, (before, after, before, after))  # uint8 0: black, -1 once scaled
    else:
        images = torch.nn.functional.interpolate(images.float(), size=(size, size), mode="area").round().to(torch.uint8)
    info = DatasetInfo(dataset.info.name, dataset.info.channels, size, list(dataset.info.class_names))
    return ImageDataset(images.contiguous(), dataset.labels, info)


def centre_crop(images: torch.Tensor, size: int) -> torch.Tensor:
    """The central ``size`` x ``size`` of larger images [N, C, H, W]: undoes :func:`fit_image_size`'s padding
    (e.g. 32x32 samples of a model trained on padded MNIST, cropped to 28x28 for the MNIST scorer)."""
    height, width = images.shape[-2:]
    if height < size or width < size:
        raise ValueError(f"images of {height}x{width} are smaller than the {size}x{size} crop")
    top, left = (height - size) // 2, (width - size) // 2
    return images[..., top : top + size, left : left + size]


def load_dataset(name: str, data_dir=None, train: bool = True, download: bool = True, **kwargs):
    """The dataset registered as ``name``; extra keyword arguments (e.g. ``size``) go to its builder."""
    return DATASETS.get(name)(data_dir=data_dir, train=train, download=download, **kwargs)
