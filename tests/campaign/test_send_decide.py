"""The never-twice rule, as a table: a row, what the journal holds, the live calls, the options → the decision.

Every case is one line of the rule, in the order the rules apply. The row under test is the second
row of a small plan (the first row calls another number, unless the case says an earlier row of the
list calls the same one); its instruction id is ``spring-2`` (``spring-2-w2`` in a second wave) and
it calls ``+31612345610``. With a budget, each row's call costs what the case says. Nothing here
opens a journal, starts a thread or speaks HTTP: :func:`decide` is pure. The counts every front-end
shows are :func:`tally` of these decisions (the last tests).
"""
from __future__ import annotations

import ast
import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from cmvoice_nb.campaign.contacts import Contact
from cmvoice_nb.campaign.journal import LiveCall, RowStatus
from cmvoice_nb.campaign.ops.suppress import check_allowed_country
from cmvoice_nb.campaign.plan import CampaignPlan, RowPlan
from cmvoice_nb.campaign.send import decide as decide_module
from cmvoice_nb.campaign.send.decide import ACTIONS, RULES, decide, numbers_to_check, settle_held, tally
from cmvoice_nb.instructions import Problem, instruction_from_json
from cmvoice_nb.messages import say
from cmvoice_nb.wire import encode_body, instruction_hash, legacy_instruction_hash

NUMBER = "+31612345610"
OTHER_NUMBER = "+31612345699"
SENT_AT = "2026-03-30T07:00:00.000Z"
DNC_REASON = f"{NUMBER} is on the do-not-call list"
REFUSED = check_allowed_country(NUMBER, "BE")  # 'country NL not allowed (allowed: BE)'


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
    "refused": {"problems": [Problem("callee", NUMBER, REFUSED)]},
    "refused and invalid": {"problems": [Problem("prompt", "", "is required"), Problem("callee", NUMBER, REFUSED)]},
    "dropped": {"duplicate_of": 0, "dropped": True},
    "listed": {"suppressed": DNC_REASON},
    "listed and invalid": {"suppressed": DNC_REASON, "problems": [Problem("prompt", "", "is required")]},
    "listed and refused": {"suppressed": DNC_REASON, "problems": [Problem("callee", NUMBER, REFUSED)]},
    "listed and dropped": {"suppressed": DNC_REASON, "duplicate_of": 0, "dropped": True},
    "held out": {"variant": "holdout"},
    "held out and invalid": {"variant": "holdout", "problems": [Problem("prompt", "", "is required")]},
    "listed and held out": {"suppressed": DNC_REASON, "variant": "holdout"},
    "variant B": {"variant": "B"},
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
        "holdout": RowStatus("holdout", None, 0, None, None, HOLDOUT_REASON, None),
        "expired": RowStatus("expired", None, 0, None, None, EXPIRED_EARLIER, None),
        "over-contacted": RowStatus("over-contacted", None, 0, None, None, "called by autumn", None),
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
    #: ``(max_cost, cost placed before this run, the first row's call, this row's call)``; None: no budget.
    budget: tuple | None = None
    #: The row's validity window (:data:`WINDOWS`) and the contact ledger's calls to its number (:data:`LEDGER`).
    window: str = "none"
    contacts: str = "no ledger"


NOW = dt.datetime(2026, 4, 27, 9, 0, tzinfo=dt.timezone.utc)
EXPIRED_EARLIER = "not placed by 2026-04-27 08:10 UTC, the end of its validity window; never sent later"
#: ``(the end stored in the journal for the row, valid_until for a row without one)``, by a short description.
WINDOWS = {
    "none": (None, None),
    "ended": (NOW - dt.timedelta(minutes=5), None),
    "holds": (NOW + dt.timedelta(minutes=5), None),
    "valid_until passed, none stored": (None, NOW - dt.timedelta(minutes=1)),
    "stored holds though valid_until passed": (NOW + dt.timedelta(minutes=5), NOW - dt.timedelta(minutes=1)),
}
EXPIRED = "not placed by 2026-04-27 08:55 UTC, the end of its validity window; never sent later"
#: The ledger's calls to the row's number, by a short description (the cap: 1 call in 7 days).
LEDGER = {
    "no ledger": None,
    "empty": [],
    "called 2 days ago by autumn": [Contact(NUMBER, "autumn", "autumn-1", NOW - dt.timedelta(days=2), "placed")],
    "called 8 days ago by autumn": [Contact(NUMBER, "autumn", "autumn-1", NOW - dt.timedelta(days=8), "placed")],
    "this row's own reservation": [Contact(NUMBER, "spring", "spring-2", NOW - dt.timedelta(minutes=1), "reserved")],
}
OVER_CONTACTED = (f"{NUMBER} was called 1 time(s) in the last 7d; the latest by campaign 'autumn' at 2026-04-25 "
                  "09:00 UTC; max_contacts= allows 1: not called")

