"""The Gradio app end to end: a module fixture serves it in-process on a free port and
gradio_client calls every endpoint. Models and the scorer are small random-weight ones made
here, so the tests need neither model_zoo/ nor the shipped classifier weights.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from gan_hub import Generator, GeneratorConfig  # noqa: E402
from gan_hub.app import DEFAULT_ZOO, Catalog, CatalogError  # noqa: E402
from gan_hub.app import actions as act  # noqa: E402
from gan_hub.app.catalog import card_body, discover_models, parse_sources  # noqa: E402
from gan_hub.app.media import labelled_grid  # noqa: E402
from gan_hub.config import CONFIG_NAME  # noqa: E402
from gan_hub.metrics import InceptionScore, load_scorer  # noqa: E402
from gan_hub.metrics.mnist_classifier import build_mnist_classifier  # noqa: E402
from gan_hub.sampling import grid_columns, image_grid  # noqa: E402

PAD = 2  # image_grid's padding
CARD_SCORE = {
    "metric": "inception_score",
    "name": "classifier IS@10k",
    "mean": 2.5,
    "std": 0.1,
    "scorer": "mnist-classifier",
    "num_samples": 10000,
    "splits": 10,
    "seed": 0,
}


# ---- helpers shared with test_app_browser.py ------------------------------------------------------
def noisy_generator(config: GeneratorConfig, seed: int, metrics=None) -> Generator:
    """Random weights large enough that different latents give visibly different images."""
    g = Generator(config, metrics=metrics)
    rng = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in g.net.parameters():
            if p.ndim > 1:
                p.normal_(0.0, 0.3, generator=rng)
    return g


def make_test_models(folder: Path) -> dict[str, Path]:
    """An unconditional and a conditional tiny model, and classifier weights fitted to give IS well above 1."""
    folder.mkdir(parents=True, exist_ok=True)
    dcgan = noisy_generator(GeneratorConfig(variant="dcgan", arch="dcgan", dataset="mnist"), seed=1)
    cgan = noisy_generator(
        GeneratorConfig(variant="cgan", arch="dcgan", num_classes=10, dataset="mnist"),
        seed=2,
        metrics={"scores": [CARD_SCORE], "reference": []},
    )
    dcgan.save_pretrained(folder / "dcgan-tiny")
    cgan.save_pretrained(folder / "cgan-tiny")
    # A random classifier predicts one class for everything; centre and scale its head on real outputs.
    from safetensors.torch import save_file

    rng = torch.Generator().manual_seed(3)
    clf = build_mnist_classifier().eval()
    with torch.no_grad():
        for p in clf.parameters():
            if p.ndim > 1:
                p.copy_(torch.randn(p.shape, generator=rng) * p.std().clamp_min(1e-3))
        feats = clf.features(cgan.generate(200, seed=123))
        mu, sd = feats.mean(0), feats.std(0).clamp_min(1e-6)
        head = torch.randn(clf.head.weight.shape, generator=rng) * 3 / (sd * feats.shape[1] ** 0.5)
        clf.head.weight.copy_(head)
        clf.head.bias.copy_(-(head @ mu))
    save_file({k: v.contiguous() for k, v in clf.state_dict().items()}, str(folder / "scorer.safetensors"))
    return {"dcgan": folder / "dcgan-tiny", "cgan": folder / "cgan-tiny", "scorer": folder / "scorer.safetensors"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(models: dict[str, Path], allowed_roots=(), with_demo: bool = False, extra: tuple[Path, ...] = ()):
    """Serve the app on a free loopback port for the duration of the block; yields its URL (and the demo).
    ``extra``: more model folders to serve after the two test models."""
    from gan_hub.app import build_demo, launch
    from gan_hub.app.ui import close

    demo = build_demo(
        [str(models["dcgan"]), str(models["cgan"]), *map(str, extra)],
        zoo_dir=None,
        scorer_weights={"mnist-classifier": models["scorer"]},
        allowed_roots=allowed_roots,
    )
    port = free_port()
    launch(demo, host="127.0.0.1", port=port, prevent_thread_lock=True, quiet=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        yield (url, demo) if with_demo else url
    finally:
        close(demo)


def grid_size(n: int, cols: int, size: int = 28) -> tuple[int, int]:
    rows = -(-n // cols)
    return cols * (size + PAD) + PAD, rows * (size + PAD) + PAD


def pixels(path) -> torch.Tensor:
    return torch.from_numpy(np.array(Image.open(path)).copy())


# ---- fixtures -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return make_test_models(tmp_path_factory.mktemp("app-models"))


@pytest.fixture(scope="module")
def client(models, tmp_path_factory):
    from gradio_client import Client

    # visitors may add folders from pytest's temporary folders only
    with running_app(models, allowed_roots=[tmp_path_factory.getbasetemp()]) as url:
        yield Client(url, verbose=False)


@pytest.fixture(scope="module")
def gens(models):
    return {k: Generator.from_pretrained(models[k]) for k in ("dcgan", "cgan")}


# ---- endpoints ------------------------------------------------------------------------------------
def test_generate_returns_grid_of_the_generators_images(client, gens):
    path = client.predict("dcgan-tiny", 7, 10, act.CYCLE, api_name="/generate")
    image = Image.open(path)
    assert image.format == "PNG" and image.mode == "L"
    assert image.size == grid_size(10, grid_columns(10))  # 4 columns, 3 rows
    expected = image_grid(gens["dcgan"].generate(10, seed=7), nrow=grid_columns(10))
    assert torch.equal(pixels(path), torch.from_numpy(np.array(expected)))


def test_generate_same_seed_same_pixels(client):
    a = client.predict("cgan-tiny", 5, 16, act.CYCLE, api_name="/generate")
    b = client.predict("cgan-tiny", 5, 16, act.CYCLE, api_name="/generate")
    c = client.predict("cgan-tiny", 6, 16, act.CYCLE, api_name="/generate")
    assert Image.open(a).size == grid_size(16, 4)
    assert Path(a).read_bytes() == Path(b).read_bytes()
    assert not torch.equal(pixels(a), pixels(c))


def test_generate_one_class(client, gens):
    path = client.predict("cgan-tiny", 0, 9, "3", api_name="/generate")
    expected = image_grid(gens["cgan"].generate(9, seed=0, labels=[3] * 9), nrow=3)
    assert torch.equal(pixels(path), torch.from_numpy(np.array(expected)))


def test_interpolate_streams_frames_then_exports_gif_and_mp4(client, gens):
    job = client.submit("cgan-tiny", 0, 1, 16, "lerp", "2", "7", api_name="/interpolate")
    path, gif, files = job.result(timeout=120)
    updates = job.outputs()
    # 16 frames come in chunks of 2: the strip grows while the frames are made, then the exports arrive
    assert len(updates) == 8 and all(u[1] is None and u[2] is None for u in updates[:-1])
    frames = gens["cgan"].interpolate(seed_a=0, seed_b=1, steps=16, method="lerp", label_a=2, label_b=7)
    # the app generates the frames 2 at a time: exactly those, and within one grey level of one batch of 16
    # (convolutions may round differently at another batch size)
    g, (z, labels) = gens["cgan"], gens["cgan"].interpolation_inputs(0, 1, 16, "lerp", 2, 7)
    chunked = torch.cat([g.generate_from_latents(z[i : i + 2], labels[i : i + 2]) for i in range(0, 16, 2)])
    assert torch.equal(pixels(path), torch.from_numpy(np.array(image_grid(chunked, nrow=16))))
    assert (chunked.int() - frames.int()).abs().max() <= 1
    frames = chunked
    # full width from the first update, with only the first 2 frames drawn and the rest black
    first_two = torch.cat([frames[:2], torch.zeros_like(frames[2:])])
    assert torch.equal(pixels(updates[0][0]), torch.from_numpy(np.array(image_grid(first_two, nrow=16))))

    animation = Image.open(gif)
    assert animation.format == "GIF" and animation.n_frames == 2 * 16 - 2  # there and back
    animation.seek(0)
    first = np.array(animation.convert("L"))
    scale = first.shape[0] // 28
    assert np.array_equal(first[::scale, ::scale], frames[0, 0].numpy())  # nearest-neighbour upscale of frame 0
    assert sorted(Path(f).suffix for f in files) == [".gif", ".mp4"]
    import av

    mp4 = next(f for f in files if f.endswith(".mp4"))
    with av.open(mp4) as container:
        decoded = [f.to_ndarray(format="gray") for f in container.decode(video=0)]
    assert len(decoded) == 2 * 16 - 2 and decoded[0].shape == (28 * scale, 28 * scale)
    # lossy (and these test models draw noise, the hardest case for H.264), but clearly the same picture
    decoded_first = decoded[0][::scale, ::scale].astype(float).ravel()
    assert np.corrcoef(decoded_first, frames[0, 0].numpy().astype(float).ravel())[0, 1] > 0.95

    strip, _, _ = client.predict("dcgan-tiny", 3, 4, 5, "slerp", act.NO_CLASS, act.NO_CLASS, api_name="/interpolate")
    assert Image.open(strip).size == grid_size(5, 5)


def test_class_grid_rows_are_classes_with_their_names(client, gens):
    path, caption = client.predict("cgan-tiny", 3, 10, api_name="/class_grid")
    image = np.array(Image.open(path).convert("L"))
    # the grid is scaled up (nearest) so the class names beside the rows and the seeds above are legible
    expected = labelled_grid(
        gens["cgan"].class_grid(range(10, 13)),
        nrow=3,
        row_names=[str(k) for k in range(10)],
        column_names=["seed 10", "seed 11", "seed 12"],
    )
    assert np.array_equal(image, np.array(expected.convert("L")))
    grid = np.array(image_grid(gens["cgan"].class_grid(range(10, 13)), nrow=3))
    factor = 3  # 28 px cells -> at least 64 px
    height, width = grid.shape
    top, left = image.shape[0] - height * factor, image.shape[1] - width * factor
    assert top > 0 and left > 0  # room for the labels
    assert np.array_equal(image[top::factor, left::factor], grid)
    assert (image[top:, :left] < 128).any()  # the row names are drawn (dark text on white)
    assert "0, 1, 2, 3, 4, 5, 6, 7, 8, 9" in caption and "10..12" in caption


def test_class_grid_of_unconditional_model_is_a_clear_error(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="unconditional"):
        client.predict("dcgan-tiny", 4, 0, api_name="/class_grid")


@pytest.mark.parametrize(
    "api_name, args, limit",
    [
        ("/generate", ("dcgan-tiny", 0, 65, act.CYCLE), "64"),
        ("/generate", ("dcgan-tiny", 0, 0, act.CYCLE), "1 and 64"),
        ("/interpolate", ("dcgan-tiny", 0, 1, 33, "slerp", act.NO_CLASS, act.NO_CLASS), "32"),
        ("/class_grid", ("cgan-tiny", 17, 0), "16"),
        ("/generate", ("dcgan-tiny", -1, 4, act.CYCLE), "between 0 and"),
        ("/generate", ("dcgan-tiny", 0, 4, act.CYCLE, 3.5), "between 0 and 3"),
        ("/compare", (["dcgan-tiny", "cgan-tiny"], 0, 17), "1 and 16"),
    ],
)
def test_out_of_range_inputs_name_the_limit(client, api_name, args, limit):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as info:
        client.predict(*args, api_name=api_name)
    assert limit in str(info.value) and "must be between" in str(info.value)


def test_invalid_class_and_method(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="unknown class 'eleven'"):
        client.predict("cgan-tiny", 0, 4, "eleven", api_name="/generate")
    with pytest.raises(AppError, match="not class-conditional"):
        client.predict("dcgan-tiny", 0, 4, "3", api_name="/generate")
    with pytest.raises(AppError, match=r"not in the list of choices: \['lerp', 'slerp'\]"):
        client.predict("dcgan-tiny", 0, 1, 4, "cubic", act.NO_CLASS, act.NO_CLASS, api_name="/interpolate")


def decode_plot(plot: dict) -> Image.Image:
    import base64
    import io

    assert plot["type"] == "matplotlib"
    return Image.open(io.BytesIO(base64.b64decode(plot["plot"].split(",", 1)[1])))


def test_score_streams_and_ends_with_the_exact_score(client, models, gens):
    n, batch, seed = 300, 100, 4
    job = client.submit("cgan-tiny", "mnist-classifier", n, batch, seed, api_name="/score")
    job.result(timeout=120)
    outputs = job.outputs()
    payloads = [out[3] for out in outputs]
    counts = [p["n"] for p in payloads]
    # the first batch is always shown, later ones at most every 0.4 s, the last always
    assert counts[0] == 100 and counts[-1] == 300 and counts == sorted(set(counts)) and len(counts) >= 2
    assert not payloads[0]["final"] and payloads[-1]["final"]
    text, curve, histogram, final, status = outputs[-1]
    assert status == "**Done.**" and "Stop" in outputs[0][4]
    assert final["name"] == "classifier IS@300 (mnist-classifier, 10 splits shuffled)"
    assert "classifier IS@300 (mnist-classifier, 10 splits shuffled)" in text
    assert "classifier IS@100" in outputs[0][0] and "running, 100 of 300" in outputs[0][0]
    assert "Model card:** classifier IS@10k = 2.5" in text  # the card's own value is shown
    assert decode_plot(curve).size[0] > 300 and decode_plot(histogram).size[0] > 300
    assert sum(final["predicted_classes"]) == 300 and len(final["predicted_classes"]) == 10

    # The same images scored directly: same latents, same batches, the same shuffled splits.
    scorer = load_scorer("mnist-classifier", weights_path=models["scorer"])
    images = gens["cgan"].generate(n, seed=seed, batch_size=batch)
    metric = InceptionScore(scorer, splits=10, num_samples=n, assignment="shuffled")
    for start in range(0, n, batch):
        metric.update(images[start : start + batch])
    mean, std = metric.compute()
    assert mean > 1.5  # a non-trivial number, not the degenerate 1.0
    assert abs(final["mean"] - mean) < 1e-9 and abs(final["std"] - std) < 1e-9
    assert abs(final["standard_error"] - metric.standard_error) < 1e-9
    assert final["predicted_classes"] == metric.class_histogram().tolist()


def test_score_bounds(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="10000"):
        client.predict("dcgan-tiny", "mnist-classifier", 20000, 100, 0, api_name="/score")
    with pytest.raises(AppError, match="1000"):
        client.predict("dcgan-tiny", "mnist-classifier", 100, 5000, 0, api_name="/score")


def test_model_info_and_random_seed(client):
    summary, card, samples, sample_class, class_a, class_b, note, scorer, truncation = client.predict(
        "cgan-tiny", api_name="/model_info"
    )
    assert "**cgan**" in summary and "# cgan on MNIST" in card and truncation["interactive"] is True
    assert "library_name" not in card and "](samples.png)" not in card  # front matter and the duplicate image gone
    assert Image.open(samples).size == grid_size(100, 10)
    # Dropdown updates come back as update dicts (choices are [label, value] pairs).
    assert sample_class["value"] == act.CYCLE and sample_class["interactive"] is True
    assert [v for _, v in sample_class["choices"]] == [act.CYCLE] + [str(k) for k in range(10)]
    assert (class_a["value"], class_b["value"]) == ("0", "1")
    assert "0, 1, 2" in note
    assert scorer["value"] == "mnist-classifier"  # MNIST's scorer, which runs everywhere (its weights ship)
    summary, _, _, sample_class, *_ = client.predict("dcgan-tiny", api_name="/model_info")
    assert "unconditional" in summary
    assert sample_class["value"] == act.NO_CLASS and sample_class["interactive"] is False
    seed = client.predict(api_name="/random_seed")
    assert isinstance(seed, int) and 0 <= seed < 2**31


def test_every_event_has_an_api_name(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {
        "/generate",
        "/interpolate",
        "/class_grid",
        "/score",
        "/model_info",
        "/random_seed",
        "/compare",
        "/browse",
        "/add_model",
        "/search_hub",
        "/pick_from_gallery",
    } <= set(endpoints)
    assert not client.view_api(print_info=False, return_format="dict")["unnamed_endpoints"]


def test_browse_lists_every_model_with_scores_and_filters(client, models):
    gallery, table, variants, datasets = client.predict("(all)", "(all)", api_name="/browse")  # (State not sent)
    table = table.get("value", table)  # an update of the table (its columns follow the scores reported)
    assert [item["caption"] for item in gallery] == ["dcgan-tiny · dcgan · mnist", "cgan-tiny · cgan · mnist"]
    assert np.array_equal(
        np.array(Image.open(gallery[1]["image"])), np.array(Image.open(models["cgan"] / "samples.png"))
    )
    assert [row[1] for row in table["data"]] == ["cgan-tiny", "dcgan-tiny"]  # best classifier IS first
    assert table["headers"][:5] == ["thumbnail", "model", "variant", "paper", "dataset"]
    rows = {row[1]: dict(zip(table["headers"], row)) for row in table["data"]}
    # the leaderboard: each model with thumbnail, paper, and its score (sortable number) with the protocol
    assert rows["cgan-tiny"]["thumbnail"] == "![cgan-tiny](/v1/models/cgan-tiny/thumbnail.png)"
    assert (
        rows["cgan-tiny"]["paper"] == "Mirza & Osindero, 2014" and rows["dcgan-tiny"]["paper"] == "Radford et al., 2015"
    )
    assert rows["cgan-tiny"]["classifier IS"] == 2.5 and "IS" not in table["headers"]  # a classifier IS, never "IS"
    assert (
        "scorer=mnist-classifier, num_samples=10000, seed=0; classifier IS: splits=10" in rows["cgan-tiny"]["protocol"]
    )
    assert rows["dcgan-tiny"]["protocol"] == "no scores reported"
    assert [v for v, _ in variants["choices"]] == ["(all)", "cgan", "dcgan"]
    assert [v for v, _ in datasets["choices"]] == ["(all)", "mnist"]
    gallery, table, *_ = client.predict("cgan", "(all)", api_name="/browse")
    assert [item["caption"] for item in gallery] == ["cgan-tiny · cgan · mnist"]
    assert [row[1] for row in table["value"]["data"]] == ["cgan-tiny"]
    gallery, table, *_ = client.predict("dcgan", "mnist", api_name="/browse")
    assert [row[1] for row in table["value"]["data"]] == ["dcgan-tiny"] and len(gallery) == 1


def test_compare_runs_the_same_seed_through_each_model(client, gens):
    items = client.predict(["dcgan-tiny", "cgan-tiny"], 11, 9, api_name="/compare")
    assert [item["caption"].split(" ")[0] for item in items] == ["dcgan-tiny", "cgan-tiny"]
    assert all("seed 11" in item["caption"] for item in items)
    for item, key in zip(items, ("dcgan", "cgan")):
        expected = image_grid(gens[key].generate(9, seed=11), nrow=3)
        assert torch.equal(pixels(item["image"]), torch.from_numpy(np.array(expected)))  # PNG: lossless
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="pick 2 to 4 models"):
        client.predict(["dcgan-tiny"], 0, 4, api_name="/compare")


def test_truncation_in_the_sample_tab(client, gens):
    path = client.predict("dcgan-tiny", 7, 9, act.CYCLE, 0.5, api_name="/generate")
    expected = image_grid(gens["dcgan"].generate(9, seed=7, truncation=0.5), nrow=3)
    assert torch.equal(pixels(path), torch.from_numpy(np.array(expected)))
    untruncated = client.predict("dcgan-tiny", 7, 9, act.CYCLE, 0, api_name="/generate")
    assert not torch.equal(pixels(path), pixels(untruncated))


def test_add_model_by_folder_and_clear_errors(client, models, tmp_path):
    from gradio_client.exceptions import AppError

    extra = tmp_path / "extra-dcgan"
    noisy_generator(GeneratorConfig(variant="dcgan", arch="dcgan", dataset="mnist"), seed=9).save_pretrained(extra)
    model, compare_models, message = client.predict(str(extra), api_name="/add_model")
    assert model["value"] == "extra-dcgan" and "extra-dcgan" in [v for v, _ in model["choices"]]
    assert "Added **extra-dcgan**" in message
    assert client.predict(str(extra), api_name="/add_model")[0]["value"] == "extra-dcgan"  # once only
    assert Image.open(client.predict("extra-dcgan", 0, 4, act.CYCLE, api_name="/generate")).size == grid_size(4, 2)
    with pytest.raises(
        AppError, match="neither a Hub repo id .* nor a model folder inside the folders this app allows"
    ):
        client.predict("not a repo id!", api_name="/add_model")
    with pytest.raises(AppError, match="type a Hub repo id"):
        client.predict("  ", api_name="/add_model")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{not json")
    with pytest.raises(AppError, match="cannot add") as refused:
        client.predict(str(tmp_path / "broken"), api_name="/add_model")
    # the message names no server path but the one typed
    assert str(tmp_path) not in str(refused.value).replace(str(tmp_path / "broken"), "")
    # outside the allowed folders: the same answer for a model folder, a plain folder and nothing at all
    answers = set()
    for outside in (str(DEFAULT_ZOO / "dcgan-mnist"), "/etc", "/no/such/folder", "../../etc"):
        with pytest.raises(AppError) as refused:
            client.predict(outside, api_name="/add_model")
        answers.add(str(refused.value).replace(outside, "PATH"))
    assert len(answers) == 1, answers


def test_hub_search_and_add_by_repo_id(client, hub_env, gens):
    from gradio_client.exceptions import AppError

    repo_id = hub_env.repo_id("app-added")
    gens["cgan"].push_to_hub(repo_id)
    found, message = client.predict("app-added", api_name="/search_hub")
    assert repo_id in [v for v, _ in found["choices"]] and "gan-hub model(s) on the Hub" in message
    found, _ = client.predict("no-such-name-anywhere", api_name="/search_hub")
    assert found["choices"] == []
    model, _, message = client.predict(repo_id, api_name="/add_model")
    assert model["value"] == repo_id
    path = client.predict(repo_id, 3, 4, "5", api_name="/generate")
    expected = image_grid(gens["cgan"].generate(4, seed=3, labels=[5] * 4), nrow=2)
    assert torch.equal(pixels(path), torch.from_numpy(np.array(expected)))
    with pytest.raises(AppError, match="no Hub repo 'test-user/no-such-repo'"):
        client.predict("test-user/no-such-repo", api_name="/add_model")


# ---- catalog and pure functions (no server) -------------------------------------------------------
def test_parse_sources_and_card_body():
    assert parse_sources(" a/b, ./c ,,a/b ") == ["a/b", "./c"]
    assert parse_sources(["x,y", "z"]) == ["x", "y", "z"]
    assert parse_sources(None) == []
    card = "---\nlicense: mit\ntags:\n- gan\n---\n\n# Title\n\n![samples](samples.png)\n\ntext ![x](other.png)\n"
    assert card_body(card) == "# Title\n\ntext ![x](other.png)"
    assert card_body("# No front matter") == "# No front matter"


def test_catalog_loads_lazily_with_a_bounded_lru(models, tmp_path):
    calls = []

    def loader(source):
        calls.append(Path(source).name)
        return Generator.from_pretrained(source)

    catalog = Catalog([str(models["dcgan"]), str(models["cgan"])], zoo_dir=None, cache_size=1, loader=loader)
    assert catalog.names == ["dcgan-tiny", "cgan-tiny"] and catalog.loaded == []
    assert catalog.config("cgan-tiny").num_classes == 10 and calls == []  # config without weights
    first = catalog.load("dcgan-tiny")
    assert catalog.load("dcgan-tiny") is first and calls == ["dcgan-tiny"]
    catalog.load("cgan-tiny")
    assert catalog.loaded == ["cgan-tiny"]  # the bound evicted dcgan-tiny
    catalog.load("dcgan-tiny")
    assert calls == ["dcgan-tiny", "cgan-tiny", "dcgan-tiny"]
    with pytest.raises(CatalogError, match="unknown model 'nope'"):
        catalog.load("nope")


def test_catalog_sources(models, tmp_path):
    zoo = tmp_path / "zoo"
    zoo.mkdir()
    (zoo / "not-a-model").mkdir()
    import shutil

    shutil.copytree(models["dcgan"], zoo / "dcgan-tiny")
    catalog = Catalog(f"{models['dcgan']},{models['cgan']},org/some-repo", zoo_dir=zoo)
    # The zoo's dcgan-tiny comes first; the extra folder of the same name is a different folder, so it is
    # listed under its full path; a repo id is kept as given (resolved only when used).
    assert catalog.names == ["dcgan-tiny", str(models["dcgan"]), "cgan-tiny", "org/some-repo"]
    assert Catalog([str(zoo / "dcgan-tiny")], zoo_dir=zoo).names == ["dcgan-tiny"]  # same folder once
    with pytest.raises(CatalogError, match="does not exist"):
        Catalog(["./missing/model"], zoo_dir=None)
    with pytest.raises(CatalogError, match="no config.json"):
        Catalog([str(zoo / "not-a-model")], zoo_dir=None)


def test_default_catalog_lists_every_model_in_model_zoo():
    expected = (
        sorted(p.name for p in DEFAULT_ZOO.iterdir() if (p / CONFIG_NAME).is_file()) if DEFAULT_ZOO.is_dir() else []
    )
    assert [p.name for p in discover_models(DEFAULT_ZOO)] == expected
    assert Catalog(zoo_dir=DEFAULT_ZOO).names == expected


def test_check_int_messages():
    assert act.check_int("count", 4.0, (1, 64)) == 4
    for bad, message in [(None, "required"), ("x", "integer"), (2.5, "whole number"), (99, "between 1 and 64")]:
        with pytest.raises(act.InputError, match=message):
            act.check_int("count", bad, (1, 64))


def test_app_cli_defaults_follow_the_environment(monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("gan_hub_app_main", Path(__file__).parents[1] / "app.py")
    app_main = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(app_main)
    for var in ("GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT", "GAN_HUB_MODELS"):
        monkeypatch.delenv(var, raising=False)
    args = app_main.parse_args([])
    assert (args.host, args.port, args.models) == ("127.0.0.1", 7860, "")
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "8123")
    monkeypatch.setenv("GAN_HUB_MODELS", "org/a,org/b")
    args = app_main.parse_args([])
    assert (args.host, args.port, args.models) == ("0.0.0.0", 8123, "org/a,org/b")
    assert app_main.parse_args(["--port", "9000", "--models", "x"]).port == 9000
    assert app_main.main(["--models", "./missing/model", "--zoo", ""]) == 2


def test_empty_catalog_and_missing_scorer_weights(models, tmp_path):
    import gradio as gr

    from gan_hub.app.handlers import App, ScorerCache
    from gan_hub.app.ui import build_demo

    empty = App(Catalog([], zoo_dir=None), ScorerCache())
    assert "No models found" in empty.model_info(None)[0]
    assert isinstance(build_demo([], zoo_dir=None), gr.Blocks)
    with pytest.raises(gr.Error, match="no model selected"):
        empty.generate(None, 0, 4, act.CYCLE)
    app = App(
        Catalog([str(models["dcgan"])], zoo_dir=None),
        ScorerCache({"mnist-classifier": tmp_path / "missing.safetensors"}),
    )
    with pytest.raises(gr.Error, match="scorer mnist-classifier is not available"):
        next(app.score("dcgan-tiny", "mnist-classifier", 100, 100, 0))
    with pytest.raises(gr.Error, match="unknown scorer"):
        next(app.score("dcgan-tiny", "no-such-scorer", 100, 100, 0))


def test_app_py_starts_on_the_zoo_within_a_free_space_memory(tmp_path):
    """`python app.py` as a Space runs it: serves the page, generates, and stays far below the 16 GB of a
    free CPU Space (we allow 2 GiB of resident memory)."""
    import subprocess
    import sys
    import time
    import urllib.request

    import psutil
    from gradio_client import Client

    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "GAN_HUB_MODELS": "", "TMPDIR": str(tmp_path)}
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.Popen(
        [sys.executable, "app.py", "--port", str(port)],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "app.py did not serve its page within 120 s"
                time.sleep(0.2)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        folders = [p for p in discover_models(DEFAULT_ZOO) if not p.name.endswith(("-ring8", "-grid25"))]
        for folder in folders:  # the image models (tests/test_app_points.py draws the 2-D ones' scatter)
            size = json.loads((folder / "config.json").read_text())["image_size"]  # progan draws 32x32
            grid = Image.open(client.predict(folder.name, 0, 16, act.CYCLE, 0, api_name="/generate"))
            assert grid.size == grid_size(16, 4, size), folder.name
        rss = psutil.Process(proc.pid).memory_info().rss
        assert rss < 2 * 2**30, f"app.py uses {rss / 2**20:.0f} MiB"
        assert len(list(tmp_path.glob("gan-hub-exports-*"))) == 1
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert not list(tmp_path.glob("gan-hub-exports-*"))  # SIGTERM ends it cleanly: no temporary folder left


def test_score_tab_crops_padded_models_to_the_scorer_and_refuses_misfits(models):
    scorer = load_scorer("mnist-classifier", weights_path=models["scorer"])
    assert act.scorer_crop(scorer, GeneratorConfig(variant="dcgan", arch="dcgan", dataset="mnist")) is None
    padded = GeneratorConfig(variant="dcgan", arch="dcgan", dataset="mnist", image_size=32)
    assert act.scorer_crop(scorer, padded) == 28  # e.g. ProGAN's 32x32 MNIST: the padding is cropped away
    g = Generator(padded)
    updates = list(act.score_stream(g, scorer, 100, 50, seed=1))
    direct = InceptionScore(scorer, splits=10, num_samples=100, assignment="shuffled")
    direct.update(g.generate(100, seed=1)[:, :, 2:30, 2:30])
    assert updates[-1].mean == pytest.approx(direct.compute()[0], abs=1e-12)
    with pytest.raises(act.InputError, match="scores 1x28x28 images; this model makes 3x28x28"):
        act.scorer_crop(scorer, GeneratorConfig(variant="dcgan", arch="dcgan", channels=3))


def test_a_gallery_caption_names_variant_and_dataset_only_where_the_name_does_not():
    from gan_hub.app.handlers import gallery_caption

    assert gallery_caption({"model": "fgan-reverse-kl-mnist", "variant": "fgan-reverse-kl", "dataset": "mnist"}) == (
        "fgan-reverse-kl-mnist"
    )
    assert gallery_caption({"model": "gan-ring8", "variant": "gan", "dataset": "ring8-unit"}) == "gan-ring8"
    assert gallery_caption({"model": "org/dcgan-mnist", "variant": "dcgan", "dataset": "mnist"}) == "org/dcgan-mnist"
    assert gallery_caption({"model": "dcgan-tiny", "variant": "dcgan", "dataset": "mnist"}) == (
        "dcgan-tiny · dcgan · mnist"
    )
    assert gallery_caption({"model": "gan-mnist", "variant": "dcgan", "dataset": "mnist"}) == (
        "gan-mnist · dcgan · mnist"  # the name says another variant
    )
    for cut_short in ("dcgan-m", "dcgan-"):  # a name that says only part of the dataset's
        assert gallery_caption({"model": cut_short, "variant": "dcgan", "dataset": "mnist"}).endswith(
            " · dcgan · mnist"
        )
