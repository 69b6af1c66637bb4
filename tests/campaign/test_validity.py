"""Validity windows in a real send: a row not placed by the end of its window ends ``expired``, never sent later.

Whatever it waited for first — its calling hours, its turn in the pace, the budget, a stopped
run — once the window has ended the row is not placed, in this run or any later one. The end of
each row's window is in the journal, so a resumed run honours it. The sender runs on a manual
clock (nobody waits for real); the simulator answers every number ending in 10.
"""
import datetime as dt
import subprocess

import pandas as pd
import pytest

from cmvoice_nb.campaign import Journal, RetryPolicy, SendOptions, forecast, plan_campaign, send_campaign
from cmvoice_nb.campaign.ops.schedule import ManualClock
from cmvoice_nb.campaign.ops.validity import OTP_VALID_FOR, parse_validity
from cmvoice_nb.errors import CampaignError

from .._wait import cmvoice
from ._lists import answering, notification_defaults, notification_flags, people

UTC = dt.timezone.utc
DEFAULTS = notification_defaults()
FAST = dict(rate=1000.0, burst=50, progress=False, retry=RetryPolicy(max_attempts=2, backoff_s=0.001))
SUNDAY_NIGHT = dt.datetime(2026, 3, 29, 23, 0, tzinfo=UTC)  # 01:00 Monday in Amsterdam: hours open at 07:00 UTC
MONDAY_10 = dt.datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
OTP_DEFAULTS = {"caller": "+31201234567"}


class Stepping:
    """Forwards payloads to the simulator; each call takes *step_s* of the campaign's (manual) time."""

    def __init__(self, client, clock, step_s):
        self.client, self.clock, self.step_s, self.sent = client, clock, step_s, []

    def send_payload(self, app, payload, *, instruction_id=None):
        self.sent.append(instruction_id)
        self.clock.advance(self.step_s)
        return self.client.send_payload(app, payload, instruction_id=instruction_id)


def otp_list(*numbers):
    return pd.DataFrame({"callee": list(numbers), "code": [f"{4711 + i}" for i in range(len(numbers))]})


def test_an_otp_campaign_defaults_to_ten_minutes_so_a_code_waiting_for_the_morning_expires(sim, tmp_path):
    clock = ManualClock(SUNDAY_NIGHT)
    res = send_campaign(otp_list("+31612345610"), sim.client(), journal=tmp_path / "j.sqlite", app="otp",
                        name="codes", defaults=OTP_DEFAULTS, calling_hours="09:00-20:00", now=clock, **FAST)
    assert res["status"].tolist() == ["expired"]
    assert res.loc[0, "error"].startswith("not placed by 2026-03-29 23:10 UTC, the end of its validity window "
                                          "(it waited for its calling hours: outside calling hours")
    assert sim.calls.empty and clock.now() == SUNDAY_NIGHT  # it did not wait for a morning it could not use
    with Journal(tmp_path / "j.sqlite") as j:
        assert j.counts("codes") == {"expired": 1}
    assert parse_validity(app="otp").span == OTP_VALID_FOR == dt.timedelta(minutes=10)


def test_valid_for_none_turns_the_otp_window_off_and_the_code_waits_for_the_morning(sim, tmp_path):
    clock = ManualClock(SUNDAY_NIGHT)
    res = send_campaign(otp_list("+31612345610"), sim.client(), journal=tmp_path / "j.sqlite", app="otp",
                        name="codes", defaults=OTP_DEFAULTS, calling_hours="09:00-20:00", valid_for=None, now=clock,
                        **FAST)
    assert res["status"].tolist() == ["queued"] and clock.now() >= dt.datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


