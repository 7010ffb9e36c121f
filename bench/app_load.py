"""Load test of the app: one user against many, on Gradio's /generate, on the HTTP route, and mixed.

    python bench/app_load.py                       # 32 clients, 20 s per phase, dcgan-mnist, 16 images
    python bench/app_load.py --clients 8 --duration 10 --count 64
    python bench/app_load.py --before /work/main   # the same phases on another checkout first (before/after)
    python bench/app_load.py --starts 5 --before /work/main   # only the cold start, 5 launches of each, in turns

Starts ``python app.py`` from the checkout on a free loopback port (its own process, as a user
would) and measures the cold start: launch to the first page served, and to the first /generate
answered. Then runs phases of ``--duration`` seconds:

- /generate through gradio_client: 1 client, then ``--clients`` clients at once (each its own seeds,
  so no answer can be a cached one);
- the same /generate through Gradio's HTTP API with httpx (POST ``/gradio_api/call/generate``, its event
  stream, then the image file, as curl or a browser would): 1 client, then ``--clients``; this client
  costs a fraction of gradio_client's CPU, which shares the server's cores here;
- ``GET /v1/models/{name}/samples.png`` with httpx: 1 client, then ``--clients`` (skipped on a
  checkout without the route);
- mixed: ``--clients`` gradio_client users each cycling through generate, interpolate, class grid
  and a live score (N=500), latency reported per kind.

Prints errors (there must be none), throughput, p50/p95 per phase, the ratios of the crowd to one
client against the targets (>= 5x throughput, p95 <= 1.5 s), and the server's memory after each phase.

The bench's clients run on the same cores as the server, so each phase also records the CPU time of
the server process (all threads, and its child processes) and of the bench's own process (its client
threads), per request, and from the server's share the throughput the server alone could sustain on
this machine's cores (cores / server CPU seconds per request), against the one-client throughput.
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
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORES = len(os.sched_getaffinity(0))
CYCLE = "all classes (cycle)"
TARGET_RATIO, TARGET_P95, TARGET_START = 5.0, 1.5, 4.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(root: Path, port: int, model: str, count: int | None, timeout: float = 300.0):
    """Launch root/app.py; return the process, seconds to the first page, and to the first /generate answer
    (None when ``count`` is None: the first page only)."""
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "GAN_HUB_MODELS": ""}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(root / "app.py"), "--port", str(port)],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"app.py exited with status {proc.returncode}:\n{proc.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.05)
    else:
        proc.kill()
        raise SystemExit(f"app.py did not serve {url} within {timeout:.0f} s")
    first_page = time.perf_counter() - start
    if count is None:
        return proc, first_page, None
    from gradio_client import Client

    Client(url, verbose=False).predict(model, 0, count, CYCLE, 0, api_name="/generate")
    return proc, first_page, time.perf_counter() - start


def cold_starts(roots: list[Path], starts: int) -> None:
    """``starts`` launches of each checkout's app.py to its first page, the checkouts taking turns (so a change
    of load hits both); prints each time and the median against the target."""
    times: dict[Path, list[float]] = {root: [] for root in roots}
    for _ in range(starts):
        for root in roots:
            proc, first_page, _ = start_app(root, free_port(), "", None)
            proc.terminate()
            proc.wait(timeout=30)
            times[root].append(first_page)
    print(f"\n| checkout | app.py to first page, {starts} starts (s) | median | target <= {TARGET_START:g} s |")
    print("|---|---|--:|---|")
    for root, values in times.items():
        median = statistics.median(values)
        print(
            f"| {root} | {', '.join(f'{v:.2f}' for v in values)} | {median:.2f} | "
            f"{'met' if median <= TARGET_START else 'NOT met'} |"
        )


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), of its live descendants, and of the children
    it has reaped: what /proc/PID/stat says, through psutil."""
    import psutil

    root = psutil.Process(pid)
    total = 0.0
    for proc in (root, *root.children(recursive=True)):
        try:
            times = proc.cpu_times()
        except psutil.NoSuchProcess:  # a child that ended meanwhile is counted in its parent's children_* once reaped
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))] if ordered else float("nan")


