"""CallbackDashboard: load, filters, summary and funnel equal the library; the receiver refreshes it."""
from __future__ import annotations

import json
import urllib.request

from cmvoice_nb.callbacks import load_callbacks, summarize
from cmvoice_nb.campaign import funnel, load_results, results_to_csv
from cmvoice_nb.widgets import CallbackDashboard, filter_calls

from .._wait import scaled, wait_until


def assert_same_summary(got, expected):
    """Same counts, rates and percentiles; the mean talk time to the last bits (summed in another order)."""
    import pandas as pd

    pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12, atol=0)
    exact = [c for c in expected.columns if c != "talk_seconds_mean"]
    pd.testing.assert_frame_equal(got[exact], expected[exact], check_exact=True)


def test_load_click_equals_load_callbacks_and_summarize(callback_log):
    log, _results = callback_log
    dash = CallbackDashboard(log=log)
    dash.load.click()
    expected = load_callbacks(log, warn=False)
    assert dash.last_error is None
    assert dash.calls.equals(expected)
    assert_same_summary(dash.summary, summarize(expected))
    assert len(dash.summary_out.outputs) >= 1 and "8 of 8 calls shown" in dash.status.value
    assert dash.plots.children == ()  # drawn when seen: three figures cost more than the counting
    dash.tabs.selected_index = 1
    assert len(dash.plots.children) == 3 and dash.last_error is None


def test_outcome_and_app_filters_equal_selecting_the_rows(callback_log):
    log, _results = callback_log
    dash = CallbackDashboard(log=log)
    dash.load.click()
    dash.outcome.value = "Finished"
    calls = load_callbacks(log, warn=False)
    finished = calls[calls["outcome"].astype("string") == "Finished"]
    assert dash.filtered.equals(finished)
    assert_same_summary(dash.summary, summarize(finished))
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
    assert dash.last_error is None and "do not overlap" not in dash.status.value


def test_loading_a_missing_log_shows_the_error(tmp_path):
    dash = CallbackDashboard(log=tmp_path / "nope.jsonl")
    dash.load.click()
    assert dash.last_error is not None
    assert "Load failed: " in dash.status.value and "nope.jsonl: no such file" in dash.status.value
    assert "#cf222e" in dash.status.value


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
        wait_until(lambda: dash.calls is not None and len(dash.calls) == 1)
        assert dash.calls["app"].tolist() == ["otp"]
    finally:
        dash.stop.click()
    assert dash.receiver is None and not dash.start.disabled
    assert len(load_callbacks(tmp_path / "live.jsonl", warn=False)) == 1


# -- issue 16: the funnel follows the filter, loaded data stays, empty states say so ------------------

def test_the_funnel_counts_the_same_filtered_calls_as_the_summary(callback_log):
    log, results = callback_log
    dash = CallbackDashboard(log=log, results=results)
    dash.load.click()
    all_received = int(dash.funnel.stages.set_index("stage").loc["callback received", "rows"])
    dash.outcome.value = "Finished"  # the funnel's stages are outcomes: it keeps every outcome
    assert int(dash.funnel.stages.set_index("stage").loc["callback received", "rows"]) == all_received
    dash.outcome.value = "all"
    dash.app.value = "otp"  # no OTP calls in this notification campaign: the funnel sees none either
    received = int(dash.funnel.stages.set_index("stage").loc["callback received", "rows"])
    assert len(dash.filtered) == 0 and received == 0
    assert "No calls match these filters" in str(dash.summary_out.outputs)
    dash.tabs.selected_index = 1
    assert "nothing to plot" in dash.plots_note.value and dash.plots.children == ()
    dash.app.value = "notification"  # while the plots are shown, a filter change redraws them
    assert len(dash.plots.children) == 3 and dash.plots_note.value == ""


