"""The never-twice rule, as a table: a row, what the journal holds, the live calls, the options → the decision.

Every case is one line of the rule. The row under test is the second row of a small plan (the first
row calls another number, unless the case says an earlier row of the list calls the same one); its
instruction id is ``spring-2`` (``spring-2-w2`` in a second wave) and it calls ``+31612345610``.
Nothing here opens a journal, starts a thread or speaks HTTP: :func:`decide` is pure.
"""
from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from cmvoice_nb.campaign.journal import LiveCall, RowStatus
from cmvoice_nb.campaign.plan import CampaignPlan, RowPlan
from cmvoice_nb.campaign.send import decide as decide_module
from cmvoice_nb.campaign.send.decide import ACTIONS, RULES, decide, numbers_to_check, settle_held
from cmvoice_nb.instructions import Problem, instruction_from_json
from cmvoice_nb.messages import say
from cmvoice_nb.wire import encode_body, instruction_hash, legacy_instruction_hash

NUMBER = "+31612345610"
OTHER_NUMBER = "+31612345699"
SENT_AT = "2026-03-30T07:00:00.000Z"
DNC_REASON = f"{NUMBER} is on the do-not-call list"


def wire(iid: str, callee: str = NUMBER, *, prompt: str = "Hello Ann", callback_url: str | None = None) -> dict:
    body = {"instruction-id": iid, "callee": callee, "caller": "+31201234567", "prompt": prompt, "prompt-type": "TTS"}
    if callback_url:
        body["callback-url"] = callback_url
    return body


def row_plan(position: int, iid: str, callee: str = NUMBER, **extra) -> RowPlan:
    body = wire(iid, callee, callback_url="http://127.0.0.1:8002/cb")
    return RowPlan(position, position, iid, callee, instruction=instruction_from_json("notification", body),
                   payload=encode_body(body), payload_hash=instruction_hash(body), **extra)


#: The row under test, by what the plan says of it.
ROWS = {
    "valid": {},
    "invalid": {"problems": [Problem("callee", "12", "'12' is not a phone number")]},
    "dropped": {"duplicate_of": 0, "dropped": True},
    "listed": {"suppressed": DNC_REASON},
    "wave 2": {"wave": 2, "base_id": "spring-2"},
    "wave 2, its first call ended by its callbacks": {"wave": 2, "base_id": "spring-2",
                                                      "ended": (("spring-2", "Cancelled", SENT_AT),)},
}


def journal_record(state: str) -> RowStatus | None:
    """What the journal holds for the row (``Journal.statuses``), by a short description."""
    same = instruction_hash(wire("spring-2"))
    other = instruction_hash(wire("spring-2", prompt="Hello Bob"))
    records = {
        "nothing": None,
        "pending": RowStatus("pending", None, 0, None, None, None, None),
        "failed": RowStatus("failed", None, 1, 503, None, "ServerError: HTTP 503 busy", SENT_AT),
        "rejected": RowStatus("rejected", None, 1, 400, None, "InstructionRejected: bad prompt", SENT_AT),
        "deferred": RowStatus("deferred", None, 0, None, None, None, None),
        "sending": RowStatus("sending", same, 1, None, None, None, SENT_AT),
        "queued": RowStatus("queued", same, 1, 200, "call-1", None, SENT_AT),
        "queued with other content": RowStatus("queued", other, 1, 200, "call-1", None, SENT_AT),
        "queued, sent with another callback-url": RowStatus(
            "queued", instruction_hash(wire("spring-2", callback_url="http://127.0.0.1:9999/old")), 1, 200,
            "call-1", None, SENT_AT),
        "queued, hashed before schema 4": RowStatus(
            "queued", legacy_instruction_hash(wire("spring-2", callback_url="http://127.0.0.1:8002/cb")), 1, 200,
            "call-1", None, SENT_AT),
        "unknown": RowStatus("unknown", same, 1, None, None, "ReadTimeout: no answer in 10 s", SENT_AT),
        "unknown with other content": RowStatus("unknown", other, 1, None, None, "ReadTimeout: no answer in 10 s",
                                                SENT_AT),
        "unknown without an error": RowStatus("unknown", same, 1, None, None, None, SENT_AT),
        "suppressed": RowStatus("suppressed", None, 0, None, None, DNC_REASON, None),
        "suppressed without a reason": RowStatus("suppressed", None, 0, None, None, None, None),
    }
    return records[state]


