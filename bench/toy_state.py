"""The whole training state of a seed group of the 2-D protocol (bench/toy_protocol.py) in one file, so that
a group stopped by Ctrl-C, `kill` or the end of a session continues exactly where it stopped.

The file is a safetensors file written atomically: both networks, both optimisers (their tensors; their
parameter groups in the metadata), the algorithm's own state (replay buffers, averages), the training-noise
generator, each seed's data generator and the epoch's data order; the metadata also holds the group's
identity (run, dataset, seeds, steps, networks), refused when it differs, and its progress (step, seconds,
whether the losses stayed finite, the mode-count curves). Nothing is unpickled.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open

from gan_hub.io import atomic_save_safetensors
from train.step import Players

STATE_KEY = "toy_protocol_state"


def state_path(state_dir: Path, run: str, dataset: str, seeds: list[int]) -> Path:
    return Path(state_dir) / f"{run.replace('@', '_')}-{dataset}-seeds{'_'.join(map(str, seeds))}.safetensors"


def _optimizer_tensors(prefix: str, optimizer: torch.optim.Optimizer) -> tuple[dict, list]:
    state = optimizer.state_dict()
    tensors = {
        f"{prefix}.{index}.{name}": value if torch.is_tensor(value) else torch.tensor(value)
        for index, per_param in state["state"].items()
        for name, value in per_param.items()
    }
    return tensors, state["param_groups"]


def _load_optimizer(optimizer: torch.optim.Optimizer, prefix: str, tensors: dict, groups: list) -> None:
    per_param: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith(prefix + "."):
            index, name = key[len(prefix) + 1 :].split(".", 1)
            per_param.setdefault(int(index), {})[name] = value
    optimizer.load_state_dict({"state": per_param, "param_groups": groups})


def _prefixed(tensors: dict, prefix: str) -> dict:
    return {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}


def save_state(path: Path, identity: dict, players: Players, batches, noise: torch.Generator, progress: dict) -> None:
    """Everything a group needs to continue exactly: both networks, both optimisers, the algorithm's own
    state, every random generator and the epoch's data order; ``progress`` (step, seconds, curves) as
    JSON metadata. One safetensors file written atomically (a killed run keeps the previous one)."""
    tensors = {f"generator.{k}": v for k, v in players.generator.state_dict().items()}
    tensors.update({f"discriminator.{k}": v for k, v in players.discriminator.state_dict().items()})
    opt_g, groups_g = _optimizer_tensors("opt_g", players.opt_g)
    opt_d, groups_d = _optimizer_tensors("opt_d", players.opt_d)
    tensors.update({**opt_g, **opt_d})
    tensors.update({f"algorithm.{k}": v for k, v in players.algorithm.state_dict().items()})
    tensors["rng.noise"] = noise.get_state()
    tensors.update({f"rng.data.{i}": g.get_state() for i, g in enumerate(batches.gens)})
    if batches.order is not None:
        tensors["data.order"] = batches.order
    meta = {"identity": identity, "opt_g": groups_g, "opt_d": groups_d, **progress}
    atomic_save_safetensors(path, tensors, {STATE_KEY: json.dumps(meta)})


def load_state(path: Path, identity: dict, players: Players, batches, noise: torch.Generator) -> dict:
    """Restore what :func:`save_state` wrote; returns its progress (step, seconds, finite, curves)."""
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {})[STATE_KEY])
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (OSError, SafetensorError, KeyError, ValueError) as err:
        raise ValueError(
            f"{path} is not a readable training state ({type(err).__name__}: {err}); move it away to start "
            "this group over"
        ) from None
    if meta["identity"] != identity:
        raise ValueError(
            f"{path} holds another run's state ({meta['identity']}, not {identity}); use another --state-dir "
            "or move the file away"
        )
    players.generator.load_state_dict(_prefixed(tensors, "generator."))
    players.discriminator.load_state_dict(_prefixed(tensors, "discriminator."))
    _load_optimizer(players.opt_g, "opt_g", tensors, meta["opt_g"])
    _load_optimizer(players.opt_d, "opt_d", tensors, meta["opt_d"])
    players.algorithm.load_state_dict(_prefixed(tensors, "algorithm."))
    noise.set_state(tensors["rng.noise"])
    for i, g in enumerate(batches.gens):
        g.set_state(tensors[f"rng.data.{i}"])
    batches.order = tensors.get("data.order")
    return {k: meta[k] for k in ("step", "seconds", "finite", "curves")}
