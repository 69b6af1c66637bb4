"""The aggregate gives the numbers the rows give, on fuzzed callbacks (issue 15: the dashboard at 1,000,000 calls).

:func:`aggregate_calls` counts the calls once so that a dashboard filters and plots thousands of
groups instead of millions of rows. Hypothesis builds callbacks the provider could send —
every app and an unknown type, every result code, a missing code and an unknown one, calls
without a start or without any time, answer times that contradict the code, repeated
durations, redeliveries — and the summary, the filters and the plots of the aggregate must
equal those of the rows. The loader's dtypes are about to change (Arrow-backed strings,
categories), so every check runs on object, ``string[pyarrow]`` and ``pd.ArrowDtype`` frames.
"""
from __future__ import annotations

import datetime as dt

import matplotlib
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from cmvoice_nb.callbacks import (
    AnalysisError,
    aggregate_calls,
    calls_in_period,
    load_callbacks,
    plot_answer_rate_by_hour,
    plot_outcomes,
    plot_ring_time,
    summarize,
)
from cmvoice_nb.callbacks.aggregate import CallHistory, value_quantiles

matplotlib.use("Agg")

T0 = dt.datetime(2024, 3, 29, 21, 0, tzinfo=dt.timezone.utc)  # days around a DST change in Europe
TYPES = ["notification-finished", "otp-finished", "dtmf-finished", "fax-finished"]


def _iso(t: dt.datetime, *, millis: bool) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{t.microsecond // 1000:03d}" if millis else "") + "Z"


@st.composite
def callbacks(draw, *, max_size=40):
    """Callback dicts as the provider (or a broken integration) sends them, redeliveries included."""
    n = draw(st.integers(0, max_size))
    out = []
    for i in range(n):
        code = draw(st.sampled_from([9, 10, 10, 11, 12, None, 99]))
        start = T0 + dt.timedelta(minutes=draw(st.integers(0, 4 * 24 * 60)),
                                  milliseconds=draw(st.sampled_from([0, 0, 250, 999])))
        # Repeated durations (whole seconds) as well as distinct ones.
        ring = draw(st.one_of(st.sampled_from([0.0, 3.0, 5.0, 60.0]), st.floats(0, 90).map(lambda x: round(x, 3))))
        talk = draw(st.one_of(st.sampled_from([10.0, 20.0]), st.floats(0, 300).map(lambda x: round(x, 3))))
        millis = draw(st.booleans())
        cb = {"type": draw(st.sampled_from(TYPES)), "call-id": f"call-{i}", "instruction-id": f"row-{i}",
              "callee": "0031612345678", "received-at": _iso(start + dt.timedelta(seconds=400), millis=True)}
        if code is not None:
            cb["result"] = {"code": code}
        timing = draw(st.sampled_from(["full", "full", "full", "no start", "no times", "answered anyway"]))
        answered_on = start + dt.timedelta(seconds=ring)
        if timing != "no times":
            if timing != "no start":
                cb["started-on"] = _iso(start, millis=millis)
            if code == 10 or timing == "answered anyway":
                cb["answered-on"] = _iso(answered_on, millis=millis)
                cb["finished-on"] = _iso(answered_on + dt.timedelta(seconds=talk), millis=millis)
            else:
                cb["finished-on"] = _iso(answered_on, millis=millis)
        else:
            del cb["received-at"]
        out.append(cb)
        if draw(st.integers(0, 9)) == 0:  # the provider delivers it again, a moment later
            out.append(dict(cb, **{"received-at": _iso(start + dt.timedelta(seconds=500), millis=True)}))
    return out


def with_dtypes(calls: pd.DataFrame, kind: str) -> pd.DataFrame:
    """*calls* with the text columns as the loader may type them: object, string[pyarrow], ArrowDtype + categories."""
    out = calls.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.StringDtype) or out[col].dtype == object:
            if kind == "object":
                out[col] = out[col].astype(object).where(out[col].notna(), None)
            elif kind == "string[pyarrow]":
                out[col] = out[col].astype("string[pyarrow]")
            else:
                out[col] = out[col].astype(pd.ArrowDtype(pa.string()))
    if kind == "arrow+category":
        for col in ("type", "app"):
            out[col] = out[col].astype("category")
    return out


DTYPES = ["as loaded", "object", "string[pyarrow]", "arrow+category"]


