"""What the app's buttons do, as plain functions of a generator and the inputs (no Gradio here).

Every function validates its inputs and raises :class:`InputError` (a ValueError) with a message
meant for the page; ``ui.py`` turns those into ``gr.Error``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator

if TYPE_CHECKING:
    import torch

    from ..config import GeneratorConfig

# forward(z, labels) -> uint8 images: the generator's own, or the app's ForwardBatcher for one model.
# (torch and gan_hub.sampling are imported in the functions: the UI is built before they are needed.)
Forward = Callable[..., "torch.Tensor"]

from .limits import (  # noqa: E402, F401  (re-exported: act.X is what handlers and tests use)
    ANIMATION_FPS,
    BATCH_RANGE,
    COLUMNS_RANGE,
    COMPARE_COUNT_RANGE,
    COMPARE_RANGE,
    COUNT_RANGE,
    CYCLE,
    ISCORE,
    METHODS,
    NO_CLASS,
    POINTS_PER_COUNT,
    SCORE_ASSIGNMENT,
    SCORE_N_RANGE,
    SCORE_SPLITS,
    SEED_RANGE,
    STEPS_RANGE,
    TRUNCATION_FLOOR,
    TRUNCATION_RANGE,
    InputError,
    check_float,
    check_int,
)


def check_truncation(g, value: Any) -> float | None:
    """The truncation threshold (None = off) for this generator; refused where the variant has no truncation
    and below TRUNCATION_FLOOR (where the redraw would take minutes)."""
    threshold = check_float("truncation", 0.0 if value in (None, "") else value, TRUNCATION_RANGE)
    if threshold == 0.0:
        return None
    if threshold < TRUNCATION_FLOOR:
        raise InputError(
            f"truncation must be 0 (off) or from {TRUNCATION_FLOOR:g} to {TRUNCATION_RANGE[1]:g}, got "
            f"{value!r}: below {TRUNCATION_FLOOR:g} redrawing the latents would take minutes",
            "truncation",
        )
    if not g.supports_truncation:
        raise InputError(
            f"{g.config.variant} models do not support truncation (part of their latent is not "
            "normal noise): set truncation to 0",
            "truncation",
        )
    return threshold


def random_seed(rng: random.Random | None = None) -> int:
    return (rng or random).randint(0, 2**31 - 1)


# ---- classes ------------------------------------------------------------------------------------
def class_choices(config: GeneratorConfig, with_cycle: bool = True) -> list[str]:
    """Dropdown choices: class names (after "all classes" when asked), or the no-class marker."""
    if not config.conditional:
        return [NO_CLASS]
    return ([CYCLE] if with_cycle else []) + list(config.class_names)


def resolve_class(config: GeneratorConfig, choice: Any, what: str = "class") -> int | None:
    """A class choice -> class index, or None for "no class / cycle through all"."""
    if choice is None or choice == "" or choice in (CYCLE, NO_CLASS):
        return None
    if not config.conditional:
        raise InputError(f"this {config.variant} model is not class-conditional: leave {what} empty")
    names = list(config.class_names)
    if str(choice) in names:
        return names.index(str(choice))
    raise InputError(f"unknown {what} {choice!r}; this model's classes are {', '.join(names)}")


def class_caption(config: GeneratorConfig, columns: int, start_seed: int) -> str:
    names = ", ".join(config.class_names)
    last = start_seed + columns - 1
    seeds = f"seed {start_seed}" if columns == 1 else f"seeds {start_seed}..{last}"
    return f"Rows, top to bottom, are the classes {names}; columns are {seeds}."


# ---- images -------------------------------------------------------------------------------------
def parse_labels(config: GeneratorConfig, value: Any, count: int, field: str = "labels") -> list[int] | None:
    """Comma-separated classes (ids or names): one for every image, or one per image; empty = cycle."""
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    if not config.conditional:
        raise InputError(f"this {config.variant} model is not class-conditional: leave {field} out", field)
    names, ids = list(config.class_names), []
    for item in (part.strip() for part in text.split(",")):
        if item in names:
            ids.append(names.index(item))
        elif item.isascii() and item.isdigit() and int(item) < config.num_classes:
            ids.append(int(item))
        else:
            raise InputError(
                f"{field}: unknown class {item!r}; this model's classes are ids 0..{config.num_classes - 1}"
                f" or the names {', '.join(names)}",
                field,
            )
    if len(ids) == 1:
        return ids * count
    if len(ids) != count:
        raise InputError(
            f"{field} has {len(ids)} classes for {count} images: give one class for all, or one per image", field
        )
    return ids


def sample_inputs(
    g, seed: int, count: int, labels: list[int] | None = None, truncation: float | None = None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """(z, class ids) of ``g.generate(count, seed, labels, truncation=truncation)`` (validated inputs);
    conditional models cycle through the classes when ``labels`` is None, as generate does."""
    import torch

    from ..sampling import cycle_labels, latents

    z = latents(count, g.config.latent_dim, seed, truncation)
    if not g.config.conditional:
        return z, None
    return z, torch.tensor(labels if labels is not None else cycle_labels(count, g.config.num_classes))


def sample_size(g, count: int) -> int:
    """How many samples ``count`` asks for: images, or for a 2-D model ``count`` x POINTS_PER_COUNT points."""
    return count * POINTS_PER_COUNT if g.config.is_vector else count


def sample_picture(g, samples: torch.Tensor, seed: int):
    """A near-square grid of images, or for a 2-D model a scatter plot of its points over the data's modes."""
    if g.config.is_vector:
        return g.scatter(samples, f"{len(samples):,} samples, seed {seed}")
    from ..sampling import grid_columns, image_grid

    return image_grid(samples, nrow=grid_columns(len(samples)))


