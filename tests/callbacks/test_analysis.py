
import numpy as np
import pandas as pd
import pytest

from cmvoice_nb.callbacks import AnalysisError, dtmf_summary, load_callbacks, summarize

from ._factory import T0, callback


@pytest.fixture
def calls():
    """Ten calls with hand-checkable numbers.

    notification: 4 calls, 3 answered (ring 2, 4, 6 s; talk 10, 20, 30 s), 1 Cancelled (ring 60 s)
    otp:          3 calls, 1 answered (ring 8 s, talk 40 s), 1 Failed (ring 1 s), 1 Rejected (ring 3 s)
    dtmf:         3 calls, all answered (ring 1, 1, 1 s; talk 5 s), digits "1", "1", ""
    """
    items = [
        callback(0, app="notification", code=10, ring_s=2, talk_s=10, callee="0031612345600"),
        callback(1, app="notification", code=10, ring_s=4, talk_s=20, callee="0031612345601"),
        callback(2, app="notification", code=10, ring_s=6, talk_s=30, callee="0032470123456"),
        callback(3, app="notification", code=9, ring_s=60, callee="0032470123457"),
        callback(4, app="otp", code=10, ring_s=8, talk_s=40, callee="+4915112345678"),
        callback(5, app="otp", code=11, ring_s=1, callee="+4915112345679"),
        callback(6, app="otp", code=12, ring_s=3, callee="+4915112345670"),
        callback(7, app="dtmf", code=10, ring_s=1, talk_s=5, digits="1"),
        callback(8, app="dtmf", code=10, ring_s=1, talk_s=5, digits="1"),
        callback(9, app="dtmf", code=10, ring_s=1, talk_s=5, digits=""),
    ]
    return load_callbacks(items)


def test_overall_summary_counts_outcomes_and_answer_rate(calls):
    s = summarize(calls)
    row = s.loc["all"]
    assert row["calls"] == 10 and row["answered"] == 7
    assert row["answer_rate"] == pytest.approx(0.7)
    assert (row["Finished"], row["Cancelled"], row["Failed"], row["Rejected"], row["unknown"]) == (7, 1, 1, 1, 0)


def test_overall_summary_percentiles_are_computed_over_the_right_calls(calls):
    row = summarize(calls).loc["all"]
    ring = [2, 4, 6, 60, 8, 1, 3, 1, 1, 1]
    talk = [10, 20, 30, 40, 5, 5, 5]
    assert row["ring_seconds_p50"] == pytest.approx(np.percentile(ring, 50))
    assert row["ring_seconds_p90"] == pytest.approx(np.percentile(ring, 90))
    assert row["talk_seconds_p50"] == pytest.approx(10.0)
    assert row["talk_seconds_mean"] == pytest.approx(sum(talk) / 7)


def test_summary_by_app(calls):
    s = summarize(calls, by="app")
    assert s.index.tolist() == ["dtmf", "notification", "otp"]
    assert s["calls"].tolist() == [3, 4, 3]
    assert s["answer_rate"].tolist() == pytest.approx([1.0, 0.75, 1 / 3])
    assert s.loc["notification", "talk_seconds_p50"] == pytest.approx(20.0)
    assert s.loc["otp", "Failed"] == 1 and s.loc["otp", "Rejected"] == 1


def test_summary_by_callee_country(calls):
    s = summarize(calls, by="country")
    assert s.loc["NL", "calls"] == 5  # two notification + three dtmf (default callee)
    assert s.loc["BE", "calls"] == 2 and s.loc["BE", "answered"] == 1
    assert s.loc["DE", "calls"] == 3


def test_summary_by_hour_uses_the_time_zone():
    items = [
        callback(0, start=T0.replace(hour=8), code=10),
        callback(1, start=T0.replace(hour=8, minute=30), code=9),
        callback(2, start=T0.replace(hour=14), code=10),
    ]
    calls = load_callbacks(items)
    utc = summarize(calls, by="hour")
    assert utc.index.tolist() == [8, 14] and utc.loc[8, "answer_rate"] == 0.5
    amsterdam = summarize(calls, by="hour", tz="Europe/Amsterdam")  # UTC+1 in March
    assert amsterdam.index.tolist() == [9, 15]


def test_summary_by_a_user_column_after_a_join(calls):
    campaign = pd.DataFrame({"instruction_id": [f"row-{i}" for i in range(10)],
                             "segment": ["gold"] * 5 + ["basic"] * 5})
    joined = calls.merge(campaign, on="instruction_id", how="left")
    s = summarize(joined, by=["segment", "app"])
    assert s.loc[("gold", "notification"), "calls"] == 4
    assert s.loc[("basic", "dtmf"), "answered"] == 3


