"""Score a pretrained generator from the command line.

    python -m gan_hub.metrics MODEL --scorer mnist-classifier --num-samples 10000 [--output is.json]

The samples scored are exactly ``Generator.from_pretrained(MODEL).generate(N, seed=SEED)``;
they are produced and scored batch by batch. The Inception Score uses contiguous splits in
sample order (torch-fidelity's chunking, without its shuffle) and reports mean ± population std.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m gan_hub.metrics", description=__doc__.split("\n\n")[0])
    p.add_argument("model", metavar="MODEL", help="model folder or Hub id understood by Generator.from_pretrained")
    p.add_argument("--scorer", default="mnist-classifier", help="registered scorer name (default: mnist-classifier)")
    p.add_argument("--weights", default=None, help="override the scorer's shipped weights file (safetensors)")
    p.add_argument("--num-samples", type=int, default=10_000)
    p.add_argument("--splits", type=int, default=10)
    p.add_argument("--seed", type=int, default=0, help="generation seed: the samples are generate(N, seed=SEED)")
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--output", type=Path, default=None, help="write the result as JSON to this file")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.num_samples < 1 or args.batch_size < 1:
        sys.exit("--num-samples and --batch-size must be positive")
    from gan_hub.hub import Generator

    from . import load_scorer
    from .evaluate import score_samples

    scorer = load_scorer(args.scorer, weights_path=args.weights).to(args.device)
    generator = Generator.from_pretrained(args.model).to(args.device)
    scores = score_samples(generator, scorer, args.num_samples, args.seed, args.splits, args.batch_size, progress=True)
    metric = scores.inception
    mean, std = metric.compute()

    kind = "classifier IS" if args.scorer != "inception-v3" else "Inception Score"
    protocol = {"scorer": args.scorer, "num_samples": metric.n, "splits": args.splits, "seed": args.seed,
                "samples": f"Generator.generate({metric.n}, seed={args.seed})",
                "split_assignment": "contiguous chunks [k*N//splits, (k+1)*N//splits) in sample order, no shuffle",
                "std": "population std over splits (ddof=0)"}
    result = {
        "model": str(args.model),
        "metric": kind,
        "mean": mean,
        "std": std,
        "split_scores": metric.split_scores(),
        "class_histogram": metric.class_histogram().tolist(),
        "protocol": protocol,
        "scorer_weights": scorer.info.get("weights_path"),
    }
    if scores.label_agreement is not None:
        result["label_agreement"] = scores.label_agreement
    print(f"{kind}@{metric.n}: {mean:.4f} ± {std:.4f}  (scorer={args.scorer}, n={metric.n}, splits={args.splits}, seed={args.seed})")
    if scores.label_agreement is not None:
        print(f"label agreement@{metric.n}: {scores.label_agreement:.4f}  (share of samples classified as their requested class)")
    if args.output:
        from gan_hub.io import atomic_write_text

        atomic_write_text(args.output, json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.output}")
    return result


if __name__ == "__main__":
    main()