def run_phase(clients: int, duration: float, make_user, label: str, server_pid: int) -> dict:
    """``clients`` threads; ``make_user(index)`` returns a function ``call(seed) -> kind`` run back to back.
    CPU time is counted from the start signal to the last answer: the server's, and this process's (the clients')."""
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()
    ready = threading.Barrier(clients + 1)  # every client connected...
    go = threading.Event()  # ...then all start together, once the deadline is set
    stop_at = [0.0]

    def user(index: int) -> None:
        call = make_user(index)
        seed = index * 1_000_000
        ready.wait()
        go.wait()
        while time.perf_counter() < stop_at[0]:
            seed += 1
            began = time.perf_counter()
            try:
                kind = call(seed)
                with lock:
                    latencies[kind].append(time.perf_counter() - began)
            except Exception as err:  # every failure is counted and reported, whatever its kind
                with lock:
                    errors.append(f"{type(err).__name__}: {err}")

    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    ready.wait()
    server_cpu, client_cpu = cpu_seconds(server_pid), time.process_time()
    began = time.perf_counter()
    stop_at[0] = began + duration
    go.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began  # includes the requests still running at the deadline
    server_cpu, client_cpu = cpu_seconds(server_pid) - server_cpu, time.process_time() - client_cpu
    every = [x for values in latencies.values() for x in values]
    requests = max(1, len(every))
    return {
        "label": label,
        "clients": clients,
        "requests": len(every),
        "errors": errors,
        "seconds": elapsed,
        "throughput": len(every) / elapsed,
        "p50": percentile(every, 0.5),
        "p95": percentile(every, 0.95),
        "server_cpu_ms": server_cpu * 1e3 / requests,
        "client_cpu_ms": client_cpu * 1e3 / requests,
        "server_bound": CORES * requests / server_cpu if server_cpu > 0 else float("inf"),  # req/s, server alone
        "cores_busy": (server_cpu + client_cpu) / elapsed,
        "kinds": {k: (len(v), percentile(v, 0.5), percentile(v, 0.95)) for k, v in latencies.items()},
    }


def gradio_user(url: str, model: str, count: int):
    from gradio_client import Client

    def make(index: int):
        client = Client(url, verbose=False)

        def call(seed: int) -> str:
            client.predict(model, seed, count, CYCLE, 0, api_name="/generate")
            return "generate"

        return call

    return make


def gradio_http_user(url: str, model: str, count: int):
    """/generate through Gradio's own HTTP API, as curl or a browser's fetch would call it: POST
    ``/gradio_api/call/generate`` (an event id), GET its event stream to the ``complete`` event, then GET
    the image it names. The same server work as gradio_client's call, at a fraction of the client's CPU."""
    import json

    import httpx

    def make(index: int):
        http = httpx.Client(base_url=url, timeout=120)

        def call(seed: int) -> str:
            posted = http.post("/gradio_api/call/generate", json={"data": [model, seed, count, CYCLE, 0]})
            event_id = posted.raise_for_status().json()["event_id"]
            event, data = None, None
            with http.stream("GET", f"/gradio_api/call/generate/{event_id}") as stream:
                for line in stream.raise_for_status().iter_lines():
                    if line.startswith("event:"):
                        event = line.partition(":")[2].strip()
                    elif line.startswith("data:") and event in ("complete", "error"):
                        data = line.partition(":")[2].strip()
                        break
            if event != "complete":
                raise RuntimeError(f"/generate ended with event {event!r}: {data}")
            image = json.loads(data)[0]
            http.get(image["url"]).raise_for_status()
            return "generate"

        return call

    return make


def route_user(url: str, model: str, count: int):
    import httpx

    def make(index: int):
        http = httpx.Client(base_url=url, timeout=120)

        def call(seed: int) -> str:
            http.get(f"/v1/models/{model}/samples.png", params={"n": count, "seed": seed}).raise_for_status()
            return "GET samples.png"

        return call

    return make


def mixed_user(url: str, model: str, conditional: str, count: int):
    """Each user cycles through the four kinds of work, starting at a different one."""
    from gradio_client import Client

    def make(index: int):
        client = Client(url, verbose=False)
        turn = [index]

        def call(seed: int) -> str:
            turn[0] += 1
            kind = ("generate", "interpolate", "class grid", "score")[turn[0] % 4]
            if kind == "generate":
                client.predict(model, seed, count, CYCLE, 0, api_name="/generate")
            elif kind == "interpolate":
                client.predict(conditional, seed, seed + 1, 8, "slerp", "0", "1", api_name="/interpolate")
            elif kind == "class grid":
                client.predict(conditional, 8, seed, api_name="/class_grid")
            else:
                client.predict(model, "mnist-classifier", 500, 250, seed, api_name="/score")
            return kind

        return call

    return make


def rss_mib(pid: int) -> float:
    import psutil

    return psutil.Process(pid).memory_info().rss / 2**20


def has_route(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}v1/models", timeout=10) as response:
            return response.status == 200
    except OSError:
        return False