NO_IMAGE_SCORE = "an image scorer cannot judge it (the 2-D protocol can: gan_hub.metrics.modes.mixture_scores)"


def require_images(g, what: str) -> None:
    """Refuse, with a message that says why, what only makes sense for image models."""
    if g.config.is_vector:
        raise InputError(
            f"this {g.config.variant} model makes 2-D points, not images, so {what}: use the Sample tab, "
            "which draws its points over the modes of its data"
        )


def sample_grid(
    g, seed: Any, count: Any, class_choice: Any = CYCLE, truncation: Any = 0.0, forward: Forward | None = None
):
    """A near-square grid of ``count`` samples from ``seed`` (one class, or cycling through all); for a 2-D
    model a scatter plot of ``count`` x POINTS_PER_COUNT points."""
    seed = check_int("seed", seed, SEED_RANGE)
    count = check_int("count", count, COUNT_RANGE)
    label = resolve_class(g.config, class_choice)
    threshold = check_truncation(g, truncation)
    n = sample_size(g, count)
    z, labels = sample_inputs(g, seed, n, None if label is None else [label] * n, threshold)
    return sample_picture(g, (forward or g.generate_from_latents)(z, labels), seed)


def compare_grids(models: list[tuple[str, Any]], seed: Any, count: Any) -> list[tuple[Any, str]]:
    """(grid, caption) per model: the same seed and count through each (conditional ones cycle the classes).

    The latents are the same for models with the same latent size; the caption says which seed made them.
    """
    if not COMPARE_RANGE[0] <= len(models) <= COMPARE_RANGE[1]:
        raise InputError(f"pick {COMPARE_RANGE[0]} to {COMPARE_RANGE[1]} models to compare, got {len(models)}")
    seed = check_int("seed", seed, SEED_RANGE)
    count = check_int("count", count, COMPARE_COUNT_RANGE)
    return [
        (
            sample_picture(g, g.generate(sample_size(g, count), seed=seed), seed),
            f"{name} ({g.config.variant}, latent {g.config.latent_dim}) · seed {seed}",
        )
        for name, g in models
    ]


