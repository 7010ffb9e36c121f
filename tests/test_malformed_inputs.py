"""Malformed inputs at every door (issue 14, item 4): each is refused with a clear message, nothing hangs,
and nothing on disk is changed or left half-written.

Doors: the Python API (Generator, Classifier, InceptionScore, load_scorer), model folders (config.json,
metrics.json and weights files), the training CLI and its YAML, and the metrics CLI. A clear message
is an exception the user can act on (ValueError/TypeError, a missing file, an unknown name) whose text
names the argument or file; the CLIs print exactly one line ``PROG: error: ...`` and exit with 2 for a
usage error, 1 for a failure at run time. Most cases run in-process; a few run the real commands.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from gan_hub import Generator
from gan_hub.classifier import Classifier
from gan_hub.config import GeneratorConfig
from gan_hub.metrics import InceptionScore, load_scorer
from gan_hub.registry import UnknownNameError

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.timeout(120)  # a hang is a failure
CLEAR = (ValueError, TypeError, FileNotFoundError, NotADirectoryError, UnknownNameError)


def tree_state(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones included) with the SHA-256 of its bytes."""
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    } | {"<dirs>": ",".join(sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_dir()))}


def assert_clear(call, match: str):
    with pytest.raises(CLEAR) as info:
        call()
    message = str(info.value)
    assert match.lower() in message.lower(), message
    assert "Traceback" not in message and message.strip()
    return message


# ==== door 1: the Python API ======================================================================
@pytest.fixture(scope="module")
def cgan() -> Generator:
    torch.manual_seed(0)
    return Generator(
        GeneratorConfig(
            variant="cgan", arch="mlp", latent_dim=8, num_classes=10, dataset="mnist", arch_kwargs={"hidden_dim": 16}
        )
    )


@pytest.fixture(scope="module")
def gan() -> Generator:
    torch.manual_seed(0)
    return Generator(
        GeneratorConfig(variant="gan", arch="mlp", latent_dim=8, dataset="mnist", arch_kwargs={"hidden_dim": 16})
    )


SOFT_NAN = torch.full((2, 10), float("nan"))
SOFT_UNNORMALISED = torch.full((2, 10), 0.5)
SOFT_NEGATIVE = torch.tensor([[1.5, -0.5] + [0.0] * 8] * 2)

GENERATE_CASES = [  # (id, kwargs of cgan.generate, text the message must hold)
    ("n-float", {"n": 2.5}, "n must be an integer >= 0, got 2.5"),
    ("n-str", {"n": "4"}, "n must be an integer >= 0, got '4' (str)"),
    ("n-negative", {"n": -1}, "n must be an integer >= 0, got -1"),
    ("n-bool", {"n": True}, "n must be an integer"),
    ("n-none", {"n": None}, "n must be an integer"),
    ("n-list", {"n": [4]}, "n must be an integer"),
    ("n-float-tensor", {"n": torch.tensor(2.0)}, "n must be an integer"),
    ("seed-float", {"n": 2, "seed": 1.7}, "seed must be an integer from 0 to"),
    ("seed-negative", {"n": 2, "seed": -1}, "seed must be an integer from 0 to 18446744073709551615, got -1"),
    ("seed-none", {"n": 2, "seed": None}, "seed must be an integer"),
    ("seed-str", {"n": 2, "seed": "0"}, "seed must be an integer"),
    ("seed-too-big", {"n": 2, "seed": 2**64}, "seed must be an integer from 0 to"),
    ("seed-bool", {"n": 2, "seed": True}, "seed must be an integer"),
    ("seed-nan", {"n": 2, "seed": math.nan}, "seed must be an integer"),
    ("batch-zero", {"n": 2, "batch_size": 0}, "batch_size must be an integer >= 1, got 0"),
    ("batch-negative", {"n": 4, "batch_size": -1}, "batch_size must be an integer >= 1, got -1"),
    ("batch-float", {"n": 2, "batch_size": 2.5}, "batch_size must be an integer"),
    ("batch-str", {"n": 2, "batch_size": "8"}, "batch_size must be an integer"),
    ("batch-none", {"n": 2, "batch_size": None}, "batch_size must be an integer"),
    ("truncation-zero", {"n": 2, "truncation": 0.0}, "truncation must be a finite number >= 0.02, got 0.0"),
    ("truncation-negative", {"n": 2, "truncation": -0.5}, "truncation must be a finite number >= 0.02"),
    ("truncation-tiny", {"n": 64, "truncation": 1e-7}, "truncation must be a finite number >= 0.02"),
    ("truncation-str", {"n": 2, "truncation": "0.7"}, "truncation must be a finite number"),
    ("truncation-nan", {"n": 2, "truncation": math.nan}, "truncation must be a finite number"),
    ("truncation-inf", {"n": 2, "truncation": math.inf}, "truncation must be a finite number"),
    ("truncation-bool", {"n": 2, "truncation": True}, "truncation must be a finite number"),
    ("labels-digit-string", {"n": 2, "labels": "37"}, "got the single string '37'"),
    ("labels-int", {"n": 2, "labels": 5}, "labels must be a sequence of 2 class ids"),
    ("labels-float-item", {"n": 2, "labels": [3.7, 1]}, "labels[0] must be an integer"),
    ("labels-out-of-range", {"n": 2, "labels": [10, 0]}, "labels[0] must be an integer from 0 to 9"),
    ("labels-negative", {"n": 2, "labels": [0, -1]}, "labels[1] must be an integer from 0 to 9"),
    ("labels-unknown-name", {"n": 2, "labels": ["cat", "0"]}, "labels[0] 'cat' is not a class of this model"),
    ("labels-too-few", {"n": 3, "labels": [1, 2]}, "got 2 labels for 3 samples"),
    ("labels-too-many", {"n": 1, "labels": [1, 2]}, "got 2 labels for 1 samples"),
    ("labels-nested", {"n": 2, "labels": [[1], [2]]}, "labels[0] must be an integer"),
    ("labels-bool-item", {"n": 2, "labels": [True, 0]}, "labels[0] must be an integer"),
    ("labels-none-item", {"n": 2, "labels": [None, 0]}, "labels[0] must be an integer"),
    ("labels-dict", {"n": 2, "labels": {0: 1}}, "labels must be a sequence"),
    ("labels-bool-tensor", {"n": 2, "labels": torch.tensor([True, False])}, "got a torch.bool tensor"),
    ("labels-2d-int-tensor", {"n": 2, "labels": torch.zeros(2, 1, dtype=torch.long)}, "of shape (2, 1)"),
    ("soft-labels-shape", {"n": 2, "labels": torch.full((2, 5), 0.2)}, "soft labels must have shape (2, 10)"),
    ("soft-labels-nan", {"n": 2, "labels": SOFT_NAN}, "soft labels must be finite and non-negative"),
    ("soft-labels-sum", {"n": 2, "labels": SOFT_UNNORMALISED}, "row 0 sums to 5"),
    ("soft-labels-negative", {"n": 2, "labels": SOFT_NEGATIVE}, "soft labels must be finite and non-negative"),
]


