"""Score a pretrained generator from the command line.

    python -m gan_hub.metrics MODEL --scorer inception-v3|mnist-classifier --num-samples N [--metrics is,fid,kid,modes]

The samples scored are exactly ``Generator.from_pretrained(MODEL).generate(N, seed=SEED)``, made
and scored batch by batch, through the same code as the trainer's metrics.json and the model
cards (gan_hub.metrics.evaluate). IS: 10 contiguous splits in sample order, mean ± population std.
FID and KID compare with a real split (default: the test split of the model's dataset).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from gan_hub.cli_errors import USAGE, OneLineParser, fail, reporting_errors
from gan_hub.io import atomic_write_text

PROG = "python -m gan_hub.metrics"


def build_parser(prog: str = PROG, parser_class=OneLineParser) -> argparse.ArgumentParser:
    p = parser_class(
        prog=prog, description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("model", metavar="MODEL", help="model folder or Hub id understood by Generator.from_pretrained")
    p.add_argument("--scorer", default="mnist-classifier", help="inception-v3 or mnist-classifier")
    p.add_argument("--weights", default=None, help="scorer weights file (inception-v3: also GAN_HUB_INCEPTION_WEIGHTS)")
    p.add_argument("--metrics", default="is", help="comma-separated: is, fid, kid, modes")
    p.add_argument("--num-samples", type=int, default=10_000)
    p.add_argument("--splits", type=int, default=10, help="IS splits")
    p.add_argument("--seed", type=int, default=0, help="generation seed: the samples are generate(N, seed=SEED)")
    p.add_argument("--reference-split", default="test", choices=("test", "train"), help="real data for FID and KID")
    p.add_argument(
        "--data-dir", default=None, help="folder with the real dataset (for KID, or FID without shipped statistics)"
    )
    p.add_argument("--kid-subsets", type=int, default=100)
    p.add_argument("--kid-subset-size", type=int, default=1000)
    p.add_argument("--batch-size", type=int, default=500, help="generation batch")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--output", type=Path, default=None, help="write the result as JSON to this file")
    p.add_argument(
        "--update-model",
        action="store_true",
        help="MODEL is a local folder: replace the scores in its metrics.json and re-render its README.md card",
    )
    return p


def usage_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the options themselves (found before any model is loaded), or None."""
    from ..registry import SCORERS
    from ..validation import SEED_MAX
    from .evaluate import parse_metrics

    for flag, value, low in (
        ("--num-samples", args.num_samples, 1),
        ("--batch-size", args.batch_size, 1),
        ("--splits", args.splits, 1),
        ("--kid-subsets", args.kid_subsets, 1),
        ("--kid-subset-size", args.kid_subset_size, 2),
        ("--seed", args.seed, 0),
    ):
        if value < low:
            return f"{flag} must be at least {low}, got {value}"
    if args.seed > SEED_MAX:
        return f"--seed must be at most {SEED_MAX}, got {args.seed}"
    if args.threads is not None and args.threads < 1:
        return f"--threads must be at least 1, got {args.threads}"
    from ..validation import looks_local

    if looks_local(args.model) and not Path(args.model).expanduser().is_dir():
        return f"MODEL: no such folder: {args.model}; give a model folder or a Hub repo id ORG/NAME"
    try:
        requested = parse_metrics(args.metrics)
    except ValueError as err:
        return f"--metrics: {err}"
    if "is" in requested and args.num_samples < args.splits:
        return (
            f"an Inception Score over {args.splits} splits needs at least {args.splits} samples; "
            f"--num-samples is {args.num_samples}"
        )
    if args.scorer not in SCORERS:
        return f"--scorer: unknown scorer {args.scorer!r}; choose one of: {', '.join(SCORERS.names())}"
    try:
        torch.device(args.device)
    except RuntimeError:
        return f"--device: {args.device!r} is not a device (e.g. cpu, cuda, cuda:1, mps)"
    if args.update_model and not Path(args.model).is_dir():
        return f"--update-model needs MODEL to be a local folder; {args.model} is not one"
    if args.output is not None and (args.output.is_dir() or not args.output.parent.is_dir()):
        return f"--output {args.output}: " + (
            "is a folder; give a file name" if args.output.is_dir() else f"folder {args.output.parent} does not exist"
        )
    return None


