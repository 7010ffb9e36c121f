"""The documented metric usage equals torch-fidelity on images in a periodic order (issue 14, item 1).

Generated samples of a conditional model cycle through the classes; a split assignment that lines up
with such a cycle (sample i -> split i % 10) reports a different number than the reference formula.
Each test feeds the shipped MNIST classifier's outputs for 200 real digits cycling through 10 bases
(one per class) to the documented three-line usage and to torch-fidelity's own metric functions.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from gan_hub.metrics import FeatureStatistics, InceptionScore, kernel_inception_distance, load_scorer

FIXTURE = Path(__file__).parent / "fixtures" / "mnist_sample.safetensors"


@pytest.fixture(scope="module")
def scorer():
    return load_scorer("mnist-classifier")


@pytest.fixture(scope="module")
def periodic_images():
    """200 digits cycling through 10 bases, one of each class: base i % 10 at position i."""
    data = load_file(str(FIXTURE))
    images, labels = data["images"], data["labels"]
    bases = torch.stack([images[(labels == k).nonzero()[0, 0]] for k in range(10)])
    return bases.repeat(20, 1, 1, 1)


def test_documented_inception_score_usage_equals_torch_fidelity(scorer, periodic_images):
    from torch_fidelity.metric_isc import isc_features_to_metric

    m = InceptionScore(scorer, splits=10)
    m.update(periodic_images)
    mean, std = m.compute()
    theirs = isc_features_to_metric(scorer.logits(periodic_images), splits=10, shuffle=False)
    assert mean == pytest.approx(theirs["inception_score_mean"], abs=1e-9)
    assert std == pytest.approx(theirs["inception_score_std"], abs=1e-9)
    # the 10 bases are 10 confident classes: every contiguous split sees them all, IS near 10;
    # a round-robin assignment would put one base in each split and report about 1
    assert mean > 8
    round_robin = InceptionScore(scorer, splits=10, assignment="round-robin").update(periodic_images).compute()[0]
    assert round_robin < 1.1


def test_inception_score_streamed_is_exact_for_the_images_seen_so_far(scorer, periodic_images):
    from torch_fidelity.metric_isc import isc_features_to_metric

    logits = scorer.logits(periodic_images)
    m = InceptionScore(scorer, splits=10)
    seen = 0
    for part in torch.split(periodic_images, [3, 14, 1, 27, 60, 95]):  # uneven batches: 3, 17, 18, 45, 105, 200
        m.update(part)
        seen += len(part)
        if seen < 10:
            with pytest.raises(ValueError, match="needs at least 10 samples"):
                m.compute()
            continue
        theirs = isc_features_to_metric(logits[:seen], splits=10, shuffle=False)
        assert m.compute() == pytest.approx((theirs["inception_score_mean"], theirs["inception_score_std"]), abs=1e-9)


def test_fewer_samples_than_splits_are_refused_not_scored(scorer, periodic_images):
    m = InceptionScore(scorer, splits=10)
    m.update(periodic_images[:5])
    with pytest.raises(ValueError, match="Inception Score over 10 splits needs at least 10 samples.*got 5"):
        m.compute()
    with pytest.raises(ValueError, match="num_samples must be an integer >= 10"):
        InceptionScore(scorer, splits=10, num_samples=5)


def test_documented_fid_usage_equals_torch_fidelity(scorer, periodic_images):
    from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric

    data = load_file(str(FIXTURE))
    real = scorer.features(data["images"])
    fake = scorer.features(periodic_images)
    ours_fake = FeatureStatistics()
    for part in torch.split(fake, 7):  # streamed in batches that do not line up with the period
        ours_fake.update(part)
    ours = ours_fake.frechet_distance(FeatureStatistics().update(real))
    theirs = fid_statistics_to_metric(
        fid_features_to_statistics(fake), fid_features_to_statistics(real), verbose=False
    )["frechet_inception_distance"]
    assert ours > 1.0
    assert ours == pytest.approx(theirs, rel=1e-6)


def test_documented_kid_usage_equals_torch_fidelity(scorer, periodic_images):
    from torch_fidelity.metric_kid import kid_features_to_metric

    data = load_file(str(FIXTURE))
    real, fake = scorer.features(data["images"]), scorer.features(periodic_images)
    ours = kernel_inception_distance(real, fake, subsets=20, subset_size=50, seed=2020)
    theirs = kid_features_to_metric(
        real,
        fake,
        kid_subsets=20,
        kid_subset_size=50,
        verbose=False,
        rng_seed=2020,
        kid_kernel="poly",
        kid_kernel_poly_degree=3,
        kid_kernel_poly_gamma=None,
        kid_kernel_poly_coef0=1,
    )
    assert ours[0] == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-5)
    assert ours[1] == pytest.approx(theirs["kernel_inception_distance_std"], rel=1e-4)
    assert np.isfinite(ours[0]) and ours[0] > 0
