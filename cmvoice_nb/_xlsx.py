"""The one ``.xlsx`` writer: every text value is a text cell, never a formula.

A spreadsheet program runs a cell as a formula when its type says so, and openpyxl (like most
writers) gives a string starting with ``=`` that type: ``=HYPERLINK("http://x","y")`` as an
instruction id in a call list, or in a provider's error text, would be a live link in
``results.xlsx``. Here every string is written as a string cell (``t="inlineStr"``), formatted
``@`` and quote-prefixed, so it is shown as typed, stays text when someone edits it, and reads
back exactly: ``=1+1``, ``+31612345678``, ``-1``, ``@SUM(A1)`` and ``#N/A`` included.

Only what XML cannot carry is changed: control characters (``\\x00``-``\\x1f`` except tab and
line breaks) become their visible Unicode symbols (``\\x01`` → ``␁``) and lone surrogates (bytes
that were not valid text) become ``�``; a text longer than a cell holds (32,767 characters) is
cut there, as Excel itself would.

Examples
--------
>>> import tempfile, pathlib, openpyxl
>>> path = pathlib.Path(tempfile.mkdtemp()) / "t.xlsx"
>>> _ = write_xlsx(path, ["id", "n"], [['=HYPERLINK("http://x","y")', 7]])
>>> cell = openpyxl.load_workbook(path).active["A2"]
>>> cell.value, cell.data_type, openpyxl.load_workbook(path).active["B2"].value
('=HYPERLINK("http://x","y")', 's', 7)
"""
from __future__ import annotations

import datetime as _dt
import io
import math
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .spec import CSV_TIMESTAMP_FORMAT

__all__ = ["write_xlsx", "frame_to_xlsx", "excel_value", "MAX_CELL_CHARS"]

#: Most characters a spreadsheet cell holds (Excel's limit; openpyxl cuts there too).
MAX_CELL_CHARS = 32_767
#: Characters XML 1.0 cannot hold at all (openpyxl refuses them with IllegalCharacterError).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
#: Integers a spreadsheet holds exactly (15 significant digits); larger ones are written as text.
_EXACT_INT = 10**15


def _printable(match: re.Match) -> str:
    return chr(0x2400 + ord(match.group()))  # U+2400 CONTROL PICTURES: ␀ ␁ ...


def _text(value: str) -> str:
    if _ILLEGAL.search(value):
        value = _ILLEGAL.sub(_printable, value)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: bytes that were not valid text
        value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


def excel_value(value: Any, *, timestamp_format: str = CSV_TIMESTAMP_FORMAT) -> Any:
    """One value as the cell it becomes: ``None`` (empty), ``bool``, a number, or text.

    Missing values (``None``, ``NaN``, ``pd.NA``, ``NaT``) are empty cells; numpy scalars their
    Python value; whole numbers of 15 digits or fewer numbers, longer ones text (a spreadsheet
    would round them); timestamps ISO-8601 text (UTC with ``Z`` when they carry a zone);
    infinities text; anything else its ``str``.

    Examples
    --------
    >>> import numpy as np
    >>> excel_value(np.int64(200)), excel_value(float("nan")), excel_value(31612345678901234), excel_value("=1")
    (200, None, '31612345678901234', '=1')
    """
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return value
    if hasattr(value, "item") and not isinstance(value, (bytes, bytearray)):
        try:
            value = value.item()  # numpy scalars
        except (TypeError, ValueError):
            pass
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, pd.Timestamp):
            value = value.to_pydatetime()
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) < _EXACT_INT else str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return value if math.isfinite(value) else str(value)
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            return value.astimezone(_dt.timezone.utc).strftime(timestamp_format)
        return value.isoformat()
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    return str(value)


def write_xlsx(path: str | os.PathLike, header: Sequence[Any], rows: Iterable[Sequence[Any]], *,
               sheet: str = "Sheet1", durable: bool = True) -> Path:
    """Write one sheet (*header*, then *rows* of values) to *path* atomically; text is always text.

    Values go through :func:`excel_value`. Text cells are string cells formatted ``@`` with
    Excel's quote prefix, whatever they start with; numbers and yes/no values are cells of
    their own type. The file appears complete under *path* or not at all.

    Returns
    -------
    Path
        *path*.
    """
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    from ._fsutil import atomic_write_bytes

    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet(title=sheet)
    proto = WriteOnlyCell(ws, value="")
    proto.number_format = "@"
    proto.quotePrefix = True  # an edited cell stays text: the spreadsheet shows the ' only in the formula bar
    # openpyxl's private slots (_style, _value): the public setters parse every value; types-openpyxl omits them
    text_style = proto._style  # type: ignore[attr-defined]

    def text_cell(value: str) -> Any:
        cell = WriteOnlyCell(ws)
        # Bound directly: assigning .value would make "=..." a formula and "#N/A" an error cell.
        cell._value = _text(value)[:MAX_CELL_CHARS]  # type: ignore[attr-defined]
        cell.data_type = "s"
        cell._style = text_style.__copy__()  # type: ignore[attr-defined]
        return cell

    def row_cells(values: Sequence[Any]) -> list:
        out = []
        for v in values:
            v = excel_value(v)
            out.append(text_cell(v) if isinstance(v, str) else v)
        return out

    ws.append(row_cells([str(h) for h in header]))
    for values in rows:
        ws.append(row_cells(values))
    buffer = io.BytesIO()
    book.save(buffer)
    return atomic_write_bytes(path, buffer.getvalue(), durable=durable)


def frame_to_xlsx(frame: Any, path: str | os.PathLike, *, index_label: str | None = None,
                  sheet: str = "Sheet1") -> Path:
    """Write a DataFrame with :func:`write_xlsx`; with *index_label*, the index first under that name.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd, openpyxl
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "calls.xlsx"
    >>> _ = frame_to_xlsx(pd.DataFrame({"callee": ["+31612345678"], "code": ["-1"]}), path)
    >>> [c.value for c in openpyxl.load_workbook(path).active[2]]
    ['+31612345678', '-1']
    """
    header = ([index_label] if index_label is not None else []) + [str(c) for c in frame.columns]
    rows = frame.itertuples(index=index_label is not None, name=None)
    return write_xlsx(path, header, rows, sheet=sheet)
