"""Who goes in the next wave, as a table: a row's attempts, how its call ended, the options → wave or reason.

The row under test is ``c-1`` calling ``+31612345610``; its attempts are listed wave by wave
(``("queued", "pending")``: wave 1 was queued, wave 2 is registered but was never placed). The
ending is that of its latest placed call, by its callbacks. Nothing here reads a journal or a
callback file: :func:`decide` is pure.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from cmvoice_nb.campaign.followup.decide import LEFT_OUT_REASONS, NO_ENDING, Ending, decide
from cmvoice_nb.campaign.journal import JournalRow
from cmvoice_nb.spec import iso_utc
from cmvoice_nb.wire import wave_instruction_id

NOW = dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.timezone.utc)
NUMBER = "+31612345610"
PAYLOAD = b'{"instruction-id": "c-1", "callee": "+31612345610"}'


def attempt(wave: int, state: str, *, base: str = "c-1", outcome: str | None = None,
            finished_on: str | None = None, written: str = "2024-01-01T08:00:00.000Z") -> JournalRow:
    iid = wave_instruction_id(base, wave)
    return JournalRow("c", iid, "7", NUMBER, "h", state, 1, 200 if state == "queued" else None, None, None,
                      written, written, wave=wave, base_id=base, outcome=outcome, finished_on=finished_on)


def ended(minutes_ago: float | None, outcome: str | None = None, answered: bool = False) -> Ending:
    return Ending(outcome, None if minutes_ago is None else NOW - dt.timedelta(minutes=minutes_ago), answered)


#: How the latest placed call ended, by its callbacks.
ENDINGS = {
    "no callback": NO_ENDING,
    "Cancelled 2 h ago": ended(120, "Cancelled"),
    "Failed 2 h ago": ended(120, "Failed"),
    "Rejected 2 h ago": ended(120, "Rejected"),
    "Finished 2 h ago": ended(120, "Finished", answered=True),
    "answered, last callback without an outcome": ended(120, None, answered=True),
    "an outcome the callbacks did not name": ended(120, "unknown"),
    "Cancelled 10 min ago": ended(10, "Cancelled"),
    "Cancelled, time unknown": ended(None, "Cancelled"),
}


@dataclasses.dataclass(frozen=True)
class Case:
    rule: str
    attempts: tuple = ("queued",)
    ending: str = "Cancelled 2 h ago"
    options: dict = dataclasses.field(default_factory=dict)
    payload: bool = True
    then: str = "wave 2"


CASES = [
    # -- suppressed: held back once is held back in every later wave
    Case("a row the journal holds suppressed is left out", attempts=("suppressed",), then="suppressed"),
    Case("a row on the list given now is left out", options={"listed": True}, then="suppressed"),
    # -- holdout: an A/B test's control group is never called, in no wave
    Case("a row the journal holds out of the A/B test is left out", attempts=("holdout",), then="holdout"),
    # -- never placed
    Case("a first attempt never sent is not followed up", attempts=("pending",), then="not sent"),
    Case("a first attempt that failed is not followed up", attempts=("failed",), then="not sent"),
    Case("a first attempt the provider rejected is not followed up", attempts=("rejected",), then="not sent"),
    Case("a first attempt deferred by its calling hours is not followed up", attempts=("deferred",),
         then="not sent"),
    Case("a later wave with nothing placed before it is not sent", attempts=("failed", "pending"), then="not sent"),
    # -- a call that may exist
    Case("an unknown outcome is reconciled first", attempts=("unknown",), then="unknown"),
    Case("a call in flight when a run crashed is reconciled first", attempts=("sending",), then="unknown"),
    Case("an outcome the callbacks do not name is reconciled first", ending="an outcome the callbacks did not name",
         then="unknown"),
    # -- by the callbacks
    Case("a call without a callback yet waits", ending="no callback", then="waiting"),
    Case("an answered call is not called again", ending="Finished 2 h ago", then="answered"),
    Case("a call any callback says was answered is not called again",
         ending="answered, last callback without an outcome", then="answered"),
    Case("a rejected call is a wrong number, not followed up", ending="Rejected 2 h ago", then="rejected"),
    Case("a rejected call is followed up when the outcomes name it", ending="Rejected 2 h ago",
         options={"outcomes": ("Cancelled", "Failed", "Rejected")}),
    Case("a cancelled call is followed up", ending="Cancelled 2 h ago"),
    Case("a failed call is followed up", ending="Failed 2 h ago"),
    Case("an outcome the options leave out is not followed up", ending="Failed 2 h ago",
         options={"outcomes": ("Cancelled",)}, then="other outcome"),
    # -- attempts and gap
    Case("a row called max_attempts times is left out", attempts=("queued", "queued", "queued"),
         then="max attempts"),
    Case("a row called fewer times goes in the next wave", attempts=("queued", "queued"), then="wave 3"),
    Case("max_attempts=1 follows nobody up", options={"max_attempts": 1}, then="max attempts"),
    Case("a call that ended less than min_gap ago waits", ending="Cancelled 10 min ago", then="too recent"),
    Case("a shorter min_gap lets it go", ending="Cancelled 10 min ago", options={"min_gap": dt.timedelta(minutes=5)}),
    Case("a call whose end time is unknown waits", ending="Cancelled, time unknown", then="too recent"),
    # -- the bytes to send again
    Case("a row without a stored payload cannot be sent again", payload=False, then="no payload"),
    # -- a wave cut short resumes under the same id, decided when it was planned
    Case("an unsent row of a cut-short wave goes again", attempts=("queued", "pending")),
    Case("a failed row of a cut-short wave goes again", attempts=("queued", "failed")),
    Case("a deferred row of a later wave goes again", attempts=("queued", "deferred")),
    Case("a resumed wave does not wait for min_gap again", attempts=("queued", "pending"),
         ending="Cancelled 10 min ago"),
    Case("a resumed wave goes without callbacks", attempts=("queued", "pending"), ending="no callback"),
]


def decision_for(case: Case):
    options = dict(case.options)
    listed = options.pop("listed", False)
    records = [attempt(w, s, outcome="Cancelled" if s == "queued" and w < len(case.attempts) else None)
               for w, s in enumerate(case.attempts, 1)]
    placed = [r for r in records if r.state in ("queued", "unknown", "sending")]
    endings = {placed[-1].instruction_id: ENDINGS[case.ending]} if placed else {}
    payloads = {r.instruction_id: PAYLOAD for r in placed} if case.payload else {}
    [decision] = decide(records, endings=endings, payloads=payloads, now=NOW,
                        listed=(lambda callee: callee == NUMBER) if listed else None, **options)
    return decision


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_who_goes_in_the_next_wave(case):
    decision = decision_for(case)
    assert (f"wave {decision.wave}" if decision.reason is None else decision.reason) == case.then


def test_the_table_reaches_every_reason():
    reasons = {decision_for(c).reason for c in CASES}
    assert reasons == set(LEFT_OUT_REASONS) | {None}


def test_a_new_wave_gets_its_own_id_and_carries_how_the_last_call_ended():
    d = decision_for(Case(""))
    assert (d.instruction_id, d.previous.instruction_id, d.outcome, d.finished_on, d.attempts, d.payload) == \
        ("c-1-w2", "c-1", "Cancelled", iso_utc(NOW - dt.timedelta(hours=2)), 1, PAYLOAD)


def test_a_resumed_wave_keeps_its_id_and_reads_the_end_from_the_callbacks():
    d = decision_for(Case("", attempts=("queued", "pending")))
    assert (d.wave, d.instruction_id, d.previous.instruction_id, d.outcome) == (2, "c-1-w2", "c-1", "Cancelled")


def test_a_resumed_wave_without_callbacks_reads_the_end_the_journal_recorded():
    first = attempt(1, "queued", outcome="Failed", finished_on="2024-01-01T09:30:00.000Z")
    [d] = decide([first, attempt(2, "pending")], endings={}, payloads={"c-1": PAYLOAD}, now=NOW)
    assert (d.reason, d.instruction_id, d.outcome, d.finished_on) == (None, "c-1-w2", "Failed",
                                                                      "2024-01-01T09:30:00.000Z")


def test_the_latest_stored_payload_is_sent_again():
    records = [attempt(1, "queued", outcome="Cancelled"), attempt(2, "queued")]
    [d] = decide(records, endings={"c-1-w2": ENDINGS["Cancelled 2 h ago"]},
                 payloads={"c-1": b"first", "c-1-w2": b"second"}, now=NOW)
    assert (d.instruction_id, d.payload, d.attempts) == ("c-1-w3", b"second", 2)


def test_rows_come_in_the_order_they_were_first_written_and_keep_their_label():
    late = attempt(1, "queued", base="c-2", written="2024-01-01T09:00:00.000Z")
    early = attempt(1, "queued", base="c-1", written="2024-01-01T08:00:00.000Z")
    decisions = decide([late, early], endings={}, payloads={}, now=NOW)
    assert [(d.base_id, d.label, d.reason) for d in decisions] == [("c-1", "7", "waiting"), ("c-2", "7", "waiting")]


def test_endings_are_asked_only_for_the_call_decided_on():
    asked = []

    class Endings(dict):
        def get(self, key, default=None):
            asked.append(key)
            return super().get(key, default)

    records = [attempt(1, "queued", outcome="Cancelled"), attempt(2, "queued")]
    decide(records, endings=Endings(), payloads={}, now=NOW)
    assert asked == ["c-1-w2"]
