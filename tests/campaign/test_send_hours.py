"""Calling hours in a real send: the simulator, a real journal, and a manual clock nobody waits for.

Each test drives the sender with a :class:`ManualClock` (its sleeps move it forward at once) and
records the clock's time at every request, so "sent after the window opened, never before" is
checked against local wall-clock times computed here with zoneinfo, independently of the code.
"""
import datetime as dt
import sqlite3
import subprocess
import threading
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from cmvoice_nb.campaign import CampaignSender, Journal, RetryPolicy, SendOptions, plan_campaign, send_campaign
from cmvoice_nb.campaign.ops.schedule import ManualClock
from cmvoice_nb.errors import CampaignError

from .._wait import cmvoice, kill_when, running, scaled
from ._lists import notification_defaults, notification_flags, people

UTC = dt.timezone.utc
DEFAULTS = notification_defaults()
FAST = dict(rate=1000.0, burst=50, progress=False, retry=RetryPolicy(max_attempts=2, backoff_s=0.001))
# Numbers ending in 10 are always answered by the simulator.
NL, GB, US = "+31612345610", "+447400123410", "+12125550110"
ZONE = {NL: "Europe/Amsterdam", GB: "Europe/London", US: "America/New_York"}


class Recording:
    """Forwards payloads to a real client and notes the manual clock's time of every request."""

    def __init__(self, client, clock, *, step_s=0.0):
        self.client, self.clock, self.step_s = client, clock, step_s
        self.sent = []
        self.lock = threading.Lock()

    def send_payload(self, app, payload, *, instruction_id=None):
        with self.lock:
            self.sent.append((instruction_id, self.clock.now()))
            if self.step_s:
                self.clock.advance(self.step_s)  # each call "takes" step_s of the campaign's time
        return self.client.send_payload(app, payload, instruction_id=instruction_id)

    def callee_times(self, results):
        by_id = dict(zip(results["instruction_id"], results["callee"], strict=True))
        return {by_id[iid]: at for iid, at in self.sent}


def local(at, number):
    return at.astimezone(ZoneInfo(ZONE[number]))


