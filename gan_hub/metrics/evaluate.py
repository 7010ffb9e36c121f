"""Scores of a generator with their protocol: the one code path behind the trainer, the CLI, the cards and the app.

One pass over ``Generator.generate(N, seed=SEED)`` (made batch by batch) feeds every requested
metric from a single scorer forward per batch:

* ``is``: Inception Score, 10 contiguous splits in sample order (see inception_score.py);
* ``fid``: Fréchet distance of the scorer's features to a real split's statistics (reference.py);
* ``kid``: unbiased KID against the real split's features (needs the real images);
* ``modes``: mode coverage: digit classes for MNIST, the 1000 digit triples for Stacked MNIST.

With the MNIST classifier as scorer the names say "classifier IS", "classifier FID", ...: such
numbers are comparable only with numbers from the same classifier weights. With Inception-v3 and
the reference weights they are the standard IS, FID and KID.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import torch
from tqdm.auto import tqdm

from ..data.images import centre_crop
from ..sampling import latents
from . import reference as refs
from .fid import FeatureStatistics, ReferenceStatistics
from .inception_score import InceptionScore
from .kid import kernel_inception_distance
from .labels import metric_label
from .modes import categorical_coverage, stacked_mnist_modes

METRICS = ("is", "fid", "kid", "modes")
# The scorer that a dataset's samples are judged by by default, and the real data its FID/KID compare with.
SCORER_FOR_DATASET = {"mnist": "mnist-classifier", "stacked-mnist": "mnist-classifier"}
REFERENCE_DATASET = {"mnist": "mnist"}
ASSETS = Path(__file__).parent / "assets"
SPLITS = 10


def short_count(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def parse_metrics(text: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    names = [m.strip().lower() for m in (text.split(",") if isinstance(text, str) else text) if m.strip()]
    unknown = [m for m in names if m not in METRICS]
    if unknown or not names:
        raise ValueError(f"unknown metric(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(METRICS)}")
    return tuple(dict.fromkeys(names))


def reference_scores(scorer_name: str) -> list[dict[str, Any]]:
    """Scores of real data measured with the same scorer (shipped with the scorer's weights)."""
    path = ASSETS / scorer_name / "metrics.json"
    if not path.is_file():
        return []
    return json.loads(path.read_text()).get("reference", [])


def sample_batches(
    generator, num_samples: int, seed: int, batch_size: int, crop: int | None = None
) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """(images, labels) batches that concatenate to ``generator.generate(num_samples, seed=seed)``.

    ``crop``: a scorer's input size; larger samples (a model trained on padded images, e.g. ProGAN's
    32x32 MNIST) are cropped to their centre, which undoes the padding."""
    config = generator.config
    if crop is not None and config.image_size <= crop:
        crop = None
    z = latents(num_samples, config.latent_dim, seed)
    labels = generator._labels(num_samples, None)
    for start in range(0, num_samples, batch_size):
        stop = min(start + batch_size, num_samples)
        batch_labels = None if labels is None else labels[start:stop]
        images = generator.generate_from_latents(z[start:stop], batch_labels, batch_size)
        yield (images if crop is None else centre_crop(images, crop)), batch_labels


@dataclass
class Measurement:
    """Everything one pass measured, before it is turned into metrics.json entries."""

    scorer: Any
    num_samples: int
    seed: int
    splits: int = SPLITS
    inception: InceptionScore | None = None
    statistics: FeatureStatistics | None = None
    features: list[torch.Tensor] = field(default_factory=list)
    mode_ids: list[torch.Tensor] = field(default_factory=list)
    num_modes: int = 0
    agreeing: int = 0
    conditional: bool = False

    @property
    def label_agreement(self) -> float | None:
        return self.agreeing / self.num_samples if self.conditional else None

    def modes(self) -> dict | None:
        return categorical_coverage(torch.cat(self.mode_ids), self.num_modes) if self.mode_ids else None


def _mode_counter(dataset: str, scorer):
    """(function images, logits -> mode ids, number of modes) for datasets with countable modes, else None."""
    if dataset == "stacked-mnist":
        digits = scorer if scorer.name == "mnist-classifier" else _load("mnist-classifier")
        return (lambda images, logits: stacked_mnist_modes(images, digits)), 1000
    if scorer.name == "mnist-classifier" and dataset == "mnist":
        return (lambda images, logits: logits.argmax(dim=1)), scorer.num_classes
    return None


def _load(name: str):
    from . import load_scorer

    return load_scorer(name)


def measure(
    generator,
    scorer,
    num_samples: int,
    seed: int = 0,
    metrics=("is",),
    splits: int = SPLITS,
    batch_size: int = 500,
    progress: bool = False,
) -> Measurement:
    """Generate ``num_samples`` images batch by batch and feed the requested metrics."""
    if num_samples < 1 or batch_size < 1:
        raise ValueError(f"num_samples and batch_size must be positive, got {num_samples} and {batch_size}")
    metrics = parse_metrics(metrics)
    config = generator.config
    # label agreement needs a scorer that classifies these images into the model's classes
    agreement = bool(config.conditional) and _scorer_takes(scorer, config) and scorer.num_classes == config.num_classes
    result = Measurement(scorer, num_samples, seed, splits, conditional=agreement)
    if "is" in metrics:
        result.inception = InceptionScore(scorer, splits=splits, num_samples=num_samples, assignment="contiguous")
    if "fid" in metrics:
        result.statistics = FeatureStatistics()
    counter = _mode_counter(config.dataset, scorer) if "modes" in metrics else None
    if "modes" in metrics and counter is None:
        raise ValueError(
            f"no mode count is defined for {config.dataset!r} samples with the {scorer.name} scorer; "
            f"modes are counted for mnist (with mnist-classifier) and stacked-mnist"
        )
    if counter is not None:
        result.num_modes = counter[1]
    need_features = "fid" in metrics or "kid" in metrics
    need_logits = "is" in metrics or result.conditional or (counter is not None and config.dataset != "stacked-mnist")
    with tqdm(
        total=num_samples,
        desc=f"{scorer.name} scores",
        unit="img",
        disable=not progress,
        leave=False,
        dynamic_ncols=True,
    ) as bar:
        crop = getattr(getattr(scorer, "module", None), "image_size", None)  # fixed-size scorers (MNIST classifier)
        for images, labels in sample_batches(generator, num_samples, seed, batch_size, crop):
            logits = features = None
            if need_features:
                logits, features = scorer.logits_and_features(images)
            elif need_logits:
                logits = scorer.logits(images)
            if result.inception is not None:
                result.inception.update_logits(logits)
            if result.statistics is not None:
                result.statistics.update(features)
            if "kid" in metrics:
                result.features.append(features)
            if counter is not None:
                result.mode_ids.append(counter[0](images, logits).cpu())
            if labels is not None:
                result.agreeing += int((logits.argmax(1).cpu() == labels).sum())
            bar.update(len(images))
    return result


@dataclass
class ReferenceSet:
    """The real data that FID and KID compare with: a dataset split (shipped statistics, or the images)."""

    dataset: str
    split: str = "test"
    data_dir: str | None = None

    def statistics(self, scorer, progress: bool = False) -> ReferenceStatistics:
        return refs.load_statistics(scorer, self.dataset, self.split, self.data_dir, progress=progress)

    def features(self, scorer, progress: bool = False) -> torch.Tensor:
        return refs.reference_features(scorer, self.dataset, self.split, self.data_dir, progress=progress)


def score_entries(
    result: Measurement, reference: ReferenceSet | None = None, kid_subsets: int = 100, kid_subset_size: int = 1000
) -> list[dict[str, Any]]:
    """metrics.json ``scores`` entries: each names its scorer, sample count, seed and the rest of its protocol."""
    scorer, n = result.scorer, short_count(result.num_samples)
    base = {"scorer": scorer.name, "num_samples": result.num_samples, "seed": result.seed}
    entries = []
    if result.inception is not None:
        mean, std = result.inception.compute()
        entries.append(
            {
                "metric": "inception_score",
                "name": f"{metric_label(scorer.name, 'is')}@{n}",
                "mean": mean,
                "std": std,
                **base,
                "splits": result.splits,
            }
        )
    if result.label_agreement is not None:
        entries.append(
            {"metric": "accuracy", "name": f"classifier label agreement@{n}", "value": result.label_agreement, **base}
        )
    if (result.statistics is not None or result.features) and reference is None:
        raise ValueError("FID and KID need a reference set of real images")
    if result.statistics is not None:
        stats = reference.statistics(scorer)
        entries.append(
            {
                "metric": "fid",
                "name": f"{metric_label(scorer.name, 'fid')}@{n}",
                "value": result.statistics.frechet_distance(stats),
                **base,
                "reference": refs.describe(reference.dataset, reference.split, stats.n),
            }
        )
    if result.features:
        real = reference.features(scorer)
        size = min(kid_subset_size, len(real), result.num_samples)
        mean, std = kernel_inception_distance(real, torch.cat(result.features), kid_subsets, size)
        entries.append(
            {
                "metric": "kid",
                "name": f"{metric_label(scorer.name, 'kid')}@{n}",
                "mean": mean,
                "std": std,
                **base,
                "reference": refs.describe(reference.dataset, reference.split, len(real)),
                "subsets": kid_subsets,
                "subset_size": size,
            }
        )
    modes = result.modes()
    if modes is not None:
        what = "digit triples" if result.num_modes == 1000 else "classes"
        entries.append(
            {
                "metric": "modes_covered",
                "name": f"{what} covered@{n}",
                "value": modes["modes_covered"],
                "num_modes": modes["num_modes"],
                **base,
            }
        )
        entries.append(
            {"metric": "kl_to_uniform", "name": f"KL({what} || uniform)@{n}", "value": modes["kl_to_uniform"], **base}
        )
    return entries


def applicable_metrics(
    requested, config, scorer, reference: ReferenceSet | None, strict: bool, progress: bool = False
) -> list[str]:
    """The requested metrics that can be computed for this model; the reference data is made ready here.

    With ``strict`` a metric that cannot be computed is an error (the CLI); otherwise it is left out
    with a warning (a training run should not fail at its very end for want of real images).
    """
    chosen = []
    for metric in parse_metrics(requested):
        try:
            if metric in ("fid", "kid") and reference is None:
                raise ValueError(
                    f"{metric.upper()} needs real images to compare with; there is no reference set for "
                    f"{config.dataset!r} samples"
                )
            if metric == "fid":
                reference.statistics(scorer, progress)
            if metric == "kid":
                reference.features(scorer, progress)
            if metric in ("is", "fid", "kid") and not _scorer_takes(scorer, config):
                raise ValueError(
                    f"{scorer.name} scores {scorer.module.in_channels}-channel images; "
                    f"{config.dataset!r} samples have {config.channels} channels"
                )
            if metric == "modes" and _mode_counter(config.dataset, scorer) is None:
                raise ValueError(f"no mode count is defined for {config.dataset!r} samples with {scorer.name}")
        except (FileNotFoundError, ValueError) as err:
            if strict:
                raise
            warnings.warn(f"{metric} left out: {err}")
            continue
        chosen.append(metric)
    return chosen


def _scorer_takes(scorer, config) -> bool:
    channels = getattr(getattr(scorer, "module", None), "in_channels", None)
    return channels is None or channels == config.channels


def default_reference(dataset: str, data_dir=None, split: str = "test") -> ReferenceSet | None:
    return ReferenceSet(REFERENCE_DATASET[dataset], split, data_dir) if dataset in REFERENCE_DATASET else None


def evaluate_generator(
    generator,
    num_samples: int = 10000,
    seed: int = 0,
    batch_size: int = 500,
    progress: bool = False,
    scorer=None,
    metrics=METRICS,
    reference: ReferenceSet | None = None,
    data_dir=None,
    kid_subsets: int = 100,
    kid_subset_size: int = 1000,
    splits: int = SPLITS,
    strict: bool = False,
) -> dict[str, Any]:
    """metrics.json content for ``generator``: the requested metrics that apply to its dataset.

    ``reference`` defaults to the test split of the model's dataset (FID from shipped statistics;
    KID from the images, found in ``data_dir`` or downloaded).
    """
    config = generator.config
    scorer_name = scorer.name if scorer is not None else SCORER_FOR_DATASET.get(config.dataset)
    if scorer_name is None or num_samples <= 0:
        return {"scores": [], "reference": []}
    if scorer is None:
        try:
            scorer = _load(scorer_name)
        except FileNotFoundError as err:
            if strict:
                raise
            warnings.warn(f"no scores: {err}")
            return {"scores": [], "reference": []}
    scorer.to(generator.device)
    reference = reference or default_reference(config.dataset, data_dir)
    chosen = applicable_metrics(metrics, config, scorer, reference, strict, progress)
    if not chosen:
        return {"scores": [], "reference": reference_scores(scorer.name)}
    result = measure(generator, scorer, num_samples, seed, chosen, splits, batch_size, progress)
    return {
        "scores": score_entries(result, reference, kid_subsets, kid_subset_size),
        "reference": reference_scores(scorer.name),
    }
