"""Semi-supervised MNIST with 100 labels (Salimans et al., 2016, sec. 5.1: 93 +/- 6.5 test errors of
10,000 with feature matching): train the `semi-supervised` variant once per seed and count the errors
of its exported classifier on the 10,000 MNIST test images.

    nice -n 10 python bench/semi_supervised_mnist.py --data-dir DIR --seeds 0,1,2,3,4 --epochs 10

    # the paper's schedule (300 epochs, a 0.9999 average), five seeds side by side, one process each,
    # continued over as many sessions as it takes (run folders outside the work tree):
    for s in 0 1 2 3 4; do python bench/semi_supervised_mnist.py --data-dir DIR --seeds $s --epochs 300 \
        --average-decay 0.9999 --runs ~/gan-hub-runs/semi/runs --output ~/gan-hub-runs/semi/seed$s.json & done
    python bench/semi_supervised_mnist.py --table-only --merge ~/gan-hub-runs/semi/seed*.json

    # when the five have finished: seed 0's model becomes the zoo's, with a preset that reproduces it
    python bench/semi_supervised_mnist.py --adopt 0 --merge ~/gan-hub-runs/semi/seed*.json --data-dir DIR

Each seed is a run of the ordinary trainer (`python -m train --variant semi-supervised --dataset mnist
--batch-size 100 --max-steps EPOCHS*600 --seed S`), driven step by step so that the test error is
measured after every epoch: the exported classifier (the running average of D's weights, as the
authors test it) and, for comparison, D's last weights, both in eval mode (no noise). Results are written to the
JSON file after every epoch (atomically), and a killed run resumes from its last epoch's checkpoint:
run the same command again. The labelled subset (10 per class) is drawn with the seed; the test error
at the end is the exported classifier's (`gan_hub.classifier.Classifier`), checked to equal the
in-training measurement. Prints a table per seed and the mean +/- std (ddof 1) over seeds (and, while
seeds are still training, over the last epoch they have all finished).
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import platform
import statistics
import sys
import textwrap
import time
from pathlib import Path

import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gan_hub.classifier import Classifier  # noqa: E402
from gan_hub.data import load_dataset  # noqa: E402
from gan_hub.io import atomic_write_text  # noqa: E402
from gan_hub.optim import OPTIMIZERS  # noqa: E402
from train.checkpoints import save_checkpoint  # noqa: E402
from train.config import TrainConfig  # noqa: E402
from train.trainer import Trainer  # noqa: E402

PAPER = {"errors_mean": 93, "errors_std": 6.5, "source": "Salimans et al. 2016, Table 1, feature matching, 100 labels"}


def cpu_name() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else (platform.processor() or "unknown")


@torch.no_grad()
def predict(discriminator: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    was_training = discriminator.training
    discriminator.eval()
    x = images.float().div(127.5).sub(1.0)
    predicted = torch.cat([discriminator(x[i : i + 2000]).argmax(1) for i in range(0, len(x), 2000)])
    discriminator.train(was_training)
    return predicted


def test_errors(discriminator: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor) -> int:
    return int((predict(discriminator, images) != labels).sum())


def top_confusions(predicted: torch.Tensor, labels: torch.Tensor, count: int = 3) -> dict[str, int]:
    """The ``count`` most frequent mistakes as {"true->predicted": number}: a seed whose errors sit in one
    pair has confused two classes (a cluster of the unlabelled data given the wrong label)."""
    wrong = predicted != labels
    pairs = torch.stack([labels[wrong], predicted[wrong]], 1)
    if not len(pairs):
        return {}
    values, counts = pairs.unique(dim=0, return_counts=True)
    order = counts.argsort(descending=True, stable=True)[:count]
    return {f"{int(values[i, 0])}->{int(values[i, 1])}": int(counts[i]) for i in order}


def averaged_discriminator(trainer: Trainer) -> torch.nn.Module:
    """A copy of D holding what the export writes: the running average of its weights."""
    network = trainer.accelerator.unwrap_model(trainer.D)
    averaged = copy.deepcopy(network)
    averaged.load_state_dict(trainer.algorithm.discriminator_export(network))
    return averaged


def decay_epoch(args) -> int:
    """The epoch from which both learning rates fall linearly to 0 at the end: the authors' code keeps 3e-3
    for 200 epochs of 300 and decays it over the last 100; by default the same two thirds of any schedule."""
    return args.epochs * 2 // 3 if args.lr_decay_epoch is None else args.lr_decay_epoch


def run_config(seed: int, args, train_size: int) -> TrainConfig:
    """One seed's trainer run: ``args.epochs`` passes over the ``train_size`` unlabelled images."""
    per_epoch = train_size // args.batch_size
    return TrainConfig(
        variant="semi-supervised",
        dataset=args.dataset,
        data_dir=args.data_dir,
        seed=seed,
        output_dir=str(Path(args.runs) / f"seed_{seed}"),
        max_steps=args.epochs * per_epoch,
        lr_decay_start=decay_epoch(args) * per_epoch,
        batch_size=args.batch_size,
        eval_samples=0,
        eval_samples_during_training=0,
        log_every=per_epoch,
        sample_every=10**9,
        eval_every=10**9,
        checkpoint_every=per_epoch,  # (the bench checkpoints each epoch itself; a retrain from the preset resumes too)
        variant_options={"num_labelled": args.labels, "average_decay": args.average_decay},
        optimizer=args.optimizer,
        **({"arch_kwargs": json.loads(args.arch_kwargs)} if args.arch_kwargs else {}),
    )


