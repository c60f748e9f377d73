"""Jobs off the event loop: a bounded pool of worker threads (the Engine is safe across threads)
with a bounded queue in front of it.

``submit`` refuses at once, never blocks: ``Busy`` when every worker is busy and the queue is
full (the route answers 503 with Retry-After), ``TooManyJobs`` when one client already has its
share running or waiting (429). Every job carries a ``cancel`` event that the task checks between
two tokens (``TaskHooks.cancel``); a job cancelled while it waits never starts."""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from symphony.errors import Cancelled


class Busy(Exception):
    """Every worker is busy and the queue is full."""


class TooManyJobs(Exception):
    """This client has its share of jobs running or waiting."""


@dataclass
class Job:
    client: str
    cancel: threading.Event = field(default_factory=threading.Event)
    future: Future = field(default_factory=Future)
    on_event: Callable[[dict], None] | None = None  # streamed notes / progress, from the worker thread

    def emit(self, event: dict) -> None:
        if self.on_event is not None:
            self.on_event(event)


class JobPool:
    def __init__(self, workers: int, queue_size: int, per_client: int):
        self.workers, self.queue_size, self.per_client = workers, queue_size, per_client
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="symphony-job")
        self._lock = threading.Lock()
        self._clients: Counter[str] = Counter()
        self.pending = 0  # running + waiting
        self.running = 0
        self.counts: Counter[str] = Counter()  # done, failed, cancelled

    def submit(self, client: str, work: Callable[[Job], object],
               on_event: Callable[[dict], None] | None = None) -> Job:
        with self._lock:
            if self.pending >= self.workers + self.queue_size:
                raise Busy()
            if self._clients[client] >= self.per_client:
                raise TooManyJobs()
            self.pending += 1
            self._clients[client] += 1
        job = Job(client, on_event=on_event)
        self._executor.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Callable[[Job], object]) -> None:
        with self._lock:
            self.running += 1
        result, error = None, None
        try:
            if job.cancel.is_set():
                raise Cancelled("cancelled before it started")
            result = work(job)
        except BaseException as e:  # handed to whoever waits for the job
            error = e
        # the slot is free before anyone hears the job has ended
        with self._lock:
            self.running -= 1
            self.pending -= 1
            self._clients[job.client] -= 1
            if self._clients[job.client] <= 0:
                del self._clients[job.client]
            self.counts["done" if error is None else "cancelled" if isinstance(error, Cancelled) else "failed"] += 1
        if error is None:
            job.future.set_result(result)
        else:
            job.future.set_exception(error)

    def stats(self) -> dict:
        with self._lock:
            return {"running": self.running, "waiting": self.pending - self.running,
                    "workers": self.workers, "queue_size": self.queue_size, **dict(self.counts)}

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