def test_a_row_waiting_for_the_pace_expires_when_its_turn_comes_too_late(sim, tmp_path):
    clock = ManualClock(MONDAY_10)
    client = Stepping(sim.client(), clock, step_s=60)  # each call takes a minute of the campaign's time
    res = send_campaign(people(*answering(5)), client, journal=tmp_path / "j.sqlite", app="notification",
                        name="pace", defaults=DEFAULTS, valid_for="150s", now=clock, concurrency=1, **FAST)
    # Calls leave at 0, 60 and 120 s; the fourth would leave at 180 s, past its window of 150 s.
    assert res["status"].tolist() == ["queued"] * 3 + ["expired"] * 2
    assert res.loc[3, "error"] == ("not placed by 2026-03-30 08:02 UTC, the end of its validity window (it waited "
                                   "for its turn); never sent later")
    assert len(sim.calls) == 3


def test_a_stopped_run_leaves_its_window_in_the_journal_and_a_later_run_honours_it(sim, tmp_path):
    journal = tmp_path / "j.sqlite"
    kwargs = dict(journal=journal, app="notification", name="later", defaults=DEFAULTS, calling_hours="09:00-20:00",
                  **FAST)
    first = send_campaign(people("+31612345610"), sim.client(), wait=False, valid_for="12h",
                          now=ManualClock(SUNDAY_NIGHT), **kwargs)
    assert first["status"].tolist() == ["deferred"]
    with Journal(journal) as j:
        (end,) = j.validity("later").values()
    assert end == SUNDAY_NIGHT + dt.timedelta(hours=12)
    # Two days later, with no window given this time: the stored one stands.
    late = ManualClock(dt.datetime(2026, 3, 31, 8, 0, tzinfo=UTC))
    second = send_campaign(people("+31612345610"), sim.client(), valid_for=None, now=late, **kwargs)
    assert second["status"].tolist() == ["expired"] and sim.calls.empty
    # And ever after: an expired row is final.
    third = send_campaign(people("+31612345610"), sim.client(), valid_for=None, now=late, **kwargs)
    assert third["status"].tolist() == ["expired"] and sim.calls.empty
    with Journal(journal) as j:
        assert j.counts("later") == {"expired": 1}


def test_a_row_past_the_budget_expires_before_a_higher_budget_places_it(sim, tmp_path):
    prices = tmp_path / "prices.csv"
    prices.write_text("country,price_per_minute\nNL,0.60\n", encoding="utf-8")
    journal = tmp_path / "j.sqlite"
    kwargs = dict(journal=journal, app="notification", name="b", defaults=DEFAULTS, prices=prices, **FAST)
    import json

    from cmvoice_nb.campaign.ops.estimate import upper_bound_costs

    plan = plan_campaign(people(*answering(2)), app="notification", name="b", defaults=DEFAULTS)
    (cost,) = upper_bound_costs([json.loads(plan.rows[0].payload)], prices=prices, app="notification")
    first = send_campaign(people(*answering(2)), sim.client(), max_cost=cost * 1.5, valid_for="1h",
                          now=ManualClock(MONDAY_10), **kwargs)
    assert first["status"].tolist() == ["queued", "budget"]
    later = MONDAY_10 + dt.timedelta(hours=2)
    second = send_campaign(people(*answering(2)), sim.client(), max_cost=10.0, now=ManualClock(later), **kwargs)
    assert second["status"].tolist() == ["queued", "expired"] and len(sim.calls) == 1


def test_valid_until_in_the_past_expires_every_new_row_and_the_forecast_and_dry_run_say_so(sim, tmp_path):
    until = "2026-03-30T09:30+02:00"  # 07:30 UTC, before Monday 08:00 UTC
    plan = plan_campaign(people(*answering(3)), app="notification", name="v", defaults=DEFAULTS)
    fc = forecast(plan, tmp_path / "j.sqlite", valid_until=until, now=MONDAY_10)
    assert fc.line() == "3 rows: expired 3"
    dry = send_campaign(plan, sim.client(), journal=tmp_path / "j.sqlite", valid_until=until, now=MONDAY_10,
                        dry_run=True, **FAST)
    assert dry["status"].tolist() == ["expired"] * 3
    res = send_campaign(plan, sim.client(), journal=tmp_path / "j.sqlite", valid_until=until, now=MONDAY_10, **FAST)
    assert res["status"].tolist() == ["expired"] * 3 and sim.calls.empty
    assert res.loc[0, "error"] == ("not placed by 2026-03-30 07:30 UTC, the end of its validity window; never sent "
                                   "later")


