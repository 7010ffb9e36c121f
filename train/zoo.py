"""``python -m train.zoo``: retrain the bundled model zoo from its presets, resuming what is done.

Each ``train/presets/<variant>-<dataset>.yaml`` trains one zoo model. A model whose folder in
``model_zoo/`` was trained from exactly that preset (same options, same number of steps) is current
and skipped; any other is trained in ``RUNS/<name>/`` (resuming from its checkpoints when a run was
cut short), then exported to ``model_zoo/<name>/`` with float16 weights and its scores re-measured
on exactly those weights, as soon as it has trained (a retrain stopped halfway keeps every model it
finished). A summary table ends the run.

    python -m train.zoo --data-dir ../shared/data/mnist                  # everything not current
    python -m train.zoo --device cuda --jobs 8                           # the whole zoo on one GPU
    python -m train.zoo --list                                            # status only
    python -m train.zoo --publish gan-hub                                 # upload model_zoo/* to gan-hub/<name>
    python -m train.zoo --device cuda --jobs 8 --scale-steps 10            # on a GPU: ten times the CPU schedules

The zoo's 2-D models (``<variant>-ring8``, ``<variant>-grid25``) have no preset: ``bench/toy_zoo.py`` trains
them with the published 2-D protocol (on the CPU, one thread each: they are small) and exports them; this
command lists, trains and exports them with the rest, and resumes nothing of theirs (each trains in minutes).

A current model whose folder was written in an older config format is re-exported (same weights).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from gan_hub.config import FORMAT_VERSION

REPO = Path(__file__).resolve().parent.parent
PRESETS = REPO / "train" / "presets"
TOY_ZOO = REPO / "bench" / "toy_zoo.py"  # trains and exports the 2-D models
ZOO = REPO / "model_zoo"
# options that say where files live, not what is trained
LOCATION_KEYS = ("output_dir", "data_dir", "push_to_hub", "num_workers")


@dataclass
class Entry:
    name: str
    preset: Path | None  # None: a 2-D model, trained and exported by bench/toy_zoo.py
    status: str = ""
    seconds: float = 0.0
    scores: str = ""

    @property
    def two_d(self) -> bool:
        return self.preset is None


def two_d_status(zoo: Path) -> dict[str, bool]:
    """{name: current?} of the 2-D models, as bench/toy_zoo.py judges them."""
    cmd = [sys.executable, str(TOY_ZOO), "--status", "--zoo", str(zoo)]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"python -m train.zoo: error: {' '.join(cmd[1:])} failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout)


def presets(only: list[str] | None = None, folder: Path = PRESETS, two_d: dict[str, bool] | None = None) -> list[Entry]:
    """The zoo's entries: a preset each, then the 2-D models (``two_d``, their names), in ``only``'s order if given."""
    found = {p.stem: p for p in sorted(folder.glob("*.yaml"))}
    found.update({name: None for name in two_d or {} if name not in found})
    if only:
        unknown = [n for n in only if n not in found]
        if unknown:
            elsewhere = "" if two_d else " (the 2-D models come with the default --presets folder only)"
            raise SystemExit(
                f"python -m train.zoo: error: no preset or 2-D model named {', '.join(unknown)}; "
                f"choose from: {', '.join(found)}{elsewhere}"
            )
        return [Entry(n, found[n]) for n in only]
    return [Entry(n, p) for n, p in found.items()]


def preset_options(cfg) -> dict:
    """A preset's training config (train.config.TrainConfig) without the options that only say where things are."""
    return {k: v for k, v in cfg.to_dict().items() if k not in LOCATION_KEYS}


SCHEDULE_KEYS = ("max_steps", "lr_decay_start", "stop_at_step")
# variant options that are lengths of training phases, scaled with the schedule (ProGAN's fades and stable
# phases, Stacked GAN's independent phase); options such as unroll_steps (unrolled GAN's k) are not lengths
PHASE_OPTIONS = ("fade_steps", "stable_steps", "independent_steps")


