"""Latency of the app's /generate endpoint versus the generator's forward pass alone.

    python bench/sample.py                              # model_zoo/dcgan-mnist
    python bench/sample.py --model runs/x/model --reps 50
    python bench/sample.py --random                     # a random-weight DCGAN (smoke run, no zoo needed)

Serves the app in-process on a free loopback port with one model, calls /generate through
gradio_client for ``--count`` images (after warm-up calls), then times ``g.generate(count, seed)``
for the same seeds in the same process, and prints median and p95 of both and their ratio.
The difference is the app's overhead: queueing, grid drawing, PNG encoding, HTTP and the
client's download of the file.
"""
from __future__ import annotations

import argparse
import os
import platform
import socket
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

DEFAULT_MODEL = ROOT / "model_zoo" / "dcgan-mnist"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model", default=str(DEFAULT_MODEL), help="model folder (or Hub repo id)")
    parser.add_argument("--random", action="store_true", help="benchmark a random-weight DCGAN on MNIST shapes instead")
    parser.add_argument("--count", type=int, default=64, help="images per /generate call (the app allows 1..64)")
    parser.add_argument("--reps", type=int, default=20, help="timed repetitions")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls first")
    parser.add_argument("--seed", type=int, default=1000, help="first seed; repetition i uses seed + i")
    return parser.parse_args(argv)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stats(seconds: list[float]) -> tuple[float, float]:
    ms = np.asarray(seconds) * 1000.0
    return float(np.median(ms)), float(np.percentile(ms, 95))


def timed(fn, seeds) -> list[float]:
    out = []
    for seed in seeds:
        start = time.perf_counter()
        fn(seed)
        out.append(time.perf_counter() - start)
    return out


def random_model(folder: Path) -> Path:
    from gan_hub import Generator, GeneratorConfig

    Generator(GeneratorConfig(variant="dcgan", arch="dcgan", dataset="mnist")).save_pretrained(folder / "dcgan-random")
    return folder / "dcgan-random"


def main(argv=None) -> int:
    args = parse_args(argv)
    if not 1 <= args.count <= 64:
        print(f"bench/sample.py: --count must be 1..64 (the app's limit), got {args.count}", file=sys.stderr)
        return 2
    from gradio_client import Client

    from gan_hub import Generator
    from gan_hub.app import actions as act
    from gan_hub.app import build_demo, launch

    with tempfile.TemporaryDirectory() as tmp:
        model = random_model(Path(tmp)) if args.random else Path(args.model)
        from gan_hub.app.catalog import looks_like_path

        meant_as_folder = looks_like_path(args.model) or model.parent.name != "" and model.parent.is_dir()
        if not args.random and not model.is_dir() and meant_as_folder:
            print(f"bench/sample.py: model folder {model} does not exist. Train and export it (see README), pass "
                  "--model FOLDER_OR_REPO_ID, or run with --random for a random-weight smoke run.", file=sys.stderr)
            return 2
        demo = build_demo([str(model)], zoo_dir=None, cache_size=1)
        name = demo.gan_hub_catalog.names[0]
        port = free_port()
        launch(demo, host="127.0.0.1", port=port, prevent_thread_lock=True, quiet=True)
        try:
            client = Client(f"http://127.0.0.1:{port}/", verbose=False)
            g = Generator.from_pretrained(model)

            def via_app(seed):
                client.predict(name, seed, args.count, act.CYCLE, api_name="/generate")

            def round_trip(seed):
                client.predict(api_name="/random_seed")

            def forward(seed):
                g.generate(args.count, seed=seed)

            def forward_and_png(seed):
                import io

                act.sample_grid(g, seed, args.count).save(io.BytesIO(), format="png")

            warm = range(args.seed - args.warmup, args.seed)
            for fn in (via_app, round_trip, forward, forward_and_png):
                timed(fn, warm)
            # Interleaved (one of each per seed), so drifting load from other processes hits all rows alike.
            app_t, fwd_t, png_t, rt_t = [], [], [], []
            for seed in range(args.seed, args.seed + args.reps):
                for fn, out in ((via_app, app_t), (forward, fwd_t), (forward_and_png, png_t), (round_trip, rt_t)):
                    out += timed(fn, [seed])
        finally:
            demo.close()

    app_med, app_p95 = stats(app_t)
    fwd_med, fwd_p95 = stats(fwd_t)
    png_med, png_p95 = stats(png_t)
    rt_med, rt_p95 = stats(rt_t)
    cfg = g.config
    print(f"\nmodel: {model if not args.random else 'random-weight dcgan (--random)'}  "
          f"({cfg.variant}, {cfg.channels}x{cfg.image_size}x{cfg.image_size}, latent {cfg.latent_dim})")
    print(f"images per call: {args.count}; warm-up {args.warmup}, {args.reps} interleaved repetitions, seeds "
          f"{args.seed}..{args.seed + args.reps - 1}; torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"CPU ({platform.processor() or platform.machine()})\n")
    rows = [
        ("/generate via gradio_client", app_med, app_p95),
        ("g.generate(n, seed) forward only", fwd_med, fwd_p95),
        ("forward + grid + PNG encode", png_med, png_p95),
        ("/random_seed round trip (no compute)", rt_med, rt_p95),
    ]
    print(f"| {'what':<36} | {'median ms':>9} | {'p95 ms':>8} | {'/ forward (median)':>18} |")
    print(f"|{'-' * 38}|{'-' * 11}|{'-' * 10}|{'-' * 20}|")
    for label, med, p95 in rows:
        print(f"| {label:<36} | {med:>9.1f} | {p95:>8.1f} | {med / fwd_med:>17.2f}x |")
    print(f"\napp overhead over the forward pass (median): {app_med - fwd_med:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
