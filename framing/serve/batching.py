"""A bounded queue in front of the model that merges concurrent requests into one model call.

Requests (``submit(kind, texts, **options)``) wait in a queue of ``queue_size``;
one more raises :class:`QueueFull` at once (the API answers 503) instead of
stalling. One worker thread owns the model: it takes the oldest request, waits up
to ``merge_window_ms`` for others to join until ``max_batch_texts`` texts are
gathered, then makes one call per kind and options (e.g. one ``predict()`` over
all texts) and hands each request its slice of the results. With ``merge=False``
the worker serves one request per call.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

Handler = Callable[..., list]


class QueueFull(RuntimeError):
    """The request queue is full; try again shortly."""


@dataclass
class _Job:
    kind: str
    texts: list
    options: tuple
    future: Future = field(default_factory=Future)


class BatchQueue:
    """Serve ``handlers[kind](texts, **options) -> list`` (one result per text) from one worker thread."""

    def __init__(self, handlers: dict[str, Handler], *, merge: bool = True, merge_window_ms: float = 5.0,
                 max_batch_texts: int = 256, queue_size: int = 64):
        self.handlers = dict(handlers)
        self.merge, self.window = merge, merge_window_ms / 1000
        self.max_batch_texts, self.capacity = max_batch_texts, queue_size
        self._q: queue.Queue[_Job | None] = queue.Queue(maxsize=queue_size)
        self.calls = 0  # model calls made (a merged call counts once)
        self._worker = threading.Thread(target=self._run, name="framing-batch-queue", daemon=True)
        self._worker.start()

    @property
    def pending(self) -> int:
        """Requests waiting for the worker (not counting the ones it is scoring)."""
        return self._q.qsize()

    def submit(self, kind: str, texts: Sequence, **options) -> Future:
        """Queue a request; its future resolves to one result per text. Raises :class:`QueueFull`."""
        if kind not in self.handlers:
            raise KeyError(f"no handler for {kind!r}")
        job = _Job(kind, list(texts), tuple(sorted(options.items())))
        if not job.texts:
            job.future.set_result([])
            return job.future
        try:
            self._q.put_nowait(job)
        except queue.Full:
            raise QueueFull(f"{self.capacity} requests are already waiting for the model") from None
        return job.future

    async def run(self, kind: str, texts: Sequence, **options) -> list:
        """``await`` form of :meth:`submit` (raises :class:`QueueFull` before waiting)."""
        return await asyncio.wrap_future(self.submit(kind, texts, **options))

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker after the requests already queued."""
        if self._worker.is_alive():
            self._q.put(None)
            self._worker.join(timeout)

    def _gather(self, first: _Job) -> tuple[list[_Job], bool]:
        batch, n = [first], len(first.texts)
        deadline = time.monotonic() + self.window
        while self.merge and n < self.max_batch_texts:
            remaining = deadline - time.monotonic()
            try:
                job = self._q.get(timeout=remaining) if remaining > 0 else self._q.get_nowait()
            except queue.Empty:
                break
            if job is None:
                return batch, True
            batch.append(job)
            n += len(job.texts)
        return batch, False

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._q.get()
            if first is None:
                return
            batch, stop = self._gather(first)
            groups: dict[tuple, list[_Job]] = {}
            for job in batch:
                groups.setdefault((job.kind, job.options), []).append(job)
            for (kind, options), jobs in groups.items():
                self._call(kind, dict(options), jobs)

    def _call(self, kind: str, options: dict, jobs: list[_Job]) -> None:
        texts = [t for job in jobs for t in job.texts]
        try:
            self.calls += 1
            results = self.handlers[kind](texts, **options)
            if len(results) != len(texts):
                raise RuntimeError(f"{kind} returned {len(results)} results for {len(texts)} texts")
        except Exception as exc:  # every waiting request learns of the failure; the worker goes on
            for job in jobs:
                job.future.set_exception(exc)
            return
        pos = 0
        for job in jobs:
            job.future.set_result(results[pos:pos + len(job.texts)])
            pos += len(job.texts)
