"""What runs beside the storing of callbacks and must never delay it: the display hook, rate-limited logs.

:class:`Display` runs ``on_callback`` on its own thread, fed by a bounded queue that never blocks
a request; :class:`Throttled` logs a recurring problem at most once per interval.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["Display", "Throttled", "LOG_INTERVAL_S"]

#: Storage errors and quarantined bodies are logged at most this often (seconds).
LOG_INTERVAL_S = 60.0


class Throttled:
    """Log a recurring problem at most once per interval, with how many were not logged."""

    def __init__(self, level: int, interval_s: float = LOG_INTERVAL_S, *, logger: logging.Logger) -> None:
        self.level = level
        self.interval_s = interval_s
        self.logger = logger
        self._last = float("-inf")
        self._suppressed = 0
        self._lock = threading.Lock()

    def __call__(self, message: str, *args: Any) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last < self.interval_s:
                self._suppressed += 1
                return
            suppressed, self._suppressed, self._last = self._suppressed, 0, now
        if suppressed:
            message += f" ({suppressed} more since the last message)"
        self.logger.log(self.level, message, *args)


class Display:
    """Runs ``on_callback`` on its own thread, fed by a bounded queue that never blocks a request."""

    def __init__(self, hook: Callable[[dict], None] | None, maxsize: int, *, logger: logging.Logger) -> None:
        self.hook = hook
        self._queue: queue.Queue = queue.Queue(maxsize=maxsize)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.dropped = 0
        self._errors = Throttled(logging.ERROR, logger=logger)

    def offer(self, record: dict) -> None:
        if self.hook is None:
            return
        self._ensure_thread()
        try:
            self._queue.put_nowait(record)
        except queue.Full:
            with self._lock:
                self.dropped += 1

    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    # Started on first use, not at construction: under a forking server the thread
                    # must live in the worker process.
                    self._thread = threading.Thread(target=self._run, name="cmvoice-callback-display", daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while True:
            record = self._queue.get()
            try:
                if record is None:
                    return
                hook = self.hook
                if hook is not None:
                    try:
                        hook(record)
                    except Exception as exc:  # noqa: BLE001 - a display hook must never affect storage
                        self._errors("callback receiver: on_callback failed: %s: %s", type(exc).__name__, exc)
            finally:
                self._queue.task_done()

    def close(self, timeout: float) -> bool:
        """Let queued events reach the hook for up to *timeout* s; True when all were shown."""
        thread = self._thread
        if thread is None:
            return True
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        done = not self._queue.unfinished_tasks
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            pass  # the thread is stuck in the hook (an unread console): it is a daemon, leave it
        if done:
            thread.join(timeout=max(0.0, deadline - time.monotonic()) + 0.5)
            with self._lock:
                self._thread = None  # a restarted receiver starts a fresh one
        return done
