"""The contact ledger across campaigns: every placed call per person, and a cap per period.

Campaigns with journals of their own share one ledger file; ``max_contacts="1/7d"`` refuses a call
that would be a person's second in seven days, naming the earlier campaign and time. Tested in one
process, through the command line, with two campaign processes sending to the same people at
once, and with a campaign killed (``kill -9``) mid-send and resumed: the ledger and the journal
agree, and nobody is called twice.
"""
import datetime as dt
import sqlite3
import subprocess

import pandas as pd
import pytest

from cmvoice_nb.campaign import RetryPolicy, forecast, plan_campaign, plan_followup, send_campaign
from cmvoice_nb.campaign.contacts import ContactLedger, parse_max_contacts
from cmvoice_nb.campaign.ops.schedule import ManualClock
from cmvoice_nb.errors import CampaignError

from .._wait import cmvoice, kill_when, running
from ._lists import answering, notification_defaults, notification_flags, people

UTC = dt.timezone.utc
DEFAULTS = notification_defaults()
FAST = dict(rate=1000.0, burst=50, progress=False, retry=RetryPolicy(max_attempts=2, backoff_s=0.001))
MONDAY = dt.datetime(2026, 3, 30, 8, 0, tzinfo=UTC)


def ledger_rows(path):
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT number, campaign, instruction_id, state FROM contacts ORDER BY number").fetchall()
    finally:
        con.close()


def journal_states(path):
    con = sqlite3.connect(path)
    try:
        return dict(con.execute("SELECT instruction_id, state FROM rows").fetchall())
    finally:
        con.close()


def test_a_person_another_campaign_called_this_week_is_over_contacted_naming_it(sim, tmp_path):
    ledger = tmp_path / "contacts.sqlite"
    first = send_campaign(people(*answering(2)), sim.client(), journal=tmp_path / "spring.sqlite",
                          app="notification", name="spring", defaults=DEFAULTS, contacts=ledger,
                          now=ManualClock(MONDAY), **FAST)
    assert first["status"].tolist() == ["queued", "queued"]
    # Three days later, another campaign with its own journal: one of the same people and a new one.
    later = ManualClock(MONDAY + dt.timedelta(days=3))
    second = send_campaign(people(answering(2)[1], answering(3)[2]), sim.client(), journal=tmp_path / "summer.sqlite",
                           app="notification", name="summer", defaults=DEFAULTS, contacts=ledger,
                           max_contacts="1/7d", now=later, **FAST)
    assert second["status"].tolist() == ["over-contacted", "queued"]
    assert second.loc[0, "error"] == (f"{answering(2)[1]} was called 1 time(s) in the last 7d; the latest by campaign "
                                      "'spring' at 2026-03-30 08:00 UTC; max_contacts= allows 1: not called")
    assert len(sim.calls) == 3
    assert [(n, c, s) for n, c, _i, s in ledger_rows(ledger)] == [
        (answering(2)[0], "spring", "placed"), (answering(2)[1], "spring", "placed"),
        (answering(3)[2], "summer", "placed")]


def test_after_the_period_the_person_is_called_again_and_the_forecast_agrees(sim, tmp_path):
    ledger = tmp_path / "contacts.sqlite"
    send_campaign(people(answering(1)[0]), sim.client(), journal=tmp_path / "a.sqlite", app="notification",
                  name="a", defaults=DEFAULTS, contacts=ledger, now=ManualClock(MONDAY), **FAST)
    plan = plan_campaign(people(answering(1)[0]), app="notification", name="b", defaults=DEFAULTS)
    within = forecast(plan, tmp_path / "b.sqlite", contacts=ledger, max_contacts="1/7d",
                      now=MONDAY + dt.timedelta(days=6))
    after = forecast(plan, tmp_path / "b.sqlite", contacts=ledger, max_contacts="1/7d",
                     now=MONDAY + dt.timedelta(days=8))
    assert (within.line(), after.line()) == ("1 rows: over-contacted 1", "1 rows: to send 1")
    res = send_campaign(plan, sim.client(), journal=tmp_path / "b.sqlite", contacts=ledger, max_contacts="1/7d",
                        now=ManualClock(MONDAY + dt.timedelta(days=8)), **FAST)
    assert res["status"].tolist() == ["queued"] and len(sim.calls) == 2


