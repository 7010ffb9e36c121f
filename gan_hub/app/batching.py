"""Concurrent users share forwards: requests for the same model that arrive together run as one batch.

Each request brings its own latents and labels, made from its own seed exactly as ``Generator.generate``
makes them, so its images are the ones it would get alone (the networks are in eval mode, where each
sample's output does not depend on the others in its batch) up to float rounding: the CPU kernels may
round a larger batch differently, by one grey level at most (tests/test_app_http.py checks both).
One worker thread runs the forwards; callers wait on a future (``concurrent.futures``), which the HTTP
route awaits without holding a thread.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

MAX_BATCH_IMAGES = 1024  # images in one merged forward at most (the rest wait for the next one)
MAX_PENDING = 512  # requests waiting at most; more are refused as "busy" instead of queueing without end


class BusyError(RuntimeError):
    """Too many requests are waiting: the caller should retry later (HTTP 503)."""


@dataclass
class _Job:
    z: torch.Tensor
    labels: torch.Tensor | None
    future: Future


def _label_kind(labels: torch.Tensor | None) -> str:
    """Requests are merged only with others whose labels have the same form (none, class ids, soft)."""
    if labels is None:
        return "none"
    return "soft" if labels.is_floating_point() else "ids"


class ForwardBatcher:
    """Merges concurrent ``generate_from_latents`` calls on the same model into one forward.

    ``load(name)`` returns the generator (the catalog's cached loader). ``submit`` returns a Future of the
    uint8 images of that request alone; ``run`` waits for it.
    """

    def __init__(
        self, load: Callable[[str], object], max_images: int = MAX_BATCH_IMAGES, max_pending: int = MAX_PENDING
    ):
        self._load = load
        self.max_images, self.max_pending = max_images, max_pending
        self._queues: OrderedDict[tuple[str, str], list[_Job]] = OrderedDict()
        self._pending = 0
        self._cond = threading.Condition()
        self._worker: threading.Thread | None = None
        self._closed = False
        self.forwards = 0  # merged forwards run so far (for tests and benches)
        self.requests = 0  # requests served by them

    def submit(self, name: str, z: torch.Tensor, labels: torch.Tensor | None = None) -> Future:
        future: Future = Future()
        with self._cond:
            if self._closed:
                raise BusyError("the app is shutting down")
            if self._pending >= self.max_pending:
                raise BusyError(f"{self._pending} requests are already waiting: try again in a moment")
            self._queues.setdefault((name, _label_kind(labels)), []).append(_Job(z, labels, future))
            self._pending += 1
            if self._worker is None:
                self._worker = threading.Thread(target=self._serve, name="gan-hub-forwards", daemon=True)
                self._worker.start()
            self._cond.notify()
        return future

    def run(
        self, name: str, z: torch.Tensor, labels: torch.Tensor | None = None, timeout: float | None = None
    ) -> torch.Tensor:
        """The images of this request; BusyError if its forward has not run within ``timeout`` seconds
        (it is then withdrawn from the queue, so an abandoned request costs nothing)."""
        future = self.submit(name, z, labels)
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()
            raise BusyError(f"the server did not get to this request within {timeout:g} s: try again") from None

    def close(self) -> None:
        """Stop the worker once the requests already waiting are served."""
        with self._cond:
            self._closed = True
            self._cond.notify()

    def _take(self) -> tuple[str, list[_Job]] | None:
        """The oldest model's waiting requests, up to max_images images (at least one request)."""
        with self._cond:
            while not self._queues and not self._closed:
                self._cond.wait()
            if not self._queues:
                return None
            key = next(iter(self._queues))
            queue = self._queues[key]
            taken, images = [], 0
            while queue and (not taken or images + len(queue[0].z) <= self.max_images):
                job = queue.pop(0)
                taken.append(job)
                images += len(job.z)
            if queue:
                self._queues.move_to_end(key)  # the others' turn first
            else:
                del self._queues[key]
            self._pending -= len(taken)
            return key[0], taken

    def _serve(self) -> None:
        import torch

        while (work := self._take()) is not None:
            name, jobs = work
            jobs = [j for j in jobs if j.future.set_running_or_notify_cancel()]
            if not jobs:
                continue
            try:
                g = self._load(name)
                z = torch.cat([j.z for j in jobs])
                labels = None if jobs[0].labels is None else torch.cat([j.labels for j in jobs])
                images = g.generate_from_latents(z, labels, batch_size=len(z))
            except Exception as err:  # noqa: BLE001 - handed to every waiting caller, who reports it
                for job in jobs:
                    job.future.set_exception(err)
                continue
            self.forwards += 1
            self.requests += len(jobs)
            for job, part in zip(jobs, torch.split(images, [len(j.z) for j in jobs])):
                job.future.set_result(part)


__all__ = ["MAX_BATCH_IMAGES", "MAX_PENDING", "BusyError", "ForwardBatcher"]
