"""Callback delivery for the simulator: when each callback is due, one POST, and when to retry.

:class:`Scheduler` is one thread with a heap of due times feeding a small pool of
delivery workers; :func:`post_callback` makes one attempt (with a :class:`Sessions` session); :func:`retry_at` says
when the next one is due (doubling backoff on the simulated clock). What to record about an
attempt is the :class:`~cmvoice_nb.simulator.Simulator` front's business.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

logger = logging.getLogger(__name__)

#: The User-Agent of every callback POST.
USER_AGENT = "cmvoice-simulator"


def new_session():
    """A ``requests.Session`` for one delivery thread (requests is imported only when delivering)."""
    import requests

    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


class Sessions:
    """One ``requests.Session`` per delivery thread (keep-alive, never shared), all closed together."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list = []

    def get(self):
        """The calling thread's session, made on its first delivery."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = new_session()
            with self._lock:
                self._all.append(session)
        return session

    def close(self) -> None:
        with self._lock:
            sessions, self._all = self._all, []
        for session in sessions:
            session.close()


def post_callback(session, url: str, payload: Mapping[str, Any], *,
                  timeout_s: float) -> tuple[bool, int | None, str | None]:
    """POST one callback: ``(ok, http_status, error)``; ok means a 2xx answer."""
    import requests

    try:
        response = session.post(url, json=payload, timeout=(min(3.0, timeout_s), timeout_s))
    except requests.RequestException as exc:
        return False, None, f"{type(exc).__name__}: {exc}"
    status = response.status_code
    response.close()
    ok = 200 <= status < 300
    return ok, status, None if ok else f"HTTP {status}"


def retry_at(attempt: int, *, backoff_s: float, speed: float) -> float:
    """``time.monotonic()`` deadline of the attempt after *attempt* failed ones.

    The backoff doubles from *backoff_s* simulated seconds, runs on the accelerated
    clock and is at least 10 ms real.
    """
    return time.monotonic() + max(0.01, backoff_s * 2 ** (attempt - 1) / speed)


class Scheduler:
    """Runs ``deliver(job)`` when each job is due; ``deliver`` returns the retry time, or None when done."""

    def __init__(self, deliver: Callable[[dict], float | None], *, workers: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._deliver = deliver
        self._heap: list = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._pending = 0  # jobs in the heap or being delivered
        self._closed = False
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cmvoice-sim-callback")
        self._thread = threading.Thread(target=self._loop, name="cmvoice-sim-scheduler", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        with self._cv:
            return self._pending

    def schedule(self, due: float, job: dict, *, new: bool = True) -> None:
        with self._cv:
            if self._closed:
                if not new:
                    self._pending -= 1
                    self._cv.notify_all()
                return
            heapq.heappush(self._heap, (due, next(self._seq), job))
            if new:
                self._pending += 1
            self._cv.notify_all()

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._closed:
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        break
                    self._cv.wait(None if not self._heap else self._heap[0][0] - now)
                if self._closed:
                    return
                due_jobs = []
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    due_jobs.append(heapq.heappop(self._heap)[2])
            for job in due_jobs:
                try:
                    self._pool.submit(self._run, job)
                except RuntimeError:  # pool shut down while closing
                    self._done()

    def _run(self, job: dict) -> None:
        try:
            retry_at = self._deliver(job)
        except Exception:  # never let a delivery bug stall wait_idle()
            logger.exception("callback delivery crashed")
            retry_at = None
        if retry_at is not None:
            self.schedule(retry_at, job, new=False)
        else:
            self._done()

    def _done(self) -> None:
        with self._cv:
            self._pending -= 1
            self._cv.notify_all()

    def hold(self) -> None:
        """Count a request being processed as pending: it may still place calls."""
        with self._cv:
            self._pending += 1

    def release(self) -> None:
        self._done()

    def wait_idle(self, timeout: float | None) -> bool:
        with self._cv:
            return self._cv.wait_for(lambda: self._pending <= 0 or self._closed, timeout)

    def close(self) -> int:
        with self._cv:
            self._closed = True
            dropped = len(self._heap)
            self._heap.clear()
            self._cv.notify_all()
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=True, cancel_futures=True)
        return dropped


__all__ = ["USER_AGENT", "new_session", "Sessions", "post_callback", "retry_at", "Scheduler"]