def format_entry(entry: dict) -> str:
    value = (
        f"{entry['mean']:.4f} ± {entry['std']:.4f}"
        if "std" in entry
        else (f"{entry['value']:.4f}" if isinstance(entry["value"], float) else f"{entry['value']}")
    )
    protocol = ", ".join(
        f"{k}={entry[k]}"
        for k in ("scorer", "num_samples", "splits", "seed", "reference", "subsets", "subset_size", "num_modes")
        if k in entry
    )
    return f"{entry['name']}: {value}  ({protocol})"


def main(argv=None, prog: str = PROG, parser_class=OneLineParser) -> dict:  # prog, parser_class: gan-hub score's
    parser = build_parser(prog, parser_class)
    args = parser.parse_args(argv)
    problem = usage_problem(args)
    if problem:
        fail(prog, problem, USAGE)
    return reporting_errors(prog, lambda: score(args))


def score(args: argparse.Namespace) -> dict:
    if args.threads:
        torch.set_num_threads(args.threads)
    from gan_hub.hub import Generator

    from . import load_scorer
    from .evaluate import applicable_metrics, default_reference, measure, parse_metrics, reference_scores, score_entries

    requested = parse_metrics(args.metrics)
    generator = Generator.from_pretrained(args.model).to(args.device)
    if generator.config.is_vector:
        raise ValueError(
            f"{args.model} makes 2-D points: image scorers do not apply; its mode-coverage scores (in its "
            "metrics.json) are re-measured by gan_hub.metrics.modes.mixture_scores(Generator.from_pretrained(MODEL))"
        )
    scorer = load_scorer(args.scorer, weights_path=args.weights).to(args.device)
    reference = default_reference(generator.config.dataset, args.data_dir, args.reference_split)
    chosen = applicable_metrics(requested, generator.config, scorer, reference, strict=True, progress=True)
    result = measure(
        generator, scorer, args.num_samples, args.seed, chosen, args.splits, args.batch_size, progress=True
    )
    scores = score_entries(result, reference, args.kid_subsets, args.kid_subset_size)
    output = {
        "model": str(args.model),
        "scores": scores,
        "protocol": {
            "samples": f"Generator.generate({args.num_samples}, seed={args.seed})",
            "is_splits": "contiguous chunks [k*N//splits, (k+1)*N//splits) in sample order, no shuffle",
            "is_std": "population std over splits (ddof=0)",
            "fid_covariance": "unbiased (ddof=1), float64, eigendecomposition square root",
            "kid": "cubic polynomial kernel, unbiased MMD^2, subsets drawn by numpy RandomState(2020)",
        },
        "scorer": {"name": scorer.name, **scorer.info},
    }
    if result.inception is not None:
        output["split_scores"] = result.inception.split_scores()
        output["class_histogram"] = result.inception.class_histogram().tolist()
    if scorer.info.get("reference_weights") is False:
        print(
            "note: these Inception weights are not the reference file; the scores are not comparable with published "
            "ones"
        )
    for entry in scores:
        print(format_entry(entry))
    if args.output:
        atomic_write_text(args.output, json.dumps(output, indent=2) + "\n")
        print(f"wrote {args.output}")
    if args.update_model:
        update_model_folder(generator, Path(args.model), scores, reference_scores(scorer.name))
    return output


def update_model_folder(generator, folder: Path, scores: list[dict], reference: list[dict]) -> None:
    """Rewrite a model folder's metrics.json (keeping its other keys) and its model card, atomically."""
    from gan_hub.hub import CARD_NAME, METRICS_NAME

    generator.metrics = {**(generator.metrics or {}), "scores": scores, "reference": reference}
    atomic_write_text(folder / METRICS_NAME, json.dumps(generator.metrics, indent=2) + "\n")
    atomic_write_text(folder / CARD_NAME, str(generator.generate_model_card()))
    print(f"updated {folder / METRICS_NAME} and {folder / CARD_NAME}")


if __name__ == "__main__":
    main()
