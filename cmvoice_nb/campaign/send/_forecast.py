"""What a run will do with each row, before it runs: :func:`forecast` and its :class:`Forecast`.

The one set of counts. A forecast reads what the journal holds for the plan (its records, the
calls that may exist to its numbers, the cost placed so far), asks
:func:`~cmvoice_nb.campaign.send.decide.decide` — the same rule the sender acts on — and counts
the decisions with :func:`~cmvoice_nb.campaign.send.decide.tally`. The plan line and the estimate
of ``cmvoice send``, its dry run, the Campaign app's "to send" and the sender itself read it, so
they cannot disagree; on a resumed campaign it covers what is left.

Examples
--------
>>> import pandas as pd
>>> from cmvoice_nb.campaign import plan_campaign
>>> plan = plan_campaign(pd.DataFrame({"callee": ["+31612345610", "+31612345610", "+33612345611", "12"]}),
...                      app="notification", name="c", allowed_countries="NL",
...                      defaults={"caller": "+31201234567", "prompt": "Hi", "prompt-type": "TTS"})
>>> fc = forecast(plan)
>>> fc.line()
'4 rows: to send 1, invalid 1, refused-country 1, already-called 1'
>>> fc.estimate().calls
1
"""
from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ...errors import CampaignError
from ...messages import opt
from ..journal import Journal, LiveCall, RowStatus
from ..vocabulary import count_line
from .decide import Decision, decide, numbers_to_check, tally

__all__ = ["Forecast", "forecast", "journal_view", "row_costs"]


def journal_view(journal: Journal | None, plan: Any, *, allow_repeat: bool = False, resend_unknown: bool = False,
                 resend_changed: bool = False) -> tuple[Mapping[str, RowStatus],
                                                        Mapping[str, Sequence[LiveCall]], float]:
    """What :func:`decide` needs of *journal* for *plan* (re-keyed to it): its records, the live calls, the cost so far.

    Only what a re-run needs: one compact status per record, and the calls that may exist to
    the numbers of the rows this run may still send. Without a journal: nothing.
    """
    if journal is None:
        return {}, {}, 0.0
    statuses = journal.statuses(plan.name)
    live: Mapping[str, Sequence[LiveCall]] = {}
    if not allow_repeat:
        live = journal.live_callees(numbers_to_check(plan.rows, statuses, resend_unknown=resend_unknown,
                                                     resend_changed=resend_changed))
    return statuses, live, journal.spent(plan.name)


def row_costs(plan: Any, prices: Any, *, audio_root: Any = None) -> list[float | None]:
    """Each row's upper-bound cost by position (None for a row that is never sent: invalid, dropped, suppressed).

    See :func:`~cmvoice_nb.campaign.ops.estimate.upper_bound_costs`; File prompts are timed from
    *audio_root* (default: the plan's ``audio_root=``).
    """
    from ..ops.estimate import upper_bound_costs

    root = audio_root if audio_root is not None else plan.options.get("audio_root")
    positions = [r.position for r in plan.rows if r.sendable and r.payload is not None]
    costs = upper_bound_costs([json.loads(plan.rows[p].payload) for p in positions], prices=prices, app=plan.app,
                              audio_root=root)
    out: list[float | None] = [None] * len(plan.rows)
    for position, cost in zip(positions, costs, strict=True):
        out[position] = cost
    return out


class Forecast:
    """What a run of a plan will do with each row, and the counts every front-end shows.

    Attributes
    ----------
    plan
        The plan, re-keyed to the journal's campaign key.
    decisions
        One :class:`~cmvoice_nb.campaign.send.decide.Decision` per row, in row order.
    counts
        :func:`~cmvoice_nb.campaign.send.decide.tally` of the decisions: ``to send``,
        ``already done``, then the status each other row ends with.
    spent, max_cost
        The campaign's cost placed so far (upper bounds, from the journal) and its budget (None: none).
    """

    __slots__ = ("plan", "decisions", "counts", "spent", "max_cost", "costs")

    def __init__(self, plan: Any, decisions: list[Decision], *, spent: float = 0.0, max_cost: float | None = None,
                 costs: Sequence[float | None] | None = None) -> None:
        self.plan = plan
        self.decisions = decisions
        self.counts = tally(decisions)
        self.spent = spent
        self.max_cost = max_cost
        self.costs = costs

    @property
    def to_send(self) -> int:
        """How many rows this run sends (a call each)."""
        return self.counts.get("to send", 0)

    def rows_to_send(self) -> list:
        """The plan's rows this run sends, in row order."""
        return [r for r, d in zip(self.plan.rows, self.decisions, strict=True) if d.action == "send"]

    def estimate(self, prices: Any = None, *, audio_root: Any = None, answer_rate: float = 1.0, replays: Any = "max"):
        """Calls per country, talk minutes and cost of the rows this run sends (what is left on a resumed campaign).

        See :meth:`CampaignPlan.estimate <cmvoice_nb.campaign.CampaignPlan.estimate>` for the parameters.
        """
        from ..ops.estimate import estimate_payloads

        root = audio_root if audio_root is not None else self.plan.options.get("audio_root")
        payloads = [json.loads(r.payload) for r in self.rows_to_send() if r.payload is not None]
        return estimate_payloads(payloads, app=self.plan.app, audio_root=root, prices=prices,
                                 answer_rate=answer_rate, replays=replays)

    def line(self) -> str:
        """The counts as one line: ``292 rows: to send 257, already done 30, ...``."""
        return f"{len(self.plan.rows)} rows: {count_line(self.counts)}"

    def budget_line(self) -> str | None:
        """What the budget leaves (None without a budget)."""
        if self.max_cost is None:
            return None
        planned = sum(c for c, d in zip(self.costs or (), self.decisions, strict=True)
                      if c is not None and d.action == "send")
        return (f"budget {self.max_cost:,.2f}: {self.spent:,.2f} placed before this run, at most {planned:,.2f} "
                f"now ({self.counts.get('to send', 0)} calls), {self.counts.get('budget', 0)} row(s) wait past it")

    def __repr__(self) -> str:
        return f"<Forecast {self.plan.name!r} {self.line()}>"


