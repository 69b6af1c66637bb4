"""What a run does with each row of a plan: the never-twice rule, as one pure function.

:func:`decide` reads a plan's rows, what the journal holds for them (:meth:`Journal.statuses
<cmvoice_nb.campaign.Journal.statuses>`), the calls that may exist to their numbers
(:meth:`Journal.live_callees <cmvoice_nb.campaign.Journal.live_callees>`) and the operator's
options, and gives every row one :class:`Decision`. It writes nothing, sends nothing and starts no
thread: :class:`~cmvoice_nb.campaign.CampaignSender` acts on the decisions, and anything else that
needs to know what a run would do asks the same function.

The rules, in the order they apply (:data:`RULES`; the first that speaks decides the row):

===================  =========================================================================
``unknown``          the journal's call for this row may exist and its outcome is unknown
                     (``resend_unknown`` sends it again)
``done``             the journal queued this row already, with the same content
``suppressed``       on the do-not-call list, whatever else is wrong with the row; or held back as
                     such by an earlier run and no list was given this time
``holdout``          the A/B test's control group (``holdout=``): never called; or held out by an
                     earlier run and the plan has no test this time
``refused-country``  a number outside ``allowed_countries``, whatever else is wrong with the row
``invalid``          the row has problems: never sent (fix it)
``dropped``          a repeated callee left out on purpose (``drop_duplicates``)
``changed``          the journal queued this row with other content (``resend_changed`` sends it)
``already-called``   a call to its number may exist under another row, wave or campaign
                     (``allow_repeat`` calls anyway)
``held``             an earlier row of this list calls the same number in this run: settled by
                     :func:`settle_held` once that row's outcome is known (``allow_repeat`` calls
                     both); it ends ``already-called`` when that row is called
``expired``          its validity window (``valid_until``/``valid_for``) ended before it was placed,
                     now or in an earlier run: never sent later
``over-contacted``   the contact ledger holds as many calls to this person in the period as
                     ``max_contacts`` allows (every campaign sharing the ledger, every wave)
``budget``           placing its call would take the campaign's cost past ``max_cost`` (each call
                     counted at its upper-bound cost, rows in list order)
``send``             none of the above: sent now
===================  =========================================================================

A call that exists or may exist (``unknown``, ``done``) is reported as it is, even for a person
the list now holds back: that is history, not a decision to call.

A row the journal holds ``suppressed`` that is no longer on the list given this time is
*released* (:attr:`Decision.released`): its record goes back to ``pending`` and the rules after
``suppressed`` decide it.

:func:`tally` counts the decisions as every front-end shows them (the plan line, the dry run, the
estimate, the app, ``cmvoice status``): ``to send``, ``already done``, then the status each row
ends with (a ``held`` row counts as the ``already-called`` it becomes).

Reasons are message templates: options are named with :func:`~cmvoice_nb.messages.opt`, and each
front-end says them in its own words.

Examples
--------
>>> import pandas as pd
>>> from cmvoice_nb.campaign import plan_campaign
>>> plan = plan_campaign(pd.DataFrame({"callee": ["+31612345610", "+31612345610", "12"]}), app="notification",
...                      name="c", campaign_key="k0000000",
...                      defaults={"caller": "+31201234567", "prompt": "Hi", "prompt-type": "TTS"})
>>> [d.action for d in decide(plan)]
['send', 'held', 'invalid']
>>> decide(plan)[1].reason
'not sent: same callee as row 0 (c-k0000000-31612345610-1)'
>>> tally(decide(plan))
{'to send': 1, 'invalid': 1, 'already-called': 1}
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from ...messages import opt
from ...wire import callee_numbers, same_instruction
from ..journal import JournalRow, LiveCall, RowStatus
from ..ops.suppress import country_refusals
from ..vocabulary import COUNT_ORDER

if TYPE_CHECKING:
    from ..plan import CampaignPlan, RowPlan

__all__ = ["Decision", "decide", "RULES", "ACTIONS", "STATUS_OF", "COUNTED_AS", "tally", "numbers_to_check",
           "settle_held", "ended_before"]

#: Every action a decision can take, in the order of :data:`RULES` (``send`` last: no rule spoke).
ACTIONS = ("unknown", "done", "suppressed", "holdout", "refused-country", "invalid", "dropped", "changed",
           "already-called", "held", "expired", "over-contacted", "budget", "send")

#: The result status a row starts with for each action (``pending``: it waits for its request or
#: its settling; ``done`` is reported as the ``queued`` it already is).
STATUS_OF = {action: action for action in ACTIONS} | {"send": "pending", "held": "pending", "done": "queued"}

#: What :func:`tally` counts each action as: ``to send``, ``already done``, or the status the row ends with.
COUNTED_AS = {action: action for action in ACTIONS} | {"send": "to send", "done": "already done",
                                                        "held": "already-called"}

#: Journal states in which a call for the row may exist (``sending`` is left by a crash).
_LIVE = ("queued", "unknown", "sending")


class Decision(NamedTuple):
    """What a run does with one row, and why.

    Attributes
    ----------
    action
        One of :data:`ACTIONS`.
    reason
        Why, as a message template (options as :func:`~cmvoice_nb.messages.opt` markers); None
        when there is nothing to say (a row to send, a row done without an error).
    record
        What the journal holds for the row (:class:`~cmvoice_nb.campaign.journal.RowStatus`), or
        None for a row new to the journal.
    call
        For ``already-called``: the earlier call (:class:`~cmvoice_nb.campaign.journal.LiveCall`).
    first
        For ``held``: the position of the earlier row of the list that calls the same number.
    released
        True when the journal holds the row ``suppressed`` and the list given this time no longer
        lists it: the record goes back to ``pending``.
    """

    action: str
    reason: str | None = None
    record: RowStatus | None = None
    call: LiveCall | None = None
    first: int | None = None
    released: bool = False

    @property
    def status(self) -> str:
        """The row's result status before anything is sent (see :data:`STATUS_OF`)."""
        return STATUS_OF[self.action]


