"""The dashboard's funnel rates over the calls that can reach each step, readable headers, and a failed load."""
from __future__ import annotations

import pandas as pd

from cmvoice_nb.widgets import CallbackDashboard
from cmvoice_nb.widgets.dashboard import funnel_table, readable


def test_the_funnel_tab_shows_each_rate_over_the_calls_that_can_reach_it(callback_log, tmp_path):
    from cmvoice_nb.campaign import results_to_csv

    log, results = callback_log
    dash = CallbackDashboard(log=log, results=results_to_csv(results, tmp_path / "results.csv"))
    dash.load.click()
    dash.tabs.selected_index = 2
    shown = str(dash.funnel_out.outputs)
    assert "Can reach it" in shown and "Of the stage before" in shown and "share_of" not in shown
    table = funnel_table(dash.funnel.stages).set_index("Stage")
    assert table.loc["sent", "Can reach it"] == len(results)


def test_summary_headers_are_words_not_snake_case(callback_log):
    log, _ = callback_log
    dash = CallbackDashboard(log=log)
    dash.load.click()
    shown = str(dash.summary_out.outputs)
    assert "Answer rate" in shown and "answer_rate" not in shown
    assert list(readable(pd.DataFrame(columns=["calls", "answer_rate"])).columns) == ["Calls", "Answer rate"]


def test_a_failed_load_clears_the_previous_data_and_says_so(callback_log, tmp_path):
    log, _ = callback_log
    dash = CallbackDashboard(log=log)
    dash.load.click()
    assert dash.history is not None and "Answer rate" in str(dash.summary_out.outputs)
    dash.log_path.value = str(tmp_path / "nope.jsonl")
    dash.load.click()
    assert "Load failed" in dash.status.value
    assert dash.history is None and dash.view is None and dash.summary is None
    shown = str(dash.summary_out.outputs)
    assert "Loading nope.jsonl failed" in shown and "Answer rate" not in shown
    assert dash.plots.children == () and "failed" in dash.plots_note.value
