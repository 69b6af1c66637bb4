"""Callback history beyond memory: a Hive-partitioned Parquet dataset, queried with DuckDB.

:func:`write_partitioned` (what ``save_calls(calls, folder, partition_by="day")`` runs) writes
one folder per day, ``day=YYYY-MM-DD/part-0.parquet``: the layout Spark, Dask, Polars, DuckDB
and pyarrow all read as one table with a ``day`` column (text). :func:`query` runs SQL over such
a dataset and :func:`summarize_dataset` computes :func:`~cmvoice_nb.callbacks.summarize`'s
table there, both on DuckDB, without loading the calls into pandas (only the answer comes back).

SQL is confined to the dataset: DuckDB runs with external access disabled except for the
dataset's own files (``allowed_directories`` / ``allowed_paths``, then
``enable_external_access = false``, extension installing and autoloading off, the configuration
locked), and :func:`query` runs no statement that writes a file (COPY, EXPORT, ATTACH). Reading or writing any
other file (``read_csv('/etc/passwd')``, ``COPY ... TO``), listing folders (``glob('/root/*')``), attaching
databases, loading extensions or reaching the network is refused with a
:class:`~cmvoice_nb.errors.CallbackError`; ``query(..., unsafe=True)`` runs any SQL on a full
DuckDB, for trusted notebooks. Paths are escaped, so a folder named ``h[1]*`` is read as named.

DuckDB is optional: ``pip install cmvoice_nb[scale]`` (DuckDB 1.2 or later, the first with
``allowed_directories``).
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .. import spec
from ..errors import CallbackError, shorten
from ..wire import WAVE_SUFFIX

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


#: What :func:`query` runs without ``unsafe=True``: statements that read (SELECT, WITH, FROM, DESCRIBE,
#: SUMMARIZE, SHOW and VALUES are all SELECT to DuckDB; PIVOT is MULTI, or CREATE of its column type)
#: or change the in-memory database only. Never COPY, EXPORT or ATTACH: those write files, and the
#: dataset's own folder is writable to DuckDB; nor INSTALL/LOAD or SET.
READ_STATEMENTS = ("SELECT", "EXPLAIN", "MULTI", "CALL", "PRAGMA", "CREATE", "INSERT", "UPDATE", "DELETE", "DROP",
                   "ALTER")
#: Switched off before the configuration is locked: nothing is fetched, loaded or found by name.
_OFF = ("autoinstall_known_extensions", "autoload_known_extensions", "allow_community_extensions",
        "python_enable_replacements")
#: What a refusal tells the user to do instead.
_UNSAFE = "run SQL you trust with unsafe=True"


def _glob_escape(path: str) -> str:
    """*path* with DuckDB's glob characters meant literally: ``[`` ``*`` ``?`` as one-character classes.

    Examples
    --------
    >>> _glob_escape("/data/h[1]*/x?")
    '/data/h[[]1][*]/x[?]'
    """
    return re.sub(r"[\[*?]", lambda m: f"[{m.group()}]", path)


def _locate(source: str | os.PathLike) -> tuple[Path, bool]:
    """The dataset's absolute path and whether it is a folder (else one Parquet file)."""
    root = Path(os.path.abspath(source))
    if root.is_dir():
        return root, True
    if root.is_file():
        return root, False
    raise CallbackError(f"{source}: no such dataset (expected a folder written by save_calls(..., "
                        "partition_by='day') or a Parquet file)")


def _scan(root: Path, is_dir: bool) -> str:
    if is_dir:
        glob = _glob_escape(str(root)) + os.sep + os.path.join("**", "*.parquet")
        hive = ", hive_partitioning = true, hive_types_autocast = false"
    else:
        glob, hive = _glob_escape(str(root)), ""
    return f"SELECT * FROM read_parquet({_literal(glob)}{hive}, union_by_name = true)"


def _list(items: Sequence[str]) -> str:
    return "[" + ", ".join(map(_literal, items)) + "]"


def _confine(con: Any, root: Path, is_dir: bool) -> str:
    """Lock *con* down to the dataset's own files; return the private folder DuckDB may spill into.

    DuckDB checks a path as written (a glob pattern included) against the allowed prefixes, and
    may see a path resolved through symbolic links: each form is allowed, escaped and plain.
    """
    forms = list(dict.fromkeys([str(root), os.path.realpath(root)]))
    allowed = list(dict.fromkeys(forms + [_glob_escape(f) for f in forms]))
    spill = tempfile.mkdtemp(prefix="cmvoice-duckdb-")
    con.execute(f"SET temp_directory = {_literal(spill)}")
    if is_dir:
        con.execute(f"SET allowed_directories = {_list([a.rstrip(os.sep) + os.sep for a in allowed])}")
    else:
        con.execute(f"SET allowed_paths = {_list(allowed)}")
    for name in _OFF:
        con.execute(f"SET {name} = false")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return spill


