"""Atomic writes: write next to the target, then rename, so a killed process never leaves a half file."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn


def _default_file_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


# mkstemp makes owner-only files; the written file gets the mode any new file gets (readable like the repo)
FILE_MODE = _default_file_mode()


class CheckpointError(ValueError):
    """A weights file that is unreadable or does not fit the architecture it is loaded into."""


def _atomic(path: Path, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    return _atomic(Path(path), lambda tmp: Path(tmp).write_text(text))


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    return _atomic(Path(path), lambda tmp: Path(tmp).write_bytes(data))


def atomic_write_file(path: str | Path, write) -> Path:
    """``write(tmp)`` fills a temporary file beside ``path`` (name it a format explicitly: tmp ends in .tmp),
    which then replaces ``path`` in one move."""
    return _atomic(Path(path), write)


def atomic_save_safetensors(
    path: str | Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None
) -> Path:
    tensors = {k: v.detach().contiguous().cpu() for k, v in tensors.items()}
    return _atomic(Path(path), lambda tmp: save_file(tensors, tmp, metadata=metadata))


def atomic_replace_dir(staging: Path, target: Path) -> None:
    """Move a fully written ``staging`` folder to ``target``, replacing what was there."""
    target = Path(target)
    old = target.with_name(f".{target.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if target.exists():
        os.replace(target, old)
    os.replace(staging, target)
    if old.exists():
        shutil.rmtree(old)


def load_state_strict(module: nn.Module, weights_path: Path, what: str, fix_hint: str) -> None:
    """Load a safetensors file into ``module``; any missing/unexpected key or shape mismatch is an error.

    Only safetensors is read (no pickle). ``fix_hint`` tells the user what to do about a bad file.
    """
    weights_path = Path(weights_path)
    if not weights_path.is_file():
        raise FileNotFoundError(f"{what}: weights file {weights_path} does not exist. {fix_hint}")
    state = read_safetensors(weights_path, what)
    load_state_dict_strict(module, state, f"{what}: {weights_path}", fix_hint)


def read_safetensors(path: Path, what: str) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file; a damaged file is a CheckpointError that says so (not a model mismatch)."""
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise CheckpointError(
            f"{what}: {path} is damaged: not a readable safetensors file ({err}). Download or export it again."
        ) from err


def load_state_dict_strict(module: nn.Module, state: dict[str, torch.Tensor], source: str, fix_hint: str) -> None:
    """Load ``state`` into ``module``; a missing/unexpected key or a shape or dtype-kind mismatch is an error.

    ``source`` names where the tensors came from in the message (e.g. "inception-v3: /path/file").
    """
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"missing key(s): {', '.join(missing)}")
        if unexpected:
            parts.append(f"unexpected key(s): {', '.join(unexpected)}")
        raise CheckpointError(f"{source} does not match the architecture; {'; '.join(parts)}. {fix_hint}")
    for key, ref in expected.items():
        got = state[key]
        if tuple(got.shape) != tuple(ref.shape):
            raise CheckpointError(
                f"{source} key {key!r} has shape {tuple(got.shape)}, "
                f"the architecture expects {tuple(ref.shape)}. {fix_hint}"
            )
        if got.dtype.is_floating_point != ref.dtype.is_floating_point:
            raise CheckpointError(f"{source} key {key!r} has dtype {got.dtype}, expected {ref.dtype}. {fix_hint}")
        if got.dtype.is_floating_point and not torch.isfinite(got).all():
            raise CheckpointError(
                f"{source} key {key!r} holds NaN or infinite values: the weights are broken "
                "(a diverged run or a damaged file); use an earlier checkpoint or export again"
            )
    module.load_state_dict(state, strict=True)