def test_a_follow_up_wave_counts_against_the_cap(sim, tmp_path):
    ledger, journal = tmp_path / "contacts.sqlite", tmp_path / "j.sqlite"
    number = "+31612345609"  # the simulator never answers it (Cancelled)
    send_campaign(people(number), sim.client(), journal=journal, app="notification", name="w", defaults=DEFAULTS,
                  contacts=ledger, max_contacts="2/7d", now=ManualClock(MONDAY), **FAST)

    def next_wave(at):
        calls = [{"call-id": c, "instruction-id": i, "result": {"code": int(r)}, "finished-on": "2026-03-30T08:01:00Z"}
                 for c, i, r in zip(sim.calls["call_id"], sim.calls["instruction_id"], sim.calls["result_code"],
                                    strict=True)]
        return plan_followup(journal, calls, campaign="w", min_gap="1h", max_attempts=5, now=at)

    second = send_campaign(next_wave("2026-03-30T10:00:00Z"), sim.client(), journal=journal, contacts=ledger,
                           max_contacts="2/7d", now=ManualClock(MONDAY + dt.timedelta(hours=2)), **FAST)
    assert second["status"].tolist() == ["queued"]
    third = send_campaign(next_wave("2026-03-30T12:00:00Z"), sim.client(), journal=journal, contacts=ledger,
                          max_contacts="2/7d", now=ManualClock(MONDAY + dt.timedelta(hours=4)), **FAST)
    assert third["status"].tolist() == ["over-contacted"]
    assert "the latest by campaign 'w' at 2026-03-30 10:00 UTC" in third.loc[0, "error"]
    assert len(sim.calls) == 2


def test_max_contacts_without_a_ledger_or_in_the_wrong_form_is_refused_before_any_call(sim, tmp_path):
    with pytest.raises(CampaignError, match=r"max_contacts= needs contacts="):
        send_campaign(people(answering(1)[0]), sim.client(), journal=tmp_path / "j.sqlite", app="notification",
                      name="x", defaults=DEFAULTS, max_contacts="1/7d", **FAST)
    for bad in ("once a week", "0/7d", "1/fortnight"):
        with pytest.raises(CampaignError, match=r"^max_contacts=: "):
            parse_max_contacts(bad)
    assert sim.calls.empty


def test_a_file_that_is_not_a_ledger_is_refused(tmp_path):
    bad = tmp_path / "contacts.sqlite"
    bad.write_bytes(b"Klantnummer;Telefoon\r\n1;0612345678\r\n" * 50)
    with pytest.raises(CampaignError, match="is not a contact ledger"):
        ContactLedger(bad)


def test_the_command_line_reads_contacts_and_max_contacts_and_exits_0_listing_the_refused(sim, tmp_path, token):
    ledger = tmp_path / "contacts.sqlite"
    csv = tmp_path / "list.csv"
    csv.write_bytes(f"callee;name\r\n{answering(1)[0]};Ann\r\n".encode("utf-8-sig"))

    def send(name):
        return subprocess.run(cmvoice("send", csv, *notification_flags(), "--journal", tmp_path / f"{name}.sqlite",
                                      "--name", name, "-o", tmp_path / f"{name}.csv", "--base-url", sim.base_url,
                                      "--no-progress", "--contacts", ledger, "--max-contacts", "1/7d"),
                              capture_output=True, text=True, timeout=120)

    first, second = send("spring"), send("summer")
    assert (first.returncode, second.returncode) == (0, 0), second.stderr
    assert "plan: 1 rows: over-contacted 1" in second.stderr
    assert "over-contacted: 1 row - the contact ledger (--contacts) already holds" in second.stderr
    assert "the latest by campaign 'spring'" in second.stderr
    assert len(sim.calls) == 1
    status = subprocess.run(cmvoice("status", "--journal", tmp_path / "summer.sqlite"), capture_output=True,
                            text=True, timeout=120)
    assert status.returncode == 0 and "over-contacted: 1 row(s) refused by the contact cap" in status.stdout


