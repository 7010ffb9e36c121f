"""Stacked MNIST mode coverage: how many of the 1,000 digit triples each technique's generator reaches.

The benchmark of Metz et al. (Unrolled GANs), VEEGAN and PacGAN: every training image stacks three
MNIST digits in R, G and B (``--dataset stacked-mnist``), so there are 10**3 modes. Rows::

    dcgan         the dcgan variant
    pacdcgan2     the pacgan variant with pack 2 on the same DCGAN networks: D judges 64 pairs a step
                  (G draws 128 images, the real batch is 128 images), as the PacGAN authors' code
    unrolled      the unrolled variant (G scored by D after 5 differentiable steps of D's Adam)
    minibatch     dcgan plus the minibatch_discrimination technique
    wgan-gp       the wgan-gp variant (5 critic steps per generator step, gradient penalty 10)

Each run (row, seed) is the project trainer's: a TrainConfig resolved by ``train/compose.py`` and
trained by ``train.trainer.Trainer``, so it is exactly what ``python -m train --config
RUN/train.yaml`` runs (the bench writes that file into the run folder). A run's step is one
discriminator batch, as in the trainer. Scores: ``--samples`` (26,000) samples of the exported
generator (its final weights, as the papers score it: the bench turns the trainer's EMA off; batch
norm in eval mode), latents of seed 0; each channel read by the project's MNIST
classifier (``gan_hub.metrics.modes.stacked_mnist_modes``, through ``evaluate_generator``); modes found
= distinct triples, KL(mode histogram || uniform over 1,000) in nats.

Presets (``--steps`` overrides the number of steps):

* ``cpu``: DCGAN networks at half width (``base_channels`` 32), latent 100, batch 64, the trainer's
  Stacked MNIST (60,000 stacked images), 4 epochs = 3,748 steps per run (wgan-gp: 750 G updates).
* ``veegan``: VEEGAN's setting: 128,000 stacked images, 50 epochs at batch 64 = 100,000 steps, the
  DCGAN networks at full width (``base_channels`` 64); for a GPU (``--device cuda``).

    python bench/stacked_mnist.py --preset cpu --seeds 0-2 --data-dir /work/shared/data/mnist
    python bench/stacked_mnist.py --preset veegan --device cuda --seeds 0-4 --data-dir DIR
    python bench/stacked_mnist.py --preset cpu --rows dcgan,pacdcgan2 --dry-run   # resolved settings only

Runs live in ``--runs-dir`` (default ~/gan-hub-runs/stacked/PRESET), one folder per (row, steps,
seed). Running the same command again resumes: finished and scored runs are read back, interrupted
ones continue from their last checkpoint (every 500 steps). Prints a markdown table (modes and KL,
mean ± standard error over seeds, next to the published numbers) and writes every run to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import torch  # noqa: E402
import yaml  # noqa: E402
from semi_supervised_mnist import cpu_name  # noqa: E402
from toy_figures import mean_se  # noqa: E402
from toy_modes import parse_seeds  # noqa: E402
from tqdm.auto import tqdm  # noqa: E402

from gan_hub.cli_errors import FAILURE, USAGE, USER_ERRORS, OneLineParser, fail  # noqa: E402
from gan_hub.io import atomic_write_text  # noqa: E402
from train.cli import check_choices  # noqa: E402
from train.compose import Run, compose  # noqa: E402
from train.config import TrainConfig, TrainConfigError  # noqa: E402

PROG = "python bench/stacked_mnist.py"
NUM_MODES = 1000
SAMPLES = 26_000  # VEEGAN's and PacGAN's count
SAMPLE_SEED = 0
SCORE_FILE = "stacked_modes.json"


@dataclass(frozen=True)
class Row:
    variant: str
    techniques: dict[str, Any] = field(default_factory=dict)
    variant_options: dict[str, Any] = field(default_factory=dict)
    published: str = ""  # modes · KL in the VEEGAN setting


ROWS = {
    "dcgan": Row("dcgan", published="99 · 3.40"),
    "pacdcgan2": Row("pacgan", variant_options={"pack": 2}, published="1000 · 0.06"),
    "unrolled": Row("unrolled", published="48.7 · 4.32"),
    "minibatch": Row("dcgan", techniques={"minibatch_discrimination": True}),
    "wgan-gp": Row("wgan-gp", published="959 · 0.73 (EnGAN paper)"),
}


@dataclass(frozen=True)
class Preset:
    epochs: int
    dataset_size: int  # stacked images; 60,000 is the trainer's default (one per MNIST training digit)
    arch_kwargs: dict[str, Any]
    device: str
    batch_size: int = 64

    @property
    def steps(self) -> int:
        return self.epochs * (self.dataset_size // self.batch_size)


TRAINER_SIZE = 60_000
PRESETS = {
    "cpu": Preset(epochs=4, dataset_size=TRAINER_SIZE, arch_kwargs={"base_channels": 32}, device="cpu"),
    "veegan": Preset(epochs=50, dataset_size=128_000, arch_kwargs={"base_channels": 64}, device="cuda"),
}


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def row_list(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    names = list(ROWS) if names == ["all"] else names
    unknown = [n for n in names if n not in ROWS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown row(s) {', '.join(unknown) or '(none given)'}; choose from {', '.join(ROWS)} or all"
        )
    return list(dict.fromkeys(names))


def seed_list(text: str) -> list[int]:
    try:
        seeds = parse_seeds(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: give seeds as 0,1,2 or a range such as 0-4") from None
    if not seeds or min(seeds) < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: seeds must be whole numbers >= 0")
    return list(dict.fromkeys(seeds))


def parse_args(argv=None) -> argparse.Namespace:
    p = OneLineParser(
        prog=PROG,
        description=__doc__.splitlines()[0],
        epilog="Presets: "
        + "; ".join(
            f"{name} = DCGAN networks at base_channels {p.arch_kwargs['base_channels']}, {p.dataset_size:,} stacked "
            f"images, {p.epochs} epochs of batch {p.batch_size} ({p.steps:,} steps), device {p.device}"
            for name, p in PRESETS.items()
        ),
    )
    p.add_argument("--preset", choices=list(PRESETS), default="cpu", help="schedule (see below); default cpu")
    p.add_argument("--rows", type=row_list, default=list(ROWS), help=f"comma-separated: {', '.join(ROWS)}; default all")
    p.add_argument("--seeds", type=seed_list, default=[0], help="training seeds, e.g. 0,1,2 or 0-4; default 0")
    p.add_argument("--steps", type=positive_int, default=None, help="steps per run (D batches); default: the preset's")
    p.add_argument("--samples", type=positive_int, default=SAMPLES, help=f"samples scored per run; default {SAMPLES}")
    p.add_argument(
        "--dataset-size", type=positive_int, default=None, help="stacked training images; default: the preset's"
    )
    p.add_argument("--device", choices=["cpu", "cuda"], default=None, help="default: the preset's (cpu, veegan: cuda)")
    p.add_argument("--data-dir", default=None, help="folder with the MNIST IDX files; default: the trainer's")
    p.add_argument("--runs-dir", type=Path, default=None, help="run folders; default ~/gan-hub-runs/stacked/PRESET")
    p.add_argument("--out", type=Path, default=None, help="results JSON; default RUNS_DIR/results.json")
    p.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads; default: torch's")
    p.add_argument("--dry-run", action="store_true", help="print each row's resolved settings and exit")
    args = p.parse_args(argv)
    preset = PRESETS[args.preset]
    args.steps = args.steps or preset.steps
    args.dataset_size = args.dataset_size or preset.dataset_size
    args.device = args.device or preset.device
    args.runs_dir = (args.runs_dir or Path.home() / "gan-hub-runs" / "stacked" / args.preset).expanduser()
    args.out = args.out or args.runs_dir / "results.json"
    if args.dataset_size < preset.batch_size:
        p.error(f"--dataset-size {args.dataset_size} is smaller than one batch of {preset.batch_size}")
    if args.device == "cuda" and not torch.cuda.is_available() and not args.dry_run:
        p.error("--device cuda: no CUDA GPU is visible here; pass --device cpu to train on the CPU")
    return args


def row_batch(row: str, args) -> int:
    """Images per step: the preset's batch, times m for a PacGAN-m row (D judges a full batch of packs of m
    images, as the PacGAN authors' code: G draws 64 m images a step and the real batch is 64 packs)."""
    return PRESETS[args.preset].batch_size * ROWS[row].variant_options.get("pack", 1)


