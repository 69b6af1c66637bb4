"""A frame's columns as the column-wise planner reads them: codes of distinct values, Arrow text, blanks.

Every test here answers exactly what the per-row path's Python would: a cell is blank when
``str.strip()`` leaves nothing (:data:`WHITESPACE` is Python's own whitespace, written as an RE2
class), and a text is read as written only when stripping would not change it. A column pandas
holds as Arrow text (its ``str`` dtype, what :func:`~cmvoice_nb.campaign.inputs.read_table` gives) is read
where it lies, without a Python string per cell.
"""
from __future__ import annotations

from typing import Any

__all__ = ["WHITESPACE", "arrow_text", "blank_mask", "stripped_mask", "codes", "text_codes", "cells", "records",
           "combine", "first_positions", "mask"]

#: Every character ``str.isspace()`` is true for, as an RE2 character class body.
WHITESPACE = (r"\t\n\x0b\x0c\r\x1c-\x20\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}"
              r"\x{205f}\x{3000}")
_BLANK = f"^[{WHITESPACE}]*$"
#: A text ``str.strip()`` leaves as it is: no whitespace at either end, not empty.
_STRIPPED = f"^[^{WHITESPACE}](?s:.*[^{WHITESPACE}])?$"


def mask(result: Any) -> Any:
    """A pyarrow boolean result as a numpy bool array (null as False)."""
    import pyarrow.compute as pc

    return pc.fill_null(result, False).to_numpy(zero_copy_only=False)


def arrow_text(series: Any) -> Any:
    """The column as Arrow text (``large_string``, missing cells null) if every cell is text or missing, else None.

    Missing cells (None, NaN, ``pd.NA``) are all blank to the planner. A column holding text that
    is not valid Unicode (a lone surrogate) cannot be Arrow text: None, so it is read cell by cell.
    """
    import pyarrow as pa

    dtype = series.dtype
    if getattr(dtype, "storage", None) == "pyarrow" and getattr(dtype, "name", "") in ("str", "string"):
        arr = pa.array(series.array)  # Arrow holds it already: no copy
    elif dtype == object:  # noqa: E721 - a numpy dtype equals object by value (not a type check)
        from pandas.api.types import infer_dtype

        values = series.to_numpy()
        if infer_dtype(values, skipna=True) not in ("string", "empty"):
            return None
        try:
            arr = pa.array(values, type=pa.large_string(), from_pandas=True)
        except (UnicodeError, pa.ArrowException):
            return None
    else:
        return None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.cast(pa.large_string())


def blank_mask(texts: Any) -> Any:
    """Which cells of an Arrow text column are blank (missing, or only whitespace)."""
    import pyarrow.compute as pc

    return mask(pc.or_kleene(pc.is_null(texts), pc.match_substring_regex(texts, _BLANK)))


def stripped_mask(texts: Any) -> Any:
    """Which cells of an Arrow text column ``str.strip()`` would leave unchanged (and are not empty)."""
    import pyarrow.compute as pc

    return mask(pc.match_substring_regex(texts, _STRIPPED))


def codes(series: Any):
    """Codes of *series*' values: equal codes for values the planner cannot tell apart.

    Numbers are compared by their bits (``-0.0`` is not ``0.0``, each NaN spelling is its own),
    text by equality (Arrow text without a Python string per cell); in a column of mixed Python
    objects two values share a code only when their types and values are equal
    (:func:`~cmvoice_nb.campaign.plan._rows.memo_key`), and a value of any other type gets a
    code of its own.
    """
    import numpy as np
    import pandas as pd

    dtype = series.dtype
    if getattr(dtype, "storage", None) == "pyarrow" and getattr(dtype, "name", "") in ("str", "string"):
        encoded = arrow_text(series).dictionary_encode(null_encoding="encode")
        return encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    values = series.to_numpy()
    kind = values.dtype.kind
    if kind in "iub":
        return pd.factorize(values)[0].astype(np.int64, copy=False)
    if kind == "f":
        return pd.factorize(values.astype(np.float64).view(np.int64))[0].astype(np.int64, copy=False)
    if kind in "Mm":
        return pd.factorize(values.view(np.int64))[0].astype(np.int64, copy=False)
    if kind == "O" and pd.api.types.infer_dtype(values, skipna=False) == "string" and not pd.isna(values).any():
        return pd.factorize(values)[0].astype(np.int64, copy=False)  # (infer_dtype calls text with NA "string")
    # Mixed Python objects (text and spreadsheet floats in one column): codes per type, then offset
    values = np.asarray(series.tolist(), dtype=object)
    type_codes, kinds = pd.factorize(np.fromiter((type(v) for v in values), dtype=object, count=len(values)))
    out = np.empty(len(values), dtype=np.int64)
    offset = 0
    for number, kind_of in enumerate(kinds):
        where = np.flatnonzero(type_codes == number)
        part = values[where]
        if kind_of is float:
            found = pd.factorize(part.astype(np.float64).view(np.int64))[0]
        elif kind_of in (str, int, bool):
            found = pd.factorize(part)[0]
        else:
            found = _codes_one_by_one(part)
        out[where] = found + offset
        offset += int(found.max()) + 1 if len(found) else 0
    return out