SCALED = re.compile(r"^# Schedule x(\d+) \(python -m train\.zoo --scale-steps")
NOT_SCALED = "# scale-steps: no"  # a preset line that keeps its schedule (e.g. already the paper's)
_SCHEDULE_LINE = re.compile(r"^(?P<indent>\s*)(?P<key>\w+):\s*(?P<value>[\d_]+)(?P<rest>\s*(#.*)?)$")


class ScaleError(ValueError):
    """A preset whose schedule --scale-steps cannot rewrite; the message says why."""


def scaled_preset(preset: Path, factor: int) -> tuple[str, str] | None:
    """The preset's text with its schedule (``SCHEDULE_KEYS``, and ``PHASE_OPTIONS`` among its variant options)
    multiplied by ``factor``, comments kept, and the line added to its notes (the card quotes them) that
    says so: ``(text, note)``. None for a preset that keeps its schedule (a ``# scale-steps: no`` line) or
    was already scaled by ``factor`` (a rerun); :class:`ScaleError` when it cannot be rewritten faithfully.
    Nothing is written: the caller writes every preset once all of them have passed."""
    import yaml

    text = Path(preset).read_text()
    lines = text.splitlines()
    done = [int(m.group(1)) for m in map(SCALED.match, lines) if m]
    if any(line.startswith(NOT_SCALED) for line in lines) or factor in done:
        return None
    if done:
        raise ScaleError(
            f"{preset} was already scaled x{done[-1]}: edit its schedule by hand, or restore it (git checkout) "
            f"before --scale-steps {factor}"
        )
    original = yaml.safe_load(text) or {}
    wanted = {k: original[k] for k in SCHEDULE_KEYS if isinstance(original.get(k), int)}
    phases = original.get("variant_options") or {}
    wanted.update({k: phases[k] for k in PHASE_OPTIONS if isinstance(phases.get(k), int)})
    if "max_steps" not in wanted:
        raise ScaleError(f"{preset} sets no max_steps to scale")
    section = None
    for i, line in enumerate(lines):
        if line and not line[0].isspace() and not line.startswith("#"):
            section = line.split(":", 1)[0]
        match = _SCHEDULE_LINE.match(line)
        if not match:
            continue
        key, nested = match["key"], bool(match["indent"])
        if (not nested and key in SCHEDULE_KEYS) or (nested and section == "variant_options" and key in PHASE_OPTIONS):
            lines[i] = f"{match['indent']}{key}: {wanted[key] * factor}{match['rest']}"
    scaled = yaml.safe_load("\n".join(lines))
    got = {k: scaled.get(k, (scaled.get("variant_options") or {}).get(k)) for k in wanted}
    if got != {k: v * factor for k, v in wanted.items()}:
        raise ScaleError(f"{preset}: could not rewrite its schedule line by line (got {got}); edit it by hand")
    decay = f", learning rates decaying from step {got['lr_decay_start']:,}" if "lr_decay_start" in got else ""
    stop = f", stopped at step {got['stop_at_step']:,}" if "stop_at_step" in got else ""
    phase_text = ", ".join(f"{k} {got[k]:,}" for k in PHASE_OPTIONS if k in got)
    note = (
        f"# Schedule x{factor} (python -m train.zoo --scale-steps {factor}): {got['max_steps']:,} steps instead of "
        f"{wanted['max_steps']:,}{decay}{stop}{f', phases: {phase_text}' if phase_text else ''}."
    )
    at = next((i for i, line in enumerate(lines) if i > 0 and not line.startswith("#")), len(lines))
    lines.insert(at, note)  # the last line of the leading comment: the notes
    return "\n".join(lines) + "\n", note.lstrip("# ")


