"""Latency of the app's ways to sample (Gradio's /generate, the HTTP route) versus the forward pass alone.

    python bench/sample.py                              # model_zoo/dcgan-mnist
    python bench/sample.py --model runs/x/model --reps 50
    python bench/sample.py --random                     # a random-weight DCGAN (smoke run, no zoo needed)

Serves the app in-process on a free loopback port with one model and times, interleaved per seed:
/generate through gradio_client; the same call over raw HTTP (Gradio's queue/join, its event
stream, then the download of the PNG: the server's share without the client library);
``GET /v1/models/{name}/samples.png`` with httpx; ``g.generate(count, seed)`` alone; forward + grid +
PNG encode; and a round trip that computes nothing (/random_seed), through gradio_client and over
raw HTTP. The differences locate the overhead: the client library's polling, Gradio's queue and
event stream, its file serving, our grid and PNG.
"""

from __future__ import annotations

import argparse
import io
import json
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
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
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


def raw_gradio_call(http, fn_index: int, data: list, session: list[int]) -> dict:
    """One event through Gradio's own protocol (queue/join, then its event stream until completed)."""
    session[0] += 1
    session_hash = f"bench{session[0]}"
    http.post(
        "/gradio_api/queue/join",
        json={"data": data, "fn_index": fn_index, "session_hash": session_hash, "event_data": None, "trigger_id": None},
    ).raise_for_status()
    with http.stream("GET", "/gradio_api/queue/data", params={"session_hash": session_hash}) as stream:
        for line in stream.iter_lines():
            if line.startswith("data:") and '"process_completed"' in line:
                message = json.loads(line[5:])
                if not message.get("success"):
                    raise RuntimeError(f"event failed: {message}")
                return message["output"]
    raise RuntimeError("the event stream ended without a result")


def random_model(folder: Path) -> Path:
    from gan_hub import Generator, GeneratorConfig

    Generator(GeneratorConfig(variant="dcgan", arch="dcgan", dataset="mnist")).save_pretrained(folder / "dcgan-random")
    return folder / "dcgan-random"


def main(argv=None) -> int:
    args = parse_args(argv)
    if not 1 <= args.count <= 64:
        print(f"bench/sample.py: --count must be 1..64 (the app's limit), got {args.count}", file=sys.stderr)
        return 2
    import httpx
    from gradio_client import Client

    from gan_hub import Generator
    from gan_hub.app import actions as act
    from gan_hub.app import build_demo, launch

    with tempfile.TemporaryDirectory() as tmp:
        model = random_model(Path(tmp)) if args.random else Path(args.model)
        from gan_hub.app.catalog import looks_like_path

        meant_as_folder = looks_like_path(args.model) or model.parent.name != "" and model.parent.is_dir()
        if not args.random and not model.is_dir() and meant_as_folder:
            print(
                f"bench/sample.py: model folder {model} does not exist. Train and export it (see README), pass "
                "--model FOLDER_OR_REPO_ID, or run with --random for a random-weight smoke run.",
                file=sys.stderr,
            )
            return 2
        demo = build_demo([str(model)], zoo_dir=None, cache_size=1)
        name = demo.gan_hub_catalog.names[0]
        port = free_port()
        launch(demo, host="127.0.0.1", port=port, prevent_thread_lock=True, quiet=True)
        base = f"http://127.0.0.1:{port}"
        http = httpx.Client(base_url=base, timeout=60)
        fn_index = {fn.api_name: i for i, fn in demo.fns.items()}
        session = [0]
        try:
            client = Client(f"{base}/", verbose=False)
            g = Generator.from_pretrained(model)

            def via_app(seed):
                client.predict(name, seed, args.count, act.CYCLE, 0, api_name="/generate")

            def via_raw(seed):
                out = raw_gradio_call(http, fn_index["generate"], [name, seed, args.count, act.CYCLE, 0], session)
                http.get(out["data"][0]["url"]).raise_for_status()

            def via_route(seed):
                response = http.get(f"/v1/models/{name}/samples.png", params={"n": args.count, "seed": seed})
                response.raise_for_status()

            def round_trip(seed):
                client.predict(api_name="/random_seed")

            def raw_round_trip(seed):
                raw_gradio_call(http, fn_index["random_seed"], [], session)

            def forward(seed):
                g.generate(args.count, seed=seed)

            def forward_and_png(seed):
                act.sample_grid(g, seed, args.count).save(io.BytesIO(), format="png")

            rows = [
                ("/generate via gradio_client", via_app),
                ("/generate over raw HTTP (+ PNG download)", via_raw),
                ("GET /v1/.../samples.png (httpx)", via_route),
                ("g.generate(n, seed) forward only", forward),
                ("forward + grid + PNG encode", forward_and_png),
                ("/random_seed via gradio_client (no compute)", round_trip),
                ("/random_seed over raw HTTP (no compute)", raw_round_trip),
            ]
            warm = range(args.seed - args.warmup, args.seed)
            for _, fn in rows:
                timed(fn, warm)
            # Interleaved (one of each per seed), so drifting load from other processes hits all rows alike.
            times: dict[str, list[float]] = {label: [] for label, _ in rows}
            for seed in range(args.seed, args.seed + args.reps):
                for label, fn in rows:
                    times[label] += timed(fn, [seed])
        finally:
            http.close()
            demo.close()

    medians = {label: stats(t) for label, t in times.items()}
    fwd_med = medians["g.generate(n, seed) forward only"][0]
    png_med = medians["forward + grid + PNG encode"][0]
    route_med = medians["GET /v1/.../samples.png (httpx)"][0]
    cfg = g.config
    print(
        f"\nmodel: {model if not args.random else 'random-weight dcgan (--random)'}  "
        f"({cfg.variant}, {cfg.channels}x{cfg.image_size}x{cfg.image_size}, latent {cfg.latent_dim})"
    )
    print(
        f"images per call: {args.count}; warm-up {args.warmup}, {args.reps} interleaved repetitions, seeds "
        f"{args.seed}..{args.seed + args.reps - 1}; torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"CPU ({platform.processor() or platform.machine()})\n"
    )
    print(f"| {'what':<44} | {'median ms':>9} | {'p95 ms':>8} | {'/ forward (median)':>18} |")
    print(f"|{'-' * 46}|{'-' * 11}|{'-' * 10}|{'-' * 20}|")
    for label, (med, p95) in medians.items():
        print(f"| {label:<44} | {med:>9.1f} | {p95:>8.1f} | {med / fwd_med:>17.2f}x |")
    ratio = route_med / png_med
    print(
        f"\nHTTP route / (forward + grid + PNG), medians: {ratio:.2f}x (target <= 1.2x: "
        f"{'met' if ratio <= 1.2 else 'NOT met'})"
    )
    client_share = (
        medians["/random_seed via gradio_client (no compute)"][0]
        - medians["/random_seed over raw HTTP (no compute)"][0]
    )
    print(f"gradio_client's own share of a no-op round trip (its polling): {client_share:.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
