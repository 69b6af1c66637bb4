"""The funnel: campaign results joined with their callbacks, one campaign among many, one period."""
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from cmvoice_nb.callbacks import AnalysisError, load_callbacks
from cmvoice_nb.campaign import funnel, load_results

from ..callbacks._factory import T0, callback
from ._two_campaigns import cid, two_campaign_calls, two_campaign_results

# --- one campaign --------------------------------------------------------------------------------------

def call_id(i):
    """The call id the provider gave call *i* (the factory's callbacks carry the same)."""
    return callback(i)["call-id"]


def campaign_results():
    """Seven rows: 4 queued, 1 unknown (read timeout), 1 invalid, 1 rejected by the API.

    The queued rows hold the call ids of the provider's answer, as real results do; the callee is
    the factory callbacks' (0031612345678) in E.164.
    """
    return pd.DataFrame(
        {
            "instruction_id": ["row-0", "row-1", "row-2", "row-3", "row-4", "row-5", "row-6"],
            "callee": ["+31612345678"] * 7,
            "status": ["queued", "queued", "queued", "queued", "unknown", "invalid", "rejected"],
            "http_status": pd.array([200, 200, 200, 200, None, None, 400], dtype="Int64"),
            "call_ids": [call_id(0), call_id(1), call_id(2), call_id(3), None, None, None],
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
    stages = dict(zip(f.stages["stage"], f.stages["rows"], strict=True))
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


# --- the funnel across two campaigns (_two_campaigns.py) ---------------------------------------------
def test_the_funnel_counts_only_its_own_campaigns_callbacks():
    a, b = two_campaign_results()
    calls = two_campaign_calls()
    fa, fb = funnel(a, calls), funnel(b, calls)
    assert sorted(fa.calls["call_id"]) == sorted(cid(t) for t in ["a0", "a1", "a2", "a2b", "a3"])
    assert sorted(fb.calls["call_id"]) == sorted(cid(t) for t in ["b0", "b1", "b3"])
    # Every callback is counted by at most one campaign; x1, x2 and c3 by none.
    assert not set(fa.calls["call_id"]) & set(fb.calls["call_id"])
    aside_in_both = set(fa.unmatched_callbacks["call_id"]) & set(fb.unmatched_callbacks["call_id"])
    assert {cid("x1"), cid("x2"), cid("c3")} <= aside_in_both
    assert len(fa.calls) + len(fa.unmatched_callbacks) == len(calls) == 11
    assert fa.rows["callbacks"].tolist() == [1, 1, 2, 1, 0]
    assert fb.rows["callbacks"].tolist() == [1, 1, 0, 1]


def test_an_unknown_row_is_resolved_by_its_own_call_not_by_another_campaigns_same_id():
    a, _ = two_campaign_results()
    f = funnel(a, two_campaign_calls())
    # people-3 has three callbacks: b3 (same callee, but started a day before A sent it),
    # c3 (another callee) and a3 (A's call). Only a3 resolves A's unknown row.
    assert f.resolved_unknown.index.tolist() == [3]
    assert f.calls.loc[f.calls["instruction_id"] == "people-3", "call_id"].tolist() == [cid("a3")]
    assert sorted(f.id_collisions["call_id"]) == sorted(cid(t) for t in ["b0", "b1", "b3", "c3"])


def test_the_funnel_stages_of_two_campaigns_have_hand_computed_denominators():
    a, b = two_campaign_results()
    calls = two_campaign_calls()
    got = funnel(a, calls).stages.set_index("stage")
    # A: 5 rows; sent = 3 queued + 1 unknown = 4; queued = 3 + the resolved unknown = 4;
    # callback received = 4 (rows 0-3); answered = row 0 (a0), row 2 (a2), row 3 (a3) = 3.
    assert got["rows"].tolist() == [5, 4, 4, 4, 3]
    np.testing.assert_allclose(got["share_of_rows"], [5 / 5, 4 / 5, 4 / 5, 4 / 5, 3 / 5])
    np.testing.assert_allclose(got["share_of_sent"], [np.nan, 4 / 4, 4 / 4, 4 / 4, 3 / 4])
    np.testing.assert_allclose(got["share_of_previous"], [np.nan, 4 / 5, 4 / 4, 4 / 4, 3 / 4])
    got = funnel(b, calls).stages.set_index("stage")
    # B: 4 rows; sent = 3 queued + 1 rejected = 4; queued = 3; callbacks = 3 (b0, b1, b3), all answered.
    # Its rejected people-2 placed nothing, so A's people-2 callbacks are not its own.
    assert got["rows"].tolist() == [4, 4, 3, 3, 3]
    np.testing.assert_allclose(got["share_of_rows"], [1, 1, 3 / 4, 3 / 4, 3 / 4])
    np.testing.assert_allclose(got["share_of_sent"], [np.nan, 1, 3 / 4, 3 / 4, 3 / 4])
    np.testing.assert_allclose(got["share_of_previous"], [np.nan, 1, 3 / 4, 1, 1])


def test_no_share_exceeds_one_when_rows_outnumber_sends():
    # 13 rows of which 2 invalid: "rows" used to read 13/11 = 118 % of sent.
    results = pd.DataFrame({"instruction_id": [f"r{i}" for i in range(13)],
                            "status": ["queued"] * 11 + ["invalid"] * 2})
    stages = funnel(results, load_callbacks([])).stages
    assert np.isnan(stages.loc[stages["stage"] == "rows", "share_of_sent"].item())
    shares = stages[["share_of_rows", "share_of_sent", "share_of_previous"]].to_numpy()
    assert np.nanmax(shares) <= 1.0
    assert stages.loc[stages["stage"] == "sent", "share_of_rows"].item() == pytest.approx(11 / 13)


def test_the_funnel_reads_two_campaigns_back_from_their_csv_files(tmp_path):
    a, _ = two_campaign_results()
    path = tmp_path / "a.csv"
    a.to_csv(path)
    f = funnel(path, two_campaign_calls())
    assert f.stages["rows"].tolist() == [5, 4, 4, 4, 3]
    assert f.resolved_unknown.index.tolist() == [3]


def test_funnel_text_shows_the_stages_and_what_was_set_aside():
    a, _ = two_campaign_results()
    text = funnel(a, two_campaign_calls()).to_text()
    lines = text.splitlines()
    assert lines[0].split() == ["stage", "rows", "of", "rows", "of", "sent", "of", "previous"]
    assert lines[5].split() == ["answered", "3", "60.0%", "75.0%", "75.0%"]
    assert "5 of this campaign, 6 set aside" in text and "4 of them carry one of this campaign's" in text


def test_a_call_quoted_by_a_refused_row_belongs_to_the_row_that_placed_it():
    # Re-run after inserting a row: the same person again is refused ("already-called") and names the
    # earlier call; the row that placed the call owns its callback, whatever the row order.
    results = pd.DataFrame({"instruction_id": ["p-new", "p-ann"], "callee": ["+31612345678"] * 2,
                            "status": ["already-called", "queued"], "call_ids": [call_id(0), call_id(0)]})
    f = funnel(results, load_callbacks([callback(0, instruction_id="p-ann")]))
    assert f.rows["callbacks"].tolist() == [0, 1]
    assert f.stages.set_index("stage")["rows"].tolist() == [2, 1, 1, 1, 1]


# --- results with missing values (a hand-edited or truncated results CSV) -------------------------

MALFORMED_RESULTS_CSV = (
    "row,instruction_id,callee,status,http_status,call_ids,error,attempts,sent_at\n"
    "0,spring-0,+31612345610,queued,200,c-0,,1,2024-03-01T09:00:00.000Z\n"
    "1,spring-1,+31612345611,,,,,,\n"                       # status and call ids blank
    "2,spring-2,+31612345612,queued,200,,,1,2024-03-01T09:00:01.000Z\n"  # call ids blank
    "3,spring-3,+31612345613,   ,,,,,\n"                    # status only spaces
    "4,spring-4,+31612345614,invalid,,,bad number,0,\n"
)


def test_a_results_csv_with_blank_status_and_call_ids_gives_a_funnel_not_a_type_error(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text(MALFORMED_RESULTS_CSV, encoding="utf-8")
    calls = load_callbacks([
        {"type": "otp-finished", "call-id": "c-0", "instruction-id": "spring-0", "callee": "0031612345610",
         "result": {"code": 10}},
        # Row 1's own call: same instruction id and callee, its call id never recorded.
        {"type": "otp-finished", "call-id": "c-1", "instruction-id": "spring-1", "callee": "0031612345611",
         "result": {"code": 9}},
    ])
    f = funnel(path, calls)
    stages = dict(zip(f.stages["stage"], f.stages["rows"], strict=True))
    # Rows 0 and 2 are queued; row 1 has no status but its callback shows the call was placed;
    # row 3 has no status and no callback: not counted as sent; row 4 was invalid.
    assert stages == {"rows": 5, "sent": 3, "queued": 3, "callback received": 2, "answered": 1}
    assert f.rows.loc[1, "stage"] == "callback received" and f.rows.loc[1, "outcome"] == "Cancelled"
    assert f.rows.loc[3, "stage"] == "not sent"
    assert f.unmatched_callbacks.empty and f.waiting.index.tolist() == [2]


def test_a_results_frame_with_missing_statuses_never_claims_another_persons_call():
    results = pd.DataFrame({"instruction_id": ["a", "b"], "callee": ["+31612345610", "+31612345611"],
                            "status": pd.array([None, pd.NA], dtype="string"), "call_ids": [None, np.nan]})
    calls = load_callbacks([
        # Same instruction id as row "a", but someone else was called: another campaign's call.
        {"type": "otp-finished", "call-id": "x", "instruction-id": "a", "callee": "+32470123456",
         "result": {"code": 10}},
    ])
    f = funnel(results, calls)
    assert dict(zip(f.stages["stage"], f.stages["rows"], strict=True))["sent"] == 0
    assert f.rows["stage"].tolist() == ["not sent", "not sent"]
    assert f.id_collisions["call_id"].tolist() == ["x"]


# --- a funnel over one period (the dashboard's date filter) -----------------------------------------

def two_day_campaign():
    """Row 0 sent on 1 March, row 1 on 2 March, row 2 never sent; each sent row has its callback that day."""
    results = pd.DataFrame({
        "instruction_id": ["d1", "d2", "bad"], "callee": ["+31612345610", "+31612345611", "+31612345612"],
        "status": ["queued", "queued", "invalid"], "call_ids": ["c-d1", "c-d2", None],
        "sent_at": pd.to_datetime(["2024-03-01T09:00:00Z", "2024-03-02T23:30:00Z", None], utc=True)})
    calls = load_callbacks([
        {"type": "otp-finished", "call-id": "c-d1", "instruction-id": "d1", "result": {"code": 10},
         "started-on": "2024-03-01T09:00:05Z"},
        {"type": "otp-finished", "call-id": "c-d2", "instruction-id": "d2", "result": {"code": 10},
         "started-on": "2024-03-02T23:30:04Z"},
    ])
    return results, calls


def test_a_funnel_over_one_day_compares_that_days_rows_with_that_days_calls():
    results, calls = two_day_campaign()
    f = funnel(results, calls, since=dt.date(2024, 3, 2), until="2024-03-02")
    stages = dict(zip(f.stages["stage"], f.stages["rows"], strict=True))
    # Day 2 only: its row, the never-sent row, and its own callback: 1 of 1 sent answered (100 %, not 50 %).
    assert stages == {"rows": 2, "sent": 1, "queued": 1, "callback received": 1, "answered": 1}
    assert f.rows.index.tolist() == [1, 2] and f.unmatched_callbacks.empty
    assert f.notes == ["2 of 3 results rows sent in the period (or never sent)"]
    assert "note: 2 of 3 results rows" in f.to_text()


def test_the_period_is_read_in_the_given_time_zone():
    results, calls = two_day_campaign()
    # 23:30 UTC on 2 March is already 3 March in Amsterdam.
    f = funnel(results, calls, since="2024-03-03", tz="Europe/Amsterdam")
    assert f.rows.index.tolist() == [1, 2]
    assert dict(zip(f.stages["stage"], f.stages["rows"], strict=True))["answered"] == 1


def test_a_period_ending_before_it_starts_is_a_clear_error():
    results, calls = two_day_campaign()
    with pytest.raises(AnalysisError, match="is not after since"):
        funnel(results, calls, since="2024-03-02", until="2024-03-01")
    with pytest.raises(AnalysisError, match="since='yesterday-ish' is not a date"):
        funnel(results, calls, since="yesterday-ish")


def test_the_funnel_warns_when_results_and_callbacks_do_not_overlap():
    results, _ = two_day_campaign()
    others = load_callbacks([{"type": "otp-finished", "call-id": "zz", "instruction-id": "other-1",
                              "result": {"code": 10}}])
    f = funnel(results, others)
    assert any("none of the 1 callbacks belongs to these results" in n for n in f.notes)
    assert "none of the 1 callbacks" in f._repr_html_()
    assert funnel(*two_day_campaign()).notes == []


def test_a_results_csv_with_an_unclosed_quote_is_refused_naming_the_row_and_column(tmp_path):
    from cmvoice_nb.errors import CampaignError

    path = tmp_path / "results.csv"
    # The quote opened in row 0 swallows row 1: pandas reads one row whose id spans two lines.
    path.write_bytes(b'row,instruction_id,status\n0,"a,queued\n1,b,queued,extra,"x\n')
    with pytest.raises(CampaignError, match=r"results.csv: cannot read campaign results: row 0: instruction_id runs "
                                            r"over several lines .*a quote \(\"\) is not closed"):
        load_results(path)
    with pytest.raises(CampaignError, match="is not closed"):
        funnel(path, [])


def test_the_funnel_plots_each_of_its_stages():
    from matplotlib.figure import Figure

    from cmvoice_nb.callbacks import plot_funnel

    results = pd.DataFrame({"instruction_id": [f"row-{i}" for i in range(30)], "status": ["queued"] * 30})
    f = funnel(results, funnel_calls())
    fig = plot_funnel(f)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert isinstance(fig, Figure) and sorted(labels) == sorted(f.stages["stage"].tolist())
    assert fig.axes[0].patches[0].get_width() == 30


def test_valid_dtmf_is_judged_over_the_dtmf_calls_not_over_every_call():
    calls = load_callbacks([
        callback(0, app="dtmf", code=10, digits="1"),
        callback(1, app="dtmf", code=10, digits=""),
        callback(2, app="notification", code=10),  # a Notification call can never give digits
        callback(3, app="notification", code=10),
    ])
    stages = funnel(campaign_results().iloc[:4], calls).stages.set_index("stage")
    assert int(stages.loc["valid DTMF", "rows"]) == 1
    assert stages.loc["valid DTMF", "share_of_sent"] == pytest.approx(1 / 4)
    assert int(stages.loc["valid DTMF", "reachable"]) == 2
    assert stages.loc["valid DTMF", "share_of_reachable"] == pytest.approx(1 / 2)
    assert int(stages.loc["sent", "reachable"]) == 4 and int(stages.loc["answered", "reachable"]) == 4
