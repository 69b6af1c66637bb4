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

Speed comes from pyarrow's columnar JSON reader over ~1 MB blocks; only a
block that pyarrow refuses is re-read, and only its offending lines go through
``json.loads``.
"""
from __future__ import annotations

import glob as _glob
import gzip
import io
import json
import logging
import math
import os
import re
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from .. import spec
from .._fsutil import atomic_writer, same_file
from ..errors import CallbackError

log = logging.getLogger(__name__)

#: The columns of a loaded callback frame, in order. Unknown keys follow as extra columns.
CALL_COLUMNS: tuple[str, ...] = (
    "type",
    "app",
    "call_id",
    "instruction_id",
    "caller",
    "callee",
    "result_code",
    "result_description",
    "sip_disconnect_code",
    "sip_disconnect_reason",
    "started_on",
    "answered_on",
    "finished_on",
    "digits",
    "received_at",
    "answered",
    "outcome",
    "ring_seconds",
    "talk_seconds",
    "total_seconds",
)

_STRING_COLUMNS = (
    "type", "call_id", "instruction_id", "caller", "callee",
    "result_description", "sip_disconnect_reason", "digits",
)
_INT_COLUMNS = ("result_code", "sip_disconnect_code")
_TIME_COLUMNS = ("started_on", "answered_on", "finished_on", "received_at")
#: Computed here; when an input (a CSV export of a loaded frame) carries them they are recomputed.
_DERIVED = ("app", "answered", "outcome", "ring_seconds", "talk_seconds", "total_seconds")
_RAW_COLUMNS = tuple(c for c in CALL_COLUMNS if c not in _DERIVED)

# Normalised spelling (see _norm) of every accepted name -> column. Covers the wire's kebab keys,
# flattened "result.code", our own snake names and camelCase exports.
_ALIASES = {
    "type": "type",
    "call_id": "call_id",
    "instruction_id": "instruction_id",
    "caller": "caller",
    "callee": "callee",
    "result_code": "result_code",
    "result_description": "result_description",
    "sip_disconnect_code": "sip_disconnect_code",
    "result_sip_disconnect_code": "sip_disconnect_code",
    "sip_disconnect_reason": "sip_disconnect_reason",
    "result_sip_disconnect_reason": "sip_disconnect_reason",
    "started_on": "started_on",
    "answered_on": "answered_on",
    "finished_on": "finished_on",
    "digits": "digits",
    "received_at": "received_at",
}
_ALIASES.update({d: d for d in _DERIVED})

_BLOCK_BYTES = 1 << 20  # ~2,800 callbacks: small enough that re-reading one around a bad line is cheap
_MAX_ARROW_RETRIES = 4  # after this many bad lines in one block, read its rest line by line
_ROW_RE = re.compile(r"in row (\d+)")
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json", ".log", ".jsonl.gz", ".ndjson.gz", ".json.gz")


class CallbackWarning(UserWarning):
    """Something in a callback log was skipped or could not be parsed; see the :class:`LoadReport`."""


@dataclass(frozen=True)
class BadLine:
    """One input line (or JSON array item) that could not be used."""

    source: str
    line: int
    reason: str
    text: str = ""

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}"


@dataclass
class LoadReport:
    """What :func:`load_callbacks` read, skipped and repaired.

    Attributes
    ----------
    sources
        The files read (or ``"<records>"`` / ``"<DataFrame>"``), in order.
    records
        Callbacks parsed, before duplicates were removed.
    rows
        Rows in the returned frame.
    bad_lines
        Every skipped line with its source, 1-based line number and reason.
    duplicates_removed
        Exact duplicates (the same callback delivered twice) dropped; the first delivery is kept.
    unparsable_timestamps
        Column -> how many non-empty values did not parse (they are null in the frame).
    invalid_values
        Column -> how many non-empty values were not of the expected kind (e.g. a non-numeric code).
    conflicting_call_ids
        Call ids that still occur more than once after exact duplicates were removed
        (the provider sent different content for the same call).
    """

    sources: list[str] = field(default_factory=list)
    records: int = 0
    rows: int = 0
    bad_lines: list[BadLine] = field(default_factory=list)
    duplicates_removed: int = 0
    unparsable_timestamps: dict[str, int] = field(default_factory=dict)
    invalid_values: dict[str, int] = field(default_factory=dict)
    conflicting_call_ids: int = 0

    @property
    def bad_line_count(self) -> int:
        """Number of skipped lines."""
        return len(self.bad_lines)

    @property
    def bad_line_numbers(self) -> list[tuple[str, int]]:
        """``(source, line)`` of every skipped line."""
        return [(b.source, b.line) for b in self.bad_lines]

    @property
    def ok(self) -> bool:
        """True when nothing was skipped or left unparsed (duplicates are normal and do not count)."""
        return not (self.bad_lines or any(self.unparsable_timestamps.values()) or any(self.invalid_values.values()))

    def problems(self) -> list[str]:
        """Plain-language lines describing everything that was skipped or not parsed."""
        out = []
        if self.bad_lines:
            shown = ", ".join(f"{Path(b.source).name}:{b.line}" for b in self.bad_lines[:10])
            more = f" and {len(self.bad_lines) - 10} more" if len(self.bad_lines) > 10 else ""
            out.append(f"{len(self.bad_lines)} bad line(s) skipped ({shown}{more})")
        for col, n in self.unparsable_timestamps.items():
            if n:
                out.append(f"{n} unparsable timestamp(s) in {col} left null")
        for col, n in self.invalid_values.items():
            if n:
                out.append(f"{n} invalid value(s) in {col} left null")
        if self.conflicting_call_ids:
            out.append(f"{self.conflicting_call_ids} call id(s) have differing callbacks")
        return out

    def __repr__(self) -> str:
        return (
            f"LoadReport(sources={len(self.sources)}, records={self.records}, rows={self.rows}, "
            f"bad_lines={self.bad_line_count}, duplicates_removed={self.duplicates_removed}, "
            f"unparsable_timestamps={sum(self.unparsable_timestamps.values())})"
        )

    def _repr_html_(self) -> str:
        items = [
            ("sources", len(self.sources)),
            ("callbacks read", self.records),
            ("rows", self.rows),
            ("bad lines skipped", self.bad_line_count),
            ("duplicates removed", self.duplicates_removed),
            ("unparsable timestamps", sum(self.unparsable_timestamps.values())),
            ("invalid values", sum(self.invalid_values.values())),
        ]
        rows = "".join(f"<tr><th style='text-align:left'>{escape(k)}</th><td>{v}</td></tr>" for k, v in items)
        bad = "".join(f"<li>{escape(str(b))}</li>" for b in self.bad_lines[:20])
        more = f"<li>… {len(self.bad_lines) - 20} more</li>" if len(self.bad_lines) > 20 else ""
        return f"<table>{rows}</table>" + (f"<ul>{bad}{more}</ul>" if bad else "")


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
        timezone-aware UTC; ``digits`` is a string (leading zeros survive); ``result_code`` is a
        nullable integer; ``outcome`` is a categorical of Cancelled/Finished/Failed/Rejected/unknown;
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
    report = LoadReport()
    pieces: list[pd.DataFrame] = []
    for index, item in enumerate(_expand(source)):
        kind, value = item
        seq_base = index << 40  # keeps rows in source order across files when pieces are merged
        if kind == "records":
            report.sources.append("<records>")
            pieces.extend(_records_frames(value, "<records>", seq_base, report))
        elif kind == "frame":
            report.sources.append("<DataFrame>")
            frame = value.reset_index(drop=True).copy()
            frame["_seq"] = seq_base + np.arange(len(frame), dtype="int64")
            pieces.append(frame)
        else:
            report.sources.append(str(value))
            pieces.extend(_read_file(Path(value), seq_base, report))
    frame = _combine(pieces)
    report.records = len(frame)
    calls = _finalize(frame, report, dedupe=dedupe)
    report.rows = len(calls)
    calls.attrs["load_report"] = report
    problems = report.problems()
    if problems:
        log.warning("load_callbacks: %s", "; ".join(problems))
        if warn:
            warnings.warn("; ".join(problems) + " (see df.attrs['load_report'])", CallbackWarning, stacklevel=2)
    return calls


def save_calls(calls: pd.DataFrame, path: str | os.PathLike, *, format: str | None = None) -> Path:
    """Export a loaded callback frame to Parquet or CSV, atomically, for other tools.

    The format follows the suffix (``.parquet``/``.pq`` or ``.csv``) unless *format* is given.
    CSV keeps ``digits`` as text, timestamps as ISO 8601 UTC; :func:`load_callbacks` reads both
    exports back to the same frame, except that CSV cannot tell empty ``digits`` (DTMF without
    valid input) from missing ones: use Parquet when that matters. Refuses to overwrite one of
    the frame's own sources.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> calls = load_callbacks([{"type": "otp-finished", "result": {"code": 9}}])
    >>> out = save_calls(calls, pathlib.Path(tempfile.mkdtemp()) / "calls.csv")
    >>> load_callbacks(out)["outcome"].tolist()
    ['Cancelled']
    """
    target = Path(path)
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
        for col in out.columns:
            if isinstance(out[col].dtype, pd.DatetimeTZDtype):
                out[col] = out[col].dt.strftime(spec.CSV_TIMESTAMP_FORMAT).astype("string")
        with atomic_writer(target, "w", encoding="utf-8") as fh:
            out.to_csv(fh, index=False)
    else:
        raise CallbackError(f"{target}: unknown export format {fmt!r}; expected 'parquet' or 'csv'")
    return target


# ---------------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------------

def _expand(source: Any) -> Iterable[tuple[str, Any]]:
    """Yield ``("file", Path)``, ``("records", list)`` or ``("frame", DataFrame)`` items."""
    if isinstance(source, pd.DataFrame):
        yield ("frame", source)
    elif isinstance(source, Mapping):
        yield ("records", [source])
    elif isinstance(source, (str, os.PathLike)):
        yield from (("file", p) for p in _paths(source))
    elif isinstance(source, Iterable) and not isinstance(source, (bytes, bytearray)):
        items = list(source)
        if all(isinstance(x, Mapping) for x in items):
            yield ("records", items)
            return
        run: list = []
        for x in items:
            if isinstance(x, Mapping):
                run.append(x)
                continue
            if run:
                yield ("records", run)
                run = []
            yield from _expand(x)
        if run:
            yield ("records", run)
    else:
        raise CallbackError(
            f"cannot load callbacks from {type(source).__name__}: expected a path, folder, glob, "
            "list of dicts or DataFrame"
        )


def _paths(source: str | os.PathLike) -> list[Path]:
    path = Path(source)
    if path.is_dir():
        files = sorted(
            p for p in path.iterdir()
            if p.is_file() and p.name.lower().endswith(_JSONL_SUFFIXES) and ".quarantine" not in p.name
            and not p.name.startswith(".")
        )
        if not files:
            log.warning("%s: folder holds no callback logs (*.jsonl, *.ndjson, *.json)", path)
        return files
    if path.exists():
        return [path]
    text = os.fspath(source)
    if any(ch in text for ch in "*?["):
        files = [Path(p) for p in sorted(_glob.glob(text)) if Path(p).is_file()]
        if files:
            return files
        raise CallbackError(f"{text}: no file matches this pattern")
    raise CallbackError(f"{text}: no such file or folder")


def _read_file(path: Path, seq_base: int, report: LoadReport) -> list[pd.DataFrame]:
    name = path.name.lower()
    src = str(path)
    try:
        if name.endswith((".parquet", ".pq")):
            frame = pd.read_parquet(path)
            frame["_seq"] = seq_base + np.arange(len(frame), dtype="int64")
            return [frame]
        if name.endswith(".csv"):
            return [_read_csv(path, seq_base, report)]
        data = _read_bytearray(path)
    except OSError as exc:
        raise CallbackError(f"{path}: cannot read: {exc}") from exc
    except (ValueError, ImportError) as exc:  # a corrupt Parquet file
        report.bad_lines.append(BadLine(src, 1, f"unreadable file: {exc}"))
        return []
    if name.endswith(".gz"):
        try:
            data = bytearray(gzip.decompress(data))
        except (OSError, EOFError) as exc:
            report.bad_lines.append(BadLine(src, 1, f"not a readable gzip file: {exc}"))
            return []
    if data.startswith(b"\xef\xbb\xbf"):
        data[:3] = b"   "  # a BOM; blanking it in place keeps offsets and avoids a copy
    head = bytes(data[:65536]).lstrip()[:1]
    if head == b"[":
        return _read_json_document(data, src, seq_base, report)
    if head == b"{" and name.endswith((".json", ".json.gz")):
        # A .json file may be one pretty-printed object rather than JSON Lines.
        try:
            doc = json.loads(data)
        except ValueError:
            pass
        else:
            return _records_frames([doc], src, seq_base, report)
    return _read_jsonl(data, src, seq_base, report)


def _read_bytearray(path: Path) -> bytearray:
    """The whole file in a mutable buffer (the fast JSONL path blanks bad lines in place)."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        data = bytearray(size)
        view = memoryview(data)
        got = 0
        while got < size:
            n = fh.readinto(view[got:])
            if not n:
                break
            got += n
        rest = fh.read()  # the file grew while we read it (a receiver is appending)
    if got < size:
        del data[got:]
    return data + rest if rest else data