def scale_presets(presets: list[Path], factor: int) -> None:
    """--scale-steps: check every preset first, then rewrite them (none is half-done when one cannot be)."""
    from gan_hub.io import atomic_write_text

    try:
        planned = [(preset, scaled_preset(preset, factor)) for preset in presets]
    except ScaleError as error:
        raise SystemExit(f"python -m train.zoo: error: {error}; no preset was changed") from None
    for preset, result in planned:
        if result is None:
            print(f"{preset}: schedule kept (already x{factor}, or marked '{NOT_SCALED}')")
            continue
        atomic_write_text(preset, result[0])
        print(f"{preset}: {result[1]}")


def preset_notes(preset: Path) -> str:
    """The preset's leading comment after its first line (the command that reproduces it): its recipe and
    what was tried, which the model card quotes."""
    lines = []
    for line in Path(preset).read_text().splitlines()[1:]:
        if not line.startswith("#"):
            break
        if not line.startswith(NOT_SCALED):  # an instruction to --scale-steps, not a note
            lines.append(line.lstrip("#").strip())
    return " ".join(lines)


def is_current(entry: Entry, zoo: Path = ZOO) -> bool:
    """The zoo folder was trained from this preset, to its last step, with the settings the preset resolves
    to today (a variant whose defaults changed since, e.g. its optimizer, makes its models stale)."""
    config = zoo / entry.name / "config.json"
    if not config.is_file():
        return False
    try:
        provenance = json.loads(config.read_text()).get("provenance") or {}
    except ValueError:
        return False
    from .compose import compose, config_differences
    from .config import TrainConfig

    preset = TrainConfig.from_yaml(entry.preset)
    wanted = preset_options(preset)
    raw = provenance.get("training_config") or {}
    resolved = provenance.get("resolved") or {}
    try:  # fields added since the model was trained take their defaults
        recorded = TrainConfig(**{k: v for k, v in raw.items() if k in TrainConfig.field_names()}).to_dict()
    except (TypeError, ValueError):
        return False
    # a preset may spell out a default the model was trained with (its recorded option is then None)
    if not all(v in (recorded.get(k), resolved.get(k)) for k, v in wanted.items()):
        return False
    if resolved and config_differences(resolved, compose(preset).settings):
        return False  # (models from before settings were recorded resolved are judged by their options alone)
    return provenance.get("steps") == (wanted.get("stop_at_step") or wanted["max_steps"])


def written_format(folder: Path) -> int | None:
    try:
        return json.loads((folder / "config.json").read_text()).get("format_version", 1)
    except (OSError, ValueError):
        return None


def recorded_scores(folder: Path) -> str:
    """The one-line score summary of a zoo folder's metrics.json ("" when it has none)."""
    from .zoo_export import summary

    try:
        return summary(json.loads((folder / "metrics.json").read_text()))
    except (OSError, ValueError):
        return ""


def train(entry: Entry, runs: Path, data_dir: str | None, device: str, zoo: Path = ZOO, export: bool = True) -> bool:
    """Train one entry in ``runs/<name>`` (its log in ``train.log`` there); a 2-D model is exported too."""
    run_dir = runs / entry.name
    run_dir.mkdir(parents=True, exist_ok=True)
    if entry.two_d:
        cmd = [sys.executable, str(TOY_ZOO), "--only", entry.name, "--runs", str(runs), "--zoo", str(zoo)]
        cmd += [] if export else ["--train-only"]
    else:
        cmd = [sys.executable, "-m", "train", "--config", str(entry.preset.resolve()), "--output-dir", str(run_dir)]
        cmd += ["--data-dir", data_dir] if data_dir else []
    env = dict(os.environ)
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    with open(run_dir / "train.log", "a") as log:
        log.write(f"\n$ {' '.join(cmd)}\n")
        log.flush()
        return subprocess.run(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT).returncode == 0


