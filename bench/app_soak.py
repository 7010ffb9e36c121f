"""Memory soak of the app: mixed load for several rounds, the server's resident memory after each.

    python bench/app_soak.py                        # 16 clients, 3 rounds of 60 s
    python bench/app_soak.py --rounds 5 --duration 30 --before /work/main

Starts ``python app.py`` (as bench/app_load.py does), then runs ``--rounds`` rounds of the mixed
phase (generate, interpolate, class grid, score) with ``--clients`` gradio_client users and prints
the RSS after start and after each round, requests and errors per round, and whether the app left a
temporary folder behind once stopped. Bounded memory reads as a flat tail, not a steady climb.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from app_load import free_port, mixed_user, rss_mib, run_phase, start_app  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def exports_folders() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "gan-hub-exports-*")))


def soak(root: Path, args) -> int:
    before = exports_folders()
    port = free_port()
    proc, first_page, _ = start_app(root, port, args.model, args.count)
    url = f"http://127.0.0.1:{port}/"
    rows = [("after start", rss_mib(proc.pid), 0, 0)]
    errors = 0
    try:
        for round_ in range(1, args.rounds + 1):
            phase = run_phase(
                args.clients, args.duration, mixed_user(url, args.model, args.conditional, args.count), "mixed"
            )
            errors += len(phase["errors"])
            rows.append((f"after round {round_}", rss_mib(proc.pid), phase["requests"], len(phase["errors"])))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    left = exports_folders() - before
    print(f"\n## {root}: {args.clients} clients, {args.rounds} rounds of {args.duration:.0f} s mixed load")
    print("| when | server RSS (MiB) | requests | errors |\n|---|--:|--:|--:|")
    for label, rss, requests, errs in rows:
        print(f"| {label} | {rss:.0f} | {requests} | {errs} |")
    print(f"temporary export folders left after the app stopped: {len(left)}")
    return errors


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds per round")
    parser.add_argument("--model", default="dcgan-mnist")
    parser.add_argument("--conditional", default="cgan-mnist")
    parser.add_argument("--count", type=int, default=16)
    parser.add_argument("--before", type=Path, default=None, help="another checkout to soak first (e.g. main)")
    args = parser.parse_args(argv)
    load = os.getloadavg()
    print(f"{os.cpu_count()} CPU(s), load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the start")
    roots = ([args.before.resolve()] if args.before else []) + [ROOT]
    return 1 if sum(soak(root, args) for root in roots) else 0


if __name__ == "__main__":
    sys.exit(main())
