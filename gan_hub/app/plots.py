"""The Score tab's figures (matplotlib, object API only: no pyplot state shared between threads)."""

from __future__ import annotations

from typing import Sequence

from matplotlib.figure import Figure

RUNNING = "#4f46e5"  # indigo, the app's primary hue
REFERENCE = "#059669"
CARD = "#d97706"


def score_figure(
    points: Sequence[tuple[int, float, float]],
    total: int,
    y_label: str,
    reference: float | None = None,
    card: float | None = None,
    reference_label: str = "real data",
    card_label: str = "model card",
) -> Figure:
    """The running score against n with a band of +/- one standard error, and flat reference lines.

    ``points`` are (n, mean, standard error); the x axis spans the whole run (0..total) from the start,
    so the curve visibly grows towards the end.
    """
    fig = Figure(figsize=(6.4, 3.6), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    if points:
        n = [p[0] for p in points]
        mean = [p[1] for p in points]
        low = [p[1] - p[2] for p in points]
        high = [p[1] + p[2] for p in points]
        if any(p[2] for p in points):  # a count (modes captured) has no error band
            ax.fill_between(n, low, high, color=RUNNING, alpha=0.2, linewidth=0, label="± 1 standard error")
        ax.plot(n, mean, color=RUNNING, marker="o", markersize=3, label="generated (running)")
    for value, label, color in ((reference, reference_label, REFERENCE), (card, card_label, CARD)):
        if value is not None:
            shown = f"{value:g}" if float(value).is_integer() else f"{value:.3f}"
            ax.axhline(value, color=color, linestyle="--", linewidth=1.2, label=f"{label}: {shown}")
    ax.set_xlim(0, max(total, 1))
    ax.margins(y=0.1)  # keeps the reference lines clear of the frame
    ax.set_xlabel("n (samples scored)")
    ax.set_ylabel(y_label)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="lower right", fontsize=8)
    return fig


def histogram_figure(
    counts: Sequence[int], class_names: Sequence[str], title: str | None = None, x_label: str | None = None
) -> Figure:
    """Predicted classes of the samples scored so far (or any counts per category), with the uniform share marked."""
    fig = Figure(figsize=(6.4, 2.6), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    names = list(class_names) or [str(i) for i in range(len(counts))]
    ax.bar(range(len(counts)), counts, color=RUNNING)
    total = sum(counts)
    if total and counts:
        ax.axhline(total / len(counts), color="gray", linestyle=":", linewidth=1, label="uniform")
        ax.legend(loc="upper right", fontsize=8)
    ax.set_xticks(range(len(counts)), names[: len(counts)], rotation=45 if max(map(len, names)) > 3 else 0)
    ax.set_ylabel("samples")
    if x_label:
        ax.set_xlabel(x_label)
    ax.set_title(title or f"predicted classes of {total} samples", fontsize=10)
    return fig


__all__ = ["histogram_figure", "score_figure"]