def interpolation_frames(
    g,
    seed_a: Any,
    seed_b: Any,
    steps: Any,
    method: str = "slerp",
    class_a: Any = None,
    class_b: Any = None,
    forward: Forward | None = None,
) -> Iterator[torch.Tensor]:
    """The frames from seed A's latent to seed B's (and class A to class B), yielded as they are made:
    each item is every frame so far (uint8 [k, C, H, W]); the last one holds all ``steps``."""
    seed_a = check_int("seed A", seed_a, SEED_RANGE)
    seed_b = check_int("seed B", seed_b, SEED_RANGE)
    steps = check_int("steps", steps, STEPS_RANGE)
    require_images(g, "an interpolation has no frames to show")
    import torch

    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}, got {method!r}", "method")
    label_a = resolve_class(g.config, class_a, "class A")
    label_b = resolve_class(g.config, class_b, "class B")
    z, labels = g.interpolation_inputs(seed_a, seed_b, steps, method, label_a, label_b)
    chunk = max(1, math.ceil(steps / 8))  # at most 8 updates, whatever the number of frames
    forward = forward or g.generate_from_latents
    frames = []
    for start in range(0, steps, chunk):
        part = slice(start, start + chunk)
        frames.append(forward(z[part], None if labels is None else labels[part]))
        yield torch.cat(frames)


def partial_strip(frames: torch.Tensor, steps: int):
    """The strip of ``steps`` frames with the first ``len(frames)`` drawn and the rest black (still to come)."""
    import torch

    from ..sampling import image_grid

    missing = torch.zeros(steps - len(frames), *frames.shape[1:], dtype=frames.dtype)
    return image_grid(torch.cat([frames, missing]), nrow=steps)


def class_grid_image(g, columns: Any, start_seed: Any):
    """(grid, caption): one row per class, one column per seed start_seed, start_seed+1, ..."""
    columns = check_int("columns (seeds)", columns, COLUMNS_RANGE)
    start_seed = check_int("start seed", start_seed, (SEED_RANGE[0], SEED_RANGE[1] - COLUMNS_RANGE[1]))
    config = g.config
    require_images(g, "it has no class grid")
    if not config.conditional:
        raise InputError(
            f"this {config.variant} model is unconditional (it has no classes), so there is no class "
            "grid: pick a class-conditional model, or use the Sample tab"
        )
    from .media import labelled_grid

    seeds = range(start_seed, start_seed + columns)
    grid = labelled_grid(
        g.class_grid(seeds), nrow=columns, row_names=list(config.class_names), column_names=[f"seed {s}" for s in seeds]
    )
    return grid, class_caption(config, columns, start_seed)


# ---- scores -------------------------------------------------------------------------------------
def score_kind(scorer_name: str) -> str:
    """ "IS" only for the Inception network; any other scorer's number is a "classifier IS"."""
    return "IS" if scorer_name.startswith("inception") else "classifier IS"


def score_name(scorer_name: str, n: int, splits: int = SCORE_SPLITS) -> str:
    """The honest name of the live number, e.g. "classifier IS@500 (mnist-classifier, 10 splits shuffled)"."""
    return f"{score_kind(scorer_name)}@{n} ({scorer_name}, {splits} splits {SCORE_ASSIGNMENT})"


@dataclass
class ScoreUpdate:
    n: int
    total: int
    mean: float
    std: float
    standard_error: float
    histogram: list[int] = field(default_factory=list)

    @property
    def final(self) -> bool:
        return self.n == self.total


def scorer_crop(scorer, config: GeneratorConfig) -> int | None:
    """The centre crop that fits the model's images to a fixed-size scorer (None: they fit as they are).

    A model trained on padded images (ProGAN makes 32x32 MNIST) is cropped back to the scorer's 28x28,
    as the trainer and the metrics CLI do; anything else that does not fit is refused."""
    module = getattr(scorer, "module", None)
    channels, size = (getattr(module, k, None) for k in ("in_channels", "image_size"))
    if channels is None or size is None or (channels, size) == (config.channels, config.image_size):
        return None
    if channels == config.channels and size < config.image_size:
        return size
    raise InputError(
        f"scorer {scorer.name} scores {channels}x{size}x{size} images; this model makes "
        f"{config.channels}x{config.image_size}x{config.image_size} images"
    )