def test_a_date_filter_narrows_the_results_rows_of_the_funnel_too(callback_log):
    import datetime as dt

    log, results = callback_log
    dash = CallbackDashboard(log=log, results=results)
    dash.load.click()
    sent_day = results["sent_at"].dropna().dt.date.min()
    dash.date_to.value = sent_day - dt.timedelta(days=1)
    stages = dash.funnel.stages.set_index("stage")["rows"]
    assert int(stages.loc["sent"]) == 0  # rows sent later are not counted against no callbacks
    assert "0 of 8 results rows sent in the period" in str(dash.funnel_out.outputs)


def test_results_that_share_no_call_with_the_callbacks_are_flagged(callback_log):
    import pandas as pd

    log, _results = callback_log
    other = pd.DataFrame({"instruction_id": ["other-1", "other-2"], "callee": ["+31699999901", "+31699999902"],
                          "status": ["queued", "queued"], "call_ids": ["aaaa", "bbbb"]})
    dash = CallbackDashboard(log=log, results=other)
    dash.load.click()
    assert "do not overlap" not in dash.status.value and dash.funnel_out.outputs == ()  # drawn when seen
    dash.tabs.selected_index = 2
    assert "do not overlap" in dash.status.value
    assert "None of the 8 callbacks belongs to these 2 results rows" in str(dash.funnel_out.outputs)


def test_an_unreadable_results_csv_keeps_the_loaded_calls_and_says_what_is_wrong(callback_log, tmp_path):
    log, _results = callback_log
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(b"\x00\xff" * 50)
    dash = CallbackDashboard(log=log, results=garbage)
    dash.tabs.selected_index = 2  # the funnel tab is shown: it is drawn with every load and filter change
    dash.load.click()
    assert dash.last_error is None and len(dash.calls) == 8
    assert "results CSV unreadable" in dash.status.value
    bad = tmp_path / "results.csv"
    bad.write_bytes(b'row,instruction_id,status\n0,"a,queued\n1,b,queued,extra,"x\n')
    dash = CallbackDashboard(log=log, results=bad)
    dash.tabs.selected_index = 2
    dash.load.click()
    assert dash.last_error is None and len(dash.calls) == 8
    assert "8 of 8 calls shown" in dash.status.value and "results CSV unreadable" in dash.status.value
    # The results reader names the fault (an unclosed quote swallowed rows), not a pandas internal.
    shown = str(dash.funnel_out.outputs)
    assert "could not be read" in shown and "row 0: instruction_id runs over several lines" in shown
    assert "ambiguous" not in shown