def run_seed(seed: int, args, test, record: dict, save) -> None:
    cfg = run_config(seed, args, len(load_dataset(args.dataset, args.data_dir, train=True)))
    per_epoch = cfg.log_every
    trainer = Trainer(cfg)
    trainer.resume()
    discriminator = trainer.accelerator.unwrap_model(trainer.D)
    record.update({"labelled_indices": trainer.algorithm.labelled_indices.tolist(), "command_config": cfg.to_dict()})
    record.setdefault("epochs", {})
    batches = trainer.batches()
    started = time.time()
    while trainer.step < cfg.max_steps:
        real, labels = next(batches)
        trainer.last_logs = trainer.train_step(real, labels)
        trainer.step += 1
        if trainer.step % per_epoch == 0:
            epoch = trainer.step // per_epoch
            predicted = predict(averaged_discriminator(trainer), test[0])
            errors = int((predicted != test[1]).sum())
            record["epochs"][str(epoch)] = {
                "test_errors": errors,
                "top_confusions": top_confusions(predicted, test[1]),
                "seconds": round(time.time() - started, 1),
                "test_errors_last_weights": test_errors(discriminator, *test),
                "logs": {k: round(v, 4) for k, v in trainer.last_logs.items()},
            }
            record["wall_seconds"] = round(record.get("wall_seconds", 0) + time.time() - started, 1)
            started = time.time()
            save_checkpoint(
                trainer.accelerator,
                trainer.checkpoint_dir,
                trainer.step,
                trainer.ema,
                1,
                trainer.noise,
                trainer.algorithm,
            )
            save()
            print(
                f"seed {seed} epoch {epoch}: {errors} test errors ({record['epochs'][str(epoch)]['seconds']} s)",
                flush=True,
            )
    model_dir = trainer.export()
    exported = Classifier.from_pretrained(model_dir)
    predictions = exported.predict(test[0])
    record["test_errors"] = int((predictions != test[1]).sum())
    record["model_dir"] = str(model_dir)
    last = record["epochs"].get(str(args.epochs), {}).get("test_errors")
    record["exported_matches_training"] = last is None or last == record["test_errors"]
    save()


def mean_row(label: str, epochs: str, errors: list[int]) -> str:
    spread = statistics.stdev(errors) if len(errors) > 1 else 0.0
    mean = statistics.mean(errors)
    return f"| {label} | {epochs} | **{mean:.1f} ± {spread:.1f}** | {mean / 100:.2f} % | |"


def merged(paths: list[Path]) -> dict:
    """The seeds of several result files (one per process when seeds train side by side) as one result."""
    results: dict = {"seeds": {}}
    for path in paths:
        results["seeds"].update(json.loads(path.read_text()).get("seeds", {}))
    return results


