"""A partitioned callback history: written atomically by save_calls, queried and summarized on DuckDB."""
import datetime as dt
import sys

import pandas as pd
import pytest

from cmvoice_nb.callbacks import query
from cmvoice_nb.callbacks.analysis import AnalysisError, summarize
from cmvoice_nb.callbacks.load import save_calls
from cmvoice_nb.errors import CallbackError

from ._factory import PROVIDER_FAILED, T0, callback, quiet_load


@pytest.fixture
def calls():
    """Sixty calls over three UTC days and three apps, every outcome, plus the provider's own Failed example."""
    items = [callback(i, app=("notification", "otp", "dtmf")[i % 3], code=(10, 9, 11, 12, 10)[i % 5],
                      ring_s=1 + (i * 7) % 13, talk_s=5 + (i * 11) % 29,
                      start=T0 + dt.timedelta(hours=17 * i), instruction_id=f"row-{i}" + ("-w2" if i % 4 == 0 else ""))
             for i in range(60)]
    return quiet_load([*items, PROVIDER_FAILED])


def _sorted(frame):
    return frame.sort_values("call_id").reset_index(drop=True)


def test_a_day_partitioned_dataset_reads_back_as_the_same_calls_with_a_day_column(calls, tmp_path):
    out = save_calls(calls, tmp_path / "history", partition_by="day")
    days = sorted(p.name for p in out.iterdir())
    assert "day=2018-02-09" in days and "day=2024-03-01" in days and all(d.startswith("day=") for d in days)
    back = pd.read_parquet(out)
    assert sorted(back["day"].astype(str).unique()) == [d[4:] for d in days]
    pd.testing.assert_frame_equal(_sorted(back.drop(columns="day")), _sorted(calls.copy()), check_dtype=False,
                                  check_categorical=False)
    # Each call sits in the folder of the UTC day it started.
    started = back["started_on"].dt.strftime("%Y-%m-%d")
    assert (started == back["day"].astype(str)).all()


def test_a_partitioned_export_never_replaces_an_existing_folder_and_leaves_no_temporary_behind(calls, tmp_path):
    (tmp_path / "history").mkdir()
    (tmp_path / "history" / "keep.txt").write_text("mine")
    with pytest.raises(CallbackError, match="already exists"):
        save_calls(calls, tmp_path / "history", partition_by="day")
    assert (tmp_path / "history" / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history"]


def test_a_failed_partitioned_write_leaves_nothing(calls, tmp_path, monkeypatch):
    import pyarrow.dataset as ds

    def full_disk(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ds, "write_dataset", full_disk)
    with pytest.raises(OSError, match="No space"):
        save_calls(calls, tmp_path / "history", partition_by="day")
    assert list(tmp_path.iterdir()) == []


def test_unknown_partitions_and_clashing_columns_are_refused_by_name(calls, tmp_path):
    with pytest.raises(CallbackError, match="partition_by='month'"):
        save_calls(calls, tmp_path / "h", partition_by="month")
    with pytest.raises(CallbackError, match="'day' column"):
        save_calls(calls.assign(day="x"), tmp_path / "h", partition_by="day")


def test_query_runs_sql_over_the_dataset_and_reads_only_the_days_asked_for(calls, tmp_path):
    out = save_calls(calls, tmp_path / "history", partition_by="day")
    per_day = query(out, "SELECT day, count(*) AS n FROM calls GROUP BY day ORDER BY day")
    expected = calls["started_on"].dt.strftime("%Y-%m-%d").value_counts().sort_index()
    assert per_day["day"].tolist() == expected.index.tolist()
    assert per_day["n"].tolist() == expected.tolist()
    one = query(out, "SELECT count(*) AS n FROM calls WHERE day = '2018-02-09' AND callee = '0031612345678'")
    assert int(one["n"].iloc[0]) == 1


def test_a_bad_query_or_a_missing_dataset_is_a_clear_error(calls, tmp_path):
    out = save_calls(calls, tmp_path / "history", partition_by="day")
    with pytest.raises(CallbackError, match="query failed"):
        query(out, "SELECT no_such_column FROM calls")
    with pytest.raises(CallbackError, match="no such dataset"):
        query(tmp_path / "nowhere", "SELECT 1")


def test_without_duckdb_the_error_names_the_extra_to_install(calls, tmp_path, monkeypatch):
    out = save_calls(calls, tmp_path / "history", partition_by="day")
    monkeypatch.setitem(sys.modules, "duckdb", None)  # import duckdb now raises ImportError
    with pytest.raises(CallbackError, match=r"pip install cmvoice_nb\[scale\]"):
        query(out, "SELECT 1")


@pytest.mark.parametrize("by", [None, "app", "outcome", ["app", "hour"], "date", "weekday", "wave"])
def test_summarize_on_the_dataset_gives_the_numbers_of_summarize_on_the_frame(calls, tmp_path, by, monkeypatch):
    import cmvoice_nb.callbacks.load as load_module

    out = save_calls(calls, tmp_path / "history", partition_by="day")
    expected = summarize(calls, by, tz="Europe/Amsterdam", percentiles=(25, 50, 90))

    def no_pandas_load(*a, **k):
        raise AssertionError("the dataset was loaded into pandas")

    monkeypatch.setattr(load_module, "load_callbacks", no_pandas_load)
    monkeypatch.setattr(pd, "read_parquet", no_pandas_load)
    got = summarize(out, by, tz="Europe/Amsterdam", percentiles=(25, 50, 90))
    assert list(got.columns) == list(expected.columns)
    assert [tuple(map(str, k)) if isinstance(k, tuple) else str(k) for k in got.index] == \
           [tuple(map(str, k)) if isinstance(k, tuple) else str(k) for k in expected.index]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False)


def test_summarize_on_a_dataset_refuses_country_and_unknown_columns(calls, tmp_path):
    out = save_calls(calls, tmp_path / "history", partition_by="day")
    with pytest.raises(AnalysisError, match="country"):
        summarize(out, "country")
    with pytest.raises(AnalysisError, match="not a column"):
        summarize(out, "shoe_size")


def test_a_folder_name_with_quotes_and_spaces_is_read_as_a_name_not_as_sql(calls, tmp_path):
    out = save_calls(calls, tmp_path / "o'brien's history; DROP", partition_by="day")
    assert int(query(out, "SELECT count(*) AS n FROM calls")["n"].iloc[0]) == len(calls)


def test_a_summary_on_the_dataset_scans_only_the_columns_it_needs(calls, tmp_path, monkeypatch):
    from cmvoice_nb.callbacks import dataset

    out = save_calls(calls, tmp_path / "history", partition_by="day")
    sent = []
    real_connect = dataset._connect

    class Recording:
        def __init__(self, con):
            self.con = con

        def execute(self, sql, *args):
            sent.append(sql)
            return self.con.execute(sql, *args)

        def __getattr__(self, name):
            return getattr(self.con, name)

    monkeypatch.setattr(dataset, "_connect", lambda ds, **kw: Recording(real_connect(ds, **kw)))
    summarize(out, "app")
    (summary_sql,) = [s for s in sent if s.startswith("SELECT")]
    plan = "\n".join(query(out, "EXPLAIN " + summary_sql).iloc[:, -1])
    scan = plan[plan.index("READ_PARQUET"):]
    for needed in ("app", "answered", "outcome", "ring_seconds", "talk_seconds"):
        assert needed in scan
    for unneeded in ("call_id", "callee", "instruction_id", "digits", "started_on"):
        assert unneeded not in scan  # DuckDB pushes the projection through the view into the scan
