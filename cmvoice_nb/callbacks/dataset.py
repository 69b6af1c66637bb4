"""Callback history beyond memory: a Hive-partitioned Parquet dataset, queried with DuckDB.

:func:`write_partitioned` (what ``save_calls(calls, folder, partition_by="day")`` runs) writes
one folder per day, ``day=YYYY-MM-DD/part-0.parquet``: the layout Spark, Dask, Polars, DuckDB
and pyarrow all read as one table with a ``day`` column (text). :func:`query` runs SQL over such
a dataset and :func:`summarize_dataset` computes :func:`~cmvoice_nb.callbacks.summarize`'s
table there, both on DuckDB, without loading the calls into pandas (only the answer comes back).

DuckDB is optional: ``pip install cmvoice_nb[scale]``.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from .. import spec
from ..errors import CallbackError

__all__ = ["query", "write_partitioned", "is_dataset", "summarize_dataset", "PARTITIONS"]

#: What ``save_calls(..., partition_by=...)`` can split by.
PARTITIONS = ("day",)
#: The name the dataset has in :func:`query`'s SQL.
TABLE = "calls"
#: Partition value of calls without any time (no start, end or receipt time).
NO_DAY = "unknown"


def _duckdb():
    try:
        import duckdb
    except ImportError as exc:  # the [scale] extra is optional
        raise CallbackError(
            "querying a partitioned callback dataset needs DuckDB: pip install cmvoice_nb[scale]") from exc
    return duckdb


def _event_day(calls: pd.DataFrame) -> pd.Series:
    # The UTC day the call started; when it has no start, when it ended or was received.
    t = calls["started_on"]
    for col in ("finished_on", "received_at"):
        if col in calls.columns:
            t = t.fillna(calls[col])
    return t.dt.tz_convert("UTC").dt.strftime("%Y-%m-%d").fillna(NO_DAY).astype(object)


def write_partitioned(calls: pd.DataFrame, path: str | os.PathLike, *, partition_by: str = "day") -> Path:
    """Write *calls* as a Hive-style partitioned Parquet dataset in the new folder *path*.

    The dataset is written in a temporary folder beside *path* and renamed onto it when complete:
    a reader never sees half a dataset, and a failure leaves nothing behind. An existing *path*
    (a previous export) is never replaced: choose a new name, or remove it first.

    Raises
    ------
    CallbackError
        *partition_by* is not one of :data:`PARTITIONS`, *path* exists, the frame has no rows
        or already has a ``day`` column.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds

    if partition_by not in PARTITIONS:
        raise CallbackError(f"partition_by={partition_by!r}: expected one of {', '.join(map(repr, PARTITIONS))}")
    target = Path(path)
    if target.exists() or target.is_symlink():
        raise CallbackError(f"{target}: already exists; a partitioned export is written to a new folder "
                            "(choose another name, or remove the old dataset first)")
    if partition_by in calls.columns:
        raise CallbackError(f"{target}: the frame already has a {partition_by!r} column; rename it before "
                            f"partitioning by {partition_by}")
    if calls.empty:
        raise CallbackError(f"{target}: no calls to write (an empty frame makes no partitions)")
    out = calls.copy()
    out.attrs = {}
    out[partition_by] = _event_day(calls)
    table = pa.Table.from_pandas(out, preserve_index=False)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        ds.write_dataset(table, tmp, format="parquet", basename_template="part-{i}.parquet",
                         partitioning=ds.partitioning(pa.schema([(partition_by, pa.string())]), flavor="hive"),
                         existing_data_behavior="overwrite_or_ignore")
        # os.rename (not replace): on Windows it refuses an existing target; on POSIX the check above did.
        os.rename(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def is_dataset(source: Any) -> bool:
    """True when *source* names a folder holding a partitioned dataset (``name=value`` sub-folders)."""
    if not isinstance(source, (str, os.PathLike)):
        return False
    root = Path(source)
    try:
        return root.is_dir() and any(p.is_dir() and "=" in p.name for p in root.iterdir())
    except OSError:
        return False


def _scan(source: str | os.PathLike) -> str:
    root = Path(source)
    if root.is_dir():
        glob = str(root / "**" / "*.parquet")
        hive = ", hive_partitioning = true, hive_types_autocast = false"
    elif root.is_file():
        glob, hive = str(root), ""
    else:
        raise CallbackError(f"{root}: no such dataset (expected a folder written by save_calls(..., "
                            "partition_by='day') or a Parquet file)")
    quoted = glob.replace("'", "''")
    return f"SELECT * FROM read_parquet('{quoted}'{hive}, union_by_name = true)"


def _connect(dataset: str | os.PathLike):
    duckdb = _duckdb()
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"CREATE VIEW {TABLE} AS {_scan(dataset)}")
    except duckdb.Error as exc:
        con.close()
        raise CallbackError(f"{dataset}: cannot read the dataset ({exc})") from exc
    return con