def table(results: dict) -> str:
    rows = ["| seed | epochs | test errors / 10,000 | error rate | wall time |", "|---|---|---|---|---|"]
    done = []
    for seed, r in sorted(results["seeds"].items(), key=lambda kv: int(kv[0])):
        epochs = max(map(int, r.get("epochs", {})), default=0)
        errors = r.get("test_errors", r["epochs"].get(str(epochs), {}).get("test_errors") if epochs else None)
        final = "test_errors" in r
        if final:
            done.append(errors)
        rows.append(
            f"| {seed} | {epochs}{'' if final else ' (running)'} | {errors} | "
            f"{'' if errors is None else f'{errors / 100:.2f} %'} | {r.get('wall_seconds', 0) / 60:.1f} min |"
        )
    if done:
        rows.append(mean_row(f"mean ± std ({len(done)} seeds)", "", done))
    running = [r for r in results["seeds"].values() if "test_errors" not in r and r.get("epochs")]
    if len(running) > 1:  # seeds still training: compare them at the last epoch they have all finished
        common = min(max(map(int, r["epochs"])) for r in running)
        at = [r["epochs"][str(common)]["test_errors"] for r in running]
        rows.append(mean_row(f"mean ± std at epoch {common} ({len(at)} seeds, still training)", str(common), at))
    rows.append(f"| paper (feature matching) | | {PAPER['errors_mean']} ± {PAPER['errors_std']} | 0.93 % | |")
    return "\n".join(rows)


ZOO_NOTES = (
    "Semi-supervised GAN (Salimans et al., 2016) with {labels} labels, {schedule}: {epochs} epochs ({steps:,} steps "
    "of {batch} labelled + {batch} unlabelled + {batch} generated images), Adam 3e-3 / beta1 0.5 falling "
    "linearly to 0 from epoch {decay_epoch}, the exported "
    "classifier is the {decay} running average of D's weights, as the authors test it. Seed {seed} of the {count} "
    "of bench/semi_supervised_mnist.py (README, Semi-supervised MNIST): its test errors {errors} of {test_size:,}; "
    "the {count}: {all_errors}, {mean:.1f} +/- {std:.1f} (paper, MNIST: 93 +/- 6.5). Its generator is trained for "
    "classification (feature matching), not for samples, hence its classifier IS."
)


