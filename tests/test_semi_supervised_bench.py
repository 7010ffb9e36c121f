"""bench/semi_supervised_mnist.py's table: seeds of several result files (trained side by side) in one table,
finished seeds' mean and std, and seeds still training compared at the last epoch they all finished."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import semi_supervised_mnist as bench  # noqa: E402


def seed_file(tmp_path: Path, seed: int, errors_by_epoch: dict[int, int], final: int | None = None) -> Path:
    record = {"epochs": {str(e): {"test_errors": n} for e, n in errors_by_epoch.items()}, "wall_seconds": 60.0}
    if final is not None:
        record["test_errors"] = final
    path = tmp_path / f"seed{seed}.json"
    path.write_text(json.dumps({"seeds": {str(seed): record}}))
    return path


def test_running_seeds_are_compared_at_the_last_epoch_all_of_them_finished(tmp_path, capsys):
    files = [
        seed_file(tmp_path, 0, {1: 900, 2: 500, 3: 400}),
        seed_file(tmp_path, 1, {1: 800, 2: 300}),
        seed_file(tmp_path, 2, {1: 700, 2: 400, 3: 350, 4: 300}),
    ]
    assert bench.main(["--table-only", "--merge", *map(str, files)]) == 0
    out = capsys.readouterr().out
    assert "| 0 | 3 (running) | 400 |" in out and "| 1 | 2 (running) | 300 |" in out
    assert "| mean ± std at epoch 2 (3 seeds, still training) | 2 | **400.0 ± 100.0** | 4.00 % | |" in out
    assert "| paper (feature matching) | | 93 ± 6.5 |" in out


def test_finished_seeds_give_the_mean_and_training_needs_the_data(tmp_path, capsys):
    files = [seed_file(tmp_path, 0, {10: 120}, final=120), seed_file(tmp_path, 1, {10: 100}, final=100)]
    bench.main(["--table-only", "--merge", *map(str, files)])
    out = capsys.readouterr().out
    assert "| mean ± std (2 seeds) |  | **110.0 ± 14.1** | 1.10 % | |" in out and "still training" not in out
    with pytest.raises(SystemExit) as err:
        bench.main(["--seeds", "0"])
    assert err.value.code == 2
    assert "--data-dir (the folder with the MNIST IDX files) is needed to train" in capsys.readouterr().err
    with pytest.raises(SystemExit) as err:
        bench.main(["--epochs", "300", "--lr-decay-epoch", "300", "--data-dir", "x"])
    assert err.value.code == 2
    assert "--lr-decay-epoch must be in [0, --epochs) = [0, 300), got 300" in capsys.readouterr().err


def test_a_finished_seed_is_adopted_into_the_zoo_with_a_preset_that_reproduces_it(tmp_path, capsys):
    """--adopt SEED: the zoo gets that seed's model and the preset `python -m train --config` retrains it
    from, exactly (the zoo's retrain then finds it current); an unfinished seed is refused."""
    import subprocess

    import torch
    from safetensors.torch import load_file

    from gan_hub import Generator
    from train.zoo import Entry, is_current, preset_notes

    results, presets, zoo = tmp_path / "results.json", tmp_path / "presets", tmp_path / "zoo"
    presets.mkdir()
    train_args = ["--dataset", "synthetic", "--seeds", "0", "--epochs", "2", "--batch-size", "32", "--labels", "8"]
    train_args += ["--arch-kwargs", '{"hidden_dim": 16}', "--runs", str(tmp_path / "runs"), "--output", str(results)]
    threads = torch.get_num_threads()
    try:
        assert bench.main(train_args) == 0  # trains on one thread (--threads 1)
    finally:
        torch.set_num_threads(threads)
    record = json.loads(results.read_text())["seeds"]["0"]
    assert set(record["epochs"]) == {"1", "2"} and record["exported_matches_training"]
    adopt = ["--adopt", "0", "--output", str(results), "--presets", str(presets), "--zoo", str(zoo)]
    assert bench.main(adopt) == 0
    preset = presets / "semi-supervised-synthetic.yaml"
    assert is_current(Entry("semi-supervised-synthetic", preset), zoo)
    notes = preset_notes(preset)
    assert (
        f"test errors {record['test_errors']} of 256" in notes
        and "a different schedule from the paper's: 2 epochs (16 steps" in notes
        and "falling linearly to 0 from epoch 1," in notes  # two thirds of the epochs, as the authors' 200 of 300
    )
    assert yaml.safe_load(preset.read_text())["lr_decay_start"] == 8  # epoch 1 of 8 steps each
    assert json.loads((zoo / "semi-supervised-synthetic" / "metrics.json").read_text())["training"]["recipe"] == notes
    again = tmp_path / "again"
    subprocess.run(  # on one thread, as the bench trains: float sums depend on the thread count
        [sys.executable, "-m", "train", "--config", str(preset), "--output-dir", str(again)],
        cwd=Path(bench.ROOT),
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        check=True,
        capture_output=True,
    )
    for weights in ("model.safetensors", "discriminator.safetensors"):  # the run the zoo model was exported from
        trained = load_file(str(Path(record["model_dir"]) / weights))
        assert trained.keys() == (retrained := load_file(str(again / "model" / weights))).keys()
        assert all(torch.equal(trained[k], retrained[k]) for k in trained), weights
    adopted = Generator.from_pretrained(zoo / "semi-supervised-synthetic")
    assert adopted.config.provenance["resolved"]["optimizer"] == "adam-eps-in-sqrt"  # the authors' Adam
    assert adopted.config.provenance["steps"] == 16 and "discriminator.safetensors" in {
        p.name for p in (zoo / "semi-supervised-synthetic").iterdir()
    }
    unfinished = tmp_path / "unfinished.json"
    unfinished.write_text(json.dumps({"seeds": {"3": {"epochs": {"40": {"test_errors": 150}}}}}))
    with pytest.raises(SystemExit, match="seed 3 has not finished its run \\(at epoch 40\\)"):
        bench.main(["--adopt", "3", "--output", str(unfinished), "--presets", str(presets), "--zoo", str(zoo)])


def test_the_most_frequent_mistakes_are_named_by_true_and_predicted_class():
    import torch

    labels = torch.tensor([4, 4, 4, 9, 9, 1, 7, 7, 7, 7])
    predicted = torch.tensor([9, 9, 4, 4, 9, 1, 1, 1, 2, 7])
    assert bench.top_confusions(predicted, labels) == {"4->9": 2, "7->1": 2, "7->2": 1}
    assert bench.top_confusions(labels, labels) == {}
