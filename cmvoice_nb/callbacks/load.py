"""Load callback logs into one typed pandas DataFrame.

:func:`load_callbacks` reads what :class:`~cmvoice_nb.callbacks.receiver.CallbackReceiver`
writes (JSON Lines, optionally rotated per day), JSON array files, CSV or
Parquet exports, or plain Python dicts, and returns one row per callback with
the columns in :data:`CALL_COLUMNS` plus any unknown keys as extra columns.

It is tolerant and honest: a bad line is skipped and listed in the
:class:`LoadReport` (``df.attrs["load_report"]``), never silently dropped and
never fatal; the same callback delivered twice is kept once and counted;
timestamps that do not parse stay null with a :class:`CallbackWarning`. Two
complete objects glued on one line (a lost newline) are both kept.

Every field keeps the type the provider documents (``sip-disconnect-code`` and
``digits`` are text, codes nullable integers, times UTC), whatever type a line
actually sends: a value of an unexpected kind is handled per column and kept.

Speed comes from pyarrow's multi-threaded columnar JSON reader;
only lines it cannot take (torn writes, deep nesting, invalid UTF-8, lone
surrogates) go through ``json.loads``, one by one. See the notes in the
``cmvoice_nb.callbacks._jsonl`` module; ``LoadReport.tolerant_lines`` counts them.

Memory stays bounded by the result, not the log: a JSON Lines file is read in
blocks of ~128 MB cut at a newline, each block typed at once into compact
columns (Arrow-backed text, categories, timestamps, derived columns), and the
blocks joined column by column at the end. Duplicates are found across blocks
(by a hash of the call id, then a full comparison of the few rows that share
one); a bad line keeps its line number in the file. 10,000,000 lines (a 4 GB
log) load within ~2.5 GB of peak memory (``bench/README.md``).

The work is split by job: :mod:`~cmvoice_nb.callbacks.readers` turns bytes into raw frames,
:mod:`~cmvoice_nb.callbacks.frame` types them (the columns, :class:`LoadReport`),
``_dedupe`` drops redeliveries across blocks, and this module holds the public functions; the
names listed in ``__all__`` are importable from here.
"""
from __future__ import annotations

import io
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import spec
from .._fsutil import atomic_writer, same_file
from .._gc import paused_gc
from ..errors import CallbackError
from ._dedupe import drop_duplicates
from ._tolerant import has_lone_surrogate, records_frames
from .frame import CALL_COLUMNS, BadLine, LoadReport, combine, concat_typed, derive, reconcile_blocks, type_columns
from .readers import expand, iter_file, release_memory

log = logging.getLogger(__name__)


class CallbackWarning(UserWarning):
    """Something in a callback log was skipped or could not be parsed; see the :class:`LoadReport`."""


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------

def load_callbacks(source: Any, *, dedupe: bool = True, warn: bool = True) -> pd.DataFrame:
    """Load callbacks from logs, exports or dicts into one typed DataFrame.

    Parameters
    ----------
    source
        A JSON Lines file (what :class:`CallbackReceiver` writes, ``.gz`` too), a folder of them
        (per-day rotated logs included; ``*.quarantine.*`` files are skipped), a glob pattern,
        a JSON array file, a CSV or Parquet export, a list of callback dicts, a DataFrame, or a
        list mixing any of these.
    dedupe
        Drop exact duplicates (the same callback delivered twice, whatever its ``received_at``).
    warn
        Emit a :class:`CallbackWarning` summarising skipped lines and unparsable values.

    Returns
    -------
    pandas.DataFrame
        One row per callback, columns :data:`CALL_COLUMNS` then unknown keys. Timestamps are
        timezone-aware UTC (``datetime64[ns, UTC]``); ``result_code`` is a nullable ``Int64``.
        Text is Arrow-backed: ``call_id``, ``instruction_id``, ``callee`` and ``digits`` are
        ``string[pyarrow]`` (``pd.StringDtype("pyarrow")``, missing is ``pd.NA``; ``digits`` keeps
        its leading zeros), and the few-valued ``type``, ``app``, ``caller``,
        ``result_description``, ``sip_disconnect_code`` and ``sip_disconnect_reason`` are
        ``category`` (their values, sorted, as the categories), which compares, filters, groups
        and sorts like the text (group with ``observed=True``); ``.astype("string")`` gives text.
        ``outcome`` is a categorical of Cancelled/Finished/Failed/Rejected/unknown;
        ``ring_seconds`` is from start to answer (or to the end when unanswered), ``talk_seconds``
        from answer to end (null when unanswered). ``df.attrs["load_report"]`` is the
        :class:`LoadReport`.

    Raises
    ------
    CallbackError
        When a named file, folder or pattern does not exist (bad *content* never raises).

    Examples
    --------
    >>> calls = load_callbacks([{
    ...     "type": "dtmf-finished", "call-id": "6d0f176e-00ac-4de2-a04d-b3f7c895adb0",
    ...     "instruction-id": "row-1", "caller": "0031687654321", "callee": "0031612345678",
    ...     "result": {"code": 10, "description": "Finished"},
    ...     "started-on": "2018-02-09T11:00:31.752Z", "answered-on": "2018-02-09T11:00:37.972Z",
    ...     "finished-on": "2018-02-09T11:00:48.112Z", "digits": "0042"}])
    >>> row = calls.iloc[0]
    >>> row["app"], row["outcome"], row["digits"], float(row["ring_seconds"])
    ('dtmf', 'Finished', '0042', 6.22)
    """
    items = list(expand(source))
    # The load makes many objects and none of them is in a cycle: the cyclic collector is paused
    # (and restored) so that it does not walk whatever else the process holds again and again.
    with paused_gc():
        try:
            report, calls = _load(items, dedupe=dedupe, check_records=False)
        except UnicodeEncodeError:
            # Some dict held a lone surrogate ("\ud800"), which no text column can store: read again,
            # this time checking every record (they are listed as bad). Checking up front would cost
            # every load a full encode of its records.
            report, calls = _load(items, dedupe=dedupe, check_records=True)
    problems = report.problems()
    if problems:
        log.warning("load_callbacks: %s", "; ".join(problems))
        if warn:
            warnings.warn("; ".join(problems) + " (see df.attrs['load_report'])", CallbackWarning, stacklevel=2)
    return calls