#: The calls that may exist to the row's number, by a short description.
LIVE = {
    "none": [],
    "an earlier row of this list": [],  # no call yet: the plan's first row calls the same number
    "this row": [LiveCall("spring", "spring-2", "queued", "call-1", 1, "spring-2", None)],
    "another row of this campaign": [LiveCall("spring", "spring-9", "queued", "call-9", 1, "spring-9", None)],
    "another campaign": [LiveCall("autumn", "autumn-1", "unknown", None, 1, "autumn-1", None)],
    "an earlier wave that ended": [LiveCall("spring", "spring-2", "queued", "call-1", 1, "spring-2", "Cancelled")],
    "an earlier wave, no end recorded": [LiveCall("spring", "spring-2", "queued", "call-1", 1, "spring-2", None)],
}


@dataclasses.dataclass(frozen=True)
class Case:
    rule: str
    row: str = "valid"
    journal: str = "nothing"
    live: str = "none"
    options: str = ""
    then: str = "send"
    why: str | None = None
    released: bool = False


ALREADY_NINE = f"{NUMBER} already called as spring-9 (queued, call call-9); not called again"
ALREADY_AUTUMN = f"{NUMBER} already called as autumn-1 of campaign 'autumn' (unknown, call ?); not called again"
HELD = "not sent: same callee as row 0 (spring-1)"
CHANGED = "the row changed since it was sent (call call-1); not sent again (resend_changed=True sends it)"
EARLIER_RUN = " (by an earlier run; give the current suppress= list to check again)"

CASES = [
    # -- invalid: fix the row; nothing else matters
    Case("an invalid row is never sent", row="invalid", then="invalid", why="callee: '12' is not a phone number"),
    Case("an invalid row is invalid whatever the journal holds", row="invalid", journal="queued", then="invalid",
         why="callee: '12' is not a phone number"),
    # -- skipped: a repeat left out by drop_duplicates
    Case("a dropped repeat is skipped", row="dropped", then="skipped",
         why="duplicate callee: same as row 0 (drop_duplicates=True)"),
    Case("a dropped repeat is skipped even when its number was called elsewhere", row="dropped",
         live="another campaign", then="skipped", why="duplicate callee: same as row 0 (drop_duplicates=True)"),
    # -- unknown: the call may exist; only resend_unknown sends it again
    Case("an unknown outcome is reported again, not resent", journal="unknown", then="unknown",
         why="ReadTimeout: no answer in 10 s"),
    Case("an unknown outcome without an error says so", journal="unknown without an error", then="unknown",
         why="outcome unknown"),
    Case("an unknown row that changed says that too", journal="unknown with other content", then="unknown",
         why="ReadTimeout: no answer in 10 s; the row also changed since"),
    Case("a request in flight when a run crashed counts as unknown", journal="sending", then="unknown",
         why="outcome unknown"),
    Case("an unknown row on the list now stays unknown", row="listed", journal="unknown", then="unknown",
         why="ReadTimeout: no answer in 10 s"),
    Case("resend_unknown sends an unknown row again", journal="unknown", options="resend_unknown"),
    Case("resend_unknown still never calls a number another campaign called", journal="unknown",
         live="another campaign", options="resend_unknown", then="already-called", why=ALREADY_AUTUMN),
    # -- done: queued before with the same content
    Case("a row queued before is done", journal="queued", live="this row", then="done"),
    Case("a new callback-url is not a change", journal="queued, sent with another callback-url", then="done"),
    Case("a record hashed before schema 4 still matches its row", journal="queued, hashed before schema 4",
         then="done"),
    Case("resend_changed does not resend an unchanged row", journal="queued", options="resend_changed",
         then="done"),
    Case("a row called before keeps its outcome even when the list holds it now", row="listed", journal="queued",
         then="done"),
    # -- changed: queued before with other content; only resend_changed sends it again
    Case("a row queued with other content is withheld", journal="queued with other content", then="changed",
         why=CHANGED),
    Case("resend_changed sends a changed row: its own call does not block it", journal="queued with other content",
         live="this row", options="resend_changed"),
    Case("resend_changed never calls a number another row of the campaign called",
         journal="queued with other content", live="another row of this campaign", options="resend_changed",
         then="already-called", why=ALREADY_NINE),
    # -- suppressed: on the list now, or held back by an earlier run when no list is given
    Case("a listed row is suppressed", row="listed", then="suppressed", why=DNC_REASON),
    Case("a listed row that failed before is suppressed", row="listed", journal="failed", then="suppressed",
         why=DNC_REASON),
    Case("a listed row is suppressed rather than already-called", row="listed", live="another campaign",
         then="suppressed", why=DNC_REASON),
    Case("allow_repeat never calls a listed row", row="listed", options="allow_repeat", then="suppressed",
         why=DNC_REASON),
    Case("without a list, the journal's suppressed stands", journal="suppressed", then="suppressed",
         why=DNC_REASON + EARLIER_RUN),
    Case("without a list, a suppressed record without a reason stands", journal="suppressed without a reason",
         then="suppressed", why="on the do-not-call list" + EARLIER_RUN),
    Case("a list that no longer lists a held-back row releases it", journal="suppressed", options="list given",
         released=True),
    Case("a released row is still never called twice", journal="suppressed", live="another campaign",
         options="list given", then="already-called", why=ALREADY_AUTUMN, released=True),
    Case("a released row still waits for an earlier row of the list", journal="suppressed",
         live="an earlier row of this list", options="list given", then="held", why=HELD, released=True),
    # -- already-called: a call to the number may exist elsewhere
    Case("a number another row of this campaign called is not called again", live="another row of this campaign",
         then="already-called", why=ALREADY_NINE),
    Case("a number another campaign called is not called again", live="another campaign", then="already-called",
         why=ALREADY_AUTUMN),
    Case("allow_repeat calls a number another campaign called", live="another campaign", options="allow_repeat"),
    Case("a second wave calls after the first wave's call ended", row="wave 2", live="an earlier wave that ended"),
    Case("a second wave calls when its plan carries the first call's end", row="wave 2, its first call ended by "
         "its callbacks", live="an earlier wave, no end recorded"),
    Case("a second wave waits while the first wave's call may still be live", row="wave 2",
         live="an earlier wave, no end recorded", then="already-called",
         why=f"{NUMBER} already called as spring-2 (queued, call call-1); not called again"),
    # -- held: an earlier row of this list calls the same number in this run
    Case("a repeat in the list waits for the first row", live="an earlier row of this list", then="held", why=HELD),
    Case("allow_repeat calls a repeat in the list too", live="an earlier row of this list", options="allow_repeat"),
    # -- send: nothing stops it
    Case("a new row is sent"),
    Case("a pending row is sent", journal="pending"),
    Case("a failed row is sent again", journal="failed"),
    Case("a rejected row is sent again", journal="rejected"),
    Case("a deferred row is sent once its hours come", journal="deferred"),
]