_SEND = Decision("send")  # shared by every new row that is sent: a million-row plan needs one


class _Run(NamedTuple):
    """What the rules read besides the row itself."""

    plan: CampaignPlan
    statuses: Mapping[str, RowStatus]
    live: Mapping[str, Sequence[LiveCall]]
    allow_repeat: bool
    resend_changed: bool
    resend_unknown: bool
    listed: bool
    #: number → the first row of this list that calls it in this run (filled as rows are decided)
    claimed: dict[str, RowPlan]
    #: ``[row, its numbers]`` for the row being decided: its numbers are read once, whichever rules ask
    last: list[RowPlan | list[str] | None]
    #: The budget: ``max_cost`` (None: none), the cost already placed, each row's upper-bound cost by
    #: position, and ``[cost of this run's rows to send so far]``.
    max_cost: float | None
    spent: float
    costs: Sequence[float | None] | None
    planned: list[float]
    #: The validity windows: the instant judged (None: windows are not judged), each row's stored
    #: end by instruction id, and the end of a row that has none stored yet (``valid_until``).
    now: Any  # datetime.datetime (aware) or None
    deadlines: Mapping[str, Any] | None
    until: Any
    #: The contact ledger: number → its recorded contacts (``campaign``, ``instruction_id``, ``at``),
    #: ``(calls, period)`` allowed, and number → this run's rows to send so far.
    contacted: Mapping[str, Sequence[Any]] | None
    max_contacts: Any  # (calls, datetime.timedelta) or None
    contacting: dict[str, int]

    def numbers(self, row: RowPlan) -> list[str]:
        """The numbers *row* dials."""
        if self.last[0] is not row:
            self.last[:] = [row, row.callee_list()]
        return cast("list[str]", self.last[1])  # [row, its numbers]: the second item is always the list


