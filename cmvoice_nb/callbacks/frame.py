"""Type a callback frame: the columns, their documented types, derived columns and the :class:`LoadReport`.

Pure: a raw frame (whatever names and kinds the readers found) in, a typed frame out. Duplicates
across blocks are :mod:`._dedupe`'s; :func:`~cmvoice_nb.callbacks.load.load_callbacks` is the
public entry point.
"""
from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import spec

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

# The contract's types: sip-disconnect-code is alphanumeric (the provider's example sends "BYE").
_STRING_COLUMNS = (
    "type", "call_id", "instruction_id", "caller", "callee",
    "result_description", "sip_disconnect_code", "sip_disconnect_reason", "digits",
)
INT_COLUMNS = ("result_code",)
#: Text columns with few distinct values (three callback types, four result descriptions, a
#: campaign's sender ids, a few dozen SIP codes and reasons) are stored as ``category``: one byte
#: per row instead of the text and its offset. Every other text column is Arrow-backed
#: (:data:`TEXT_DTYPE`). ``outcome`` is a category too, with the fixed order of
#: :data:`cmvoice_nb.spec.OUTCOMES`; the others' categories are their values, sorted.
CATEGORY_COLUMNS = ("type", "app", "caller", "result_description", "sip_disconnect_code", "sip_disconnect_reason",
                    "outcome")
#: The dtype of every other text column: Arrow-backed strings, missing values are ``pd.NA``.
TEXT_DTYPE = pd.StringDtype("pyarrow")
_TIME_COLUMNS = ("started_on", "answered_on", "finished_on", "received_at")
#: Computed here; when an input (a CSV export of a loaded frame) carries them they are recomputed.
DERIVED_COLUMNS = ("app", "answered", "outcome", "ring_seconds", "talk_seconds", "total_seconds")
RAW_COLUMNS = tuple(c for c in CALL_COLUMNS if c not in DERIVED_COLUMNS)

#: Where each raw column sits in a callback as the provider sends it (``received-at`` is the
#: receiver's). The readers' Arrow schema and the accepted spellings below both come from here.
WIRE_KEYS: dict[str, tuple[str, ...]] = {
    "type": ("type",),
    "call_id": ("call-id",),
    "instruction_id": ("instruction-id",),
    "caller": ("caller",),
    "callee": ("callee",),
    "result_code": ("result", "code"),
    "result_description": ("result", "description"),
    "sip_disconnect_code": ("result", "sip-disconnect-code"),
    "sip_disconnect_reason": ("result", "sip-disconnect-reason"),
    "started_on": ("started-on",),
    "answered_on": ("answered-on",),
    "finished_on": ("finished-on",),
    "digits": ("digits",),
    "received_at": ("received-at",),
}


def _norm(name: Any) -> str:
    text = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", str(name))
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


