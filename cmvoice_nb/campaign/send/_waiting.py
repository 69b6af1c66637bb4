"""Calling hours during a send: which rows may go now, which wait and until when, which are deferred.

:class:`Waiting` runs the loop: rows inside their window go to the workers; rows outside wait
(sleeping on the run's injectable clock) or, with ``wait=False``, end ``deferred``; rows with no
known time zone end ``no-zone`` at once. Each row's window is checked again just before its request
leaves (:meth:`Waiting.may_go`). Every wait is journaled with its reason and expected opening.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from ..journal import Journal
from ._options import SendOptions

__all__ = ["Waiting"]

log = logging.getLogger(__package__)


class Waiting:
    """One run's calling hours.

    Parameters
    ----------
    options
        The run's :class:`~cmvoice_nb.campaign.SendOptions` (``hours``, ``tz``, ``wait``, ``now``, ``sleep``).
    plan
        The plan (each row's window is read from its numbers, or ``tz=``; its subdivision from the
        column ``columns={"subdivision": ...}`` names, for public holidays).
    stop
        The run's stop event: the real sleep wakes when it is set.
    record
        ``record(position, **fields)``: the sender's results record of a row.
    """

    def __init__(self, options: SendOptions, plan: Any, stop: threading.Event, *,
                 record: Callable[..., None]) -> None:
        # Here, not at module level: importing the campaign package loads no calling-hours code.
        from ..ops.schedule import RowWindows, make_clock, plan_subdivisions

        self.options = options
        self.windows = None if options.hours is None else RowWindows(options.hours, plan.rows, tz=options.tz,
                                                                     subdivisions=plan_subdivisions(plan))
        self.now, self.sleep = make_clock(options.now, options.sleep, stop)
        self._stop = stop
        self._record = record
        self._lock = threading.Lock()
        #: How many rows wait for their window right now.
        self.count = 0
        self._rows: dict[int, Any] = {}  # position -> WindowStatus of each row that waits
        self._closes: dict[int, Any] = {}
        self._fell_out: list = []
        #: The run's limits (:class:`~cmvoice_nb.campaign.send._limits.Limits`): a row whose validity
        #: window ends before its calling window opens is ``expired`` at once.
        self.limits: Any = None

    def text(self, *, dry_run: bool = False) -> str:
        """How many rows wait and until when (``""`` when none does); in a dry run, how many would."""
        import pandas as pd

        from ..ops.hours import describe_waits

        with self._lock:
            statuses = list(self._rows.values())
        if not statuses:
            return ""
        frame = pd.DataFrame({"inside": [False] * len(statuses),
                              "opens_at": pd.to_datetime([st.opens_at for st in statuses], utc=True)})
        text = describe_waits(frame)
        if dry_run:
            text = text.replace(" row waits ", " row would wait ", 1).replace(" rows wait ", " rows would wait ", 1)
        return text

    def dry_run_note(self, row: Any) -> str | None:
        """What a dry run says of *row*'s calling hours now (None: inside its window, or no hours)."""
        if self.windows is None:
            return None
        st = self.windows.status(row.position, self.now())
        if st.inside:
            return None
        with self._lock:
            self._rows[row.position] = st
        return f"{'would wait' if self.options.wait and st.opens_at is not None else 'would be deferred'}: {st.reason}"

    def run(self, to_send: list, journal: Journal | None, *, campaign: str, dispatch: Callable[[list], None],
            status_of: Callable[[int], str | None], show: Callable[[str], None]) -> None:
        """Send each of *to_send* (``(row, record)``) only inside its window; the others wait or are deferred.

        *dispatch* sends a list of items and returns when they are done; *status_of* gives a row's
        current result status; *show* puts the wait text where the operator sees it.
        """
        assert self.windows is not None  # the sender waits only with calling hours
        windows = self.windows
        waiting = list(to_send)
        noted: dict[int, Any] = {}
        last: dict[int, Any] = {}
        while waiting and not self._stop.is_set():
            now = self.now()
            ready: list[Any] = []
            later: list[Any] = []
            never: list[Any] = []
            for item in waiting:
                st = windows.status(item[0].position, now)
                last[item[0].position] = st
                if st.inside:
                    self._closes[item[0].position] = st.closes_at
                    ready.append(item)
                else:
                    (later if st.opens_at is not None else never).append((item, st))
            later = self._expire(later, journal, campaign=campaign)
            if never:  # no known zone: waiting would never end
                self._defer(never, journal, now, campaign=campaign)
            if later and not self.options.wait:
                self._defer(later, journal, now, campaign=campaign)
                later = []
            self._note_waits(later, journal, now, noted, campaign=campaign, show=show)
            if ready:
                with self._lock:
                    self._fell_out = []
                dispatch(ready)
                with self._lock:
                    waiting = [item for item, _st in later] + self._fell_out
                continue
            if not later:
                break
            self._sleep_until(min(st.opens_at for _item, st in later))
            waiting = [item for item, _st in later]
        if waiting and self._stop.is_set():
            with self._lock:
                waited = set(self._rows)
            left = [(item, last[item[0].position]) for item in waiting
                    if status_of(item[0].position) == "pending" and item[0].position in waited]
            self._defer(left, journal, self.now(), campaign=campaign, note="the run stopped while it waited: ")
        with self._lock:
            self.count = 0
            self._rows = {}

    def _expire(self, later: list, journal: Journal | None, *, campaign: str) -> list:
        """End ``expired`` the rows of *later* whose validity ends before their window opens; return the rest."""
        if self.limits is None:
            return later
        keep, gone = [], []
        for item, st in later:
            why = self.limits.expired(item[0], at=st.opens_at, waited=f"its calling hours: {st.reason}")
            if why:
                gone.append((item[0], why))
            else:
                keep.append((item, st))
        for r, why in gone:
            self._record(r.position, status="expired", error=why)
        if journal is not None and gone:
            journal.hold(campaign, [(r.instruction_id, str(r.label), r.callee or None, r.payload_hash, why)
                                    for r, why in gone], "expired")
        return keep

    def may_go(self, row: Any, earlier: Any) -> bool:
        """True when *row* may go now; False (and back to waiting) when its window closed before its turn."""
        if self.windows is None:
            return True
        closes = self._closes.get(row.position)
        if closes is None or self.now() < closes:
            return True
        with self._lock:
            self._fell_out.append((row, earlier))
        self._record(row.position, status="pending", error="waiting: its calling window closed before its turn")
        return False

    def _sleep_until(self, wake: Any) -> None:
        from ..ops.schedule import SLEEP_CHUNK_S

        while not self._stop.is_set():
            remaining = (wake - self.now()).total_seconds()
            if remaining <= 0:
                return
            self.sleep(min(remaining, SLEEP_CHUNK_S))

    def _note_waits(self, later: list, journal: Journal | None, now: Any, noted: dict, *, campaign: str,
                    show: Callable[[str], None]) -> None:
        """Show and journal the rows that wait (each wait recorded once, with its reason and opening)."""
        with self._lock:
            self._rows = {item[0].position: st for item, st in later}
            self.count = len(later)
        if not later:
            return
        fresh = [((r, jr), st) for (r, jr), st in later if noted.get(r.position) != st.opens_at]
        for (r, _jr), st in later:
            self._record(r.position, status="pending", error=f"waiting: {st.reason}")
        if not fresh:
            return
        for (r, _jr), st in fresh:
            noted[r.position] = st.opens_at
        if journal is not None:
            journal.record_waits(campaign, [(r.instruction_id, st.reason, st.opens_at) for (r, _jr), st in fresh],
                                 at=now)
            journal.hold(campaign, [(r.instruction_id, str(r.label), r.callee or None, r.payload_hash,
                                     f"waiting: {st.reason}") for (r, _jr), st in fresh], "pending")
        text = self.text()
        log.warning("campaign %r: %s", campaign, text)
        show(text)

    def _defer(self, items: list, journal: Journal | None, now: Any, *, campaign: str, note: str = "") -> None:
        """Rows not sent in this run because of their calling hours: ``deferred``, a later run sends them.

        A row with no known time zone is ``no-zone`` in the results (the operator names the zone);
        the journal holds it ``deferred`` like the others, its wait recorded without an opening.
        """
        if not items:
            return
        for (r, _jr), st in items:
            self._record(r.position, status="deferred" if st.opens_at is not None else "no-zone",
                         error=f"{note}{st.reason}")
            with self._lock:
                self._rows.pop(r.position, None)
        if journal is not None:
            journal.record_waits(campaign, [(r.instruction_id, f"{note}{st.reason}", st.opens_at)
                                            for (r, _jr), st in items], at=now)
            journal.hold(campaign, [(r.instruction_id, str(r.label), r.callee or None, r.payload_hash,
                                     f"{note}{st.reason}") for (r, _jr), st in items], "deferred")
        log.info("campaign %r: %d row(s) deferred (calling hours)", campaign, len(items))
