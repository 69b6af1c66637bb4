"""The hostile-line screen and the tolerant path of the JSON Lines reader, and records read from dicts.

:func:`screen` sets aside, before pyarrow sees them, the lines it must never read (not an object,
over 1 MiB, nested too deeply, not UTF-8); :func:`parse_lines` reads such lines one by one with
``json.loads`` and lists each it cannot use with its reason. :func:`records_frames` turns a list
of dicts (or a JSON array) into a raw frame with the same checks.
"""
from __future__ import annotations

import json
import reprlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .frame import RAW_COLUMNS, BadLine, LoadReport, canonical

__all__ = ["screen", "parse_lines", "records_frames", "records_to_frame", "has_lone_surrogate", "MAX_NESTING"]

_LONG_LINE = 1024  # only a line at least this long can hold enough brackets to matter
_MAX_BRACKETS = 1000  # pyarrow survives ~3,000 levels; keep far from that
_HUGE_LINE = 1 << 20  # a callback is ~400 bytes; anything over 1 MiB is read by json.loads
_UTF8_RUN_BYTES = 1 << 20  # lines checked for UTF-8 together, as one run


def screen(data, starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split line indices into (for pyarrow, for the tolerant path); blank lines are in neither."""
    buf = np.frombuffer(data, dtype=np.uint8)
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
    # Nesting deep enough to crash pyarrow needs a long line: only long lines are counted.
    for i in np.flatnonzero(good & (length >= _LONG_LINE)).tolist():
        s, e = int(starts[i]), int(ends[i])
        if e - s > _HUGE_LINE:
            good[i] = False
            continue
        line = bytes(data[s:e])
        if line.count(b"{") + line.count(b"[") > _MAX_BRACKETS:
            good[i] = False
    if not _is_ascii(data):
        good &= ~_invalid_utf8(data, starts, ends, good)
    return np.flatnonzero(good), np.flatnonzero(~blank & ~good)


def _is_ascii(data) -> bool:
    return data.isascii() if hasattr(data, "isascii") else bytes(data).isascii()


def _invalid_utf8(data, starts: np.ndarray, ends: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Mask of candidate lines that are not valid UTF-8, checked a ~1 MB run of lines at a time."""
    import codecs

    bad = np.zeros(len(starts), dtype=bool)
    view = memoryview(data)
    buf = np.frombuffer(data, dtype=np.uint8)
    a = 0
    n = len(starts)
    while a < n:
        b = int(np.searchsorted(starts, starts[a] + _UTF8_RUN_BYTES, side="right"))
        b = max(b, a + 1)
        s, e = int(starts[a]), int(ends[b - 1])
        if e > s and buf[s:e].max() >= 0x80:
            try:
                codecs.utf_8_decode(view[s:e], "strict", True)
            except UnicodeDecodeError:
                for i in range(a, b):
                    if candidates[i]:
                        try:
                            codecs.utf_8_decode(view[int(starts[i]):int(ends[i])], "strict", True)
                        except UnicodeDecodeError:
                            bad[i] = True
        a = b
    return bad


def parse_lines(lines: list[tuple[int, bytes]], records: list, bad: list) -> None:
    """The tolerant path: one ``json.loads`` per line; records keep their line numbers."""
    for line, raw in lines:
        raw = raw.strip()
        if not raw:
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad.append((line, f"not valid UTF-8 (byte {exc.start + 1})", _snippet(raw)))
            continue
        try:
            value = json.loads(text)
        except RecursionError:
            bad.append((line, "nested too deeply", _snippet(raw)))
            continue
        except ValueError as exc:
            glued = _split_glued(text)
            if glued:
                if "\\u" in text and any(has_lone_surrogate(obj) for obj in glued):
                    bad.append((line, "contains a lone surrogate escape (not valid Unicode)", _snippet(raw)))
                    continue
                records.extend((line, obj) for obj in glued)
                continue
            bad.append((line, f"not valid JSON: {exc.msg if hasattr(exc, 'msg') else exc}", _snippet(raw)))
            continue
        if not isinstance(value, dict):
            bad.append((line, f"expected a JSON object, got {type(value).__name__}", _snippet(raw)))
            continue
        if _too_deep(value):
            # json.loads of some Pythons (3.13) reads thousands of levels; flattening and checking
            # such a value would then recurse past the interpreter's limit
            bad.append((line, "nested too deeply", _snippet(raw)))
            continue
        if "\\u" in text and has_lone_surrogate(value):
            bad.append((line, "contains a lone surrogate escape (not valid Unicode)", _snippet(raw)))
            continue
        records.append((line, value))


#: Deeper than any callback (the contract's objects nest two levels): a line nested deeper is
#: refused as a bad line rather than walked.
MAX_NESTING = 64


def _too_deep(value: Any) -> bool:
    """True when *value* nests dicts or lists more than :data:`MAX_NESTING` levels (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_NESTING:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def has_lone_surrogate(value: Any) -> bool:
    """True when a string anywhere in *value* holds a lone surrogate (it cannot be stored as UTF-8)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    except (TypeError, ValueError, RecursionError):
        return False
    return False


def _split_glued(text: str) -> list[dict] | None:
    """Objects written back to back on one line (a lost newline): all of them, or None."""
    decoder = json.JSONDecoder()
    out, pos = [], 0
    while pos < len(text):
        try:
            value, end = decoder.raw_decode(text, pos)
        except (ValueError, RecursionError):
            return None
        if not isinstance(value, dict):
            return None
        out.append(value)
        pos = end
        while pos < len(text) and text[pos] in " \t\r":
            pos += 1
    return out if len(out) > 1 else None


def _snippet(raw: bytes) -> str:
    return raw[:120].decode("utf-8", "replace").encode("utf-8", "replace").decode("utf-8")


_SCALAR_COLUMNS = frozenset(RAW_COLUMNS)


def _flatten_dict(d: Mapping, prefix: str = "", out: dict | None = None) -> dict:
    out = {} if out is None else out
    for key, value in d.items():
        name = f"{prefix}{key}"
        # An object where the contract has a scalar (``"digits": {...}``) stays whole: JSON text later.
        if isinstance(value, Mapping) and canonical(name) not in _SCALAR_COLUMNS:
            _flatten_dict(value, name + ".", out)
        else:
            out[name] = value
    return out


def records_to_frame(records: list[Mapping]) -> pd.DataFrame:
    flat = [_flatten_dict(r) for r in records]
    return pd.DataFrame.from_records(flat) if flat else pd.DataFrame()


def records_frames(items: list, src: str, seq_base: int, report: LoadReport, *, item_label: bool = False,
                    check: bool = True) -> list[pd.DataFrame]:
    """A raw frame from a list of dicts (nested keys flattened); anything else in it goes to *report*."""
    good, seq = [], []
    label = "item" if item_label else "record"
    for i, item in enumerate(items):
        if isinstance(item, Mapping):
            if _too_deep(dict(item)):
                report.bad_lines.append(BadLine(src, i + 1, f"{label} {i + 1}: nested too deeply",
                                                reprlib.repr(item)[:120]))  # (repr would recurse as deep)
                continue
            if check and has_lone_surrogate(item):
                report.bad_lines.append(BadLine(src, i + 1,
                                                f"{label} {i + 1}: contains a lone surrogate (not valid Unicode)",
                                                repr(item)[:120]))
                continue
            good.append(item)
            seq.append(i)
        else:
            report.bad_lines.append(
                BadLine(src, i + 1,
                        f"{label} {i + 1}: expected a JSON object, got {type(item).__name__}", repr(item)[:120])
            )
    if not good:
        return []
    frame = records_to_frame(good)
    frame["_seq"] = seq_base + np.asarray(seq, dtype="int64")
    return [frame]
