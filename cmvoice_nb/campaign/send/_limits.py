"""A run's limits beyond the pace: validity windows, the contact ledger's cap, and calls alive at once.

:class:`Limits` holds, for one run, what :func:`~cmvoice_nb.campaign.send.decide.decide` needs
of them (:meth:`Limits.decide_options`), stores each row's window in the journal as it is
registered, and answers just before a row's request leaves: has its window ended
(:meth:`Limits.expired`)? may the person still be called (:meth:`Limits.reserve`, a transaction
on the shared ledger)? is there room for one more live call (:attr:`Limits.live`, a
:class:`~cmvoice_nb.campaign.send.live.LiveCalls`)?
"""
from __future__ import annotations

import datetime as _dt
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..journal import Journal

if TYPE_CHECKING:
    from ..contacts import ContactLedger

__all__ = ["Limits"]

log = logging.getLogger(__package__)


class Limits:
    """One run's validity windows, contact cap and live-call count.

    Parameters
    ----------
    options
        The run's :class:`~cmvoice_nb.campaign.SendOptions`.
    plan
        The plan (its app decides the OTP default window).
    hours
        The run's :class:`~cmvoice_nb.campaign.send._waiting.Waiting`: its clock is the limits' clock,
        and it asks the limits whether a row waiting for its calling hours has expired.
    """

    def __init__(self, options: Any, plan: Any, hours: Any) -> None:
        from ..ops.validity import parse_validity

        self.options = options
        self.plan = plan
        self.now: Callable[[], _dt.datetime] = hours.now
        hours.limits = self
        self.validity = parse_validity(valid_until=options.valid_until, valid_for=options.valid_for, app=plan.app)
        self.deadlines: dict[str, _dt.datetime | None] = {}  # instruction id -> end of its window (None: none)
        # Opened by the run (open_ledger), not here: a sender that never starts holds no file open.
        self.ledger: ContactLedger | None = None
        self.max_contacts = options.max_contacts_rule
        self.live = None
        if options.max_live_calls is not None:
            from .live import LiveCalls

            self.live = LiveCalls(options.max_live_calls, plan=plan, callbacks=options.callbacks)

    def open_ledger(self) -> None:
        """Open the contact ledger of ``contacts=`` (a dry run creates none)."""
        contacts = self.options.contacts
        if contacts is not None and self.ledger is None and not (self.options.dry_run and not os.path.exists(contacts)):
            from ..contacts import ContactLedger

            self.ledger = ContactLedger(contacts)

    def close(self) -> None:
        if self.ledger is not None:
            self.ledger.close()
            self.ledger = None

    # ------------------------------------------------------------------ before the decisions
    def prepare(self, journal: Journal | None, statuses: Any, *, plan: Any, dry_run: bool) -> dict[str, Any]:
        """Open the ledger, settle what a run that ended early left in it, and give :meth:`decide_options`.

        *plan* is the run's plan, re-keyed to the journal: its ids are the ones the windows are stored under.
        """
        from .decide import numbers_to_check

        self.plan = plan
        self.open_ledger()
        if not dry_run:
            self.settle(journal, statuses)
        return self.decide_options(journal, numbers_to_check(self.plan.rows, statuses)
                                   if self.max_contacts is not None else ())

    def note(self, decisions: Any) -> None:
        """Note the rows this run registers or sends (:meth:`register` gives each its window)."""
        self._registering = [r for r, d in zip(self.plan.rows, decisions, strict=True)
                             if d.action in ("send", "budget", "over-contacted")]

    def decide_options(self, journal: Journal | None, numbers: Any) -> dict[str, Any]:
        """The keywords :func:`~cmvoice_nb.campaign.send.decide.decide` reads for these limits, judged now."""
        self.open_ledger()
        if journal is not None:  # a window stored by an earlier run holds whatever this run's options say
            self.deadlines = journal.validity(self.plan.name)
        if not self.validity and not self.deadlines and self.max_contacts is None:
            return {}
        out: dict[str, Any] = {"now": self.now(), "deadlines": self.deadlines, "valid_until": self.validity.until}
        if self.max_contacts is not None:
            out["max_contacts"] = self.max_contacts
            out["contacted"] = {} if self.ledger is None else self.ledger.contacts(
                numbers, since=out["now"] - self.max_contacts[1])
        return out

    def register(self, journal: Journal | None, rows: list | None = None) -> None:
        """Give each row to send (default: those :meth:`note` noted) that has no window yet its window's end, from
        now, and store it in *journal*; record which kept column gives each row's subdivision (a follow-up wave's
        public holidays read it)."""
        rows = self.__dict__.pop("_registering", []) if rows is None else rows
        subdivision = self.plan.options.get("subdivision")
        if journal is not None and subdivision:
            journal.set_subdivision_column(self.plan.name, subdivision)
        if not self.validity:
            return
        now = self.now()
        fresh = []
        for r in rows:
            if r.instruction_id not in self.deadlines:
                end = self.validity.deadline(now)
                self.deadlines[r.instruction_id] = end
                fresh.append((r.instruction_id, now, end))
        if journal is not None and fresh:
            journal.set_validity(self.plan.name, fresh)

    # ------------------------------------------------------------------ just before a request
    def deadline(self, row: Any) -> _dt.datetime | None:
        """The end of *row*'s validity window (None: none)."""
        return self.deadlines.get(row.instruction_id)

    def expired(self, row: Any, *, at: _dt.datetime | None = None, waited: str = "") -> str | None:
        """Why *row* may no longer be placed (at *at*, default now), or None while its window holds."""
        end = self.deadlines.get(row.instruction_id)
        if end is None or (at if at is not None else self.now()) < end:
            return None
        from ..ops.validity import expiry_reason

        return expiry_reason(end, waited=waited)

    # ------------------------------------------------------------------ the contact ledger
    def settle(self, journal: Journal | None, statuses: Any) -> None:
        """Settle the reservations a run of this campaign that ended early left in the ledger.

        See :meth:`~cmvoice_nb.campaign.contacts.ContactLedger.settle`.
        """
        if self.ledger is None or journal is None:
            return
        self.ledger.settle(self.plan.name, {iid: st.state for iid, st in statuses.items()}, journal=str(journal.path))

    def reserve(self, row: Any, journal: Journal | None) -> str | None:
        """Reserve *row*'s call in the ledger before it leaves; the reason when the cap refuses it (None: reserved)."""
        if self.ledger is None:
            return None
        from ...wire import callee_numbers
        from ..contacts import over_contacted_reason

        numbers = callee_numbers(row.callee)
        earlier = self.ledger.reserve(numbers, campaign=self.plan.name, instruction_id=row.instruction_id,
                                      at=self.now(), rule=self.max_contacts,
                                      journal=None if journal is None else str(journal.path))
        if earlier is None:
            return None
        return over_contacted_reason(earlier.number, earlier, self.max_contacts)

    def placed(self, row: Any, state: str) -> None:
        """Settle *row*'s reservation and line by its request's end state: kept if a call may exist, else freed."""
        if self.live is not None:
            self.live.placed(row, state)
        if self.ledger is None:
            return
        from ..vocabulary import CALLED_STATES

        if state in CALLED_STATES:
            self.ledger.confirm(self.plan.name, row.instruction_id)
        else:
            self.ledger.release(self.plan.name, row.instruction_id)