def test_on_a_saturday_each_callee_is_called_when_monday_09_00_comes_in_their_own_zone(sim, tmp_path):
    # Saturday 2026-03-28 12:00 UTC; Europe moves to summer time that night, New York already did (Mar 8).
    clock = ManualClock(dt.datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    client = Recording(sim.client(), clock)
    res = send_campaign(people(NL, GB, US), client, journal=tmp_path / "j.sqlite", app="notification", name="h",
                        defaults=DEFAULTS, calling_hours="09:00-20:00", days="mon-fri", now=clock, **FAST)
    assert res["status"].tolist() == ["queued"] * 3
    at = client.callee_times(res)
    # 09:00 CEST = 07:00 UTC, 09:00 BST = 08:00 UTC, 09:00 EDT = 13:00 UTC: each at its opening, not before.
    assert at == {NL: dt.datetime(2026, 3, 30, 7, 0, tzinfo=UTC), GB: dt.datetime(2026, 3, 30, 8, 0, tzinfo=UTC),
                  US: dt.datetime(2026, 3, 30, 13, 0, tzinfo=UTC)}
    for number, when in at.items():
        assert local(when, number).weekday() == 0 and dt.time(9) <= local(when, number).time() < dt.time(20)
    assert sim.calls["instruction_id"].value_counts().max() == 1 and len(sim.calls) == 3
    assert clock.sleeps and max(clock.sleeps) <= 60  # waited in short steps, re-reading the clock


def test_the_journal_records_why_each_row_waited_and_until_when(sim, tmp_path):
    clock = ManualClock(dt.datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    res = send_campaign(people(NL, US), Recording(sim.client(), clock), journal=tmp_path / "j.sqlite",
                        app="notification", name="h", defaults=DEFAULTS, calling_hours="09:00-20:00", now=clock, **FAST)
    with Journal(tmp_path / "j.sqlite") as j:
        waits = j.waits("h")
        states = j.counts("h")
    assert states == {"queued": 2}
    by_id = dict(zip(waits["instruction_id"], waits["until"], strict=True))
    ids = dict(zip(res["callee"], res["instruction_id"], strict=True))
    assert by_id[ids[NL]] == "2026-03-30T07:00:00.000Z" and by_id[ids[US]] == "2026-03-30T13:00:00.000Z"
    assert waits["at"].unique().tolist() == ["2026-03-28T12:00:00.000Z"]
    assert all(r.startswith("outside calling hours 09:00-20:00 mon-fri: it is Sat") for r in waits["reason"])


@pytest.mark.parametrize("start, number, opens", [
    # New York springs forward on Sunday 2026-03-08 at 02:00: 09:00 that day is EDT (13:00 UTC), not 14:00.
    (dt.datetime(2026, 3, 8, 6, 0, tzinfo=UTC), US, dt.datetime(2026, 3, 8, 13, 0, tzinfo=UTC)),
    # Amsterdam falls back on Sunday 2026-10-25 at 03:00: 09:00 that day is CET (08:00 UTC), not 07:00.
    (dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC), NL, dt.datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),
    # London springs forward on Sunday 2026-03-29 at 01:00: 09:00 that day is BST (08:00 UTC).
    (dt.datetime(2026, 3, 29, 0, 30, tzinfo=UTC), GB, dt.datetime(2026, 3, 29, 8, 0, tzinfo=UTC)),
])
def test_on_a_daylight_saving_change_day_the_window_follows_the_local_clock(sim, tmp_path, start, number, opens):
    clock = ManualClock(start)
    client = Recording(sim.client(), clock)
    res = send_campaign(people(number), client, journal=tmp_path / "j.sqlite", app="notification", name="dst",
                        defaults=DEFAULTS, calling_hours="09:00-20:00", days="all", now=clock, **FAST)
    assert res["status"].tolist() == ["queued"]
    assert client.callee_times(res) == {number: opens}
    assert local(opens, number).hour == 9


def test_a_window_that_closes_during_a_slow_run_holds_the_rest_until_it_opens_again(sim, tmp_path):
    # Monday 2026-06-01 09:30 in Amsterdam; the window is 09:00-11:00 and every call takes an hour
    # of campaign time: two go today, the third waits for Tuesday 09:00 - never at 11:30.
    clock = ManualClock(dt.datetime(2026, 6, 1, 7, 30, tzinfo=UTC))
    client = Recording(sim.client(), clock, step_s=3600)
    numbers = ["+31612345610", "+31612345710", "+31612345810"]
    res = send_campaign(people(*numbers), client, journal=tmp_path / "j.sqlite", app="notification", name="slow",
                        defaults=DEFAULTS, calling_hours="09:00-11:00", days="all", now=clock,
                        **{**FAST, "concurrency": 1})
    assert res["status"].tolist() == ["queued"] * 3
    times = sorted(at for _iid, at in client.sent)
    assert [t.astimezone(ZoneInfo("Europe/Amsterdam")).strftime("%a %H:%M") for t in times] == \
        ["Mon 09:30", "Mon 10:30", "Tue 09:00"]


def test_with_wait_false_rows_outside_are_deferred_and_a_later_run_sends_them_once(sim, tmp_path):
    journal = tmp_path / "j.sqlite"
    saturday = ManualClock(dt.datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    client = Recording(sim.client(), saturday)
    kwargs = dict(journal=journal, app="notification", name="later", defaults=DEFAULTS, calling_hours="09:00-20:00",
                  **FAST)
    sender = CampaignSender(plan_campaign(people(NL, US), app="notification", name="later", defaults=DEFAULTS),
                            client, journal=journal,
                            options=SendOptions(calling_hours="09:00-20:00", wait=False, now=saturday, **FAST))
    first = sender.run()
    assert first["status"].tolist() == ["deferred", "deferred"] and client.sent == [] and len(sim.calls) == 0
    assert first.loc[0, "error"].startswith("outside calling hours 09:00-20:00 mon-fri: it is Sat 13:00 in "
                                            "Europe/Amsterdam; opens Mon 2026-03-30 09:00 local")
    assert sender.needs_attention and "deferred: 2 rows - outside their calling hours" in sender.summary()
    assert saturday.sleeps == []  # nobody waited
    with Journal(journal) as j:
        assert j.counts("later") == {"deferred": 2}

    # Monday 08:00 UTC: Amsterdam is open, New York is not; again without waiting.
    monday = ManualClock(dt.datetime(2026, 3, 30, 8, 0, tzinfo=UTC))
    second = send_campaign(people(NL, US), Recording(sim.client(), monday), wait=False, now=monday, **kwargs)
    assert second["status"].tolist() == ["queued", "deferred"]
    # Monday 14:00 UTC with waiting: New York goes; Amsterdam is done and is not called again.
    third = send_campaign(people(NL, US), Recording(sim.client(), monday), now=lambda: monday.now()
                          + dt.timedelta(hours=6), **kwargs)
    assert third["status"].tolist() == ["queued", "queued"]
    assert sim.calls["callee"].value_counts().to_dict() == {NL: 1, US: 1}


def test_a_number_without_a_known_zone_ends_no_zone_at_once_and_tz_sends_it(sim, tmp_path):
    unplaced = "+80012345610"  # international freephone: a valid number with no time zone
    clock = ManualClock(dt.datetime(2026, 6, 1, 10, 0, tzinfo=UTC))
    kwargs = dict(journal=tmp_path / "j.sqlite", app="notification", name="tz", defaults=DEFAULTS,
                  calling_hours="09:00-20:00", now=clock, **FAST)
    res = send_campaign(people(unplaced), sim.client(), **kwargs)
    assert res["status"].tolist() == ["no-zone"] and clock.sleeps == []
    assert res.loc[0, "error"] == f"time zone unknown for {unplaced}: give the zone with tz="
    with Journal(tmp_path / "j.sqlite") as j:  # the journal holds it deferred, without an opening
        assert j.counts("tz") == {"deferred": 1} and j.waits("tz")["until"].isna().all()
    res = send_campaign(people(unplaced), sim.client(), tz="Europe/London", **kwargs)
    assert res["status"].tolist() == ["queued"]


def test_tz_per_row_overrides_the_number_zone(sim, tmp_path):
    # A Dutch mobile used in New York: at 10:00 UTC it is 06:00 there, so it waits until 13:00 UTC.
    clock = ManualClock(dt.datetime(2026, 6, 1, 10, 0, tzinfo=UTC))
    client = Recording(sim.client(), clock)
    res = send_campaign(people(NL, "+31612345710"), client, journal=tmp_path / "j.sqlite", app="notification",
                        name="tz", defaults=DEFAULTS, calling_hours="09:00-20:00", now=clock,
                        tz=pd.Series([pd.NA, "America/New_York"], dtype="string"), **FAST)
    at = client.callee_times(res)
    assert at == {NL: dt.datetime(2026, 6, 1, 10, 0, tzinfo=UTC),
                  "+31612345710": dt.datetime(2026, 6, 1, 13, 0, tzinfo=UTC)}


def test_stopping_while_rows_wait_defers_them_and_sends_nothing(sim, tmp_path):
    clock = ManualClock(dt.datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    holder = {}

    def sleep(seconds):
        holder["sender"].stop()  # the operator presses Stop while the campaign waits

    plan = plan_campaign(people(NL, US), app="notification", name="stop", defaults=DEFAULTS)
    sender = holder["sender"] = CampaignSender(plan, sim.client(), journal=tmp_path / "j.sqlite",
                                               options=SendOptions(calling_hours="09:00-20:00", now=clock,
                                                                   sleep=sleep, **FAST))
    res = sender.run()
    assert res["status"].tolist() == ["deferred", "deferred"] and len(sim.calls) == 0
    assert res.loc[0, "error"].startswith("the run stopped while it waited: outside calling hours")
    with Journal(tmp_path / "j.sqlite") as j:
        assert j.counts("stop") == {"deferred": 2}


def test_progress_says_how_many_wait_and_until_when(sim, tmp_path):
    clock = ManualClock(dt.datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    seen = []
    holder = {}

    def sleep(seconds):
        if not seen:
            seen.append((holder["sender"].progress["waiting"], holder["sender"].wait_text))
        clock.sleep(seconds)

    plan = plan_campaign(people(NL, US), app="notification", name="p", defaults=DEFAULTS)
    sender = holder["sender"] = CampaignSender(plan, sim.client(), journal=tmp_path / "j.sqlite",
                                               options=SendOptions(calling_hours="09:00-20:00", now=clock,
                                                                   sleep=sleep, **FAST))
    sender.run()
    assert seen == [(2, "2 rows wait for their calling hours; the first opens 2026-03-30 07:00 UTC, "
                        "the last 2026-03-30 13:00 UTC")]
    assert sender.progress["waiting"] == 0 and sender.wait_text == ""


def test_a_dry_run_says_which_rows_would_wait_and_sends_nothing(sim, tmp_path):
    clock = ManualClock(dt.datetime(2026, 3, 28, 12, 0, tzinfo=UTC))
    plan = plan_campaign(people(NL), app="notification", name="d", defaults=DEFAULTS)
    sender = CampaignSender(plan, None, journal=None,
                            options=SendOptions(dry_run=True, calling_hours="09:00-20:00", now=clock, progress=False))
    res = sender.run()
    assert res["status"].tolist() == ["dry-run"]
    assert res.loc[0, "error"].startswith("would wait: outside calling hours")
    assert sender.wait_text == "1 row would wait for its calling hours; the first opens 2026-03-30 07:00 UTC"


def test_a_fixed_start_time_with_a_sleep_rehearses_a_weekend_at_once(sim, tmp_path):
    slept = []
    res = send_campaign(people(NL), sim.client(), journal=tmp_path / "j.sqlite", app="notification", name="r",
                        defaults=DEFAULTS, calling_hours="09:00-20:00", now=dt.datetime(2026, 3, 28, 12, 0, tzinfo=UTC),
                        sleep=slept.append, **FAST)
    assert res["status"].tolist() == ["queued"]
    # Saturday 12:00 UTC to Monday 07:00 UTC (09:00 in Amsterdam, summer time): 43 h, less the real run time.
    assert 43 * 3600 - 5 < sum(slept) <= 43 * 3600


@pytest.mark.parametrize("options, message", [
    (dict(tz="Europe/Amsterdam"), "tz= needs calling_hours="),
    (dict(days="sat-sun"), "days= needs calling_hours="),
    (dict(calling_hours="9am-5pm"), "calling_hours= must look like '09:00-20:00'"),
    (dict(calling_hours="09:00-20:00", days="mon-fry"), "days=: 'fry' is not a day"),
])
def test_wrong_calling_hours_options_are_refused_naming_the_option(options, message):
    with pytest.raises(CampaignError, match=message):
        SendOptions(**options)


def test_a_clock_that_gives_naive_times_is_refused(sim, tmp_path):
    with pytest.raises(CampaignError, match="timezone-aware"):
        send_campaign(people(NL), sim.client(), journal=tmp_path / "j.sqlite", app="notification", name="n",
                      defaults=DEFAULTS, calling_hours="09:00-20:00", now=dt.datetime(2026, 3, 28, 12), **FAST)


def test_an_older_journal_learns_the_new_states_and_keeps_its_records(tmp_path):
    # A journal written before deferred/suppressed existed: its CHECK lists only the old states.
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE campaigns (name TEXT PRIMARY KEY, app TEXT NOT NULL, created_at TEXT NOT NULL);"
        "CREATE TABLE rows (campaign TEXT NOT NULL, instruction_id TEXT NOT NULL, row_label TEXT, callee TEXT,"
        " payload_hash TEXT, state TEXT NOT NULL CHECK (state IN ('queued','rejected','failed','unknown','pending',"
        "'sending')), attempts INTEGER NOT NULL DEFAULT 0, http_status INTEGER, call_ids TEXT, error TEXT,"
        " sent_at TEXT, updated_at TEXT NOT NULL, PRIMARY KEY (campaign, instruction_id));"
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        "INSERT INTO meta VALUES ('campaign_key', 'abcd1234');"
        "CREATE INDEX rows_by_state ON rows (state);"
        "INSERT INTO campaigns VALUES ('c', 'notification', '2026-01-01T00:00:00Z');"
        "INSERT INTO rows VALUES ('c', 'c-1', '0', '+31612345610', 'h', 'queued', 1, 200, 'call-9', NULL,"
        " '2026-01-01T00:00:01Z', '2026-01-01T00:00:01Z');"
        "PRAGMA user_version=2;")
    con.close()
    with Journal(path) as j:
        assert j.campaign_key == "abcd1234" and j.get("c", "c-1").call_ids == "call-9"
        assert j.hold("c", [("c-2", "1", "+31612345611", "h2", "on the list")], "suppressed") == 1
        assert j.hold("c", [("c-3", "2", "+31612345612", "h3", "outside")], "deferred") == 1
        assert j.hold("c", [("c-1", "0", "+31612345610", "h", "late")], "deferred") == 0  # a called row keeps its state
        assert j.counts("c") == {"queued": 1, "suppressed": 1, "deferred": 1}
    con = sqlite3.connect(path)
    assert con.execute("SELECT name FROM sqlite_master WHERE type='index' AND name='rows_by_state'").fetchone()
    with pytest.raises(sqlite3.IntegrityError):
        con.execute("INSERT INTO rows (campaign, instruction_id, state, updated_at) VALUES ('c', 'x', 'done', 'n')")
    con.close()
    with Journal(path) as j:  # opening again changes nothing
        assert j.counts("c") == {"queued": 1, "suppressed": 1, "deferred": 1}


@pytest.mark.slow
def test_a_send_killed_while_rows_wait_resumes_and_calls_everyone_once(tmp_path, sim, token):
    # Belgian rows may go now; Dutch rows wait: today (and the days around it) are Dutch holidays.
    be = [f"+3247012{i:02d}10" for i in range(4)]
    nl = [f"+316123{i:03d}10" for i in range(4)]
    csv = tmp_path / "people.csv"
    people(*(be + nl)).to_csv(csv, index=False)
    today = dt.datetime.now(UTC).date()
    holidays = tmp_path / "holidays.csv"
    holidays.write_text("date,country\n" + "".join(f"{today + dt.timedelta(days=d)},NL\n" for d in (-1, 0, 1, 2)))
    journal, out = tmp_path / "j.sqlite", tmp_path / "out.csv"
    command = cmvoice("send", csv, *notification_flags(), "--journal", journal, "-o", out, "--rate", "50",
                      "--base-url", sim.base_url, "--no-progress")
    log = tmp_path / "stderr.txt"
    with open(log, "wb") as err, running(command + ["--calling-hours", "00:00-24:00", "--days", "all",
                                                    "--holidays", str(holidays)],
                                         stdout=subprocess.DEVNULL, stderr=err) as proc:
        # The running send holds its journal exclusively: watch what it says instead.
        kill_when(proc, lambda: len(sim.requests) >= len(be)
                  and b"4 rows wait for their calling hours" in log.read_bytes(),
                  what="the Belgians called and the Dutch waiting", output=log.read_text)
    with Journal(journal) as j:
        at_kill = j.to_frame("people").set_index("callee")["state"]
        assert sorted(j.waits("people")["instruction_id"].str.split("-").str[2]) == sorted(n[1:] for n in nl)
    assert (at_kill[nl] == "pending").all()
    assert at_kill[be].isin(["queued", "sending"]).all()  # answered, or killed mid-request
    assert sorted(sim.calls["callee"]) == sorted(be)
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=scaled(120))
    assert sorted(sim.calls["callee"]) == sorted(be + nl)  # everyone once: the Belgians were not called again
    with Journal(journal) as j:
        final = j.to_frame("people").set_index("callee")["state"]
        assert set(j.waits("people")["reason"].str.slice(0, 22)) == {"outside calling hours "}
    assert (final[nl] == "queued").all()
    # A request cut by the kill may have placed its call: unknown, never resent (and exit 1 says so).
    assert final[be].tolist() == ["queued" if s == "queued" else "unknown" for s in at_kill[be]]
    assert resumed.returncode == (1 if (final == "unknown").any() else 0), resumed.stderr