def _state(record: RowStatus | None) -> str | None:
    if record is None:
        return None
    return "unknown" if record.state == "sending" else record.state  # "sending": a crashed run's, seen in a dry run


def _changed(row: RowPlan, record: RowStatus) -> bool:
    # A new callback URL is not a change (the identity hash leaves it out); a record hashed before
    # schema 4 matches through its old whole-wire hash.
    return not same_instruction(record.payload_hash, row.payload, row.payload_hash)


# ------------------------------------------------------------------------------------- the rules
def _unknown(row: RowPlan, record: RowStatus | None, run: _Run) -> Decision | None:
    if record is None or _state(record) != "unknown" or run.resend_unknown:
        return None
    note = "; the row also changed since" if row.valid and _changed(row, record) else ""
    # Reported, with what resolves it, on every run until the operator decides.
    return Decision("unknown", f"{record.error or 'outcome unknown'}{note}", record)


def _done(row: RowPlan, record: RowStatus | None, run: _Run) -> Decision | None:
    if record is None or _state(record) != "queued" or not row.valid or _changed(row, record):
        return None
    return Decision("done", record.error, record)


def _suppressed(row: RowPlan, record: RowStatus | None, run: _Run) -> Decision | None:
    if row.suppressed:
        return Decision("suppressed", row.suppressed, record)
    if record is not None and record.state == "suppressed" and not run.listed:
        # A forgotten list on a re-run must not call anyone the list had held back.
        return Decision("suppressed", f"{record.error or 'on the do-not-call list'} (by an earlier run; give the "
                                      f"current {opt('suppress')} list to check again)", record)
    return None


def _holdout(row: RowPlan, record: RowStatus | None, run: _Run) -> Decision | None:
    if row.variant == "holdout":
        return Decision("holdout", f"held out of the A/B test: the control group, never called ({opt('holdout')})",
                        record)
    if row.variant is None and record is not None and record.state == "holdout":
        return Decision("holdout", f"{record.error or 'held out of the A/B test'} (by an earlier run)", record)
    return None


def _refused_country(row: RowPlan, record: RowStatus | None, run: _Run) -> Decision | None:
    if row.valid:
        return None
    refused = country_refusals(row.problems)
    if not refused:
        return None
    return Decision("refused-country", "; ".join(f"{p.value}: {p.message}" for p in refused), record)


def _invalid(row: RowPlan, record: RowStatus | None, run: _Run) -> Decision | None:
    if row.valid:
        return None
    text = "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in row.problems)
    return Decision("invalid", text or "invalid", record)


def _dropped(row: RowPlan, record: RowStatus | None, run: _Run) -> Decision | None:
    if not row.dropped:
        return None
    return Decision("dropped", f"duplicate callee: same as {run.plan.label_name(row.duplicate_of)} "
                               f"({opt('drop_duplicates')})", record)


def _changed_since(row: RowPlan, record: RowStatus | None, run: _Run) -> Decision | None:
    if record is None or _state(record) != "queued" or run.resend_changed:
        return None
    return Decision("changed", f"the row changed since it was sent (call {record.call_ids or '?'}); not sent again "
                               f"({opt('resend_changed')} sends it)", record)


def _called_elsewhere(row: RowPlan, record: RowStatus | None, run: _Run) -> Decision | None:
    if run.allow_repeat:
        return None
    campaign = run.plan.name
    numbers = run.numbers(row)
    earlier = next((e for n in numbers for e in run.live.get(n, ())
                    if (e.campaign, e.instruction_id) != (campaign, row.instruction_id)
                    and not ended_before(campaign, row, e)), None)
    if earlier is None:
        return None
    where = "" if earlier.campaign == campaign else f" of campaign {earlier.campaign!r}"
    return Decision("already-called", f"{', '.join(numbers)} already called as {earlier.instruction_id}{where} "
                                      f"({earlier.state}, call {earlier.call_ids or '?'}); not called again",
                    record, call=earlier)


