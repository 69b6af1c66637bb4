"""Signals for the long-running commands (``simulate``, ``receive``), caught without a lock.

A Python signal handler runs in the main thread between two bytecodes, possibly while that thread
holds a lock: ``threading.Event.wait`` holds its condition's lock on the way in and out. A handler
that took the same lock (``Event.set``, ``Event.clear``) would then wait on its own thread forever,
and the command would never stop. So the handlers here only append to a list, which takes no lock
a handler could interrupt; the command's loop reads that list between its waits.
"""
from __future__ import annotations

import signal
import threading


class Received:
    """The signals that arrived, in order, read by the command's loop; see :func:`catch`.

    Examples
    --------
    >>> received = Received()
    >>> received.record(signal.SIGINT)
    >>> received.stopped, received.take(signal.SIGINT), received.take(signal.SIGINT)
    (True, True, False)
    """

    STOP = frozenset({signal.SIGINT, signal.SIGTERM})

    def __init__(self) -> None:
        self._seen: list[int] = []
        self._previous: dict[int, object] = {}

    def record(self, signum: int, _frame: object = None) -> None:
        """The handler: one append, nothing that takes a lock."""
        self._seen.append(signum)

    @property
    def stopped(self) -> bool:
        """True once SIGINT or SIGTERM arrived."""
        return any(s in self.STOP for s in self._seen)

    def take(self, signum: int) -> bool:
        """True, and forget it, if *signum* arrived since the last take."""
        if signum not in self._seen:
            return False
        self._seen.remove(signum)  # one C call: a handler cannot run in the middle of it
        return True

    def restore(self) -> None:
        """Put back the handlers :func:`catch` replaced (idempotent)."""
        previous, self._previous = self._previous, {}
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def catch(*names: str) -> Received:
    """Record the signals named (those this platform has: no SIGHUP on Windows) instead of their
    default action, in the main thread only (elsewhere nothing is caught); call
    :meth:`Received.restore` on the way out.

    Examples
    --------
    >>> received = catch("SIGTERM", "SIGHUP")
    >>> try:
    ...     received.stopped
    ... finally:
    ...     received.restore()
    False
    """
    received = Received()
    if threading.current_thread() is threading.main_thread():
        for name in names:
            if hasattr(signal, name):
                signum = getattr(signal, name)
                received._previous[signum] = signal.signal(signum, received.record)
    return received


__all__ = ["Received", "catch"]
