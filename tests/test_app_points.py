"""The app's view of 2-D models: the Sample tab (and Compare, and the HTTP samples route) draws the points over
the modes of the data as a scatter plot; the Score tab streams the published 2-D protocol's scores; the tabs
that need images say why they do not apply."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_hub import Generator, GeneratorConfig
from gan_hub.app import actions as act
from gan_hub.networks import NetworkConfig
from tests.test_app import make_test_models, noisy_generator, running_app

POINTS = "gan-points"


def make_points_model(folder: Path) -> Path:
    """A small random 2-D generator on PacGAN's ring (its outputs spread over a few units)."""
    config = GeneratorConfig(
        variant="gan",
        latent_dim=2,
        channels=2,
        image_size=0,
        dataset="ring8-unit",
        generator=NetworkConfig("pacgan-mlp", {"hidden_dim": 32}),
        discriminator=NetworkConfig("pacgan-mlp", {"hidden_dim": 8}),
    )
    noisy_generator(config, seed=5).save_pretrained(folder / POINTS)
    return folder / POINTS


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("point-app-models")
    return {**make_test_models(folder), "points": make_points_model(folder)}


@pytest.fixture(scope="module")
def served(models):
    from gradio_client import Client

    with running_app(models, extra=(models["points"],)) as url:
        yield url, Client(url, verbose=False)


@pytest.fixture(scope="module")
def client(served):
    return served[1]


@pytest.fixture(scope="module")
def points_model(models):
    return Generator.from_pretrained(models["points"])


def pixels(path_or_image) -> np.ndarray:
    image = path_or_image if isinstance(path_or_image, Image.Image) else Image.open(path_or_image)
    return np.asarray(image.convert("RGB"))


def test_sample_tab_draws_count_x_100_points_over_the_modes(client, points_model):
    path = client.predict(POINTS, 7, 12, act.CYCLE, api_name="/generate")
    n = 12 * act.POINTS_PER_COUNT
    expected = points_model.scatter(points_model.generate(n, seed=7), f"{n:,} samples, seed 7")
    assert np.array_equal(pixels(path), pixels(expected))
    assert not np.array_equal(pixels(path), pixels(client.predict(POINTS, 8, 12, act.CYCLE, api_name="/generate")))
    truncated = client.predict(POINTS, 7, 12, act.CYCLE, 0.5, api_name="/generate")
    z = act.sample_inputs(points_model, 7, n, truncation=0.5)[0]
    expected = points_model.scatter(points_model.generate_from_latents(z), f"{n:,} samples, seed 7")
    assert np.array_equal(pixels(truncated), pixels(expected))


def test_model_info_describes_points_and_shows_the_scatter(client, points_model):
    summary, card, samples, sample_class, *_ = client.predict(POINTS, api_name="/model_info")
    assert "2-D points" in summary and f"count × {act.POINTS_PER_COUNT}" in summary
    assert "float32 points [16, 2]" in card and "uint8" not in card
    assert np.array_equal(pixels(samples), pixels(points_model.sample_grid()))  # samples.png: the scatter
    assert sample_class["value"] == act.NO_CLASS and sample_class["interactive"] is False


@pytest.mark.parametrize(
    "api_name, args, message",
    [
        ("/class_grid", (POINTS, 4, 0), "makes 2-D points, not images, so it has no class grid"),
        (
            "/interpolate",
            (POINTS, 0, 1, 8, "slerp", act.NO_CLASS, act.NO_CLASS),
            "an interpolation has no frames to show",
        ),
    ],
)
def test_tabs_that_need_images_say_why(client, api_name, args, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as info:
        client.predict(*args, api_name=api_name)
    assert message in str(info.value) and "Sample tab" in str(info.value)


def test_compare_puts_a_scatter_beside_an_image_grid(client, models, points_model):
    items = client.predict([POINTS, "dcgan-tiny"], 3, 4, api_name="/compare")
    assert [item["caption"].split(" ")[0] for item in items] == [POINTS, "dcgan-tiny"]
    n = 4 * act.POINTS_PER_COUNT
    expected = points_model.scatter(points_model.generate(n, seed=3), f"{n:,} samples, seed 3")
    assert np.array_equal(pixels(items[0]["image"]), pixels(expected))
    assert Image.open(items[1]["image"]).mode == "L"  # the MNIST model's grid


def test_http_samples_route_draws_the_scatter(served, points_model):
    import io
    import urllib.request

    url = f"{served[0]}v1/models/{POINTS}/samples.png?n=2&seed=9"
    with urllib.request.urlopen(url, timeout=60) as response:
        image = Image.open(io.BytesIO(response.read()))
    n = 2 * act.POINTS_PER_COUNT
    expected = points_model.scatter(points_model.generate(n, seed=9), f"{n:,} samples, seed 9")
    assert np.array_equal(pixels(image), pixels(expected))


def test_score_streams_the_2d_protocol_and_ends_with_the_librarys_numbers(client, points_model):
    from gan_hub.metrics.modes import mixture_coverage, protocol_coverage
    from tests.test_app import decode_plot

    n, batch, seed = 650, 200, 3  # the last batch is a part one
    job = client.submit(POINTS, "mnist-classifier", n, batch, seed, api_name="/score")  # the scorer does not apply
    job.result(timeout=120)
    outputs = job.outputs()
    payloads = [out[3] for out in outputs]
    assert payloads[0]["n"] == 200 and payloads[-1]["n"] == 650 and payloads[-1]["final"]
    text, curve, histogram, final, status = outputs[-1]
    points = points_model.generate(n, seed=seed)
    expected = protocol_coverage(points, "ring8-unit")
    for key in ("modes_captured", "modes_covered", "num_modes", "high_quality_share", "min_count"):
        assert final[key] == expected[key], key
    assert final["kl_to_uniform"] == pytest.approx(expected["kl_to_uniform"], abs=1e-12)
    assert final["high_quality_per_mode"] == mixture_coverage(points, "ring8-unit", min_count=1)["counts"]
    assert status == "**Done.**" and f"modes captured@650 = {expected['modes_captured']} of 8 (ring8-unit)" in text
    assert "Real data (the mixture, the same N):** modes captured 8 of 8" in text
    assert decode_plot(curve).size[0] > 300 and decode_plot(histogram).size[0] > 300


def test_the_2d_score_at_the_cards_protocol_gives_the_cards_numbers():
    """On a zoo model, N = 2,500 and seed 12345 (the card's protocol) give exactly its metrics.json."""
    from gan_hub.app.point_scores import card_scores, points_stream

    g = Generator.from_pretrained(Path(__file__).resolve().parents[1] / "model_zoo" / "pacgan-ring8")
    card = card_scores(g.metrics)
    (*_, last) = points_stream(g, 2500, 500, 12345)
    assert last.final and last.scores["modes_captured"] == card["modes_captured"]["value"]
    assert last.scores["high_quality_share"] == pytest.approx(card["high_quality_share"]["value"], abs=1e-12)
    assert last.scores["modes_covered"] == card["modes_covered_strict"]["value"]
    assert last.scores["kl_to_uniform"] == pytest.approx(card["reverse_kl"]["value"], abs=1e-12)