def _same_callee_earlier(row: RowPlan, record: RowStatus | None, run: _Run) -> Decision | None:
    if run.allow_repeat:
        return None
    first = next((run.claimed[n] for n in run.numbers(row) if n in run.claimed), None)
    if first is None:
        return None
    return Decision("held", f"not sent: same callee as {run.plan.row_name(first.position)} ({first.instruction_id})",
                    record, first=first.position)


def _expired(row: RowPlan, record: RowStatus | None, run: _Run) -> Decision | None:
    if record is not None and record.state == "expired":
        return Decision("expired", record.error or "its validity window ended before it was placed", record)
    if run.now is None:
        return None
    deadline = (run.deadlines or {}).get(row.instruction_id, run.until)
    if deadline is None or deadline > run.now:
        return None
    from ..ops.validity import expiry_reason

    return Decision("expired", expiry_reason(deadline), record)


def _over_contacted(row: RowPlan, record: RowStatus | None, run: _Run) -> Decision | None:
    if run.max_contacts is None or run.now is None:
        return None
    calls, period = run.max_contacts
    since = run.now - period
    for n in run.numbers(row):
        earlier = [c for c in (run.contacted or {}).get(n, ()) if c.at > since
                   and (c.campaign, c.instruction_id) != (run.plan.name, row.instruction_id)]
        if len(earlier) + run.contacting.get(n, 0) >= calls:
            last = max(earlier, key=lambda c: c.at) if earlier else None
            where = (f"; the latest by campaign {last.campaign!r} at {last.at:%Y-%m-%d %H:%M} UTC" if last else
                     " (earlier rows of this run)")
            return Decision("over-contacted", f"{n} was called {len(earlier) + run.contacting.get(n, 0)} time(s) in "
                                              f"the last {_period_text(period)}{where}; {opt('max_contacts')} allows "
                                              f"{calls}: not called", record)
    return None


