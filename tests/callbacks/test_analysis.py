import datetime as dt

import numpy as np
import pandas as pd
import pytest

from cmvoice_nb.callbacks.analysis import AnalysisError, dtmf_summary, funnel, load_results, summarize
from cmvoice_nb.callbacks.load import load_callbacks

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


# --- funnel --------------------------------------------------------------------------------------

def campaign_results():
    """Six rows: 4 queued, 1 unknown (read timeout), 1 invalid, 1 rejected by the API."""
    return pd.DataFrame(
        {
            "instruction_id": ["row-0", "row-1", "row-2", "row-3", "row-4", "row-5", "row-6"],
            "callee": ["+31612345600"] * 7,
            "status": ["queued", "queued", "queued", "queued", "unknown", "invalid", "rejected"],
            "http_status": pd.array([200, 200, 200, 200, None, None, 400], dtype="Int64"),
            "call_ids": ["c0", "c1", "c2", "c3", None, None, None],
            "error": [None] * 7,
            "attempts": [1] * 7,
            "sent_at": pd.to_datetime(["2024-03-01T09:00:00Z"] * 7),
        },
        index=pd.Index([10, 11, 12, 13, 14, 15, 16], name="row"),
    )


def funnel_calls():
    return load_callbacks([
        callback(0, app="dtmf", code=10, digits="1"),
        callback(1, app="dtmf", code=10, digits=""),
        callback(2, app="dtmf", code=9),
        callback(4, app="dtmf", code=10, digits="2"),  # resolves the unknown row
        callback(99, app="dtmf", code=10, instruction_id="someone-else"),
    ])


def test_funnel_stages_follow_the_rows():
    f = funnel(campaign_results(), funnel_calls())
    stages = dict(zip(f.stages["stage"], f.stages["rows"]))
    assert stages == {"rows": 7, "sent": 6, "queued": 5, "callback received": 4, "answered": 3, "valid DTMF": 2}
    assert f.stages.loc[f.stages["stage"] == "answered", "share_of_sent"].item() == pytest.approx(0.5)


def test_funnel_lists_rows_waiting_for_a_callback():
    f = funnel(campaign_results(), funnel_calls())
    assert f.waiting.index.tolist() == [13]


def test_funnel_lists_unknown_rows_a_callback_resolves():
    f = funnel(campaign_results(), funnel_calls())
    assert f.resolved_unknown.index.tolist() == [14]
    assert f.rows.loc[14, "outcome"] == "Finished" and bool(f.rows.loc[14, "resolved"])
    assert f.unresolved_unknown.empty


def test_funnel_keeps_the_results_index_and_adds_per_row_outcomes():
    results = campaign_results()
    before = results.copy()
    f = funnel(results, funnel_calls())
    pd.testing.assert_frame_equal(results, before)
    assert f.rows.index.equals(results.index)
    assert f.rows.loc[10, "digits"] == "1" and bool(f.rows.loc[10, "valid_dtmf"])
    assert f.rows.loc[11, "stage"] == "answered" and not bool(f.rows.loc[11, "valid_dtmf"])
    assert f.rows.loc[15, "stage"] == "not sent" and f.rows.loc[16, "stage"] == "sent"


def test_funnel_reports_callbacks_matching_no_row():
    f = funnel(campaign_results(), funnel_calls())
    assert f.unmatched_callbacks["instruction_id"].tolist() == ["someone-else"]


def test_funnel_matches_on_call_ids_when_there_is_no_instruction_id():
    results = pd.DataFrame({"status": ["queued", "queued"], "call_ids": ["c-a;c-b", "c-z"]})
    calls = load_callbacks([
        {"type": "otp-finished", "call-id": "c-b", "result": {"code": 10}},
        {"type": "otp-finished", "call-id": "c-x", "result": {"code": 9}},
    ])
    f = funnel(results, calls)
    assert f.rows["callbacks"].tolist() == [1, 0]
    assert f.rows["answered"].tolist() == [True, False]
    assert f.unmatched_callbacks["call_id"].tolist() == ["c-x"]


def test_funnel_uses_the_latest_callback_for_a_row():
    late = callback(0, code=10, start=T0 + dt.timedelta(hours=1))
    late["call-id"] = "second-attempt"
    calls = load_callbacks([late, callback(0, code=9)])
    f = funnel(pd.DataFrame({"instruction_id": ["row-0"], "status": ["queued"]}), calls)
    assert f.rows.loc[0, "outcome"] == "Finished" and f.rows.loc[0, "callbacks"] == 2


def test_funnel_reads_the_campaign_results_csv(tmp_path):
    path = tmp_path / "results.csv"
    campaign_results().to_csv(path)
    results = load_results(path)
    assert results.index.name == "row" and results.index.tolist()[0] == 10
    assert str(results["http_status"].dtype) == "Int64"
    f = funnel(path, funnel_calls())
    assert f.waiting.index.tolist() == [13]
    assert "waiting=1" in repr(f) and "<table" in f._repr_html_()


def test_funnel_without_a_status_column_is_a_clear_error():
    with pytest.raises(AnalysisError, match="'status'"):
        funnel(pd.DataFrame({"instruction_id": ["a"]}), funnel_calls())


def test_callee_country_agrees_with_number_region_for_every_number():
    from cmvoice_nb.callbacks.analysis import callee_country
    from cmvoice_nb.numbers import number_region

    numbers = ["+31612345678", "0032470123456", "+14165551234", "+12125551234", "+447911123456",
               "+441481123456", "+77012345678", "+79123456789", "+262262123456", "+800123456", "junk", ""]
    got = callee_country(pd.Series(numbers + [None], dtype="string")).tolist()
    # Non-geographic numbers (+800: region "001") have no country.
    expected = [r if r not in (None, "001") else "unknown" for r in map(number_region, numbers)] + ["unknown"]
    assert got == expected
    assert got[9] == "unknown"
    assert got[:4] == ["NL", "BE", "CA", "US"]
