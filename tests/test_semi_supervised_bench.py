"""bench/semi_supervised_mnist.py's table: seeds of several result files (trained side by side) in one table,
finished seeds' mean and std, and seeds still training compared at the last epoch they all finished."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

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