@pytest.mark.slow
@pytest.mark.simulator(faults={"latency_s": 0.05})
def test_two_campaigns_sending_to_the_same_people_at_once_call_each_person_once(sim, tmp_path, token):
    numbers = answering(30)
    ledger = tmp_path / "contacts.sqlite"
    csv = tmp_path / "list.csv"
    people(*numbers).to_csv(csv, index=False)

    def command(name):
        return cmvoice("send", csv, *notification_flags(), "--journal", tmp_path / f"{name}.sqlite", "--name", name,
                       "-o", tmp_path / f"{name}.csv", "--base-url", sim.base_url, "--no-progress", "--rate", "100",
                       "--concurrency", "4", "--contacts", ledger, "--max-contacts", "1/7d")

    with running(command("a"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as a, \
            running(command("b"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as b:
        assert a.wait(120) == 0 and b.wait(120) == 0
    sim.wait_idle(timeout=10)
    assert sim.calls["callee"].value_counts().max() == 1 and len(sim.calls) == len(numbers)
    results = pd.concat([pd.read_csv(tmp_path / f"{n}.csv", dtype=str) for n in ("a", "b")])
    assert (results["status"] == "queued").sum() == len(numbers)
    assert (results["status"] == "over-contacted").sum() == len(numbers)
    rows = ledger_rows(ledger)
    assert len(rows) == len(numbers) and {s for *_x, s in rows} == {"placed"}
    # Each journal's queued rows are exactly its campaign's contacts in the ledger.
    for name in ("a", "b"):
        queued = {i for i, s in journal_states(tmp_path / f"{name}.sqlite").items() if s == "queued"}
        assert queued == {i for _n, c, i, _s in rows if c == name}


@pytest.mark.slow
@pytest.mark.simulator(faults={"latency_s": 0.2})
def test_a_campaign_killed_mid_send_leaves_ledger_and_journal_consistent_and_resumes_without_a_second_call(
        sim, tmp_path, token):
    numbers = answering(40)
    ledger, journal, out = tmp_path / "contacts.sqlite", tmp_path / "j.sqlite", tmp_path / "out.csv"
    csv = tmp_path / "list.csv"
    people(*numbers).to_csv(csv, index=False)
    command = cmvoice("send", csv, *notification_flags(), "--journal", journal, "--name", "k", "-o", out,
                      "--base-url", sim.base_url, "--no-progress", "--rate", "20", "--concurrency", "4",
                      "--contacts", ledger, "--max-contacts", "1/7d")
    with running(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as proc:
        kill_when(proc, lambda: len(sim.requests) >= 10, what="10 requests (the run well under way)")
    states = journal_states(journal)
    rows = ledger_rows(ledger)
    assert any(s == "sending" for s in states.values()), states  # it died mid-request
    # Every call the journal may have placed is in the ledger; a placed contact is a queued row.
    may_have_called = {i for i, s in states.items() if s in ("queued", "sending")}
    assert may_have_called <= {i for _n, _c, i, _s in rows}
    assert {i for _n, _c, i, s in rows if s == "placed"} <= {i for i, s in states.items() if s == "queued"}

    resumed = subprocess.run(command, capture_output=True, text=True, timeout=180)
    sim.wait_idle(timeout=10)
    assert sim.calls["callee"].value_counts().max() == 1  # never twice
    final = journal_states(journal)
    rows = ledger_rows(ledger)
    assert {s for *_x, s in rows} == {"placed"}  # the reservations the kill left are settled
    assert {i for _n, _c, i, _s in rows} == {i for i, s in final.items() if s in ("queued", "unknown")}
    assert set(final.values()) <= {"queued", "unknown"}
    assert resumed.returncode in (0, 1), resumed.stderr


def test_a_reservation_is_released_when_the_call_was_definitely_not_placed(tmp_path):
    ledger = ContactLedger(tmp_path / "c.sqlite")
    rule = (1, dt.timedelta(days=7))
    assert ledger.reserve(["+31612345610"], campaign="a", instruction_id="a-1", at=MONDAY, rule=rule) is None
    ledger.release("a", "a-1")
    assert ledger.reserve(["+31612345610"], campaign="b", instruction_id="b-1", at=MONDAY, rule=rule) is None
    ledger.confirm("b", "b-1")
    ledger.release("b", "b-1")  # a placed call is never released
    blocked = ledger.reserve(["+31612345610"], campaign="c", instruction_id="c-1", at=MONDAY, rule=rule)
    assert (blocked.campaign, blocked.state) == ("b", "placed")
    ledger.close()


def test_a_ledger_that_cannot_be_opened_stops_the_command_line_before_any_call(sim, tmp_path, token):
    csv = tmp_path / "list.csv"
    csv.write_bytes(f"callee;name\r\n{answering(1)[0]};Ann\r\n".encode("utf-8-sig"))
    out = subprocess.run(cmvoice("send", csv, *notification_flags(), "--journal", tmp_path / "j.sqlite",
                                 "-o", tmp_path / "r.csv", "--base-url", sim.base_url, "--no-progress",
                                 "--contacts", tmp_path / "no such folder" / "contacts.sqlite"),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "--contacts: " in out.stderr and "cannot open it" in out.stderr
    assert sim.calls.empty
