"""Calling hours in the callee's local time: NL, GB and US numbers, DST change days, holidays, tz=.

Every expected instant below is worked out by hand from the zone's UTC offset on that date:
Europe changes on the last Sunday of March (2026-03-29) and October (2026-10-25); the US on the
second Sunday of March (2026-03-08) and the first Sunday of November (2026-11-01).
The clock is always injected (``now=``); nothing sleeps.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pandas as pd
import pytest

from cmvoice_nb.campaign.ops.hours import (
    CallingHours,
    describe_waits,
    parse_calling_hours,
    parse_days,
    parse_hours,
    read_holidays,
    window_status,
    zones_for_number,
)
from cmvoice_nb.errors import CampaignError

UTC = timezone.utc
NL = "+31612345678"
BE = "+32470123456"
GB_LANDLINE = "+442079460000"      # London
GB_MOBILE = "+447400123456"        # maps to London, Jersey, Guernsey and the Isle of Man
US_NY = "+12125550123"             # New York
US_CHI = "+13125550123"            # Chicago
US_NV = "+17752345678"             # Nevada: Pacific and Mountain time
UNKNOWN = "+447700900123"          # a valid-looking GB range with no zone data


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def one(number, now, **kw):
    kw.setdefault("calling_hours", "09:00-20:00")
    return window_status([number], now=now, **kw).iloc[0]


# ------------------------------------------------------------------ parsing

def test_hours_are_read_in_the_usual_spellings():
    assert parse_hours("09:00-20:00") == (9 * 60, 20 * 60)
    assert parse_hours("9-20") == (540, 1200)
    assert parse_hours(" 8.30 – 17.45 ") == (510, 1065)
    assert parse_hours("00:00-24:00") == (0, 1440)
    assert parse_hours("20:00-08:00") == (1200, 480)


@pytest.mark.parametrize("bad", ["9am-5pm", "09:00", "25:00-26:00", "09:60-10:00", "10:00-10:00", "", None, 9])
def test_bad_hours_name_the_option_in_python_and_on_the_command_line(bad):
    with pytest.raises(CampaignError, match=r"^calling_hours="):
        parse_hours(bad)
    with pytest.raises(CampaignError) as info:
        parse_hours(bad)
    assert info.value.say("cli").startswith("--calling-hours")


def test_days_accept_ranges_lists_all_and_wrapping_ranges():
    assert parse_days("mon-fri") == frozenset(range(5))
    assert parse_days("mon,wed,fri") == frozenset({0, 2, 4})
    assert parse_days("sat-sun") == frozenset({5, 6})
    assert parse_days("all") == frozenset(range(7))
    assert parse_days("Fri-Mon") == frozenset({4, 5, 6, 0})
    assert parse_days(["monday", 2]) == frozenset({0, 2})


@pytest.mark.parametrize("bad", ["mon-fry", "", "weekdays", []])
def test_bad_days_name_the_option(bad):
    with pytest.raises(CampaignError, match=r"^days="):
        parse_days(bad)
    with pytest.raises(CampaignError) as info:
        parse_days(bad)
    assert info.value.say("cli").startswith("--days")


def test_the_window_reads_back_as_written():
    h = parse_calling_hours("9-17:30", days="mon,tue,wed,sat", holidays=["2026-12-25"])
    assert repr(h) == "CallingHours('09:00-17:30', days='mon-wed,sat', holidays=1 date)"


# ------------------------------------------------------------------ zones

def test_zones_come_from_the_number():
    assert zones_for_number(NL) == ("Europe/Amsterdam",)
    assert zones_for_number("0031612345678") == ("Europe/Amsterdam",)
    assert zones_for_number(GB_LANDLINE) == ("Europe/London",)
    assert zones_for_number(US_NY) == ("America/New_York",)
    assert set(zones_for_number(US_NV)) == {"America/Boise", "America/Los_Angeles"}
    assert "Europe/London" in zones_for_number(GB_MOBILE) and len(zones_for_number(GB_MOBILE)) > 1
    assert zones_for_number(UNKNOWN) == ()
    assert zones_for_number("not a number") == () and zones_for_number(None) == ()


# ------------------------------------------------------------------ Europe

def test_a_dutch_number_is_inside_at_half_past_nine_local_and_closes_at_twenty_local():
    row = one(NL, at(2026, 3, 30, 7, 30))                  # Monday, CEST (+2): 09:30
    assert row.inside and row.reason == ""
    assert row.closes_at == pd.Timestamp("2026-03-30 18:00", tz="UTC")


def test_saturday_waits_for_monday_opening_which_is_after_the_spring_change():
    row = one(NL, at(2026, 3, 28, 12, 0))                  # Saturday, still CET (+1)
    assert not row.inside
    # Monday 30 March 09:00 CEST (+2) = 07:00 UTC, not 08:00 as it would be in winter.
    assert row.opens_at == pd.Timestamp("2026-03-30 07:00", tz="UTC")
    assert "outside calling hours 09:00-20:00 mon-fri" in row.reason and "Sat 13:00" in row.reason


def test_on_the_european_spring_change_day_nine_local_is_seven_utc():
    now = at(2026, 3, 29, 0, 30)                           # Sunday of the change, 01:30 CET
    assert one(NL, now, days="all").opens_at == pd.Timestamp("2026-03-29 07:00", tz="UTC")
    # The day before, 09:00 was still 08:00 UTC.
    assert one(NL, at(2026, 3, 28, 0, 30), days="all").opens_at == pd.Timestamp("2026-03-28 08:00", tz="UTC")


def test_a_window_edge_in_the_skipped_hour_moves_forward_by_the_gap():
    # 02:30 does not exist in Amsterdam on 2026-03-29: the window starts at 03:30 CEST = 01:30 UTC.
    row = one(NL, at(2026, 3, 29, 0, 0), calling_hours="02:30-05:00", days="all")
    assert row.opens_at == pd.Timestamp("2026-03-29 01:30", tz="UTC")


def test_a_window_edge_in_the_repeated_hour_is_its_first_occurrence():
    # 02:30 happens twice in Amsterdam on 2026-10-25; the first is CEST (+2) = 00:30 UTC.
    row = one(NL, at(2026, 10, 24, 23, 0), calling_hours="02:30-05:00", days="all")
    assert row.opens_at == pd.Timestamp("2026-10-25 00:30", tz="UTC")
    # ...and it ends at 05:00 CET (+1) = 04:00 UTC: the window is 3.5 hours long that night.
    inside = one(NL, at(2026, 10, 25, 3, 59), calling_hours="02:30-05:00", days="all")
    assert inside.inside and inside.closes_at == pd.Timestamp("2026-10-25 04:00", tz="UTC")


def test_after_the_autumn_change_nine_local_is_eight_utc_again():
    row = one(NL, at(2026, 10, 24, 12, 0))                 # Saturday before the change
    assert row.opens_at == pd.Timestamp("2026-10-26 08:00", tz="UTC")   # Monday 09:00 CET


def test_british_numbers_follow_london_time_across_the_change():
    assert not one(GB_LANDLINE, at(2026, 3, 23, 8, 30)).inside         # 08:30 GMT
    assert one(GB_LANDLINE, at(2026, 3, 23, 8, 30)).opens_at == pd.Timestamp("2026-03-23 09:00", tz="UTC")
    assert one(GB_LANDLINE, at(2026, 3, 30, 8, 30)).inside             # 09:30 BST
    # A mobile maps to four zones that share London's clock: same answer.
    assert one(GB_MOBILE, at(2026, 3, 30, 8, 30)).inside
    assert one(GB_MOBILE, at(2026, 3, 23, 8, 30)).opens_at == pd.Timestamp("2026-03-23 09:00", tz="UTC")


# ------------------------------------------------------------------ United States

def test_new_york_opens_at_fourteen_utc_in_winter_and_thirteen_after_the_second_sunday_of_march():
    assert one(US_NY, at(2026, 3, 6, 20, 0)).inside                    # Friday 15:00 EST
    row = one(US_NY, at(2026, 3, 7, 12, 0))                            # Saturday
    assert row.opens_at == pd.Timestamp("2026-03-09 13:00", tz="UTC")  # Monday 09:00 EDT (-4)
    assert one(US_NY, at(2026, 3, 5, 12, 0)).opens_at == pd.Timestamp("2026-03-05 14:00", tz="UTC")  # EST (-5)


def test_new_york_after_the_first_sunday_of_november_is_back_to_fourteen_utc():
    row = one(US_NY, at(2026, 10, 31, 12, 0))                          # Saturday, EDT
    assert row.opens_at == pd.Timestamp("2026-11-02 14:00", tz="UTC")  # Monday 09:00 EST
    # On the change day itself (days=all) 09:00 EST is already 14:00 UTC.
    assert one(US_NY, at(2026, 11, 1, 5, 0), days="all").opens_at == pd.Timestamp("2026-11-01 14:00", tz="UTC")


def test_a_number_with_two_zones_is_called_only_when_the_window_holds_in_both():
    # Nevada: Boise (MST, -7) opens at 16:00 UTC, Los Angeles (PST, -8) at 17:00 UTC.
    early = one(US_NV, at(2026, 1, 5, 16, 30))
    assert not early.inside and early.opens_at == pd.Timestamp("2026-01-05 17:00", tz="UTC")
    assert set(early.zones.split(",")) == {"America/Boise", "America/Los_Angeles"}
    # Boise closes first: 20:00 MST = 03:00 UTC, while it is only 19:00 in Los Angeles.
    late = one(US_NV, at(2026, 1, 6, 2, 30))
    assert late.inside and late.closes_at == pd.Timestamp("2026-01-06 03:00", tz="UTC")
    assert not one(US_NV, at(2026, 1, 6, 3, 30)).inside


def test_new_york_and_chicago_numbers_in_one_batch_open_an_hour_apart():
    st = window_status([US_NY, US_CHI, NL], calling_hours="09:00-20:00", now=at(2026, 1, 5, 14, 30))
    assert st["inside"].tolist() == [True, False, True]
    assert st.loc[1, "opens_at"] == pd.Timestamp("2026-01-05 15:00", tz="UTC")


def test_zones_that_never_share_the_window_say_so_and_never_open():
    h = parse_calling_hours("09:00-10:00", days="all")
    s = h.status(("Pacific/Kiritimati", "Pacific/Pago_Pago"), now=at(2026, 1, 5, 0, 0))  # 25 hours apart
    assert not s.inside and s.opens_at is None and "never hold in all of" in s.reason


# ------------------------------------------------------------------ crossing midnight, holidays

def test_a_window_crossing_midnight_belongs_to_the_day_it_starts():
    # Friday nights only: Friday 20:00 to Saturday 08:00 Amsterdam (CET in January).
    assert one(NL, at(2026, 1, 10, 6, 0), calling_hours="20:00-08:00", days="fri").inside   # Sat 07:00
    row = one(NL, at(2026, 1, 10, 8, 0), calling_hours="20:00-08:00", days="fri")          # Sat 09:00
    assert not row.inside and row.opens_at == pd.Timestamp("2026-01-16 19:00", tz="UTC")
    assert one(NL, at(2026, 1, 9, 19, 0), calling_hours="20:00-08:00", days="fri").inside   # Fri 20:00


def test_a_holiday_of_one_country_only_closes_that_country():
    holidays = {"NL": ["2026-04-27"]}                      # King's Day, a Monday
    now = at(2026, 4, 27, 8, 0)                            # 10:00 in Amsterdam and Brussels
    st = window_status([NL, BE], calling_hours="09:00-20:00", holidays=holidays, now=now)
    assert st["inside"].tolist() == [False, True]
    assert st.loc[0, "opens_at"] == pd.Timestamp("2026-04-28 07:00", tz="UTC")


def test_holidays_everywhere_close_every_number_and_a_long_run_of_them_is_skipped():
    christmas = [date(2026, 12, 25) + timedelta(days=i) for i in range(20)]
    row = one(NL, at(2026, 12, 25, 10, 0), holidays=christmas, days="all")
    assert row.opens_at == pd.Timestamp("2027-01-14 08:00", tz="UTC")


def test_holidays_from_a_text_file_and_a_csv_with_a_country_column(tmp_path):
    txt = tmp_path / "holidays.txt"
    txt.write_text("# public holidays\n2026-12-25\n\n2026-12-26  # boxing day\n", encoding="utf-8")
    assert read_holidays(txt).everywhere == frozenset({date(2026, 12, 25), date(2026, 12, 26)})
    csv = tmp_path / "holidays.csv"
    csv.write_text("date,country,name\n2026-04-27,NL,Koningsdag\n2026-07-21,be,Nationale feestdag\n"
                   "2026-12-25,,Christmas\n", encoding="utf-8")
    h = read_holidays(str(csv))
    assert h.by_country == {"NL": frozenset({date(2026, 4, 27)}), "BE": frozenset({date(2026, 7, 21)})}
    assert h.everywhere == frozenset({date(2026, 12, 25)})
    assert h.is_holiday(date(2026, 7, 21), "BE") and not h.is_holiday(date(2026, 7, 21), "NL")


def test_a_holiday_file_with_bad_lines_names_every_bad_line(tmp_path):
    txt = tmp_path / "h.txt"
    txt.write_text("2026-12-25\nchristmas\n2026-02-30\n", encoding="utf-8")
    with pytest.raises(CampaignError) as info:
        read_holidays(txt)
    assert re.search(r"--holidays: .*2 line\(s\).*line 2: 'christmas'.*line 3: '2026-02-30'", info.value.say("cli"),
                     re.DOTALL)
    with pytest.raises(CampaignError, match="no such file"):
        read_holidays(tmp_path / "missing.txt")


def test_holidays_as_comma_separated_text():
    assert len(read_holidays("2026-12-25,2026-12-26")) == 2


# ------------------------------------------------------------------ tz= and unknown zones

def test_an_unknown_zone_is_not_callable_until_tz_names_it():
    row = one(UNKNOWN, at(2026, 3, 30, 8, 30))
    assert not row.inside and pd.isna(row.opens_at)
    assert row.reason == f"time zone unknown for {UNKNOWN}: give the zone with tz="
    assert one(UNKNOWN, at(2026, 3, 30, 8, 30), tz="Europe/London").inside


def test_tz_as_one_zone_a_mapping_or_a_column():
    now = at(2026, 1, 5, 14, 30)                           # 15:30 Amsterdam, 09:30 New York, 06:30 LA
    numbers = [NL, US_NY]
    one_zone = window_status(numbers, calling_hours="09:00-20:00", tz="America/Los_Angeles", now=now)
    assert one_zone["inside"].tolist() == [False, False]
    by_number = window_status(numbers, calling_hours="09:00-20:00", tz={NL: "Asia/Tokyo"}, now=now)
    assert by_number["inside"].tolist() == [False, True]   # 23:30 in Tokyo; New York from its number
    column = window_status(numbers, calling_hours="09:00-20:00", tz=[None, "Bogus/Zone"], now=now)
    assert column["inside"].tolist() == [True, False]
    assert column.loc[1, "reason"] == "tz=: unknown time zone 'Bogus/Zone'"


def test_a_wrong_tz_for_every_row_fails_at_once_naming_the_option():
    with pytest.raises(CampaignError) as info:
        window_status([NL], calling_hours="09:00-20:00", tz="Mars/Olympus", now=at(2026, 1, 5))
    assert info.value.say("cli").startswith("--tz: unknown time zone 'Mars/Olympus'")
    with pytest.raises(CampaignError, match="tz= has 1 values for 2 callees"):
        window_status([NL, BE], calling_hours="09:00-20:00", tz=["Europe/Paris"], now=at(2026, 1, 5))


def test_now_must_be_aware():
    with pytest.raises(CampaignError, match="timezone-aware"):
        window_status([NL], calling_hours="09:00-20:00", now=datetime(2026, 1, 5, 12))


# ------------------------------------------------------------------ the batch front

def test_the_frame_keeps_a_series_index_and_repeated_zones_get_the_same_answer():
    callees = pd.Series([NL, US_NY, NL, "+31201234567"], index=["a", "b", "c", "d"])
    st = window_status(callees, calling_hours="09:00-20:00", now=at(2026, 3, 30, 7, 30))
    assert list(st.columns) == ["inside", "opens_at", "closes_at", "zones", "reason"]
    assert list(st.index) == ["a", "b", "c", "d"]
    assert st["inside"].tolist() == [True, False, True, True]
    for col in ("opens_at", "closes_at"):
        assert isinstance(st[col].dtype, pd.DatetimeTZDtype) and str(st[col].dt.tz) == "UTC"


def test_a_calling_hours_object_is_accepted_as_is_and_whole_days_work():
    h = parse_calling_hours(None, days="sat-sun")
    assert isinstance(h, CallingHours) and h.hours_text == "00:00-24:00"
    assert not one(NL, at(2026, 1, 9, 22, 0), calling_hours=h).inside          # Friday 23:00
    assert one(NL, at(2026, 1, 9, 23, 30), calling_hours=h).inside             # Saturday 00:30


def test_a_whole_day_window_on_consecutive_days_closes_when_the_last_day_ends():
    row = one(NL, at(2026, 1, 10, 12, 0), calling_hours=None, days="sat-sun")   # Saturday
    assert row.inside and row.closes_at == pd.Timestamp("2026-01-11 23:00", tz="UTC")   # Monday 00:00 CET


def test_the_progress_line_says_how_many_wait_and_until_when():
    st = window_status([NL, US_NY, UNKNOWN], calling_hours="09:00-20:00", now=at(2026, 3, 30, 7, 30))
    assert describe_waits(st) == ("2 rows wait for their calling hours; the first opens 2026-03-30 13:00 UTC; "
                                  "1 never opens (see reason)")
    assert describe_waits(st[st["inside"]]) == "every row is inside its calling hours"
    assert describe_waits(st.iloc[[1]]) == "1 row waits for its calling hours; the first opens 2026-03-30 13:00 UTC"
