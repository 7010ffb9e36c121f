"""``python -m train.zoo``: retrain the bundled model zoo from its presets, resuming what is done.

Each ``train/presets/<variant>-<dataset>.yaml`` trains one zoo model. A model whose folder in
``model_zoo/`` was trained from exactly that preset (same options, same number of steps) is current
and skipped; any other is trained in ``RUNS/<name>/`` (resuming from its checkpoints when a run was
cut short), then exported to ``model_zoo/<name>/`` with float16 weights and its scores re-measured
on exactly those weights. A summary table ends the run.

    python -m train.zoo --data-dir ../shared/data/mnist                  # everything not current
    python -m train.zoo --only wgan-gp-mnist,began-mnist --device cuda   # on a GPU
    python -m train.zoo --list                                            # status only
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PRESETS = REPO / "train" / "presets"
ZOO = REPO / "model_zoo"
# options that say where files live, not what is trained
LOCATION_KEYS = ("output_dir", "data_dir", "push_to_hub", "num_workers")


@dataclass
class Entry:
    name: str
    preset: Path
    status: str = ""
    seconds: float = 0.0
    scores: str = ""


def presets(only: list[str] | None = None) -> list[Entry]:
    found = {p.stem: p for p in sorted(PRESETS.glob("*.yaml"))}
    if only:
        unknown = [n for n in only if n not in found]
        if unknown:
            raise SystemExit(f"python -m train.zoo: error: no preset named {', '.join(unknown)}; "
                             f"presets: {', '.join(found)}")
        return [Entry(n, found[n]) for n in only]
    return [Entry(n, p) for n, p in found.items()]


def preset_options(preset: Path) -> dict:
    from .config import TrainConfig

    return {k: v for k, v in TrainConfig.from_yaml(preset).to_dict().items() if k not in LOCATION_KEYS}


def is_current(entry: Entry, zoo: Path = ZOO) -> bool:
    """The zoo folder was trained from this preset, to its last step."""
    import json

    config = zoo / entry.name / "config.json"
    if not config.is_file():
        return False
    try:
        provenance = json.loads(config.read_text()).get("provenance") or {}
    except ValueError:
        return False
    wanted = preset_options(entry.preset)
    recorded = {k: v for k, v in (provenance.get("training_config") or {}).items() if k not in LOCATION_KEYS}
    last = wanted.get("stop_at_step") or wanted["max_steps"]
    return all(recorded.get(k) == v for k, v in wanted.items()) and provenance.get("steps") == last


def train(entry: Entry, runs: Path, data_dir: str | None, device: str) -> bool:
    run_dir = runs / entry.name
    run_dir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "train", "--config", str(entry.preset), "--output-dir", str(run_dir)]
    if data_dir:
        cmd += ["--data-dir", data_dir]
    env = dict(os.environ)
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    with open(run_dir / "train.log", "a") as log:
        log.write(f"\n$ {' '.join(cmd)}\n")
        log.flush()
        return subprocess.run(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT).returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m train.zoo", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    parser.add_argument("--runs-dir", default=str(Path.home() / "gan-hub-runs" / "zoo"),
                        help="where runs train and resume (keep it outside the checkout); default ~/gan-hub-runs/zoo")
    parser.add_argument("--data-dir", default=None, help="folder with the dataset files (MNIST IDX files)")
    parser.add_argument("--only", default=None, help="comma-separated preset names, in this order")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="cpu hides GPUs; cuda and auto use what accelerate finds")
    parser.add_argument("--no-export", action="store_true", help="train only; leave model_zoo/ as it is")
    parser.add_argument("--list", action="store_true", help="print each preset's status and exit")
    args = parser.parse_args(argv)
    entries = presets(args.only.split(",") if args.only else None)
    runs = Path(args.runs_dir).expanduser()
    for entry in entries:
        if is_current(entry):
            entry.status = "current"
            continue
        if args.list:
            entry.status = "to train"
            continue
        start = time.time()
        ok = train(entry, runs, args.data_dir, args.device)
        entry.seconds = time.time() - start
        if not ok:
            entry.status = f"FAILED (see {runs / entry.name / 'train.log'})"
            continue
        entry.status = "trained"
        if not args.no_export:
            from .zoo_export import export_run

            entry.scores = export_run(runs / entry.name / "model", ZOO / entry.name, args.data_dir)
            entry.status = "exported"
    width = max(len(e.name) for e in entries)
    print(f"\n{'model':<{width}}  {'status':<10}  {'time':>7}  scores")
    for e in entries:
        print(f"{e.name:<{width}}  {e.status:<10}  {e.seconds / 60:6.1f}m  {e.scores}")
    return 1 if any(e.status.startswith("FAILED") for e in entries) else 0


if __name__ == "__main__":
    sys.exit(main())