@pytest.mark.parametrize("kwargs, match", [c[1:] for c in GENERATE_CASES], ids=[c[0] for c in GENERATE_CASES])
def test_generate_refuses(cgan, kwargs, match):
    assert_clear(lambda: cgan.generate(**kwargs), match)


def test_labels_on_an_unconditional_model_are_refused(gan):
    assert_clear(lambda: gan.generate(2, labels=[1, 1]), "not class-conditional")


INTERPOLATE_CASES = [
    ("steps-float", {"steps": 2.5}, "steps must be an integer >= 2"),
    ("steps-one", {"steps": 1}, "steps must be an integer >= 2 (both end points), got 1"),
    ("steps-str", {"steps": "8"}, "steps must be an integer"),
    ("steps-none", {"steps": None}, "steps must be an integer"),
    ("method-unknown", {"method": "cubic"}, "method must be one of 'lerp', 'slerp'"),
    ("method-int", {"method": 3}, "method must be one of"),
    ("seed-a-negative", {"seed_a": -1}, "seed_a must be an integer from 0"),
    ("seed-b-float", {"seed_b": 1.5}, "seed_b must be an integer"),
    ("label-a-out-of-range", {"label_a": 99}, "label must be an integer from 0 to 9"),
    ("label-b-unknown-name", {"label_b": "x"}, "label 'x' is not a class"),
    ("label-a-float", {"label_a": 2.5}, "label must be an integer"),
]


@pytest.mark.parametrize("kwargs, match", [c[1:] for c in INTERPOLATE_CASES], ids=[c[0] for c in INTERPOLATE_CASES])
def test_interpolate_refuses(cgan, kwargs, match):
    assert_clear(lambda: cgan.interpolate(**kwargs), match)


CLASS_GRID_CASES = [
    ("seeds-empty", {"seeds": []}, "seeds must hold at least one seed"),
    ("seeds-int", {"seeds": 5}, "seeds must be a non-empty list of integer seeds"),
    ("seeds-str", {"seeds": "12"}, "seeds must be a non-empty list"),
    ("seeds-float-item", {"seeds": [1.5]}, "seeds[0] must be an integer"),
    ("seeds-negative-item", {"seeds": [0, -1]}, "seeds[1] must be an integer from 0"),
    ("classes-empty", {"seeds": [0], "classes": []}, "classes must be a non-empty list"),
    ("classes-out-of-range", {"seeds": [0], "classes": [99]}, "classes[0] must be an integer from 0 to 9"),
    ("classes-str", {"seeds": [0], "classes": "0"}, "classes must be a non-empty list"),
    ("classes-float", {"seeds": [0], "classes": 3.5}, "classes must be a non-empty list"),
]


@pytest.mark.parametrize("kwargs, match", [c[1:] for c in CLASS_GRID_CASES], ids=[c[0] for c in CLASS_GRID_CASES])
def test_class_grid_refuses(cgan, kwargs, match):
    assert_clear(lambda: cgan.class_grid(**kwargs), match)


def test_generate_from_latents_and_encode_refuse_bad_batch_sizes(cgan):
    assert_clear(
        lambda: cgan.generate_from_latents(torch.zeros(2, 8), batch_size=0), "batch_size must be an integer >= 1"
    )
    assert_clear(lambda: cgan.generate_from_latents(torch.zeros(2, 8), batch_size=1.5), "batch_size must be an integer")


LOCAL_LOOKING = [
    "./missing-model",
    "../missing-model",
    "/nonexistent/model",
    "~/no-such-model",
    "a/b/c",
    "no_such_dir\\model",
    "C:/models/x",
    "bad id!!",
    "org/na me",
    "org/name.git",
    "org--name/x",
]


@pytest.mark.parametrize("name", LOCAL_LOOKING)
def test_a_path_that_looks_local_is_never_sent_to_the_hub(name, monkeypatch):
    import gan_hub.hub as hub

    def no_hub(*args, **kwargs):
        raise AssertionError(f"{name!r} was sent to the Hub")

    monkeypatch.setattr(hub, "snapshot_download", no_hub)
    assert_clear(lambda: Generator.from_pretrained(name), "no such folder")


def test_a_relative_path_under_an_existing_folder_is_local(tmp_path, monkeypatch):
    import gan_hub.hub as hub

    (tmp_path / "model_zoo").mkdir()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(hub, "snapshot_download", lambda *a, **k: pytest.fail("sent to the Hub"))
    assert_clear(lambda: Generator.from_pretrained("model_zoo/cgan-mnist"), "no such folder: model_zoo/cgan-mnist")


