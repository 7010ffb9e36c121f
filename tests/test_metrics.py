"""Tests for gan_hub.metrics: the Inception Score maths, streaming exactness, and the shipped classifier.

tests/fixtures/mnist_sample.safetensors holds 100 real MNIST test digits (the first 10 of each
class in t10k file order, uint8 [100, 1, 28, 28], plus labels and their t10k indices), so these
tests run without the MNIST files. It was made once with
``load_dataset("mnist", <mnist dir>, train=False)`` and ``safetensors.torch.save_file``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from gan_hub.metrics import (
    InceptionScore,
    UnknownNameError,
    WeightsError,
    inception_score_from_probs,
    load_scorer,
)
from gan_hub.metrics.mnist_classifier import ASSETS_DIR

FIXTURE = Path(__file__).parent / "fixtures" / "mnist_sample.safetensors"
SHIPPED = ASSETS_DIR / "mnist-classifier"


class IndexedLogits:
    """Stand-in scorer: image i carries its index in its first two pixels; returns row i of a fixed table.

    A test input with the scorer interface (``logits``, ``num_classes``), so the metric's own code runs unchanged.
    """

    name = "indexed-logits"

    def __init__(self, table: torch.Tensor):
        self.table = table
        self.num_classes = table.shape[1]

    @staticmethod
    def images_for(indices: torch.Tensor) -> torch.Tensor:
        images = torch.zeros(len(indices), 1, 4, 4, dtype=torch.uint8)
        images[:, 0, 0, 0] = (indices // 256).to(torch.uint8)
        images[:, 0, 0, 1] = (indices % 256).to(torch.uint8)
        return images

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        index = images[:, 0, 0, 0].long() * 256 + images[:, 0, 0, 1].long()
        return self.table[index]


def random_logits(n: int, k: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    scale = torch.rand(n, 1, generator=gen, dtype=torch.float64) * 12  # from near-uniform to near-one-hot
    logits = torch.randn(n, k, generator=gen, dtype=torch.float64) * scale
    logits[:5] *= 80  # a few rows with probabilities that underflow to exactly 0
    return logits


def uneven_batches(n: int):
    sizes, start, i = [1, 4, 2, 9, 0, 13, 3, 7], 0, 0
    while start < n:
        size = min(sizes[i % len(sizes)], n - start)
        yield start, start + size
        start, i = start + size, i + 1


# --- the formula ------------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 2, 10])
@pytest.mark.parametrize("assignment", ["contiguous", "round-robin"])
def test_one_hot_spread_evenly_gives_k(k, assignment):
    probs = torch.eye(k, dtype=torch.float64).repeat(10 * 3, 1)  # 30 of each class, classes interleaved
    mean, std = inception_score_from_probs(probs, splits=1, assignment=assignment)
    assert mean == pytest.approx(k, abs=1e-12) and std == 0.0
    mean, std = inception_score_from_probs(probs, splits=3, assignment=assignment)
    assert mean == pytest.approx(k, abs=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_single_class_gives_one():
    probs = torch.zeros(50, 10, dtype=torch.float64)
    probs[:, 3] = 1.0
    assert inception_score_from_probs(probs, splits=5) == pytest.approx((1.0, 0.0), abs=1e-12)
    m = InceptionScore(IndexedLogits(torch.full((50, 10), -1e4).index_fill_(1, torch.tensor([3]), 0.0)), splits=5)
    m.update(IndexedLogits.images_for(torch.arange(50)))
    assert m.compute() == pytest.approx((1.0, 0.0), abs=1e-12)
    assert m.class_histogram().tolist() == [0, 0, 0, 50, 0, 0, 0, 0, 0, 0]


def test_uniform_predictions_give_one():
    assert inception_score_from_probs(torch.full((40, 10), 0.1), splits=4)[0] == pytest.approx(1.0, abs=1e-12)


def test_split_std_is_population_std():
    # split 0: two one-hot classes -> IS 2; split 1: one class -> IS 1; population std of [2, 1] = 0.5
    probs = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
    mean, std = inception_score_from_probs(probs, splits=2, assignment="contiguous")
    assert (mean, std) == pytest.approx((1.5, 0.5), abs=1e-12)


def test_contiguous_chunks_follow_torch_fidelity_bounds():
    # N=13, splits=4: chunks [0,3) [3,6) [6,9) [9,13) -- k*N//splits; the remainder goes to later chunks
    probs = torch.zeros(13, 2, dtype=torch.float64)
    probs[:, 0] = 1.0
    probs[12] = torch.tensor([0.0, 1.0])  # only the last chunk (3 of class 0, 1 of class 1) is mixed
    q = torch.tensor([0.75, 0.25], dtype=torch.float64)
    last = math.exp(-(q * q.log()).sum().item())  # one-hot rows: mean KL = entropy of q
    scores = np.array([1.0, 1.0, 1.0, last])
    assert inception_score_from_probs(probs, 4) == pytest.approx((scores.mean(), scores.std()), abs=1e-12)


# --- streaming equals batch -------------------------------------------------------------------

N, K, SPLITS = 157, 7, 10


def test_round_robin_streaming_is_exact_at_every_prefix():
    logits = random_logits(N, K, seed=1)
    probs = logits.softmax(dim=1)
    metric = InceptionScore(IndexedLogits(logits), splits=SPLITS, assignment="round-robin")
    for start, stop in uneven_batches(N):
        metric.update(IndexedLogits.images_for(torch.arange(start, stop)))
        assert metric.n == stop
        if stop < SPLITS:
            with pytest.raises(ValueError, match=f"needs at least {SPLITS} samples"):
                metric.compute()
            continue
        got = metric.compute()
        want = inception_score_from_probs(probs[:stop], SPLITS, "round-robin")
        assert got == pytest.approx(want, abs=1e-10, rel=0)
    # and one sample at a time from scratch
    metric.reset()
    assert metric.n == 0
    for n in range(1, 41):
        metric.update(IndexedLogits.images_for(torch.tensor([n - 1])))
        if n < SPLITS:
            continue
        assert metric.compute() == pytest.approx(
            inception_score_from_probs(probs[:n], SPLITS, "round-robin"), abs=1e-10, rel=0
        )


def test_contiguous_streaming_is_exact_for_every_total():
    logits = random_logits(N, K, seed=2)
    probs = logits.softmax(dim=1)
    for n in range(1, SPLITS):  # a split would be empty: refused, not scored
        with pytest.raises(ValueError, match=f"num_samples must be an integer >= {SPLITS}"):
            InceptionScore(IndexedLogits(logits), splits=SPLITS, num_samples=n)
    for n in [*range(SPLITS, 32), 64, 99, 156, N]:  # all small totals (tiny splits), then a few larger
        metric = InceptionScore(IndexedLogits(logits), splits=SPLITS, num_samples=n)
        for start, stop in uneven_batches(n):
            metric.update(IndexedLogits.images_for(torch.arange(start, stop)))
        assert metric.complete
        got = metric.compute()
        assert got == pytest.approx(inception_score_from_probs(probs[:n], SPLITS, "contiguous"), abs=1e-10, rel=0)


def test_contiguous_partial_view_covers_the_splits_begun():
    logits = random_logits(N, K, seed=3)
    probs = logits.softmax(dim=1)
    bounds = [k * N // SPLITS for k in range(SPLITS + 1)]
    metric = InceptionScore(IndexedLogits(logits), splits=SPLITS, num_samples=N)
    for start, stop in uneven_batches(N):
        metric.update(IndexedLogits.images_for(torch.arange(start, stop)))
        if stop < SPLITS:
            continue
        chunks = [probs[lo : min(hi, stop)] for lo, hi in zip(bounds[:-1], bounds[1:]) if lo < stop]
        scores = np.array([inception_score_from_probs(c, 1)[0] for c in chunks])
        assert metric.compute() == pytest.approx((scores.mean(), scores.std()), abs=1e-10, rel=0)
        assert metric.complete == (stop == N)


def test_streaming_helpers():
    logits = random_logits(60, 4, seed=4)
    metric = InceptionScore(IndexedLogits(logits), splits=6)
    with pytest.raises(ValueError, match="no samples"):
        metric.compute()
    assert metric.class_histogram().tolist() == [0, 0, 0, 0]
    metric.update(IndexedLogits.images_for(torch.arange(60)))
    mean, std = metric.compute()
    assert metric.standard_error == pytest.approx(std / math.sqrt(6), abs=1e-15)
    assert metric.class_histogram().tolist() == torch.bincount(logits.argmax(1), minlength=4).tolist()
    assert len(metric.split_scores()) == 6

    bounded = InceptionScore(IndexedLogits(logits), splits=6, num_samples=10)
    with pytest.raises(ValueError, match="num_samples=10"):
        bounded.update(IndexedLogits.images_for(torch.arange(11)))
    with pytest.raises(ValueError, match="assignment must be one of 'contiguous', 'round-robin', 'shuffled'"):
        InceptionScore(IndexedLogits(logits), assignment="random")


# --- the shipped classifier -------------------------------------------------------------------


@pytest.fixture(scope="module")
def scorer():
    return load_scorer("mnist-classifier")


@pytest.fixture(scope="module")
def sample():
    data = load_file(str(FIXTURE))
    return data["images"], data["labels"]


def test_shipped_classifier_classifies_real_digits(scorer, sample):
    images, labels = sample
    assert images.dtype == torch.uint8 and images.shape == (100, 1, 28, 28)
    logits = scorer.logits(images)
    assert logits.shape == (100, 10) and logits.dtype == torch.float32
    accuracy = (logits.argmax(1) == labels).float().mean().item()
    assert accuracy >= 0.97
    assert scorer.features(images[:7]).shape == (7, 128)
    # batching inside the scorer gives the same logits as one big batch
    saved = scorer.batch_size
    scorer.batch_size = 37  # uneven: batches of 37, 37, 26
    try:
        assert torch.allclose(scorer.logits(images), logits, atol=1e-5)
    finally:
        scorer.batch_size = saved


def test_shipped_assets_are_consistent():
    weights = SHIPPED / "model.safetensors"
    assert weights.stat().st_size < 2 * 1024 * 1024
    config = json.loads((SHIPPED / "config.json").read_text())
    metrics = json.loads((SHIPPED / "metrics.json").read_text())
    assert config["test_accuracy"] == metrics["test_accuracy"] >= 0.99
    assert 9.0 < metrics["classifier_is"]["mnist_test_10k"]["mean"] <= 10.0
    real = metrics["reference"][0]  # the real-data line the app and model cards show
    assert real["metric"] == "inception_score" and real["mean"] == metrics["classifier_is"]["mnist_test_10k"]["mean"]
    card = (SHIPPED / "README.md").read_text()
    assert "classifier IS" in card and f"{metrics['test_accuracy'] * 100:.2f}%" in card


def test_is_of_real_digits_is_high(scorer, sample):
    images, _ = sample
    metric = InceptionScore(scorer, splits=2)
    metric.update(images[:37])
    metric.update(images[37:])
    mean, _ = metric.compute()
    assert mean > 8.0  # 100 digits, 10 of each class, confidently classified
    assert metric.class_histogram().sum() == 100


# --- weights errors ---------------------------------------------------------------------------


def test_unknown_scorer_name_lists_known_ones():
    with pytest.raises(UnknownNameError, match="mnist-classifier"):
        load_scorer("no-such-scorer")


def test_missing_weights_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_scorer("mnist-classifier", weights_path=tmp_path / "nope.safetensors")


def test_corrupted_weights_file(tmp_path):
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all" + bytes(100))
    with pytest.raises(WeightsError, match="not a readable safetensors file"):
        load_scorer("mnist-classifier", weights_path=bad)
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes((SHIPPED / "model.safetensors").read_bytes()[:5000])
    with pytest.raises(WeightsError, match="truncated.safetensors is damaged.*Download or export it again"):
        load_scorer("mnist-classifier", weights_path=truncated)


@pytest.mark.parametrize(
    "change, message",
    [
        ("drop", "missing key\\(s\\): head.bias"),
        ("extra", "unexpected key\\(s\\): extra.weight"),
        ("shape", "key 'head.weight' has shape \\(10, 64\\)"),
    ],
)
def test_mismatched_weights_name_the_key(tmp_path, change, message):
    state = load_file(str(SHIPPED / "model.safetensors"))
    if change == "drop":
        del state["head.bias"]
    elif change == "extra":
        state["extra.weight"] = torch.zeros(3)
    else:
        state["head.weight"] = torch.zeros(10, 64)
    path = tmp_path / "model.safetensors"
    save_file(state, str(path))
    with pytest.raises(WeightsError, match=message) as info:
        load_scorer("mnist-classifier", weights_path=path)
    assert "python -m train.classifier" in str(info.value)


# --- the command line -------------------------------------------------------------------------


@pytest.mark.parametrize("num_classes", [0, 10])
def test_cli_scores_exactly_the_generated_samples(tmp_path, scorer, num_classes):
    from gan_hub.config import GeneratorConfig
    from gan_hub.hub import Generator
    from gan_hub.metrics.__main__ import main

    variant = "cgan" if num_classes else "gan"
    config = GeneratorConfig(variant=variant, arch="mlp", latent_dim=8, num_classes=num_classes, dataset="mnist")
    Generator(config).save_pretrained(tmp_path / "model")
    out = tmp_path / "is.json"
    result = main(
        [
            str(tmp_path / "model"),
            "--scorer",
            "mnist-classifier",
            "--num-samples",
            "90",
            "--batch-size",
            "32",
            "--splits",
            "3",
            "--seed",
            "7",
            "--output",
            str(out),
        ]
    )
    images = Generator.from_pretrained(tmp_path / "model").generate(90, seed=7)
    want = inception_score_from_probs(scorer.logits(images).double().softmax(1), 3)
    entry = result["scores"][0]
    assert [e["metric"] for e in result["scores"]] == ["inception_score"] + (["accuracy"] if num_classes else [])
    assert (entry["mean"], entry["std"]) == pytest.approx(want, abs=1e-10, rel=0)
    saved = json.loads(out.read_text())
    assert saved["scores"][0] == {
        **entry,
        "name": "classifier IS@90",
        "scorer": "mnist-classifier",
        "num_samples": 90,
        "splits": 3,
        "seed": 7,
    }
    assert saved["scorer"]["name"] == "mnist-classifier" and len(saved["scorer"]["weights_sha256"]) == 64
    assert sum(saved["class_histogram"]) == 90


def test_shuffled_splits_do_not_line_up_with_a_class_cycle():
    # A conditional model's samples cycle through the classes: with period == splits, round-robin puts
    # one class in each split (IS 1, whatever the model); shuffled and contiguous see all classes.
    k, n = 10, 1000
    probs = torch.eye(k, dtype=torch.float64).repeat(n // k, 1)
    assert inception_score_from_probs(probs, 10, "round-robin")[0] == pytest.approx(1.0, abs=1e-12)
    assert inception_score_from_probs(probs, 10, "contiguous")[0] == pytest.approx(10.0, abs=1e-12)
    # (random splits of 100 hold the classes unevenly, so a little below 10: 9.42 here)
    assert 9.0 < inception_score_from_probs(probs, 10, "shuffled")[0] < 10.0


def test_shuffled_streaming_ends_at_the_batch_formula_with_contiguous_sizes():
    from gan_hub.metrics.inception_score import _split_ids

    logits = random_logits(N, K, seed=2)
    metric = InceptionScore(IndexedLogits(logits), splits=SPLITS, num_samples=N, assignment="shuffled")
    for start, stop in uneven_batches(N):
        metric.update(IndexedLogits.images_for(torch.arange(start, stop)))
    want = inception_score_from_probs(logits.softmax(dim=1), SPLITS, "shuffled")
    assert metric.compute() == pytest.approx(want, abs=1e-10, rel=0)
    sizes = torch.bincount(_split_ids(0, N, SPLITS, "shuffled", N), minlength=SPLITS)
    assert torch.equal(sizes, torch.bincount(_split_ids(0, N, SPLITS, "contiguous", N), minlength=SPLITS))
    with pytest.raises(ValueError, match="shuffled splits need num_samples"):
        InceptionScore(IndexedLogits(logits), splits=SPLITS, assignment="shuffled")
