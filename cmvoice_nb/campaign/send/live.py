"""Calls alive at once: a cap on simultaneous calls, apart from requests in flight and calls per second.

A provider (or a call centre behind the callers' number) may carry only so many calls at once.
:class:`LiveCalls` counts a call from its placement until its callback says it ended, or until its
longest possible duration has passed (:func:`longest_call_s`: the ringing timeout, then every
prompt and replay of the talk-time model, :mod:`cmvoice_nb.timing`, and a margin), and lets a new
call leave only while fewer than ``max_live_calls`` are alive. Callbacks are read from a running
:class:`~cmvoice_nb.callbacks.CallbackReceiver` or from the receiver's log files (read as they
grow); without either, every call counts for its longest duration.

Examples
--------
>>> longest_call_s({"prompt": "one two three four five", "prompt-type": "TTS", "max-ringing-timeout": 30},
...                "notification")
62.0
"""
from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ...timing import talk_seconds, wire_value

__all__ = ["LiveCalls", "longest_call_s", "CALL_MARGIN_S"]

#: Added to a call's ringing and talk time: dialling, setup and the callback's way back.
CALL_MARGIN_S = 30.0
#: How often the callbacks are read while a row waits for a free line (seconds).
POLL_S = 0.05


def longest_call_s(wire: dict, app: str) -> float:
    """The longest a call of *wire* can last, in seconds: ringing timeout + full talk time + :data:`CALL_MARGIN_S`."""
    try:
        ring = float(wire_value(wire, app, "max-ringing-timeout") or 60)
    except (TypeError, ValueError):
        ring = 60.0
    return ring + talk_seconds(wire, app, replays="max") + CALL_MARGIN_S


class _Logs:
    """Ended calls read from receiver logs (files or folders of ``*.jsonl``) as they grow."""

    def __init__(self, paths: Iterable[Any]) -> None:
        self.paths = [Path(p) for p in paths]
        self._offsets: dict[Path, int] = {}

    def _files(self) -> list[Path]:
        out: list[Path] = []
        for p in self.paths:
            if p.is_dir():
                out += sorted(p.rglob("*.jsonl"))
            elif p.is_file():  # a pipe or a device is never opened: a read could block the send
                out.append(p)
        return out

    def __call__(self) -> list[str]:
        ended: list[str] = []
        for f in self._files():
            start = self._offsets.get(f, 0)
            try:
                size = os.path.getsize(f)
                if size <= start:
                    continue
                with open(f, "rb") as fh:
                    fh.seek(start)
                    data = fh.read(size - start)
            except OSError:
                continue
            end = data.rfind(b"\n") + 1  # a line still being written is read next time
            self._offsets[f] = start + end
            for line in data[:end].splitlines():
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and record.get("instruction-id"):
                    ended.append(str(record["instruction-id"]))
        return ended


class _Receiver:
    """Ended calls read from a running receiver's memory."""

    def __init__(self, receiver: Any) -> None:
        self.receiver = receiver
        self._seen = 0

    def __call__(self) -> list[str]:
        records = self.receiver.records(start=self._seen)
        self._seen += len(records)
        return [str(r["instruction-id"]) for r in records if isinstance(r, dict) and r.get("instruction-id")]


def _source(callbacks: Any) -> Callable[[], list[str]] | None:
    if callbacks is None:
        return None
    if callable(getattr(callbacks, "records", None)):
        return _Receiver(callbacks)
    if isinstance(callbacks, (str, os.PathLike)):
        return _Logs([callbacks])
    return _Logs(list(callbacks))


class LiveCalls:
    """At most *limit* calls alive at once.

    Parameters
    ----------
    limit
        ``max_live_calls``.
    plan
        The plan (each row's payload gives its longest duration).
    callbacks
        A :class:`~cmvoice_nb.callbacks.CallbackReceiver`, or receiver log paths (files or folders);
        None: every call counts for its longest duration.
    clock
        Monotonic seconds (tests pass a fake one).
    """

    def __init__(self, limit: int, *, plan: Any, callbacks: Any = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = int(limit)
        self.plan = plan
        self.clock = clock
        self._source = _source(callbacks)
        self._cond = threading.Condition()
        self._live: dict[str, float] = {}  # instruction id -> when its call has surely ended (clock)
        self._polled = 0.0
        #: The most calls alive at once so far.
        self.peak = 0

    @property
    def count(self) -> int:
        """Calls alive now."""
        with self._cond:
            self._refresh()
            return len(self._live)

    def _refresh(self) -> None:
        now = self.clock()
        if self._source is not None and now - self._polled >= POLL_S:
            self._polled = now
            for iid in self._source():
                self._live.pop(iid, None)
        for iid in [i for i, until in self._live.items() if until <= now]:
            del self._live[iid]

    def acquire(self, row: Any, stop: threading.Event) -> bool:
        """Wait for a free line and take it for *row*; False when the run stopped first."""
        try:
            longest = longest_call_s(json.loads(row.payload), self.plan.app) if row.payload else CALL_MARGIN_S
        except (ValueError, TypeError):
            longest = CALL_MARGIN_S
        with self._cond:
            while True:
                self._refresh()
                if len(self._live) < self.limit:
                    self._live[row.instruction_id] = self.clock() + longest
                    self.peak = max(self.peak, len(self._live))
                    return True
                if stop.is_set():
                    return False
                soonest = min(self._live.values()) - self.clock()
                self._cond.wait(max(0.001, min(POLL_S, soonest)))

    def release(self, row: Any) -> None:
        """*row*'s call was not placed (or has ended): its line is free."""
        with self._cond:
            self._live.pop(row.instruction_id, None)
            self._cond.notify_all()

    def placed(self, row: Any, state: str) -> None:
        """*row*'s request ended in *state*: a call that may exist keeps its line, any other frees it."""
        from ..vocabulary import CALLED_STATES

        if state not in CALLED_STATES:
            self.release(row)
