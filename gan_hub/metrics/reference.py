"""Real-data references for FID and KID: feature statistics (shipped or cached) and feature sets.

Statistics depend on the scorer's weights, so every file records the SHA-256 of the weights it
was made with, and loading checks it. Shipped files live in ``assets/<scorer>/reference/``
(the MNIST classifier's: 128-d features, about 130 KB each); the others are made on demand and
cached under ``$GAN_HUB_CACHE`` (default ``~/.cache/gan_hub``)``/reference/<scorer>/<weights sha[:12]>/``.

    python -m gan_hub.metrics.reference --scorer mnist-classifier --dataset mnist --data-dir DIR [--output-dir DIR]
    [--record]

The shipped MNIST-classifier files were made with ``--output-dir gan_hub/metrics/assets/mnist-classifier/reference
--record``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch
from tqdm.auto import tqdm

from ..io import CheckpointError
from .fid import FeatureStatistics, ReferenceStatistics
from .hashing import sha256_of
from .labels import metric_label

ASSETS = Path(__file__).parent / "assets"
SPLITS = ("train", "test")
_FEATURES: dict[tuple, torch.Tensor] = {}


def cache_root() -> Path:
    return Path(os.environ.get("GAN_HUB_CACHE", Path.home() / ".cache" / "gan_hub"))


def weights_sha256(scorer) -> str:
    return scorer.info.get("weights_sha256") or sha256_of(Path(scorer.info["weights_path"]))


def file_name(dataset: str, split: str) -> str:
    return f"{dataset}-{split}.safetensors"


def candidate_paths(scorer, dataset: str, split: str) -> list[Path]:
    name = file_name(dataset, split)
    return [
        ASSETS / scorer.name / "reference" / name,
        cache_root() / "reference" / scorer.name / weights_sha256(scorer)[:12] / name,
    ]


def describe(dataset: str, split: str, n: int) -> str:
    return f"{dataset} {split} set ({n:,} images)"


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"reference split must be one of {SPLITS}, got {split!r}")


def real_images(dataset: str, split: str, data_dir=None) -> torch.Tensor:
    """All uint8 images of a dataset split, in file order."""
    from ..data import load_dataset

    _check_split(split)
    return load_dataset(dataset, data_dir=data_dir, train=split == "train").images


def compute_features(scorer, images: torch.Tensor, batch_size: int = 1000, progress: bool = False) -> torch.Tensor:
    chunks = []
    for start in tqdm(
        range(0, len(images), batch_size), desc=f"{scorer.name} features", disable=not progress, leave=False
    ):
        chunks.append(scorer.features(images[start : start + batch_size]))
    return torch.cat(chunks)


def reference_features(scorer, dataset: str, split: str, data_dir=None, progress: bool = False) -> torch.Tensor:
    """Features of every real image of the split (for KID), kept in memory for the process's lifetime."""
    key = (scorer.name, weights_sha256(scorer), dataset, split, str(data_dir))
    if key not in _FEATURES:
        _FEATURES[key] = compute_features(scorer, real_images(dataset, split, data_dir), progress=progress)
    return _FEATURES[key]


def make_statistics(
    scorer, dataset: str, split: str, data_dir=None, output_dir: Path | None = None, progress: bool = False
) -> Path:
    """Compute and save the feature statistics of a real split; returns the file written."""
    stats = FeatureStatistics().update(reference_features(scorer, dataset, split, data_dir, progress))
    folder = Path(output_dir) if output_dir else candidate_paths(scorer, dataset, split)[1].parent
    metadata = {
        "scorer": scorer.name,
        "weights_sha256": weights_sha256(scorer),
        "dataset": dataset,
        "split": split,
        "feature_dim": str(stats.dim),
        "covariance": "unbiased (ddof=1)",
    }
    return stats.save(folder / file_name(dataset, split), metadata)