def test_starting_the_receiver_keeps_the_loaded_calls(callback_log, tmp_path):
    log, _results = callback_log
    dash = CallbackDashboard(log=tmp_path / "other.jsonl")
    dash.log_path.value = str(log)
    dash.load.click()
    dash.log_path.value = str(tmp_path / "live.jsonl")
    dash.start.click()
    try:
        assert len(dash.calls) == 8 and "8 loaded calls stay shown" in dash.status.value
        body = {"type": "otp-finished", "call-id": "7d0f176e-00ac-4de2-a04d-b3f7c895adb0",
                "instruction-id": "x-2", "callee": "+31612345610", "result": {"code": 10, "description": "Finished"},
                "started-on": "2026-01-01T09:00:00Z", "finished-on": "2026-01-01T09:00:30Z"}
        req = urllib.request.Request(dash.url.value, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        assert urllib.request.urlopen(req, timeout=5).status == 200
        wait_until(lambda: len(dash.calls) >= 9)  # the watcher took the new one: the loaded 8 stayed
        assert len(dash.calls) == 9
        url = dash.url.value
        dash.url.value = "typed over"  # the URL can be selected and copied, not changed
        assert dash.url.value == url
    finally:
        dash.stop.click()


def test_count_axes_have_whole_number_ticks(callback_log):
    import matplotlib.pyplot as plt

    from cmvoice_nb.callbacks import load_callbacks, plot_ring_time
    from cmvoice_nb.widgets.dashboard import figure_png

    fig = plot_ring_time(load_callbacks(callback_log[0], warn=False).head(2))
    ax = fig.axes[0]
    figure_png(fig)
    assert all(float(t).is_integer() for t in ax.get_yticks())
    plt.close("all")


def test_buttons_are_disabled_while_loading_and_an_old_error_goes_after_a_success(callback_log, tmp_path,
                                                                                 monkeypatch):
    import threading

    import cmvoice_nb.callbacks as callbacks

    log, _results = callback_log
    dash = CallbackDashboard(log=tmp_path / "missing.jsonl")
    dash.load.click()
    assert dash.last_error is not None
    started, release = threading.Event(), threading.Event()
    real = callbacks.load_callbacks

    def slow(*args, **kwargs):
        started.set()
        release.wait(scaled(10))
        return real(*args, **kwargs)

    monkeypatch.setattr(callbacks, "load_callbacks", slow)
    dash.log_path.value = str(log)
    worker = threading.Thread(target=dash.load.click)
    worker.start()
    assert started.wait(scaled(10))
    assert dash.load.disabled and dash.refresh.disabled and dash.start.disabled
    assert dash.last_error is None and "loading the log" in dash.status.value
    release.set()
    worker.join(scaled(10))
    assert not (dash.load.disabled or dash.refresh.disabled or dash.start.disabled)
    assert "8 of 8 calls shown" in dash.status.value and "#cf222e" not in dash.status.value


# -- issue 15: a million callbacks; the receiver's new callbacks are appended, not re-read --------------

def _post(url, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    assert urllib.request.urlopen(req, timeout=5).status == 200


def test_the_receiver_adds_only_its_new_callbacks_and_drops_a_redelivery_like_a_reload(callback_log, tmp_path,
                                                                                       monkeypatch):
    import shutil

    from cmvoice_nb.callbacks import aggregate as aggregate_module

    log, _results = callback_log
    live = tmp_path / "live.jsonl"
    shutil.copy(log, live)
    dash = CallbackDashboard(log=live)
    dash.load.click()
    aggregated = []
    real = aggregate_module.aggregate_calls

    def spy(calls, **kwargs):
        aggregated.append(len(calls))
        return real(calls, **kwargs)

    monkeypatch.setattr(aggregate_module, "aggregate_calls", spy)
    first = json.loads(log.read_text().splitlines()[0])
    first.pop("received-at", None)
    dash.start.click()
    try:
        _post(dash.url.value, first)  # the provider delivers a loaded callback again
        new = dict(first, **{"call-id": "9d0f176e-00ac-4de2-a04d-b3f7c895adb0", "instruction-id": "x-9"})
        _post(dash.url.value, new)
        dash.receiver.wait_for(2, timeout=scaled(10))
        wait_until(lambda: dash.history.version >= 1 and dash._taken == 2)
    finally:
        dash.stop.click()
    # The receiver wrote both to the log: reading it all again gives the same calls.
    assert dash.calls.reset_index(drop=True).equals(load_callbacks(live, warn=False))
    assert len(dash.calls) == 9 and dash.history.duplicates_removed == 1
    assert aggregated and max(aggregated) <= 2  # only what arrived was aggregated, never the history
    assert_same_summary(dash.summary, summarize(load_callbacks(live, warn=False)))


def test_refresh_of_an_unchanged_log_does_not_read_it_again(callback_log, tmp_path, monkeypatch):
    import shutil

    import cmvoice_nb.callbacks as callbacks

    log, _results = callback_log
    copy = tmp_path / "copy.jsonl"
    shutil.copy(log, copy)
    dash = CallbackDashboard(log=copy)
    dash.load.click()
    reads = []
    real = callbacks.load_callbacks
    monkeypatch.setattr(callbacks, "load_callbacks", lambda *a, **k: reads.append(a) or real(*a, **k))
    dash.refresh.click()
    assert reads == [] and "unchanged since it was loaded" in str(dash.out.outputs)
    assert "8 of 8 calls shown" in dash.status.value
    with copy.open("a", encoding="utf-8") as fh:  # another process appends a callback
        fh.write(json.dumps({"type": "otp-finished", "call-id": "c1", "result": {"code": 9}}) + "\n")
    dash.refresh.click()
    assert len(reads) == 1 and "9 of 9 calls shown" in dash.status.value


def test_the_funnel_is_computed_when_its_tab_is_shown_and_not_again_for_an_outcome_change(callback_log,
                                                                                           monkeypatch):
    from cmvoice_nb import campaign

    log, results = callback_log
    funnels = []
    real = campaign.funnel
    monkeypatch.setattr(campaign, "funnel", lambda *a, **k: funnels.append(k) or real(*a, **k))
    dash = CallbackDashboard(log=log, results=results)
    dash.load.click()
    dash.outcome.value = "Finished"
    assert funnels == [] and dash.funnel_out.outputs == ()
    dash.tabs.selected_index = 2
    assert len(funnels) == 1 and "Funnel" in str(dash.funnel_out.outputs)
    dash.outcome.value = "Cancelled"  # the funnel's stages are outcomes: the same funnel, drawn again
    assert len(funnels) == 1 and "the outcome filter does not apply here" in str(dash.funnel_out.outputs)
    dash.app.value = "otp"
    assert len(funnels) == 2 and funnels[-1]["since"] is None


def test_filters_work_on_arrow_backed_and_categorical_columns(callback_log):
    import pandas as pd
    import pyarrow as pa

    log, results = callback_log
    calls = load_callbacks(log, warn=False)
    arrow = calls.copy()
    for col in ("type", "call_id", "instruction_id", "caller", "callee", "digits"):
        arrow[col] = arrow[col].astype(pd.ArrowDtype(pa.string()))
    arrow["app"] = arrow["app"].astype("category")
    dash = CallbackDashboard(log=log, results=results)
    dash.calls = arrow
    dash.render()
    dash.app.value = "notification"
    dash.outcome.value = "Finished"
    finished = calls[(calls["outcome"] == "Finished").to_numpy()]
    assert dash.view.total == len(finished) == len(dash.filtered) and dash.last_error is None
    assert dash.summary[["calls", "answered", "Finished"]].iloc[0].tolist() == [len(finished)] * 3
    dash.tabs.selected_index = 1
    assert len(dash.plots.children) == 3 and dash.last_error is None
    assert int(dash.funnel.stages.set_index("stage").loc["callback received", "rows"]) == len(calls)


def test_a_rewritten_results_csv_gives_a_new_funnel(callback_log, tmp_path):
    import os

    log, results = callback_log
    csv = results_to_csv(results, tmp_path / "results.csv")
    dash = CallbackDashboard(log=log, results=csv)
    dash.load.click()
    assert int(dash.funnel.stages.set_index("stage").loc["rows", "rows"]) == len(results)
    results_to_csv(results.head(3), tmp_path / "fewer.csv")
    os.replace(tmp_path / "fewer.csv", csv)  # the campaign's results written again, smaller
    dash.outcome.value = "Finished"
    assert int(dash.funnel.stages.set_index("stage").loc["rows", "rows"]) == 3


def test_a_from_date_after_the_to_date_says_so_and_a_fix_shows_the_calls_again(callback_log):
    import datetime as dt

    log, results = callback_log
    dash = CallbackDashboard(log=log, results=results)
    dash.load.click()
    day = dash.calls["started_on"].dt.date.min()
    dash.date_from.value = day + dt.timedelta(days=2)
    dash.date_to.value = day
    assert dash.last_error is None and "From date is after the To date" in dash.status.value
    assert dash.view is None and dash.funnel is None
    assert "From date is after the To date" in str(dash.summary_out.outputs)
    assert len(dash.filtered) == 0
    dash.date_from.value = day
    assert "8 of 8 calls shown" in dash.status.value and dash.funnel is not None