def text_codes(texts: Any):
    """Codes of an Arrow text column (-1 where null): equal texts, equal codes (by first appearance or not).

    A column of numbers written as digits (content keys, ``+``-numbers) is hashed as integers,
    several times faster than as text; any other column by Arrow's hash table.
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    body = texts
    if pc.all(pc.starts_with(texts, "+")).as_py():
        body = pc.utf8_slice_codeunits(texts, 1)
    if len(texts) and pc.all(pc.match_substring_regex(body, "^[1-9][0-9]{0,17}$")).as_py():
        values = pc.fill_null(pc.cast(body, pa.int64()), -1).to_numpy(zero_copy_only=False)
        found = pd.factorize(values)[0].astype(np.int64, copy=False)
        found[values == -1] = -1
        return found
    return pc.fill_null(texts.dictionary_encode().indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def _codes_one_by_one(values: Any):
    """Codes for values of one uncommon type: None, NA and NaT share theirs; anything else gets its own."""
    import numpy as np
    import pandas as pd

    from ._rows import memo_key

    seen: dict[Any, int] = {}
    out = np.empty(len(values), dtype=np.int64)
    for i, value in enumerate(values):
        try:
            key: Any = memo_key(value)
        except TypeError:
            key = ("missing", type(value)) if value is None or value is pd.NA or value is pd.NaT else ("row", i)
        code = seen.get(key)
        if code is None:
            code = seen[key] = len(seen)
        out[i] = code
    return out


def combine(arrays: list, n: int):
    """One code per distinct combination of the *arrays*' codes (numbered by first appearance)."""
    import numpy as np
    import pandas as pd

    combined = np.zeros(n, dtype=np.int64)
    for found in arrays:
        width = int(found.max()) + 1 if n else 1
        combined = pd.factorize(combined * width + found)[0].astype(np.int64, copy=False)
    return combined


def first_positions(found) -> list[int]:
    """The position of each code's first row, by code."""
    import numpy as np

    _, first = np.unique(found, return_index=True)
    return first.tolist()


def records(df: Any, positions: Any) -> dict[int, dict]:
    """``{position: record}`` as ``df.to_dict(orient="records")`` gives them, for *positions* only."""
    positions = sorted(set(int(p) for p in positions))
    if not positions:
        return {}
    return dict(zip(positions, df.iloc[positions].to_dict(orient="records"), strict=True))


def cells(df: Any, column: Any, positions: list[int]) -> list:
    """The cells of one column at *positions* (sorted), as ``to_dict(orient="records")`` gives them.

    ``to_dict`` turns numpy scalars held in object and extension columns into Python ones
    (``maybe_box_native``); the same is done here, without a dict per row.
    """
    import pandas as pd

    series = df[column]
    if getattr(series.dtype, "storage", None) == "pyarrow" and getattr(series.dtype, "name", "") in ("str", "string"):
        missing = series.dtype.na_value  # (NaN for pandas' str dtype, NA for "string"), as to_dict gives it
        return [missing if v is None else v for v in arrow_text(series).take(positions).to_pylist()]
    part = series.iloc[positions]
    values = part.tolist()
    if part.dtype == object or isinstance(part.dtype, pd.api.extensions.ExtensionDtype):
        try:
            from pandas.core.dtypes.cast import maybe_box_native  # type: ignore[attr-defined]  # private, not stubbed
        except ImportError:  # a pandas without it: the dicts, then
            return [r[column] for r in df.iloc[positions][[column]].to_dict(orient="records")]
        values = [maybe_box_native(v) for v in values]
    return values
