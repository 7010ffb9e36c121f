"""Scores of a generator with their protocol: the one code path used by the trainer, the CLI and the cards."""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import torch
from tqdm.auto import tqdm

from ..sampling import latents
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


def sample_batches(generator, num_samples: int, seed: int, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """(images, labels) batches that concatenate to ``generator.generate(num_samples, seed=seed)``."""
    config = generator.config
    z = latents(num_samples, config.latent_dim, seed)
    labels = generator._labels(num_samples, None)
    for start in range(0, num_samples, batch_size):
        stop = min(start + batch_size, num_samples)
        batch_labels = None if labels is None else labels[start:stop]
        yield generator.generate_from_latents(z[start:stop], batch_labels, batch_size), batch_labels


@dataclass
class SampleScores:
    inception: InceptionScore
    label_agreement: float | None  # share of samples the scorer assigns to their requested class


def score_samples(generator, scorer, num_samples: int, seed: int = 0, splits: int = SPLITS, batch_size: int = 500,
                  progress: bool = False) -> SampleScores:
    """Generate ``num_samples`` images batch by batch and score them (IS in contiguous splits, sample order)."""
    if num_samples < 1 or batch_size < 1:
        raise ValueError(f"num_samples and batch_size must be positive, got {num_samples} and {batch_size}")
    metric = InceptionScore(scorer, splits=splits, num_samples=num_samples)
    agree = 0
    batches = sample_batches(generator, num_samples, seed, batch_size)
    with tqdm(total=num_samples, desc=f"{getattr(scorer, 'name', 'scorer')} IS", unit="img", disable=not progress,
              leave=False, dynamic_ncols=True) as bar:
        for images, labels in batches:
            logits = scorer.logits(images)
            metric.update_logits(logits)
            if labels is not None:
                agree += int((logits.argmax(1).cpu() == labels).sum())
            bar.update(len(images))
    return SampleScores(metric, agree / num_samples if generator.config.conditional else None)


def evaluate_generator(generator, num_samples: int = 10000, seed: int = 0, batch_size: int = 500,
                       progress: bool = False, scorer=None) -> dict[str, Any]:
    """metrics.json content: classifier IS@n (10 splits) and, for conditional models, label agreement."""
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
    result = score_samples(generator, scorer, num_samples, seed, SPLITS, batch_size, progress)
    mean, std = result.inception.compute()
    protocol = {"scorer": scorer_name, "num_samples": num_samples, "splits": SPLITS, "seed": seed}
    n = short_count(num_samples)
    scores = [{"metric": "inception_score", "name": f"classifier IS@{n}", "mean": mean, "std": std, **protocol}]
    if result.label_agreement is not None:
        scores.append({"metric": "accuracy", "name": f"classifier label agreement@{n}", "value": result.label_agreement,
                       "scorer": scorer_name, "num_samples": num_samples, "seed": seed})
    return {"scores": scores, "reference": reference_scores(scorer_name)}