def forecast(plan: Any, journal: str | os.PathLike | Journal | None = None, *, allow_repeat: bool = False,
             resend_changed: bool = False, resend_unknown: bool = False, prices: Any = None,
             max_cost: float | None = None, valid_until: Any = None, valid_for: Any = "auto",
             contacts: Any = None, max_contacts: Any = None, now: Any = None) -> Forecast:
    """What sending *plan* on *journal* would do with each row now, without sending or writing anything.

    Parameters
    ----------
    plan
        A :class:`~cmvoice_nb.campaign.CampaignPlan`.
    journal
        The campaign's journal (path or :class:`~cmvoice_nb.campaign.Journal`); a path that does not
        exist, or None, is an empty journal.
    allow_repeat, resend_changed, resend_unknown, prices, max_cost
        As in :class:`~cmvoice_nb.campaign.SendOptions`.
    valid_until, valid_for, contacts, max_contacts
        As in :class:`~cmvoice_nb.campaign.SendOptions`: rows whose validity window has ended are
        ``expired``, rows the contact ledger's cap refuses ``over-contacted``.
    now
        The instant to judge them at (an aware datetime, or a clock returning one); default now.

    Raises
    ------
    CampaignError
        *max_cost* without *prices*, or a price table that cannot price a row to send.
    JournalError
        The journal is unusable, or a send is running on it.
    """
    if max_cost is not None and prices is None:
        raise CampaignError(f"{opt('max_cost')} needs {opt('prices')}: calls are counted at their cost")
    j: Journal | None = None  # no journal, or no journal file yet: nothing was sent before
    own = False
    if isinstance(journal, Journal):
        j = journal
    elif journal is not None and Path(journal).exists():
        j, own = Journal(journal), True
    try:
        if j is not None and plan.campaign_key != j.campaign_key:
            plan = plan.rekey(j.campaign_key)
        statuses, live, spent = journal_view(j, plan, allow_repeat=allow_repeat, resend_unknown=resend_unknown,
                                             resend_changed=resend_changed)
        limits = _limits(plan, j, statuses, valid_until=valid_until, valid_for=valid_for, contacts=contacts,
                         max_contacts=max_contacts, now=now)
    finally:
        if own and j is not None:
            j.close()
    costs = row_costs(plan, prices) if max_cost is not None else None
    decisions = decide(plan, statuses=statuses, live=live, allow_repeat=allow_repeat, resend_changed=resend_changed,
                       resend_unknown=resend_unknown, max_cost=max_cost, spent=spent, costs=costs, **limits)
    return Forecast(plan, decisions, spent=spent, max_cost=max_cost, costs=costs)


def _limits(plan: Any, journal: Journal | None, statuses: Mapping[str, RowStatus], *, valid_until: Any,
            valid_for: Any, contacts: Any, max_contacts: Any, now: Any) -> dict[str, Any]:
    """What :func:`decide` reads of the validity windows and the contact cap, judged at *now*."""
    import threading

    from ..ops.schedule import make_clock
    from ..ops.validity import parse_validity

    validity = parse_validity(valid_until=valid_until, valid_for=valid_for, app=plan.app)
    deadlines = journal.validity(plan.name) if journal is not None else {}
    if not validity and not deadlines and max_contacts is None:
        return {}
    clock, _sleep = make_clock(now, None, threading.Event())
    out: dict[str, Any] = {"now": clock(), "valid_until": validity.until, "deadlines": deadlines}
    if max_contacts is not None:
        from ..contacts import ContactLedger, parse_max_contacts

        if contacts is None:
            raise CampaignError(f"{opt('max_contacts')} needs {opt('contacts')}: the ledger it counts calls in")
        rule = parse_max_contacts(max_contacts)
        out["max_contacts"] = rule
        out["contacted"] = {}
        if Path(contacts).exists():
            with ContactLedger(contacts) as ledger:
                out["contacted"] = ledger.contacts(numbers_to_check(plan.rows, statuses),
                                                   since=out["now"] - rule[1])
    return out
