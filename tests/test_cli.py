"""The gan-hub command line: help with examples, one-line errors with exit code 2, and each command's result."""

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from gan_hub import Generator
from gan_hub.cli import COMMANDS, main
from gan_hub.sampling import image_grid

ZOO = Path(__file__).resolve().parents[1] / "model_zoo"


def run(capsys, *args) -> tuple[int, str, str]:
    try:
        code = main([str(a) for a in args])
    except SystemExit as exit_:
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


def test_help_lists_every_command_with_examples(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "examples:" in out
    for name in COMMANDS:
        assert f"    {name} " in out and f"gan-hub {name}" in out
    for name in COMMANDS:
        code, out, _ = run(capsys, name, "--help")
        assert code == 0 and f"usage: gan-hub {name}" in out and "examples:" in out, name


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "name a command"),
        (["bogus"], "invalid choice: 'bogus'"),
        (["sample"], "required: MODEL"),
        (["sample", "no/such/folder"], "no such folder: no/such/folder"),
        (["sample", ZOO / "dcgan-mnist", "-n", "0"], "must be at least 1"),
        (["sample", ZOO / "dcgan-mnist", "--labels", "3"], "not class-conditional"),
        (["sample", ZOO / "cgan-mnist", "-n", "4", "--labels", "1,2"], "2 classes for 4 samples"),
        (["sample", ZOO / "dcgan-mnist", "-o", "out.txt"], "a grid is written as .png"),
        (["train", "--max-steps", "ten"], "invalid int value: 'ten'"),
        (["train", "--variant", "nope"], "nope"),
        (["score", "no/such/folder"], "no/such/folder"),
        (["score", ZOO / "dcgan-mnist", "--num-samples", "0"], "--num-samples"),
        (["push", ZOO / "dcgan-mnist", "not a repo"], "not a Hub repo id"),
        (["list", "no/such/folder"], "does not exist"),
    ],
)
def test_bad_arguments_get_one_line_and_exit_code_2(capsys, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, *args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "error:" in err and message in err, err
    assert "Traceback" not in err


def test_sample_grid_is_the_generated_images(capsys, tmp_path):
    out = tmp_path / "grid.png"
    code, printed, _ = run(
        capsys,
        "sample",
        ZOO / "cgan-mnist",
        "-n",
        "12",
        "--seed",
        "3",
        "--labels",
        "7",
        "--truncation",
        "0.8",
        "--nrow",
        "4",
        "-o",
        out,
    )
    assert code == 0 and f"wrote {out}" in printed
    images = Generator.from_pretrained(ZOO / "cgan-mnist").generate(12, seed=3, labels=[7] * 12, truncation=0.8)
    assert list(Image.open(out).getdata()) == list(image_grid(images, nrow=4).getdata())


def test_sample_interpolation_gif_and_strip(capsys, tmp_path):
    code, _, _ = run(
        capsys,
        "sample",
        ZOO / "cgan-mnist",
        "--seed",
        "0",
        "--interpolate",
        "5",
        "--steps",
        "6",
        "--labels",
        "1,7",
        "-o",
        tmp_path / "walk.gif",
    )
    assert code == 0
    gif = Image.open(tmp_path / "walk.gif")
    assert gif.n_frames == 2 * 6 - 2  # there and back, end points once
    code, _, _ = run(
        capsys,
        "sample",
        ZOO / "cgan-mnist",
        "--interpolate",
        "5",
        "--steps",
        "6",
        "--labels",
        "1,7",
        "-o",
        tmp_path / "walk.png",
    )
    frames = Generator.from_pretrained(ZOO / "cgan-mnist").interpolate(0, 5, steps=6, label_a=1, label_b=7)
    assert code == 0 and list(Image.open(tmp_path / "walk.png").getdata()) == list(image_grid(frames, nrow=6).getdata())


def test_list_shows_zoo_and_run_models_with_scores(capsys, tmp_path):
    runs = tmp_path / "runs"
    shutil.copytree(ZOO / "cgan-mnist", runs / "my-run" / "model", ignore=shutil.ignore_patterns("*.safetensors"))
    code, out, _ = run(capsys, "list", "--zoo", ZOO, "--runs", runs)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["name", "kind", "variant", "dataset", "path", "scores"]
    row = next(line for line in lines if line.startswith("dcgan-mnist"))
    assert row.split()[1:4] == ["zoo", "dcgan", "mnist"] and "classifier IS@10k 9.031 ± 0.048" in row
    assert any(line.startswith("my-run ") and " run " in line for line in lines)
    code, out, _ = run(capsys, "list", "--zoo", "", "--runs", runs, "--json")
    (entry,) = json.loads(out)
    assert entry["name"] == "my-run" and entry["variant"] == "cgan"
    assert {s["name"] for s in entry["scores"]} >= {"classifier IS@10k", "classifier FID@10k"}
    assert all("scorer" in s and "num_samples" in s for s in entry["scores"])  # scores keep their protocol


def test_train_delegates_to_the_trainer(capsys, tmp_path):
    from train.cli import list_variants_text

    code, out, _ = run(capsys, "train", "--list-variants")
    assert code == 0 and out.strip() == list_variants_text()
    code, out, _ = run(
        capsys,
        "train",
        "--variant",
        "gan",
        "--arch",
        "mlp",
        "--dataset",
        "synthetic",
        "--max-steps",
        "2",
        "--batch-size",
        "8",
        "--eval-samples",
        "0",
        "--output-dir",
        tmp_path / "run",
    )
    assert code == 0 and (tmp_path / "run" / "model" / "model.safetensors").is_file()
    code, out, _ = run(capsys, "list", "--zoo", "", "--runs", tmp_path)
    assert "run " in out and "gan " in out


def test_push_refuses_a_folder_that_does_not_load(capsys, tmp_path, hub_env):
    broken = tmp_path / "broken"
    shutil.copytree(ZOO / "dcgan-mnist", broken)
    from safetensors.torch import load_file, save_file

    state = load_file(broken / "model.safetensors")
    state.pop(next(iter(state)))
    save_file(state, broken / "model.safetensors")
    repo_id = hub_env.repo_id("broken")
    code, _, err = run(capsys, "push", broken, repo_id)
    assert code == 2 and "missing" in err.lower()
    assert not any(repo_id in path for _, path in hub_env.requests)  # nothing was sent to the Hub
    code, _, _ = run(capsys, "push", ZOO / "dcgan-mnist", repo_id, "--private")
    assert code == 0 and Generator.from_pretrained(repo_id).config.variant == "dcgan"