def _read_json_document(data: bytes, src: str, seq_base: int, report: LoadReport) -> list[pd.DataFrame]:
    try:
        doc = json.loads(data)
    except ValueError as exc:
        line = getattr(exc, "lineno", 1)
        report.bad_lines.append(BadLine(src, line, f"not valid JSON, file skipped: {exc}"))
        return []
    items = doc if isinstance(doc, list) else [doc]
    return _records_frames(items, src, seq_base, report, item_label=True)


def _read_csv(path: Path, seq_base: int, report: LoadReport) -> pd.DataFrame:
    kw = dict(dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    try:
        frame = pd.read_csv(path, **kw)
    except pd.errors.ParserError:
        # Only a malformed CSV pays for the slower Python engine, which can report bad rows.
        bad: list[list[str]] = []

        def keep(fields: list[str]) -> None:
            bad.append(fields)
            return None

        frame = pd.read_csv(path, engine="python", on_bad_lines=keep, **kw)
        for fields in bad:
            report.bad_lines.append(BadLine(str(path), 0, "wrong number of CSV fields", ",".join(fields)[:120]))
    except (UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        report.bad_lines.append(BadLine(str(path), 1, f"unreadable CSV: {exc}"))
        return pd.DataFrame()
    frame["_seq"] = seq_base + np.arange(len(frame), dtype="int64")
    return frame


# ---------------------------------------------------------------------------------------------
# JSON Lines: pyarrow over blocks, json.loads only around lines pyarrow refuses
# ---------------------------------------------------------------------------------------------

def _arrow_schema():
    import pyarrow as pa

    s = pa.string()
    # Known keys get fixed types so every block agrees; unknown keys are inferred ("infer").
    return pa.schema([
        ("type", s), ("call-id", s), ("instruction-id", s), ("caller", s), ("callee", s),
        ("result", pa.struct([
            ("code", pa.int64()), ("description", s),
            ("sip-disconnect-code", pa.int64()), ("sip-disconnect-reason", s),
        ])),
        ("started-on", s), ("answered-on", s), ("finished-on", s), ("digits", s), ("received-at", s),
    ])


def _split_blocks(data: bytes) -> list[tuple[int, bytes]]:
    """Cut *data* at newlines into ~1 MB blocks; return ``(first_line_number, block)`` pairs."""
    blocks = []
    start, line_no, n = 0, 1, len(data)
    while start < n:
        end = data.find(b"\n", min(start + _BLOCK_BYTES, n))
        end = n if end < 0 else end + 1
        block = data[start:end]
        blocks.append((line_no, block))
        line_no += block.count(b"\n")
        start = end
    return blocks


def _read_jsonl(data: bytes, src: str, seq_base: int, report: LoadReport) -> list[pd.DataFrame]:
    fast = _read_jsonl_whole(data, src, seq_base, report)
    if fast is not None:
        return fast
    return _read_jsonl_blocks(data, src, seq_base, report)


def _read_jsonl_whole(data: bytes, src: str, seq_base: int, report: LoadReport) -> list[pd.DataFrame] | None:
    """One multi-threaded pyarrow read of every line that looks like an object.

    A vectorised scan sets aside lines that do not start with ``{`` and end with ``}``
    (truncated writes, stray text); those go through ``json.loads`` one by one. Returns None
    when pyarrow still refuses the rest, so the caller falls back to block-wise reading.
    """
    import pyarrow as pa
    import pyarrow.json as pj

    buf = np.frombuffer(data, dtype=np.uint8)
    newlines = np.flatnonzero(buf == 10)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(data)]))
    length = ends - starts
    nonempty = length > 0
    last = np.zeros(len(starts), dtype=np.uint8)
    last[nonempty] = buf[ends[nonempty] - 1]
    crlf = nonempty & (last == 13)  # CRLF line endings
    last[crlf & (length > 1)] = buf[ends[crlf & (length > 1)] - 2]
    blank = ~nonempty | (crlf & (length == 1))
    first = np.zeros(len(starts), dtype=np.uint8)
    first[nonempty] = buf[starts[nonempty]]
    good = ~blank & (first == ord("{")) & (last == ord("}"))
    odd = np.flatnonzero(~blank & ~good)
    kept = np.flatnonzero(good)
    if len(odd) > max(1000, len(kept) // 20):
        return None  # a messy file: block-wise reading copes better
    odd_lines = [bytes(data[starts[i]:ends[i]]) for i in odd]
    if len(odd):
        # Blank the odd lines (pyarrow skips whitespace-only lines) instead of copying the rest.
        payload = data if isinstance(data, bytearray) else bytearray(data)
        for i in odd:
            payload[starts[i]:ends[i]] = b" " * int(ends[i] - starts[i])
    else:
        payload = data
    tables = []
    if len(kept):
        parse = pj.ParseOptions(explicit_schema=_arrow_schema(), unexpected_field_behavior="infer")
        read = pj.ReadOptions(use_threads=True, block_size=16 << 20)
        try:
            table = pj.read_json(pa.py_buffer(payload), read_options=read, parse_options=parse)
        except pa.ArrowInvalid:
            table = None
        if table is None or table.num_rows != len(kept):
            # Refused, or rows do not match lines (two objects on one line): the block-wise
            # reader decides, on the original bytes.
            if payload is data:
                for i, line in zip(odd, odd_lines):
                    data[starts[i]:ends[i]] = line
            return None
        tables.append(table)
    records: list = []
    bad: list = []
    for i, line in zip(odd, odd_lines):
        _parse_lines([line], int(i) + 1, records, bad)
    report.bad_lines.extend(BadLine(src, line, reason, text) for line, reason, text in bad)
    frames = []
    if tables:
        frame = _tables_to_frame([(0, tables[0])], 0)
        frame["_seq"] = seq_base + kept.astype("int64") + 1
        frames.append(frame)
    if records:
        frame = _records_to_frame([r for _, r in records])
        frame["_seq"] = seq_base + np.asarray([line for line, _ in records], dtype="int64")
        frames.append(frame)
    return frames


def _read_jsonl_blocks(data: bytes, src: str, seq_base: int, report: LoadReport) -> list[pd.DataFrame]:
    blocks = _split_blocks(data)
    if not blocks:
        return []
    schema = _arrow_schema()
    workers = min(len(blocks), os.cpu_count() or 1)
    if workers > 1:
        # pyarrow releases the GIL while parsing, so blocks parse in parallel.
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(lambda b: _parse_block(b[1], b[0], schema), blocks))
    else:
        results = [_parse_block(b[1], b[0], schema) for b in blocks]
    tables, records, record_seq = [], [], []
    for parsed_tables, parsed_records, bad in results:
        tables.extend(parsed_tables)
        for line, rec in parsed_records:
            records.append(rec)
            record_seq.append(line)
        report.bad_lines.extend(BadLine(src, line, reason, text) for line, reason, text in bad)
    frames = []
    if tables:
        frames.append(_tables_to_frame(tables, seq_base))
    if records:
        frame = _records_to_frame(records)
        frame["_seq"] = seq_base + np.asarray(record_seq, dtype="int64")
        frames.append(frame)
    return frames