def test_each_wave_has_its_own_window_counted_from_its_registration(sim, tmp_path):
    from cmvoice_nb.campaign import plan_followup

    journal = tmp_path / "j.sqlite"
    first = send_campaign(people("+31612345609"), sim.client(), journal=journal, app="notification", name="w",
                          defaults=DEFAULTS, valid_for="30m", now=ManualClock(MONDAY_10), **FAST)
    assert first["status"].tolist() == ["queued"]
    calls = [{"call-id": c, "instruction-id": i, "result": {"code": int(r)}, "finished-on": "2026-03-30T08:01:00Z"}
             for c, i, r in zip(sim.calls["call_id"], sim.calls["instruction_id"], sim.calls["result_code"],
                                strict=True)]
    wave = plan_followup(journal, calls, campaign="w", min_gap="1h", now="2026-03-30T10:00:00Z")
    second_at = dt.datetime(2026, 3, 30, 10, 0, tzinfo=UTC)
    res = send_campaign(wave, sim.client(), journal=journal, valid_for="30m", now=ManualClock(second_at), **FAST)
    assert res["status"].tolist() == ["queued"]
    with Journal(journal) as j:
        ends = j.validity("w")
    assert sorted(ends.values()) == [MONDAY_10 + dt.timedelta(minutes=30), second_at + dt.timedelta(minutes=30)]


@pytest.mark.parametrize("options, message", [
    (dict(valid_for="soon"), "valid_for=: 'soon' is not a duration (write e.g. 30m, 2h, 1d or 1h30m)"),
    (dict(valid_for="-5m"), "valid_for=: '-5m' is not a duration"),
    (dict(valid_until="2026-03-30 09:30"), "valid_until=: '2026-03-30 09:30' has no time zone"),
    (dict(valid_until="tomorrow"), "valid_until=: 'tomorrow' is not a time"),
])
def test_a_window_that_cannot_be_read_is_refused_before_any_call(options, message):
    with pytest.raises(CampaignError) as err:
        SendOptions(**options)
    assert str(err.value).startswith(message)


def test_the_command_line_expires_rows_past_valid_until_exits_0_and_lists_them(sim, tmp_path, token):
    csv = tmp_path / "list.csv"
    csv.write_bytes("callee;name\r\n+31612345610;Ann\r\n+31612345620;Bob\r\n".encode("utf-8-sig"))
    out = subprocess.run(cmvoice("send", csv, *notification_flags(), "--journal", tmp_path / "j.sqlite",
                                 "-o", tmp_path / "r.csv", "--base-url", sim.base_url, "--no-progress",
                                 "--valid-until", "2020-01-01T00:00Z"),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "plan: 2 rows: expired 2" in out.stderr
    assert "expired: 2 rows - not placed within their validity window (--valid-until or --valid-for)" in out.stderr
    assert sim.calls.empty
    assert pd.read_csv(tmp_path / "r.csv")["status"].tolist() == ["expired", "expired"]


def test_the_command_line_refuses_a_bad_duration_with_exit_2(sim, tmp_path, token):
    csv = tmp_path / "list.csv"
    csv.write_bytes(b"callee;name\r\n+31612345610;Ann\r\n")
    out = subprocess.run(cmvoice("send", csv, *notification_flags(), "--journal", tmp_path / "j.sqlite",
                                 "-o", tmp_path / "r.csv", "--base-url", sim.base_url, "--valid-for", "half an hour"),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "--valid-for: 'half an hour' is not a duration" in out.stderr
    assert sim.calls.empty
