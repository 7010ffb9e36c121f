"""bench/app_load.py: its CPU accounting (the server's CPU time counts all its threads and its child processes),
its cold-start mode, and the lean HTTP API client of its '/generate, HTTP API' phases."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import app_load as bench  # noqa: E402

BURN = 0.3  # CPU seconds the burner spends, counted by its own clock, so machine load cannot shorten it
# Waits for a line, burns BURN CPU seconds in a second thread, says so, then waits for stdin to close.
BURNER = f"""
import sys, threading, time
print("ready", flush=True)
sys.stdin.readline()
def burn():
    start = time.thread_time()
    while time.thread_time() - start < {BURN}:
        pass
worker = threading.Thread(target=burn)
worker.start()
worker.join()
print("done", flush=True)
sys.stdin.read()
"""


@pytest.mark.parametrize("as_child", [False, True], ids=["process", "child process"])
def test_cpu_seconds_counts_threads_and_children(as_child):
    command = [sys.executable, "-c", BURNER]
    if as_child:  # the burner runs in a child of the watched process
        command = [sys.executable, "-c", f"import subprocess, sys; subprocess.run({command!r})"]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "ready\n"
        before = bench.cpu_seconds(proc.pid)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        assert proc.stdout.readline() == "done\n"
        spent = bench.cpu_seconds(proc.pid) - before
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert BURN - 0.02 <= spent < BURN + 0.5  # clock ticks of 10 ms; a little for the threads' start and the print


def test_cold_start_mode_launches_the_app_and_reports_the_time_to_its_first_page(capsys):
    assert bench.main(["--starts", "1"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith(f"| {bench.ROOT} |"))
    seconds = float(row.split("|")[3])
    assert 0 < seconds < 120 and ("| met |" in row or "| NOT met |" in row)


def test_the_http_api_client_gets_what_gradio_client_gets_and_names_a_failed_event(monkeypatch):
    """The lean client of the '/generate, HTTP API' phases: the same image as gradio_client's call for the same
    inputs, and an error event raised, not counted as an answer."""
    import httpx
    from gradio_client import Client

    port = bench.free_port()
    proc, _, _ = bench.start_app(bench.ROOT, port, "dcgan-mnist", None)
    url = f"http://127.0.0.1:{port}/"
    try:
        fetched = []
        real_get = httpx.Client.get

        def keep(self, target, *args, **kwargs):
            response = real_get(self, target, *args, **kwargs)
            fetched.append(response.content)
            return response

        monkeypatch.setattr(httpx.Client, "get", keep)
        assert bench.gradio_http_user(url, "dcgan-mnist", 4)(0)(7) == "generate"
        monkeypatch.undo()
        path = Client(url, verbose=False).predict("dcgan-mnist", 7, 4, bench.CYCLE, 0, api_name="/generate")
        assert fetched == [Path(path).read_bytes()]
        with pytest.raises(RuntimeError, match="ended with event 'error'"):
            bench.gradio_http_user(url, "no-such-model", 4)(0)(7)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
