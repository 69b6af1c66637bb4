"""Read a list of people from CSV, Excel (``.xlsx``, ``.xls``, ``.ods``) or Parquet, every cell as text.

Phone numbers, codes and ids must arrive exactly as written: ``0612345610`` keeps its
leading zero, ``+31612345610`` its ``+``, ``0042`` stays four characters. So every column
is read as text: CSV cells as written; spreadsheet and Parquet cells converted one by one
(a whole number stored as a float, as spreadsheets do, becomes ``31612345610``, never
``31612345610.0`` or ``3.16e10``; a date becomes ISO-8601).

:func:`read_table` is the I/O edge; :func:`cell_text` and :func:`sniff_separator` are the
pure parts.

Examples
--------
>>> sniff_separator("name;phone\\nAnn;+31612345610\\n")
';'
>>> cell_text(31612345610.0), cell_text(0.1), cell_text(None), cell_text(True)
('31612345610', '0.1', '', 'true')
"""
from __future__ import annotations

import csv
import datetime as _dt
import importlib.util
import io
import math
import os
import re
from pathlib import Path
from typing import Any

from ..errors import CampaignError

__all__ = ["read_table", "cell_text", "sniff_separator", "EXCEL_SUFFIXES", "PARQUET_SUFFIXES"]

EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
PARQUET_SUFFIXES = (".parquet", ".pq")
_SEPARATORS = ",;\t|"
#: Characters the separator sniffer looks at: enough lines for a verdict, cheap on big files.
_SNIFF_CHARS = 64 * 1024


def cell_text(value: Any) -> str:
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
        if isinstance(value, _dt.datetime) and (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        return value.isoformat()
    try:
        import pandas as pd

        if value is pd.NaT or (not isinstance(value, (str, bytes)) and pd.isna(value)):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


def sniff_separator(sample: str) -> str:
    """The field separator of a CSV sample: one of ``, ; TAB |`` (``,`` when unsure)."""
    lines = [line for line in sample.splitlines() if line.strip()][:50]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=_SEPARATORS).delimiter
    except csv.Error:
        # Sniffer gives up on one-column files and ragged quoting: count in the header.
        counts = {sep: lines[0].count(sep) for sep in _SEPARATORS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _opt(interface: str, python: str, cli: str) -> str:
    return cli if interface == "cli" else python


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

    from .messages import LINE_INDEX

    return pd.Index(lines, name=LINE_INDEX, dtype="int64")


def read_table(path: str | os.PathLike, *, sep: str | None = None, encoding: str | None = None,
               sheet: str | int | None = None, interface: str = "python"):
    """Read the people to call from a CSV, Excel/ODS or Parquet file; every cell as text.

    Parameters
    ----------
    path
        ``.csv``/``.txt``/``.tsv`` (or any other name: read as CSV), ``.xlsx``, ``.xlsm``,
        ``.xls``, ``.ods``, ``.parquet``.
    sep
        CSV field separator; default: sniffed from the start of the file (``, ; TAB |``).
    encoding
        CSV text encoding; default UTF-8, with or without a byte-order mark.
    sheet
        Spreadsheet sheet name or 0-based number; default the first sheet.
    interface
        ``"python"`` or ``"cli"``: whether messages name ``encoding=`` or ``--encoding``.

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
        The file is missing, unreadable, not in the encoding, or the sheet does not exist;
        the message names the file and the option that fixes it.
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
        return _read_excel(path, sheet=sheet, interface=interface)
    if suffix in PARQUET_SUFFIXES:
        try:
            table = pd.read_parquet(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for a bad file
            raise CampaignError(f"{path}: cannot read as Parquet ({type(exc).__name__}: {exc})") from None
        return _text_frame(table, index=pd.RangeIndex(1, len(table) + 1, name="row"))
    enc = encoding or "utf-8-sig"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CampaignError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        text = data.decode(enc)
    except LookupError:
        raise CampaignError(f"{path}: unknown encoding {encoding!r} "
                            f"({_opt(interface, 'encoding=', '--encoding')} takes e.g. utf-8, cp1252, latin-1)") from None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        fix = _opt(interface, "encoding='cp1252'", "--encoding cp1252")
        raise CampaignError(
            f"{path}: line {line} is not valid {encoding or 'UTF-8'} (byte 0x{data[exc.start]:02x}); save the file as "
            f"UTF-8 or name its encoding, e.g. {fix} for Excel's Western European CSV"
        ) from None
    if text.startswith("\ufeff"):  # a BOM in an explicitly named UTF-8 encoding
        text = text[1:]
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
                            f"force one with {_opt(interface, 'sep=', '--sep')}") from None
    df.columns = [str(c).strip() for c in df.columns]
    # Record i is line i + 2 of the spreadsheet (the header is line 1); blank lines count, then go.
    df.index = _line_index(range(2, len(df) + 2))
    blank = (df == "").all(axis=1) if len(df.columns) else df.index == df.index
    return df[~blank] if blank.any() else df


def _excel_engine(suffix: str) -> str:
    # python-calamine reads every format, fast (pandas >= 2.2 knows it); the others are the
    # classic fallbacks.
    import pandas as pd

    pandas_version = tuple(int(p) for p in re.findall(r"\d+", pd.__version__)[:2])
    if pandas_version >= (2, 2) and importlib.util.find_spec("python_calamine") is not None:
        return "calamine"
    fallback = {".xlsx": "openpyxl", ".xlsm": "openpyxl", ".ods": "odf", ".xls": "xlrd"}[suffix]
    module = {"openpyxl": "openpyxl", "odf": "odf", "xlrd": "xlrd"}[fallback]
    if importlib.util.find_spec(module) is None:
        raise CampaignError(f"reading {suffix} files needs python-calamine (pip install python-calamine) "
                            f"or {fallback}")
    return fallback


def _read_excel(path: Path, *, sheet: str | int | None, interface: str):
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
            from .messages import did_you_mean

            raise CampaignError(f"{path}: no sheet {sheet!r};{did_you_mean(sheet, names)} sheets: "
                                f"{', '.join(names)} (choose with {_opt(interface, 'sheet=', '--sheet')})")
        try:
            df = pd.read_excel(book, sheet_name=chosen, dtype=object, header=0)
        except Exception as exc:  # noqa: BLE001
            raise CampaignError(f"{path}: cannot read sheet {chosen!r} ({type(exc).__name__}: {exc})") from None
    df = df.dropna(how="all")  # trailing formatted-but-empty rows
    return _text_frame(df, index=_line_index(df.index + 2))  # sheet row 1 is the header
