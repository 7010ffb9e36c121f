"""Keeping the server's memory bounded under long mixed load.

The growth found under load is the C allocator's, not Python objects: glibc gives each thread that
allocates its own arena (up to 8 per core), torch's and PyAV's buffers are spread over Gradio's
dozens of worker threads, and freed memory stays in those arenas. Capping the arenas and handing
free pages back after each heavy request keeps the resident size flat (bench/app_soak.py shows it).
Elsewhere than glibc these are no-ops.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import threading

M_ARENA_MAX = -8  # mallopt parameter (malloc.h)
ARENAS = 2


@functools.cache
def _libc():
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def cap_arenas(arenas: int = ARENAS) -> bool:
    """Let threads started from now on share ``arenas`` malloc arenas; True where glibc took it."""
    libc = _libc()
    return bool(libc and libc.mallopt(M_ARENA_MAX, arenas))


def release_free_memory() -> None:
    """Hand the allocator's free pages back to the system (cheap: a few ms)."""
    libc = _libc()
    if libc:
        libc.malloc_trim(0)


def trim_periodically(seconds: float = 30.0) -> threading.Thread:
    """A daemon thread that hands free pages back every ``seconds``."""

    def loop():
        while not stop.wait(seconds):
            release_free_memory()

    stop = threading.Event()
    thread = threading.Thread(target=loop, name="gan-hub-malloc-trim", daemon=True)
    thread.start()
    return thread


__all__ = ["cap_arenas", "release_free_memory", "trim_periodically"]
