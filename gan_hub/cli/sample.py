"""``gan-hub sample``: images from a pretrained generator, as a grid picture or an interpolation GIF."""

from __future__ import annotations

import argparse
from pathlib import Path

from .parsing import CommandParser

EXAMPLES = """examples:
  gan-hub sample model_zoo/dcgan-mnist -n 64 --seed 0 -o grid.png
  gan-hub sample gan-hub/cgan-mnist -n 16 --labels 7 -o sevens.png          # one class for every sample
  gan-hub sample gan-hub/cgan-mnist -n 10 --labels 0,1,2,3,4,5,6,7,8,9 -o digits.png
  gan-hub sample model_zoo/dcgan-mnist -n 64 --truncation 0.7 -o typical.png
  gan-hub sample model_zoo/dcgan-mnist --seed 0 --interpolate 5 --steps 16 -o walk.gif
  gan-hub sample gan-hub/cgan-mnist --interpolate 0 --labels 1,7 -o one-to-seven.gif

MODEL is a model folder or a Hub repo id (downloaded once into the Hugging Face cache).
The same MODEL, seed and options always give the same pictures."""

GRID_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp")
ANIMATION_SUFFIXES = (".gif",)


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def build_parser(prog: str = "gan-hub sample") -> CommandParser:
    p = CommandParser(
        prog=prog,
        description="Sample a pretrained generator into a grid picture, or walk from one "
        "seed's latent to another's into a GIF.",
        epilog=EXAMPLES,
    )
    p.add_argument("model", metavar="MODEL", help="model folder or Hub repo id (org/name)")
    p.add_argument("-n", "--num-samples", type=positive_int, default=64, help="images in the grid (default 64)")
    p.add_argument("--seed", type=int, default=0, help="latent seed; with --interpolate, the first frame's (default 0)")
    p.add_argument(
        "--labels",
        default=None,
        help="class-conditional models: comma-separated class indices or names; one applies to every "
        "sample, else one per sample (default: classes in turn). With --interpolate: start[,end]",
    )
    p.add_argument(
        "--truncation",
        type=positive_float,
        default=None,
        help="truncation trick: redraw latent entries with |z| above this (e.g. 0.7); grids only",
    )
    p.add_argument("--nrow", type=positive_int, default=None, help="images per row (default: a near-square grid)")
    p.add_argument(
        "--interpolate",
        type=int,
        default=None,
        metavar="SEED_B",
        help="write the frames from --seed's latent to SEED_B's instead of a grid",
    )
    p.add_argument("--steps", type=positive_int, default=16, help="interpolation frames (default 16)")
    p.add_argument("--method", choices=("slerp", "lerp"), default="slerp", help="interpolation path (default slerp)")
    p.add_argument("--fps", type=positive_float, default=8.0, help="GIF frames per second (default 8)")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        help=f"output file: a grid as {'/'.join(GRID_SUFFIXES)}, an interpolation as .gif or as a .png "
        "strip (default grid.png, or interpolation.gif)",
    )
    p.add_argument("--revision", default=None, help="Hub revision (branch, tag or commit) of MODEL")
    p.add_argument("--device", default="cpu", help="torch device to run the generator on (default cpu)")
    return p


def parse_labels(text: str | None) -> list[str] | None:
    if text is None:
        return None
    labels = [item.strip() for item in text.split(",")]
    if not all(labels):
        raise ValueError(f"--labels {text!r} has an empty entry; write e.g. 3 or 0,1,2 or a class name")
    return labels


def grid_labels(labels: list[str] | None, n: int) -> list[str] | None:
    if labels is None or len(labels) == n:
        return labels
    if len(labels) == 1:
        return labels * n
    raise ValueError(f"--labels gives {len(labels)} classes for {n} samples: give one, or one per sample")


def output_path(args: argparse.Namespace) -> Path:
    animation = args.interpolate is not None
    path = args.output or Path("interpolation.gif" if animation else "grid.png")
    allowed = ANIMATION_SUFFIXES + (".png",) if animation else GRID_SUFFIXES
    if path.suffix.lower() not in allowed:
        raise ValueError(
            f"--output {path}: {'an interpolation' if animation else 'a grid'} is written as {' or '.join(allowed)}"
        )
    return path


def write_picture(images, path: Path, nrow: int) -> None:
    from ..sampling import image_grid

    save_picture(image_grid(images, nrow=nrow), path)


def save_picture(picture, path: Path) -> None:
    from ..io import atomic_write_file

    image_format = {".jpg": "JPEG", ".jpeg": "JPEG"}.get(path.suffix.lower(), path.suffix[1:].upper())
    atomic_write_file(path, lambda tmp: picture.save(tmp, format=image_format))


def write_animation(frames, path: Path, fps: float) -> None:
    from ..app.media import write_gif
    from ..io import atomic_write_file

    atomic_write_file(path, lambda tmp: write_gif(frames, tmp, fps=fps))


def run(args: argparse.Namespace) -> str:
    from ..hub import Generator
    from ..sampling import grid_columns

    path = output_path(args)
    labels = parse_labels(args.labels)
    generator = Generator.from_pretrained(args.model, revision=args.revision, map_location=args.device)
    if generator.config.is_vector:
        return write_scatter(generator, args, path)
    if args.interpolate is None:
        images = generator.generate(
            args.num_samples, seed=args.seed, labels=grid_labels(labels, args.num_samples), truncation=args.truncation
        )
        write_picture(images, path, args.nrow or grid_columns(len(images)))
        return f"wrote {path} ({len(images)} images, seed {args.seed})"
    if args.truncation is not None:
        raise ValueError("--truncation applies to grids, not to --interpolate")
    if labels is not None and len(labels) > 2:
        raise ValueError(
            f"--labels with --interpolate takes a start class and optionally an end class, got {len(labels)}"
        )
    label_a, label_b = (labels + labels[-1:])[:2] if labels else (None, None)
    frames = generator.interpolate(
        args.seed, args.interpolate, steps=args.steps, method=args.method, label_a=label_a, label_b=label_b
    )
    if path.suffix.lower() == ".png":
        write_picture(frames, path, len(frames))
    else:
        write_animation(frames, path, args.fps)
    return f"wrote {path} ({len(frames)} frames, seed {args.seed} to seed {args.interpolate}, {args.method})"


def write_scatter(generator, args: argparse.Namespace, path: Path) -> str:
    """A 2-D model's samples as a scatter plot over its data's modes."""
    if args.interpolate is not None:
        raise ValueError(
            f"{args.model} makes 2-D points, not images: --interpolate has no frames to draw; "
            "leave it out to draw the points over the modes"
        )
    labels = grid_labels(parse_labels(args.labels), args.num_samples)  # refused: the model has no classes
    points = generator.generate(args.num_samples, seed=args.seed, labels=labels, truncation=args.truncation)
    save_picture(generator.scatter(points, f"{len(points):,} samples, seed {args.seed}"), path)
    return f"wrote {path} ({len(points)} points over the modes, seed {args.seed})"


def main(argv: list[str] | None = None, prog: str = "gan-hub sample") -> int:
    from .errors import user_errors

    parser = build_parser(prog)
    args = parser.parse_args(argv)
    with user_errors(parser):
        print(run(args))
    return 0