def assert_same_summary(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Equal counts, rates and percentiles; the mean talk time to the last bits (summed in another order)."""
    exact = [c for c in expected.columns if c != "talk_seconds_mean"]
    pd.testing.assert_frame_equal(got[exact], expected[exact], check_exact=True)
    pd.testing.assert_series_equal(got["talk_seconds_mean"], expected["talk_seconds_mean"], rtol=1e-12,
                                   check_exact=False)


def rows_in(calls: pd.DataFrame, *, since=None, until=None, app=None, outcome=None, tz="UTC") -> pd.DataFrame:
    """The rows a filter keeps, by the library's own rules (calls_in_period for the dates)."""
    if since is not None or until is not None:
        calls = calls_in_period(calls, since=since, until=until, tz=tz)
    keep = np.ones(len(calls), dtype=bool)
    if app is not None:
        keep &= (calls["app"].astype("string") == app).fillna(False).to_numpy(dtype=bool)
    if outcome is not None:
        keep &= (calls["outcome"].astype("string") == outcome).fillna(False).to_numpy(dtype=bool)
    return calls[keep]


def drawn(fig) -> dict:
    """What a figure shows: bar positions and heights, texts, legend, title."""
    ax = fig.axes[0]
    legend = ax.get_legend()
    return {
        "bars": [(round(p.get_x(), 9), p.get_height(), p.get_y()) for p in ax.patches],
        "texts": [t.get_text() for t in ax.texts],
        "legend": [t.get_text() for t in legend.get_texts()] if legend else [],
        "title": ax.get_title(),
        "xticks": [t.get_text() for t in ax.get_xticklabels()],
    }


FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.slow
@FUZZ
@given(records=callbacks(), kind=st.sampled_from(DTYPES), tz=st.sampled_from(["UTC", "Europe/Amsterdam"]))
def test_the_summary_of_the_aggregate_equals_the_summary_of_the_rows(records, kind, tz):
    calls = with_dtypes(load_callbacks(records, warn=False), kind) if kind != "as loaded" else load_callbacks(
        records, warn=False)
    agg = aggregate_calls(calls, tz=tz)
    assert agg.total == len(calls)
    for by in (None, "app", "outcome"):
        assert_same_summary(summarize(agg, by), summarize(calls, by))


@pytest.mark.slow
@FUZZ
@given(records=callbacks(), kind=st.sampled_from(DTYPES), tz=st.sampled_from(["UTC", "Europe/Amsterdam"]),
       since=st.one_of(st.none(), st.integers(0, 5)), length=st.one_of(st.none(), st.integers(0, 3)),
       app=st.sampled_from([None, "notification", "otp", "dtmf"]),
       outcome=st.sampled_from([None, "Finished", "Cancelled", "unknown"]))
def test_filtering_the_aggregate_equals_filtering_the_rows(records, kind, tz, since, length, app, outcome):
    calls = load_callbacks(records, warn=False)
    if kind != "as loaded":
        calls = with_dtypes(calls, kind)
    day0 = dt.date(2024, 3, 28)
    lo = day0 + dt.timedelta(days=since) if since is not None else None
    hi = (lo or day0) + dt.timedelta(days=length) if length is not None else None
    view = aggregate_calls(calls, tz=tz).select(since=lo, until=hi, app=app, outcome=outcome)
    rows = rows_in(calls, since=lo, until=hi, app=app, outcome=outcome, tz=tz)
    assert view.total == len(rows)
    for by in (None, "app"):
        assert_same_summary(summarize(view, by), summarize(rows, by))


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=callbacks(), kind=st.sampled_from(DTYPES), app=st.sampled_from([None, "otp"]))
def test_the_plots_of_the_aggregate_draw_the_bars_of_the_rows(records, kind, app):
    import matplotlib.pyplot as plt

    calls = load_callbacks(records, warn=False)
    if kind != "as loaded":
        calls = with_dtypes(calls, kind)
    view = aggregate_calls(calls).select(app=app)
    rows = rows_in(calls, app=app)
    for plot, options in ((plot_outcomes, {}), (plot_outcomes, {"by": "app"}), (plot_answer_rate_by_hour, {}),
                          (plot_ring_time, {}), (plot_ring_time, {"bins": 7})):
        assert drawn(plot(view, **options)) == drawn(plot(rows, **options)), (plot.__name__, options)
    plt.close("all")


@pytest.mark.slow
@FUZZ
@given(records=callbacks(), cuts=st.lists(st.integers(0, 60), max_size=4), kind=st.sampled_from(DTYPES),
       again=st.lists(st.integers(0, 100), max_size=6))
def test_appending_batches_equals_loading_everything_at_once(records, cuts, kind, again):
    """A receiver's batches, redeliveries across batches included, add up to one load of every record."""
    if records:  # callbacks delivered again later, in another batch than the first delivery
        records = records + [dict(records[k % len(records)], **{"received-at": "2024-04-09T10:00:00Z"})
                             for k in again]
    everything = load_callbacks(records, warn=False)
    bounds = sorted({min(c, len(records)) for c in cuts} | {0, len(records)})
    first = load_callbacks(records[: bounds[1]], warn=False) if len(bounds) > 1 else None
    history = CallHistory(with_dtypes(first, kind) if first is not None and kind != "as loaded" else first)
    for a, b in zip(bounds[1:], bounds[2:], strict=False):
        batch = load_callbacks(records[a:b], warn=False)
        history.append(with_dtypes(batch, kind) if kind != "as loaded" else batch)
    expected = everything if kind == "as loaded" else with_dtypes(everything, kind)
    assert len(history) == len(expected)
    got = history.calls
    pd.testing.assert_frame_equal(got.reset_index(drop=True).astype(str), expected.reset_index(drop=True).astype(str))
    for by in (None, "outcome"):
        assert_same_summary(summarize(history.aggregate, by), summarize(expected, by))


