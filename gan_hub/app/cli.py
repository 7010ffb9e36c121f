"""The app's command line: ``python app.py`` (the Space's entry point) and ``gan-hub app``."""

from __future__ import annotations

import argparse
import os
import signal
import sys

from .catalog import DEFAULT_CACHE_SIZE, ENV_ALLOWED_ROOTS, ENV_MODELS, CatalogError, local_zoo


def parse_args(
    argv: list[str] | None = None, prog: str | None = None, parser_class=argparse.ArgumentParser
) -> argparse.Namespace:
    parser = parser_class(
        prog=prog,
        description="gan-hub's Gradio app: browse, sample, interpolate and score pretrained GANs.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--models",
        default=os.environ.get(ENV_MODELS, ""),
        help=f"comma-separated Hub repo ids or model folders, shown after the zoo's (env {ENV_MODELS})",
    )
    parser.add_argument("--zoo", default=str(local_zoo()), help="folder of bundled models ('' to leave it out)")
    parser.add_argument(
        "--host",
        default=os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1",
        help="address to serve on (env GRADIO_SERVER_NAME)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("GRADIO_SERVER_PORT") or 7860),
        help="port to serve on (env GRADIO_SERVER_PORT)",
    )
    parser.add_argument("--cache-size", type=int, default=DEFAULT_CACHE_SIZE, help="generators kept in memory at once")
    parser.add_argument(
        "--allow-folders",
        default=os.environ.get(ENV_ALLOWED_ROOTS, ""),
        help=f"folders ({os.pathsep!r}-separated) inside which visitors may add model folders; empty: "
        f"visitors add Hub repo ids only (env {ENV_ALLOWED_ROOTS})",
    )
    parser.add_argument(
        "--scorer-weights",
        default=None,
        help="weights file for the mnist-classifier scorer (overrides the shipped one)",
    )
    return parser.parse_args(argv)


def _stop(signum, frame):
    """SIGTERM (how services and Spaces stop an app) ends the app like Ctrl-C: its exit handlers run
    (temporary folders are removed)."""
    raise SystemExit(0)


def main(argv: list[str] | None = None, prog: str = "app.py", **parser_options) -> int:
    args = parse_args(argv, prog=prog, **parser_options)
    signal.signal(signal.SIGTERM, _stop)
    from . import build_demo, launch

    try:
        demo = build_demo(
            args.models,
            zoo_dir=args.zoo or None,
            cache_size=args.cache_size,
            scorer_weights={"mnist-classifier": args.scorer_weights} if args.scorer_weights else None,
            allowed_roots=[p for p in args.allow_folders.split(os.pathsep) if p.strip()],
        )
    except CatalogError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    launch(demo, host=args.host, port=args.port)
    return 0
