"""Public holidays of each callee's own country in a real send: the simulator, a real journal, a manual clock.

King's Day (27 April; 26 April when the 27th is a Sunday) is a Dutch public holiday and not a
Belgian one: on it a Dutch number waits and a Belgian one is called, and the wait names the
holiday. A German *Land*'s holidays count for the rows that name it (``columns={"subdivision": ...}``).
Dates are checked here against the calendar as the law states it, not against the package.
"""
import datetime as dt

import pandas as pd
import pytest

from cmvoice_nb.campaign import Journal, RetryPolicy, forecast, plan_campaign, send_campaign
from cmvoice_nb.campaign.ops.holidays import check_subdivision, read_holidays
from cmvoice_nb.campaign.ops.hours import parse_calling_hours, window_status
from cmvoice_nb.campaign.ops.schedule import ManualClock
from cmvoice_nb.errors import CampaignError

from .._wait import cmvoice
from ._lists import notification_defaults, notification_flags, people

UTC = dt.timezone.utc
DEFAULTS = notification_defaults()
FAST = dict(rate=1000.0, burst=50, progress=False, retry=RetryPolicy(max_attempts=2, backoff_s=0.001))
NL, BE = "+31612345610", "+32470123410"  # both answered by the simulator (ending 10)
DE_BY, DE_BE = "+491701234510", "+491701234610"


def kings_day(year: int) -> dt.date:
    day = dt.date(year, 4, 27)
    return day - dt.timedelta(days=1) if day.weekday() == 6 else day


class Recording:
    """Forwards payloads to the simulator and notes the manual clock's time of every request."""

    def __init__(self, client, clock):
        self.client, self.clock, self.sent = client, clock, {}

    def send_payload(self, app, payload, *, instruction_id=None):
        self.sent[instruction_id] = self.clock.now()
        return self.client.send_payload(app, payload, instruction_id=instruction_id)


@pytest.mark.parametrize("year", [2026, 2025, 2027])
def test_kings_day_is_a_dutch_holiday_and_not_a_belgian_one_whichever_weekday_it_falls_on(year):
    hours = parse_calling_hours(None, days="all", public_holidays=True)
    day = kings_day(year)
    assert hours.holidays.is_holiday(day, "NL") and not hours.holidays.is_holiday(day, "BE")
    assert hours.holidays.name_of(day, "NL") == "King's Day (public holiday in NL)"


def test_on_kings_day_a_dutch_number_waits_for_the_next_morning_and_a_belgian_one_is_called(sim, tmp_path):
    clock = ManualClock(dt.datetime(2026, 4, 27, 8, 0, tzinfo=UTC))  # Monday 10:00 in Amsterdam and Brussels
    client = Recording(sim.client(), clock)
    res = send_campaign(people(NL, BE), client, journal=tmp_path / "j.sqlite", app="notification", name="kd",
                        defaults=DEFAULTS, calling_hours="09:00-20:00", public_holidays=True, now=clock, **FAST)
    assert res["status"].tolist() == ["queued", "queued"]
    at = dict(zip(res["callee"], [client.sent[i] for i in res["instruction_id"]], strict=True))
    assert at[BE] == dt.datetime(2026, 4, 27, 8, 0, tzinfo=UTC)  # at once
    assert at[NL] == dt.datetime(2026, 4, 28, 7, 0, tzinfo=UTC)  # Tuesday 09:00 CEST
    with Journal(tmp_path / "j.sqlite") as j:
        waits = j.waits("kd")
    assert len(waits) == 1
    assert "King's Day (public holiday in NL)" in waits.loc[0, "reason"]
    assert waits.loc[0, "until"] == "2026-04-28T07:00:00.000Z"


def test_without_public_holidays_kings_day_is_a_day_like_any_other(sim, tmp_path):
    clock = ManualClock(dt.datetime(2026, 4, 27, 8, 0, tzinfo=UTC))
    res = send_campaign(people(NL), Recording(sim.client(), clock), journal=tmp_path / "j.sqlite",
                        app="notification", name="kd", defaults=DEFAULTS, calling_hours="09:00-20:00", now=clock,
                        **FAST)
    assert res["status"].tolist() == ["queued"] and clock.now() == dt.datetime(2026, 4, 27, 8, 0, tzinfo=UTC)