# Normalised spelling (see _norm) of every accepted name -> column. Covers the wire's kebab keys,
# flattened "result.code", our own snake names and camelCase exports.
_ALIASES = {_norm(".".join(path)): column for column, path in WIRE_KEYS.items()}
_ALIASES.update({c: c for c in CALL_COLUMNS})


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
    tolerant_lines
        JSON Lines input read one line at a time with ``json.loads`` rather than by the columnar
        reader: bad lines and the odd line pyarrow cannot take. On a healthy log this equals the
        number of bad lines; a value of an unexpected type never sends its lines here unless it
        is an object, array or boolean where a scalar was expected.
    """

    sources: list[str] = field(default_factory=list)
    records: int = 0
    rows: int = 0
    bad_lines: list[BadLine] = field(default_factory=list)
    duplicates_removed: int = 0
    unparsable_timestamps: dict[str, int] = field(default_factory=dict)
    invalid_values: dict[str, int] = field(default_factory=dict)
    conflicting_call_ids: int = 0
    tolerant_lines: int = 0

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
        from .._tables import facts_html, notes_html, to_html

        items = [
            ("sources", len(self.sources)),
            ("callbacks read", self.records),
            ("rows", self.rows),
            ("bad lines skipped", self.bad_line_count),
            ("duplicates removed", self.duplicates_removed),
            ("lines read one by one", self.tolerant_lines),
            ("unparsable timestamps", sum(self.unparsable_timestamps.values())),
            ("invalid values", sum(self.invalid_values.values())),
        ]
        out = facts_html(items, caption="Callbacks loaded" + ("" if self.ok else " (with problems)"))
        out += notes_html(self.problems(), colour="#9a6700")
        if self.bad_lines:
            bad = pd.DataFrame({"source": [b.source for b in self.bad_lines],
                                "line": [b.line for b in self.bad_lines],
                                "reason": [b.reason for b in self.bad_lines]})
            out += to_html(bad, caption="Bad lines", max_rows=20, failures_first=False)
        return out


def event_time(calls: pd.DataFrame) -> pd.Series:
    """When each call happened: it started, else it ended, else its callback arrived (UTC).

    A call that was never answered or failed at once may have no start time; the analyses, the
    periods and the funnel all place a call by this one rule.

    Examples
    --------
    >>> calls = pd.DataFrame({"started_on": pd.to_datetime(["2024-01-01T10:00Z", None], utc=True),
    ...                       "finished_on": pd.to_datetime([None, "2024-01-01T11:00Z"], utc=True)})
    >>> [str(t) for t in event_time(calls)]
    ['2024-01-01 10:00:00+00:00', '2024-01-01 11:00:00+00:00']
    """
    t = calls["started_on"]
    for col in ("finished_on", "received_at"):
        if col in calls.columns:
            t = t.fillna(calls[col])
    return t


# ---------------------------------------------------------------------------------------------
# Typing and derived columns (pure: DataFrame in, new DataFrame out)
# ---------------------------------------------------------------------------------------------

def canonical(name: Any) -> str:
    """The column a key maps to (``"call-id"``, ``"result.code"``, ``"callId"`` ...), or the key itself."""
    return _ALIASES.get(_norm(name), str(name))


def combine(pieces: list[pd.DataFrame]) -> pd.DataFrame:
    """One raw frame from the readers' pieces: names made canonical, derived columns dropped, in ``_seq`` order."""
    renamed = []
    for piece in pieces:
        if not len(piece.columns):
            continue
        piece = piece.rename(columns={c: canonical(c) for c in piece.columns if c != "_seq"})
        if piece.columns.duplicated().any():
            piece = _coalesce_duplicates(piece)
        renamed.append(piece.drop(columns=[c for c in DERIVED_COLUMNS if c in piece.columns]))
    if not renamed:
        return pd.DataFrame({"_seq": np.empty(0, dtype="int64")})
    if len(renamed) == 1:
        return renamed[0].reset_index(drop=True)
    names = list(dict.fromkeys(c for p in renamed for c in p.columns))
    frame = pd.concat(_without_null_columns(renamed), ignore_index=True, sort=False)[names]
    return frame.sort_values("_seq", kind="stable").reset_index(drop=True)


def _without_null_columns(pieces: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """The pieces without the columns that are null throughout them but hold values in another.

    A key null in every line of one piece is read as Arrow's null type (objects); joined to a
    piece where it holds numbers, it would turn that column into objects. Left out, it takes the
    type it has elsewhere, as one read of all the lines types it.
    """
    held = {c for p in pieces for c in p.columns if c != "_seq" and p[c].notna().any()}
    return [p.drop(columns=[c for c in p.columns if c in held and not p[c].notna().any()]) for p in pieces]


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
        # Already text ("string", or pandas 3's "str" from read_csv): only the storage or the
        # missing marker can differ.
        return series if series.dtype == TEXT_DTYPE else series.astype(TEXT_DTYPE)
    if isinstance(series.dtype, pd.CategoricalDtype):
        # A Parquet export read back: type the (few) categories, then take them by code.
        categories = _as_string(pd.Series(np.asarray(series.cat.categories, dtype=object)))
        return pd.Series(categories.array.take(series.cat.codes.to_numpy(), allow_fill=True), index=series.index)

    def text(v: Any) -> Any:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            return None
        if isinstance(v, bool):
            return "true" if v else "false"  # as JSON wrote it
        if isinstance(v, float) and v.is_integer():
            return str(int(v))  # a number that went through a float (spreadsheet, JSON number)
        if isinstance(v, np.ndarray):
            v = v.tolist()
        if isinstance(v, (dict, list)):
            return json.dumps(v, ensure_ascii=False)
        return str(v)

    return series.map(text, na_action="ignore").astype(TEXT_DTYPE)


def as_category(series: pd.Series) -> pd.Series:
    """Text as a ``category`` whose categories are its distinct values, sorted, as :data:`TEXT_DTYPE`."""
    codes, uniques = pd.factorize(_as_string(series), sort=True, use_na_sentinel=True)
    categories = pd.Index(uniques, dtype=TEXT_DTYPE)
    return pd.Series(pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories)), index=series.index,
                     name=series.name)


def _as_int(series: pd.Series, name: str, report: LoadReport) -> pd.Series:
    if isinstance(series.dtype, pd.Int64Dtype):
        return series
    textual = series.dtype == object or isinstance(series.dtype, pd.StringDtype)
    numeric = pd.to_numeric(series.astype("string").str.strip() if textual else series, errors="coerce")
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