def _period_text(period: Any) -> str:
    seconds = int(period.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _over_budget(row: RowPlan, record: RowStatus | None, run: _Run) -> Decision | None:
    if run.max_cost is None:
        return None
    cost = run.costs[row.position] if run.costs is not None else None
    if cost is None:
        return None
    total = run.spent + run.planned[0] + cost
    # A cent's fraction of slack: costs are sums of float products.
    if total > run.max_cost + 1e-9:
        return Decision("budget", f"its call (at most {cost:,.4f}) would take the campaign's cost to {total:,.2f}, "
                                  f"past the budget of {run.max_cost:,.2f} ({opt('max_cost')}; {run.spent:,.2f} "
                                  "placed before this run); not placed", record)
    run.planned[0] += cost
    return None


#: The never-twice rule: ``(action, rule)`` in the order they apply. A rule reads the row, its
#: journal record and the run (:class:`_Run`) and returns a :class:`Decision`, or None when it has
#: nothing to say about the row. A row no rule speaks for is sent.
RULES: tuple[tuple[str, Callable[..., Decision | None]], ...] = (
    ("unknown", _unknown),
    ("done", _done),
    ("suppressed", _suppressed),
    ("holdout", _holdout),
    ("refused-country", _refused_country),
    ("invalid", _invalid),
    ("dropped", _dropped),
    ("changed", _changed_since),
    ("already-called", _called_elsewhere),
    ("held", _same_callee_earlier),
    ("expired", _expired),
    ("over-contacted", _over_contacted),
    ("budget", _over_budget),
)
_RULES = tuple(rule for _name, rule in RULES)
#: Actions after which a row the journal holds ``suppressed`` (and no longer listed) is released.
_CALLABLE = ("send", "already-called", "held", "budget", "over-contacted")


def decide(plan: CampaignPlan, *, statuses: Mapping[str, RowStatus] | None = None,
           live: Mapping[str, Sequence[LiveCall]] | None = None, allow_repeat: bool = False,
           resend_changed: bool = False, resend_unknown: bool = False, max_cost: float | None = None,
           spent: float = 0.0, costs: Sequence[float | None] | None = None, now: Any = None,
           deadlines: Mapping[str, Any] | None = None, valid_until: Any = None,
           contacted: Mapping[str, Sequence[Any]] | None = None, max_contacts: Any = None) -> list[Decision]:
    """One :class:`Decision` per row of *plan*, in row order.

    Parameters
    ----------
    plan
        A :class:`~cmvoice_nb.campaign.CampaignPlan` (its rows, name and row naming; a plan that
        went through :func:`~cmvoice_nb.campaign.ops.suppress.apply_suppression` records that this
        run checked a do-not-call list).
    statuses
        Instruction id → the journal's :class:`~cmvoice_nb.campaign.journal.RowStatus` for this
        campaign (:meth:`Journal.statuses <cmvoice_nb.campaign.Journal.statuses>`); default none.
    live
        Number → the calls to it that may exist, any campaign, earliest first
        (:meth:`Journal.live_callees <cmvoice_nb.campaign.Journal.live_callees>`, asked for
        :func:`numbers_to_check`); default none.
    allow_repeat, resend_changed, resend_unknown
        As in :class:`~cmvoice_nb.campaign.SendOptions`.
    max_cost, spent, costs
        The campaign's budget (None: none), what its calls placed before this run cost (each at
        its upper bound; :meth:`Journal.spent <cmvoice_nb.campaign.Journal.spent>`) and each
        row's upper-bound cost by position (:func:`~cmvoice_nb.campaign.ops.estimate.upper_bound_costs`).
        Rows to send are counted in list order; one that would take the total past *max_cost*
        is ``budget`` (a later, cheaper row may still fit).
    now, deadlines, valid_until
        The instant the validity windows and the contact cap are judged at (aware; None: neither
        is judged), the end of each row's window the journal stores (instruction id → instant;
        :meth:`Journal.validity <cmvoice_nb.campaign.Journal.validity>`), and the end of a row
        that has none stored (``valid_until``). A row whose window ended is ``expired``.
    contacted, max_contacts
        Number → its contacts in the ledger (each with ``campaign``, ``instruction_id`` and
        ``at``; :meth:`ContactLedger.contacts <cmvoice_nb.campaign.contacts.ContactLedger.contacts>`),
        and ``(calls, period)`` allowed per person (:func:`~cmvoice_nb.campaign.contacts.parse_max_contacts`).
    """
    statuses = {} if statuses is None else statuses
    run = _Run(plan, statuses, {} if live is None else live, bool(allow_repeat), bool(resend_changed),
               bool(resend_unknown), "suppress" in plan.options, {}, [None, None],
               None if max_cost is None else float(max_cost), float(spent or 0.0), costs, [0.0], now, deadlines,
               valid_until, contacted, max_contacts, {})
    decisions = []
    for row in plan.rows:
        record = statuses.get(row.instruction_id)
        for rule in _RULES:
            decision = rule(row, record, run)
            if decision is not None:
                break
        else:
            for n in run.numbers(row):
                run.claimed.setdefault(n, row)
                if max_contacts is not None:
                    run.contacting[n] = run.contacting.get(n, 0) + 1
            decision = _SEND if record is None else Decision("send", None, record)
        if record is not None and record.state == "suppressed" and decision.action in _CALLABLE:
            decision = decision._replace(released=True)
        decisions.append(decision)
    return decisions


def tally(decisions: Iterable[Decision]) -> dict[str, int]:
    """How many rows each outcome has, as every front-end counts them (zero counts left out).

    ``to send`` and ``already done``, then the status each other row ends with, in the order of
    :data:`~cmvoice_nb.campaign.vocabulary.COUNT_ORDER`: a ``held`` row (a repeat in the list)
    counts as the ``already-called`` it ends as, not as a call.
    """
    counted = Counter(COUNTED_AS[d.action] for d in decisions)
    return {key: counted[key] for key in COUNT_ORDER if counted.get(key)}


def numbers_to_check(rows: Iterable[RowPlan], statuses: Mapping[str, RowStatus], *, resend_unknown: bool = False,
                     resend_changed: bool = False) -> set[str]:
    """The numbers whose live calls :func:`decide` needs: those of every row this run may still send.

    A row the journal holds as called (``queued``, ``unknown``, ``sending``) is decided by its own
    record, unless *resend_unknown* or *resend_changed* may send it again.

    Examples
    --------
    >>> from cmvoice_nb.campaign.journal import RowStatus
    >>> from cmvoice_nb.campaign.plan import RowPlan
    >>> rows = [RowPlan(0, 0, "a", "+31612345610", instruction=object()),
    ...         RowPlan(1, 1, "b", "+31612345611", instruction=object())]
    >>> sorted(numbers_to_check(rows, {"b": RowStatus("queued", "h", 1, 200, "c1", None, None)}))
    ['+31612345610']
    """
    resend = resend_unknown or resend_changed
    numbers: set[str] = set()
    for r in rows:
        if not r.valid or r.dropped:
            continue
        st = statuses.get(r.instruction_id)
        if st is None or resend or st.state not in _LIVE:
            # Read from the row's callee cell (the instruction's numbers, ";"-joined): no
            # instruction is built for it here.
            numbers.update(callee_numbers(r.callee))
    return numbers


def settle_held(plan: CampaignPlan, decision: Decision, first_status: str | None) -> tuple[str, str]:
    """A ``held`` row's status and reason, from what happened to the first row calling the same number.

    The first row was called (``queued``, ``unknown``) or would be (``dry-run``): the held row is
    ``already-called``. Otherwise it stays ``pending``: a later run sends that first row, then decides.

    Examples
    --------
    >>> import pandas as pd
    >>> from cmvoice_nb.campaign import plan_campaign
    >>> plan = plan_campaign(pd.DataFrame({"callee": ["+31612345610"] * 2}, index=pd.Index([2, 3], name="line")),
    ...                      app="notification", name="c", campaign_key="k0000000",
    ...                      defaults={"caller": "+31201234567", "prompt": "Hi", "prompt-type": "TTS"})
    >>> held = decide(plan)[1]
    >>> settle_held(plan, held, "failed")  # doctest: +ELLIPSIS
    ('pending', 'not sent: same callee as line 2 (c-k0000000-31612345610-1), which ended failed; run again to...')
    """
    if decision.first is None:
        raise ValueError(f"settle_held() settles a held decision (one with its first row), not {decision.action!r}")
    first = plan.rows[decision.first]
    who = f"same callee as {plan.row_name(first.position)} ({first.instruction_id})"
    if first_status in ("queued", "unknown", "dry-run"):
        verb = "would be called" if first_status == "dry-run" else "called"
        return "already-called", (f"{who}, {verb} in this run; not called twice ({opt('allow_repeat')} "
                                  "calls both)")
    return "pending", f"not sent: {who}, which ended {first_status or 'unsent'}; run again to send that one"


def ended_before(campaign: str, row: RowPlan, earlier: JournalRow | LiveCall) -> bool:
    """True when *earlier* is an attempt of *row* in an earlier wave whose call ended.

    Ended means a callback said so: recorded in the journal (``outcome``) or carried by the
    follow-up plan (``row.ended``). Such an attempt does not stop the row's next wave.
    """
    if earlier.campaign != campaign or earlier.row_id != (row.base_id or row.instruction_id):
        return False
    if earlier.wave >= row.wave:
        return False
    return bool(earlier.outcome) or earlier.instruction_id in {e[0] for e in row.ended}
