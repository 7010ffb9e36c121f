"""FID, KID, the Inception-v3 scorer and the one scoring path (issue 3).

Agreement with torch-fidelity is checked on the same images and the same Inception weights: the
test makes a file of random weights in the reference layout (torch-fidelity reads the .pth, gan-hub
the same tensors as .safetensors, since gan-hub unpickles only the known reference file).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from gan_hub.io import CheckpointError
from gan_hub.metrics import FeatureStatistics, InceptionScore, frechet_distance, kernel_inception_distance, load_scorer
from gan_hub.metrics import inception_v3 as iv3
from gan_hub.metrics import reference as refs
from gan_hub.metrics.kid import mmd2_unbiased, polynomial_kernel

FIXTURE = Path(__file__).parent / "fixtures" / "mnist_sample.safetensors"


# --- FID ----------------------------------------------------------------------------------------


def test_streaming_statistics_equal_numpy_for_any_batching():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(301, 7, generator=gen, dtype=torch.float64) * 3 + 1000  # a large offset: cancellation test
    for sizes in ([301], [1, 300], [100, 100, 101], [7] * 43):
        stats = FeatureStatistics()
        for part in torch.split(x, sizes):
            stats.update(part)
        assert stats.n == 301
        np.testing.assert_allclose(stats.mean.numpy(), x.numpy().mean(0), rtol=0, atol=1e-10)
        np.testing.assert_allclose(stats.covariance.numpy(), np.cov(x.numpy(), rowvar=False), rtol=1e-10, atol=1e-10)


def test_fid_of_a_set_with_itself_is_zero():
    x = torch.randn(500, 16, generator=torch.Generator().manual_seed(1))
    a, b = FeatureStatistics().update(x), FeatureStatistics().update(x)
    assert a.frechet_distance(b) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("d, shift, scale", [(4, 0.5, 1.0), (32, 0.0, 2.0), (64, 1.5, 0.3)])
def test_fid_between_isotropic_gaussians_matches_closed_form(d, shift, scale):
    # N(0, I) vs N(m, s^2 I): |m|^2 + d (1 + s^2 - 2 s) = |m|^2 + d (1 - s)^2
    mu_2 = torch.full((d,), shift, dtype=torch.float64)
    value = frechet_distance(torch.zeros(d), torch.eye(d), mu_2, scale**2 * torch.eye(d, dtype=torch.float64))
    assert value == pytest.approx(d * shift**2 + d * (1 - scale) ** 2, rel=1e-12, abs=1e-12)


def test_fid_with_non_commuting_covariances_matches_scipy_and_torch_fidelity():
    import scipy.linalg as scipy_linalg  # in requirements-dev.txt
    from torch_fidelity.metric_fid import fid_statistics_to_metric

    gen = torch.Generator().manual_seed(2)
    a, b = (
        torch.randn(20, 20, generator=gen, dtype=torch.float64),
        torch.randn(20, 20, generator=gen, dtype=torch.float64),
    )
    s1, s2 = a @ a.T + 0.1 * torch.eye(20), b @ b.T
    m1, m2 = torch.randn(20, generator=gen, dtype=torch.float64), torch.randn(20, generator=gen, dtype=torch.float64)
    covmean = scipy_linalg.sqrtm(s1.numpy() @ s2.numpy()).real
    closed = float((m1 - m2) @ (m1 - m2) + s1.trace() + s2.trace() - 2 * np.trace(covmean))
    ours = frechet_distance(m1, s1, m2, s2)
    assert ours == pytest.approx(closed, rel=1e-9)
    theirs = fid_statistics_to_metric(
        {"mu": m1.numpy(), "sigma": s1.numpy()}, {"mu": m2.numpy(), "sigma": s2.numpy()}, verbose=False
    )["frechet_inception_distance"]
    assert ours == pytest.approx(theirs, rel=1e-9)


def test_fid_of_sampled_gaussians_approaches_the_closed_form():
    gen = torch.Generator().manual_seed(3)
    x = torch.randn(20000, 3, generator=gen, dtype=torch.float64)
    y = torch.randn(20000, 3, generator=gen, dtype=torch.float64) * 2 + 1
    measured = FeatureStatistics().update(x).frechet_distance(FeatureStatistics().update(y))
    assert measured == pytest.approx(3 * 1 + 3 * (1 - 2) ** 2, rel=0.03)


def test_statistics_file_round_trip_and_errors(tmp_path):
    x = torch.randn(50, 5, generator=torch.Generator().manual_seed(4))
    stats = FeatureStatistics().update(x)
    path = stats.save(tmp_path / "s.safetensors", {"scorer": "test"})
    loaded = refs.ReferenceStatistics.load(path)
    assert loaded.n == 50 and loaded.metadata["scorer"] == "test"
    assert torch.equal(loaded.mean, stats.mean) and torch.equal(loaded.covariance, stats.covariance)
    with pytest.raises(FileNotFoundError, match="python -m gan_hub.metrics.reference"):
        refs.ReferenceStatistics.load(tmp_path / "missing.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"not a file")
    with pytest.raises(CheckpointError, match="not a readable safetensors"):
        refs.ReferenceStatistics.load(tmp_path / "bad.safetensors")


# --- KID ----------------------------------------------------------------------------------------


def test_mmd2_of_point_masses_is_the_kernel_formula():
    # X all at a, Y all at b: the unbiased estimate is exactly k(a,a) + k(b,b) - 2 k(a,b)
    a, b = torch.tensor([[1.0, 2.0]], dtype=torch.float64), torch.tensor([[0.5, -1.0]], dtype=torch.float64)
    x, y = a.repeat(5, 1), b.repeat(7, 1)
    k = lambda u, v: (float(u @ v.T) / 2 + 1) ** 3  # noqa: E731  (d = 2)
    want = k(a, a) + k(b, b) - 2 * k(a, b)
    got = mmd2_unbiased(polynomial_kernel(x, x), polynomial_kernel(x, y), polynomial_kernel(y, y))
    assert got == pytest.approx(want, rel=1e-12)


def test_kid_is_unbiased_for_identical_distributions():
    # Averaged over many independent draws, the estimate is 0 within its standard error; a biased
    # (V-statistic) estimate of the same draws is clearly positive.
    gen = torch.Generator().manual_seed(5)
    unbiased, biased = [], []
    for _ in range(200):
        x = torch.randn(20, 4, generator=gen, dtype=torch.float64)
        y = torch.randn(20, 4, generator=gen, dtype=torch.float64)
        kxx, kxy, kyy = polynomial_kernel(x, x), polynomial_kernel(x, y), polynomial_kernel(y, y)
        unbiased.append(mmd2_unbiased(kxx, kxy, kyy))
        biased.append(float(kxx.mean() + kyy.mean() - 2 * kxy.mean()))
    mean, se = np.mean(unbiased), np.std(unbiased) / math.sqrt(len(unbiased))
    assert abs(mean) < 3 * se
    assert np.mean(biased) > 10 * se


def test_kid_agrees_with_torch_fidelity():
    from torch_fidelity.metric_kid import kid_features_to_metric

    gen = torch.Generator().manual_seed(6)
    real = torch.randn(300, 8, generator=gen)
    fake = torch.randn(250, 8, generator=gen) * 1.2 + 0.3
    ours = kernel_inception_distance(real, fake, subsets=10, subset_size=100, seed=2020)
    theirs = kid_features_to_metric(
        real,
        fake,
        kid_subsets=10,
        kid_subset_size=100,
        verbose=False,
        rng_seed=2020,
        kid_kernel="poly",
        kid_kernel_poly_degree=3,
        kid_kernel_poly_gamma=None,
        kid_kernel_poly_coef0=1,
    )
    assert ours[0] == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-5)
    assert ours[1] == pytest.approx(theirs["kernel_inception_distance_std"], rel=1e-4)
    assert ours[0] > 0.01  # a real difference is measured


def test_kid_needs_enough_vectors():
    with pytest.raises(ValueError, match="at least that many"):
        kernel_inception_distance(torch.randn(50, 3), torch.randn(50, 3), subset_size=100)


# --- the Inception-v3 scorer --------------------------------------------------------------------


@pytest.fixture(scope="module")
def random_inception(tmp_path_factory):
    """The same random weights as .pth (for torch-fidelity) and .safetensors (for gan-hub)."""
    folder = tmp_path_factory.mktemp("inception")
    state = iv3.random_weights_state(seed=0)
    torch.save(state, folder / "weights.pth")
    save_file(state, str(folder / "weights.safetensors"))
    return folder


def varied_images(n: int, seed: int = 0) -> torch.Tensor:
    """Colour gradients of random hue, direction and contrast: images the random network tells apart."""
    gen = torch.Generator().manual_seed(seed)
    ramp = torch.linspace(0, 1, 32)
    horizontal = torch.rand(n, 1, 1, 1, generator=gen) < 0.5
    grad = torch.where(horizontal, ramp.view(1, 1, 1, 32), ramp.view(1, 1, 32, 1))
    colour = torch.rand(n, 3, 1, 1, generator=gen) * 255
    return (colour * grad * torch.rand(n, 1, 1, 1, generator=gen) * 2).clamp(0, 255).to(torch.uint8)


def test_inception_score_and_features_agree_with_torch_fidelity(random_inception):
    import torch_fidelity

    images = varied_images(40)

    class Images(torch.utils.data.Dataset):
        def __len__(self):
            return len(images)

        def __getitem__(self, i):
            return images[i]

    theirs = torch_fidelity.calculate_metrics(
        input1=Images(),
        isc=True,
        feature_extractor_weights_path=str(random_inception / "weights.pth"),
        samples_shuffle=False,
        cuda=False,
        verbose=False,
        batch_size=20,
        cache=False,
        save_cpu_ram=True,
    )
    scorer = load_scorer("inception-v3", weights_path=random_inception / "weights.safetensors")
    assert scorer.info["reference_weights"] is False
    metric = InceptionScore(scorer, splits=10, num_samples=40)
    for part in torch.split(images, 13):  # streamed in uneven batches
        metric.update(part)
    mean, std = metric.compute()
    assert mean > 1.02  # not the degenerate IS = 1 of a network that sees every image alike
    assert mean == pytest.approx(theirs["inception_score_mean"], rel=1e-4)
    assert std == pytest.approx(theirs["inception_score_std"], rel=1e-3, abs=1e-6)

    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    reference_net = FeatureExtractorInceptionV3(
        "ref", ["2048", "logits_unbiased"], feature_extractor_weights_path=str(random_inception / "weights.pth")
    )
    with torch.no_grad():
        want_pool, want_logits = reference_net(images[:6])
    logits, pool = scorer.logits_and_features(images[:6])
    torch.testing.assert_close(pool, want_pool, rtol=1e-4, atol=1e-4 * float(want_pool.abs().max()))
    torch.testing.assert_close(logits, want_logits, rtol=1e-4, atol=1e-4 * float(want_logits.abs().max()))


def test_grey_images_are_scored_as_three_equal_channels(random_inception):
    scorer = load_scorer("inception-v3", weights_path=random_inception / "weights.safetensors")
    grey = varied_images(3)[:, :1]
    torch.testing.assert_close(scorer.logits(grey), scorer.logits(grey.repeat(1, 3, 1, 1)), rtol=0, atol=0)


def test_missing_inception_weights_say_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.delenv(iv3.ENV_VAR, raising=False)
    with pytest.raises(FileNotFoundError, match="weights-inception-2015-12-05-6726825d.pth.*GAN_HUB_INCEPTION_WEIGHTS"):
        iv3.find_weights(download=False)
    monkeypatch.setenv(iv3.ENV_VAR, str(tmp_path / "nowhere.safetensors"))
    with pytest.raises(FileNotFoundError, match="from GAN_HUB_INCEPTION_WEIGHTS"):
        load_scorer("inception-v3")


def test_environment_variable_and_hub_cache_are_used(tmp_path, monkeypatch, random_inception):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.setenv(iv3.ENV_VAR, str(random_inception / "weights.safetensors"))
    assert iv3.find_weights(download=False) == random_inception / "weights.safetensors"
    monkeypatch.delenv(iv3.ENV_VAR)
    cached = iv3.cached_reference_path()
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"x")
    assert iv3.find_weights(download=False) == cached


def test_only_the_reference_pickle_is_unpickled(random_inception, monkeypatch):
    with pytest.raises(CheckpointError, match="not the reference weights file.*safetensors"):
        load_scorer("inception-v3", weights_path=random_inception / "weights.pth")
    # The same file, were it the reference one (by its hash), is read with torch.load(weights_only=True).
    sha = iv3.sha256_of(random_inception / "weights.pth")
    monkeypatch.setattr(iv3, "REFERENCE_SHA256_PREFIX", sha[:8])
    scorer = load_scorer("inception-v3", weights_path=random_inception / "weights.pth")
    assert scorer.info["reference_weights"] is True


def test_mismatched_inception_weights_name_the_tensor(tmp_path, random_inception):
    state = load_file(str(random_inception / "weights.safetensors"))
    state["fc.weight"] = state["fc.weight"][:10]
    save_file(state, str(tmp_path / "bad.safetensors"))
    with pytest.raises(CheckpointError, match="fc.weight"):
        load_scorer("inception-v3", weights_path=tmp_path / "bad.safetensors")


# --- reference statistics and the one scoring path ---------------------------------------------


def test_shipped_reference_statistics_belong_to_the_shipped_classifier():
    scorer = load_scorer("mnist-classifier")
    for split, n in (("train", 60000), ("test", 10000)):
        stats = refs.load_statistics(scorer, "mnist", split, compute=False)
        assert stats.n == n and stats.mean.shape == (128,) and stats.covariance.shape == (128, 128)
        assert stats.metadata["weights_sha256"] == scorer.info["weights_sha256"]
        assert torch.allclose(stats.covariance, stats.covariance.T)


def test_real_digits_are_close_to_the_test_statistics():
    scorer = load_scorer("mnist-classifier")
    sample = load_file(str(FIXTURE))
    features = scorer.features(sample["images"])
    real = FeatureStatistics().update(features)
    test = refs.load_statistics(scorer, "mnist", "test", compute=False)
    noise = FeatureStatistics().update(scorer.features(torch.randint(0, 256, (100, 1, 28, 28), dtype=torch.uint8)))
    assert real.frechet_distance(test) < noise.frechet_distance(test) / 5


def test_statistics_made_with_other_weights_are_refused(tmp_path, monkeypatch):
    scorer = load_scorer("mnist-classifier")
    monkeypatch.setenv("GAN_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(refs, "ASSETS", tmp_path / "no-shipped")
    folder = refs.candidate_paths(scorer, "mnist", "test")[1].parent
    FeatureStatistics().update(torch.randn(10, 128)).save(
        folder / "mnist-test.safetensors", {"weights_sha256": "0" * 64}
    )
    with pytest.raises(CheckpointError, match="other mnist-classifier weights"):
        refs.load_statistics(scorer, "mnist", "test")


def write_idx_folder(folder: Path) -> Path:
    """The 100 fixture digits as MNIST IDX files (both splits), so KID has real images offline."""
    sample = load_file(str(FIXTURE))
    images, labels = sample["images"][:, 0].numpy(), sample["labels"].numpy().astype(np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix in ("train", "t10k"):
        (folder / f"{prefix}-images-idx3-ubyte").write_bytes(
            b"\x00\x00\x08\x03" + np.array(images.shape, dtype=">u4").tobytes() + images.tobytes()
        )
        (folder / f"{prefix}-labels-idx1-ubyte").write_bytes(
            b"\x00\x00\x08\x01" + np.array(labels.shape, dtype=">u4").tobytes() + labels.tobytes()
        )
    return folder


def test_cli_prints_every_metric_with_its_protocol(tmp_path, capsys):
    from gan_hub.config import GeneratorConfig
    from gan_hub.hub import Generator
    from gan_hub.metrics.__main__ import main
    from gan_hub.metrics.modes import categorical_coverage

    config = GeneratorConfig(variant="gan", arch="mlp", latent_dim=8, dataset="mnist")
    Generator(config).save_pretrained(tmp_path / "model")
    data = write_idx_folder(tmp_path / "mnist")
    out = tmp_path / "scores.json"
    result = main(
        [
            str(tmp_path / "model"),
            "--metrics",
            "is,fid,kid,modes",
            "--num-samples",
            "60",
            "--batch-size",
            "25",
            "--data-dir",
            str(data),
            "--kid-subsets",
            "5",
            "--kid-subset-size",
            "40",
            "--output",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    names = [e["name"] for e in result["scores"]]
    assert names == [
        "classifier IS@60",
        "classifier FID@60",
        "classifier KID@60",
        "classes covered@60",
        "KL(classes || uniform)@60",
    ]
    for name in names:
        assert name in printed
    scores = {e["metric"]: e for e in json.loads(out.read_text())["scores"]}
    assert scores["fid"]["reference"] == "mnist test set (10,000 images)"  # the shipped statistics
    assert scores["kid"]["reference"] == "mnist test set (100 images)" and scores["kid"]["subset_size"] == 40

    # the same numbers from the pieces, on exactly the generated images
    scorer = load_scorer("mnist-classifier")
    images = Generator.from_pretrained(tmp_path / "model").generate(60, seed=0)
    logits, features = scorer.logits_and_features(images)
    test_stats = refs.load_statistics(scorer, "mnist", "test", compute=False)
    assert scores["fid"]["value"] == pytest.approx(
        FeatureStatistics().update(features).frechet_distance(test_stats), rel=1e-9
    )
    real = scorer.features(load_file(str(FIXTURE))["images"])
    assert scores["kid"]["mean"] == pytest.approx(kernel_inception_distance(real, features, 5, 40)[0], rel=1e-9)
    coverage = categorical_coverage(logits.argmax(1), 10)
    assert scores["modes_covered"]["value"] == coverage["modes_covered"]
    assert scores["kl_to_uniform"]["value"] == pytest.approx(coverage["kl_to_uniform"], rel=1e-12)


def test_cli_rejects_unknown_metric_and_missing_real_data(tmp_path, capsys):
    from gan_hub.config import GeneratorConfig
    from gan_hub.hub import Generator
    from gan_hub.metrics.__main__ import main

    def error_of(argv) -> tuple[int, str]:
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        return exit_info.value.code, capsys.readouterr().err

    Generator(GeneratorConfig(variant="gan", arch="mlp", latent_dim=8, dataset="mnist")).save_pretrained(tmp_path / "m")
    code, err = error_of([str(tmp_path / "m"), "--metrics", "is,precision"])
    assert code == 2 and re.fullmatch(
        r"python -m gan_hub.metrics: error: --metrics: unknown metric.*precision.*"
        r"choose from is, fid, kid, modes\n",
        err,
    )
    Generator(GeneratorConfig(variant="gan", arch="mlp", latent_dim=8, dataset="synthetic")).save_pretrained(
        tmp_path / "s"
    )
    code, err = error_of([str(tmp_path / "s"), "--metrics", "fid"])
    assert code == 1 and re.fullmatch(r"python -m gan_hub.metrics: error: FID needs real images.*'synthetic'.*\n", err)
    code, err = error_of([str(tmp_path / "s"), "--metrics", "modes"])
    assert code == 1 and "no mode count is defined for 'synthetic'" in err and err.count("\n") == 1


def test_stacked_mnist_samples_are_counted_over_1000_digit_triples(tmp_path):
    from gan_hub.config import GeneratorConfig
    from gan_hub.hub import Generator
    from gan_hub.metrics.evaluate import evaluate_generator
    from gan_hub.metrics.modes import stacked_mnist_modes

    config = GeneratorConfig(
        variant="dcgan",
        arch="dcgan",
        latent_dim=8,
        dataset="stacked-mnist",
        channels=3,
        image_size=28,
        arch_kwargs={"base_channels": 8},
    )
    g = Generator(config)
    entries = {e["metric"]: e for e in evaluate_generator(g, num_samples=50, metrics=("modes",))["scores"]}
    assert (
        entries["modes_covered"]["name"] == "digit triples covered@50" and entries["modes_covered"]["num_modes"] == 1000
    )
    modes = stacked_mnist_modes(g.generate(50, seed=0), load_scorer("mnist-classifier"))
    assert entries["modes_covered"]["value"] == len(set(modes.tolist()))