def _parse_block(block: bytes, first_line: int, schema) -> tuple[list, list, list]:
    """Parse one block; return (arrow tables with a ``first line`` tag, (line, dict) records, bad lines)."""
    import pyarrow as pa
    import pyarrow.json as pj

    parse = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
    tables: list = []
    records: list = []
    bad: list = []
    failures = 0
    while block:
        try:
            read = pj.ReadOptions(use_threads=False, block_size=max(len(block) + 1, 1 << 16))
            table = pj.read_json(io.BytesIO(block), read_options=read, parse_options=parse)
            tables.append((first_line, table))
            break
        except pa.ArrowInvalid as exc:
            failures += 1
            match = _ROW_RE.search(str(exc))
            lines = block.split(b"\n")
            if match is None or failures > _MAX_ARROW_RETRIES:
                _parse_lines(lines, first_line, records, bad)
                break
            # pyarrow counts rows over non-blank lines: map its row back to a line index.
            row = int(match.group(1))
            seen, index = -1, None
            for i, line in enumerate(lines):
                if line.strip():
                    seen += 1
                    if seen == row:
                        index = i
                        break
            if index is None:
                _parse_lines(lines, first_line, records, bad)
                break
            if index:
                prefix = b"\n".join(lines[:index]) + b"\n"
                sub_t, sub_r, sub_b = _parse_block(prefix, first_line, schema)
                tables.extend(sub_t)
                records.extend(sub_r)
                bad.extend(sub_b)
            _parse_lines([lines[index]], first_line + index, records, bad)
            block = b"\n".join(lines[index + 1:])
            first_line += index + 1
    return tables, records, bad


