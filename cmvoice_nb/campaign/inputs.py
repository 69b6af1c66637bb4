"""Read a list of people from CSV, Excel (``.xlsx``, ``.xls``, ``.ods``) or Parquet, every cell as text.

Phone numbers, codes and ids must arrive exactly as written: ``0612345610`` keeps its
leading zero, ``+31612345610`` its ``+``, ``0042`` stays four characters. So every column
is read as text: CSV cells as written; spreadsheet and Parquet cells converted one by one
(a whole number stored as a float, as spreadsheets do, becomes ``31612345610``, never
``31612345610.0`` or ``3.16e10``; a date becomes ISO-8601).

Text files are decoded the way operators save them (:func:`decode_text`): UTF-8 with or
without a byte-order mark, UTF-16 with one (Excel's "Unicode text", TAB-separated), and
Windows-1252 (Excel's Western-European CSV) when the bytes are not UTF-8. Lines may end in
CRLF, LF or a lone CR.

:func:`read_table` is the I/O edge; :func:`decode_text`, :func:`cell_text` and
:func:`sniff_separator` are the pure parts.

Examples
--------
>>> sniff_separator("name;phone\\nAnn;+31612345610\\n")
';'
>>> decode_text("Telefoonnummer;Naam\\r\\n0612345678;Jos\\xe9\\r\\n".encode("cp1252"))
('Telefoonnummer;Naam\\r\\n0612345678;José\\r\\n', 'cp1252')
>>> cell_text(31612345610.0), cell_text(0.1), cell_text(None), cell_text(True)
('31612345610', '0.1', '', 'true')
"""
from __future__ import annotations

import datetime as _dt
import importlib.util
import io
import math
import os
import re
from collections.abc import Collection
from pathlib import Path
from typing import Any, Literal

from .._text import decode_text, sniff_separator, unify_line_ends
from ..errors import CampaignError
from ..messages import LINE_INDEX, did_you_mean, opt

__all__ = ["read_table", "decode_text", "unify_line_ends", "cell_text", "sniff_separator", "EXCEL_SUFFIXES",
           "PARQUET_SUFFIXES", "NUMBER_COLUMNS_ATTR"]

#: File name endings read as spreadsheets, and as Parquet (any other name is read as CSV).
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
PARQUET_SUFFIXES = (".parquet", ".pq")
#: Characters the separator sniffer looks at: enough lines for a verdict, cheap on big files.
_SNIFF_CHARS = 64 * 1024


