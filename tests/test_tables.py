"""The shared table style: readable cells, failures first, nothing crushed (cmvoice_nb._tables)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from cmvoice_nb._tables import display_frame, short_path, to_html


def test_cells_read_as_text_people_use():
    frame = pd.DataFrame({
        "instruction_id": ["c-1a2b3c4d-31612345610-1", "c-1a2b3c4d-31612345611-1"],
        "status": ["queued", "failed"],
        "answer_rate": [0.866667, None],
        "duration_s": [1.23456, 2.0],
        "problems": [[], ["not a WAV", "too long"]],
        "sent_at": pd.to_datetime(["2026-01-02T13:04:05Z", None], utc=True),
        "http_status": pd.array([200, None], dtype="Int64"),
        "path": [Path("/home/ann/projects/campaign/prompts/welcome.wav"), None],
    })
    text, bad, hidden = display_frame(frame, tz="UTC")
    assert bad.tolist() == [True, False] and hidden == 0
    failed, queued = text.iloc[0], text.iloc[1]
    assert failed["status"] == "failed"  # failures first
    assert failed["problems"] == "not a WAV; too long" and queued["problems"] == ""
    assert queued["answer_rate"] == "86.7 %" and failed["answer_rate"] == ""
    assert queued["duration_s"] == "1.23" and failed["duration_s"] == "2"
    assert queued["sent_at"] == "2026-01-02 13:04:05" and failed["sent_at"] == ""
    assert failed["http_status"] == "" and queued["path"] == "…/prompts/welcome.wav"
    assert not any(s in text.to_string() for s in ("<NA>", "NaT", "None", "nan", "+00:00", "PosixPath", "[]"))


def test_a_value_counts_series_becomes_a_table_without_a_dtype_footer():
    counts = pd.Series(["Finished", "Failed", "Finished"]).astype("string[pyarrow]").value_counts()
    out = to_html(counts)
    assert "dtype" not in out and "Finished" in out and "<table" in out


def test_headers_and_ids_never_wrap_and_wide_tables_scroll():
    out = to_html(pd.DataFrame({"instruction_id": ["x" * 60], "error": ["a long explanation " * 10]}))
    assert "white-space:nowrap" in out and "overflow-x:auto" in out
    assert 'class="data row0 col0 cmvoice-nowrap"' in out


def test_an_empty_table_says_so_and_a_long_one_says_how_many_more():
    assert "no rows" in to_html(pd.DataFrame(columns=["a"]), caption="Calls")
    assert "… 10 more rows" in to_html(pd.DataFrame({"a": range(60)}))


def test_short_paths_keep_the_tail_and_naive_times_stay_as_given():
    assert short_path("C:\\Users\\ann\\prompts\\welcome.wav") == "…/prompts/welcome.wav"
    text, _bad, _hidden = display_frame(pd.DataFrame({"t": [dt.datetime(2026, 1, 2, 3, 4, 5)]}))
    assert text.iloc[0, 0] == "2026-01-02 03:04:05"


def test_the_funnel_repr_shows_its_stages_in_the_shared_style():
    from cmvoice_nb.campaign import funnel

    results = pd.DataFrame({"instruction_id": ["a", "b", "c"], "status": ["queued", "queued", "invalid"]})
    f = funnel(results, [{"type": "otp-finished", "instruction-id": "a", "result": {"code": 10}}])
    out = f._repr_html_()
    assert 'class="cmvoice-table"' in out and "66.7 %" in out and "nan" not in out.lower().replace("nanosecond", "")


def test_hostile_cells_and_headers_are_shown_as_text_never_as_markup():
    # object dtype: Arrow-backed strings refuse lone surrogates, Python objects (e.g. decoded logs) carry them.
    frame = pd.DataFrame({"<script>x</script>": ["<img src=x onerror=alert(1)>", "bad \ud800 surrogate"],
                          "status": ["failed", "queued"]}, index=pd.Index(["<b>r</b>", "r2"], name="row"),
                         dtype=object)
    out = to_html(frame)
    assert "<img" not in out and "&lt;img src=x onerror=alert(1)&gt;" in out
    assert "<script>" not in out and "&lt;script&gt;" in out and "<b>r</b>" not in out
    out.encode("utf-8")  # a lone surrogate becomes U+FFFD: the page can be sent to the browser
    assert "bad \ufffd surrogate" in out