def test_a_repo_id_that_cannot_be_fetched_offline_says_so(monkeypatch, tmp_path):
    import huggingface_hub

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    assert_clear(
        lambda: Generator.from_pretrained("someorg/some-model"),
        f"someorg/some-model is not a folder here ({tmp_path}) and the Hub could not be reached",
    )


@pytest.mark.parametrize("value", [None, 5, "", "   "], ids=["none", "int", "empty", "blank"])
def test_classifier_location_must_be_a_path_or_repo_id(value):
    assert_clear(
        lambda: Classifier.from_pretrained(value), "name_or_path must be a local model folder or a Hub repo id"
    )


INCEPTION_CASES = [
    ("splits-zero", {"splits": 0}, "splits must be an integer >= 1, got 0"),
    ("splits-float", {"splits": 2.5}, "splits must be an integer"),
    ("splits-str", {"splits": "10"}, "splits must be an integer"),
    ("splits-bool", {"splits": True}, "splits must be an integer"),
    ("num-samples-below-splits", {"num_samples": 5}, "num_samples must be an integer >= 10"),
    ("num-samples-negative", {"num_samples": -1}, "num_samples must be an integer >= 10"),
    ("num-samples-float", {"num_samples": 20.5}, "num_samples must be an integer"),
    ("assignment-unknown", {"assignment": "random"}, "assignment must be one of"),
    ("assignment-none", {"assignment": None}, "assignment must be one of"),
    ("shuffled-without-total", {"assignment": "shuffled"}, "shuffled splits need num_samples"),
]


@pytest.mark.parametrize("kwargs, match", [c[1:] for c in INCEPTION_CASES], ids=[c[0] for c in INCEPTION_CASES])
def test_inception_score_arguments_are_refused(kwargs, match):
    assert_clear(lambda: InceptionScore(None, **kwargs), match)


LOGITS_CASES = [
    ("one-dim", torch.zeros(10), "logits must be a float tensor [N, K]"),
    ("three-dim", torch.zeros(2, 3, 4), "logits must be a float tensor [N, K]"),
    ("integer", torch.zeros(12, 3, dtype=torch.long), "logits must be a float tensor"),
    ("nan", torch.full((12, 3), math.nan), "NaN or infinite"),
    ("list", [[0.0, 1.0]], "logits must be a float tensor"),
]


@pytest.mark.parametrize("logits, match", [c[1:] for c in LOGITS_CASES], ids=[c[0] for c in LOGITS_CASES])
def test_inception_score_refuses_bad_logits(logits, match):
    assert_clear(lambda: InceptionScore(None, splits=10).update_logits(logits), match)


def test_inception_score_refuses_changing_classes_and_too_few_samples():
    m = InceptionScore(None, splits=10).update_logits(torch.zeros(5, 3))
    assert_clear(lambda: m.update_logits(torch.zeros(5, 4)), "got logits for 4 classes, earlier batches had 3")
    assert_clear(m.compute, "needs at least 10 samples (one per split), got 5")


SCORER_CASES = [
    ("unknown-name", ("nope",), {}, "unknown scorer 'nope'"),
    ("int-name", (5,), {}, "name must be a scorer name"),
    ("none-name", (None,), {}, "name must be a scorer name"),
    ("weights-int", ("mnist-classifier",), {"weights_path": 5}, "weights_path must be a file path or None"),
    ("batch-zero", ("mnist-classifier",), {"batch_size": 0}, "batch_size must be an integer >= 1"),
    ("batch-float", ("mnist-classifier",), {"batch_size": 2.5}, "batch_size must be an integer"),
    ("unknown-option", ("mnist-classifier",), {"colour": True}, "takes no option(s) ['colour']"),
    ("missing-weights", ("mnist-classifier",), {"weights_path": "/nonexistent/model.safetensors"}, "does not exist"),
]


@pytest.mark.parametrize("args, kwargs, match", [c[1:] for c in SCORER_CASES], ids=[c[0] for c in SCORER_CASES])
def test_load_scorer_refuses(args, kwargs, match):
    assert_clear(lambda: load_scorer(*args, **kwargs), match)


# ==== door 2: model folders (config.json, metrics.json, weights files) ============================
@pytest.fixture(scope="module")
def saved(tmp_path_factory, gan) -> Path:
    folder = tmp_path_factory.mktemp("saved")
    gan.save_pretrained(folder)
    return folder