def _parse_lines(lines: list[bytes], first_line: int, records: list, bad: list) -> None:
    """The tolerant path: one ``json.loads`` per line; records keep their line numbers."""
    for offset, raw in enumerate(lines):
        text = raw.strip()
        if not text:
            continue
        line = first_line + offset
        try:
            value = json.loads(text)
        except ValueError as exc:
            glued = _split_glued(text)
            if glued:
                records.extend((line, obj) for obj in glued)
                continue
            bad.append((line, f"not valid JSON: {exc.msg if hasattr(exc, 'msg') else exc}", _snippet(text)))
            continue
        if not isinstance(value, dict):
            bad.append((line, f"expected a JSON object, got {type(value).__name__}", _snippet(text)))
            continue
        records.append((line, value))


def _split_glued(text: bytes) -> list[dict] | None:
    """Objects written back to back on one line (a lost newline): all of them, or None."""
    decoder = json.JSONDecoder()
    try:
        source = bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        return None
    out, pos = [], 0
    while pos < len(source):
        try:
            value, end = decoder.raw_decode(source, pos)
        except ValueError:
            return None
        if not isinstance(value, dict):
            return None
        out.append(value)
        pos = end
        while pos < len(source) and source[pos] in " \t\r":
            pos += 1
    return out if len(out) > 1 else None


