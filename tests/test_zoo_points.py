"""The zoo's 2-D generators (``bench/toy_zoo.py``): they return float32 points, the same for the same seed,
their mode-coverage scores re-measure exactly from the shipped weights, and ``gan-hub sample`` draws them."""

import json
from pathlib import Path

import pytest
import torch
from PIL import Image

from gan_hub import Generator
from gan_hub.cli import main as gan_hub
from gan_hub.metrics.modes import PROTOCOL_SAMPLES, PROTOCOL_SEED, mixture_scores

ZOO = Path(__file__).resolve().parents[1] / "model_zoo"


def is_points_model(folder: Path) -> bool:
    return (folder / "config.json").is_file() and json.loads((folder / "config.json").read_text())["image_size"] == 0


POINT_MODELS = sorted(p.name for p in ZOO.iterdir() if is_points_model(p))
EXPECTED = {f"{variant}-{data}" for variant in ("gan", "unrolled", "pacgan") for data in ("ring8", "grid25")}


def test_the_zoo_has_the_2d_models_and_they_are_small():
    assert EXPECTED <= set(POINT_MODELS)
    weights = sum((ZOO / name / "model.safetensors").stat().st_size for name in POINT_MODELS)
    assert weights <= 2 * 2**20, f"the 2-D models hold {weights / 2**20:.2f} MiB of weights (budget 2)"


@pytest.mark.parametrize("name", POINT_MODELS)
def test_generate_returns_float32_points_the_same_for_the_same_seed(name):
    g = Generator.from_pretrained(ZOO / name)
    points = g.generate(300, seed=3)
    assert points.dtype == torch.float32 and tuple(points.shape) == (300, 2) and torch.isfinite(points).all()
    assert torch.equal(points, g.generate(300, seed=3))
    assert torch.allclose(points, g.generate(300, seed=3, batch_size=7), atol=1e-5)  # batching: float rounding only
    assert not torch.equal(points, g.generate(300, seed=4))
    assert tuple(g.generate(0).shape) == (0, 2)


@pytest.mark.parametrize("name", POINT_MODELS)
def test_reported_mode_scores_reproduce_from_the_shipped_weights(name):
    g = Generator.from_pretrained(ZOO / name)
    reported, measured = g.metrics["scores"], mixture_scores(g)
    assert [s["metric"] for s in reported] == [
        "modes_captured",
        "high_quality_share",
        "reverse_kl",
        "modes_covered_strict",
    ]
    for score in reported:
        assert score["num_samples"] == PROTOCOL_SAMPLES and score["seed"] == PROTOCOL_SEED
        assert score["mixture"] == g.config.dataset and score["quality_stds"] == 3.0
    assert measured == reported  # exactly: the counts, and the shares and KL to the last digit


@pytest.mark.parametrize("name", POINT_MODELS)
def test_gan_hub_sample_draws_the_points_over_the_modes(name, tmp_path, capsys):
    out = tmp_path / "scatter.png"
    assert gan_hub(["sample", str(ZOO / name), "-n", "500", "--seed", "1", "-o", str(out)]) == 0
    assert "500 points over the modes" in capsys.readouterr().out
    g = Generator.from_pretrained(ZOO / name)
    expected = g.scatter(g.generate(500, seed=1), "500 samples, seed 1")
    assert list(Image.open(out).getdata()) == list(expected.getdata())
    with pytest.raises(SystemExit) as exit_:
        gan_hub(["sample", str(ZOO / name), "--interpolate", "1", "-o", str(tmp_path / "walk.gif")])
    assert exit_.value.code == 2 and "2-D points, not images" in capsys.readouterr().err


def test_a_2d_model_refuses_what_needs_images(capsys):
    try:
        code = gan_hub(["score", str(ZOO / POINT_MODELS[0]), "--num-samples", "100"])
    except SystemExit as exit_:
        code = exit_.code
    assert code != 0 and "makes 2-D points: image scorers do not apply" in capsys.readouterr().err
    g = Generator.from_pretrained(ZOO / POINT_MODELS[0])
    with pytest.raises(ValueError, match="not class-conditional"):
        g.class_grid([0, 1])
    with pytest.raises(ValueError, match="not class-conditional"):
        g.generate(4, labels=[0] * 4)
    assert tuple(g.interpolate(0, 1, steps=5).shape) == (5, 2)
