"""Pictures of the 2-D mode-coverage runs (bench/toy_modes.py): a grid of samples and mode-count curves.

python bench/toy_figures.py runs/*.json --samples docs/toy_modes.png --curves docs/toy_modes_curves.png
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
from matplotlib import pyplot as plt  # noqa: E402

from gan_hub.data.toy2d import mixture  # noqa: E402

EXTENT = {"ring8": 3.0, "ring8-unit": 1.5, "grid25": 5.5}


def mean_se(values: list[float]) -> tuple[float, float]:
    n = len(values)
    mean = sum(values) / n
    return mean, (math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1) / n) if n > 1 else 0.0)


def _order(results: list[dict]) -> tuple[list[str], list[str]]:
    variants = list(dict.fromkeys(r["variant"] for r in results))
    variants.sort(key=lambda v: (v != "gan", v))
    return variants, list(dict.fromkeys(r["dataset"] for r in results))


def samples_grid(results: list[dict], path: Path, seed: int | None = None, per_row: int = 1) -> None:
    """Rows: variants (``per_row`` of them side by side); columns: datasets. Each panel: one seed's samples
    (blue) over the modes (orange circles of radius 3 std, the high-quality zone), titled with the modes
    captured over all seeds."""
    variants, datasets = _order(results)
    rows, columns = math.ceil(len(variants) / per_row), per_row * len(datasets)
    fig, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.5 * rows), squeeze=False)
    for ax in axes.flat[len(variants) * len(datasets) :]:
        ax.set_visible(False)
    for i, variant in enumerate(variants):
        for j, dataset in enumerate(datasets):
            ax = axes[i // per_row][(i % per_row) * len(datasets) + j]
            runs = [r for r in results if r["variant"] == variant and r["dataset"] == dataset]
            mix, extent = mixture(dataset), EXTENT.get(dataset, 3.0)
            for cx, cy in mix.centers.tolist():
                ax.add_patch(plt.Circle((cx, cy), 3 * mix.std, fill=False, color="tab:orange", lw=0.8))
                ax.plot(cx, cy, "+", color="tab:orange", ms=4, mew=0.6)
            shown = next((r for r in runs if seed is None or r["seed"] == seed), None)
            if shown and shown.get("points"):
                xs, ys = zip(*shown["points"])
                ax.scatter(xs, ys, s=1.5, color="tab:blue", alpha=0.5, linewidths=0)
            ax.set_xlim(-extent, extent)
            ax.set_ylim(-extent, extent)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            if not runs:
                ax.text(0.5, 0.5, "not run", transform=ax.transAxes, ha="center", va="center", color="grey")
                ax.set_title(f"{variant} · {dataset}", fontsize=7)
            else:
                key = "modes_captured" if "modes_captured" in runs[0] else "modes_covered"
                mean, se = mean_se([r[key] for r in runs])
                ax.set_title(
                    f"{variant} · {dataset}\n{mean:.1f} ± {se:.1f} / {runs[0]['num_modes']} modes (n={len(runs)})",
                    fontsize=7,
                )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


# The curves drawn, one row of panels each: (index in a curve point, title, scale).
CURVE_ROWS = ((1, "modes captured ({k})", 1.0), (3, "high-quality samples (%)", 100.0))


def mode_curves(results: list[dict], path: Path) -> None:
    """Modes captured and the high-quality share (mean over seeds, band: +/- one standard error) against
    training steps, one column per dataset."""
    variants, datasets = _order(results)
    fig, axes = plt.subplots(
        len(CURVE_ROWS), len(datasets), figsize=(5 * len(datasets), 3.4 * len(CURVE_ROWS)), squeeze=False
    )
    for row, (index, title, scale) in zip(axes, CURVE_ROWS):
        for ax, dataset in zip(row, datasets):
            for variant in variants:
                runs = [r for r in results if r["variant"] == variant and r["dataset"] == dataset and r.get("curve")]
                if not runs:
                    continue
                length = min(len(r["curve"]) for r in runs)
                steps = [runs[0]["curve"][k][0] for k in range(length)]
                stats = [mean_se([scale * r["curve"][k][index] for r in runs]) for k in range(length)]
                mean = [m for m, _ in stats]
                (line,) = ax.plot(steps, mean, marker=".", label=f"{variant} (n={len(runs)})")
                ax.fill_between(
                    steps, [m - s for m, s in stats], [m + s for m, s in stats], color=line.get_color(), alpha=0.2
                )
            ax.set_title(f"{dataset}: {title.format(k=mixture(dataset).num_modes)}")
            ax.set_xlabel("trainer steps")
            ax.set_ylim(bottom=0)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("json", type=Path, nargs="+", help="results files of bench/toy_modes.py")
    p.add_argument("--samples", type=Path, default=None, help="write the grid of samples here")
    p.add_argument("--curves", type=Path, default=None, help="write the mode-count curves here")
    p.add_argument("--seed", type=int, default=None, help="the seed whose samples are drawn (default: the first)")
    p.add_argument("--per-row", type=int, default=1, help="variants side by side in one row of the samples grid")
    args = p.parse_args(argv)
    results = [r for path in args.json for r in json.loads(path.read_text())["results"]]
    if args.samples:
        samples_grid(results, args.samples, args.seed, args.per_row)
    if args.curves:
        mode_curves(results, args.curves)


if __name__ == "__main__":
    main()
