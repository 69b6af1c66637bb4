"""The entries of a do-not-call list: a file's text as ``(line numbers, values)``, and its number column.

What :func:`~cmvoice_nb.campaign.ops.suppress.read_suppression` reads before it normalises the
numbers: a TXT with one value per line, or a CSV whose number column is found by its name
(:data:`NUMBER_COLUMNS`) or its content.
"""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

from ._text import SEPARATORS, decode_text, sniff_separator, unify_line_ends
from .errors import CampaignError

__all__ = ["NUMBER_COLUMNS", "PHONEISH", "SAMPLE_ROWS", "file_entries", "number_column", "row_layout",
           "text_entries"]

#: Column names taken as the number column of a CSV or DataFrame, in order of preference.
NUMBER_COLUMNS = ("number", "callee", "phone", "msisdn", "mobile", "telephone", "tel", "phone_number",
                  "phonenumber", "phone number", "nummer", "telefoon", "telefoonnummer", "numero")
#: A cell that is meant as a phone number: digits and separators, a tel: URI, or what a
# spreadsheet made of one (3.16123E+10), which must be found to be refused by its line.
PHONEISH = re.compile(r"^(?:(?:tel:)?[\s+()\-./\d\u00a0]{6,}(?:;.*)?|\+?\d+(?:[.,]\d+)?[eE][+-]?\d+)$",
                      re.IGNORECASE)
# What is not a field separator when telling a one-number-per-line file from a CSV: the
# parameters of a tel: URI (tel:+31...;ext=12), the decimal comma of 3,16123E+10, a comment.
_NOT_A_SEPARATOR = re.compile(r";(?=(?:ext|isub|phone-context|tgrp|trunk-context|npdi|rn|cic)\b)"
                              r"|(?<=\d),(?=\d+[eE][+-]?\d)|\s#.*$", re.IGNORECASE)


def number_column(columns: list[str], rows: list[list[str]]) -> int | None:
    """The index of the number column: by name first, else the column most cells of which look like numbers."""
    lowered = [str(c).strip().lower() for c in columns]
    for name in NUMBER_COLUMNS:
        if name in lowered:
            return lowered.index(name)
    scores = [sum(1 for r in rows if i < len(r) and PHONEISH.match(str(r[i]).strip() or "x"))
              for i in range(len(columns))]
    best = max(range(len(columns)), key=lambda i: scores[i]) if columns else None
    return best if best is not None and scores[best] > 0 else None


#: Rows the number column is chosen on (by content, when no column has a number's name).
SAMPLE_ROWS = 1000
#: Characters the separator is sniffed on.
_SNIFF_CHARS = 64 * 1024
# A line that is no entry: blank (whitespace only) or a comment.
_SKIPPED_LINE = re.compile(r"(?m)^[^\S\n]*(?:#|$)")


def file_entries(path: Path, name: str) -> tuple[Any, Any]:
    """(line numbers, values) of a do-not-call file: its text decoded, a TXT or a CSV."""
    if not path.exists():
        raise CampaignError(f"{name}: {path}: no such file")
    if not path.is_file():
        raise CampaignError(f"{name}: {path}: not a regular file; give the CSV or TXT file of numbers")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CampaignError(f"{name}: {path}: cannot read ({exc.strerror or exc})") from None
    text, _ = decode_text(data, name=f"{name}: {path}", option=False)
    return text_entries(text, name=f"{name}: {path}")


