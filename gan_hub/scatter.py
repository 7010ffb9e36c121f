"""Pictures of 2-D samples: a scatter plot of the points over the modes of the mixture they were trained on.

Drawn with Pillow alone (no plotting library), so ``Generator.sample_grid`` of a 2-D model, the app and
``gan-hub sample`` make the same picture anywhere the library is installed.
"""

from __future__ import annotations

import math

import torch

from .data.toy2d import MIXTURES, Mixture2D

SCATTER_POINTS = 2500  # samples.png of a 2-D model: this many points (the mode-coverage scores' sample size)
# px: the square plotting area, small enough that the app shows it unscaled (its image boxes are ~380 px high)
PLOT = 312
MARGIN = {"left": 40, "right": 12, "top": 28, "bottom": 36}
POINT = (37, 99, 235)  # samples: blue
MODE = (234, 88, 12)  # modes: orange
GRID, FRAME, TEXT = (229, 231, 235), (107, 114, 128), (17, 24, 39)
TICK_STEPS = (0.1, 0.25, 0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 20.0, 50.0, 100.0)


def mixture_for(dataset: str | None) -> Mixture2D | None:
    """The registered 2-D mixture a model was trained on (``config.dataset``), or None."""
    return MIXTURES.get(dataset) if dataset in MIXTURES else None


def extent(points: torch.Tensor, mixture: Mixture2D | None) -> float:
    """Half the side of the square shown: the modes with room around them, else the bulk of the points."""
    if mixture is not None:
        reach = float(mixture.centers.abs().max()) + 3 * mixture.std
        return 1.4 * reach
    finite = points[torch.isfinite(points).all(dim=1)].abs()
    if not len(finite):
        return 1.0
    return max(1e-3, 1.1 * float(torch.quantile(finite.flatten().double(), 0.99)))


def tick_step(half: float) -> float:
    """A round step giving two to four ticks on each side of zero."""
    return next((s for s in TICK_STEPS if half / s <= 4), TICK_STEPS[-1] * math.ceil(half / 4 / TICK_STEPS[-1]))


def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: the fixed bitmap font
        return ImageFont.load_default()


def scatter_plot(points: torch.Tensor, mixture: Mixture2D | None = None, title: str = ""):
    """A PIL image of ``points`` [N, 2] (blue dots) over ``mixture``'s modes (orange rings of at least 3
    standard deviations, the high-quality zone of the mode-coverage scores). Points outside the square are
    counted in the title."""
    from PIL import Image, ImageDraw

    points = torch.as_tensor(points).detach().float().cpu()
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"a scatter plot takes 2-D points [N, 2], got {tuple(points.shape)}")
    half = extent(points, mixture)
    left, top = MARGIN["left"], MARGIN["top"]
    size = (left + PLOT + MARGIN["right"], top + PLOT + MARGIN["bottom"])
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font, small = _font(13), _font(11)

    def px(x: float, y: float) -> tuple[float, float]:
        return left + (x + half) / (2 * half) * PLOT, top + (half - y) / (2 * half) * PLOT

    step = tick_step(half)
    ticks = [k * step for k in range(-int(half / step), int(half / step) + 1)]
    for t in ticks:
        x, y = px(t, t)
        draw.line([(x, top), (x, top + PLOT)], fill=GRID)
        draw.line([(left, y), (left + PLOT, y)], fill=GRID)
        label = f"{t:g}"
        draw.text((x, top + PLOT + 5), label, fill=TEXT, font=small, anchor="mt")
        draw.text((left - 5, y), label, fill=TEXT, font=small, anchor="rm")
    finite = torch.isfinite(points).all(dim=1)
    inside = finite & (points.abs() <= half).all(dim=1)
    for x, y in points[inside].tolist():
        cx, cy = px(x, y)
        draw.ellipse([cx - 1.2, cy - 1.2, cx + 1.2, cy + 1.2], fill=POINT)
    if mixture is not None:  # rings around the modes, drawn over the points but wide enough to leave them visible
        radius = max(6.0, 3 * mixture.std / (2 * half) * PLOT)
        for x, y in mixture.centers.tolist():
            cx, cy = px(x, y)
            draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], outline=MODE, width=1)
    draw.rectangle([left, top, left + PLOT, top + PLOT], outline=FRAME)
    outside = len(points) - int(inside.sum())
    caption = title or f"{len(points):,} samples"
    if outside:
        caption += f" ({outside:,} outside)"
    draw.text((left, top - 9), caption, fill=TEXT, font=font, anchor="ls")
    if mixture is not None:
        key = f"orange rings: the {mixture.num_modes} modes of {mixture.name}"
        draw.text((left, top + PLOT + MARGIN["bottom"] - 5), key, fill=MODE, font=small, anchor="ls")
    return image


__all__ = ["SCATTER_POINTS", "mixture_for", "scatter_plot"]