def plan_for(case: Case) -> CampaignPlan:
    first = row_plan(0, "spring-1", NUMBER if case.live == "an earlier row of this list" else OTHER_NUMBER)
    extra = ROWS[case.row]
    iid = "spring-2-w2" if extra.get("wave") == 2 else "spring-2"
    options = {"suppress": "dnc.csv (1 numbers)"} if "list given" in case.options or case.row == "listed" else {}
    return CampaignPlan(name="spring", app="notification", index=pd.RangeIndex(2), rows=[first, row_plan(1, iid, **extra)],
                        options=options, campaign_key="k0000000")


def decision_for(case: Case):
    plan = plan_for(case)
    record = journal_record(case.journal)
    statuses = {} if record is None else {"spring-2": record}
    flags = {name: name in case.options for name in ("allow_repeat", "resend_changed", "resend_unknown")}
    return decide(plan, statuses=statuses, live={NUMBER: LIVE[case.live]}, **flags)[1]


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_the_never_twice_rule(case):
    decision = decision_for(case)
    assert (decision.action, None if decision.reason is None else say(decision.reason), decision.released) == \
        (case.then, case.why, case.released)


def test_the_table_reaches_every_action_and_every_rule():
    reached = {decision_for(c).action for c in CASES}
    assert reached == set(ACTIONS)
    assert [name for name, _rule in RULES] == ["invalid", "skipped", "unknown", "done / changed", "suppressed",
                                               "already-called", "held"]


def test_a_decision_carries_the_journal_record_and_the_earlier_call():
    called = decision_for(Case("", live="another campaign"))
    assert called.call == LIVE["another campaign"][0] and called.record is None
    done = decision_for(Case("", journal="queued"))
    assert done.record == journal_record("queued") and done.status == "queued"
    held = decision_for(Case("", live="an earlier row of this list"))
    assert (held.first, held.status) == (0, "pending")


def test_options_are_said_in_each_front_ends_words():
    reason = decision_for(Case("", journal="queued with other content")).reason
    assert say(reason, "cli").endswith("(--resend-changed sends it)")


def test_an_invalid_earlier_row_does_not_hold_a_later_one():
    plan = plan_for(Case("", live="an earlier row of this list"))
    invalid = RowPlan(0, 0, "spring-1", NUMBER, problems=[Problem("prompt", "", "missing")])
    plan = plan.replace(rows=[invalid, *plan.rows[1:]])
    assert [d.action for d in decide(plan)] == ["invalid", "send"]


