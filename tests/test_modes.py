"""Mode-coverage datasets (Stacked MNIST, ring8, grid25) and metrics (gan_hub.metrics.modes).

Stacked MNIST is built on a tiny MNIST folder the tests write as IDX files from the 100 real test digits in
tests/fixtures/mnist_sample.safetensors: no network, no ../shared.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from gan_hub.data import (
    DATASETS,
    GRID25,
    RING8,
    DatasetInfo,
    ImageDataset,
    Mixture2D,
    PointDataset,
    load_dataset,
    mixture,
    read_idx,
)
from gan_hub.metrics.modes import categorical_coverage, default_min_count, mixture_coverage, stacked_mnist_modes
from gan_hub.registry import UnknownNameError

FIXTURE = Path(__file__).parent / "fixtures" / "mnist_sample.safetensors"


def write_idx(path: Path, data: torch.Tensor) -> None:
    """An IDX file of unsigned bytes: 0x0000, type 0x08, ndim, big-endian dims, raw bytes."""
    data = data.to(torch.uint8).contiguous()
    header = struct.pack(">HBB", 0, 0x08, data.ndim) + struct.pack(f">{data.ndim}I", *data.shape)
    path.write_bytes(header + data.numpy().tobytes())


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory):
    """A fake MNIST folder: the 100 fixture digits as the test split, their mirror images as the train split."""
    sample = load_file(str(FIXTURE))
    images, labels = sample["images"][:, 0], sample["labels"]
    folder = tmp_path_factory.mktemp("mnist")
    write_idx(folder / "t10k-images-idx3-ubyte", images)
    write_idx(folder / "t10k-labels-idx1-ubyte", labels)
    write_idx(folder / "train-images-idx3-ubyte", images.flip(-1)[:60])
    write_idx(folder / "train-labels-idx1-ubyte", labels[:60])
    return folder


# ---- the data package --------------------------------------------------------------------------------


def test_idx_writer_round_trips(mnist_dir):
    images = read_idx(mnist_dir / "t10k-images-idx3-ubyte")
    assert images.shape == (100, 28, 28) and images.dtype == torch.uint8
    assert torch.equal(images, load_file(str(FIXTURE))["images"][:, 0])


def test_registered_datasets():
    for name in ("mnist", "fashion-mnist", "synthetic", "stacked-mnist", "ring8", "grid25"):
        assert name in DATASETS


def test_old_module_names_still_import():
    import gan_hub.data as data

    for name in (
        "DATASETS",
        "DatasetInfo",
        "ImageDataset",
        "load_dataset",
        "read_idx",
        "default_data_dir",
        "DIGITS",
        "FASHION",
        "mnist",
        "fashion_mnist",
        "synthetic",
        "IDX_FILES",
    ):
        assert hasattr(data, name), name
    assert len(data.synthetic(size=8)) == 8


def test_stacked_mnist_shapes_and_labels(mnist_dir):
    source = load_dataset("mnist", mnist_dir, train=False, download=False)
    ds = load_dataset("stacked-mnist", mnist_dir, train=False, download=False)
    assert isinstance(ds, ImageDataset)
    assert len(ds) == len(source) == 100  # default size: the size of the underlying split
    assert ds.images.shape == (100, 3, 28, 28) and ds.images.dtype == torch.uint8
    assert ds.labels.dtype == torch.int64
    assert ds.info == DatasetInfo(
        "stacked-mnist", channels=3, image_size=28, class_names=[f"{k:03d}" for k in range(1000)]
    )
    idx = ds.source_indices
    assert idx.shape == (100, 3)
    for c in range(3):  # channel c is the source digit at idx[:, c]
        assert torch.equal(ds.images[:, c], source.images[idx[:, c], 0])
    a, b, c = (source.labels[idx[:, j]] for j in range(3))
    assert torch.equal(ds.labels, 100 * a + 10 * b + c)
    assert 0 <= int(ds.labels.min()) and int(ds.labels.max()) <= 999
    # the three channels are drawn independently: not all the same digit
    assert (idx[:, 0] != idx[:, 1]).any() and (idx[:, 1] != idx[:, 2]).any()
    image, label = ds[0]
    assert image.shape == (3, 28, 28) and image.min() >= -1 and image.max() <= 1 and label == ds.labels[0]


def test_stacked_mnist_split_size_and_seed(mnist_dir):
    train = load_dataset("stacked-mnist", mnist_dir, train=True, download=False)
    assert len(train) == 60
    # the train split stacks the train digits (the mirrored ones)
    train_source = load_dataset("mnist", mnist_dir, train=True, download=False)
    assert torch.equal(train.images[:, 1], train_source.images[train.source_indices[:, 1], 0])
    big = load_dataset("stacked-mnist", mnist_dir, train=False, download=False, size=500)
    assert len(big) == 500 and big.images.shape == (500, 3, 28, 28)
    again = load_dataset("stacked-mnist", mnist_dir, train=False, download=False, size=500)
    assert torch.equal(big.images, again.images) and torch.equal(big.labels, again.labels)
    other = load_dataset("stacked-mnist", mnist_dir, train=False, download=False, size=500, seed=123)
    assert not torch.equal(big.source_indices, other.source_indices)
    assert not torch.equal(big.labels, other.labels)


def test_ring8_dataset():
    ds = load_dataset("ring8", size=5000)
    assert isinstance(ds, PointDataset) and len(ds) == 5000
    assert ds.points.dtype == torch.float32 and ds.points.shape == (5000, 2)
    assert ds.labels.dtype == torch.int64 and set(ds.labels.tolist()) == set(range(8))
    assert ds.info.num_classes == 8 and ds.info.name == "ring8"
    radius = ds.points.double().norm(dim=1)
    assert abs(float(radius.mean()) - 2.0) < 0.01
    # each point lies near the centre of the mode it is labelled with
    assert float((ds.points.double() - RING8.centers[ds.labels]).norm(dim=1).max()) < 6 * RING8.std
    point, label = ds[3]
    assert point.shape == (2,) and label == ds.labels[3]
    assert torch.equal(load_dataset("ring8", size=5000).points, ds.points)  # deterministic
    assert not torch.equal(load_dataset("ring8", train=False, size=5000).points, ds.points)  # split seeds differ


def test_toy_default_sizes():
    assert len(load_dataset("grid25", train=False)) == 10_000
    assert len(DATASETS.get("ring8")(train=True)) == 100_000


def test_grid25_centres():
    assert GRID25.num_modes == 25 and GRID25.std == 0.05
    expected = {(float(x), float(y)) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)}
    assert {tuple(c) for c in GRID25.centers.tolist()} == expected
    assert GRID25.centers.dtype == torch.float64
    ds = load_dataset("grid25", size=2000)
    assert set(ds.labels.tolist()) == set(range(25))


def test_ring8_centres_and_lookup():
    assert RING8.num_modes == 8 and RING8.std == 0.02
    assert torch.allclose(RING8.centers.norm(dim=1), torch.full((8,), 2.0, dtype=torch.float64))
    assert torch.allclose(RING8.centers[2], torch.tensor([0.0, 2.0], dtype=torch.float64), atol=1e-12)
    assert mixture("ring8") is RING8 and mixture("grid25") is GRID25
    with pytest.raises(UnknownNameError, match="grid25.*ring8"):
        mixture("ring9")
    pts = RING8.sample(10, torch.Generator().manual_seed(0))
    assert pts.shape == (10, 2) and pts.dtype == torch.float32


# ---- categorical_coverage ------------------------------------------------------------------------------


def test_categorical_uniform():
    out = categorical_coverage(torch.arange(40) % 10, 10)
    assert out["modes_covered"] == 10 and out["kl_to_uniform"] == pytest.approx(0.0, abs=1e-12)
    assert out["counts"] == [4] * 10 and out["num_samples"] == 40 and out["num_modes"] == 10
    json.dumps(out)


def test_categorical_single_mode():
    out = categorical_coverage(torch.full((50,), 7), 1000)
    assert out["modes_covered"] == 1
    assert out["kl_to_uniform"] == pytest.approx(math.log(1000), rel=1e-12)


def test_categorical_hand_computed():
    # counts [2, 1, 1, 0] over K=4: p = [0.5, 0.25, 0.25, 0]
    # KL = 0.5*log(0.5*4) + 0.25*log(0.25*4) + 0.25*log(0.25*4) + 0 = 0.5*log(2)
    out = categorical_coverage(torch.tensor([0, 1, 0, 2]), 4)
    assert out["counts"] == [2, 1, 1, 0] and out["modes_covered"] == 3
    assert out["kl_to_uniform"] == pytest.approx(0.5 * math.log(2), rel=1e-12)
    # counts [3, 1] over K=2: 0.75*log(1.5) + 0.25*log(0.5)
    out = categorical_coverage(torch.tensor([1, 0, 0, 0]), 2)
    assert out["kl_to_uniform"] == pytest.approx(0.75 * math.log(1.5) + 0.25 * math.log(0.5), rel=1e-12)


def test_categorical_rejects_bad_ids():
    with pytest.raises(ValueError):
        categorical_coverage(torch.tensor([0, 10]), 10)
    with pytest.raises(ValueError):
        categorical_coverage(torch.tensor([0.0, 1.0]), 10)
    assert categorical_coverage(torch.zeros(0, dtype=torch.long), 3)["kl_to_uniform"] is None


# ---- stacked_mnist_modes -------------------------------------------------------------------------------


class PixelClassifier:
    """Fake digit classifier: the class of a [1, 28, 28] image is its pixel (0, 0) mod 10."""

    def __init__(self):
        self.calls = []

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        assert images.dtype == torch.uint8 and images.shape[1:] == (1, 28, 28)
        self.calls.append(len(images))
        return torch.nn.functional.one_hot(images[:, 0, 0, 0].long() % 10, 10).float()


def test_stacked_mnist_modes_channel_order():
    images = torch.zeros(4, 3, 28, 28, dtype=torch.uint8)
    digits = torch.tensor([[1, 2, 3], [9, 0, 0], [0, 0, 7], [45, 16, 8]])  # 45 -> 5, 16 -> 6
    images[:, :, 0, 0] = digits.to(torch.uint8)
    clf = PixelClassifier()
    modes = stacked_mnist_modes(images, clf)
    assert modes.dtype == torch.int64
    assert modes.tolist() == [123, 900, 7, 568]
    assert clf.calls == [12]  # one call for all 3N channels


def test_stacked_mnist_modes_on_dataset_labels(mnist_dir):
    """With a classifier that knows the true digit of each source image, the modes equal the labels."""
    source = load_dataset("mnist", mnist_dir, train=False, download=False)
    ds = load_dataset("stacked-mnist", mnist_dir, train=False, download=False, size=300)
    table = {bytes(img.flatten().tolist()): int(lab) for img, lab in zip(source.images, source.labels)}

    class LookupClassifier:
        def logits(self, images):
            labels = torch.tensor([table[bytes(img.flatten().tolist())] for img in images])
            return torch.nn.functional.one_hot(labels, 10).float()

    assert torch.equal(stacked_mnist_modes(ds.images, LookupClassifier()), ds.labels)
    out = categorical_coverage(ds.labels, 1000)
    assert out["num_samples"] == 300 and 1 <= out["modes_covered"] <= 300


def test_stacked_mnist_modes_rejects_grey_images():
    with pytest.raises(ValueError):
        stacked_mnist_modes(torch.zeros(2, 1, 28, 28, dtype=torch.uint8), PixelClassifier())


# ---- mixture_coverage ----------------------------------------------------------------------------------


def test_mixture_points_at_centres():
    out = mixture_coverage(RING8.centers.float(), RING8)
    assert out["modes_covered"] == 8 and out["high_quality_share"] == 1.0
    assert out["counts"] == [1] * 8 and out["kl_to_uniform"] == pytest.approx(0.0, abs=1e-12)
    assert out["min_count"] == 1  # max(1, round(0.1 * 8 / 8))
    json.dumps(out)


def test_mixture_samples_from_itself():
    for mix in (RING8, GRID25):
        pts = mix.sample(2000, torch.Generator().manual_seed(0))
        out = mixture_coverage(pts, mix)
        assert out["modes_covered"] == mix.num_modes, mix.name
        # 2-D isotropic Gaussian: P(r <= 3 std) = 1 - exp(-9/2) = 0.9889 (so "> 0.99" would be wrong at 3 std)
        assert abs(out["high_quality_share"] - (1 - math.exp(-4.5))) < 0.01
        assert mixture_coverage(pts, mix, quality_stds=4.0)["high_quality_share"] > 0.99  # 1 - exp(-8)
        assert out["kl_to_uniform"] < 0.05
        assert out["num_samples"] == 2000 and out["min_count"] == default_min_count(2000, mix.num_modes)
        json.dumps(out)


def test_mixture_single_mode_collapse():
    pts = RING8.centers[3].expand(400, 2) + 0.01 * torch.randn(
        400, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64
    )
    out = mixture_coverage(pts, "ring8")
    assert out["modes_covered"] == 1 and out["counts"][3] == 400
    assert out["kl_to_uniform"] == pytest.approx(math.log(8), rel=1e-12)


def test_mixture_far_points():
    out = mixture_coverage(torch.zeros(100, 2), RING8)
    assert out["high_quality_share"] == 0.0 and out["modes_covered"] == 0
    assert out["kl_to_uniform"] is None and out["num_high_quality"] == 0
    json.dumps(out)


def test_mixture_quality_threshold_and_min_count():
    # a point at 2.5 std from its centre is high quality at 3 std but not at 2 std
    pts = RING8.centers[:1].clone()
    pts[0, 0] += 2.5 * RING8.std
    assert mixture_coverage(pts, RING8)["high_quality_share"] == 1.0
    assert mixture_coverage(pts, RING8, quality_stds=2.0)["high_quality_share"] == 0.0
    # min_count: a mode with too few high-quality samples is not covered
    pts = torch.cat([RING8.centers[0].expand(100, 2), RING8.centers[1].expand(3, 2)])
    assert mixture_coverage(pts, RING8, min_count=4)["modes_covered"] == 1
    assert mixture_coverage(pts, RING8, min_count=3)["modes_covered"] == 2
    assert default_min_count(1000, 8) == 12 and default_min_count(10, 25) == 1
    assert mixture_coverage(pts, RING8)["min_count"] == 1  # round(0.1 * 103 / 8) = 1


def test_mixture2d_validation():
    with pytest.raises(ValueError):
        Mixture2D("bad", torch.zeros(3), 0.1)
    with pytest.raises(ValueError):
        Mixture2D("bad", torch.zeros(3, 2), 0.0)
    m = Mixture2D("two", [[0.0, 0.0], [1.0, 0.0]], 0.1)
    assert m.centers.dtype == torch.float64 and m.mode_names == ["(0.00, 0.00)", "(1.00, 0.00)"]


def test_stacked_mnist_modes_with_the_shipped_classifier(mnist_dir):
    """The project's MNIST scorer fits the classifier protocol and recovers the modes of real stacked digits."""
    from gan_hub.metrics import load_scorer

    ds = load_dataset("stacked-mnist", mnist_dir, train=False, download=False, size=200)
    modes = stacked_mnist_modes(ds.images, load_scorer("mnist-classifier"))
    assert float((modes == ds.labels).double().mean()) >= 0.95
