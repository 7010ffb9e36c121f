"""``gan-hub list``: the bundled zoo's models and local ones (trainer runs, folders) with their scores."""

from __future__ import annotations

import json
from pathlib import Path

from .parsing import CommandParser

EXAMPLES = """examples:
  gan-hub list                                   # ./model_zoo (or the checkout's) and ./runs/*/model
  gan-hub list --runs ~/experiments              # trainer runs elsewhere
  gan-hub list path/to/model another/model --zoo ''
  gan-hub list --json > models.json

Scores are those in each folder's metrics.json, named with their protocol (scorer and sample count):
a classifier score is comparable only with scores from the same classifier."""


def build_parser(prog: str = "gan-hub list") -> CommandParser:
    from ..app.catalog import local_zoo

    p = CommandParser(
        prog=prog, description="List model folders with their variant, dataset and scores.", epilog=EXAMPLES
    )
    p.add_argument("folders", nargs="*", metavar="FOLDER", help="more model folders to list")
    p.add_argument(
        "--zoo", default=str(local_zoo()), help="folder of bundled models ('' to leave it out; default %(default)s)"
    )
    p.add_argument(
        "--runs",
        default="runs",
        help="trainer output folder: lists RUN/model of each run ('' to leave it out; default %(default)s)",
    )
    p.add_argument("--json", action="store_true", help="print the list as JSON (scores with their full protocol)")
    return p


def run_models(runs_dir: str | Path) -> list[Path]:
    """The exported models of the trainer runs under ``runs_dir`` (each run's ``model/`` folder)."""
    from ..app.catalog import discover_models

    if not runs_dir or not Path(runs_dir).is_dir():
        return []
    return [
        p for run in sorted(Path(runs_dir).iterdir()) if run.is_dir() for p in discover_models(run) if p.name == "model"
    ]


def describe(folder: Path, kind: str) -> dict:
    from ..config import GeneratorConfig
    from ..hub import METRICS_NAME

    entry = {"name": folder.parent.name if kind == "run" else folder.name, "kind": kind, "path": str(folder)}
    try:
        config = GeneratorConfig.load(folder)
        metrics = json.loads((folder / METRICS_NAME).read_text()) if (folder / METRICS_NAME).is_file() else {}
    except (ValueError, OSError) as err:
        return {**entry, "error": str(err)}
    return {**entry, "variant": config.variant, "dataset": config.dataset, "scores": metrics.get("scores", [])}


def collect(args) -> list[dict]:
    from ..app.catalog import discover_models

    seen: set[Path] = set()
    found = [(p, "zoo") for p in discover_models(args.zoo or None)] + [(p, "run") for p in run_models(args.runs)]
    for folder in args.folders:
        path = Path(folder)
        if not path.is_dir():
            raise FileNotFoundError(f"model folder {folder} does not exist")
        found.append((path, "folder"))
    entries = []
    for path, kind in found:
        if path.resolve() not in seen:
            seen.add(path.resolve())
            entries.append(describe(path, kind))
    return entries


def score_summary(scores: list[dict]) -> str:
    from ..cards import format_score

    return "; ".join(f"{s['name']} {format_score(s)}" for s in scores) or "no scores"


def table(entries: list[dict]) -> str:
    rows = [("name", "kind", "variant", "dataset", "path", "scores")]
    for e in entries:
        rows.append(
            (
                e["name"],
                e["kind"],
                e.get("variant", "?"),
                e.get("dataset", "?"),
                e["path"],
                f"unreadable: {e['error']}" if "error" in e else score_summary(e["scores"]),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)) + "  " + r[-1] for r in rows)


def main(argv: list[str] | None = None, prog: str = "gan-hub list") -> int:
    from .errors import user_errors

    parser = build_parser(prog)
    args = parser.parse_args(argv)
    with user_errors(parser):
        entries = collect(args)
    if args.json:
        print(json.dumps(entries, indent=2))
    elif entries:
        print(table(entries))
    else:
        print(f"no models found (zoo: {args.zoo or 'none'}, runs: {args.runs or 'none'}); name folders to list them")
    return 0
