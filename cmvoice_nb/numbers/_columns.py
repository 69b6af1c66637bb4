"""A column of phone numbers at once: :func:`normalize_numbers`, exactly ``normalize_number`` per value.

The common spellings are read with vectorised string operations and the national-number
patterns of phonenumbers' own metadata (:mod:`cmvoice_nb.numbers._rules`); every value the
patterns cannot vouch for goes through :func:`~cmvoice_nb.numbers.normalize_number`. The steps
mirror the scalar path's text clean-up, candidates and digit parse in their order;
``tests/test_numbers_columns.py`` compares the two paths on every region's example numbers.
"""
from __future__ import annotations

import math
from typing import Any

from ..errors import NumberError, is_valid_unicode
from ._rules import INVALID, UNDECIDED, VALID, country_rules, mask, region_rules, to_numpy
from ._scalar import STYLES, Verdict, prepare, resolve

__all__ = ["normalize_numbers"]

#: Text the column-wise path reads itself: ASCII digits, "+", the separators people type,
#: spaces and tabs, after an optional "tel:" without parameters.
_FAST_TEXT = r"^[ \t]*(?:[Tt][Ee][Ll]:)?[ \t0-9+\-./()\[\]]*$"


def normalize_numbers(values: Any, *, region: Any = None, style: str = "e164", arrow: bool = False) -> tuple[Any, Any]:
    """Normalise a whole column of phone numbers: for each value what :func:`~cmvoice_nb.numbers.try_normalize` gives.

    The common spellings (digits with ``+``, ``00``, spaces, dashes, dots, brackets, ``(0)``,
    ``tel:``, a spreadsheet's ``.0``, national numbers with a region) are read column-wise: the
    text is cleaned with vectorised string operations, and whether a number is valid is decided
    by the national-number patterns of its country from ``phonenumbers``' metadata, compiled
    once per country and applied to the column; an invalid number gets :func:`~cmvoice_nb.numbers.normalize_number`'s
    reason. Repeated values are read once. Everything else (letters, odd characters, a country
    whose national prefix the patterns do not cover, what ``phonenumbers.parse`` itself would
    refuse) goes through :func:`~cmvoice_nb.numbers.normalize_number`. Numbers and reasons are exactly its own.

    Parameters
    ----------
    values
        A list, array, pandas Series or pyarrow array of numbers in any spelling (text, ints,
        spreadsheet floats, None).
    region
        One ISO country code for national numbers (``"NL"``), or one per value (a list, array
        or Series as long as *values*; a missing code means no region for that value).
    style
        ``"e164"`` (``+31612345678``, default) or ``"00"`` (``0031612345678``).
    arrow
        Give the numbers as a pyarrow ``large_string`` array (null where the value is not a
        number) instead of an object array: a million numbers without a million Python strings.

    Returns
    -------
    tuple
        ``(numbers, reasons)`` aligned with *values*: the number, or None where the value is not
        one (an object array, or pyarrow with *arrow*); the reason it is not (the text of
        :class:`NumberError`), or None (an object array).

    A text column given as a pyarrow array or an Arrow-backed pandas Series (what
    :func:`~cmvoice_nb.campaign.inputs.read_table` and pandas' ``str`` dtype hold) is read as it is:
    no Python string is made per value.

    Examples
    --------
    >>> numbers, reasons = normalize_numbers(["+31 6 1234 5678", "06-12345679", "tel:+32470123456", "junk"],
    ...                                      region="NL")
    >>> numbers.tolist()
    ['+31612345678', '+31612345679', '+32470123456', None]
    >>> reasons.tolist()
    [None, None, None, 'contains letters']
    >>> normalize_numbers(["030 2345678", "030 2345678"], region=["DE", "NL"])[0].tolist()
    ['+49302345678', '+31302345678']
    """
    import numpy as np

    if style not in STYLES:
        raise ValueError(f"style must be one of {STYLES}, got {style!r}")
    column = _arrow_text(values)
    if column is not None:
        return _normalize_arrow(*column, region=region, style=style, arrow=arrow)
    cells = _object_array(values)
    n = len(cells)
    regions = _row_regions(region, n)
    numbers = np.full(n, None, dtype=object)
    reasons = np.full(n, None, dtype=object)
    if n == 0:
        return numbers, reasons
    verdicts: dict[Verdict, str | None] = {}
    text_rows, other_rows = _text_rows(cells)
    for i in other_rows:  # not text (floats, ints, None, odd objects): the plain function, per value
        numbers[i], reasons[i] = _one(cells[i], region if regions is None else regions[i], style, verdicts)
    if len(text_rows):
        texts = cells[text_rows]
        uniq, codes, uregions = _distinct(texts, None if regions is None else regions[text_rows])
        got, why = _normalize_texts(uniq, region if uregions is None else uregions, style, verdicts)
        numbers[text_rows] = got[codes]
        reasons[text_rows] = why[codes]
    if arrow:
        import pyarrow as pa

        return pa.array(numbers, type=pa.large_string()), reasons
    return numbers, reasons