def _snippet(raw: bytes) -> str:
    return raw[:120].decode("utf-8", "replace")


def _flatten_table(table):
    import pyarrow as pa

    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()
    return table


def _tables_to_frame(tagged: list, seq_base: int) -> pd.DataFrame:
    import pyarrow as pa

    flat = [_flatten_table(t) for _, t in tagged]
    seqs = [
        seq_base + first + np.arange(t.num_rows, dtype="int64")
        for (first, _), t in zip(tagged, flat)
    ]
    try:
        table = pa.concat_tables(flat, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        # Inferred extra keys disagree between blocks: let pandas reconcile them per block.
        frames = [_arrow_to_pandas(t) for t in flat]
        frame = pd.concat(frames, ignore_index=True)
    else:
        frame = _arrow_to_pandas(table)
    frame["_seq"] = np.concatenate(seqs) if seqs else np.empty(0, dtype="int64")
    return frame


def _arrow_to_pandas(table) -> pd.DataFrame:
    import pyarrow as pa

    def mapper(t):
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            return pd.StringDtype()
        if pa.types.is_int64(t):
            return pd.Int64Dtype()
        return None

    return table.to_pandas(types_mapper=mapper)


def _flatten_dict(d: Mapping, prefix: str = "", out: dict | None = None) -> dict:
    out = {} if out is None else out
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            _flatten_dict(value, name + ".", out)
        else:
            out[name] = value
    return out


def _records_to_frame(records: list[Mapping]) -> pd.DataFrame:
    flat = [_flatten_dict(r) for r in records]
    return pd.DataFrame.from_records(flat) if flat else pd.DataFrame()


def _records_frames(items: list, src: str, seq_base: int, report: LoadReport, *, item_label: bool = False) -> list[pd.DataFrame]:
    good, seq = [], []
    for i, item in enumerate(items):
        if isinstance(item, Mapping):
            good.append(item)
            seq.append(i)
        else:
            label = "item" if item_label else "record"
            report.bad_lines.append(
                BadLine(src, i + 1, f"{label} {i + 1}: expected a JSON object, got {type(item).__name__}", repr(item)[:120])
            )
    if not good:
        return []
    frame = _records_to_frame(good)
    frame["_seq"] = seq_base + np.asarray(seq, dtype="int64")
    return [frame]


# ---------------------------------------------------------------------------------------------
# Typing and derived columns (pure: DataFrame in, new DataFrame out)
# ---------------------------------------------------------------------------------------------

def _norm(name: Any) -> str:
    text = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", str(name))
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


def _canonical(name: Any) -> str:
    return _ALIASES.get(_norm(name), str(name))


def _combine(pieces: list[pd.DataFrame]) -> pd.DataFrame:
    renamed = []
    for piece in pieces:
        if not len(piece.columns):
            continue
        piece = piece.rename(columns={c: _canonical(c) for c in piece.columns if c != "_seq"})
        if piece.columns.duplicated().any():
            piece = _coalesce_duplicates(piece)
        renamed.append(piece.drop(columns=[c for c in _DERIVED if c in piece.columns]))
    if not renamed:
        return pd.DataFrame({"_seq": np.empty(0, dtype="int64")})
    frame = renamed[0] if len(renamed) == 1 else pd.concat(renamed, ignore_index=True, sort=False)
    if len(renamed) > 1:
        frame = frame.sort_values("_seq", kind="stable")
    return frame.reset_index(drop=True)


def _coalesce_duplicates(frame: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for name in dict.fromkeys(frame.columns):
        cols = frame.loc[:, frame.columns == name]
        series = cols.iloc[:, 0]
        for j in range(1, cols.shape[1]):
            series = series.where(series.notna(), cols.iloc[:, j])
        out[name] = series
    return pd.DataFrame(out)


def _as_string(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.StringDtype):
        # Already text ("string", or pandas 3's "str" from read_csv): only the missing marker differs.
        return series if series.dtype.na_value is pd.NA else series.astype("string")

    def text(v: Any) -> Any:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            return None
        if isinstance(v, float) and v.is_integer():
            return str(int(v))  # a number that went through a float (spreadsheet, JSON number)
        if isinstance(v, (dict, list)):
            return json.dumps(v)
        return str(v)

    return series.map(text, na_action="ignore").astype("string")


def _as_int(series: pd.Series, name: str, report: LoadReport) -> pd.Series:
    if isinstance(series.dtype, pd.Int64Dtype):
        return series
    numeric = pd.to_numeric(series.astype("string").str.strip() if series.dtype == object or isinstance(series.dtype, pd.StringDtype) else series, errors="coerce")
    numeric = numeric.where(np.isfinite(numeric) & (numeric == np.round(numeric)))
    given = series.notna() & (series.astype("string").str.strip() != "")
    bad = int((given & numeric.isna()).sum())
    if bad:
        report.invalid_values[name] = report.invalid_values.get(name, 0) + bad
    return numeric.astype("Int64")


def _as_utc(series: pd.Series, name: str, report: LoadReport) -> pd.Series:
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    if pd.api.types.is_datetime64_dtype(series.dtype):
        return series.dt.tz_localize("UTC").astype("datetime64[ns, UTC]")
    text = _as_string(series)
    if isinstance(text.dtype, pd.StringDtype) and text.dtype.storage == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        try:
            # Fast path: Arrow parses ISO 8601 with a zone ("...Z") in C; anything else -> pandas.
            parsed = pc.cast(pa.array(text.array), pa.timestamp("ns", "UTC"))
            return pd.Series(parsed.to_pandas(), index=series.index).astype("datetime64[ns, UTC]")
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    stripped = text.str.strip()
    given = stripped.notna() & (stripped != "")
    parsed = pd.to_datetime(stripped.where(given), utc=True, format="ISO8601", errors="coerce")
    bad = int((given & parsed.isna()).sum())
    if bad:
        report.unparsable_timestamps[name] = report.unparsable_timestamps.get(name, 0) + bad
    return parsed.astype("datetime64[ns, UTC]")


def _hashable(series: pd.Series) -> pd.Series:
    if series.dtype != object:
        return series

    def key(v: Any) -> Any:
        if isinstance(v, np.ndarray):
            v = v.tolist()
        if isinstance(v, (list, dict)):
            return json.dumps(v, sort_keys=True, default=str)
        return v

    return series.map(key)


def _repeated_call_ids(frame: pd.DataFrame) -> np.ndarray:
    """Boolean mask of rows whose call id occurs more than once."""
    call_id = frame["call_id"]
    if len(frame) == 0:
        return np.zeros(0, dtype=bool)
    return call_id.duplicated(keep=False).to_numpy() & call_id.notna().to_numpy()


def _drop_duplicates(frame: pd.DataFrame, *, dedupe: bool) -> tuple[pd.DataFrame, int, int]:
    """Drop exact duplicates; return (frame, duplicates removed, call ids with differing callbacks)."""
    # The same callback delivered twice differs only in when we received it. Two copies share
    # their call id, so only rows whose call id repeats (or is missing) are compared in full.
    repeated = _repeated_call_ids(frame)
    subset = [c for c in frame.columns if c not in ("received_at", "_seq")]
    candidates = repeated | frame["call_id"].isna().to_numpy()
    if not candidates.any():
        return frame, 0, 0
    keyed = pd.DataFrame({c: _hashable(frame[c][candidates]) for c in subset})
    exact = np.zeros(len(frame), dtype=bool)
    exact[np.flatnonzero(candidates)[keyed.duplicated(keep="first").to_numpy()]] = True
    left = frame.loc[repeated & ~exact, "call_id"]
    conflicting = int(left[left.duplicated()].nunique())
    if not dedupe or not exact.any():
        return frame, 0, conflicting
    return frame[~exact], int(exact.sum()), conflicting


def _finalize(raw: pd.DataFrame, report: LoadReport, *, dedupe: bool) -> pd.DataFrame:
    frame = raw.copy() if raw is not None else pd.DataFrame()
    n = len(frame)
    for col in _RAW_COLUMNS:
        if col not in frame.columns:
            frame[col] = pd.Series([pd.NA] * n, index=frame.index, dtype="object")
    for col in _STRING_COLUMNS:
        frame[col] = _as_string(frame[col])
    for col in _INT_COLUMNS:
        frame[col] = _as_int(frame[col], col, report)
    for col in _TIME_COLUMNS:
        frame[col] = _as_utc(frame[col], col, report)
    frame, report.duplicates_removed, report.conflicting_call_ids = _drop_duplicates(frame, dedupe=dedupe)
    frame = frame.reset_index(drop=True)

    codes = frame["result_code"].to_numpy(dtype="float64", na_value=np.nan)
    outcomes = list(spec.OUTCOMES)
    # Vectorised lookups keyed on the code (never the provider's text, which varies).
    outcome_index = np.full(len(frame), outcomes.index("unknown"), dtype="int8")
    code_answered = np.zeros(len(frame), dtype=bool)
    known_code = np.zeros(len(frame), dtype=bool)
    for code, rc in spec.RESULT_CODES.items():
        hit = codes == int(code)
        outcome_index[hit] = outcomes.index(rc.name)
        code_answered[hit] = rc.answered
        known_code |= hit
    outcome = pd.Categorical.from_codes(outcome_index, categories=outcomes)
    type_codes, type_values = pd.factorize(frame["type"])
    app_values = np.array(
        [spec.CALLBACK_TYPES.get(str(t).strip().lower()) for t in type_values] + [None], dtype=object
    )
    app = pd.Series(app_values[type_codes], index=frame.index, dtype="string")
    # A code outside the table says nothing: fall back to whether an answer time was reported.
    answered = pd.Series(np.where(known_code, code_answered, frame["answered_on"].notna().to_numpy()),
                         index=frame.index)
    started, answered_on, finished = frame["started_on"], frame["answered_on"], frame["finished_on"]
    ring_end = answered_on.where(answered & answered_on.notna(), finished)
    ring = (ring_end - started).dt.total_seconds()
    talk = (finished - answered_on).dt.total_seconds().where(answered)
    total = (finished - started).dt.total_seconds()

    extras = [c for c in frame.columns if c not in CALL_COLUMNS and c != "_seq"]
    out = pd.DataFrame(
        {
            **{c: frame[c] for c in ("type",)},
            "app": app,
            **{c: frame[c] for c in ("call_id", "instruction_id", "caller", "callee", "result_code",
                                      "result_description", "sip_disconnect_code", "sip_disconnect_reason",
                                      "started_on", "answered_on", "finished_on", "digits", "received_at")},
            "answered": answered,
            "outcome": outcome,
            "ring_seconds": ring.astype("float64"),
            "talk_seconds": talk.astype("float64"),
            "total_seconds": total.astype("float64"),
        },
        index=frame.index,
    )
    for col in extras:
        out[col] = frame[col]
    return out


__all__ = ["load_callbacks", "save_calls", "LoadReport", "BadLine", "CallbackWarning", "CALL_COLUMNS"]