def publish(zoo: Path, org: str, names: list[str] | None = None) -> list[str]:
    """Upload each zoo folder (``model_zoo/<name>``) to the Hub repo ``ORG/<name>``, cards and all; returns
    the repo ids. Uses the logged-in token (``hf auth login`` or HF_TOKEN)."""
    from huggingface_hub import HfApi

    api = HfApi()
    folders = [zoo / n for n in names] if names else sorted(p for p in zoo.iterdir() if (p / "config.json").is_file())
    repos = []
    for folder in folders:
        repo_id = f"{org}/{folder.name}"
        api.create_repo(repo_id, exist_ok=True)
        api.upload_folder(repo_id=repo_id, folder_path=str(folder), commit_message=f"gan-hub zoo: {folder.name}")
        print(f"published {folder} to {repo_id}")
        repos.append(repo_id)
    return repos


def set_aside_if_stale(entry: Entry, run_dir: Path) -> None:
    """A run folder trained from an earlier version of the preset cannot resume (its settings differ):
    it is renamed ``<name>.old-N`` and the preset starts afresh."""
    from .compose import compose, config_differences
    from .config import TrainConfig
    from .resume import recorded_settings

    try:
        recorded = recorded_settings(run_dir)
    except ValueError:
        recorded = {}
    if recorded is None:
        return
    cfg = TrainConfig.from_yaml(entry.preset, overrides={"output_dir": str(run_dir)})
    if config_differences(recorded, compose(cfg).settings):
        set_aside(run_dir, f"{entry.name}: its preset changed since {run_dir} was trained")


def set_aside(run_dir: Path, why: str) -> None:
    """Rename a run folder that must not be reused to ``<name>.old-N`` (kept, never deleted)."""
    n = 1
    while run_dir.with_name(f"{run_dir.name}.old-{n}").exists():
        n += 1
    run_dir.rename(run_dir.with_name(f"{run_dir.name}.old-{n}"))
    print(f"{why}; set aside as {run_dir.name}.old-{n}")