def measure(root: Path, args) -> dict:
    port = free_port()
    proc, first_page, first_sample = start_app(root, port, args.model, args.count)
    url = f"http://127.0.0.1:{port}/"
    rss = {"after start": rss_mib(proc.pid)}
    phases = []

    def phase(clients: int, make_user, label: str, duration: float = args.duration) -> dict:
        return run_phase(clients, duration, make_user, label, server_pid=proc.pid)

    try:
        phase(1, gradio_user(url, args.model, args.count), "warm-up", duration=2.0)
        phases.append(phase(1, gradio_user(url, args.model, args.count), "/generate"))
        phases.append(phase(args.clients, gradio_user(url, args.model, args.count), "/generate"))
        rss["after /generate"] = rss_mib(proc.pid)
        phases.append(phase(1, gradio_http_user(url, args.model, args.count), "/generate, HTTP API"))
        phases.append(phase(args.clients, gradio_http_user(url, args.model, args.count), "/generate, HTTP API"))
        if has_route(url):
            phases.append(phase(1, route_user(url, args.model, args.count), "HTTP route"))
            phases.append(phase(args.clients, route_user(url, args.model, args.count), "HTTP route"))
            rss["after HTTP route"] = rss_mib(proc.pid)
        phases.append(phase(args.clients, mixed_user(url, args.model, args.conditional, args.count), "mixed"))
        rss["after mixed"] = rss_mib(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return {"root": root, "first_page": first_page, "first_sample": first_sample, "rss": rss, "phases": phases}


def report(result: dict, args) -> list[str]:
    print(f"\n## {result['root']}")
    print(
        f"app.py to first page served: {result['first_page']:.2f} s; to the first /generate answered: "
        f"{result['first_sample']:.2f} s"
    )
    print("server RSS: " + ", ".join(f"{k} {v:.0f} MiB" for k, v in result["rss"].items()))
    print(
        "\n| phase | clients | requests | errors | throughput (req/s) | p50 (ms) | p95 (ms) "
        f"| server CPU ms/req | client CPU ms/req | cores busy (of {CORES}) | server alone (req/s) |"
    )
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for p in result["phases"]:
        print(
            f"| {p['label']} | {p['clients']} | {p['requests']} | {len(p['errors'])} | {p['throughput']:.1f} | "
            f"{p['p50'] * 1e3:.0f} | {p['p95'] * 1e3:.0f} | {p['server_cpu_ms']:.1f} | {p['client_cpu_ms']:.1f} | "
            f"{p['cores_busy']:.2f} | {p['server_bound']:.1f} |"
        )
    by = defaultdict(dict)
    for p in result["phases"]:
        by[p["label"]][p["clients"]] = p
    for label in ("/generate", "/generate, HTTP API", "HTTP route"):
        if 1 in by[label] and args.clients in by[label]:
            one, crowd = by[label][1], by[label][args.clients]
            ratio = crowd["throughput"] / one["throughput"]
            ok = ratio >= TARGET_RATIO and crowd["p95"] <= TARGET_P95 and not crowd["errors"]
            print(
                f"{label}: {args.clients} clients / 1 client throughput {ratio:.2f}x, p95 {crowd['p95']:.2f} s "
                f"(targets >= {TARGET_RATIO:g}x, p95 <= {TARGET_P95:g} s, no errors: {'met' if ok else 'NOT met'})"
            )
            print(
                f"{label}: at {crowd['server_cpu_ms']:.1f} server CPU ms per request ({args.clients} clients), the "
                f"server alone could sustain {crowd['server_bound']:.1f} req/s on {CORES} cores, "
                f"{crowd['server_bound'] / one['throughput']:.2f}x the one-client throughput; the clients used "
                f"{crowd['client_cpu_ms']:.1f} CPU ms per request of the same cores"
            )
    mixed = by["mixed"].get(args.clients)
    if mixed:
        print(
            f"mixed, {args.clients} clients, per kind (requests, p50 ms, p95 ms): "
            + "; ".join(
                f"{k} {n}, {p50 * 1e3:.0f}, {p95 * 1e3:.0f}" for k, (n, p50, p95) in sorted(mixed["kinds"].items())
            )
        )
    return [e for p in result["phases"] for e in p["errors"]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per phase")
    parser.add_argument("--model", default="dcgan-mnist", help="a model of model_zoo/")
    parser.add_argument("--conditional", default="cgan-mnist", help="a conditional model of model_zoo/ (mixed phase)")
    parser.add_argument("--count", type=int, default=16, help="images per sampling call")
    parser.add_argument("--before", type=Path, default=None, help="another checkout to measure first (e.g. main)")
    parser.add_argument(
        "--starts", type=int, default=0, help="only time N cold starts of each checkout (taking turns), no load phases"
    )
    args = parser.parse_args(argv)

    load = os.getloadavg()
    print(
        f"{os.cpu_count()} CPU(s), load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the start; "
        f"{args.count} images per sampling call, {args.duration:.0f} s per phase"
    )
    roots = ([args.before.resolve()] if args.before else []) + [ROOT]
    if args.starts:
        cold_starts(roots, args.starts)
        return 0
    errors = []
    for root in roots:
        errors += report(measure(root, args), args)
    for message in sorted(set(errors))[:10]:
        print(f"error: {message}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