def type_columns(raw: pd.DataFrame, report: LoadReport) -> pd.DataFrame:
    """The documented columns of a raw frame in their types; extras and ``_seq`` untouched.

    Text is :data:`TEXT_DTYPE` (``category`` for :data:`CATEGORY_COLUMNS`), ``result_code``
    nullable ``Int64``, times UTC. Each row is typed on its own, so that a large log can be typed
    one block at a time and the blocks joined with :func:`concat_typed`. *raw* is modified (it is
    the readers' frame). What could not be typed is counted in *report*.
    """
    frame = raw if raw is not None else pd.DataFrame()
    n = len(frame)
    for col in RAW_COLUMNS:
        if col not in frame.columns:
            frame[col] = pd.Series([pd.NA] * n, index=frame.index, dtype="object")
    for col in _STRING_COLUMNS:
        frame[col] = as_category(frame[col]) if col in CATEGORY_COLUMNS else _as_string(frame[col])
    for col in INT_COLUMNS:
        frame[col] = _as_int(frame[col], col, report)
    for col in _TIME_COLUMNS:
        frame[col] = _as_utc(frame[col], col, report)
    return frame


def _kind(series: pd.Series) -> str:
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        return "text"
    if pd.api.types.is_bool_dtype(dtype):
        return "other"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        return "float"
    return "other"


def _number_as_text(series: pd.Series) -> pd.Series:
    """Numbers as the columnar reader turns them into text (486 -> "486", 1.0 -> "1")."""
    import pyarrow as pa

    # pandas takes na_value=None and StringDtype has __from_arrow__; its stubs know neither
    values = series.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]
    text = TEXT_DTYPE.__from_arrow__(pa.array(values, from_pandas=True).cast(pa.string()))  # type: ignore[attr-defined]
    return pd.Series(text, index=series.index, name=series.name)


def reconcile_blocks(parts: list[pd.DataFrame]) -> list[pd.DataFrame]:
    """Give an extra column one type across the blocks of one file, as a one-pass read would.

    Read in one pass, a key holding numbers in some lines and text in others becomes text (its
    numbers turned into their digits), integers mixed with fractions become floats, and a key
    that is null throughout part of the file takes the type it has elsewhere. Read in blocks, each
    block types its keys on its own: this restores the one-pass result. Parts are modified.
    """
    if len(parts) < 2:
        return parts
    known = set(CALL_COLUMNS) | {"_seq"}
    extras = list(dict.fromkeys(c for p in parts for c in p.columns if c not in known))
    for name in extras:
        present = [p for p in parts if name in p.columns and p[name].notna().any()]
        kinds = {_kind(p[name]) for p in present}
        if "text" in kinds and kinds & {"int", "float"}:
            for p in present:
                if _kind(p[name]) in ("int", "float"):
                    p[name] = _number_as_text(p[name])
        elif kinds == {"int", "float"}:
            for p in present:
                if _kind(p[name]) == "int":
                    p[name] = p[name].to_numpy(dtype="float64", na_value=np.nan)
        # Where the key is null or absent throughout a block, it takes the type it has elsewhere
        # (one pass reads it as one column, null in those lines).
        dtypes = {str(p[name].dtype): p[name].dtype for p in (present or [p for p in parts if name in p.columns])}
        if len(dtypes) != 1:
            continue
        (dtype,) = dtypes.values()
        if not (isinstance(dtype, pd.api.extensions.ExtensionDtype) or pd.api.types.is_float_dtype(dtype)):
            dtype = np.dtype(object)  # numpy bools with gaps: Arrow gives objects (True, None)
            for p in present:
                p[name] = p[name].astype(object)
        for p in parts:
            if name not in p.columns or (p[name].dtype != dtype and not p[name].notna().any()):
                # every dtype holds missing values; the stubs type None for none of them
                p[name] = pd.Series(pd.array([None] * len(p), dtype=dtype),  # type: ignore[list-item, arg-type]
                                    index=p.index)
    return parts


