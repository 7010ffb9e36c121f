"""Load test of the app: N concurrent gradio_client users on /generate, against one user alone.

    python bench/app_load.py                       # 32 clients, 20 s per phase, dcgan-mnist, 16 images
    python bench/app_load.py --clients 8 --duration 10 --model cgan-mnist --count 64

Starts ``python app.py`` on a free loopback port (its own process, as a user would), measures the
time from launch to the first page served, then runs two phases of ``--duration`` seconds each:
one client calling /generate back to back, then ``--clients`` clients doing the same at once
(each with a different seed, so no response can be a cached one). Prints errors (there must be
none), throughput and p50/p95 latency of both phases and their ratios, and the server's memory.
Exit status 1 if any request failed.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, timeout: float = 180.0) -> tuple[subprocess.Popen, float]:
    """Launch app.py; return the process and the seconds until GET / answered 200."""
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"app.py exited with status {proc.returncode}:\n{proc.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return proc, time.perf_counter() - start
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"app.py did not serve {url} within {timeout:.0f} s")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run_phase(url: str, clients: int, duration: float, model: str, count: int) -> dict:
    """``clients`` threads, each with its own Client, calling /generate until ``duration`` is over."""
    from gradio_client import Client

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)   # every client connected...
    go = threading.Event()                   # ...then all start together, once the deadline is set
    stop_at = [0.0]

    def user(index: int) -> None:
        client = Client(url, verbose=False)
        seed = index * 1_000_000
        ready.wait()
        go.wait()
        while time.perf_counter() < stop_at[0]:
            seed += 1
            began = time.perf_counter()
            try:
                client.predict(model, seed, count, "all classes (cycle)", 0, api_name="/generate")
                with lock:
                    latencies.append(time.perf_counter() - began)
            except Exception as err:  # every failure is counted and reported, whatever its kind
                with lock:
                    errors.append(f"{type(err).__name__}: {err}")

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    ready.wait()
    began = time.perf_counter()
    stop_at[0] = began + duration
    go.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began  # includes the requests still running at the deadline
    return {"clients": clients, "requests": len(latencies), "errors": errors, "seconds": elapsed,
            "throughput": len(latencies) / elapsed,
            "p50": percentile(latencies, 0.5) if latencies else float("nan"),
            "p95": percentile(latencies, 0.95) if latencies else float("nan"),
            "mean": statistics.fmean(latencies) if latencies else float("nan")}


def rss_mib(pid: int) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per phase")
    parser.add_argument("--model", default="dcgan-mnist", help="a model of model_zoo/")
    parser.add_argument("--count", type=int, default=16, help="images per /generate call")
    args = parser.parse_args(argv)

    port = free_port()
    proc, startup = start_app(port)
    url = f"http://127.0.0.1:{port}/"
    try:
        idle_rss = rss_mib(proc.pid)
        run_phase(url, 1, 2.0, args.model, args.count)  # warm-up: loads the model, first-call costs
        alone = run_phase(url, 1, args.duration, args.model, args.count)
        crowd = run_phase(url, args.clients, args.duration, args.model, args.count)
        loaded_rss = rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    print(f"app.py to first page served: {startup:.2f} s; server RSS {idle_rss:.0f} MiB after start, "
          f"{loaded_rss:.0f} MiB after the load test")
    print(f"/generate, model {args.model}, {args.count} images per call, {args.duration:.0f} s per phase, "
          f"{os.cpu_count()} CPU(s)\n")
    print(f"| clients | requests | errors | throughput (req/s) | p50 (ms) | p95 (ms) |")
    print(f"|--------:|---------:|-------:|-------------------:|---------:|---------:|")
    for phase in (alone, crowd):
        print(f"| {phase['clients']} | {phase['requests']} | {len(phase['errors'])} | {phase['throughput']:.1f} | "
              f"{phase['p50'] * 1e3:.0f} | {phase['p95'] * 1e3:.0f} |")
    print(f"\nratios ({args.clients} clients / 1 client): throughput {crowd['throughput'] / alone['throughput']:.2f}x, "
          f"p50 {crowd['p50'] / alone['p50']:.1f}x, p95 {crowd['p95'] / alone['p95']:.1f}x")
    errors = alone["errors"] + crowd["errors"]
    for message in sorted(set(errors))[:10]:
        print(f"error: {message}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