def cell_text(value: Any) -> str | Collection[Any]:
    """One spreadsheet or Parquet cell as the text a person typed.

    Whole numbers stored as floats lose the ``.0``; other floats use the shortest text that
    reads back as the same number; missing cells are ``""``; dates are ISO-8601. A nested
    Parquet value (a list, a struct, a map) is no text anyone typed: it is left as a Python value
    (a list for a Parquet list), and the planner refuses it as a problem of its row instead of
    speaking ``{'a': array([1, 2])}``.
    """
    if value is None:
        return ""
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return value  # a nested Parquet value (struct, map): the planner refuses it
    if type(value).__name__ == "ndarray":
        return value.tolist()  # a Parquet list, as a list: no element-wise comparison surprises later
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e17:
            return str(int(value))
        return repr(value)
    try:
        import numpy as np

        if isinstance(value, np.generic):
            return cell_text(value.item())
    except ImportError:  # pragma: no cover - numpy is a dependency
        pass
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        if isinstance(value, _dt.datetime) and (value.hour, value.minute, value.second,
                                                value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.isoformat()
    try:
        import pandas as pd

        if value is pd.NaT or (not isinstance(value, (str, bytes)) and pd.isna(value)):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


#: ``DataFrame.attrs`` key: the columns a spreadsheet or Parquet file stored as numbers (their text
#: uses a decimal point whatever the locale, so the planner needs no decision for them).
NUMBER_COLUMNS_ATTR = "cmvoice.number_columns"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) or (
        hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iuf")


def _text_frame(df: Any, *, index: Any) -> Any:
    """Every cell of *df* as text (a new DataFrame; column names as text too), on *index*."""
    import pandas as pd

    numbers = []
    cells = {}
    for c in df.columns:
        values = df[c].tolist()
        present = [v for v in values if cell_text(v) != ""]
        if present and all(_is_number(v) for v in present):
            numbers.append(str(c))
        cells[str(c)] = [cell_text(v) for v in values]
    out = pd.DataFrame(cells, index=index, dtype=object)
    out.attrs[NUMBER_COLUMNS_ATTR] = numbers
    return out


def _line_index(lines: Any) -> Any:
    """An index of spreadsheet lines (the header is line 1), named so that messages say ``line 7``."""
    import pandas as pd

    return pd.Index(lines, name=LINE_INDEX, dtype="int64")


def read_table(path: str | os.PathLike, *, sep: str | None = None, encoding: str | None = None,
               sheet: str | int | None = None):
    """Read the people to call from a CSV, Excel/ODS or Parquet file; every cell as text.

    Parameters
    ----------
    path
        ``.csv``/``.txt``/``.tsv`` (or any other name: read as CSV), ``.xlsx``, ``.xlsm``,
        ``.xls``, ``.ods``, ``.parquet``.
    sep
        CSV field separator; default: sniffed from the start of the file (``, ; TAB |``).
    encoding
        CSV text encoding; default: detected (UTF-8 with or without a byte-order mark, UTF-16
        with one, else Windows-1252), see :func:`decode_text`.
    sheet
        Spreadsheet sheet name or 0-based number; default the first sheet.

    Returns
    -------
    pandas.DataFrame
        Text cells, missing ones ``""``. For CSV and spreadsheets the index is the row's line as
        a spreadsheet shows it (the header is line 1, the first data row line 2; blank lines are
        skipped but counted), named ``"line"``, so every message names rows the way the operator
        sees them; Parquet rows are numbered from 1. ``df.attrs["cmvoice.number_columns"]`` lists
        the columns a spreadsheet or Parquet file stored as numbers.

    Raises
    ------
    CampaignError
        The file is missing, unreadable, not text in any encoding tried (or the one given),
        or the sheet does not exist; the message names the file, the line and the option
        that fixes it.
    """
    import pandas as pd

    path = Path(path)
    if not path.exists():
        raise CampaignError(f"{path}: no such file")
    if not path.is_file():
        # A folder, a FIFO or a device would block or read forever: refuse before opening it.
        raise CampaignError(f"{path}: not a regular file; give the CSV, Excel or Parquet file itself")
    suffix = path.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return _read_excel(path, sheet=sheet)
    if suffix in PARQUET_SUFFIXES:
        try:
            table = pd.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for a bad file
            raise CampaignError(f"{path}: cannot read as Parquet ({type(exc).__name__}: {exc})") from None
        return _text_frame(table, index=pd.RangeIndex(1, len(table) + 1, name="row"))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CampaignError(f"{path}: cannot read ({exc.strerror or exc})") from None
    text, _ = decode_text(data, encoding=encoding, name=str(path), option=True)
    text = unify_line_ends(text)
    if not text.strip():
        raise CampaignError(f"{path}: the file is empty")
    separator = sep if sep else sniff_separator(text[:_SNIFF_CHARS])
    if separator in ("\\t", "tab", "TAB"):
        separator = "\t"
    try:
        df = pd.read_csv(io.StringIO(text), sep=separator, dtype=str, keep_default_na=False, engine="python"
                         if len(separator) > 1 else "c", skip_blank_lines=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise CampaignError(f"{path}: cannot read as CSV with separator {separator!r} ({exc}); "
                            f"force one with {opt('sep')}") from None
    df.columns = [str(c).strip() for c in df.columns]
    # Record i is line i + 2 of the spreadsheet (the header is line 1); blank lines count, then go.
    df.index = _line_index(range(2, len(df) + 2))
    blank = (df == "").all(axis=1) if len(df.columns) else df.index == df.index
    return df[~blank] if blank.any() else df


def _excel_engine(suffix: str) -> Literal["calamine", "openpyxl", "odf", "xlrd"]:
    """The pandas engine for a spreadsheet: python-calamine (every format, fast; pandas >= 2.2), else a classic one."""
    import pandas as pd

    pandas_version = tuple(int(p) for p in re.findall(r"\d+", pd.__version__)[:2])
    if pandas_version >= (2, 2) and importlib.util.find_spec("python_calamine") is not None:
        return "calamine"
    fallbacks: dict[str, Literal["openpyxl", "odf", "xlrd"]] = {".xlsx": "openpyxl", ".xlsm": "openpyxl",
                                                                ".ods": "odf", ".xls": "xlrd"}
    fallback = fallbacks[suffix]
    module = {"openpyxl": "openpyxl", "odf": "odf", "xlrd": "xlrd"}[fallback]
    if importlib.util.find_spec(module) is None:
        raise CampaignError(f"reading {suffix} files needs python-calamine (pip install python-calamine) "
                            f"or {fallback}")
    return fallback


def _read_excel(path: Path, *, sheet: str | int | None):
    import pandas as pd

    from .._archive import check_spreadsheet

    # Before any reader: a zip bomb makes python-calamine abort the whole process.
    check_spreadsheet(path, error=CampaignError)
    engine = _excel_engine(path.suffix.lower())
    try:
        book = pd.ExcelFile(path, engine=engine)
    except Exception as exc:  # noqa: BLE001 - each engine raises its own types for a bad file
        raise CampaignError(f"{path}: cannot read as a spreadsheet ({type(exc).__name__}: {exc})") from None
    with book:
        names = [str(n) for n in book.sheet_names]
        if sheet is None or sheet == "":
            chosen: str | int = 0
        elif str(sheet) in names:
            chosen = str(sheet)
        elif str(sheet).isdigit() and int(sheet) < len(names):
            chosen = int(sheet)
        else:
            raise CampaignError(f"{path}: no sheet {sheet!r};{did_you_mean(sheet, names)} sheets: "
                                f"{', '.join(names)} (choose with {opt('sheet')})")
        try:
            df = pd.read_excel(book, sheet_name=chosen, dtype=object, header=0)
        except Exception as exc:  # noqa: BLE001
            raise CampaignError(f"{path}: cannot read sheet {chosen!r} ({type(exc).__name__}: {exc})") from None
    df = df.dropna(how="all")  # trailing formatted-but-empty rows
    return _text_frame(df, index=_line_index(df.index + 2))  # sheet row 1 is the header
