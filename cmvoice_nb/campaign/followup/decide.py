"""Who is called in a campaign's next wave, and why everyone else is left out: one pure function.

:func:`decide` reads every attempt the journal holds for each row of a campaign, how each
attempt's call ended (from its callbacks, as :class:`Ending`), the payloads the journal stored and
the follow-up's options, and gives each row one :class:`FollowUp`: the wave it is called in, or the
reason (a key of :data:`LEFT_OUT_REASONS`) it is left out. It reads no file and sends nothing.

The rules, for a row's **latest** attempt, in the order they apply:

================  ====================================================================
``suppressed``    the journal holds it ``suppressed``, or the list given now lists it
``holdout``       the journal holds it ``holdout``: an A/B test's control group, never called
(resumed)         a later wave's attempt that was never placed (``pending``, ``failed``,
                  ``deferred``, ``budget``) goes again under the same id; no other rule applies
``not sent``      a first-wave attempt never placed (or ``rejected``): re-run that wave
``unknown``       its call may exist (``unknown``, ``sending``), or its outcome is unknown
``waiting``       no callback yet
``answered``      a callback says it was answered (``Finished``)
``rejected``      ``Rejected`` (a wrong number), unless ``outcomes`` names it
``other outcome`` an outcome ``outcomes`` does not name
``max attempts``  called ``max_attempts`` times already
``too recent``    its call ended less than ``min_gap`` ago (or when is not known)
``never again``   the retry ladder (``retry_ladder=``) has no step for its outcome in this wave
``no payload``    the journal holds no bytes to send again
================  ====================================================================

Examples
--------
>>> import datetime as dt
>>> from cmvoice_nb.campaign.journal import JournalRow
>>> first = JournalRow("c", "c-1", "0", "+31612345610", "h", "queued", 1, 200, "call-1", None,
...                    "2024-01-01T10:00:00.000Z", "2024-01-01T10:00:00.000Z", wave=1, base_id="c-1")
>>> ended = dt.datetime(2024, 1, 1, 10, 1, tzinfo=dt.timezone.utc)
>>> [row] = decide([first], endings={"c-1": Ending("Cancelled", ended, False)}, payloads={"c-1": b"{}"},
...                now=ended + dt.timedelta(hours=1))
>>> row.reason, row.wave, row.instruction_id
(None, 2, 'c-1-w2')
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from ...spec import RESULT_CODES, iso_utc
from ...wire import wave_instruction_id
from ..journal import JournalRow
from ..vocabulary import CALLED_STATES, UNPLACED_STATES

__all__ = ["decide", "Ending", "FollowUp", "LEFT_OUT_REASONS", "FOLLOWABLE", "NO_ENDING"]

#: Why a row is not in a follow-up wave, in the order summaries list them.
LEFT_OUT_REASONS = {
    "waiting": "its latest call has no callback yet",
    "answered": "answered",
    "rejected": "the call was rejected (result 12): check the number",
    "suppressed": "on the do-not-call list",
    "holdout": "held out of the A/B test (the control group): never called",
    "unknown": "the latest call's outcome is unknown (it may have been placed): reconcile it first",
    "max attempts": "called max_attempts times already",
    "too recent": "its latest call ended less than min_gap ago",
    "other outcome": "its latest call ended in an outcome not followed up",
    "not sent": "its latest attempt was never placed (invalid, refused or not sent yet): re-run that wave's send",
    "no payload": "the journal holds no payload for it (written before waves existed): cannot be sent again",
    "never again": "the retry ladder says never again for its outcome in this wave",
}
#: Outcomes a follow-up may call again: every result that is not an answer.
FOLLOWABLE = tuple(rc.name for rc in RESULT_CODES.values() if not rc.answered)
_FINISHED = RESULT_CODES[10].name
_REJECTED = RESULT_CODES[12].name


class Ending(NamedTuple):
    """How one attempt's call ended, by its callbacks."""

    #: The outcome of its last callback (``Cancelled``...), or None without any.
    outcome: str | None
    #: When it ended (an aware datetime), or None.
    finished: _dt.datetime | None
    #: True when any callback of the call says it was answered.
    answered: bool
    #: The SIP cause of its last callback (``"486"``), or None.
    sip: str | None = None
    #: True when a callback says a voicemail box answered (CM's callbacks do not say so today).
    voicemail: bool = False


#: The ending of an attempt without callbacks.
NO_ENDING = Ending(None, None, False)


class FollowUp(NamedTuple):
    """What the next wave does with one row of the campaign."""

    #: The row (its wave-1 instruction id) and its label in the operator's list.
    base_id: str
    label: Any
    #: The row's latest attempt.
    latest: JournalRow
    #: Calls placed for the row so far (attempts whose call may exist).
    attempts: int
    #: A key of :data:`LEFT_OUT_REASONS`, or None: the row is called in :attr:`wave`.
    reason: str | None
    #: The wave the row is called in, and that attempt's instruction id (None when left out).
    wave: int | None = None
    instruction_id: str | None = None
    #: The attempt the decision was made on (its call ended as :attr:`outcome` at :attr:`finished_on`).
    previous: JournalRow | None = None
    outcome: str | None = None
    finished_on: str | None = None
    #: The JSON bytes to send again (the latest stored payload of the row).
    payload: bytes | None = None


def _parse_time(text: str | None) -> _dt.datetime | None:
    """An ISO 8601 time as the journal stores it (``...Z``), or None."""
    if not text:
        return None
    try:
        moment = _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=_dt.timezone.utc)