def run_dir(args, row: str, seed: int) -> Path:
    batch = row_batch(row, args)
    tag = "" if batch == PRESETS[args.preset].batch_size else f"-batch{batch}"
    return args.runs_dir / f"{row}-{args.steps}steps-seed{seed}{tag}"


def row_config(row: str, seed: int, args) -> TrainConfig:
    """The training config of one run: the row's variant, techniques and options on the preset's schedule."""
    spec, preset = ROWS[row], PRESETS[args.preset]
    return TrainConfig(
        variant=spec.variant,
        dataset="stacked-mnist",
        dataset_options={} if args.dataset_size == TRAINER_SIZE else {"size": args.dataset_size},
        output_dir=str(run_dir(args, row, seed)),
        data_dir=args.data_dir,
        max_steps=args.steps,
        batch_size=row_batch(row, args),
        seed=seed,
        arch_kwargs=dict(preset.arch_kwargs),
        techniques=dict(spec.techniques),
        variant_options=dict(spec.variant_options),
        ema_decay=0.0,  # the papers score the generator's final weights, not a running average
        eval_samples=0,  # scored here on 26,000 samples instead (IS and FID do not apply to 3-channel digits)
        eval_samples_during_training=0,
        sample_every=max(500, args.steps // 10),
    )


def resolve(row: str, seed: int, args) -> Run:
    """The run as ``python -m train`` checks and resolves it; a TrainConfigError names the bad option."""
    cfg = row_config(row, seed, args)
    check_choices(cfg)
    return compose(cfg)


def config_yaml(cfg: TrainConfig) -> str:
    """``cfg`` as a ``python -m train --config`` file: the fields that differ from the defaults."""
    defaults = TrainConfig().to_dict()
    given = {k: v for k, v in cfg.to_dict().items() if v != defaults[k] or k in ("variant", "dataset")}
    return yaml.safe_dump(given, sort_keys=False)


def score(model_dir: Path, samples: int, device: str) -> dict:
    """Modes found and KL to uniform of ``samples`` images of the exported generator (latents of seed 0)."""
    from gan_hub.hub import Generator

    return score_generator(Generator.from_pretrained(model_dir, map_location=device), samples)


def score_generator(generator, samples: int) -> dict:
    """The scores of any generator of stacked digits (a gan_hub.hub.Generator of dataset stacked-mnist)."""
    from gan_hub.metrics.evaluate import evaluate_generator

    started = time.perf_counter()
    entries = evaluate_generator(
        generator, num_samples=samples, seed=SAMPLE_SEED, metrics=("modes",), strict=True, progress=True
    )["scores"]
    values = {e["metric"]: e["value"] for e in entries}
    return {
        "modes": values["modes_covered"],
        "kl": values["kl_to_uniform"],
        "samples": samples,
        "sample_seed": SAMPLE_SEED,
        "score_seconds": round(time.perf_counter() - started, 1),
    }


def train_and_score(row: str, seed: int, args) -> dict:
    """One run: trained (or resumed) by the project's trainer, then scored; both results kept in its folder."""
    from train.trainer import Trainer

    cfg = row_config(row, seed, args)
    folder = Path(cfg.output_dir)
    score_file = folder / SCORE_FILE
    done = json.loads(score_file.read_text()) if score_file.is_file() else {}
    if done.get("samples") == args.samples and done.get("steps") == args.steps:
        return done
    model_dir = folder / "model"
    record = {"row": row, "seed": seed, "steps": args.steps, "train_seconds": done.get("train_seconds")}
    if not (model_dir / "config.json").is_file() or record["train_seconds"] is None:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / "train.yaml", config_yaml(cfg))
        started = time.perf_counter()
        Trainer(cfg).train()
        record["train_seconds"] = round(time.perf_counter() - started, 1)
        atomic_write_text(score_file, json.dumps(record, indent=1) + "\n")  # trained: a rerun only scores
    record.update(score(model_dir, args.samples, args.device))
    record.update({"settings": compose(cfg).settings, "command": f"python -m train --config {folder / 'train.yaml'}"})
    atomic_write_text(score_file, json.dumps(record, indent=1, default=str) + "\n")
    return record


