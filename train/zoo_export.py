"""Copy a finished run's model into the zoo: float16 weights, written by this library's code (so in the
current config format), with its scores re-measured on exactly the stored weights."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file

from gan_hub.hub import DISCRIMINATOR_NAME, METRICS_NAME, Generator
from gan_hub.io import atomic_save_safetensors
from gan_hub.metrics.evaluate import evaluate_generator
from gan_hub.metrics.variant_scores import bigan_reconstruction_figure, variant_scores

ZOO_SAMPLES = 10000
RECONSTRUCTIONS_NAME = "reconstructions.png"
# the zoo's size budget (64 MB for every model) leaves room for small discriminators only; the semi-supervised
# model's discriminator is its classifier, the point of the model, and always ships
MAX_DISCRIMINATOR_MB = 0.9  # the two autoencoder discriminators (0.94 MB) did not fit


def export_run(
    model_dir: Path, zoo_dir: Path, data_dir: str | None = None, recipe: str = "", num_samples: int = ZOO_SAMPLES
) -> str:
    """Write ``zoo_dir`` from ``model_dir`` (a run's ``model/``) and return a one-line score summary.

    ``recipe``: the preset's notes (its recipe and what was tried), kept in metrics.json for the card."""
    model_dir, zoo_dir = Path(model_dir), Path(zoo_dir)
    generator = Generator.from_pretrained(model_dir)
    generator.round_weights_to(torch.float16)  # score what the zoo stores
    training = (json.loads((model_dir / METRICS_NAME).read_text()) if (model_dir / METRICS_NAME).is_file() else {}).get(
        "training", {}
    )
    if recipe:
        training = {**training, "recipe": recipe}
    generator.metrics = {
        **evaluate_generator(generator, num_samples=num_samples, seed=0, progress=True, data_dir=data_dir),
        "training": training,
    }
    staging = zoo_dir.with_name(f".{zoo_dir.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    generator.save_pretrained(staging, weights_dtype=torch.float16)
    state = load_file(str(model_dir / DISCRIMINATOR_NAME)) if (model_dir / DISCRIMINATOR_NAME).is_file() else None
    if state is not None and ships_discriminator(generator.config.variant, state):
        atomic_save_safetensors(
            staging / DISCRIMINATOR_NAME, {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
        )
    extra = variant_scores(generator, staging, data_dir)  # measured on the float16 files just written
    if extra:
        generator.metrics["scores"] += extra
        generator.save_pretrained(staging, weights_dtype=torch.float16)  # the card and metrics.json with them
    if generator.config.variant == "bigan":
        write_reconstructions(generator, staging / RECONSTRUCTIONS_NAME, data_dir)
    shutil.rmtree(zoo_dir, ignore_errors=True)
    staging.rename(zoo_dir)
    return summary(generator.metrics)


def summary(metrics: dict) -> str:
    parts = []
    for score in metrics.get("scores", []):
        value = score.get("mean", score.get("value"))
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        parts.append(f"{score['name']} {value}" if isinstance(value, int) else f"{score['name']} {value:.3f}")
    return "; ".join(parts)


def write_reconstructions(generator, path: Path, data_dir: str | None) -> None:
    from gan_hub.data import load_dataset

    test = load_dataset("mnist", data_dir=data_dir, train=False)
    bigan_reconstruction_figure(generator, test.images, test.labels).save(path)


def ships_discriminator(variant: str, state: dict) -> bool:
    megabytes = sum(v.numel() * (2 if v.is_floating_point() else v.element_size()) for v in state.values()) / 1e6
    return variant == "semi-supervised" or megabytes <= MAX_DISCRIMINATOR_MB