ALREADY_NINE = f"{NUMBER} already called as spring-9 (queued, call call-9); not called again"
ALREADY_AUTUMN = f"{NUMBER} already called as autumn-1 of campaign 'autumn' (unknown, call ?); not called again"
HELD = "not sent: same callee as row 0 (spring-1)"
CHANGED = "the row changed since it was sent (call call-1); not sent again (resend_changed=True sends it)"
EARLIER_RUN = " (by an earlier run; give the current suppress= list to check again)"
HOLDOUT_REASON = "held out of the A/B test: the control group, never called (holdout=)"

OVER = ("its call (at most 0.1000) would take the campaign's cost to {total}, past the budget of {budget} "
        "(max_cost=; {spent} placed before this run); not placed")

CASES = [
    # -- unknown: the call may exist; only resend_unknown sends it again
    Case("an unknown outcome is reported again, not resent", journal="unknown", then="unknown",
         why="ReadTimeout: no answer in 10 s"),
    Case("an unknown outcome without an error says so", journal="unknown without an error", then="unknown",
         why="outcome unknown"),
    Case("an unknown row that changed says that too", journal="unknown with other content", then="unknown",
         why="ReadTimeout: no answer in 10 s; the row also changed since"),
    Case("a request in flight when a run crashed counts as unknown", journal="sending", then="unknown",
         why="outcome unknown"),
    Case("an unknown row on the list now stays unknown: the call may exist", row="listed", journal="unknown",
         then="unknown", why="ReadTimeout: no answer in 10 s"),
    Case("an unknown row stays unknown even when the row is invalid now", row="invalid", journal="unknown",
         then="unknown", why="ReadTimeout: no answer in 10 s"),
    Case("resend_unknown sends an unknown row again", journal="unknown", options="resend_unknown"),
    Case("resend_unknown still never calls a number another campaign called", journal="unknown",
         live="another campaign", options="resend_unknown", then="already-called", why=ALREADY_AUTUMN),
    Case("resend_unknown never calls a listed row", row="listed", journal="unknown", options="resend_unknown",
         then="suppressed", why=DNC_REASON),
    # -- done: queued before with the same content
    Case("a row queued before is done", journal="queued", live="this row", then="done"),
    Case("a new callback-url is not a change", journal="queued, sent with another callback-url", then="done"),
    Case("a record hashed before schema 4 still matches its row", journal="queued, hashed before schema 4",
         then="done"),
    Case("resend_changed does not resend an unchanged row", journal="queued", options="resend_changed",
         then="done"),
    Case("a row called before keeps its outcome even when the list holds it now", row="listed", journal="queued",
         then="done"),
    # -- suppressed: a listed person is suppressed whatever else is wrong with the row
    Case("a listed row is suppressed", row="listed", then="suppressed", why=DNC_REASON),
    Case("a listed row is suppressed, not invalid", row="listed and invalid", then="suppressed", why=DNC_REASON),
    Case("a listed row is suppressed, not refused-country", row="listed and refused", then="suppressed",
         why=DNC_REASON),
    Case("a listed repeat is suppressed, not dropped", row="listed and dropped", then="suppressed", why=DNC_REASON),
    Case("a listed row that changed since it was sent is suppressed, not changed", row="listed",
         journal="queued with other content", then="suppressed", why=DNC_REASON),
    Case("a listed row that failed before is suppressed", row="listed", journal="failed", then="suppressed",
         why=DNC_REASON),
    Case("a listed row is suppressed rather than already-called", row="listed", live="another campaign",
         then="suppressed", why=DNC_REASON),
    Case("allow_repeat never calls a listed row", row="listed", options="allow_repeat", then="suppressed",
         why=DNC_REASON),
    Case("a listed row is suppressed, not budget", row="listed", budget=(0.05, 0.0, 0.1, 0.1), then="suppressed",
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
    Case("a released row past the budget waits for a higher one", journal="suppressed", options="list given",
         budget=(0.15, 0.0, 0.1, 0.1), then="budget", why=OVER.format(total="0.20", budget="0.15", spent="0.00"),
         released=True),
    # -- holdout: the A/B test's control group is never called
    Case("a held-out row is never called", row="held out", then="holdout", why=HOLDOUT_REASON),
    Case("a held-out row is holdout, not invalid", row="held out and invalid", then="holdout", why=HOLDOUT_REASON),
    Case("a listed held-out row is suppressed: the list comes first", row="listed and held out", then="suppressed",
         why=DNC_REASON),
    Case("allow_repeat never calls a held-out row", row="held out", options="allow_repeat", then="holdout",
         why=HOLDOUT_REASON),
    Case("a plan without a test keeps the journal's holdout", journal="holdout", then="holdout",
         why=HOLDOUT_REASON + " (by an earlier run)"),
    Case("a held-out row called before keeps its outcome", row="held out", journal="queued", then="done"),
    Case("a row of a variant is sent", row="variant B"),
    # -- refused-country: a number outside allowed_countries is its own count, not invalid
    Case("a number outside the allowed countries is refused", row="refused", then="refused-country",
         why=f"{NUMBER}: {REFUSED}"),
    Case("a refused country is refused even when another field is invalid too", row="refused and invalid",
         then="refused-country", why=f"{NUMBER}: {REFUSED}"),
    Case("a refused country is refused whatever the journal holds", row="refused", journal="failed",
         then="refused-country", why=f"{NUMBER}: {REFUSED}"),
    # -- invalid: fix the row
    Case("an invalid row is never sent", row="invalid", then="invalid", why="callee: '12' is not a phone number"),
    Case("an invalid row is invalid whatever the journal holds", row="invalid", journal="queued", then="invalid",
         why="callee: '12' is not a phone number"),
    # -- dropped: a repeat left out on purpose by drop_duplicates
    Case("a dropped repeat is dropped", row="dropped", then="dropped",
         why="duplicate callee: same as row 0 (drop_duplicates=True)"),
    Case("a dropped repeat is dropped even when its number was called elsewhere", row="dropped",
         live="another campaign", then="dropped", why="duplicate callee: same as row 0 (drop_duplicates=True)"),
    # -- changed: queued before with other content; only resend_changed sends it again
    Case("a row queued with other content is withheld", journal="queued with other content", then="changed",
         why=CHANGED),
    Case("resend_changed sends a changed row: its own call does not block it", journal="queued with other content",
         live="this row", options="resend_changed"),
    Case("resend_changed never calls a number another row of the campaign called",
         journal="queued with other content", live="another row of this campaign", options="resend_changed",
         then="already-called", why=ALREADY_NINE),
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
    # -- held: an earlier row of this list calls the same number in this run (it ends already-called)
    Case("a repeat in the list waits for the first row", live="an earlier row of this list", then="held", why=HELD),
    Case("allow_repeat calls a repeat in the list too", live="an earlier row of this list", options="allow_repeat"),
    Case("a repeat in the list costs nothing: it is held, not budget", live="an earlier row of this list",
         budget=(0.1, 0.0, 0.1, 0.1), then="held", why=HELD),
    # -- budget: a call that would take the cost past max_cost is not placed
    Case("a call within the budget is sent", budget=(1.0, 0.0, 0.1, 0.1)),
    Case("a budget of exactly the total places the call", budget=(0.2, 0.0, 0.1, 0.1)),
    Case("a call past the budget waits", budget=(0.15, 0.0, 0.1, 0.1), then="budget",
         why=OVER.format(total="0.20", budget="0.15", spent="0.00")),
    Case("what earlier runs placed counts against the budget", budget=(1.0, 0.92, 0.0, 0.1), then="budget",
         why=OVER.format(total="1.02", budget="1.00", spent="0.92")),
    Case("a later cheaper call still fits after a dear one did not", budget=(0.1, 0.0, 0.5, 0.1)),
    # -- expired: its validity window ended before it was placed; never sent later
    Case("a row whose window ended is expired", window="ended", then="expired", why=EXPIRED),
    Case("a row inside its window is sent", window="holds"),
    Case("a valid_until already past expires a row new to the journal", window="valid_until passed, none stored",
         then="expired", why="not placed by 2026-04-27 08:59 UTC, the end of its validity window; never sent later"),
    Case("the window stored with the row wins over today's valid_until",
         window="stored holds though valid_until passed"),
    Case("a row expired by an earlier run stays expired", journal="expired", then="expired", why=EXPIRED_EARLIER),
    Case("a row expired by an earlier run stays expired even without a window now", journal="expired",
         window="none", then="expired", why=EXPIRED_EARLIER),
    Case("a listed row is suppressed, not expired", row="listed", window="ended", then="suppressed", why=DNC_REASON),
    Case("an expired row costs nothing: expired, not budget", window="ended", budget=(0.15, 0.0, 0.1, 0.1),
         then="expired", why=EXPIRED),
    Case("a number called elsewhere is already-called before its window is judged", window="ended",
         live="another campaign", then="already-called", why=ALREADY_AUTUMN),
    # -- over-contacted: the ledger holds as many calls to the person in the period as max_contacts allows
    Case("a person another campaign called in the period is over-contacted",
         contacts="called 2 days ago by autumn", then="over-contacted", why=OVER_CONTACTED),
    Case("a call older than the period does not count", contacts="called 8 days ago by autumn"),
    Case("a person nobody called is sent", contacts="empty"),
    Case("the row's own reservation does not count against it", contacts="this row's own reservation"),
    Case("over-contacted comes before the budget", contacts="called 2 days ago by autumn",
         budget=(0.15, 0.0, 0.1, 0.1), then="over-contacted", why=OVER_CONTACTED),
    Case("a row over-contacted by an earlier run is sent once the period passed", journal="over-contacted",
         contacts="called 8 days ago by autumn"),
    Case("a row over-contacted by an earlier run is judged again", journal="over-contacted",
         contacts="called 2 days ago by autumn", then="over-contacted", why=OVER_CONTACTED),
    Case("an expired row is expired, not over-contacted", window="ended", contacts="called 2 days ago by autumn",
         then="expired", why=EXPIRED),
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
    options = {"suppress": "dnc.csv (1 numbers)"} if "list given" in case.options or case.row.startswith("listed") \
        else {}
    return CampaignPlan(name="spring", app="notification", index=pd.RangeIndex(2),
                        rows=[first, row_plan(1, iid, **extra)],
                        options=options, campaign_key="k0000000")


def decision_for(case: Case):
    plan = plan_for(case)
    record = journal_record(case.journal)
    statuses = {} if record is None else {"spring-2": record}
    flags = {name: name in case.options for name in ("allow_repeat", "resend_changed", "resend_unknown")}
    if case.budget is not None:
        max_cost, spent, *costs = case.budget
        flags.update(max_cost=max_cost, spent=spent, costs=costs)
    stored, until = WINDOWS[case.window]
    if stored is not None or until is not None:
        flags.update(now=NOW, deadlines={} if stored is None else {"spring-2": stored}, valid_until=until)
    if LEDGER[case.contacts] is not None:
        flags.update(now=NOW, contacted={NUMBER: LEDGER[case.contacts]}, max_contacts=(1, dt.timedelta(days=7)))
    return decide(plan, statuses=statuses, live={NUMBER: LIVE[case.live]}, **flags)[1]


@pytest.mark.parametrize("case", CASES, ids=[c.rule for c in CASES])
def test_the_never_twice_rule(case):
    decision = decision_for(case)
    assert (decision.action, None if decision.reason is None else say(decision.reason), decision.released) == \
        (case.then, case.why, case.released)


def test_the_table_reaches_every_action_and_every_rule():
    reached = {decision_for(c).action for c in CASES}
    assert reached == set(ACTIONS)
    assert [name for name, _rule in RULES] == ["unknown", "done", "suppressed", "holdout", "refused-country", "invalid",
                                               "dropped", "changed", "already-called", "held", "expired",
                                               "over-contacted", "budget"]


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
    # plan: the types of the rows it decides (under TYPE_CHECKING), never the planner at run time;
    # collections.abc: the abstract types pyupgrade moves there from typing
    assert imported - {"collections.abc"} == {"__future__", "collections", "typing", "messages", "wire", "journal",
                                              "ops.suppress", "ops.validity", "vocabulary", "plan"}


# ----------------------------------------------------------------------------- the counts
def test_the_counts_are_the_decisions_a_repeat_counted_as_the_already_called_it_ends_as():
    rows = [row_plan(0, "spring-1"), row_plan(1, "spring-2"),                      # the same person twice
            row_plan(2, "spring-3", OTHER_NUMBER, suppressed=DNC_REASON),           # listed
            row_plan(3, "spring-4", "+31612345611", problems=[Problem("callee", "+31612345611", REFUSED)]),
            row_plan(4, "spring-5", "+31612345612", problems=[Problem("prompt", "", "is required")]),
            row_plan(5, "spring-6", "+31612345613", duplicate_of=0, dropped=True),
            row_plan(6, "spring-7", "+31612345614")]
    plan = CampaignPlan(name="spring", app="notification", index=pd.RangeIndex(7), rows=rows)
    done = {"spring-7": RowStatus("queued", instruction_hash(wire("spring-7", "+31612345614")), 1, 200, "c7", None,
                                  SENT_AT)}
    assert tally(decide(plan, statuses=done)) == {"to send": 1, "already done": 1, "invalid": 1,
                                                  "refused-country": 1, "dropped": 1, "already-called": 1,
                                                  "suppressed": 1}


def test_the_counts_of_a_budget_say_how_many_wait_for_it():
    rows = [row_plan(i, f"spring-{i}", f"+3161234561{i}") for i in range(4)]
    plan = CampaignPlan(name="spring", app="notification", index=pd.RangeIndex(4), rows=rows)
    assert tally(decide(plan, max_cost=0.25, spent=0.05, costs=[0.1] * 4)) == {"to send": 2, "budget": 2}
