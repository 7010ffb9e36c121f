"""What a run folder already holds: its recorded settings (a resume must not change them) and, for
``--init-from``, a pretrained model's networks to start from."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from torch import nn

from gan_hub.hub import DISCRIMINATOR_NAME, WEIGHTS_NAME, resolve_model_folder
from gan_hub.io import load_state_strict

from .checkpoints import list_checkpoints
from .compose import RESUMABLE_CHANGES, compose, config_differences
from .config import TrainConfig, TrainConfigError

RECORD_NAME = "train_config.json"


def recorded_settings(output_dir: Path) -> dict[str, Any] | None:
    """The resolved settings recorded in a run folder, or None when it has no record. A record written
    before settings were resolved (the raw training config alone) is resolved now."""
    path = Path(output_dir) / RECORD_NAME
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise TrainConfigError(
            f"{path} is unreadable ({err}): move the run folder away or pick another --output-dir"
        ) from None
    if isinstance(data, dict) and isinstance(data.get("resolved"), dict):
        return data["resolved"]
    if isinstance(data, dict):
        raw = {k: v for k, v in data.items() if k in TrainConfig.field_names()}
        return compose(TrainConfig(**raw)).settings
    raise TrainConfigError(f"{path} does not hold a training record: move the run folder away")


def refuse_changed_config(output_dir: Path, settings: dict[str, Any]) -> None:
    """A folder with checkpoints continues only the run it recorded: other settings are refused, listed.
    Changing how long it runs and how often it logs, samples, scores or checkpoints is allowed."""
    if not list_checkpoints(Path(output_dir) / "checkpoints"):
        return
    recorded = recorded_settings(output_dir)
    if recorded is None:
        return
    differences = config_differences(recorded, settings)
    if differences:
        raise TrainConfigError(
            f"{output_dir} holds checkpoints of a run with other settings, so it cannot be resumed with these:\n  "
            + "\n  ".join(differences)
            + f"\nUse the recorded settings, or another --output-dir for a new run (a resume may change only "
            f"{', '.join(sorted(RESUMABLE_CHANGES))})."
        )


def init_from_pretrained(generator: nn.Module, discriminator: nn.Module, name_or_path: str) -> Path:
    """Load a pretrained model's generator and discriminator weights into freshly built networks (strictly:
    a missing, unexpected or mis-shaped tensor is an error that names it). Returns the model folder."""
    folder = resolve_model_folder(name_or_path, extra_files=[DISCRIMINATOR_NAME])
    hint = (
        f"--init-from needs a model with the same architecture and shapes as this run "
        f"(compare {folder / 'config.json'} with the run's options)"
    )
    load_state_strict(generator, folder / WEIGHTS_NAME, "--init-from generator", hint)
    if not (folder / DISCRIMINATOR_NAME).is_file():
        raise TrainConfigError(
            f"--init-from {name_or_path}: the model has no {DISCRIMINATOR_NAME}, so its "
            "discriminator cannot be restored; export it with the trainer"
        )
    load_state_strict(discriminator, folder / DISCRIMINATOR_NAME, "--init-from discriminator", hint)
    return folder