def test_public_holidays_combine_with_the_operators_own_dates(sim, tmp_path):
    # Tuesday 28 April is the operator's own closing day for Belgium; King's Day the Dutch holiday.
    clock = ManualClock(dt.datetime(2026, 4, 27, 8, 0, tzinfo=UTC))
    holidays = tmp_path / "closed.csv"
    holidays.write_bytes(b"\xef\xbb\xbfdate;country\r\n2026-04-27;BE\r\n2026-04-28;BE\r\n")
    client = Recording(sim.client(), clock)
    res = send_campaign(people(NL, BE), client, journal=tmp_path / "j.sqlite", app="notification", name="kd",
                        defaults=DEFAULTS, calling_hours="09:00-20:00", holidays=holidays, public_holidays=True,
                        now=clock, **FAST)
    at = dict(zip(res["callee"], [client.sent[i] for i in res["instruction_id"]], strict=True))
    assert at == {NL: dt.datetime(2026, 4, 28, 7, 0, tzinfo=UTC), BE: dt.datetime(2026, 4, 29, 7, 0, tzinfo=UTC)}


def test_a_subdivisions_holiday_holds_its_rows_only_and_the_reason_names_it(sim, tmp_path):
    # 6 January (Epiphany) is a holiday in Bavaria, not in Berlin; 2026-01-06 is a Tuesday.
    clock = ManualClock(dt.datetime(2026, 1, 6, 9, 0, tzinfo=UTC))
    df = pd.DataFrame({"callee": [DE_BY, DE_BE], "name": ["A", "B"], "Land": ["DE-BY", "be"]})
    client = Recording(sim.client(), clock)
    res = send_campaign(df, client, journal=tmp_path / "j.sqlite", app="notification", name="epi",
                        columns={"subdivision": "Land"}, defaults=DEFAULTS, calling_hours="09:00-20:00",
                        public_holidays=True, now=clock, **FAST)
    at = dict(zip(res["callee"], [client.sent[i] for i in res["instruction_id"]], strict=True))
    assert at == {DE_BE: dt.datetime(2026, 1, 6, 9, 0, tzinfo=UTC), DE_BY: dt.datetime(2026, 1, 7, 8, 0, tzinfo=UTC)}
    assert res["Land"].tolist() == ["DE-BY", "be"]  # kept in the results
    with Journal(tmp_path / "j.sqlite") as j:
        assert "Epiphany (public holiday in DE-BY)" in j.waits("epi").loc[0, "reason"]


def test_a_subdivision_its_country_does_not_have_stops_before_any_call_naming_every_such_row(sim, tmp_path):
    df = pd.DataFrame({"callee": [DE_BY, DE_BE, NL], "name": ["A", "B", "C"], "Land": ["Bayern?", "XX", "ZH"]})
    with pytest.raises(CampaignError) as err:
        send_campaign(df, sim.client(), journal=tmp_path / "j.sqlite", app="notification", name="bad",
                      columns={"subdivision": "Land"}, defaults=DEFAULTS, public_holidays=True, **FAST)
    text = str(err.value)
    assert "public_holidays=True: 3 row(s)" in text and "'Bayern?'" in text and "'XX'" in text and "'ZH'" in text
    assert "BY" in text  # the country's subdivisions are listed
    assert sim.calls.empty


def test_a_blank_subdivision_cell_means_nationwide_holidays():
    assert check_subdivision("DE", None) is None and check_subdivision("DE", "  ") is None
    assert check_subdivision("NL", "nl-noord") == "Noord" and check_subdivision("DE", "Bayern") == "BY"


def test_a_dry_run_on_kings_day_says_the_dutch_row_would_wait_and_names_the_holiday(sim, tmp_path):
    clock = ManualClock(dt.datetime(2026, 4, 27, 8, 0, tzinfo=UTC))
    res = send_campaign(people(NL, BE), sim.client(), journal=tmp_path / "j.sqlite", app="notification", name="kd",
                        defaults=DEFAULTS, calling_hours="09:00-20:00", public_holidays=True, now=clock,
                        dry_run=True, **FAST)
    assert res["status"].tolist() == ["dry-run", "dry-run"]
    assert "King's Day (public holiday in NL)" in res.loc[0, "error"] and pd.isna(res.loc[1, "error"])