def _concat_column(arrays: list) -> Any:
    """One array from same-typed pieces; Arrow text is chained without copying its bytes."""
    import pyarrow as pa

    first = arrays[0]
    if all(type(a) is pd.arrays.ArrowStringArray for a in arrays):
        chunks = [chunk for a in arrays for chunk in a.__arrow_array__().chunks]
        # StringDtype has __from_arrow__ (pandas' own Arrow hook); its stubs do not say so
        return TEXT_DTYPE.__from_arrow__(  # type: ignore[attr-defined]
            pa.chunked_array(chunks, type=first.__arrow_array__().type))
    if all(isinstance(a, pd.Categorical) for a in arrays):
        from pandas.api.types import union_categoricals

        if all(a.dtype == first.dtype for a in arrays):
            return pd.Categorical.from_codes(np.concatenate([a.codes for a in arrays]), dtype=first.dtype)
        return union_categoricals(arrays, sort_categories=True)
    return _values(pd.concat([pd.Series(a, copy=False) for a in arrays], ignore_index=True))


def _values(series: pd.Series) -> Any:
    """The series' array: an extension array, or a plain NumPy array (never NumPy wrapped as an
    extension array, which a new frame would store as ``object``)."""
    return series.array if isinstance(series.dtype, pd.api.extensions.ExtensionDtype) else series.to_numpy()


def concat_typed(parts: list[pd.DataFrame], *, release: Callable[[], None] | None = None) -> pd.DataFrame:
    """One frame from typed parts (:func:`derive`) in source order; the parts are consumed.

    Built column by column, each part's column released once joined, so that joining the blocks
    of a large log needs little more than the result (*release*, called after each column, hands
    the freed pieces back to the system). Arrow text is chained, not copied; categories are
    unified (sorted); extras are joined as :func:`pandas.concat` joins them.
    """
    nonempty = [p for p in parts if len(p)]
    parts = nonempty or parts[:1]
    if len(parts) == 1:
        return parts[0].reset_index(drop=True)
    names = list(dict.fromkeys(c for p in parts for c in p.columns))
    extras = [c for c in names if c not in CALL_COLUMNS and c != "_seq"]
    rest = None
    if extras:
        rest = pd.concat([p[[c for c in extras if c in p.columns]] for p in parts], ignore_index=True, sort=False)
    columns = {}
    for name in names:
        if rest is not None and name in extras:
            columns[name] = _values(rest[name])
            continue
        columns[name] = _concat_column([p[name].array for p in parts])
        for p in parts:
            del p[name]
        if release is not None:
            release()  # the parts' pieces of this column, before the next one is built
    del rest
    return pd.DataFrame(columns, copy=False)


def derive(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame's columns in order (:data:`CALL_COLUMNS`, then extras) with the derived ones
    computed, from a typed frame (:func:`type_columns`). Row by row: a block at a time is fine."""
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
    outcome = pd.Categorical.from_codes(outcome_index, categories=pd.Index(outcomes))
    # The app from the (few) distinct types, then taken by code: no per-row text.
    type_codes, type_values = pd.factorize(frame["type"])
    apps_of = [spec.CALLBACK_TYPES.get(str(t).strip().lower()) for t in type_values]
    app_names = sorted({a for a in apps_of if a is not None})
    lookup = np.array([app_names.index(a) if a is not None else -1 for a in apps_of] + [-1], dtype=np.int64)
    app = pd.Series(pd.Categorical.from_codes(lookup[type_codes],
                                              dtype=pd.CategoricalDtype(pd.Index(app_names, dtype=TEXT_DTYPE))),
                    index=frame.index)
    # A code outside the table says nothing: fall back to whether an answer time was reported.
    answered = pd.Series(np.where(known_code, code_answered, frame["answered_on"].notna().to_numpy()),
                         index=frame.index)
    started, answered_on, finished = frame["started_on"], frame["answered_on"], frame["finished_on"]
    ring_end = answered_on.where(answered & answered_on.notna(), finished)
    ring = (ring_end - started).dt.total_seconds()
    talk = (finished - answered_on).dt.total_seconds().where(answered)
    total = (finished - started).dt.total_seconds()

    extras = [c for c in frame.columns if c not in CALL_COLUMNS and c != "_seq"]
    derived = {
        "app": app,
        "answered": answered,
        "outcome": outcome,
        "ring_seconds": ring.astype("float64"),
        "talk_seconds": talk.astype("float64"),
        "total_seconds": total.astype("float64"),
    }
    out = pd.DataFrame({c: derived[c] if c in derived else frame[c] for c in CALL_COLUMNS}, index=frame.index,
                       copy=False)
    for col in extras:
        out[col] = frame[col]
    return out


__all__ = ["CALL_COLUMNS", "RAW_COLUMNS", "DERIVED_COLUMNS", "INT_COLUMNS", "CATEGORY_COLUMNS",
           "TEXT_DTYPE", "WIRE_KEYS",
           "BadLine", "LoadReport", "as_category", "canonical", "event_time", "combine", "type_columns", "derive",
           "reconcile_blocks", "concat_typed"]