def test_summary_by_an_unknown_key_names_the_choices(calls):
    with pytest.raises(AnalysisError, match="not a column"):
        summarize(calls, by="colour")


def test_summary_does_not_modify_the_input(calls):
    before = calls.copy()
    summarize(calls, by=["country", "hour"])
    pd.testing.assert_frame_equal(calls, before)


def test_summary_of_no_calls_is_empty():
    assert summarize(load_callbacks([]), by="app").empty


def test_dtmf_summary_counts_valid_and_empty_input(calls):
    d = dtmf_summary(calls)
    o = d.overview
    assert (o["calls"], o["answered"], o["with_input"], o["empty_input"], o["valid_input"]) == (3, 3, 2, 1, 2)
    assert o["valid_share"] == pytest.approx(2 / 3) and o["empty_share"] == pytest.approx(1 / 3)
    assert d.digits.to_dict("records") == [{"digits": "1", "count": 2, "share": pytest.approx(2 / 3), "valid": True}]
    assert "DTMFSummary(calls=3" in repr(d)


def test_dtmf_summary_with_a_stricter_rule():
    calls = load_callbacks([
        callback(0, app="dtmf", digits="1"), callback(1, app="dtmf", digits="2"), callback(2, app="dtmf", digits="9"),
    ])
    assert dtmf_summary(calls, valid=r"[12]").overview["valid_input"] == 2
    assert dtmf_summary(calls, valid={"9"}).overview["valid_input"] == 1
    assert dtmf_summary(calls, valid=lambda d: d.isdigit()).overview["valid_input"] == 3


def test_dtmf_summary_without_dtmf_calls_is_empty_not_an_error():
    d = dtmf_summary(load_callbacks([callback(0)]))
    assert d.overview["calls"] == 0 and d.digits.empty and np.isnan(d.overview["valid_share"])


def test_callee_country_agrees_with_country_of_for_every_number():
    from cmvoice_nb.callbacks import callee_country
    from cmvoice_nb.numbers import country_of

    numbers = ["+31612345678", "0032470123456", "+14165551234", "+12125551234", "+447911123456",
               "+441481123456", "+77012345678", "+79123456789", "+262262123456", "+800123456", "junk", ""]
    got = callee_country(pd.Series(numbers + [None], dtype="string")).tolist()
    # Non-geographic numbers (+800: region "001") have no country.
    expected = [country_of(n) or "unknown" for n in numbers] + ["unknown"]
    assert got == expected
    assert got[9] == "unknown"
    assert got[:4] == ["NL", "BE", "CA", "US"]


def test_the_dtmf_summary_renders_in_the_shared_style_with_shares_as_percentages(calls):
    page = dtmf_summary(calls)._repr_html_()
    assert page.count("<div class='cmvoice-table-box'>") == 2
    assert ">66.7 %<" in page and ">0.666" not in page  # 2 valid of 3 answered


def test_summary_by_a_key_named_like_a_figure_it_reports_groups_by_that_key(calls):
    # "answered" is a column of the calls and a figure of the summary: both must survive
    by_answered = summarize(calls, by="answered")
    assert by_answered.index.name == "answered"
    assert by_answered["calls"].sum() == len(calls)
    for flag, row in by_answered.iterrows():
        assert row["answered"] == (row["calls"] if flag else 0)
    both = summarize(calls, by=["app", "answered"])
    assert list(both.index.names) == ["app", "answered"] and both["calls"].sum() == len(calls)
    assert summarize(calls, by="app").index.name == "app"


def test_a_period_ending_on_the_day_clocks_go_forward_ends_at_that_day_s_local_midnight():
    from cmvoice_nb.callbacks import calls_in_period, period_bounds

    _lo, hi = period_bounds(until="2024-03-31", tz="Europe/Amsterdam")  # a 23-hour day (CET -> CEST)
    assert str(hi) == "2024-03-31 22:00:00+00:00"  # 1 April 00:00 in Amsterdam
    _lo, hi = period_bounds(until="2024-10-27", tz="Europe/Amsterdam")  # a 25-hour day (CEST -> CET)
    assert str(hi) == "2024-10-27 23:00:00+00:00"
    calls = [{"type": "otp-finished", "call-id": "late", "result": {"code": 10}, "started-on": "2024-03-31T22:00:00Z"},
             {"type": "otp-finished", "call-id": "in", "result": {"code": 10}, "started-on": "2024-03-31T21:59:00Z"}]
    assert calls_in_period(calls, until="2024-03-31", tz="Europe/Amsterdam")["call_id"].tolist() == ["in"]