def text_entries(text: str, *, name: str = "the list") -> tuple[Any, Any]:
    """The entries of a do-not-call list's text: ``(line numbers, values)``, numpy arrays.

    Blank lines and lines starting with ``#`` are not entries. A text whose first line holds
    no field separator (``, ; TAB |``; the ``;`` of a ``tel:`` URI's parameters and the
    comma of ``3,16123E+10`` are none) has one value per line, a ``#`` starting a comment;
    a first line without a digit is its header. Otherwise it is a CSV, the separator sniffed
    as for call lists (:func:`~cmvoice_nb.campaign.inputs.sniff_separator`): a first row
    without a phone-like cell is its header, and the number column is the one named like
    :data:`NUMBER_COLUMNS`, else the one that looks most like phone numbers. Rows with no
    text at all (``;;;`` at the end of a spreadsheet export) are not entries. Line numbers
    are the text's own lines (a header is line 1).

    Examples
    --------
    >>> lines, values = text_entries("Telefoonnummer;Naam\\r\\n+31 6 1234 5678;Jan\\r\\n\\r\\n0612345679;Piet\\r\\n")
    >>> lines.tolist(), values.tolist()
    ([2, 4], ['+31 6 1234 5678', '0612345679'])
    >>> text_entries("# opt-outs\\ntel:+31612345678;ext=12\\n+32 470 12 34 56   # by phone\\n")[1].tolist()
    ['tel:+31612345678;ext=12', '+32 470 12 34 56']
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    body = unify_line_ends(text).rstrip("\n")  # empty lines at the end are no entries and move no line
    if _SKIPPED_LINE.search(body):
        # Blank or comment lines between the entries: the others are found, and keep their numbers.
        lines = body.split("\n")
        trimmed = pc.utf8_trim_whitespace(pa.array(lines, type=pa.large_string()))
        kept = pc.and_(pc.greater(pc.utf8_length(trimmed), pa.scalar(0)), pc.invert(pc.starts_with(trimmed, "#")))
        at = np.flatnonzero(kept.to_numpy(zero_copy_only=False))
        if not len(at):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
        content: list[str] | None = [lines[i] for i in at]
        head = [lines[i] for i in at[:50]]
    else:  # every line an entry (most exports): no line-by-line work
        if not body:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
        at = np.arange(body.count("\n") + 1)
        content = None
        head = body[:_SNIFF_CHARS].split("\n")[:50]
    sep = _separator_of(head)
    if sep is None:
        # One value per line; "#" starts a comment.
        values = pa.array(content if content is not None else body.split("\n"), type=pa.large_string())
        values = pc.utf8_trim_whitespace(values)
        if pc.any(pc.match_substring(values, "#")).as_py():
            values = pc.utf8_trim_whitespace(pc.replace_substring_regex(values, "#.*$", ""))
        if pc.any(pc.match_substring(values, '"')).as_py():  # a one-column CSV export may quote its cells
            quoted = pc.match_substring_regex(values, '^".*"$')
            inner = pc.replace_substring(pc.replace_substring_regex(values, '^"(.*)"$', r"\1"), '""', '"')
            values = pc.if_else(quoted, pc.utf8_trim_whitespace(inner), values)
        texts = values.to_numpy(zero_copy_only=False)
        if not any(c.isdigit() for c in texts[0]):  # a header: "Telefoonnummer", "phone"
            at, texts = at[1:], texts[1:]
        return at + 1, texts
    columns = _csv_columns("\n".join(content) if content is not None else body, sep, len(at))
    start, col = _number_cells(columns, name)
    cells = columns[col].slice(start)
    lengths = pc.utf8_length(pc.utf8_trim_whitespace(cells))
    blank = np.flatnonzero(pc.equal(lengths, pa.scalar(0)).to_numpy(zero_copy_only=False))
    keep = np.ones(len(cells), dtype=bool)
    for i in blank:  # ";;;" (a spreadsheet's formatted but empty rows): no entry at all
        keep[i] = any(str(c[start + i].as_py()).strip() for c in columns)
    return at[start:][keep] + 1, cells.to_numpy(zero_copy_only=False)[keep]




def row_layout(text: str, *, name: str = "the list") -> tuple[str, int, int] | None:
    """How one more number is added to the list *text* so that :func:`text_entries` reads it.

    ``None`` for a list of one value per line (a line of its own); for a CSV,
    ``(separator, columns, number column)``: a row with the number in its column, the other cells
    empty (a bare number would land in the first column, which may be a name).

    Examples
    --------
    >>> row_layout("+31612345670\\n0612345671\\n") is None
    True
    >>> row_layout("naam;telefoon;klant\\r\\nJan;+31612345670;17\\r\\n")
    (';', 3, 1)
    """
    lines = [ln for ln in unify_line_ends(text).split("\n") if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return None
    sep = _separator_of(lines[:50])
    if sep is None:
        return None
    lines = lines[:SAMPLE_ROWS + 1]
    columns = _csv_columns("\n".join(lines), sep, len(lines))
    return sep, len(columns), _number_cells(columns, name)[1]


def _separator_of(head: list[str]) -> str | None:
    """The field separator of a list whose first entries are *head*; None for one value per line."""
    if not any(sep in _NOT_A_SEPARATOR.sub("", head[0]) for sep in SEPARATORS):
        return None
    return sniff_separator("\n".join(_NOT_A_SEPARATOR.sub("", ln) for ln in head))


def _number_cells(columns: list[Any], name: str) -> tuple[int, int]:
    """``(first row of entries, number column)`` of a CSV list's *columns* (no phone-like cell first: a header)."""
    header = [str(c[0].as_py()) for c in columns]
    has_header = not any(PHONEISH.match(c.strip()) for c in header)
    start = 1 if has_header else 0
    names = header if has_header else [str(k) for k in range(len(header))]
    sample = [list(r) for r in zip(*(c.slice(start, SAMPLE_ROWS).to_pylist() for c in columns), strict=True)]
    col = number_column(names, sample)
    if col is None:
        raise CampaignError(f"{name}: no column of phone numbers (name it one of {', '.join(NUMBER_COLUMNS[:3])})")
    return start, col


def _csv_columns(text: str, sep: str, rows: int) -> list[Any]:
    """The columns (pyarrow string arrays, ``""`` for a missing cell) of CSV *text*, one row per line.

    *text* holds *rows* lines, none of them blank. pyarrow's parser first (fast); pandas' where
    rows are shorter than the first; the csv module line by line where a quoted cell spans
    lines or a row is longer than the first, so that every row keeps its own line number.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv

    width = len(next(csv.reader([text[:text.find("\n")] if "\n" in text else text], delimiter=sep), [])) or 1
    names = [f"c{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8") + b"\n"),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.large_string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
        if table.num_rows == rows:
            return [table.column(n).combine_chunks() for n in names]
    except (pa.ArrowException, UnicodeError):
        pass
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, header=None, dtype=str, keep_default_na=False,
                            skip_blank_lines=False, engine="c")
        if len(frame) == rows:
            return [pa.array(frame[c].fillna("").to_numpy(dtype=object), type=pa.large_string()) for c in frame.columns]
    except (ValueError, pd.errors.ParserError):
        pass
    parsed = [next(csv.reader([ln], delimiter=sep), []) for ln in text.split("\n")]
    width = max(len(r) for r in parsed)
    return [pa.array([r[i] if i < len(r) else "" for r in parsed], type=pa.large_string()) for i in range(width)]