def score_stream(g, scorer, num_samples: Any, batch_size: Any, seed: Any = 0) -> Iterator[ScoreUpdate]:
    """Generate ``num_samples`` images in batches and yield the running score after each batch.

    The images are ``g.generate(num_samples, seed, batch_size=batch_size)`` (conditional models
    cycle through the classes), scored batch by batch with a streaming ``InceptionScore`` whose
    splits are "shuffled": contiguous splits over a fixed random permutation of the N samples, so
    each split grows evenly in expectation and none lines up with the class cycle. The last update
    is the exact score of all the images.
    """
    from ..metrics import InceptionScore
    from ..metrics.evaluate import sample_batches

    num_samples = check_int("N (samples)", num_samples, SCORE_N_RANGE)
    batch_size = check_int("batch size", batch_size, BATCH_RANGE)
    seed = check_int("seed", seed, SEED_RANGE)
    require_images(g, NO_IMAGE_SCORE)
    crop = scorer_crop(scorer, g.config)
    metric = InceptionScore(scorer, splits=SCORE_SPLITS, num_samples=num_samples, assignment=SCORE_ASSIGNMENT)
    for images, _ in sample_batches(g, num_samples, seed, batch_size, crop):  # the trainer's and CLI's samples
        metric.update(images)
        mean, std = metric.compute()
        yield ScoreUpdate(metric.n, num_samples, mean, std, metric.standard_error, metric.class_histogram().tolist())


def inception_entries(metrics: dict | list | None) -> list[dict]:
    """The IS entries of a metrics.json ``scores`` list (or of a reference list)."""
    items = metrics.get("scores", []) if isinstance(metrics, dict) else (metrics or [])
    return [s for s in items if s.get("metric") == ISCORE and "mean" in s]


def describe_entry(entry: dict) -> str:
    """One score with its protocol, e.g. "classifier IS@10k = 9.731 ± 0.037 (scorer=mnist-classifier, ...)"."""
    protocol = ", ".join(f"{k}={entry[k]}" for k in ("scorer", "num_samples", "splits", "seed") if k in entry)
    value = entry.get("mean", entry.get("value"))
    number = f"{value:.4g}" if isinstance(value, (int, float)) else str(value)
    std = f" ± {entry['std']:.2g}" if "std" in entry else ""
    return f"{entry.get('name', entry.get('metric', 'score'))} = {number}{std} ({protocol})"


def model_scores(metrics: dict | None) -> list[str]:
    """Every reported score of a metrics.json, each with its protocol."""
    items = (metrics or {}).get("scores", [])
    return [describe_entry(e) for e in items if "mean" in e or "value" in e]


def score_markdown(update: ScoreUpdate, scorer_name: str, reference: list[dict], card: list[dict]) -> str:
    """The Score tab's text for one update."""
    state = "final, exact for all samples" if update.final else f"running, {update.n} of {update.total} samples"
    lines = [
        f"### {score_name(scorer_name, update.n)} = {update.mean:.4f} ± {update.standard_error:.4f}",
        f"*{state}; ± is the standard error over the {SCORE_SPLITS} splits (split std {update.std:.4f} / "
        f"√{SCORE_SPLITS}).*",
        "",
        f"Splits: the {update.total} samples are dealt into {SCORE_SPLITS} equal splits by a fixed random "
        "permutation, so every split grows evenly and the running value is a fair estimate at each step. "
        "Scores from few samples run low.",
        "",
        "**Real data (same scorer):** " + ("; ".join(describe_entry(e) for e in reference) or "no reference shipped"),
        "",
        "**Model card:** " + ("; ".join(describe_entry(e) for e in card) or "no score recorded"),
    ]
    if card:
        lines.append(
            "(the card's protocol takes contiguous splits in sample order; with the same seed and N the images "
            "are the same, only which split each image is in differs)"
        )
    if update.histogram:
        counts = ", ".join(f"{k}: {c}" for k, c in enumerate(update.histogram))
        lines += ["", f"Predicted classes so far: {counts}"]
    return "\n".join(lines)


def score_payload(update: ScoreUpdate, scorer_name: str, seed: int, batch_size: int) -> dict[str, Any]:
    """The machine-readable numbers of one update (the Score tab's JSON output)."""
    return {
        "name": score_name(scorer_name, update.n),
        "metric": ISCORE,
        "scorer": scorer_name,
        "n": update.n,
        "num_samples": update.total,
        "splits": SCORE_SPLITS,
        "assignment": SCORE_ASSIGNMENT,
        "seed": seed,
        "batch_size": batch_size,
        "mean": update.mean,
        "std": update.std,
        "standard_error": update.standard_error,
        "final": update.final,
        "predicted_classes": update.histogram,
    }
