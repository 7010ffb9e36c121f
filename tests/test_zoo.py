"""The bundled models: they load, their cards and metrics follow the contract, and their scores reproduce."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gan_hub import Generator
from gan_hub.metrics.evaluate import evaluate_generator
from gan_hub.quality_bar import check

ROOT = Path(__file__).resolve().parents[1]
ZOO = ROOT / "model_zoo"
MODELS = sorted(p.name for p in ZOO.iterdir() if (p / "config.json").is_file())
# the MNIST models (classifier scores, the quality bar); the others are 2-D models (tests/test_zoo_points.py)
MNIST_MODELS = [n for n in MODELS if n.endswith("-mnist")]
# The scores of these are re-measured in full here (the others' by the zoo's own export): two that meet their
# bar and two that do not, conditional and unconditional.
REMEASURED = ["dcgan-mnist", "cgan-mnist", "stacked-gan-mnist", "gan-mnist"]


@pytest.mark.parametrize("name", MODELS)
def test_zoo_model_is_a_complete_hub_repo(name):
    folder = ZOO / name
    assert {"config.json", "model.safetensors", "README.md", "samples.png", "metrics.json"} <= {
        p.name for p in folder.iterdir()
    }
    card = (folder / "README.md").read_text()
    assert card.startswith("---\n") and "library_name: gan-hub" in card and "model-index" in card
    if name in MNIST_MODELS:
        for name_in_card in ("classifier IS@10k", "classifier FID@10k", "classifier KID@10k", "classes covered@10k"):
            assert name_in_card in card
        assert "never with published Inception Scores or FIDs" in card
    else:
        for name_in_card in ("modes captured@2,500", "high-quality share@2,500", "modes covered (strict)@2,500"):
            assert name_in_card in card
        assert "The published 2-D protocol" in card and "uint8" not in card
    provenance = json.loads((folder / "config.json").read_text())["provenance"]
    assert {"training_config", "seed", "steps", "git_commit", "versions"} <= set(provenance)


@pytest.mark.parametrize("name", REMEASURED)
def test_reported_scores_and_their_quality_bar_verdict_reproduce(name):
    g = Generator.from_pretrained(ZOO / name)
    reported = {s["name"]: s for s in g.metrics["scores"]}
    # KID needs the real test images, which CI does not have; the shipped statistics give FID.
    measured = {
        s["name"]: s for s in evaluate_generator(g, num_samples=10000, seed=0, metrics=("is", "fid", "modes"))["scores"]
    }
    score = reported["classifier IS@10k"]
    assert score["scorer"] == "mnist-classifier" and score["splits"] == 10 and score["num_samples"] == 10000
    assert measured["classifier IS@10k"]["mean"] == pytest.approx(score["mean"], rel=1e-3)
    assert measured["classifier FID@10k"]["value"] == pytest.approx(reported["classifier FID@10k"]["value"], rel=1e-3)
    assert measured["classes covered@10k"]["value"] == reported["classes covered@10k"]["value"] == 10
    if g.config.conditional:
        agreement = reported["classifier label agreement@10k"]["value"]
        assert measured["classifier label agreement@10k"]["value"] == pytest.approx(agreement, abs=2e-3)
    # the bar gives the same verdict on the re-measured scores
    verdict = check(list(measured.values()), g.config.conditional)
    assert verdict.summary() == check(g.metrics["scores"], g.config.conditional).summary()
    assert verdict.met == (name in ("dcgan-mnist", "cgan-mnist"))


README = (ROOT / "README.md").read_text()


def test_the_readme_leaderboard_is_current_and_lists_every_zoo_model():
    from gan_hub.app.leaderboard import markdown_leaderboard

    readme = README
    table = readme.split("<!-- leaderboard:start -->\n", 1)[1].split("\n<!-- leaderboard:end -->", 1)[0]
    assert table == markdown_leaderboard(ZOO), "regenerate it: python -m gan_hub.app.leaderboard model_zoo --write"
    assert all(f"[{name}](model_zoo/{name})" in table for name in MODELS)


def test_the_space_lists_every_zoo_model():
    from gan_hub.app.leaderboard import update_readme

    front_matter = README.split("---", 2)[1]
    assert all(f"  - gan-hub/{name}\n" in front_matter for name in MODELS)
    assert update_readme(README, ZOO) == README, "regenerate it: python -m gan_hub.app.leaderboard model_zoo --write"


@pytest.mark.parametrize("name", MODELS)
def test_every_leaderboard_row_cites_its_paper(name):
    row = next(line for line in README.splitlines() if f"[{name}](model_zoo/{name})" in line)
    paper = row.split(" | ")[3]  # thumbnail | model | variant | paper
    assert re.search(r"\w+ (et al\.|& \w+), \d{4}|\w+, \d{4}", paper), row


@pytest.mark.parametrize("name", MODELS)
def test_card_metrics_and_config_agree(name):
    folder = ZOO / name
    metrics = json.loads((folder / "metrics.json").read_text())
    card = (folder / "README.md").read_text()
    for score in metrics["scores"]:
        value = score.get("mean", score.get("value"))
        shown = "n/a" if value is None else f"{value:.4g}"[:4]  # a KL over no high-quality samples is undefined
        assert score["name"] in card and shown in card, (name, score["name"])
    assert json.loads((folder / "config.json").read_text())["variant"] in card


@pytest.mark.parametrize("name", MODELS)
def test_samples_png_is_what_the_shipped_weights_draw(name):
    g = Generator.from_pretrained(ZOO / name)
    drawn = np.asarray(g.sample_grid(), dtype=np.int16)
    shipped = np.asarray(Image.open(ZOO / name / "samples.png"), dtype=np.int16)
    assert drawn.shape == shipped.shape
    if g.config.is_vector:  # a scatter plot: float rounding across CPUs may move a dot by a pixel, no more
        assert (drawn != shipped).any(axis=-1).mean() < 0.005
        return
    # float rounding may differ across CPUs by one grey level in a few pixels, never more
    assert np.abs(drawn - shipped).max() <= 1 and (drawn != shipped).mean() < 0.01


@pytest.mark.parametrize("name", MNIST_MODELS)
def test_every_model_meets_the_quality_bar_or_says_where_it_falls_short(name):
    config = json.loads((ZOO / name / "config.json").read_text())
    scores = json.loads((ZOO / name / "metrics.json").read_text())["scores"]
    verdict = check(scores, bool(config.get("num_classes")))
    assert verdict.applies, "every zoo model is scored with the bar's protocol"
    assert f"**{verdict.summary()}**" in (ZOO / name / "README.md").read_text()
    row = next(line for line in README.splitlines() if f"[{name}](model_zoo/{name})" in line)
    assert f"| {verdict.summary(short=True)} |" in row


@pytest.mark.parametrize("name", MNIST_MODELS)
def test_a_model_under_its_bar_quotes_what_its_preset_says_was_tried(name):
    from train.zoo import preset_notes

    notes = preset_notes(ROOT / "train" / "presets" / f"{name}.yaml")
    metrics = json.loads((ZOO / name / "metrics.json").read_text())
    assert metrics["training"]["recipe"] == notes, "export the model again (python -m train.zoo) to record its preset"
    conditional = bool(json.loads((ZOO / name / "config.json").read_text()).get("num_classes"))
    if not check(metrics["scores"], conditional).met:
        assert (
            f"What was tried, from its preset (`train/presets/{name}.yaml`): {notes}"
            in (ZOO / name / "README.md").read_text()
        )


def test_the_zoo_fits_its_size_budget():
    everything = sum(p.stat().st_size for p in ZOO.rglob("*") if p.is_file())  # weights, cards, pictures
    assert everything <= 64 * 2**20, f"model_zoo/ holds {everything / 2**20:.1f} MiB (budget 64)"
    for name in MODELS:
        if (ZOO / name / "model.safetensors").stat().st_size > 4 * 2**20:
            assert "over the zoo's 4 MB guideline because" in (ZOO / name / "README.md").read_text(), name


@pytest.mark.parametrize("name", [n for n in MODELS if n.startswith("infogan-")])
def test_infogan_code_agreement_reproduces(name):
    from gan_hub.metrics import load_scorer
    from gan_hub.metrics.variant_scores import infogan_code_agreement

    g = Generator.from_pretrained(ZOO / name)
    reported = next(s for s in g.metrics["scores"] if s["metric"] == "code_agreement")
    measured = infogan_code_agreement(g, load_scorer("mnist-classifier"))
    assert measured["value"] == pytest.approx(reported["value"], abs=2e-3)
    assert sorted(measured["code_to_class"]) == sorted(set(measured["code_to_class"]))  # one-to-one


def test_the_app_serves_every_zoo_model_over_http():
    import io

    import httpx

    from gan_hub.app import build_demo, launch
    from gan_hub.app.ui import close
    from tests.test_app import free_port

    demo = build_demo([], zoo_dir=ZOO)
    port = free_port()
    launch(demo, host="127.0.0.1", port=port, prevent_thread_lock=True, quiet=True)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            listed = {m["name"]: m for m in http.get("/v1/models").json()["models"]}
            assert sorted(listed) == MODELS
            for name in MODELS:
                assert listed[name]["scores"], name
                reply = http.get(f"/v1/models/{name}/samples.png", params={"n": 4, "seed": 0})
                assert reply.status_code == 200 and reply.headers["content-type"] == "image/png", name
                assert Image.open(io.BytesIO(reply.content)).size[0] > 0
    finally:
        close(demo)