def test_window_status_names_the_holiday_a_callee_waits_for():
    now = dt.datetime(2026, 4, 27, 8, 0, tzinfo=UTC)
    st = window_status([NL, BE], calling_hours="09:00-20:00", public_holidays=True, now=now)
    assert st["inside"].tolist() == [False, True]
    assert "King's Day (public holiday in NL)" in st.loc[0, "reason"]


def test_a_country_the_package_does_not_know_has_no_public_holidays():
    h = read_holidays(None, public=True)
    # Ascension Island (+247) has numbers of its own but no calendar in the package.
    assert not h.is_holiday(dt.date(2026, 1, 1), "AC") and h.is_holiday(dt.date(2026, 1, 1), "GB")


def test_the_command_line_reads_public_holidays_and_refuses_a_bad_subdivision_before_any_call(sim, tmp_path, token):
    import subprocess

    csv = tmp_path / "list.csv"
    csv.write_bytes("callee;name;Land\r\n+491701234510;A;Bayern?\r\n".encode("utf-8-sig"))
    out = subprocess.run(cmvoice("send", csv, *notification_flags(), "--journal", tmp_path / "j.sqlite",
                                 "-o", tmp_path / "r.csv", "--base-url", sim.base_url, "--public-holidays",
                                 "--map", "subdivision=Land", "--no-progress"),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert "--public-holidays: 1 row(s) name a subdivision" in out.stderr and "'Bayern?'" in out.stderr
    assert sim.calls.empty


def test_the_command_line_sends_with_public_holidays_and_the_forecast_counts_alike(sim, tmp_path, token):
    import subprocess

    csv = tmp_path / "list.csv"
    csv.write_bytes("callee;name\r\n+32470123410;A\r\n".encode("utf-8-sig"))
    plan = plan_campaign(people(BE), app="notification", name="cli", defaults=DEFAULTS)
    assert forecast(plan).line() == "1 rows: to send 1"
    out = subprocess.run(cmvoice("send", csv, *notification_flags(), "--journal", tmp_path / "j.sqlite", "--name",
                                 "cli", "-o", tmp_path / "r.csv", "--base-url", sim.base_url, "--public-holidays",
                                 "--days", "all", "--calling-hours", "00:00-24:00", "--no-wait", "--no-progress"),
                         capture_output=True, text=True, timeout=120)
    today = dt.datetime.now(UTC).date()
    holiday = read_holidays(None, public=True).is_holiday(today, "BE")
    assert out.returncode == (75 if holiday else 0), out.stderr
    assert "plan: 1 rows: to send 1" in out.stderr


def test_a_follow_up_wave_keeps_each_rows_subdivision_for_its_public_holidays(sim, tmp_path):
    from cmvoice_nb.campaign import plan_followup

    journal = tmp_path / "j.sqlite"
    monday = dt.datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # the day before Epiphany
    df = pd.DataFrame({"callee": ["+491701234509", "+491701234609"], "name": ["A", "B"], "Land": ["BY", "BE"]})
    send_campaign(df, sim.client(), journal=journal, app="notification", name="epi", columns={"subdivision": "Land"},
                  defaults=DEFAULTS, calling_hours="09:00-20:00", public_holidays=True, now=ManualClock(monday),
                  **FAST)
    calls = [{"call-id": c, "instruction-id": i, "result": {"code": int(r)}, "finished-on": "2026-01-05T09:01:00Z"}
             for c, i, r in zip(sim.calls["call_id"], sim.calls["instruction_id"], sim.calls["result_code"],
                                strict=True)]
    wave = plan_followup(journal, calls, campaign="epi", now="2026-01-06T09:00:00Z")
    assert len(wave.rows) == 2 and wave.options["subdivision"] == "Land"
    clock = ManualClock(dt.datetime(2026, 1, 6, 9, 0, tzinfo=UTC))
    client = Recording(sim.client(), clock)
    res = send_campaign(wave, client, journal=journal, calling_hours="09:00-20:00", public_holidays=True, now=clock,
                        **FAST)
    at = dict(zip(res["callee"], [client.sent[i] for i in res["instruction_id"]], strict=True))
    assert at == {"+491701234609": dt.datetime(2026, 1, 6, 9, 0, tzinfo=UTC),
                  "+491701234509": dt.datetime(2026, 1, 7, 8, 0, tzinfo=UTC)}
