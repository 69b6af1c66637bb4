"""CallbackDashboard: load, filters, summary and funnel equal the library; the receiver refreshes it."""
from __future__ import annotations

import json
import time
import urllib.request


from cmvoice_nb.callbacks import funnel, load_callbacks, load_results, summarize
from cmvoice_nb.campaign import results_to_csv
from cmvoice_nb.widgets import CallbackDashboard, filter_calls


def _wait_until(predicate, timeout_s=20.0):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def test_load_click_equals_load_callbacks_and_summarize(callback_log):
    log, _results = callback_log
    dash = CallbackDashboard(log=log)
    dash.load.click()
    expected = load_callbacks(log, warn=False)
    assert dash.last_error is None
    assert dash.calls.equals(expected)
    assert dash.summary.equals(summarize(expected))
    assert len(dash.summary_out.outputs) >= 1 and len(dash.plots_out.outputs) == 3
    assert "8 of 8 calls shown" in dash.status.value


def test_outcome_and_app_filters_equal_selecting_the_rows(callback_log):
    log, _results = callback_log
    dash = CallbackDashboard(log=log)
    dash.load.click()
    dash.outcome.value = "Finished"
    calls = load_callbacks(log, warn=False)
    finished = calls[calls["outcome"].astype("string") == "Finished"]
    assert dash.filtered.equals(finished)
    assert dash.summary.equals(summarize(finished))
    dash.app.value = "otp"
    assert len(dash.filtered) == 0
    assert dash.last_error is None


def test_date_filter_keeps_only_calls_started_within_the_range(callback_log):
    import datetime as dt

    log, _results = callback_log
    dash = CallbackDashboard(log=log)
    dash.load.click()
    today = dash.calls["started_on"].dt.date.min()
    dash.date_to.value = today - dt.timedelta(days=1)
    assert len(dash.filtered) == 0
    dash.date_to.value = None
    dash.date_from.value = today
    assert len(dash.filtered) == len(dash.calls)


def test_filter_calls_never_modifies_its_input(callback_log):
    log, _ = callback_log
    calls = load_callbacks(log, warn=False)
    before = calls.copy()
    filter_calls(calls, outcome="Cancelled", app="notification")
    assert calls.equals(before)


def test_funnel_against_a_results_csv_equals_funnel(callback_log, tmp_path):
    log, results = callback_log
    csv = results_to_csv(results, tmp_path / "results.csv")
    dash = CallbackDashboard(log=log, results=csv)
    dash.load.click()
    expected = funnel(load_results(csv), load_callbacks(log, warn=False))
    assert dash.funnel.stages.equals(expected.stages)
    assert len(dash.funnel_out.outputs) == 2


def test_loading_a_missing_log_shows_the_error(tmp_path):
    dash = CallbackDashboard(log=tmp_path / "nope.jsonl")
    dash.load.click()
    assert dash.last_error is not None
    assert "nope.jsonl" in "".join(o.get("text", "") for o in dash.out.outputs)


def test_a_running_receiver_refreshes_the_dashboard(tmp_path):
    dash = CallbackDashboard(log=tmp_path / "live.jsonl")
    dash.start.click()
    try:
        assert dash.receiver is not None and dash.url.value.startswith("http://127.0.0.1:")
        assert dash.start.disabled and not dash.stop.disabled
        body = {"type": "otp-finished", "call-id": "6d0f176e-00ac-4de2-a04d-b3f7c895adb0",
                "instruction-id": "x-1", "callee": "+31612345610", "result": {"code": 10, "description": "Finished"},
                "started-on": "2026-01-01T09:00:00Z", "answered-on": "2026-01-01T09:00:05Z",
                "finished-on": "2026-01-01T09:00:30Z"}
        req = urllib.request.Request(dash.url.value, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        assert urllib.request.urlopen(req, timeout=5).status == 200
        _wait_until(lambda: dash.calls is not None and len(dash.calls) == 1)
        assert dash.calls["app"].tolist() == ["otp"]
    finally:
        dash.stop.click()
    assert dash.receiver is None and not dash.start.disabled
    assert len(load_callbacks(tmp_path / "live.jsonl", warn=False)) == 1