def query(dataset: str | os.PathLike, sql: str) -> pd.DataFrame:
    """Run *sql* on DuckDB over a partitioned callback dataset; the table is called ``calls``.

    Only the answer is loaded into pandas: DuckDB reads the Parquet files itself, skipping the
    partitions and columns the query does not need (``WHERE day >= '2026-01-01'`` reads those
    days' folders only).

    Parameters
    ----------
    dataset
        A folder written by ``save_calls(calls, folder, partition_by="day")`` (or one Parquet file).
    sql
        A DuckDB query over the view ``calls`` (every column of the frame, plus ``day`` as text).

    Raises
    ------
    CallbackError
        DuckDB is not installed (``pip install cmvoice_nb[scale]``), the dataset cannot be read,
        or the query fails (DuckDB's message is included).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from cmvoice_nb.callbacks.load import load_callbacks, save_calls
    >>> calls = load_callbacks([{"type": "otp-finished", "result": {"code": 9}, "started-on": "2024-01-01T10:00:00Z"}])
    >>> history = save_calls(calls, pathlib.Path(tempfile.mkdtemp()) / "history", partition_by="day")
    >>> query(history, "SELECT day, count(*) AS calls FROM calls GROUP BY day ORDER BY day").values.tolist()
    [['2024-01-01', 1]]
    """
    duckdb = _duckdb()
    con = _connect(dataset)
    try:
        return con.execute(sql).df()
    except duckdb.Error as exc:
        raise CallbackError(f"{dataset}: query failed: {exc}") from exc
    finally:
        con.close()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def summarize_dataset(dataset: str | os.PathLike, by: str | Sequence[str] | None = None, *, tz: str = "UTC",
                      percentiles: Sequence[int] = (50, 90), derived_keys: Sequence[str] = (),
                      wave_pattern: str = r"-w([1-9][0-9]*)$", error: type = CallbackError) -> pd.DataFrame:
    """:func:`~cmvoice_nb.callbacks.summarize` computed by DuckDB on a partitioned dataset.

    Same table, same numbers (percentiles interpolate linearly, as pandas' ``quantile`` does);
    grouping by ``country`` needs the phone-number library row by row and is refused here.
    """
    from zoneinfo import ZoneInfo

    # analysis passes its keys, wave pattern and error class in: this module does not import it
    # (analysis -> load -> dataset would be a cycle).
    DERIVED_KEYS, AnalysisError = tuple(derived_keys), error

    try:
        ZoneInfo(tz)
    except Exception as exc:  # noqa: BLE001 - any failure means the name is not a zone
        raise AnalysisError(f"tz={tz!r}: not a time zone name (e.g. 'Europe/Amsterdam')") from exc
    duckdb = _duckdb()
    keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
    con = _connect(dataset)
    try:
        columns = [r[0] for r in con.execute(f"DESCRIBE {TABLE}").fetchall()]
        local = f"timezone({_literal(tz)}, coalesce(started_on, finished_on, received_at))"
        outcomes = list(spec.OUTCOMES)
        selects, order = [], []
        for key in keys:
            if key in columns:
                expr = _quote(key)
            elif key == "hour":
                expr = f"hour({local})"
            elif key == "date":
                expr = f"CAST({local} AS DATE)"
            elif key == "weekday":
                expr = f"dayname({local})"
            elif key == "wave":
                pattern = _literal(wave_pattern)
                expr = f"coalesce(TRY_CAST(nullif(regexp_extract(instruction_id, {pattern}, 1), '') AS BIGINT), 1)"
            elif key in DERIVED_KEYS:
                raise AnalysisError(f"cannot group a dataset by {key!r} in DuckDB (it needs the phone-number "
                                    "library per row): load the days you need with load_callbacks and summarize that")
            else:
                raise AnalysisError(f"cannot group by {key!r}: not a column (columns: {', '.join(columns)}) "
                                    f"and not one of {', '.join(DERIVED_KEYS)}")
            selects.append(f"{expr} AS {_quote(key)}")
            # pandas orders a categorical key (outcome) by its categories, anything else by value.
            order.append(f"list_position([{', '.join(map(_literal, outcomes))}], {_quote(key)})"
                         if key == "outcome" else _quote(key))
        stats = ["CAST(count(*) AS BIGINT) AS calls",
                 "CAST(count(*) FILTER (WHERE answered) AS BIGINT) AS answered"]
        stats += [f"CAST(count(*) FILTER (WHERE outcome = {_literal(o)}) AS BIGINT) AS {_quote(o)}" for o in outcomes]
        stats += [f"quantile_cont(ring_seconds, {p / 100!r}) AS ring_seconds_p{p}" for p in percentiles]
        stats += [f"quantile_cont(talk_seconds, {p / 100!r}) AS talk_seconds_p{p}" for p in percentiles]
        stats.append("avg(talk_seconds) AS talk_seconds_mean")
        sql = f"SELECT {', '.join(selects + stats)} FROM {TABLE}"
        if keys:
            sql += f" GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))} ORDER BY {', '.join(o + ' NULLS LAST' for o in order)}"
        out = con.execute(sql).df()
    except duckdb.Error as exc:
        raise AnalysisError(f"{dataset}: summary failed: {exc}") from exc
    finally:
        con.close()
    out.insert(len(keys) + 2, "answer_rate", (out["answered"] / out["calls"]).astype("float64"))
    for col in [*(f"ring_seconds_p{p}" for p in percentiles), *(f"talk_seconds_p{p}" for p in percentiles),
                "talk_seconds_mean"]:
        out[col] = out[col].astype("float64")
    if "hour" in keys and "hour" not in columns:
        out["hour"] = out["hour"].astype("Int64")
    if "date" in keys and "date" not in columns:
        out["date"] = pd.to_datetime(out["date"]).dt.date
    if keys:
        return out.set_index(keys)
    out.index = pd.Index(["all"])
    return out
