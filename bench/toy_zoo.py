"""The zoo's 2-D generators: ``model_zoo/<variant>-ring8`` and ``model_zoo/<variant>-grid25``.

Each is trained with the published protocol of ``bench/toy_modes.py --preset pacgan`` (bench/toy_protocol.py:
PacGAN's data, networks, Adam 1e-4 / beta1 0.8, D batch 100 (packs of m for PacGAN-m), the trainer's
own step through the composer), one seed, except that the generator is 4 x 200 instead of 4 x 400
(``hidden_dim`` 200; the maxout discriminator keeps its published 3 x 200 units) so that the six
generators together stay near 1.5 MB in float16. The generator is written by
``Generator.save_pretrained`` (float16 weights, card, scatter plot), and metrics.json holds the
protocol's scores measured on exactly the stored weights::

    python bench/toy_zoo.py                        # train what has no checkpoint in --runs, export all six
    python bench/toy_zoo.py --only gan-ring8       # one model
    python bench/toy_zoo.py --export-only          # re-export from the checkpoints (same weights)
    python bench/toy_zoo.py --status               # which zoo folders are current (JSON; python -m train.zoo reads it)

Training is deterministic for a given torch version and thread count (one thread, as here).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from safetensors.torch import load_file  # noqa: E402
from toy_protocol import BATCH, compose_run, train_group  # noqa: E402

from gan_hub.cards import format_score  # noqa: E402
from gan_hub.data.images import DatasetInfo  # noqa: E402
from gan_hub.hub import Generator  # noqa: E402
from gan_hub.metrics.modes import mixture_scores  # noqa: E402
from train.provenance import git_commit, library_versions  # noqa: E402

# zoo name -> (protocol run, dataset, trainer steps): PacGAN2 on the ring and PacGAN4 on the grid are the
# paper's rows for each (Table 1); unrolling (k = 5 steps of D's Adam) costs about 15 GAN steps per step.
# Budgets small enough for a CPU shared with other training (the paper: 400,000 steps, 10 seeds).
MODELS = {
    "gan-ring8": ("gan", "ring8-unit", 5_000),
    "gan-grid25": ("gan", "grid25", 10_000),
    "pacgan-ring8": ("pacgan2", "ring8-unit", 5_000),
    "pacgan-grid25": ("pacgan4", "grid25", 10_000),
    "unrolled-ring8": ("unrolled", "ring8-unit", 300),
    "unrolled-grid25": ("unrolled", "grid25", 300),
}
NETWORKS = {"hidden_dim": 200}
SEED = 0
PROTOCOL = (
    "PacGAN's 2-D protocol (bench/toy_protocol.py: its data, maxout D, Adam 1e-4 / beta1 0.8, D batch 100 "
    "(of m-sample packs for PacGAN-m); "
    "scored as VEEGAN does) with the generator narrowed to 4 x 200 units (PacGAN's: 4 x 400) to keep the "
    "zoo small; one seed, trained and exported by bench/toy_zoo.py"
)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--only", default=",".join(MODELS), help=f"comma-separated zoo names (default: {', '.join(MODELS)})")
    p.add_argument("--runs", type=Path, default=ROOT / "runs" / "toy-zoo", help="checkpoints and training results")
    p.add_argument("--zoo", type=Path, default=ROOT / "model_zoo")
    p.add_argument("--export-only", action="store_true", help="train nothing: export the checkpoints in --runs")
    p.add_argument("--train-only", action="store_true", help="train (what has no checkpoint) and export nothing")
    p.add_argument("--status", action="store_true", help="print {name: current?} as JSON and exit")
    args = p.parse_args(argv)
    args.only = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in args.only if n not in MODELS]
    if unknown:
        p.error(f"unknown zoo name(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    return args


def is_current(name: str, zoo: Path) -> bool:
    """``zoo/name`` was exported from a training with the protocol's present settings and budget."""
    run, dataset, steps = MODELS[name]
    try:
        provenance = json.loads((zoo / name / "config.json").read_text()).get("provenance") or {}
    except (OSError, ValueError):
        return False
    wanted = compose_run(run, dataset, [SEED], NETWORKS, steps).settings
    as_json = lambda value: json.loads(json.dumps(value, sort_keys=True, default=str))  # noqa: E731
    return provenance.get("steps") == steps and as_json(provenance.get("resolved")) == as_json(wanted)


def checkpoint(runs: Path, name: str) -> Path:
    run, dataset, _ = MODELS[name]
    return runs / name / f"{run}-{dataset}-seed{SEED}.safetensors"


def trained(runs: Path, name: str) -> bool:
    """The run folder holds a finished training: its generator and its record (written last)."""
    return checkpoint(runs, name).is_file() and (runs / name / "results.json").is_file()