def adopt(seed: int, results: dict, args) -> str:
    """Make a finished seed's model the zoo's ``semi-supervised-<dataset>``: write the preset that reproduces it
    (``python -m train --config``; the zoo's retrain then finds it current) and export it. Returns the scores."""
    from train.zoo import LOCATION_KEYS, NOT_SCALED, preset_notes
    from train.zoo_export import export_run

    record = results["seeds"].get(str(seed))
    if not record or "test_errors" not in record:
        epochs = max(map(int, (record or {}).get("epochs", {})), default=0)
        raise SystemExit(f"seed {seed} has not finished its run (at epoch {epochs}): adopt a finished seed")
    cfg = TrainConfig(**record["command_config"])
    data_dir = args.data_dir or cfg.data_dir  # where the run found its data, unless told otherwise
    finished = [r["test_errors"] for r in results["seeds"].values() if "test_errors" in r]
    epochs, decay = cfg.max_steps // cfg.log_every, cfg.variant_options["average_decay"]
    notes = ZOO_NOTES.format(
        labels=cfg.variant_options["num_labelled"],
        schedule="the paper's schedule"
        if (epochs, decay, cfg.lr_decay_start) == (300, 0.9999, 200 * cfg.log_every)
        else "a different schedule from the paper's",
        epochs=epochs,
        decay_epoch=(cfg.lr_decay_start if cfg.lr_decay_start is not None else cfg.max_steps) // cfg.log_every,
        steps=cfg.max_steps,
        batch=cfg.batch_size,
        decay=decay,
        seed=seed,
        count=f"{len(finished)} seeds",
        errors=record["test_errors"],
        test_size=len(load_dataset(cfg.dataset, data_dir, train=False)),
        all_errors=", ".join(map(str, finished)),
        mean=statistics.mean(finished),
        std=statistics.stdev(finished) if len(finished) > 1 else 0.0,
    )
    name = f"semi-supervised-{cfg.dataset}"
    defaults = {
        f.name: f.default if f.default is not dataclasses.MISSING else f.default_factory()
        for f in dataclasses.fields(TrainConfig)
        if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
    }
    options = {
        k: v for k, v in cfg.to_dict().items() if k not in LOCATION_KEYS and (k not in defaults or v != defaults[k])
    }
    preset = Path(args.presets) / f"{name}.yaml"
    # float sums depend on the thread count: the bench trains on one thread, and so must the retrain to be exact
    header = [
        f"# model_zoo/{name}: OMP_NUM_THREADS=1 python -m train --config train/presets/{preset.name} --data-dir DIR"
    ]
    header += ["# " + line for line in textwrap.wrap(notes, 116)]
    header += [f"{NOT_SCALED} (the paper's schedule already)"] if "the paper's schedule" in notes else []
    atomic_write_text(preset, "\n".join(header) + "\n" + yaml.safe_dump(options, sort_keys=False))
    return export_run(Path(record["model_dir"]), Path(args.zoo) / name, data_dir, preset_notes(preset))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None, help="folder with the MNIST IDX files (needed to train)")
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--epochs", type=int, default=10, help="passes over the 60,000 unlabelled training images per seed")
    p.add_argument(
        "--lr-decay-epoch",
        type=int,
        default=None,
        help="both learning rates fall linearly to 0 from this epoch on (default: two thirds of --epochs, as the "
        "authors' 200 of 300)",
    )
    p.add_argument("--labels", type=int, default=100, help="labelled examples, balanced over the 10 classes")
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument(
        "--average-decay", type=float, default=0.999, help="of the classifier's weight average (0: last weights)"
    )
    p.add_argument("--threads", type=int, default=1)
    p.add_argument(
        "--optimizer",
        choices=OPTIMIZERS,
        default=None,
        help="default: the variant's (the authors' Adam, eps inside the square root); adam: torch's",
    )
    p.add_argument("--dataset", default="mnist", help="a labelled image dataset (tests use synthetic)")
    p.add_argument("--arch-kwargs", default=None, help="JSON, e.g. '{\"hidden_dim\": 32}' (tests); default the paper's")
    p.add_argument(
        "--adopt",
        type=int,
        default=None,
        metavar="SEED",
        help="make this finished seed's model the zoo's (writes its preset and exports it; with --merge or --output)",
    )
    p.add_argument("--presets", default=str(ROOT / "train" / "presets"), help="with --adopt: the presets folder")
    p.add_argument("--zoo", default=str(ROOT / "model_zoo"), help="with --adopt: the zoo folder")
    p.add_argument("--runs", default="runs/semi-supervised-mnist-bench", help="run folders (checkpoints, exports)")
    p.add_argument("--output", default="bench/results/semi_supervised_mnist.json")
    p.add_argument("--table-only", action="store_true", help="print the table of the saved results and exit")
    p.add_argument(
        "--merge",
        type=Path,
        nargs="+",
        default=None,
        help="with --table-only: one table over the seeds of these result files (seeds trained side by side)",
    )
    args = p.parse_args(argv)
    if args.lr_decay_epoch is not None and not 0 <= args.lr_decay_epoch < args.epochs:
        p.error(f"--lr-decay-epoch must be in [0, --epochs) = [0, {args.epochs}), got {args.lr_decay_epoch}")
    if args.adopt is not None:
        sources = args.merge or [Path(args.output)]
        missing = [str(path) for path in sources if not Path(path).is_file()]
        if missing:
            p.error(f"--adopt: no results file {', '.join(missing)} (name the seeds' files with --merge or --output)")
        results = merged(sources)
        print(adopt(args.adopt, results, args))
        return 0
    if args.table_only and args.merge:
        print(table(merged(args.merge)))
        return 0
    if not args.table_only and not args.data_dir and args.dataset != "synthetic":  # synthetic: made in memory
        p.error("--data-dir (the folder with the MNIST IDX files) is needed to train")
    out = Path(args.output)
    results = json.loads(out.read_text()) if out.is_file() else {}
    if not args.table_only:
        torch.set_num_threads(args.threads)
        results.update(
            {
                "paper": PAPER,
                "cpu": cpu_name(),
                "threads": args.threads,
                "torch": torch.__version__,
                "epochs": args.epochs,
                "lr_decay_epoch": decay_epoch(args),
                "labels": args.labels,
                "batch_size": args.batch_size,
                "average_decay": args.average_decay,
                "command": " ".join(["python", "bench/semi_supervised_mnist.py", *sys.argv[1:]]),
            }
        )
        results.setdefault("seeds", {})
        save = lambda: atomic_write_text(out, json.dumps(results, indent=1) + "\n")  # noqa: E731
        test_set = load_dataset(args.dataset, args.data_dir, train=False)
        test = (test_set.images, test_set.labels)
        for seed in (int(s) for s in args.seeds.split(",")):
            record = results["seeds"].setdefault(str(seed), {})
            if "test_errors" in record:
                continue
            run_seed(seed, args, test, record, save)
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
