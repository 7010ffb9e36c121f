"""The app's /v1 HTTP routes through real HTTP (httpx against the app served on loopback), the merged
forwards of concurrent users (gradio_client), and what a visitor may and may not do."""

from __future__ import annotations

import io
import os
import stat
import threading
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import httpx  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

from gan_hub import GeneratorConfig  # noqa: E402
from gan_hub.app import Catalog, CatalogError  # noqa: E402
from gan_hub.app import actions as act  # noqa: E402
from gan_hub.app.batching import ForwardBatcher  # noqa: E402
from gan_hub.app.catalog import search_hub  # noqa: E402
from gan_hub.app.handlers import ExportFolder, ScorerCache  # noqa: E402
from gan_hub.app.leaderboard import leaderboard, markdown_leaderboard, model_record  # noqa: E402
from gan_hub.sampling import grid_columns, image_grid  # noqa: E402
from tests.test_app import CARD_SCORE, free_port, make_test_models, noisy_generator, running_app  # noqa: E402


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return make_test_models(tmp_path_factory.mktemp("http-models"))


@pytest.fixture(scope="module")
def served(models):
    with running_app(models, with_demo=True) as (url, demo):
        yield url, demo


@pytest.fixture(scope="module")
def http(served):
    with httpx.Client(base_url=served[0], timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def gens(served):
    catalog = served[1].gan_hub_catalog
    return {"dcgan": catalog.load("dcgan-tiny"), "cgan": catalog.load("cgan-tiny")}


def grid_of(images: torch.Tensor) -> np.ndarray:
    return np.array(image_grid(images, nrow=grid_columns(len(images))))


def png(response: httpx.Response) -> np.ndarray:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    return np.array(Image.open(io.BytesIO(response.content)))


# ---- routes ---------------------------------------------------------------------------------------
def test_models_lists_the_catalog_with_config_and_scores_with_protocol(http, models):
    response = http.get("/v1/models")
    assert response.status_code == 200
    records = {m["name"]: m for m in response.json()["models"]}
    assert list(records) == ["dcgan-tiny", "cgan-tiny"]
    cgan = records["cgan-tiny"]
    assert (cgan["variant"], cgan["conditional"], cgan["num_classes"], cgan["latent_dim"]) == ("cgan", True, 10, 100)
    assert cgan["paper"]["citation"] == "Mirza & Osindero, 2014" and cgan["paper"]["url"].startswith("https://arxiv")
    (score,) = cgan["scores"]
    assert score["mean"] == 2.5 and score["protocol"] == "scorer=mnist-classifier, num_samples=10000, splits=10, seed=0"
    assert records["dcgan-tiny"]["scores"] == [] and records["dcgan-tiny"]["source"] == "local"
    assert str(models["cgan"].parent) not in response.text  # no server path in the answer


@pytest.mark.parametrize(
    "query, model, kwargs",
    [
        ("?n=64&seed=5", "dcgan", {"n": 64, "seed": 5}),
        ("", "dcgan", {"n": 16, "seed": 0}),
        ("?n=7&seed=2&truncation=0.5", "dcgan", {"n": 7, "seed": 2, "truncation": 0.5}),
        ("?n=12&seed=3", "cgan", {"n": 12, "seed": 3}),  # cycles through the classes
        ("?n=4&seed=1&labels=7", "cgan", {"n": 4, "seed": 1, "labels": [7] * 4}),
        ("?n=3&seed=9&labels=1,2,3", "cgan", {"n": 3, "seed": 9, "labels": [1, 2, 3]}),
    ],
)
def test_samples_png_is_the_api_s_images(http, gens, query, model, kwargs):
    n = kwargs.pop("n")
    expected = grid_of(gens[model].generate(n, **kwargs))
    assert np.array_equal(png(http.get(f"/v1/models/{model}-tiny/samples.png{query}")), expected)


@pytest.mark.parametrize(
    "path, status, parameter, message",
    [
        ("/v1/models/dcgan-tiny/samples.png?n=65", 422, "n", "n must be between 1 and 64, got 65"),
        ("/v1/models/dcgan-tiny/samples.png?n=0", 422, "n", "n must be between 1 and 64, got 0"),
        ("/v1/models/dcgan-tiny/samples.png?n=2.5", 422, "n", "n must be a whole number"),
        ("/v1/models/dcgan-tiny/samples.png?n=many", 422, "n", "n must be an integer"),
        ("/v1/models/dcgan-tiny/samples.png?seed=-1", 422, "seed", "seed must be between 0 and 4294967295"),
        ("/v1/models/dcgan-tiny/samples.png?truncation=1e-7", 422, "truncation", "0 (off) or from 0.05 to 3"),
        ("/v1/models/dcgan-tiny/samples.png?truncation=nan", 422, "truncation", "truncation must be between 0 and 3"),
        ("/v1/models/dcgan-tiny/samples.png?labels=3", 422, "labels", "not class-conditional"),
        ("/v1/models/cgan-tiny/samples.png?labels=10", 422, "labels", "unknown class '10'"),
        ("/v1/models/cgan-tiny/samples.png?n=4&labels=1,2", 422, "labels", "2 classes for 4 images"),
        ("/v1/models/cgan-tiny/samples.png?count=4", 400, "count", "unknown parameter 'count'"),
        ("/v1/models/no-such-model/samples.png", 404, "name", "unknown model 'no-such-model'"),
        ("/v1/models/no-such-model/thumbnail.png", 404, "name", "unknown model"),
    ],
)
def test_bad_requests_get_a_json_error_naming_the_parameter(http, path, status, parameter, message):
    response = http.get(path)
    assert response.status_code == status
    body = response.json()
    assert body["parameter"] == parameter and message in body["error"]


def test_thumbnail_is_the_model_s_samples_png(http, models):
    response = http.get("/v1/models/cgan-tiny/thumbnail.png")
    assert response.content == (models["cgan"] / "samples.png").read_bytes()


# ---- concurrent users share forwards ----------------------------------------------------------------
def gate(batcher: ForwardBatcher):
    """Hold the batcher's next forward until the returned event is set (so requests pile up behind it)."""
    release, load = threading.Event(), batcher._load

    def held(name):
        release.wait(30)
        return load(name)

    batcher._load = held
    return release, lambda: setattr(batcher, "_load", load)


def test_concurrent_requests_are_merged_and_each_answer_is_its_own(served, gens):
    """Different seeds, counts, classes and models in flight together: fewer forwards than requests,
    and every grid equal to the one that request gets alone."""
    from gradio_client import Client

    url, demo = served
    batcher = demo.gan_hub_app.batcher
    requests = [
        ("cgan-tiny", 1, 5, act.CYCLE, 0),
        ("cgan-tiny", 2, 16, "3", 0),
        ("cgan-tiny", 3, 1, "9", 0),
        ("cgan-tiny", 4, 9, act.CYCLE, 0.7),
        ("dcgan-tiny", 5, 64, act.NO_CLASS, 0),
        ("dcgan-tiny", 6, 3, act.NO_CLASS, 1.5),
        ("cgan-tiny", 7, 33, "0", 0),
        ("dcgan-tiny", 8, 2, act.NO_CLASS, 0),
    ]
    client = Client(url, verbose=False)
    release, restore = gate(batcher)
    try:
        forwards = batcher.forwards
        jobs = [client.submit(*args, api_name="/generate") for args in requests]
        deadline = time.monotonic() + 60
        while batcher._pending < len(requests) - 1 and time.monotonic() < deadline:  # one forward is held
            time.sleep(0.05)
        release.set()
        results = [job.result(timeout=60) for job in jobs]
    finally:
        restore()
    assert batcher.forwards - forwards <= 3  # the held one, then one per model
    for (name, seed, count, choice, truncation), path in zip(requests, results):
        g = gens[name.split("-")[0]]
        labels = None if choice in (act.CYCLE, act.NO_CLASS) else [int(choice)] * count
        expected = grid_of(g.generate(count, seed=seed, labels=labels, truncation=truncation or None))
        assert np.array_equal(np.array(Image.open(path)), expected), (name, seed, count, choice)


def test_http_requests_share_forwards_too(served, gens):
    url, demo = served
    batcher = demo.gan_hub_app.batcher
    queries = [f"?n={n}&seed={s}" for n, s in ((4, 1), (9, 2), (16, 3), (1, 4), (25, 5), (8, 6))]
    release, restore = gate(batcher)
    results: dict[str, httpx.Response] = {}

    def get(query):
        with httpx.Client(base_url=url, timeout=60) as client:
            results[query] = client.get(f"/v1/models/dcgan-tiny/samples.png{query}")

    try:
        forwards = batcher.forwards
        threads = [threading.Thread(target=get, args=(q,)) for q in queries]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while batcher._pending < len(queries) - 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        release.set()
        for t in threads:
            t.join(60)
    finally:
        restore()
    assert batcher.forwards - forwards <= 2
    for query in queries:
        n, seed = (int(part.split("=")[1]) for part in query[1:].split("&"))
        served_alone = grid_of(gens["dcgan"].generate(n, seed=seed)).astype(np.int16)
        # a merged batch may round floats differently (the CPU kernels block by batch size): one grey level at most
        assert np.abs(png(results[query]).astype(np.int16) - served_alone).max() <= 1, query


def test_a_failed_forward_fails_only_its_batch():
    def load(name):
        if name == "broken":
            raise RuntimeError("no such network")
        return noisy_generator(GeneratorConfig(variant="dcgan", arch="dcgan"), seed=0)

    batcher = ForwardBatcher(load)
    z = torch.randn(2, 100)
    with pytest.raises(RuntimeError, match="no such network"):
        batcher.run("broken", z, timeout=30)
    assert batcher.run("fine", z, timeout=30).shape == (2, 1, 28, 28)


# ---- what a visitor may do --------------------------------------------------------------------------
def test_visitors_add_folders_only_inside_the_allowed_roots(models, tmp_path):
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    noisy_generator(GeneratorConfig(variant="dcgan", arch="dcgan"), seed=3).save_pretrained(allowed / "ok")
    noisy_generator(GeneratorConfig(variant="dcgan", arch="dcgan"), seed=4).save_pretrained(outside / "secret")
    (allowed / "link-out").symlink_to(outside / "secret")
    (allowed / "config-link").mkdir()
    (allowed / "config-link" / "config.json").symlink_to(outside / "secret" / "config.json")

    hub_only = Catalog([], zoo_dir=None, allowed_roots=[], downloader=pytest.fail)
    messages = set()
    for source in (str(allowed / "ok"), str(outside / "secret"), "/etc", "/no/such/dir", "./x", "~/y"):
        with pytest.raises(CatalogError, match="adds models from the Hub only") as refused:
            hub_only.add(source)
        messages.add(str(refused.value).replace(source, "PATH"))
    assert len(messages) == 1  # existing or not, a model folder or not: the same answer

    catalog = Catalog([], zoo_dir=None, allowed_roots=[allowed], downloader=pytest.fail)
    assert catalog.add(str(allowed / "ok")) == "ok"
    assert catalog.add("ok") == "ok"  # relative to a root: the same folder, offered once
    messages = set()
    for source in (
        str(outside / "secret"),
        str(allowed / "link-out"),
        str(allowed / "config-link"),
        str(allowed / ".." / "outside" / "secret"),
        "../outside/secret",
        str(allowed / "missing"),
        "/etc",
    ):
        with pytest.raises(CatalogError) as refused:
            catalog.add(source)
        messages.add(str(refused.value).replace(source, "PATH"))
    assert messages == {
        "'PATH' is neither a Hub repo id (org/name) nor a model folder inside the folders this app allows"
    }


def test_a_repo_id_is_never_read_from_a_local_folder(models, tmp_path, monkeypatch):
    """``org/name`` typed by a visitor goes to the Hub even when a folder of that name exists here."""
    local = tmp_path / "org" / "name"
    noisy_generator(GeneratorConfig(variant="dcgan", arch="dcgan"), seed=3).save_pretrained(local)
    monkeypatch.chdir(tmp_path)
    asked = []

    def downloader(repo_id):
        asked.append(repo_id)
        raise CatalogError(f"no Hub repo {repo_id!r} that this app can access")

    with pytest.raises(CatalogError, match="no Hub repo 'org/name'"):
        Catalog([], zoo_dir=None, allowed_roots=[], downloader=downloader).add("org/name")
    assert asked == ["org/name"]


def test_offline_hub_calls_fail_within_a_few_seconds(monkeypatch):
    from huggingface_hub import constants

    port = free_port()  # nothing listens there: every connection is refused, and huggingface_hub retries
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{port}")
    began = time.monotonic()
    with pytest.raises(CatalogError, match="cannot search the Hub"):
        search_hub("mnist", timeout=2.0)
    assert time.monotonic() - began < 4.0


# ---- bounded work, defaults that work, files -------------------------------------------------------
def test_truncation_has_a_floor_that_keeps_the_redraw_short(gens):
    g = gens["dcgan"]
    with pytest.raises(act.InputError, match="below 0.05") as refused:
        act.check_truncation(g, 1e-7)
    assert refused.value.field == "truncation"
    began = time.monotonic()
    act.sample_inputs(g, 0, act.COUNT_RANGE[1], None, act.TRUNCATION_FLOOR)  # the worst request allowed
    assert time.monotonic() - began < 2.0


def test_score_tab_preselects_a_scorer_that_runs_here(tmp_path, monkeypatch):
    import torch.hub

    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))  # no Inception weights cached
    monkeypatch.delenv("GAN_HUB_INCEPTION_WEIGHTS", raising=False)
    from gan_hub.metrics.inception_v3 import ENV_VAR

    monkeypatch.delenv(ENV_VAR, raising=False)
    scorers = ScorerCache()
    choice, note = scorers.default_for("mnist", ["inception-v3", "mnist-classifier"])
    assert choice == "mnist-classifier" and note.startswith("inception-v3 is unavailable here")
    choice, note = scorers.default_for("cifar10", ["inception-v3", "mnist-classifier"])
    assert choice == "mnist-classifier" and "inception-v3" in note