def calls_frame(calls: Any) -> pd.DataFrame:
    """*calls* as the typed frame :func:`load_callbacks` returns: itself when it is one, else loaded.

    Every analysis takes "the calls" in any form :func:`load_callbacks` accepts through here, so
    a frame loaded once is never loaded again.

    Examples
    --------
    >>> calls = calls_frame([{"type": "otp-finished", "result": {"code": 10}}])
    >>> calls["outcome"].tolist(), calls_frame(calls) is calls
    (['Finished'], True)
    """
    if isinstance(calls, pd.DataFrame) and "outcome" in calls.columns and "answered" in calls.columns:
        return calls
    return load_callbacks(calls)


def _load(items: list, *, dedupe: bool, check_records: bool) -> tuple[LoadReport, pd.DataFrame]:
    report = LoadReport()
    parts: list[pd.DataFrame] = []

    def typed(pieces: list[pd.DataFrame]) -> pd.DataFrame:
        return derive(type_columns(combine(pieces), report))

    for index, item in enumerate(items):
        kind, value = item
        seq_base = index << 40  # keeps rows in source order across files when pieces are merged
        if kind == "records":
            report.sources.append("<records>")
            parts.append(typed(records_frames(value, "<records>", seq_base, report, check=check_records)))
        elif kind == "frame":
            report.sources.append("<DataFrame>")
            frame = value.reset_index(drop=True).copy()
            frame["_seq"] = seq_base + np.arange(len(frame), dtype="int64")
            parts.append(typed([frame]))
        else:
            report.sources.append(str(value))
            # A large log is read a block at a time and each block typed at once (times, codes,
            # categories, derived columns): only compact columns accumulate.
            blocks = []
            for pieces in iter_file(Path(value), seq_base, report, check=check_records):
                blocks.append(typed(pieces))
                del pieces
                release_memory()
            parts.extend(reconcile_blocks(blocks))
    if not parts:
        parts.append(typed([]))
    report.records = sum(len(p) for p in parts)
    parts, report.duplicates_removed, report.conflicting_call_ids = drop_duplicates(parts, dedupe=dedupe)
    calls = concat_typed(parts, release=release_memory)
    del parts
    release_memory()
    report.rows = len(calls)
    calls.attrs["load_report"] = report
    if check_records is False:
        _require_encodable(calls)
    return report, calls


def _require_encodable(calls: pd.DataFrame) -> None:
    """Raise ``UnicodeEncodeError`` if an extra (object) column holds a lone surrogate."""
    for col in calls.columns[len(CALL_COLUMNS):]:
        if calls[col].dtype == object:
            for value in calls[col].dropna():
                if isinstance(value, (str, list, dict)) and has_lone_surrogate(value):
                    raise UnicodeEncodeError("utf-8", "", 0, 1, f"lone surrogate in column {col!r}")