class _Connection:
    """An in-memory DuckDB connection and the private folder it may spill into (removed on close)."""

    def __init__(self, con: Any, spill: str | None) -> None:
        self.con, self.spill = con, spill

    def execute(self, sql: str, *args: Any) -> Any:
        return self.con.execute(sql, *args)

    def extract_statements(self, sql: str) -> Any:
        return self.con.extract_statements(sql)

    def close(self) -> None:
        self.con.close()
        if self.spill is not None:
            shutil.rmtree(self.spill, ignore_errors=True)


def _connect(dataset: str | os.PathLike, *, unsafe: bool = False) -> Any:
    """DuckDB with the view ``calls`` over the dataset, confined to its files unless *unsafe*."""
    duckdb = _duckdb()
    root, is_dir = _locate(dataset)
    con = _Connection(duckdb.connect(":memory:"), None)
    try:
        if not unsafe:
            con.spill = _confine(con.con, root, is_dir)
        con.execute(f"CREATE VIEW {TABLE} AS {_scan(root, is_dir)}")
    except duckdb.Error as exc:
        con.close()
        raise CallbackError(f"{dataset}: cannot read the dataset ({exc})") from exc
    return con


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _refuse_writes(con: Any, dataset: Any, sql: str) -> None:
    duckdb = _duckdb()
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise CallbackError(f"{dataset}: query failed: {_first_line(exc)}") from exc
    for statement in statements:
        kind = statement.type.name
        if kind not in READ_STATEMENTS:
            raise CallbackError(
                f"{dataset}: query refused: {kind} statement ({shorten(statement.query, 80)!r}); query() only reads "
                f"the dataset and works in memory (no COPY, EXPORT, ATTACH, INSTALL, LOAD or SET); {_UNSAFE}")


def query(dataset: str | os.PathLike, sql: str, *, unsafe: bool = False) -> pd.DataFrame:
    """Run *sql* on DuckDB over a partitioned callback dataset; the table is called ``calls``.

    Only the answer is loaded into pandas: DuckDB reads the Parquet files itself, skipping the
    partitions and columns the query does not need (``WHERE day >= '2026-01-01'`` reads those
    days' folders only).

    The SQL is confined to the dataset: it may read the dataset's own files and nothing else,
    and only statements that read or work in memory run (:data:`READ_STATEMENTS`):
    ``read_csv('/etc/passwd')``, ``COPY calls TO 'out.csv'``, ``glob('/root/*')``, ``ATTACH``,
    ``INSTALL``/``LOAD`` and ``SET`` are refused.

    Parameters
    ----------
    dataset
        A folder written by ``save_calls(calls, folder, partition_by="day")`` (or one Parquet file).
    sql
        A DuckDB query over the view ``calls`` (every column of the frame, plus ``day`` as text).
    unsafe
        Run *sql* on an unconfined DuckDB (any file, any statement, extensions): only for SQL you
        wrote yourself in a trusted notebook, never for SQL from a form, a file or a colleague's chat.

    Raises
    ------
    CallbackError
        DuckDB is not installed (``pip install cmvoice_nb[scale]``), the dataset cannot be read,
        the query is refused (it reaches outside the dataset, or does not only read), or it fails
        (DuckDB's message is included).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from cmvoice_nb.callbacks.load import load_callbacks, save_calls
    >>> calls = load_callbacks([{"type": "otp-finished", "result": {"code": 9}, "started-on": "2024-01-01T10:00:00Z"}])
    >>> history = save_calls(calls, pathlib.Path(tempfile.mkdtemp()) / "history", partition_by="day")
    >>> query(history, "SELECT day, count(*) AS calls FROM calls GROUP BY day ORDER BY day").values.tolist()
    [['2024-01-01', 1]]
    >>> query(history, "SELECT * FROM read_csv('/etc/passwd')")
    Traceback (most recent call last):
    ...
    cmvoice_nb.errors.CallbackError: ...: query refused: it reaches outside the dataset (...); query() reads only ...
    """
    duckdb = _duckdb()
    con = _connect(dataset, unsafe=unsafe)
    try:
        if not unsafe:
            _refuse_writes(con, dataset, sql)
        return con.execute(sql).df()
    except duckdb.PermissionException as exc:
        raise CallbackError(f"{dataset}: query refused: it reaches outside the dataset ({_first_line(exc)}); "
                            f"query() reads only the dataset's own files; {_UNSAFE}") from exc
    except duckdb.Error as exc:
        if not unsafe and "configuration has been locked" in str(exc):
            raise CallbackError(f"{dataset}: query refused: settings cannot be changed in query() "
                                f"({_first_line(exc)}); {_UNSAFE}") from exc
        raise CallbackError(f"{dataset}: query failed: {exc}") from exc
    finally:
        con.close()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def summarize_dataset(dataset: str | os.PathLike, by: str | Sequence[str] | None = None, *, tz: str = "UTC",
                      percentiles: Sequence[int] = (50, 90), derived_keys: Sequence[str] = (),
                      wave_pattern: str = WAVE_SUFFIX.pattern, error: type = CallbackError) -> pd.DataFrame:
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
            sql += (f" GROUP BY {', '.join(str(i + 1) for i in range(len(keys)))}"
                    f" ORDER BY {', '.join(o + ' NULLS LAST' for o in order)}")
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