def test_exports_are_removed_at_close_and_saved_files_are_readable(tmp_path):
    exports = ExportFolder()
    stem = exports.new_stem("x")
    stem.with_suffix(".gif").write_bytes(b"GIF89a")
    exports.remove()
    assert not exports.root.exists()
    noisy_generator(GeneratorConfig(variant="dcgan", arch="dcgan"), seed=1).save_pretrained(tmp_path / "m")
    for name in ("config.json", "model.safetensors"):
        mode = stat.S_IMODE((tmp_path / "m" / name).stat().st_mode)
        assert mode & stat.S_IRGRP and mode & stat.S_IROTH, f"{name} is {oct(mode)}"


# ---- leaderboard -----------------------------------------------------------------------------------
def test_leaderboard_over_a_zoo_of_many_models(models, tmp_path):
    zoo = tmp_path / "zoo"
    for i in range(12):
        score = {**CARD_SCORE, "mean": 2.0 + i / 10}
        metrics = (
            None
            if i == 5
            else {
                "scores": [
                    score,
                    {
                        "metric": "fid",
                        "name": "classifier FID@10k",
                        "value": 10.0 - i,
                        "scorer": "mnist-classifier",
                        "num_samples": 10000,
                        "seed": 0,
                    },
                ]
            }
        )
        config = GeneratorConfig(variant="dcgan" if i % 2 else "lsgan", arch="dcgan", dataset="mnist")
        noisy_generator(config, seed=i, metrics=metrics).save_pretrained(zoo / f"m{i:02d}")
    catalog = Catalog(zoo_dir=zoo)
    records = [model_record(catalog, name) for name in catalog.names]
    rows = leaderboard(records)
    assert [r["model"] for r in rows][:3] == ["m11", "m10", "m09"] and rows[-1]["model"] == "m05"
    assert [r["model"] for r in leaderboard(records, "classifier FID")][:2] == ["m11", "m10"]  # lower is better
    table = markdown_leaderboard(zoo)
    # the protocol that eleven models share is said once above the table; each of their rows says "as above"
    intro, table = table.split("\n\n", 1)
    assert intro == (
        "Every score's protocol unless its row says otherwise: scorer=mnist-classifier, num_samples=10000, seed=0; "
        "classifier IS: splits=10."
    )
    assert (
        table.count("\n") == 13 and "| classifier IS | classifier FID |" in table and table.count("| as above |") == 11
    )
    assert '| <img src="model_zoo/m11/samples.png" width="48" alt="m11 samples"> |' in table
    assert "[m11](model_zoo/m11) | `dcgan` | Radford et al., 2015 | 3.1 | -1 |" in table