def table(results: list[dict]) -> str:
    """Markdown: per row the seeds, modes found and KL (mean ± standard error) and the published numbers."""
    lines = [
        f"| row | seeds | steps | modes (of {NUM_MODES}) | KL to uniform | published (modes · KL) |",
        "|---|---|---|---|---|---|",
    ]
    for row in dict.fromkeys(r["row"] for r in results):
        runs = [r for r in results if r["row"] == row]
        modes, modes_se = mean_se([r["modes"] for r in runs])
        kl, kl_se = mean_se([r["kl"] for r in runs])
        steps = sorted({r["steps"] for r in runs})
        lines.append(
            f"| `{row}` | {len(runs)} | {', '.join(f'{s:,}' for s in steps)} | {modes:.1f} ± {modes_se:.1f} "
            f"| {kl:.2f} ± {kl_se:.2f} | {ROWS[row].published or '—'} |"
        )
    return "\n".join(lines)


def main(argv=None) -> list[dict]:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "cpu":
        os.environ["ACCELERATE_USE_CPU"] = "true"  # the trainer would otherwise take a visible GPU
    try:  # every run is checked before any trains
        runs = {(row, seed): resolve(row, seed, args) for row in args.rows for seed in args.seeds}
    except (TrainConfigError, *USER_ERRORS) as err:
        fail(PROG, err, USAGE)
    if args.dry_run:
        for (row, seed), run in runs.items():
            print(f"{row} seed {seed}: {json.dumps(run.settings, default=str)}")
        return []
    print(
        f"Stacked MNIST, preset {args.preset}: {args.steps:,} steps of batch {PRESETS[args.preset].batch_size} on "
        f"{args.dataset_size:,} stacked images, {args.samples:,} samples scored; device {args.device}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); runs in {args.runs_dir}",
        flush=True,
    )
    results = []
    for row, seed in tqdm(runs, desc="stacked-mnist runs", unit="run", dynamic_ncols=True):
        try:
            record = train_and_score(row, seed, args)
        except USER_ERRORS as err:  # e.g. no MNIST files in --data-dir
            fail(PROG, f"{row} seed {seed}: {err}", FAILURE)
        results.append(record)
        tqdm.write(f"{row} seed {seed}: {record['modes']} modes, KL {record['kl']:.3f}")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        summary = {
            "preset": args.preset,
            "steps": args.steps,
            "dataset_size": args.dataset_size,
            "samples": args.samples,
            "device": args.device,
            "cpu": cpu_name(),
            "torch": torch.__version__,
            "runs": results,
        }
        atomic_write_text(args.out, json.dumps(summary, indent=1, default=str) + "\n")
    print()
    print(table(results))
    print(f"\nwrote {args.out}")
    return results


if __name__ == "__main__":
    main()