def test_three_rows_calling_one_number_are_held_behind_the_first():
    rows = [row_plan(i, f"spring-{i + 1}") for i in range(3)]
    plan = CampaignPlan(name="spring", app="notification", index=pd.Index(["a", "b", "c"]), rows=rows)
    decisions = decide(plan)
    assert [d.action for d in decisions] == ["send", "held", "held"]
    assert {d.first for d in decisions[1:]} == {0}


def test_a_row_calling_two_numbers_is_held_when_either_was_claimed():
    body = {"instruction-id": "spring-2", "callees": [OTHER_NUMBER, NUMBER], "caller": "+31201234567",
            "prompt": "Hi", "prompt-type": "TTS"}
    two = RowPlan(1, 1, "spring-2", f"{OTHER_NUMBER};{NUMBER}", instruction=instruction_from_json("notification", body),
                  payload=encode_body(body), payload_hash=instruction_hash(body))
    plan = CampaignPlan(name="spring", app="notification", index=pd.RangeIndex(2),
                        rows=[row_plan(0, "spring-1", NUMBER), two])
    assert [d.action for d in decide(plan)] == ["send", "held"]
    live = {OTHER_NUMBER: LIVE["another campaign"]}
    assert say(decide(plan, live=live)[1].reason).startswith(f"{OTHER_NUMBER}, {NUMBER} already called as autumn-1")


# ----------------------------------------------------------------------------- settling a held row
SETTLED = [
    # what happened to the first row  → the held row                       its reason
    ("queued", "already-called", "same callee as row 0 (spring-1), called in this run; not called twice "
                                 "(allow_repeat=True calls both)"),
    ("unknown", "already-called", "same callee as row 0 (spring-1), called in this run; not called twice "
                                  "(allow_repeat=True calls both)"),
    ("dry-run", "already-called", "same callee as row 0 (spring-1), would be called in this run; not called "
                                  "twice (allow_repeat=True calls both)"),
    ("failed", "pending", "not sent: same callee as row 0 (spring-1), which ended failed; run again to send that one"),
    ("rejected", "pending", "not sent: same callee as row 0 (spring-1), which ended rejected; run again to send that "
                            "one"),
    ("deferred", "pending", "not sent: same callee as row 0 (spring-1), which ended deferred; run again to send that "
                            "one"),
    ("pending", "pending", "not sent: same callee as row 0 (spring-1), which ended pending; run again to send that "
                           "one"),
    (None, "pending", "not sent: same callee as row 0 (spring-1), which ended unsent; run again to send that one"),
]


@pytest.mark.parametrize("first, status, reason", SETTLED)
def test_a_held_row_is_settled_by_what_happened_to_the_first(first, status, reason):
    case = Case("", live="an earlier row of this list")
    plan = plan_for(case)
    settled = settle_held(plan, decision_for(case), first)
    assert (settled[0], say(settled[1])) == (status, reason)


# ----------------------------------------------------------------------------- which numbers to ask about
NUMBERS_ASKED = [
    # the row's journal state, options → is its number looked up among the live calls?
    ("nothing", "", True),
    ("pending", "", True),
    ("failed", "", True),
    ("suppressed", "", True),
    ("queued", "", False),
    ("unknown", "", False),
    ("sending", "", False),
    ("unknown", "resend_unknown", True),
    ("queued", "resend_changed", True),
]


@pytest.mark.parametrize("journal, options, asked", NUMBERS_ASKED)
def test_the_live_calls_asked_for_are_those_of_rows_that_may_still_be_sent(journal, options, asked):
    rows = [row_plan(0, "spring-2")]
    record = journal_record(journal)
    numbers = numbers_to_check(rows, {} if record is None else {"spring-2": record},
                               resend_unknown="resend_unknown" in options, resend_changed="resend_changed" in options)
    assert (NUMBER in numbers) is asked


def test_invalid_and_dropped_rows_are_never_looked_up():
    rows = [RowPlan(0, 0, "a", NUMBER, problems=[Problem("prompt", "", "missing")]),
            row_plan(1, "b", OTHER_NUMBER, duplicate_of=0, dropped=True)]
    assert numbers_to_check(rows, {}) == set()


def test_the_rule_imports_nothing_that_sends_waits_or_writes():
    tree = ast.parse(Path(decide_module.__file__).read_text(encoding="utf-8"))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert imported == {"__future__", "typing", "messages", "wire", "journal"}
