"""Signal handlers for the commands: the one place that installs them, and the rule they follow.

A Python signal handler runs in the main thread between two bytecodes, possibly while that thread
holds a lock: ``threading.Event.wait`` holds its condition's lock on the way in and out. A handler
that took the same lock (``Event.set``, ``Event.clear``) would then wait on its own thread forever,
and the command would never stop. So a handler installed here takes no lock: it appends to a list
(:class:`Received`; the command's loop reads that list between its waits) or raises
(``KeyboardInterrupt``, as Ctrl-C does before a run starts).

:func:`install` puts handlers in place (main thread only, skipping the signals a platform lacks:
no SIGHUP on Windows, no SIGBREAK elsewhere) and :func:`restore` puts the previous ones back.
"""
from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from typing import Any

Handler = Callable[[int, Any], None]


def install(handler: Handler, names: tuple[str, ...] | list[str]) -> dict[int, Any]:
    """Make *handler* the handler of each signal named that this platform can catch, in the main
    thread only (elsewhere nothing changes); return the previous handlers, for :func:`restore`.

    *handler* must take no lock (see the module's notes).

    Examples
    --------
    >>> previous = install(lambda signum, frame: None, ["SIGTERM", "SIGNOTHING"])
    >>> [signal.Signals(number).name for number in previous]
    ['SIGTERM']
    >>> restore(previous)
    """
    previous: dict[int, Any] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous
    for name in names:
        number = getattr(signal, name, None)
        if number is None:
            continue
        try:
            previous[number] = signal.signal(number, handler)
        except (OSError, ValueError):  # not catchable on this platform
            continue
    return previous


def restore(previous: dict[int, Any]) -> None:
    """Put back the handlers :func:`install` replaced."""
    for number, handler in previous.items():
        signal.signal(number, handler)


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
        self._previous: dict[int, Any] = {}

    def record(self, signum: int, _frame: object = None) -> None:
        """The handler: one append, nothing that takes a lock."""
        self._seen.append(signum)

    @property
    def stopped(self) -> bool:
        """True once SIGINT or SIGTERM arrived."""
        return any(s in self.STOP for s in self._seen)

    def take(self, signum: int | None) -> bool:
        """True, and forget it, if *signum* arrived since the last take (None: a signal this
        platform lacks, never arrived)."""
        if signum is None or signum not in self._seen:
            return False
        self._seen.remove(signum)  # one C call: a handler cannot run in the middle of it
        return True

    def restore(self) -> None:
        """Put back the handlers :func:`catch` replaced (idempotent)."""
        previous, self._previous = self._previous, {}
        restore(previous)


def catch(*names: str) -> Received:
    """Record the signals named (those this platform has) instead of their default action, in the
    main thread only (elsewhere nothing is caught); call :meth:`Received.restore` on the way out.

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
    received._previous = install(received.record, names)
    return received


__all__ = ["Handler", "install", "restore", "Received", "catch"]