def train(name: str, runs: Path) -> dict:
    """Train one model (its checkpoint and results.json in ``runs/name``); the training record."""
    run, dataset, steps = MODELS[name]
    (result,) = train_group(
        run,
        dataset,
        [SEED],
        steps,
        eval_every=steps // 10,
        checkpoint_dir=runs / name,
        arch_kwargs=NETWORKS,
    )
    batch = compose_run(run, dataset, [SEED], NETWORKS, steps).settings["batch_size"]
    record = {**{k: v for k, v in result.items() if k != "points"}, "batch_size": batch}
    (runs / name / "results.json").write_text(json.dumps(record, indent=2) + "\n")
    return record


def export(name: str, runs: Path, zoo: Path) -> dict:
    """Write ``zoo/name`` from its checkpoint: float16 weights, scores measured on them; returns the metrics."""
    run, dataset, steps = MODELS[name]
    record = json.loads((runs / name / "results.json").read_text())
    if record["steps"] != steps or record.get("interrupted") or not record["finite"]:
        raise SystemExit(
            f"bench/toy_zoo.py: {runs / name} holds {record['steps']} of {steps} steps"
            f"{' (non-finite losses)' if not record['finite'] else ''}: delete it and train again"
        )
    resolved = compose_run(run, dataset, [SEED], NETWORKS, steps)
    if record.get("batch_size", BATCH) != resolved.settings["batch_size"]:  # records without one: batch 100
        raise SystemExit(
            f"bench/toy_zoo.py: {runs / name} was trained at batch {record.get('batch_size', BATCH)}, the "
            f"protocol now trains {run} at {resolved.settings['batch_size']} (D judges 100 packs a step): "
            "delete it and train again"
        )
    config = resolved.model_config(DatasetInfo(dataset, channels=2, image_size=0))
    config.provenance = {
        "training_config": resolved.cfg.to_dict(),
        "resolved": resolved.settings,
        "objective": resolved.setup.objective.name,
        "steps": record["steps"],
        "batch_size": resolved.settings["batch_size"],
        "seed": SEED,
        "protocol": PROTOCOL,
        "git_commit": git_commit(),
        "versions": library_versions(),
    }
    generator = Generator(config)
    generator.net.load_state_dict(load_file(str(checkpoint(runs, name))))
    generator.round_weights_to(torch.float16)  # score what the zoo stores
    generator.metrics = {
        "scores": mixture_scores(generator),
        "training": {"steps": record["steps"], "seed": SEED, "seconds": record["seconds"], "curve": record["curve"]},
    }
    staging = zoo / f".{name}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    generator.save_pretrained(staging, weights_dtype=torch.float16)
    shutil.rmtree(zoo / name, ignore_errors=True)
    staging.rename(zoo / name)
    return generator.metrics


def table(zoo: Path, names: list[str]) -> str:
    """Markdown: per exported model its data, steps and the protocol's four scores (from metrics.json)."""
    from toy_modes import PUBLISHED

    rows = [
        "| model | data | steps | modes captured | high quality | reverse KL | modes covered (strict) "
        "| published (PacGAN Table 1; unrolled: VEEGAN) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        metrics = json.loads((zoo / name / "metrics.json").read_text())
        scores = {s["metric"]: s for s in metrics["scores"]}
        run, dataset, _ = MODELS[name]
        k = scores["modes_captured"]["num_modes"]
        rows.append(
            f"| [{name}](model_zoo/{name}) | {dataset} | {metrics['training']['steps']:,} "
            f"| {scores['modes_captured']['value']} / {k} | {100 * scores['high_quality_share']['value']:.1f} % "
            f"| {format_score(scores['reverse_kl'])} | {scores['modes_covered_strict']['value']} / {k} "
            f"| {run}: {PUBLISHED.get((run, dataset), '')} |"
        )
    return "\n".join(rows)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.status:
        print(json.dumps({name: is_current(name, args.zoo) for name in args.only}))
        return
    torch.set_num_threads(1)
    for name in args.only:
        if not args.export_only and not trained(args.runs, name):
            started = time.perf_counter()
            record = train(name, args.runs)
            print(f"{name}: trained {record['steps']} steps in {time.perf_counter() - started:.0f} s", flush=True)
        if args.train_only:
            continue
        if not trained(args.runs, name):
            raise SystemExit(f"bench/toy_zoo.py: no finished training of {name} in {args.runs / name}: train it first")
        scores = export(name, args.runs, args.zoo)["scores"]
        print(f"{name}: " + "; ".join(f"{s['name']} {format_score(s)}" for s in scores), flush=True)
    if not args.train_only:
        print(table(args.zoo, args.only))


if __name__ == "__main__":
    main()
