"""bench/train_speed.py runs the trainer and the plain loop side by side, in fp32 and under bf16 autocast."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("precision", ["no", "bf16"])
def test_the_bench_times_both_loops_and_reports_their_ratio(precision):
    # its own process, as a user runs it: accelerate's precision is fixed once per process
    argv = ["--variants", "dcgan", "--steps", "2", "--rounds", "1", "--warmup", "1", "--data-dir", ""]
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "train_speed.py"), *argv, "--mixed-precision", precision],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    row = next(line for line in done.stdout.splitlines() if line.startswith("| dcgan |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1] == "synthetic" and cells[3] == ("cpu bf16" if precision == "bf16" else "cpu")
    trainer_rate, plain_rate, ratio = float(cells[4]), float(cells[5]), float(cells[6].rstrip("x"))
    assert trainer_rate > 0 and plain_rate > 0 and ratio > 0