def _arrow_text(values: Any) -> tuple[Any, Any] | None:
    """``(pyarrow large_string array, the value a missing cell holds)`` for a text column held by Arrow, else None.

    A missing cell is what the object path would have read: pandas' ``str`` dtype holds NaN,
    its ``string`` dtype ``pd.NA``, a pyarrow array None.
    """
    module = type(values).__module__.split(".")[0]
    if module == "pyarrow":
        import pyarrow as pa

        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            return None
        if isinstance(values, pa.ChunkedArray):
            values = values.combine_chunks()
        return values.cast(pa.large_string()), None
    dtype: Any = getattr(values, "dtype", None)  # numpy's or an extension dtype (pandas' str, string)
    if module == "pandas" and getattr(dtype, "storage", None) == "pyarrow" and getattr(dtype, "name", "") in (
            "str", "string"):
        import pyarrow as pa

        arr = pa.array(values.array if hasattr(values, "array") else values)  # no copy: Arrow holds it
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        return arr.cast(pa.large_string()), dtype.na_value
    return None


def _normalize_arrow(texts: Any, missing: Any, *, region: Any, style: str, arrow: bool) -> tuple[Any, Any]:
    """:func:`normalize_numbers` of a pyarrow text array: distinct (text, region) pairs read once."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(texts)
    regions = _row_regions(region, n)
    reasons = np.full(n, None, dtype=object)
    verdicts: dict[Verdict, str | None] = {}
    null = mask(pc.is_null(texts)) if texts.null_count else np.zeros(n, dtype=bool)
    present, gaps = np.flatnonzero(~null), np.flatnonzero(null)
    numbers_u = np.full(0, None, dtype=object)
    codes = np.zeros(0, dtype=np.int64)
    if len(present):
        encoded = (texts.take(present) if len(present) < n else texts).dictionary_encode()
        codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        uniq = encoded.dictionary
        uregions: Any = region
        if regions is not None:
            rcodes, runiq = _factorize(regions[present])
            pair = codes * len(runiq) + rcodes
            codes, upair = _factorize(pair)
            uniq = uniq.take(upair // len(runiq))
            uregions = np.asarray(runiq, dtype=object)[upair % len(runiq)]
        numbers_u, why_u = _normalize_texts(uniq, uregions, style, verdicts)
        reasons[present] = why_u[codes]
    for i in gaps.tolist():  # missing cells: the plain function's reason (never a number)
        reasons[i] = _one(missing, region if regions is None else regions[i], style, verdicts)[1]
    if arrow:
        out = pa.array(numbers_u, type=pa.large_string()).take(codes)
        if len(gaps):
            full = np.full(n, -1, dtype=np.int64)
            full[present] = np.arange(len(present))
            out = out.take(pa.array(full, type=pa.int64(), mask=full < 0))  # missing cells are never numbers
        return out, reasons
    numbers = np.full(n, None, dtype=object)
    numbers[present] = numbers_u[codes]
    return numbers, reasons


def _factorize(values: Any) -> tuple[Any, Any]:
    import numpy as np
    import pandas as pd

    codes, uniq = pd.factorize(values)
    return codes.astype(np.int64, copy=False), uniq


def _one(value: Any, region: Any, style: str, verdicts: dict[Verdict, str | None]) -> tuple[str | None, str | None]:
    """:func:`~cmvoice_nb.numbers.try_normalize` for one value (``normalize_number`` is ``resolve(prepare(...))``)."""
    try:
        tries = prepare(value, region)
    except NumberError as exc:
        return None, exc.reason
    number, reason = resolve(tries, style, verdicts)
    return (number, None) if number is not None else (None, reason)


def _object_array(values: Any) -> Any:
    """*values* as a 1-D numpy object array, one cell per value (a cell holding a list stays one cell)."""
    import numpy as np

    if isinstance(values, (str, bytes)):
        raise TypeError("normalize_numbers takes a list, array or Series of numbers, not one text "
                        "(use normalize_number for one)")
    if type(values).__module__.split(".")[0] == "pyarrow":
        values = values.to_pylist()
    elif hasattr(values, "to_numpy") and hasattr(values, "dtype"):  # a pandas Series or Index
        values = values.to_numpy(dtype=object)
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise ValueError(f"normalize_numbers takes one column of numbers, got an array of shape {values.shape}")
        return values.astype(object, copy=False)
    values = list(values)
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):  # element by element: numpy would turn a cell holding a list into a dimension
        out[i] = v
    return out


def _row_regions(region: Any, n: int) -> Any:
    """None for one region for every value (*region* itself), else an object array: a code or "" per value."""
    import numpy as np

    if region is None or isinstance(region, str):
        return None
    codes = _object_array(region)
    if len(codes) != n:
        raise ValueError(f"region= has {len(codes)} codes for {n} numbers: give one code, or one per number")
    out = np.empty(n, dtype=object)
    for i, code in enumerate(codes):
        if isinstance(code, str):
            out[i] = code
        elif code is None or (isinstance(code, float) and math.isnan(code)) or _is_missing(code):
            out[i] = ""  # no region for this value, like region=None
        else:
            raise TypeError(f"region= codes must be text like 'NL', got {code!r}")
    return out


def _is_missing(value: Any) -> bool:
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _text_rows(cells: Any) -> tuple[Any, Any]:
    """Positions of the text cells the column path can take (valid UTF-8), and of all others."""
    import numpy as np
    import pyarrow as pa
    from pandas.api.types import infer_dtype

    # Text and missing cells only (a file's cells): one pass in C. infer_dtype tells text from
    # bytes, which pyarrow would take as text; the missing cells go the plain way (None, NaN and
    # pd.NA each have their own reason).
    if infer_dtype(cells, skipna=True) in ("string", "empty"):
        try:
            missing = pa.array(cells, type=pa.large_string()).is_null().to_numpy(zero_copy_only=False)
            return np.flatnonzero(~missing), np.flatnonzero(missing)
        except (UnicodeError, pa.ArrowException):
            pass
    # a lone surrogate (a broken file) cannot be UTF-8: such text goes the plain way, like numbers
    is_text = np.fromiter((isinstance(v, str) and is_valid_unicode(v) for v in cells), dtype=bool,
                          count=len(cells))
    return np.flatnonzero(is_text), np.flatnonzero(~is_text)


def _distinct(texts: Any, regions: Any) -> tuple[Any, Any, Any]:
    """Distinct (text, region) pairs: their texts, each value's code, their regions (None for one region)."""
    import numpy as np
    import pandas as pd

    codes, uniq = pd.factorize(texts)
    if regions is None:
        return np.asarray(uniq, dtype=object), codes, None
    rcodes, runiq = pd.factorize(regions)
    pair = codes.astype(np.int64) * len(runiq) + rcodes
    codes, upair = pd.factorize(pair)
    return (np.asarray(uniq, dtype=object)[upair // len(runiq)], codes,
            np.asarray(runiq, dtype=object)[upair % len(runiq)])


def _normalize_texts(texts: Any, region: Any, style: str, verdicts: dict[Verdict, str | None]) -> tuple[Any, Any]:
    """Numbers and reasons for distinct text values; *region* is one code or one per value."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    m = len(texts)
    numbers = np.full(m, None, dtype=object)
    reasons = np.full(m, None, dtype=object)
    arr = texts if isinstance(texts, pa.Array) else pa.array(texts, type=pa.large_string())
    fast = np.flatnonzero(mask(pc.match_substring_regex(arr, _FAST_TEXT)))
    per_row = not (region is None or isinstance(region, str))
    decided = np.zeros(m, dtype=bool)
    if len(fast):
        status, e164, why = _column_verdicts(arr.take(fast), region[fast] if per_row else region)
        found = status == VALID
        if style == "00" and found.any():
            e164[found] = to_numpy(pc.utf8_replace_slice(pa.array(e164[found], type=pa.large_string()), 0, 1, "00"))
        numbers[fast[found]] = e164[found]
        reasons[fast] = why
        decided[fast[status != UNDECIDED]] = True
    rest = np.flatnonzero(~decided)
    if len(rest):  # what the patterns leave undecided, one by one (as Python text only now)
        values = arr.take(rest).to_pylist() if isinstance(texts, pa.Array) else texts[rest]
        for i, value in zip(rest.tolist(), values, strict=True):
            numbers[i], reasons[i] = _one(value, region[i] if per_row else region, style, verdicts)
    return numbers, reasons


def _column_verdicts(texts: Any, region: Any) -> tuple[Any, Any, Any]:
    """(status, E.164, reason) per text: valid, invalid (with normalize_number's reason) or undecided.

    Undecided (odd text, a country whose rules the patterns do not cover, what parse itself
    would refuse) is read by the caller with :func:`~cmvoice_nb.numbers.normalize_number`.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    m = len(texts)
    # Which characters occur at all: a rewrite most lists never need is skipped; separators go
    # one at a time (plain replacements are several times faster than one character-class rewrite).
    present = _characters(texts, "tT.( \t-/)[]")
    # _to_text: strip (only spaces and tabs get here), a "tel:" without parameters, the spreadsheet's ".0"
    t = pc.ascii_trim(texts, " \t")
    if "t" in present or "T" in present:
        t = _rewrite(t, "^[Tt]", lambda s: pc.ascii_trim(pc.replace_substring_regex(s, "^[Tt][Ee][Ll]:", ""), " \t"))
    if "." in present:
        t = _rewrite(t, r"^\+?[0-9]+\.0+$", lambda s: pc.replace_substring_regex(s, r"\.0+$", ""))
    # _candidates: the "(0)" after a country code, then every separator
    if "(" in present:
        t = _rewrite(t, r"^\+[0-9]{1,3}[ \t]*\(0\)",
                     lambda s: pc.replace_substring_regex(s, r"^(\+[0-9]{1,3})[ \t]*\(0\)", r"\1"))
    for junk in " \t-./()[]":
        if junk in present:
            t = pc.replace_substring(t, junk, "")
    compact = t
    ok = mask(pc.match_substring_regex(compact, r"^\+?[0-9]+$"))
    plus = ok & mask(pc.starts_with(compact, "+"))
    intl = ok & ~plus & mask(pc.starts_with(compact, "00"))
    zero = ok & mask(pc.starts_with(compact, "0"))
    upper: str | Any  # one region's code, or an array of one per text
    if region is None or isinstance(region, str):
        has_region = np.full(m, bool(region))
        upper = region.upper() if region else ""
    else:
        has_region = np.array([bool(r) for r in region], dtype=bool)
        upper = np.array([r.upper() for r in region], dtype=object)
    national = ok & ~plus & ~intl & has_region          # (compact, region) first
    bare = ok & ~plus & ~intl & ~has_region & ~zero      # "+" + compact, no region
    second = national & ~zero                            # then "+" + compact

    out = np.full(m, None, dtype=object)
    why = np.full(m, None, dtype=object)
    status = np.zeros(m, dtype=np.int8)
    for rows, digits in ((np.flatnonzero(plus), pc.utf8_slice_codeunits(compact, 1)),
                         (np.flatnonzero(intl), pc.utf8_slice_codeunits(compact, 2)),
                         (np.flatnonzero(bare), compact)):
        if len(rows):
            status[rows], out[rows], why[rows] = _international(digits.take(pa.array(rows)))
    rows = np.flatnonzero(national)
    if len(rows):
        status[rows], out[rows], why[rows] = _national(compact.take(pa.array(rows)),
                                                       upper if isinstance(upper, str) else upper[rows])
    # resolve tries the next candidate after an invalid one; the last one tried gives the reason
    rows = np.flatnonzero(second & (status == INVALID))
    if len(rows):
        status[rows], out[rows], why[rows] = _international(compact.take(pa.array(rows)))
    out[status != VALID] = None
    why[status != INVALID] = None
    return status, out, why


def _rewrite(texts: Any, pattern: str, how: Any) -> Any:
    """*texts* with ``how`` applied to the values matching *pattern* only (a rewrite costs more than a match)."""
    import pyarrow.compute as pc

    where = pc.match_substring_regex(texts, pattern)
    if not pc.any(where).as_py():
        return texts
    return pc.replace_with_mask(texts, where, how(texts.filter(where)))


def _characters(texts: Any, wanted: str) -> set[str]:
    """Which of the ASCII characters *wanted* occur in a pyarrow string array (a superset for a slice)."""
    import numpy as np

    data = texts.buffers()[2]
    if data is None:
        return set()
    raw = np.frombuffer(data, dtype=np.uint8)
    return {c for c in wanted if (raw == ord(c)).any()}


def _groups(keys: Any) -> Any:
    """(key, positions) for each distinct key of a 1-D array, by hashing (no sort of the whole array)."""
    import numpy as np
    import pandas as pd

    codes, uniq = pd.factorize(keys)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniq) + 1))
    return [(uniq[i], order[bounds[i]:bounds[i + 1]]) for i in range(len(uniq))]