def load_statistics(
    scorer, dataset: str, split: str, data_dir=None, compute: bool = True, progress: bool = False
) -> ReferenceStatistics:
    """The shipped or cached statistics of a real split; made (and cached) from the data when ``compute``."""
    _check_split(split)
    sha = weights_sha256(scorer)
    for path in candidate_paths(scorer, dataset, split):
        if path.is_file():
            stats = ReferenceStatistics.load(path)
            if stats.metadata.get("weights_sha256") != sha:
                raise CheckpointError(
                    f"{path} was made with other {scorer.name} weights "
                    f"({stats.metadata.get('weights_sha256', '?')[:12]} vs {sha[:12]}); delete it or "
                    f"remake it with `python -m gan_hub.metrics.reference --scorer {scorer.name}`"
                )
            return stats
    if not compute:
        raise FileNotFoundError(
            f"no {scorer.name} statistics for {dataset} {split}; make them with "
            f"`python -m gan_hub.metrics.reference --scorer {scorer.name} --dataset {dataset} --data-dir DIR`"
        )
    return ReferenceStatistics.load(make_statistics(scorer, dataset, split, data_dir, progress=progress))


def main(argv=None) -> list[Path]:
    from . import load_scorer

    parser = argparse.ArgumentParser(
        prog="python -m gan_hub.metrics.reference", description="Feature statistics of real data, for FID."
    )
    parser.add_argument("--scorer", default="mnist-classifier")
    parser.add_argument("--weights", default=None, help="scorer weights file (default: the scorer's own)")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--splits", nargs="+", default=list(SPLITS), choices=SPLITS)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        help="default: the cache; the shipped files were written to gan_hub/metrics/assets/<scorer>/reference",
    )
    parser.add_argument(
        "--record",
        action="store_true",
        help="also write the real-data FID/KID baselines into the shipped assets/<scorer>/metrics.json",
    )
    args = parser.parse_args(argv)
    scorer = load_scorer(args.scorer, weights_path=args.weights)
    written = []
    for split in args.splits:
        path = make_statistics(scorer, args.dataset, split, args.data_dir, args.output_dir, progress=True)
        print(f"wrote {path}")
        written.append(path)
    if set(args.splits) == set(SPLITS):
        baseline = real_data_baselines(scorer, args.dataset, args.data_dir)
        for entry in baseline:
            print(f"{entry['name']}: {entry.get('value', entry.get('mean')):.6g}  ({entry['data']})")
        if args.record:
            record_baselines(scorer.name, baseline)
    return written


def real_data_baselines(scorer, dataset: str, data_dir=None) -> list[dict]:
    """FID and KID of real training images against the test split: what a perfect generator would score."""
    from .kid import kernel_inception_distance

    train, test = (reference_features(scorer, dataset, split, data_dir) for split in SPLITS)
    n = min(len(test), len(train))
    fid = FeatureStatistics().update(train[:n]).frechet_distance(FeatureStatistics().update(test))
    kid_mean, kid_std = kernel_inception_distance(test, train[:n])
    common = {"scorer": scorer.name, "num_samples": n}
    return [
        {
            "metric": "fid",
            "name": f"{metric_label(scorer.name, 'fid')}@{n // 1000}k, {dataset} train set (first {n:,})",
            "value": fid,
            **common,
            "reference": describe(dataset, "test", len(test)),
            "data": f"{dataset} train set, first {n:,} in file order, against the test set",
        },
        {
            "metric": "kid",
            "name": f"{metric_label(scorer.name, 'kid')}@{n // 1000}k, {dataset} train set (first {n:,})",
            "mean": kid_mean,
            "std": kid_std,
            **common,
            "reference": describe(dataset, "test", len(test)),
            "subsets": 100,
            "subset_size": 1000,
            "data": f"{dataset} train set, first {n:,} in file order, against the test set",
        },
    ]


def record_baselines(scorer_name: str, entries: list[dict]) -> None:
    """Replace the FID/KID entries in the ``reference`` list of the scorer's shipped metrics.json."""
    import json

    from ..io import atomic_write_text

    path = ASSETS / scorer_name / "metrics.json"
    shipped = json.loads(path.read_text())
    kept = [e for e in shipped.get("reference", []) if e.get("metric") not in ("fid", "kid")]
    shipped["reference"] = kept + entries
    atomic_write_text(path, json.dumps(shipped, indent=2) + "\n")
    print(f"recorded the real-data baselines in {path}")


if __name__ == "__main__":
    main()