def test_a_redelivered_callback_is_counted_once_and_a_different_one_with_the_same_call_id_twice():
    base = {"type": "otp-finished", "call-id": "a", "result": {"code": 10}, "started-on": "2024-03-01T09:00:00Z",
            "answered-on": "2024-03-01T09:00:05Z", "finished-on": "2024-03-01T09:00:35Z",
            "received-at": "2024-03-01T09:00:36Z"}
    history = CallHistory(load_callbacks([base], warn=False))
    again = dict(base, **{"received-at": "2024-03-01T09:05:00Z"})
    changed = dict(base, result={"code": 9})  # the provider said something else about the same call
    assert history.append(load_callbacks([again], warn=False)) == 0
    assert history.append(load_callbacks([changed], warn=False)) == 1
    assert history.duplicates_removed == 1
    assert summarize(history.aggregate)[["calls", "Finished", "Cancelled"]].iloc[0].tolist() == [2, 1, 1]
    assert len(load_callbacks([base, again, changed], warn=False)) == 2  # what loading it all at once keeps


def test_a_time_of_day_or_a_reversed_period_is_refused_with_the_reason():
    agg = aggregate_calls(load_callbacks([{"type": "otp-finished", "result": {"code": 10},
                                           "started-on": "2024-03-01T09:00:00Z"}], warn=False))
    with pytest.raises(AnalysisError, match="whole days"):
        agg.select(since=dt.datetime(2024, 3, 1, 9, 30))
    with pytest.raises(AnalysisError, match="not after since"):
        agg.select(since="2024-03-02", until="2024-03-01")
    assert agg.select(since="2024-03-01", until="2024-03-01").total == 1


def test_summarizing_an_aggregate_by_a_key_it_does_not_keep_says_to_use_the_rows():
    agg = aggregate_calls(load_callbacks([{"type": "otp-finished", "result": {"code": 10}}], warn=False))
    with pytest.raises(AnalysisError, match="summarize the calls themselves"):
        summarize(agg, by="country")


def test_hours_in_another_time_zone_than_the_aggregate_are_refused():
    agg = aggregate_calls(load_callbacks([{"type": "otp-finished", "result": {"code": 10},
                                           "started-on": "2024-03-01T09:00:00Z"}], warn=False))
    with pytest.raises(AnalysisError, match="aggregate the calls with tz="):
        plot_answer_rate_by_hour(agg, tz="Europe/Amsterdam")


def test_value_quantiles_equal_pandas_on_the_expanded_values():
    rng = np.random.default_rng(7)
    for _ in range(200):
        values = np.round(rng.gamma(2.0, 4.0, size=rng.integers(1, 30)), rng.integers(0, 3))
        seconds, counts = np.unique(values, return_counts=True)
        qs = [0.5, 0.9, 0.25, 0.99]
        expected = pd.DataFrame({"g": 0, "v": values}).groupby("g")["v"].quantile(qs).tolist()
        assert value_quantiles(seconds, counts, qs) == expected


def test_a_million_calls_become_a_few_hundred_groups():
    """What makes a filter change cheap: the groups, not the calls, are what a filter walks."""
    rng = np.random.default_rng(0)
    n = 200_000
    start = pd.Timestamp("2026-11-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 21 * 86400, n), unit="s")
    ring = rng.integers(0, 60, n).astype(float)
    calls = pd.DataFrame({
        "app": pd.array(rng.choice(["notification", "otp", "dtmf"], n), dtype="string"),
        "outcome": pd.Categorical(rng.choice(["Finished", "Cancelled", "Failed"], n),
                                  categories=["Cancelled", "Finished", "Failed", "Rejected", "unknown"]),
        "answered": rng.random(n) < 0.7,
        "started_on": start, "ring_seconds": ring, "talk_seconds": ring * 2,
    })
    agg = aggregate_calls(calls)
    assert agg.total == n and len(agg.groups) <= 21 * 3 * 3 * 2 + 3 * 3 * 2
    assert len(agg.ring) <= len(agg.groups) * 60  # whole seconds: one line per value and group


def test_batches_with_their_own_app_categories_keep_the_app_column_categorical():
    first = load_callbacks([{"type": "otp-finished", "call-id": "a", "result": {"code": 10}}], warn=False)
    later = load_callbacks([{"type": "dtmf-finished", "call-id": "b", "result": {"code": 9}}], warn=False)
    as_category = [f.assign(app=f["app"].astype("category")) for f in (first, later)]
    agg = aggregate_calls(as_category[0]).add(as_category[1])
    assert isinstance(agg.groups["app"].dtype, pd.CategoricalDtype)
    assert summarize(agg, "app")["calls"].to_dict() == {"dtmf": 1, "otp": 1}
