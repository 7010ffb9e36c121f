"""Resumable checkpoints: accelerate state plus the EMA generator and step, written atomically."""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import torch
from accelerate import Accelerator
from safetensors.torch import load_file
from torch import nn

from gan_hub.io import atomic_save_safetensors

PATTERN = re.compile(r"^step_(\d+)$")
STATE_FILE = "trainer_state.json"
EMA_FILE = "ema.safetensors"


def list_checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """Complete checkpoints, oldest first (a folder counts once its trainer state is written)."""
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := PATTERN.match(p.name)) and (p / STATE_FILE).is_file()]
    return sorted(found)


def noise_file(process_index: int) -> str:
    return f"noise_rng_{process_index}.safetensors"


def save_checkpoint(accelerator: Accelerator, folder: Path, step: int, ema: nn.Module | None, keep: int,
                    noise: torch.Generator, algorithm=None) -> Path:
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
    atomic_save_safetensors(staging / noise_file(accelerator.process_index), {"state": noise.get_state(), **algorithm_state})
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        if ema is not None:
            atomic_save_safetensors(staging / EMA_FILE, ema.state_dict())
        (staging / STATE_FILE).write_text(json.dumps({"step": step}))
        if final.exists():
            shutil.rmtree(final)
        os.replace(staging, final)
        for _, old in list_checkpoints(folder)[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def load_checkpoint(accelerator: Accelerator, path: Path, ema: nn.Module | None, noise: torch.Generator,
                    algorithm=None) -> int:
    accelerator.load_state(str(path))
    rng_path = path / noise_file(accelerator.process_index)
    if not rng_path.is_file():
        raise FileNotFoundError(f"{rng_path} is missing: was this checkpoint written with another number of processes?")
    process_state = load_file(str(rng_path))
    noise.set_state(process_state["state"])
    if algorithm is not None:
        algorithm.load_state_dict({k[len("algorithm."):]: v for k, v in process_state.items() if k.startswith("algorithm.")})
    if ema is not None:
        ema.load_state_dict(load_file(str(path / EMA_FILE)))
    return int(json.loads((path / STATE_FILE).read_text())["step"])