def _international(digits: Any) -> tuple[Any, Any, Any]:
    """(status, E.164, reason) for "+<digits>" candidates: ``_parse_digits``'s steps without a region, then validity."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

    m = len(digits)
    status = np.zeros(m, dtype=np.int8)
    out = np.full(m, None, dtype=object)
    why = np.full(m, None, dtype=object)
    lens = to_numpy(pc.utf8_length(digits)).astype(np.int64)
    # parse's own early errors and limits: left to the library (it also gives the reason)
    eligible = (lens > 2) & (lens + 1 <= 250) & ~mask(pc.starts_with(digits, "0"))
    rows = np.flatnonzero(eligible)
    if not len(rows):
        return status, out, why
    head = digits.take(pa.array(rows))
    known = np.array(sorted(COUNTRY_CODE_TO_REGION_CODE), dtype=np.int64)
    code = np.zeros(len(rows), dtype=np.int64)
    three = to_numpy(pc.cast(pc.utf8_slice_codeunits(head, 0, 3), pa.int64()))  # at least 3 digits here
    for prefix in (three, three // 10, three // 100):  # the shortest known code wins, as in _extract_country_code
        code = np.where(np.isin(prefix, known), prefix, code)
    for cc, where in _groups(code):
        country = country_rules(int(cc)) if cc else None
        if country is None:
            continue
        sub = rows[where]
        national = pc.utf8_slice_codeunits(digits.take(pa.array(sub)), len(str(cc)))
        status[sub], out[sub], why[sub] = country.finish(national, None)
    return status, out, why


def _national(digits: Any, regions: Any) -> tuple[Any, Any, Any]:
    """(status, E.164, reason) for national candidates (digits, region): ``_parse_digits``'s steps, then validity."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    from phonenumbers import ValidationResult

    m = len(digits)
    status = np.zeros(m, dtype=np.int8)
    out = np.full(m, None, dtype=object)
    why = np.full(m, None, dtype=object)
    for code, rows in (_groups(regions) if not isinstance(regions, str) else [(regions, np.arange(m))]):
        country = region_rules(code)
        if country is None:
            continue
        sub = digits.take(pa.array(rows))
        lens = to_numpy(pc.utf8_length(sub)).astype(np.int64)
        eligible = (lens > 2) & (lens <= 250)
        if country.idd is not None:  # the region's own international prefix: the library's work
            eligible &= ~mask(pc.match_substring_regex(sub, country.idd))
        keep = np.flatnonzero(eligible)
        if not len(keep):
            continue
        rows, sub, lens = rows[keep], sub.take(pa.array(keep)), lens[keep]
        # The region's country code written without "+": _maybe_extract_country_code's rule
        own = str(country.code)
        potential, _ = country.strip(pc.utf8_slice_codeunits(sub, len(own)))
        lenclass = country.length_class(lens)
        take = mask(pc.starts_with(sub, own)) & (
            (~country.general(sub) & country.general(potential)) | (lenclass == ValidationResult.TOO_LONG))
        national = pc.if_else(pa.array(take), potential, sub)
        status[rows], out[rows], why[rows] = country.finish(national, code)
    return status, out, why