def _row(attempts: Sequence[JournalRow], *, endings: Mapping[str, Ending], payloads: Mapping[str, bytes | None],
         outcomes: tuple[str, ...], max_attempts: int, min_gap: _dt.timedelta, now: _dt.datetime,
         listed: Callable[[str | None], Any] | None, ladder: Any = None) -> FollowUp:
    attempts = sorted(attempts, key=lambda r: r.wave)
    latest = attempts[-1]
    placed = [r for r in attempts if r.state in CALLED_STATES]
    label = next((r.row_label for r in attempts if r.row_label is not None), latest.row_label)
    base_id = latest.row_id

    def leave(reason: str, outcome: str | None = None, finished: str | None = None) -> FollowUp:
        return FollowUp(base_id, label, latest, len(placed), reason, outcome=outcome, finished_on=finished)

    if latest.state == "suppressed" or (listed is not None and listed(latest.callee)):
        # Held back by a list once is held back in every later wave: the journal remembers it
        # even when the next wave is planned without the list.
        return leave("suppressed")
    if latest.state == "holdout":
        return leave("holdout")
    if latest.state in UNPLACED_STATES and latest.state != "rejected" and latest.wave > 1:
        # A wave cut short: its unsent rows go again under the same id (the journal's guard
        # and the row's state keep it to one call).
        wave, previous = latest.wave, (placed[-1] if placed else None)
    elif latest.state in UNPLACED_STATES:
        return leave("not sent")
    elif latest.state in ("unknown", "sending"):
        return leave("unknown")
    else:
        wave, previous = latest.wave + 1, latest
    if previous is None:
        return leave("not sent")
    outcome, finished, answered, sip, voicemail = endings.get(previous.instruction_id, NO_ENDING)
    if outcome is None and not answered:
        if previous is latest:
            return leave("waiting")
        outcome, finished = previous.outcome, _parse_time(previous.finished_on)
    fin = None if finished is None else iso_utc(finished)
    if previous is latest and ladder is not None:  # a new wave, by the retry ladder
        from .ladder import outcome_key

        if (answered or outcome == _FINISHED) and not voicemail:
            return leave("answered", outcome, fin)
        key = outcome_key(outcome, sip, voicemail)
        if key is None:
            return leave("unknown" if outcome in (None, "unknown") else "other outcome", outcome, fin)
        wait = ladder.wait(key, wave=wave)
        if wait is None:
            return leave("never again", outcome, fin)
        if len(placed) >= max_attempts:
            return leave("max attempts", outcome, fin)
        if finished is None or now - finished < wait:
            return leave("too recent", outcome, fin)
    elif previous is latest:  # deciding a new wave (a resumed one was decided when it was planned)
        if answered or outcome == _FINISHED:
            return leave("answered", outcome, fin)
        if outcome == _REJECTED and _REJECTED not in outcomes:
            return leave("rejected", outcome, fin)
        if outcome not in outcomes:
            return leave("unknown" if outcome in (None, "unknown") else "other outcome", outcome, fin)
        if len(placed) >= max_attempts:
            return leave("max attempts", outcome, fin)
        if finished is None or now - finished < min_gap:
            return leave("too recent", outcome, fin)
    payload = next((payloads.get(r.instruction_id) for r in reversed(attempts) if payloads.get(r.instruction_id)),
                   None)
    if payload is None:
        return leave("no payload", outcome, fin)
    iid = latest.instruction_id if latest.wave == wave else wave_instruction_id(base_id, wave)
    return FollowUp(base_id, label, latest, len(placed), None, wave, iid, previous, outcome, fin, payload)


def decide(records: Iterable[JournalRow], *, endings: Mapping[str, Ending], payloads: Mapping[str, bytes | None],
           outcomes: Iterable[str] = ("Cancelled", "Failed"), max_attempts: int = 3,
           min_gap: _dt.timedelta = _dt.timedelta(minutes=30), now: _dt.datetime,
           listed: Callable[[str | None], Any] | None = None, ladder: Any = None) -> list[FollowUp]:
    """One :class:`FollowUp` per row of a campaign, rows in the order they were first written.

    Parameters
    ----------
    records
        Every journal record (attempt) of the campaign (:meth:`Journal.load
        <cmvoice_nb.campaign.Journal.load>`'s values).
    endings
        Instruction id → how that attempt's call ended (an attempt not in it has no callback).
    payloads
        Instruction id → the JSON bytes the journal stored for it (:meth:`Journal.payloads
        <cmvoice_nb.campaign.Journal.payloads>`).
    outcomes, max_attempts, min_gap, now
        The outcomes followed up (names from :data:`FOLLOWABLE`), the calls a row may have over all
        waves, how long ago its last call must have ended, and the time that is measured from.
    listed
        ``listed(callee)`` is true for a callee on the do-not-call list given now (None: no list).
    ladder
        A :class:`~cmvoice_nb.campaign.followup.ladder.RetryLadder`: each outcome's wait before this
        wave, or never (it replaces *outcomes* and *min_gap*; *max_attempts* still caps). None: the
        short form, *outcomes* and *min_gap*.
    """
    outcomes = tuple(outcomes)
    groups: dict[str, list[JournalRow]] = {}
    for rec in records:
        groups.setdefault(rec.row_id, []).append(rec)
    order = sorted(groups, key=lambda b: min(r.updated_at for r in groups[b]))
    return [_row(groups[b], endings=endings, payloads=payloads, outcomes=outcomes, max_attempts=max_attempts,
                 min_gap=min_gap, now=now, listed=listed, ladder=ladder) for b in order]
