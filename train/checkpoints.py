"""Resumable checkpoints: accelerate state plus the EMA generator and step, written atomically."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import torch
from accelerate import Accelerator
from safetensors.torch import load_file
from torch import nn

from gan_hub.io import CheckpointError, atomic_save_safetensors

PATTERN = re.compile(r"^step_(\d+)$")
STATE_FILE = "trainer_state.json"
EMA_FILE = "ema.safetensors"


def list_checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints, oldest first (a folder counts once its trainer state is written)."""
    if not folder.is_dir():
        return []
    found = [
        (int(m.group(1)), p) for p in folder.iterdir() if (m := PATTERN.match(p.name)) and (p / STATE_FILE).is_file()
    ]
    return sorted(found)


def noise_file(process_index: int) -> str:
    return f"noise_rng_{process_index}.safetensors"


def save_checkpoint(
    accelerator: Accelerator,
    folder: Path,
    step: int,
    ema: nn.Module | None,
    keep: int,
    noise: torch.Generator,
    algorithm=None,
) -> Path:
    """Save to a hidden folder, then rename: a killed run leaves the previous checkpoint intact."""
    final = folder / f"step_{step:08d}"
    staging = folder / f".staging_step_{step:08d}"
    if accelerator.is_main_process:
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(staging), safe_serialization=True)
    # per process: the training-noise RNG and the algorithm's own state (replay buffers, averages, k_t)
    algorithm_state = {f"algorithm.{k}": v for k, v in (algorithm.state_dict() if algorithm else {}).items()}
    atomic_save_safetensors(
        staging / noise_file(accelerator.process_index), {"state": noise.get_state(), **algorithm_state}
    )
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        if ema is not None:
            atomic_save_safetensors(staging / EMA_FILE, ema.state_dict())
        # the files' hashes: a checkpoint damaged later (bytes flipped on disk) is recognised before it is loaded
        digests = {f.relative_to(staging).as_posix(): sha256_file(f) for f in sorted(staging.rglob("*")) if f.is_file()}
        (staging / STATE_FILE).write_text(json.dumps({"step": step, "sha256": digests}))
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
        for _, old in list_checkpoints(folder)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def damage(path: Path) -> str | None:
    """What is wrong with a complete checkpoint's files (a missing, changed or unreadable file), or None."""
    try:
        state = json.loads((path / STATE_FILE).read_text())
        int(state["step"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        return f"{path / STATE_FILE} is unreadable ({type(err).__name__}: {err})"
    for name, expected in state.get("sha256", {}).items():  # checkpoints written before the hashes have none
        file = path / name
        if not file.is_file():
            return f"{file} is missing"
        if sha256_file(file) != expected:
            return f"{file} is corrupted (its SHA-256 differs from the one recorded when it was written)"
    return None


def load_latest_intact(
    accelerator: Accelerator, folder: Path, ema: nn.Module | None, noise: torch.Generator, algorithm=None, report=print
) -> tuple[int, Path] | None:
    """Load the newest checkpoint that is intact; each damaged one is named and skipped.

    Returns (step, path), or None when there is no checkpoint. Every checkpoint damaged is an error:
    starting over would silently overwrite them."""
    found = list_checkpoints(folder)
    problems = []
    for _, path in reversed(found):
        problem = damage(path)
        if problem is None:
            try:
                return load_checkpoint(accelerator, path, ema, noise, algorithm), path
            except Exception as err:  # noqa: BLE001  (any unreadable file: name it and use an older checkpoint)
                problem = f"{path} could not be loaded ({type(err).__name__}: {err})"
        problems.append(problem)
        report(f"warning: checkpoint {path.name} is damaged and skipped: {problem}")
    if problems:
        raise CheckpointError(
            f"every checkpoint in {folder} is damaged ({'; '.join(problems)}); move the folder "
            "away to start over, or restore a checkpoint"
        )
    return None


def load_checkpoint(
    accelerator: Accelerator, path: Path, ema: nn.Module | None, noise: torch.Generator, algorithm=None
) -> int:
    accelerator.load_state(str(path))
    rng_path = path / noise_file(accelerator.process_index)
    if not rng_path.is_file():
        raise FileNotFoundError(f"{rng_path} is missing: was this checkpoint written with another number of processes?")
    process_state = load_file(str(rng_path))
    noise.set_state(process_state["state"])
    if algorithm is not None:
        algorithm.load_state_dict(
            {k[len("algorithm.") :]: v for k, v in process_state.items() if k.startswith("algorithm.")}
        )
    if ema is not None:
        ema.load_state_dict(load_file(str(path / EMA_FILE)))
    return int(json.loads((path / STATE_FILE).read_text())["step"])