def flip_middle(data: bytes) -> bytes:
    out = bytearray(data)
    out[len(out) // 2] ^= 0xFF
    return bytes(out)


def weights_of_another_model(folder: Path) -> bytes:
    other = Generator(
        GeneratorConfig(variant="gan", arch="mlp", latent_dim=12, dataset="mnist", arch_kwargs={"hidden_dim": 16})
    )
    other.save_pretrained(folder.parent / "other")
    return (folder.parent / "other" / "model.safetensors").read_bytes()


def tensors_edited(folder: Path, edit) -> bytes:
    state = load_file(str(folder / "model.safetensors"))
    edit(state)
    save_file(state, str(folder.parent / "edited.safetensors"))
    return (folder.parent / "edited.safetensors").read_bytes()


def poison(value: float):
    def edit(state):
        key = sorted(k for k, v in state.items() if v.is_floating_point())[0]
        state[key] = state[key].clone()
        state[key].view(-1)[0] = value

    return edit


FOLDER_CASES = [  # (id, file, new content given the pristine folder, message text)
    ("config-not-json", "config.json", lambda f: b"{variant: gan", "config.json is not valid JSON"),
    ("config-empty", "config.json", lambda f: b"", "config.json is not valid JSON"),
    (
        "config-unknown-key",
        "config.json",
        lambda f: json.dumps({**json.loads((f / "config.json").read_text()), "colour": 1}).encode(),
        "unknown config keys ['colour']",
    ),
    (
        "config-no-variant",
        "config.json",
        lambda f: json.dumps({"arch": "mlp"}).encode(),
        "missing required keys ['variant']",
    ),
    (
        "config-latent-zero",
        "config.json",
        lambda f: json.dumps({**json.loads((f / "config.json").read_text()), "latent_dim": 0}).encode(),
        "latent_dim must be an integer >= 1",
    ),
    ("config-null", "config.json", lambda f: b"null", "a config must be a JSON object, got NoneType"),
    ("config-not-utf8", "config.json", lambda f: b'{"variant": "\xff"}', "config.json is not UTF-8 text"),
    (
        "config-arch-kwargs-list",
        "config.json",
        lambda f: json.dumps({"variant": "gan", "arch": "mlp", "format_version": 1, "arch_kwargs": [1]}).encode(),
        "arch_kwargs must be a mapping",
    ),
    (
        "config-future-version",
        "config.json",
        lambda f: json.dumps({**json.loads((f / "config.json").read_text()), "format_version": 99}).encode(),
        "format_version 99 is not one this library reads",
    ),
    (
        "config-unknown-variant",
        "config.json",
        lambda f: json.dumps({**json.loads((f / "config.json").read_text()), "variant": "foo"}).encode(),
        "names variant 'foo', which this version of gan-hub does not have",
    ),
    (
        "config-class-names-string",
        "config.json",
        lambda f: json.dumps({**json.loads((f / "config.json").read_text()), "class_names": "0123456789"}).encode(),
        "class_names must be a list of strings",
    ),
    (
        "config-generator-not-mapping",
        "config.json",
        lambda f: json.dumps({**json.loads((f / "config.json").read_text()), "generator": "dcgan"}).encode(),
        "generator must be a mapping with arch, kwargs and wrappers",
    ),
    (
        "config-unknown-wrapper",
        "config.json",
        lambda f: json.dumps(
            {
                **json.loads((f / "config.json").read_text()),
                "generator": {"arch": "mlp", "wrappers": [{"name": "sparkle"}]},
            }
        ).encode(),
        "unknown network wrapper 'sparkle'",
    ),
    ("config-missing", "config.json", None, "no config.json"),
    ("weights-missing", "model.safetensors", None, "does not exist"),
    ("weights-empty", "model.safetensors", lambda f: b"", "is damaged: not a readable safetensors file"),
    ("weights-garbage", "model.safetensors", lambda f: b"\x00" * 64, "is damaged"),
    ("weights-truncated", "model.safetensors", lambda f: (f / "model.safetensors").read_bytes()[:-100], "is damaged"),
    (
        "weights-header-flipped",
        "model.safetensors",
        lambda f: b"\xff" + (f / "model.safetensors").read_bytes()[1:],
        "is damaged",
    ),
    ("weights-pickle", "model.safetensors", lambda f: b"\x80\x04\x95" + b"\x00" * 40, "is damaged"),
    ("weights-other-model", "model.safetensors", weights_of_another_model, "the architecture expects"),
    (
        "weights-key-missing",
        "model.safetensors",
        lambda f: tensors_edited(f, lambda s: s.pop(sorted(s)[0])),
        "missing key(s)",
    ),
    (
        "weights-key-extra",
        "model.safetensors",
        lambda f: tensors_edited(f, lambda s: s.update(extra=torch.zeros(1))),
        "unexpected key(s): extra",
    ),
    ("weights-nan", "model.safetensors", lambda f: tensors_edited(f, poison(math.nan)), "holds NaN or infinite values"),
    ("weights-inf", "model.safetensors", lambda f: tensors_edited(f, poison(math.inf)), "holds NaN or infinite values"),
    (
        "weights-integer-dtype",
        "model.safetensors",
        lambda f: tensors_edited(f, lambda s: s.update({k: v.long() for k, v in s.items() if k.endswith("weight")})),
        "has dtype torch.int64",
    ),
    ("metrics-not-json", "metrics.json", lambda f: b"{scores", "metrics.json is not valid JSON"),
    ("metrics-list", "metrics.json", lambda f: b"[]", "metrics.json must hold a JSON object, got list"),
    ("metrics-not-utf8", "metrics.json", lambda f: b"\xff\xfe{}", "metrics.json is not UTF-8"),
    ("metrics-null", "metrics.json", lambda f: b"null", "metrics.json must hold a JSON object, got NoneType"),
]


@pytest.mark.parametrize("name, content, match", [c[1:] for c in FOLDER_CASES], ids=[c[0] for c in FOLDER_CASES])
def test_a_damaged_model_folder_is_named_and_left_as_it_is(saved, tmp_path, name, content, match):
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(saved, folder)
    new = None if content is None else content(folder)
    (folder / name).unlink(missing_ok=True)
    if new is not None:
        (folder / name).write_bytes(new)
    before = tree_state(folder)
    message = assert_clear(lambda: Generator.from_pretrained(folder), match)
    assert name in message or "no config.json" in message
    if name == "metrics.json":
        assert "config.json" not in message  # a scores file is not reported as a config error
    if "weights" in name or name.endswith(".safetensors") and "damaged" in match:
        assert "different models" not in message  # a damaged file is not called a mismatch
    assert tree_state(folder) == before


def test_a_damaged_scorer_config_names_its_file(tmp_path):
    import shutil

    from gan_hub.metrics.mnist_classifier import ASSETS_DIR

    shutil.copy(ASSETS_DIR / "mnist-classifier" / "model.safetensors", tmp_path / "model.safetensors")
    (tmp_path / "config.json").write_text("{oops")
    assert_clear(
        lambda: load_scorer("mnist-classifier", weights_path=tmp_path / "model.safetensors"),
        f"{tmp_path / 'config.json'} is not valid JSON",
    )
    (tmp_path / "config.json").unlink()
    (tmp_path / "model.safetensors").write_bytes(b"junk")
    assert_clear(lambda: load_scorer("mnist-classifier", weights_path=tmp_path / "model.safetensors"), "is damaged")


def test_a_classifier_from_a_model_without_one_is_refused(saved):
    assert_clear(lambda: Classifier.from_pretrained(saved), "has no classifier")


# ==== door 3: the training CLI and its YAML =======================================================
def cli_error(main, argv, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    captured = capsys.readouterr()
    return info.value.code, captured.err


def assert_one_line(err: str, prog: str, match: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: error: "), err
    assert match.lower() in lines[0].lower(), err
    assert "Traceback" not in err


TRAIN_USAGE = [  # (id, extra argv, message text): all exit 2 before anything is written
    ("lr-g-zero", ["--lr-g", "0"], "lr_g (--lr-g) must be a number > 0, got 0.0"),
    ("lr-g-negative", ["--lr-g", "-1"], "lr_g (--lr-g) must be a number > 0"),
    ("lr-g-nan", ["--lr-g", "nan"], "lr_g (--lr-g) must be a number > 0"),
    ("lr-g-inf", ["--lr-g", "inf"], "lr_g (--lr-g) must be a number > 0"),
    ("lr-g-text", ["--lr-g", "fast"], "argument --lr-g: invalid float value: 'fast'"),
    ("lr-d-zero", ["--lr-d", "0"], "lr_d (--lr-d) must be a number > 0"),
    ("latent-dim-zero", ["--latent-dim", "0"], "latent_dim (--latent-dim) must be a whole number >= 1, got 0"),
    ("latent-dim-negative", ["--latent-dim", "-3"], "latent_dim (--latent-dim) must be a whole number >= 1"),
    ("latent-dim-float", ["--latent-dim", "2.5"], "argument --latent-dim: invalid int value: '2.5'"),
    ("n-critic-zero", ["--n-critic", "0"], "n_critic (--n-critic) must be a whole number >= 1"),
    ("n-critic-negative", ["--n-critic", "-2"], "n_critic (--n-critic) must be a whole number >= 1"),
    ("ema-negative", ["--ema-decay", "-1"], "ema_decay (--ema-decay) must be a number >= 0 and < 1"),
    ("ema-one", ["--ema-decay", "1"], "ema_decay (--ema-decay) must be a number >= 0 and < 1"),
    ("ema-above-one", ["--ema-decay", "1.5"], "ema_decay (--ema-decay) must be a number >= 0 and < 1"),
    ("ema-nan", ["--ema-decay", "nan"], "ema_decay (--ema-decay) must be a number"),
    ("max-steps-zero", ["--max-steps", "0"], "max_steps (--max-steps) must be a whole number >= 1"),
    ("max-steps-negative", ["--max-steps", "-5"], "max_steps (--max-steps) must be a whole number >= 1"),
    ("max-steps-float", ["--max-steps", "2.7"], "argument --max-steps: invalid int value: '2.7'"),
    ("abbreviation", ["--max-step", "3"], "unrecognized arguments: --max-step"),
    ("abbreviation-lr", ["--lr", "0.1"], "unrecognized arguments: --lr"),
    ("unknown-flag", ["--bogus", "1"], "unrecognized arguments: --bogus"),
    ("positional", ["extra"], "unrecognized arguments: extra"),
    ("batch-zero", ["--batch-size", "0"], "batch_size (--batch-size) must be a whole number >= 1"),
    ("batch-negative", ["--batch-size", "-1"], "batch_size (--batch-size) must be a whole number >= 1"),
    ("seed-negative", ["--seed", "-1"], "seed (--seed) must be a whole number from 0 to 4294967295, got -1"),
    ("seed-too-big", ["--seed", str(2**32)], "seed (--seed) must be a whole number from 0 to 4294967295"),
    ("seed-float", ["--seed", "1.5"], "argument --seed: invalid int value"),
    (
        "mixed-precision",
        ["--mixed-precision", "fp8"],
        "mixed_precision (--mixed-precision) must be one of no, fp16, bf16",
    ),
    ("arch", ["--arch", "foo"], "unknown architecture 'foo'"),
    (
        "optimizer",
        ["--optimizer", "sgd"],
        "optimizer (--optimizer) must be one of adam, adam-eps-in-sqrt, rmsprop, got 'sgd'",
    ),
    ("objective", ["--objective", "nope"], "nope"),
    ("variant", ["--variant", "nope"], "unknown variant 'nope'"),
    ("dataset", ["--dataset", "imagenet"], "unknown dataset 'imagenet'"),
    ("techniques-not-json", ["--techniques", "{bad"], "argument --techniques: not valid JSON"),
    ("techniques-list", ["--techniques", "[1]"], "must be a JSON object"),
    ("techniques-unknown", ["--techniques", '{"nope": true}'], "nope"),
    ("variant-options-unknown", ["--variant-options", '{"nope": 1}'], "nope"),
    ("variant-options-text", ["--variant-options", "x"], "argument --variant-options: not valid JSON"),
    ("lr-decay-start", ["--max-steps", "5", "--lr-decay-start", "10"], "lr_decay_start must be in [0, max_steps)"),
    ("stop-at-zero", ["--stop-at-step", "0"], "stop_at_step (--stop-at-step) must be a whole number >= 1"),
    ("stop-after-end", ["--max-steps", "5", "--stop-at-step", "9"], "stop_at_step must be in (0, max_steps]"),
    ("log-every-zero", ["--log-every", "0"], "log_every (--log-every) must be a whole number >= 1"),
    ("checkpoint-every-zero", ["--checkpoint-every", "0"], "checkpoint_every (--checkpoint-every) must be"),
    ("sample-every-zero", ["--sample-every", "0"], "sample_every (--sample-every) must be"),
    ("eval-every-zero", ["--eval-every", "0"], "eval_every (--eval-every) must be"),
    ("eval-samples-negative", ["--eval-samples", "-1"], "eval_samples (--eval-samples) must be 0 (off) or"),
    ("eval-samples-below-splits", ["--eval-samples", "5"], "or a whole number >= 10"),
    ("push-bad-id", ["--push-to-hub", "bad id"], "push_to_hub (--push-to-hub) must be a Hub repo id ORG/NAME"),
    ("push-deep-id", ["--push-to-hub", "a/b/c"], "must be a Hub repo id"),
    ("push-no-org", ["--push-to-hub", "justname"], "must be a Hub repo id of the form ORG/NAME"),
    ("push-double-dash", ["--push-to-hub", "org/na--me"], "must be a Hub repo id"),
]


@pytest.fixture
def run_folder(tmp_path) -> Path:
    return tmp_path / "run"


@pytest.mark.parametrize("argv, match", [c[1:] for c in TRAIN_USAGE], ids=[c[0] for c in TRAIN_USAGE])
def test_train_cli_usage_errors(argv, match, run_folder, capsys):
    from train.cli import main

    code, err = cli_error(main, ["--dataset", "synthetic", "--output-dir", str(run_folder), *argv], capsys)
    assert code == 2
    assert_one_line(err, "python -m train", match)
    assert not run_folder.exists()


def test_push_to_hub_without_a_token_stops_before_training(run_folder, capsys, monkeypatch, tmp_path):
    from train.cli import main

    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    code, err = cli_error(
        main, ["--dataset", "synthetic", "--output-dir", str(run_folder), "--push-to-hub", "me/model"], capsys
    )
    assert code == 2
    assert_one_line(err, "python -m train", "--push-to-hub me/model: no Hugging Face token")
    assert not run_folder.exists()


def test_push_to_hub_with_an_unreachable_endpoint_stops_before_training(run_folder, capsys, monkeypatch):
    import huggingface_hub

    from train.cli import main

    monkeypatch.setattr(huggingface_hub, "get_token", lambda: "hf_test")
    monkeypatch.setattr(huggingface_hub.constants, "ENDPOINT", "http://127.0.0.1:9")  # the discard port: refused
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    code, err = cli_error(
        main, ["--dataset", "synthetic", "--output-dir", str(run_folder), "--push-to-hub", "me/model"], capsys
    )
    assert code == 2
    assert_one_line(err, "python -m train", "--push-to-hub me/model: the Hub at")
    assert not run_folder.exists()


def test_push_access_is_checked_with_the_token_against_the_hub(hub_env):
    from train.hub_check import check_push_access

    assert check_push_access(hub_env.repo_id("preflight")) == "test-user"  # the loopback Hub's user for any token


def test_output_dir_and_data_dir_that_are_files(tmp_path, capsys):
    from train.cli import main

    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    code, err = cli_error(main, ["--output-dir", str(a_file)], capsys)
    assert code == 2
    assert_one_line(err, "python -m train", f"output_dir (--output-dir) {a_file} is a file, not a folder")
    code, err = cli_error(main, ["--output-dir", str(tmp_path / "run"), "--data-dir", str(a_file)], capsys)
    assert code == 2
    assert_one_line(err, "python -m train", "data_dir (--data-dir)")
    assert a_file.read_text() == "x" and not (tmp_path / "run").exists()


YAML_CASES = [  # (id, YAML text, message text)
    ("syntax", "variant: [dcgan\n", "is not valid YAML"),
    ("tab-indent", "variant: dcgan\n\tdataset: mnist\n", "is not valid YAML"),
    ("list", "- variant\n- dcgan\n", "must hold a mapping of option: value"),
    ("scalar", "dcgan\n", "must hold a mapping of option: value"),
    ("int-key", "1: dcgan\n", "must hold a mapping of option: value"),
    ("unknown-key", "learning_rate: 0.1\n", "unknown keys ['learning_rate']"),
    ("max-steps-float", "max_steps: 2.7\n", "max_steps (--max-steps) must be a whole number >= 1, got 2.7 (float)"),
    ("max-steps-text", "max_steps: many\n", "max_steps (--max-steps) must be a whole number >= 1, got 'many' (str)"),
    ("lr-text", "lr_g: fast\n", "lr_g (--lr-g) must be a number > 0, got 'fast' (str)"),
    ("lr-zero", "lr-g: 0\n", "lr_g (--lr-g) must be a number > 0, got 0"),
    ("seed-negative", "seed: -1\n", "seed (--seed) must be a whole number from 0"),
    ("batch-bool", "batch_size: true\n", "batch_size (--batch-size) must be a whole number >= 1, got True (bool)"),
    ("techniques-list", "techniques: [1]\n", "techniques (--techniques) must be a mapping of option: value"),
    ("arch-kwargs-text", "arch_kwargs: wide\n", "arch_kwargs (--arch-kwargs) must be a mapping"),
    ("variant-null", "variant: null\n", "variant (--variant) must be a non-empty text, got None"),
    ("ema-text", "ema_decay: '0.9'\n", "ema_decay (--ema-decay) must be a number >= 0 and < 1, got '0.9' (str)"),
    ("keep-zero", "keep_checkpoints: 0\n", "keep_checkpoints (--keep-checkpoints) must be a whole number >= 1"),
    ("workers-negative", "num_workers: -1\n", "num_workers (--num-workers) must be a whole number >= 0"),
    ("beta-one", "beta1: 1.0\n", "beta1 (--beta1) must be a number >= 0 and < 1"),
    ("eval-during-training", "eval_samples_during_training: 3\n", "eval_samples_during_training"),
]


@pytest.mark.parametrize("text, match", [c[1:] for c in YAML_CASES], ids=[c[0] for c in YAML_CASES])
def test_train_yaml_errors_name_the_key(text, match, tmp_path, run_folder, capsys):
    from train.cli import main

    config = tmp_path / "run.yaml"
    config.write_text(text)
    code, err = cli_error(
        main, ["--config", str(config), "--dataset", "synthetic", "--output-dir", str(run_folder)], capsys
    )
    assert code == 2
    assert_one_line(err, "python -m train", match)
    assert config.read_text() == text and not run_folder.exists()


def test_train_yaml_file_problems(tmp_path, run_folder, capsys):
    from train.cli import main

    code, err = cli_error(main, ["--config", str(tmp_path / "missing.yaml")], capsys)
    assert code == 2
    assert_one_line(err, "python -m train", "missing.yaml does not exist")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"variant: \xff\xfe\n")
    code, err = cli_error(main, ["--config", str(binary), "--output-dir", str(run_folder)], capsys)
    assert code == 2
    assert_one_line(err, "python -m train", "is not UTF-8 text")
    unknown_arch_option = tmp_path / "arch.yaml"
    unknown_arch_option.write_text("variant: gan\narch_kwargs: {bogus: 1}\n")
    code, err = cli_error(
        main, ["--config", str(unknown_arch_option), "--dataset", "synthetic", "--output-dir", str(run_folder)], capsys
    )
    assert code == 2
    assert_one_line(err, "python -m train", "bogus")
    assert not run_folder.exists()


def test_a_yaml_exponent_without_a_dot_is_the_number_it_reads_as(tmp_path):
    from train.config import TrainConfig

    config = tmp_path / "run.yaml"
    config.write_text("lr_g: 1e-4\nlr_d: 2.0e-4\n")  # PyYAML reads the first as text
    cfg = TrainConfig.from_yaml(config)
    assert (cfg.lr_g, cfg.lr_d) == (1e-4, 2e-4)


def idx_bytes(data: torch.Tensor) -> bytes:
    import numpy as np

    array = data.numpy().astype(np.uint8)
    header = b"\x00\x00\x08" + bytes([array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.tobytes()


DATA_CASES = [  # (id, {file name: bytes}, message text): exit 1 at run time, naming the file
    (
        "images-gz-garbage",
        {"train-images-idx3-ubyte.gz": b"not gzip at all", "train-labels-idx1-ubyte": b""},
        "train-images-idx3-ubyte.gz is damaged",
    ),
    (
        "labels-gz-truncated",
        {"train-images-idx3-ubyte": None, "train-labels-idx1-ubyte.gz": "truncated-gzip"},
        "train-labels-idx1-ubyte.gz is damaged",
    ),
    ("labels-missing", {"train-images-idx3-ubyte": None}, "but not train-labels-idx1-ubyte[.gz]"),
    ("images-missing", {"train-labels-idx1-ubyte": "labels"}, "but not train-images-idx3-ubyte[.gz]"),
    (
        "images-not-idx",
        {"train-images-idx3-ubyte": b"\x01\x02\x03\x04" * 10, "train-labels-idx1-ubyte": "labels"},
        "train-images-idx3-ubyte is not an IDX file",
    ),
    (
        "images-short",
        {"train-images-idx3-ubyte": b"\x00\x00", "train-labels-idx1-ubyte": "labels"},
        "train-images-idx3-ubyte is not an IDX file",
    ),
    (
        "counts-differ",
        {"train-images-idx3-ubyte": None, "train-labels-idx1-ubyte": "short-labels"},
        "holds 40 images but",
    ),
]


@pytest.mark.parametrize("files, match", [c[1:] for c in DATA_CASES], ids=[c[0] for c in DATA_CASES])
def test_damaged_dataset_files_are_named(files, match, tmp_path, run_folder, capsys):
    import gzip

    from train.cli import main

    data = tmp_path / "mnist"
    data.mkdir()
    images = idx_bytes(torch.zeros(40, 28, 28, dtype=torch.uint8))
    contents = {
        None: images,
        "labels": idx_bytes(torch.zeros(40, dtype=torch.uint8)),
        "short-labels": idx_bytes(torch.zeros(30, dtype=torch.uint8)),
        "truncated-gzip": gzip.compress(idx_bytes(torch.zeros(40, dtype=torch.uint8)))[:20],
    }
    for name, content in files.items():
        (data / name).write_bytes(content if isinstance(content, bytes) else contents[content])
    before = tree_state(data)
    code, err = cli_error(
        main,
        [
            "--dataset",
            "mnist",
            "--data-dir",
            str(data),
            "--output-dir",
            str(run_folder),
            "--batch-size",
            "8",
            "--max-steps",
            "1",
        ],
        capsys,
    )
    assert code == 1
    assert_one_line(err, "python -m train", match)
    assert tree_state(data) == before
    assert not (run_folder / "train_config.json").exists() and not (run_folder / "checkpoints").exists()


def test_a_batch_larger_than_the_dataset_fails_before_a_record_is_written(run_folder, capsys):
    from train.cli import main

    code, err = cli_error(
        main, ["--dataset", "synthetic", "--output-dir", str(run_folder), "--batch-size", "1000"], capsys
    )
    assert code == 1
    assert_one_line(err, "python -m train", "fewer than one batch of 1000")
    assert not (run_folder / "train_config.json").exists() and not (run_folder / "checkpoints").exists()


# ==== door 4: the metrics CLI =====================================================================
METRICS_USAGE = [  # (id, argv after MODEL, message text): exit 2
    ("num-samples-zero", ["--num-samples", "0"], "--num-samples must be at least 1, got 0"),
    ("num-samples-below-splits", ["--num-samples", "5"], "needs at least 10 samples; --num-samples is 5"),
    ("num-samples-negative", ["--num-samples", "-1"], "--num-samples must be at least 1"),
    ("num-samples-text", ["--num-samples", "many"], "argument --num-samples: invalid int value"),
    ("num-samples-float", ["--num-samples", "2.5"], "argument --num-samples: invalid int value"),
    ("splits-zero", ["--splits", "0"], "--splits must be at least 1"),
    ("batch-zero", ["--batch-size", "0"], "--batch-size must be at least 1"),
    ("kid-subsets-zero", ["--kid-subsets", "0"], "--kid-subsets must be at least 1"),
    ("kid-subset-size-one", ["--kid-subset-size", "1"], "--kid-subset-size must be at least 2"),
    ("seed-negative", ["--seed", "-1"], "--seed must be at least 0"),
    ("seed-too-big", ["--seed", str(2**64)], "--seed must be at most"),
    ("threads-zero", ["--threads", "0"], "--threads must be at least 1"),
    ("metrics-unknown", ["--metrics", "precision"], "unknown metric(s) precision"),
    ("metrics-empty", ["--metrics", ","], "(none given)"),
    ("scorer-unknown", ["--scorer", "nope"], "--scorer: unknown scorer 'nope'"),
    ("device-bogus", ["--device", "gpu0"], "--device: 'gpu0' is not a device"),
    ("reference-split", ["--reference-split", "val"], "argument --reference-split: invalid choice"),
    ("abbreviation", ["--num-sample", "20"], "unrecognized arguments: --num-sample"),
    ("unknown-flag", ["--bogus"], "unrecognized arguments: --bogus"),
    ("output-missing-folder", ["--output", "/nonexistent/dir/out.json"], "folder /nonexistent/dir does not exist"),
]


@pytest.mark.parametrize("argv, match", [c[1:] for c in METRICS_USAGE], ids=[c[0] for c in METRICS_USAGE])
def test_metrics_cli_usage_errors(argv, match, saved, capsys):
    from gan_hub.metrics.__main__ import main

    before = tree_state(saved)
    code, err = cli_error(main, [str(saved), *argv], capsys)
    assert code == 2
    assert_one_line(err, "python -m gan_hub.metrics", match)
    assert tree_state(saved) == before


def test_metrics_cli_output_that_is_a_folder_and_update_of_a_hub_id(tmp_path, capsys):
    from gan_hub.metrics.__main__ import main

    code, err = cli_error(main, [str(tmp_path), "--output", str(tmp_path)], capsys)
    assert code == 2
    assert_one_line(err, "python -m gan_hub.metrics", "is a folder; give a file name")
    code, err = cli_error(main, ["org/model", "--update-model"], capsys)
    assert code == 2
    assert_one_line(err, "python -m gan_hub.metrics", "--update-model needs MODEL to be a local folder")


METRICS_RUNTIME = [  # (id, how to spoil a copy of the model folder / the argv, message text): exit 1 (2: missing)
    ("model-missing", "missing", [], "no such folder"),
    ("weights-damaged", "weights", [], "is damaged"),
    ("config-damaged", "config", [], "config.json is not valid JSON"),
    ("metrics-damaged", "metrics", [], "metrics.json is not valid JSON"),
    ("scorer-weights-missing", None, ["--weights", "/nonexistent/w.safetensors"], "does not exist"),
    ("scorer-weights-damaged", None, ["--weights", "JUNK"], "is damaged"),
    ("kid-without-real-data", None, ["--metrics", "kid", "--data-dir", "EMPTY"], "no IDX files in"),
]


@pytest.mark.parametrize("spoil, argv, match", [c[1:] for c in METRICS_RUNTIME], ids=[c[0] for c in METRICS_RUNTIME])
def test_metrics_cli_runtime_errors(spoil, argv, match, saved, tmp_path, capsys, monkeypatch):
    import shutil

    from gan_hub.metrics.__main__ import main

    monkeypatch.setenv("GAN_HUB_DATA", str(tmp_path / "no-data"))
    monkeypatch.setattr("torchvision.datasets.MNIST", _offline_mnist)
    folder = tmp_path / "model"
    shutil.copytree(saved, folder)
    if spoil == "missing":
        shutil.rmtree(folder)
    elif spoil == "weights":
        (folder / "model.safetensors").write_bytes(flip_middle(b"\x00" * 8) + b"junk")
    elif spoil == "config":
        (folder / "config.json").write_text("{")
    elif spoil == "metrics":
        (folder / "metrics.json").write_text("{")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"junk")
    (tmp_path / "empty").mkdir()
    argv = [{"JUNK": str(junk), "EMPTY": str(tmp_path / "empty")}.get(a, a) for a in argv]
    before = tree_state(tmp_path)
    code, err = cli_error(main, [str(folder), "--num-samples", "20", *argv], capsys)
    assert code == (2 if spoil == "missing" else 1)  # a MODEL folder that is not there is a bad argument
    assert_one_line(err, "python -m gan_hub.metrics", match)
    assert tree_state(tmp_path) == before


def _offline_mnist(*args, **kwargs):
    raise RuntimeError("offline: no download in tests")


# ==== the real commands: exit status, one line on stderr, no traceback ============================
def test_the_commands_print_one_line_and_the_right_exit_status(tmp_path, saved):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cases = [
        (["-m", "train", "--lr-g", "0", "--output-dir", str(tmp_path / "run")], 2, "python -m train: error: lr_g"),
        (
            ["-m", "train", "--dataset", "synthetic", "--batch-size", "1000", "--output-dir", str(tmp_path / "run")],
            1,
            "python -m train: error: dataset synthetic has 256 images",
        ),
        (
            ["-m", "gan_hub.metrics", str(tmp_path / "nope"), "--num-samples", "20"],
            2,
            "python -m gan_hub.metrics: error: MODEL: no such folder",
        ),
        (
            ["-m", "gan_hub.metrics", str(tmp_path / "broken"), "--num-samples", "20"],
            1,
            "python -m gan_hub.metrics: error:",
        ),
    ]
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.json").write_text("{")
    for argv, status, start in cases:
        result = subprocess.run(
            [sys.executable, *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        assert result.returncode == status, result.stderr
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith(start), result.stderr
    assert not (tmp_path / "run" / "train_config.json").exists()