def save_calls(calls: pd.DataFrame, path: str | os.PathLike, *, format: str | None = None,
               spreadsheet_safe: bool = False, partition_by: str | None = None) -> Path:
    """Export a loaded callback frame to Parquet or CSV, atomically, for other tools.

    The format follows the suffix (``.parquet``/``.pq`` or ``.csv``) unless *format* is given.
    CSV keeps ``digits`` as text, timestamps as ISO 8601 UTC; :func:`load_callbacks` reads both
    exports back to the same frame, except that CSV cannot tell empty ``digits`` (DTMF without
    valid input) from missing ones: use Parquet when that matters. Refuses to overwrite one of
    the frame's own sources.

    Text is written as it arrived, so a cell starting with ``=``, ``+``, ``-`` or ``@`` (a
    callee ``+316...``, or anything a caller's system put in a key) is a formula to a spreadsheet
    that opens the file directly. Import such a CSV as text instead (Excel: Data > From Text/CSV,
    column type Text; LibreOffice: tick "Format quoted field as text" / set columns to Text), or
    pass ``spreadsheet_safe=True``: every such text cell then starts with an apostrophe
    (see :func:`defuse_formulas`). That file is for people; load the plain export or Parquet.

    ``partition_by="day"`` writes a Hive-style partitioned Parquet dataset instead: *path* is a
    new folder holding ``day=YYYY-MM-DD/part-0.parquet`` (the UTC day each call started), written
    in a temporary folder and renamed when complete, never over an existing one. Query it with
    :func:`cmvoice_nb.callbacks.query` or :func:`~cmvoice_nb.callbacks.summarize` (DuckDB), or
    read it with Spark, Dask or Polars (see :mod:`~cmvoice_nb.callbacks.dataset`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> calls = load_callbacks([{"type": "otp-finished", "result": {"code": 9}}])
    >>> out = save_calls(calls, pathlib.Path(tempfile.mkdtemp()) / "calls.csv")
    >>> load_callbacks(out)["outcome"].tolist()
    ['Cancelled']
    """
    target = Path(path)
    if partition_by is not None:
        if format not in (None, "parquet"):
            raise CallbackError(f"{target}: a partitioned export is Parquet, not {format!r}")
        from .dataset import write_partitioned

        return write_partitioned(calls, target, partition_by=partition_by)
    fmt = (format or target.suffix.lstrip(".")).lower()
    report = calls.attrs.get("load_report")
    for src in getattr(report, "sources", []):
        if not src.startswith("<") and target.exists() and same_file(src, target):
            raise CallbackError(f"{target}: refusing to overwrite a source of this frame")
    out = calls.copy()
    out.attrs = {}
    if fmt in ("parquet", "pq"):
        buf = io.BytesIO()
        out.to_parquet(buf, index=False)
        with atomic_writer(target, "wb") as fh:
            fh.write(buf.getvalue())
    elif fmt == "csv":
        if spreadsheet_safe:
            out = defuse_formulas(out)
        for col in out.columns:
            if isinstance(out[col].dtype, pd.DatetimeTZDtype):
                out[col] = out[col].dt.strftime(spec.CSV_TIMESTAMP_FORMAT).astype("string")
        with atomic_writer(target, "w", encoding="utf-8") as fh:
            out.to_csv(fh, index=False)
    else:
        raise CallbackError(f"{target}: unknown export format {fmt!r}; expected 'parquet' or 'csv'")
    return target


#: A text cell starting with one of these is run as a formula by spreadsheet programs (OWASP,
#: "CSV injection"): ``=``, ``+``, ``-``, ``@``, tab and carriage return.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def defuse_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a copy in which no text cell can run as a spreadsheet formula.

    Every text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
    leading apostrophe, which spreadsheets show as text and do not evaluate. Numbers, timestamps
    and missing values are untouched; the input is not modified. Works on any frame, e.g. a
    campaign's ``results.csv`` read with ``pd.read_csv(path, dtype=str)``.

    Examples
    --------
    >>> df = pd.DataFrame({"callee": ["+31612345678", "0031612345678"], "note": ["=HYPERLINK(1)", "ok"]})
    >>> defuse_formulas(df).to_dict("list")
    {'callee': ["'+31612345678", '0031612345678'], 'note': ["'=HYPERLINK(1)", 'ok']}
    """
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if isinstance(series.dtype, pd.CategoricalDtype):
            # A loaded frame keeps its few-valued text (caller, type ...) as categories: defuse those.
            categories = series.cat.categories
            if not (categories.dtype == object or isinstance(categories.dtype, pd.StringDtype)):
                continue
            names = pd.Series(categories, dtype=object)
            risky = names.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_PREFIXES)).to_numpy(dtype=bool)
            if not risky.any():
                continue
            renamed = names.where(~risky, "'" + names.astype(str))
            if renamed.is_unique:
                out[col] = series.cat.rename_categories(pd.Index(renamed.tolist(), dtype=categories.dtype))
                continue
            series = series.astype(object)  # renaming would merge two categories: defuse the text
        if not (series.dtype == object or isinstance(series.dtype, pd.StringDtype)):
            continue
        text = series.astype("string")
        risky = text.str.startswith(FORMULA_PREFIXES).fillna(False).astype(bool)
        if risky.any():
            fixed = series.copy()
            prefixed = "'" + text[risky]
            fixed.loc[risky] = prefixed.astype(object) if series.dtype == object else prefixed
            out[col] = fixed
    return out


__all__ = ["load_callbacks", "calls_frame", "save_calls", "defuse_formulas", "FORMULA_PREFIXES", "LoadReport",
           "BadLine", "CallbackWarning", "CALL_COLUMNS"]