def test_a_request_that_waits_too_long_is_withdrawn_with_a_clear_error():
    from gan_hub.app.batching import BusyError

    g = noisy_generator(GeneratorConfig(variant="dcgan", arch="dcgan"), seed=0)
    release = threading.Event()
    batcher = ForwardBatcher(lambda name: (release.wait(30), g)[1])
    first = batcher.submit("m", torch.randn(1, 100))  # holds the worker until released
    deadline = time.monotonic() + 30
    while batcher._pending and time.monotonic() < deadline:  # the worker has taken it
        time.sleep(0.01)
    with pytest.raises(BusyError, match="did not get to this request within 0.2 s"):
        batcher.run("m", torch.randn(2, 100), timeout=0.2)
    release.set()
    assert first.result(30).shape == (1, 1, 28, 28)
    assert batcher.requests == 1  # the withdrawn request was never computed


# ---- cold start ------------------------------------------------------------------------------------
def test_the_first_page_is_built_without_torch():
    """The page needs gradio, the bounds and the zoo's folder names; torch and matplotlib load after it."""
    import subprocess
    import sys

    code = (
        "import sys; from gan_hub.app import build_demo; build_demo(); "
        "print(sorted(m for m in ('torch', 'matplotlib', 'av') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(__file__).resolve().parents[1],
        env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_building_the_page_builds_no_server_app_that_launch_replaces(monkeypatch):
    """Gradio alone would build its FastAPI app twice while the Blocks is made; launch builds the one it serves
    (the served app works: the fixtures above launch build_demo's Blocks)."""
    from gradio.routes import App as ServerApp

    from gan_hub.app import build_demo

    built, create_app = [], ServerApp.create_app

    def counted(blocks, *args, **kwargs):
        built.append(blocks)
        return create_app(blocks, *args, **kwargs)

    monkeypatch.setattr(ServerApp, "create_app", staticmethod(counted))
    demo = build_demo(zoo_dir=None)
    assert built == []
    demo.queue()  # once built, Gradio's own calls go through again
    assert built == [demo]


def test_the_app_s_spelled_out_constants_agree_with_the_library():
    from gan_hub.app import catalog, limits
    from gan_hub.config import CONFIG_NAME
    from gan_hub.sampling import INTERPOLATIONS

    assert catalog.CONFIG_NAME == CONFIG_NAME
    assert set(limits.METHODS) == set(INTERPOLATIONS)


def test_an_abandoned_score_stops_and_frees_the_compute_queue(served, monkeypatch):
    """A visitor starts the longest score and leaves: the server stops computing it."""
    url, demo = served
    g = demo.gan_hub_catalog.load("dcgan-tiny")
    batches = [0]
    original = g.generate_from_latents

    def counted(*args, **kwargs):
        batches[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(g, "generate_from_latents", counted)
    fn_index = {fn.api_name: i for i, fn in demo.fns.items()}["score"]
    with httpx.Client(base_url=url, timeout=60) as http:
        http.post(
            "gradio_api/queue/join",
            json={
                "data": ["dcgan-tiny", "mnist-classifier", 10_000, 10, 0],
                "fn_index": fn_index,
                "session_hash": "leaves",
            },
        ).raise_for_status()
        with http.stream("GET", "gradio_api/queue/data", params={"session_hash": "leaves"}) as stream:
            for line in stream.iter_lines():
                if "process_generating" in line:
                    break  # the first running score arrived: the visitor closes the page
    time.sleep(3.0)
    after_leaving = batches[0]
    time.sleep(3.0)
    assert 0 < batches[0] == after_leaving < 1000  # stopped, well before its 1,000 batches
