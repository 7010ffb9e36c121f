"""The training CLI end to end on the synthetic dataset: export layout, exact resume, errors, two processes."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from gan_hub import Generator, list_variants
from tests.conftest import two_process_launcher
from train.checkpoints import list_checkpoints
from train.trainer import linear_decay_factor

ROOT = Path(__file__).resolve().parents[1]
FAST = [
    "--dataset",
    "synthetic",
    "--batch-size",
    "16",
    "--checkpoint-every",
    "3",
    "--sample-every",
    "3",
    "--log-every",
    "1",
    "--eval-samples",
    "0",
]


def run_train(*args: str, launcher: list[str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = (launcher or [sys.executable]) + ["-m", "train", *args]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"{cmd} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def weights(folder: Path, name: str = "model.safetensors") -> dict[str, torch.Tensor]:
    return load_file(str(folder / name))


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("straight")
    run_train("--variant", "cgan", "--output-dir", str(out), "--max-steps", "6", *FAST)
    return out


def test_export_is_a_hub_repo_that_loads(straight_run):
    model = straight_run / "model"
    assert {"config.json", "model.safetensors", "discriminator.safetensors", "README.md", "samples.png"} <= {
        p.name for p in model.iterdir()
    }
    g = Generator.from_pretrained(model)
    assert g.config.variant == "cgan" and g.config.num_classes == 4 and g.config.image_size == 16
    provenance = g.config.provenance
    assert provenance["steps"] == 6 and provenance["seed"] == 0 and provenance["training_config"]["max_steps"] == 6
    assert "torch" in provenance["versions"] and "git_commit" in provenance
    assert g.generate(4, seed=0).shape == (4, 1, 16, 16)
    assert (straight_run / "samples" / "step_00000003.png").is_file()
    assert list((straight_run / "tensorboard").rglob("events.out.tfevents*"))


def test_resumed_run_equals_uninterrupted_run(straight_run, tmp_path):
    run_train("--variant", "cgan", "--output-dir", str(tmp_path), "--max-steps", "3", *FAST)
    assert [s for s, _ in list_checkpoints(tmp_path / "checkpoints")] == [3]
    result = run_train("--variant", "cgan", "--output-dir", str(tmp_path), "--max-steps", "6", *FAST)
    assert "resumed from" in result.stdout + result.stderr
    assert_same(weights(tmp_path / "model"), weights(straight_run / "model"))
    assert_same(
        weights(tmp_path / "model", "discriminator.safetensors"),
        weights(straight_run / "model", "discriminator.safetensors"),
    )


def test_half_written_checkpoint_is_ignored(straight_run, tmp_path):
    ckpts = tmp_path / "checkpoints"
    (ckpts / "step_00000009").mkdir(parents=True)  # a save killed before its trainer state was written
    (ckpts / ".staging_step_00000012").mkdir()
    assert list_checkpoints(ckpts) == []


def test_list_variants_prints_each_with_a_summary():
    out = run_train("--list-variants").stdout.strip().splitlines()
    assert [line.split()[0] for line in out] == list_variants()
    assert all(len(line.split()) > 3 for line in out)


def test_bad_options_are_clear_errors(tmp_path):
    result = run_train("--variant", "dcgan", "--bogus", "1", check=False)
    assert result.returncode == 2 and "unrecognized arguments: --bogus" in result.stderr
    result = run_train("--variant", "nope", check=False)
    assert result.returncode == 2 and "unknown variant 'nope'" in result.stderr and "dcgan" in result.stderr
    result = run_train("--dataset", "imagenet", check=False)
    assert result.returncode == 2 and "unknown dataset 'imagenet'" in result.stderr and "mnist" in result.stderr
    config = tmp_path / "bad.yaml"
    config.write_text("variant: dcgan\nlearning_rate: 0.1\n")
    result = run_train("--config", str(config), check=False)
    assert result.returncode == 2 and "learning_rate" in result.stderr


def test_yaml_config_and_command_line_override(tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text(
        "variant: gan\ndataset: synthetic\nmax-steps: 50\nbatch_size: 16\neval_samples: 0\n"
        f"output_dir: {tmp_path / 'out'}\n"
    )
    run_train("--config", str(config), "--max-steps", "2")
    g = Generator.from_pretrained(tmp_path / "out" / "model")
    assert g.config.variant == "gan" and g.config.arch == "mlp" and g.config.provenance["steps"] == 2


def test_two_processes_with_accelerate_launch(tmp_path):
    # On a CPU-only machine the trainer joins the processes in a gloo group (see Trainer).
    launcher = two_process_launcher()
    run_train("--variant", "dcgan", "--output-dir", str(tmp_path), "--max-steps", "4", *FAST, launcher=launcher)
    g = Generator.from_pretrained(tmp_path / "model")
    assert g.config.provenance["num_processes"] == 2
    # Each rank saved its own noise state; DDP kept one set of weights (rank 0 writes them).
    assert {p.name for p in (tmp_path / "checkpoints" / "step_00000003").glob("noise_rng_*")} == {
        "noise_rng_0.safetensors",
        "noise_rng_1.safetensors",
    }


def test_linear_learning_rate_decay():
    assert [linear_decay_factor(s, None, 10) for s in (0, 9)] == [1.0, 1.0]
    assert [linear_decay_factor(s, 6, 10) for s in (0, 5, 6, 8, 10)] == [1.0, 1.0, 1.0, 0.5, 0.0]


@pytest.mark.parametrize("optimizer", ["adam", "adam-eps-in-sqrt"])
def test_resume_is_exact_with_learning_rate_decay(tmp_path, optimizer):
    """A run killed after its step-3 checkpoint (simulated by removing what came later) ends the same."""
    args = ["--lr-decay-start", "2", "--variant", "dcgan", "--optimizer", optimizer, "--max-steps", "6", *FAST]
    run_train("--output-dir", str(tmp_path), *args)
    finished = weights(tmp_path / "model")
    shutil.rmtree(tmp_path / "model")
    shutil.rmtree(tmp_path / "checkpoints" / "step_00000006")
    resumed = run_train("--output-dir", str(tmp_path), *args)
    assert "resumed from" in resumed.stdout + resumed.stderr
    assert_same(weights(tmp_path / "model"), finished)


def test_stop_at_step_keeps_the_schedule_of_max_steps(tmp_path):
    # A run stopped at step 4 of an 8-step schedule equals the first 4 steps of the full run (resume is exact),
    # and records both numbers in its provenance.
    run_train(
        "--variant",
        "gan",
        "--output-dir",
        str(tmp_path / "full"),
        "--max-steps",
        "8",
        "--lr-decay-start",
        "2",
        *FAST,
        "--checkpoint-every",
        "4",
    )
    run_train(
        "--variant",
        "gan",
        "--output-dir",
        str(tmp_path / "part"),
        "--max-steps",
        "8",
        "--lr-decay-start",
        "2",
        "--stop-at-step",
        "4",
        *FAST,
        "--checkpoint-every",
        "4",
    )
    g = Generator.from_pretrained(tmp_path / "part" / "model")
    assert g.config.provenance["steps"] == 4
    assert (
        g.config.provenance["training_config"]["max_steps"] == 8
        and g.config.provenance["training_config"]["stop_at_step"] == 4
    )
    full_at_4 = load_file(str(tmp_path / "full" / "checkpoints" / "step_00000004" / "ema.safetensors"))
    part_at_4 = load_file(str(tmp_path / "part" / "checkpoints" / "step_00000004" / "ema.safetensors"))
    assert_same(full_at_4, part_at_4)


def start_train(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "train", *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def kill_when(process: subprocess.Popen, ready, timeout: float = 300.0) -> bool:
    """SIGKILL ``process`` as soon as ``ready()`` holds (polled every 0.5 ms); False if it ended first."""
    import time

    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        if ready():
            process.kill()
            process.wait()
            return True
        time.sleep(0.0005)
    process.wait()
    return False


def test_runs_killed_at_random_moments_resume_to_the_uninterrupted_weights(straight_run, tmp_path):
    """kill -9 at random moments (one inside a checkpoint write), resume, and get the uninterrupted run's weights.

    The kill points are drawn afresh on every run of the suite; the seed is printed for a failing draw."""
    import random
    import time

    seed = random.randrange(2**32)
    print(f"kill point seed: {seed}")
    rng = random.Random(seed)
    args = ["--variant", "cgan", "--output-dir", str(tmp_path), "--max-steps", "6", *FAST]
    ckpts = tmp_path / "checkpoints"
    started = time.monotonic()
    at_random = started + rng.uniform(0.0, 2.0)  # start-up: imports, data, networks
    kill_points = [
        ("at a random moment of start-up", lambda: time.monotonic() >= at_random),
        ("inside a checkpoint write", lambda: any(ckpts.glob(".staging_step_*"))),
        ("mid-run, after the first checkpoint", lambda: (ckpts / "step_00000003" / "trainer_state.json").is_file()),
    ]
    rng.shuffle(kill_points)
    killed = []
    for name, ready in kill_points:
        if name == "at a random moment of start-up":
            at_random = time.monotonic() + rng.uniform(0.0, 2.0)
        if kill_when(start_train(*args), ready):
            killed.append(name)
        if (tmp_path / "model" / "model.safetensors").is_file():
            break  # a run got to the end before its kill point: nothing left to interrupt
    print(f"killed: {killed}")
    assert "inside a checkpoint write" in killed or (tmp_path / "model").is_dir(), killed
    run_train(*args)
    assert_same(weights(tmp_path / "model"), weights(straight_run / "model"))
    assert_same(
        weights(tmp_path / "model", "discriminator.safetensors"),
        weights(straight_run / "model", "discriminator.safetensors"),
    )
    leftovers = [p.name for p in [*tmp_path.iterdir(), *ckpts.iterdir()] if p.name.startswith(".")]
    assert (
        leftovers == []
        and json.loads((tmp_path / "train_config.json").read_text())["training_config"]["max_steps"] == 6
    )

    # A complete checkpoint whose bytes were flipped on disk is named, skipped, and the older one used.
    damaged = ckpts / "step_00000006" / "model.safetensors"
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    shutil.rmtree(tmp_path / "model")
    result = run_train(*args)
    output = result.stdout + result.stderr
    assert f"{damaged} is corrupted" in output and "Traceback" not in output
    assert "resumed from" in output and "step_00000003 at step 3" in output
    assert_same(weights(tmp_path / "model"), weights(straight_run / "model"))