def train_all(
    entries: list[Entry],
    runs: Path,
    data_dir: str | None,
    device: str,
    jobs: int,
    after_training=None,
    zoo: Path = ZOO,
) -> None:
    """Train the entries, ``jobs`` at a time (on a GPU several small runs share the device).

    ``after_training(entry)`` runs as soon as an entry has trained (the export), one at a time, so a
    long retrain that is stopped keeps every model finished so far."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    one_at_a_time = threading.Lock()

    def one(entry: Entry) -> None:
        if not entry.two_d:
            set_aside_if_stale(entry, runs / entry.name)
        elif (runs / entry.name).exists():  # bench/toy_zoo.py would export what it finds there: a 2-D model
            set_aside(runs / entry.name, f"{entry.name}: not current")  # trains afresh (in minutes)
        start = time.time()
        ok = train(entry, runs, data_dir, device, zoo, after_training is not None)
        entry.seconds = time.time() - start
        entry.status = "trained" if ok else f"FAILED (see {runs / entry.name / 'train.log'})"
        print(f"{entry.name}: {entry.status} in {entry.seconds / 60:.1f} min", flush=True)
        if ok and after_training is not None:
            with one_at_a_time:
                try:
                    after_training(entry)
                except Exception as error:  # one model's export must not lose the others or the summary
                    entry.status = f"EXPORT FAILED ({type(error).__name__}: {error})"
                    print(f"{entry.name}: {entry.status}", flush=True)

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(one, entries))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m train.zoo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument(
        "--runs-dir",
        default=str(Path.home() / "gan-hub-runs" / "zoo"),
        help="where runs train and resume (keep it outside the checkout); default ~/gan-hub-runs/zoo",
    )
    parser.add_argument("--data-dir", default=None, help="folder with the dataset files (MNIST IDX files)")
    parser.add_argument(
        "--only", default=None, help="comma-separated names (presets, or 2-D models such as gan-ring8), in this order"
    )
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="cpu hides GPUs; cuda and auto use what accelerate finds",
    )
    parser.add_argument("--jobs", type=int, default=1, help="runs trained at once (e.g. 8 on one GPU); default 1")
    parser.add_argument("--no-export", action="store_true", help="train only; leave the zoo folders as they are")
    parser.add_argument("--list", action="store_true", help="print each preset's status and exit")
    parser.add_argument(
        "--publish",
        metavar="ORG",
        default=None,
        help="upload every zoo folder (or those of --only) to the Hub as ORG/<name>, and exit",
    )
    parser.add_argument(
        "--scale-steps",
        type=int,
        default=None,
        metavar="K",
        help="multiply the schedule of each chosen preset by K in place (max_steps, lr_decay_start, stop_at_step; "
        "its notes say so) and retrain: e.g. 10 on a GPU",
    )
    parser.add_argument(
        "--presets",
        default=str(PRESETS),
        help="folder of presets; default train/presets (only then are the 2-D models included)",
    )
    parser.add_argument("--zoo", default=str(ZOO), help="the zoo folder; default model_zoo")
    args = parser.parse_args(argv)
    if args.scale_steps is not None and (args.scale_steps < 2 or args.list or args.publish):
        parser.error(
            "--scale-steps takes a whole factor of at least 2, and goes with training (not --list or --publish)"
        )
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
    zoo = Path(args.zoo)
    if args.publish:
        publish(zoo, args.publish, args.only.split(",") if args.only else None)
        return 0
    if args.device == "cuda" and not args.list:
        import torch

        if not torch.cuda.is_available():
            parser.error(
                "--device cuda: no CUDA GPU is visible here (torch.cuda.is_available() is False); "
                "use --device cpu, or --device auto to take a GPU when there is one"
            )
    # the 2-D models belong to the project's zoo: another presets folder is a zoo of its own
    two_d = two_d_status(zoo) if Path(args.presets).resolve() == PRESETS.resolve() else {}
    entries = presets(args.only.split(",") if args.only else None, Path(args.presets), two_d)
    runs = Path(args.runs_dir).expanduser()
    if args.scale_steps:  # the 2-D models keep their protocol's budgets (bench/toy_zoo.py)
        scale_presets([entry.preset for entry in entries if not entry.two_d], args.scale_steps)
    to_train = []
    for entry in entries:
        if entry.two_d and two_d[entry.name]:
            entry.status, entry.scores = "current", recorded_scores(zoo / entry.name)
        elif entry.two_d:
            entry.status = "to train"
            to_train.append(entry)
        elif is_current(entry, zoo):
            entry.status = "current"
            entry.scores = recorded_scores(zoo / entry.name)
            if not args.list and not args.no_export and written_format(zoo / entry.name) != FORMAT_VERSION:
                from .zoo_export import export_run

                entry.scores = export_run(zoo / entry.name, zoo / entry.name, args.data_dir, preset_notes(entry.preset))
                entry.status = "re-exported"  # same weights, written in the current config format
        else:
            entry.status = "to train"
            to_train.append(entry)
    if not args.list:

        def export(entry: Entry) -> None:
            from .zoo_export import export_run

            if entry.two_d:  # bench/toy_zoo.py has exported it
                entry.status, entry.scores = "exported", recorded_scores(zoo / entry.name)
                return
            entry.scores = export_run(
                runs / entry.name / "model", zoo / entry.name, args.data_dir, preset_notes(entry.preset)
            )
            entry.status = "exported"
            print(f"{entry.name}: exported to {zoo / entry.name}: {entry.scores}", flush=True)

        train_all(to_train, runs, args.data_dir, args.device, args.jobs, None if args.no_export else export, zoo)
    width = max([len(e.name) for e in entries] + [5])
    print(f"\n{'model':<{width}}  {'status':<11}  {'time':>7}  scores")
    for e in entries:
        print(f"{e.name:<{width}}  {e.status:<11}  {e.seconds / 60:6.1f}m  {e.scores}")
    return 1 if any("FAILED" in e.status for e in entries) else 0


if __name__ == "__main__":
    sys.exit(main())
