"""Scores of a generator with their protocol: the one code path used by the trainer, the CLI and the app."""
from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from . import InceptionScore, load_scorer

# The scorer that a dataset's samples are judged by. Datasets without one get no scores.
SCORER_FOR_DATASET = {"mnist": "mnist-classifier"}
ASSETS = Path(__file__).parent / "assets"
SPLITS = 10


def short_count(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def reference_scores(scorer_name: str) -> list[dict[str, Any]]:
    """Scores of real data measured with the same scorer (shipped with the scorer's weights)."""
    path = ASSETS / scorer_name / "metrics.json"
    if not path.is_file():
        return []
    return json.loads(path.read_text()).get("reference", [])


def evaluate_generator(generator, num_samples: int = 10000, seed: int = 0, batch_size: int = 500,
                       progress: bool = False, scorer=None) -> dict[str, Any]:
    """Classifier IS@n (10 splits, in sample order) and, for conditional models, label agreement."""
    config = generator.config
    scorer_name = SCORER_FOR_DATASET.get(config.dataset)
    if scorer_name is None or num_samples <= 0:
        return {"scores": [], "reference": []}
    if scorer is None:
        try:
            scorer = load_scorer(scorer_name)
        except FileNotFoundError as err:
            warnings.warn(f"no scores: {err}")
            return {"scores": [], "reference": []}
    scorer.to(generator.device)
    metric = InceptionScore(scorer, splits=SPLITS, num_samples=num_samples)
    labels = torch.arange(num_samples) % config.num_classes if config.conditional else None
    z = torch.randn(num_samples, config.latent_dim, generator=torch.Generator().manual_seed(seed))
    agree = 0
    for start in tqdm(range(0, num_samples, batch_size), desc="scoring", disable=not progress, leave=False):
        stop = min(start + batch_size, num_samples)
        batch_labels = None if labels is None else labels[start:stop]
        images = generator.generate_from_latents(z[start:stop], batch_labels)
        logits = scorer.logits(images)
        metric.update_logits(logits)
        if batch_labels is not None:
            agree += int((logits.argmax(1).cpu() == batch_labels).sum())
    mean, std = metric.compute()
    protocol = {"scorer": scorer_name, "num_samples": num_samples, "splits": SPLITS, "seed": seed}
    n = short_count(num_samples)
    scores = [{"metric": "inception_score", "name": f"classifier IS@{n}", "mean": mean, "std": std, **protocol}]
    if labels is not None:
        scores.append({"metric": "accuracy", "name": f"classifier label agreement@{n}", "value": agree / num_samples,
                       "scorer": scorer_name, "num_samples": num_samples, "seed": seed})
    return {"scores": scores, "reference": reference_scores(scorer_name)}
