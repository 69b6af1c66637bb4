"""Phone-number normalisation with ``phonenumbers``.

Users paste numbers with spaces, dashes, dots and brackets, type the ``00``
international prefix, give national numbers (``06 12345678``) that only make
sense with a region, and get numbers back from spreadsheets as floats
(``31612345678.0``, the ``+`` and leading zeros gone) or as ``tel:`` URIs
(``tel:+31-6-1234-5678``). :func:`normalize_number` turns all of these into the
international format the provider expects (E.164 with ``+`` by default, ``00``
style as an option) or raises :class:`~cmvoice_nb.errors.NumberError` with a plain
reason. A number a spreadsheet wrote in scientific notation (``3.16123E+10``) has
lost digits: it is refused with a reason that says how to export it again.

:func:`normalize_numbers` does the same for a whole column at once (a million
numbers in about a second), with exactly the results and reasons of
:func:`normalize_number` for every value.

Examples
--------
>>> normalize_number("+31 (0)6-1234 5678")
'+31612345678'
>>> normalize_number("06 12345678", region="NL")
'+31612345678'
>>> normalize_number(31612345678.0)
'+31612345678'
>>> normalize_number("0031612345678", style="00")
'0031612345678'
>>> normalize_number("tel:+31-6-1234-5678;ext=12")
'+31612345678'
>>> normalize_number("12345")
Traceback (most recent call last):
...
cmvoice_nb.errors.NumberError: invalid phone number '12345': too short to be a number
>>> normalize_number("3,16123E+10")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
cmvoice_nb.errors.NumberError: invalid phone number '3,16123E+10': a spreadsheet turned the number into scientific notation...
"""
from __future__ import annotations

import math
import re
from typing import Any

from .errors import NumberError

_STYLES = ("e164", "00")
_JUNK = re.compile(r"[\s\-./()\[\]\u00a0\u2010-\u2015]")
_SPREADSHEET_TEXT = re.compile(r"\+?\d+\.0+")
_LETTER = re.compile(r"[A-Za-z]")
_PLAIN = re.compile(r"\+?[0-9]+")
_TRUNK_IN_BRACKETS = re.compile(r"^(\+\d{1,3})\s*\(0\)")
# 3.16123E+10, 3,16123E+10 (a Dutch or German spreadsheet), 3.16123e10, 3E+10
_SCIENTIFIC = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?[eE][+-]?[0-9]+")
SCIENTIFIC_REASON = ("a spreadsheet turned the number into scientific notation, so its last digits are lost: "
                     "format the column as text in the spreadsheet and export the file again")
_REASONS = {
    "TOO_SHORT": "too short to be a number",
    "TOO_LONG": "too long to be a number",
    "INVALID_COUNTRY_CODE": "the country code is not a real one",
    "INVALID_LENGTH": "wrong length for its country",
    "IS_POSSIBLE_LOCAL_ONLY": "a local number without area code",
}


def _to_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise NumberError(value, "empty")
    if isinstance(value, bool):
        raise NumberError(value, "expected a phone number, got a boolean")
    if isinstance(value, float):
        if not value.is_integer():
            raise NumberError(value, "a number with decimals is not a phone number")
        return str(int(value))  # spreadsheet float: 31612345678.0
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise NumberError(value, f"expected text, got {type(value).__name__}")
    text = value.strip()
    if text[:4].lower() == "tel:":
        text = _tel_number(text)
    if _SCIENTIFIC.fullmatch(text):
        # The float behind it was rounded to the digits shown: the real number cannot be recovered.
        raise NumberError(value, SCIENTIFIC_REASON)
    # "31612345678.0" as text, the same spreadsheet accident after a CSV round trip
    if _SPREADSHEET_TEXT.fullmatch(text):
        text = text.split(".")[0]
    return text


def _tel_number(uri: str) -> str:
    """The number of a ``tel:`` URI (RFC 3966), its parameters (``;ext=``, ``;isub=`` ...) dropped.

    A local number (no ``+``) with a global ``;phone-context=+31`` belongs to that country:
    the context is its prefix, as RFC 3966 defines it, so the number is never read in
    another region. A domain name as context says nothing about the country and is dropped.
    """
    number, _, params = uri[4:].partition(";")
    number = number.strip()
    if params and not number.startswith("+"):
        for param in params.split(";"):
            key, _, context = param.partition("=")
            if key.strip().lower() == "phone-context" and context.strip().startswith("+"):
                return context.strip() + number
    return number


def _candidates(text: str, region: str | None) -> list[tuple[str, str | None]]:
    """Strings to try with phonenumbers.parse, most likely first."""
    # "+31 (0)6 ..." : the trunk zero written in brackets after the country code must go
    if _PLAIN.fullmatch(text):
        compact = text  # nothing for the two substitutions below to do
    else:
        text = _TRUNK_IN_BRACKETS.sub(r"\1", text)
        compact = _JUNK.sub("", text)
    if not compact:
        return []
    if compact.startswith("+"):
        return [(compact, None)]
    if compact.startswith("00"):
        return [("+" + compact[2:], None)]
    tries: list[tuple[str, str | None]] = []
    if region:
        tries.append((compact, region.upper()))
    if compact.isdigit() and not compact.startswith("0"):
        # digits only, no trunk zero: most likely an international number that lost its "+"
        tries.append(("+" + compact, None))
    return tries


def normalize_number(value: Any, *, region: str | None = None, style: str = "e164") -> str:
    """Return *value* as an international phone number, or raise :class:`NumberError`.

    Parameters
    ----------
    value
        Text, int or spreadsheet float. Spaces, dashes, dots, brackets and a ``(0)`` trunk
        prefix are ignored; ``00`` is read as ``+``.
    region
        ISO country code (``"NL"``) for national numbers like ``06 12345678``.
    style
        ``"e164"`` (``+31612345678``, default) or ``"00"`` (``0031612345678``).
    """
    if style not in _STYLES:
        raise ValueError(f"style must be one of {_STYLES}, got {style!r}")
    number, reason = _resolve(_prepare(value, region), style)
    if number is None:
        raise NumberError(value, reason)
    return number


def _prepare(value: Any, region: str | None) -> tuple[tuple[str, str | None], ...]:
    """The (candidate, region) pairs to parse for *value*, or NumberError before any parsing.

    Every spelling of one number that gives the same pairs has the same outcome (see
    :func:`_resolve`): the planner caches on them.
    """
    text = _to_text(value)
    if _LETTER.search(text):
        raise NumberError(value, "contains letters")
    tries = _candidates(text, region)
    if not tries:
        if _JUNK.sub("", text):
            raise NumberError(value, "a national number: pass region= (e.g. region='NL') or write it with +country code")
        raise NumberError(value, "empty")
    return tuple(tries)


def _resolve(tries: Any, style: str, verdicts: dict | None = None) -> tuple[str | None, str]:
    """``(number, "")`` for the first candidate that is a valid number, else ``(None, reason)``.

    *verdicts* (a dict the caller keeps) remembers the E.164 form, or None, of every number
    parsed: whether a number is valid and how it is written depend only on its country code and
    national significant number, which the spellings of one number share.
    """
    import phonenumbers

    reason = "not a valid number"
    for candidate, reg in tries:
        parsed = _parse_digits(candidate, reg)
        if parsed is None:
            try:
                parsed = phonenumbers.parse(candidate, reg)
            except phonenumbers.NumberParseException as exc:
                reason = _parse_reason(exc)
                continue
        # country code (1-3 digits) and national number as one int; leading zeros as a tuple (rare)
        key = (parsed.national_number * 1000 + parsed.country_code if not parsed.italian_leading_zero
               else (parsed.country_code, parsed.national_number, parsed.number_of_leading_zeros))
        e164 = verdicts.get(key, False) if verdicts is not None else False
        if e164 is False:
            e164 = (phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
                    if phonenumbers.is_valid_number(parsed) else None)
            if verdicts is not None:
                verdicts[key] = e164
        if e164 is not None:
            return (e164 if style == "e164" else "00" + e164[1:]), ""
        possible = phonenumbers.is_possible_number_with_reason(parsed)
        name = {v: k for k, v in vars(phonenumbers.ValidationResult).items() if k.isupper()}.get(possible, "")
        country = phonenumbers.region_code_for_number(parsed) or reg
        reason = _REASONS.get(name) or (f"not a valid number for {country}" if country else "not a valid number")
    return None, reason


def _parse_digits(candidate: str, region: str | None) -> Any:
    """``phonenumbers.parse(candidate, region)`` for a candidate of plain ASCII digits, or None.

    :func:`_candidates` gives ``+<digits>`` without a region, or ``<digits>`` with one: for
    such text the first steps of ``parse`` (RFC 3966 context, leading and trailing junk, an
    extension, normalising odd digits) have nothing to do, and they are most of its cost.
    The remaining steps are ``parse``'s own, in its order, through its own helpers: the
    international prefix, the country code (with the region's code written without ``+``),
    the national prefix and the length checks. Anything unusual (too short, an unknown
    country code, the region's international prefix, an unknown region) returns None and is
    parsed by ``phonenumbers.parse`` itself, which also gives the reason for an error.
    ``tests/test_numbers_fast.py`` compares the two on every region's example numbers.
    """
    from phonenumbers import PhoneMetadata, PhoneNumber
    from phonenumbers import phonenumberutil as pu

    plus = candidate.startswith("+")
    digits = candidate[1:] if plus else candidate
    if plus == (region is not None) or not (digits.isascii() and digits.isdigit()):
        return None
    if len(digits) <= pu._MIN_LENGTH_FOR_NSN or len(candidate) > pu._MAX_INPUT_STRING_LENGTH:
        return None
    if plus:
        metadata = None
        code, national = pu._extract_country_code(digits)
        if code == 0:
            return None
    else:
        region = region.upper()
        if region not in pu.SUPPORTED_REGIONS:
            return None
        metadata = PhoneMetadata.metadata_for_region(region, None)
        if metadata is None:
            return None
        if metadata.international_prefix is not None:
            stripped, _ = pu._parse_prefix_as_idd(pu.re_compile(metadata.international_prefix), digits)
            if stripped:
                return None
        code, national = 0, digits
        own = str(metadata.country_code)
        if digits.startswith(own):  # the region's country code written without "+"
            general = metadata.general_desc
            _, potential, _ = pu._maybe_strip_national_prefix_carrier_code(digits[len(own):], metadata)
            if ((not pu._match_national_number(digits, general, False)
                 and pu._match_national_number(potential, general, False))
                    or pu._test_number_length(digits, metadata) == pu.ValidationResult.TOO_LONG):
                code, national = metadata.country_code, potential
    if code != 0:
        number_region = pu.region_code_for_country_code(code)
        if number_region != region:
            metadata = PhoneMetadata.metadata_for_region_or_calling_code(code, number_region)
    else:
        code = metadata.country_code
    if len(national) < pu._MIN_LENGTH_FOR_NSN:
        return None
    if metadata is not None:
        _, potential, _ = pu._maybe_strip_national_prefix_carrier_code(national, metadata)
        if potential != national and pu._test_number_length(potential, metadata) not in (
                pu.ValidationResult.TOO_SHORT, pu.ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
                pu.ValidationResult.INVALID_LENGTH):
            national = potential
    if not pu._MIN_LENGTH_FOR_NSN <= len(national) <= pu._MAX_LENGTH_FOR_NSN:
        return None
    number = PhoneNumber(country_code=code)
    pu._set_italian_leading_zeros_for_phone_number(national, number)
    number.national_number = int(national)
    return number


def _parse_reason(exc: Exception) -> str:
    import phonenumbers

    kinds = {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "the country code is not a real one",
        phonenumbers.NumberParseException.NOT_A_NUMBER: "not a phone number",
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short after the international prefix",
        phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short to be a number",
        phonenumbers.NumberParseException.TOO_LONG: "too long to be a number",
    }
    return kinds.get(getattr(exc, "error_type", None), str(exc))


def try_normalize(value: Any, *, region: str | None = None, style: str = "e164") -> tuple[str | None, str | None]:
    """``(number, None)`` on success, ``(None, reason)`` otherwise: for row-wise bulk work."""
    try:
        return normalize_number(value, region=region, style=style), None
    except NumberError as exc:
        return None, exc.reason


# ------------------------------------------------------------------------ a column at once
# normalize_numbers reads the common spellings itself, with vectorised string operations and
# the national-number patterns of phonenumbers' own metadata; every value it cannot vouch for
# goes through normalize_number. The steps mirror _to_text, _candidates and _parse_digits (the
# library's parse for digit strings) in their order; tests/test_numbers_columns.py compares
# the two paths on every region's example numbers.

#: Text the column-wise path reads itself: ASCII digits, "+", the separators people type,
#: spaces and tabs, after an optional "tel:" without parameters.
_FAST_TEXT = r"^[ \t]*(?:[Tt][Ee][Ll]:)?[ \t0-9+\-./()\[\]]*$"
_UNDECIDED, _VALID, _INVALID = 0, 1, 2
# The number types phonenumbers' _number_type_helper tries, in its order.
_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail",
          "fixed_line", "mobile")


def normalize_numbers(values: Any, *, region: Any = None, style: str = "e164") -> tuple[Any, Any]:
    """Normalise a whole column of phone numbers: for each value what :func:`try_normalize` gives.

    The common spellings (digits with ``+``, ``00``, spaces, dashes, dots, brackets, ``(0)``,
    ``tel:``, a spreadsheet's ``.0``, national numbers with a region) are read column-wise: the
    text is cleaned with vectorised string operations, and whether a number is valid is decided
    by the national-number patterns of its country from ``phonenumbers``' metadata, compiled
    once per country and applied to the column; an invalid number gets :func:`normalize_number`'s
    reason. Repeated values are read once. Everything else (letters, odd characters, a country
    whose national prefix the patterns do not cover, what ``phonenumbers.parse`` itself would
    refuse) goes through :func:`normalize_number`. Numbers and reasons are exactly its own.

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

    Returns
    -------
    tuple of numpy.ndarray
        ``(numbers, reasons)``, object arrays aligned with *values*: the number, or None where
        the value is not one; the reason it is not (the text of :class:`NumberError`), or None.

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

    if style not in _STYLES:
        raise ValueError(f"style must be one of {_STYLES}, got {style!r}")
    cells = _object_array(values)
    n = len(cells)
    regions = _row_regions(region, n)
    numbers = np.full(n, None, dtype=object)
    reasons = np.full(n, None, dtype=object)
    if n == 0:
        return numbers, reasons
    verdicts: dict = {}
    text_rows, other_rows = _text_rows(cells)
    for i in other_rows:  # not text (floats, ints, None, odd objects): the plain function, per value
        numbers[i], reasons[i] = _one(cells[i], region if regions is None else regions[i], style, verdicts)
    if len(text_rows):
        texts = cells[text_rows]
        uniq, codes, uregions = _distinct(texts, None if regions is None else regions[text_rows])
        got, why = _normalize_texts(uniq, region if uregions is None else uregions, style, verdicts)
        numbers[text_rows] = got[codes]
        reasons[text_rows] = why[codes]
    return numbers, reasons


def _one(value: Any, region: Any, style: str, verdicts: dict) -> tuple[str | None, str | None]:
    """:func:`try_normalize` for one value (``normalize_number`` is ``_resolve(_prepare(...))``)."""
    try:
        tries = _prepare(value, region)
    except NumberError as exc:
        return None, exc.reason
    number, reason = _resolve(tries, style, verdicts)
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
    from .errors import is_valid_unicode

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


def _normalize_texts(texts: Any, region: Any, style: str, verdicts: dict) -> tuple[Any, Any]:
    """Numbers and reasons for distinct text values; *region* is one code or one per value."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    m = len(texts)
    numbers = np.full(m, None, dtype=object)
    reasons = np.full(m, None, dtype=object)
    arr = pa.array(texts, type=pa.large_string())
    fast = np.flatnonzero(_mask(pc.match_substring_regex(arr, _FAST_TEXT)))
    per_row = not (region is None or isinstance(region, str))
    decided = np.zeros(m, dtype=bool)
    if len(fast):
        status, e164, why = _column_verdicts(arr.take(pa.array(fast)), region[fast] if per_row else region)
        found = status == _VALID
        if style == "00" and found.any():
            e164[found] = _to_numpy(pc.utf8_replace_slice(pa.array(e164[found], type=pa.large_string()), 0, 1, "00"))
        numbers[fast[found]] = e164[found]
        reasons[fast] = why
        decided[fast[status != _UNDECIDED]] = True
    for i in np.flatnonzero(~decided):
        numbers[i], reasons[i] = _one(texts[i], region[i] if per_row else region, style, verdicts)
    return numbers, reasons


def _mask(result: Any) -> Any:
    """A pyarrow boolean result as a numpy bool array (null as False)."""
    import pyarrow.compute as pc

    return pc.fill_null(result, False).to_numpy(zero_copy_only=False)


def _to_numpy(arr: Any) -> Any:
    return arr.to_numpy(zero_copy_only=False)


def _column_verdicts(texts: Any, region: Any) -> tuple[Any, Any, Any]:
    """(status, E.164, reason) per text: valid, invalid (with normalize_number's reason) or undecided.

    Undecided (odd text, a country whose rules the patterns do not cover, what parse itself
    would refuse) is read by the caller with :func:`normalize_number`.
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
    ok = _mask(pc.match_substring_regex(compact, r"^\+?[0-9]+$"))
    plus = ok & _mask(pc.starts_with(compact, "+"))
    intl = ok & ~plus & _mask(pc.starts_with(compact, "00"))
    zero = ok & _mask(pc.starts_with(compact, "0"))
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
    # _resolve tries the next candidate after an invalid one; the last one tried gives the reason
    rows = np.flatnonzero(second & (status == _INVALID))
    if len(rows):
        status[rows], out[rows], why[rows] = _international(compact.take(pa.array(rows)))
    out[status != _VALID] = None
    why[status != _INVALID] = None
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
    lens = _to_numpy(pc.utf8_length(digits)).astype(np.int64)
    # parse's own early errors and limits: left to the library (it also gives the reason)
    eligible = (lens > 2) & (lens + 1 <= 250) & ~_mask(pc.starts_with(digits, "0"))
    rows = np.flatnonzero(eligible)
    if not len(rows):
        return status, out, why
    head = digits.take(pa.array(rows))
    known = np.array(sorted(COUNTRY_CODE_TO_REGION_CODE), dtype=np.int64)
    code = np.zeros(len(rows), dtype=np.int64)
    three = _to_numpy(pc.cast(pc.utf8_slice_codeunits(head, 0, 3), pa.int64()))  # at least 3 digits here
    for prefix in (three, three // 10, three // 100):  # the shortest known code wins, as in _extract_country_code
        code = np.where(np.isin(prefix, known), prefix, code)
    for cc, where in _groups(code):
        country = _country(int(cc)) if cc else None
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
        country = _region_country(code)
        if country is None:
            continue
        sub = digits.take(pa.array(rows))
        lens = _to_numpy(pc.utf8_length(sub)).astype(np.int64)
        eligible = (lens > 2) & (lens <= 250)
        if country.idd is not None:  # the region's own international prefix: the library's work
            eligible &= ~_mask(pc.match_substring_regex(sub, country.idd))
        keep = np.flatnonzero(eligible)
        if not len(keep):
            continue
        rows, sub, lens = rows[keep], sub.take(pa.array(keep)), lens[keep]
        # The region's country code written without "+": _maybe_extract_country_code's rule
        own = str(country.code)
        potential, _ = country.strip(pc.utf8_slice_codeunits(sub, len(own)))
        lenclass = country.length_class(lens)
        take = _mask(pc.starts_with(sub, own)) & (
            (~country.general(sub) & country.general(potential)) | (lenclass == ValidationResult.TOO_LONG))
        national = pc.if_else(pa.array(take), potential, sub)
        status[rows], out[rows], why[rows] = country.finish(national, code)
    return status, out, why


class _Country:
    """One calling code's parsing and validity rules from phonenumbers' metadata, as RE2 patterns.

    Built only for codes whose main region strips its national prefix with plain digits
    (``0``, or ``0|180020`` for GB) and no transform rule; see :func:`_country`.
    """

    def __init__(self, code: int, metadata: Any, literals: tuple[str, ...], members: list, idd: str | None) -> None:
        import numpy as np
        from phonenumbers import phonenumberutil as pu

        self.code, self.prefix = code, "+" + str(code)
        self.literals = literals
        self.general_pattern = _anchored(metadata.general_desc.national_number_pattern)
        self.members = members  # [(region, leading-digits pattern or None, checks)] in the library's order
        self.names = tuple(name for name, _, _ in members)
        self.idd = idd
        self.reasons = tuple((getattr(pu.ValidationResult, name), text) for name, text in _REASONS.items())
        # _test_number_length depends on the length alone: a table over every length parse accepts
        self.lengths = np.array([pu._test_number_length("0" * n, metadata) for n in range(252)], dtype=np.int8)

    def general(self, numbers: Any) -> Any:
        import pyarrow.compute as pc

        return _mask(pc.match_substring_regex(numbers, self.general_pattern))

    def length_class(self, lens: Any) -> Any:
        import numpy as np

        return self.lengths[np.minimum(lens, len(self.lengths) - 1)]

    def strip(self, numbers: Any) -> tuple[Any, Any]:
        """``_maybe_strip_national_prefix_carrier_code``: (numbers, which were stripped)."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        stripped = np.zeros(len(numbers), dtype=bool)
        if not self.literals or not len(numbers):
            return numbers, stripped
        rest = numbers
        matched = np.zeros(len(numbers), dtype=bool)
        for literal in self.literals:  # an alternation matches its first alternative that fits
            hit = ~matched & _mask(pc.starts_with(numbers, literal))
            if hit.any():
                rest = pc.if_else(pa.array(hit), pc.utf8_slice_codeunits(numbers, len(literal)), rest)
                matched |= hit
        if not matched.any():
            return numbers, stripped
        # the prefix stays when the number was viable with it and is not without it
        stripped = matched & ~(self.general(numbers) & ~self.general(rest))
        return pc.if_else(pa.array(stripped), rest, numbers), stripped

    def finish(self, national: Any, region: str | None) -> tuple[Any, Any, Any]:
        """The rest of parse (national prefix, lengths), is_valid_number and _resolve's reason.

        *region* is the candidate's region (None for ``+<digits>``): the reason names it when
        the number's own region is unknown. Returns (status, E.164, reason) arrays.
        """
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc
        from phonenumbers import ValidationResult

        m = len(national)
        lens = _to_numpy(pc.utf8_length(national)).astype(np.int64)
        potential, stripped = self.strip(national)
        plens = _to_numpy(pc.utf8_length(potential)).astype(np.int64)
        lenclass = self.length_class(plens)
        use = stripped & np.isin(lenclass, (ValidationResult.IS_POSSIBLE, ValidationResult.TOO_LONG))
        nsn = pc.if_else(pa.array(use), potential, national)
        nlens = np.where(use, plens, lens)
        ok = (lens >= 2) & (nlens >= 2) & (nlens <= 17)
        known, chosen = self.valid(nsn, nlens)
        valid = ok & known
        status = np.where(ok, np.where(valid, _VALID, _INVALID), _UNDECIDED).astype(np.int8)
        out = np.full(m, None, dtype=object)
        if valid.any():
            rows = pa.array(np.flatnonzero(valid))
            out[valid] = _to_numpy(pc.utf8_replace_slice(nsn.take(rows), 0, 0, self.prefix))
        why = np.full(m, None, dtype=object)
        invalid = ok & ~known
        if invalid.any():
            # is_possible_number_with_reason: the main region's lengths; else the number's region
            lenclass = self.length_class(nlens)
            names = np.array([f"not a valid number for {name}" if name else "not a valid number"
                              for name in (*self.names, region)], dtype=object)
            why[invalid] = names[np.where(chosen >= 0, chosen, len(self.names))[invalid]]
            for result, text in self.reasons:
                why[invalid & (lenclass == result)] = text
        return status, out, why

    def valid(self, nsn: Any, lens: Any) -> tuple[Any, Any]:
        """is_valid_number, and region_code_for_number as an index into ``names`` (-1: none).

        The number's region is the first of its code's regions whose leading digits match,
        or (for a region without them) whose types it matches; it is valid when its type is
        known in that region.
        """
        import numpy as np
        import pyarrow.compute as pc

        if len(self.members) == 1:
            return _type_known(self.members[0][2], nsn, lens), np.zeros(len(nsn), dtype=np.int64)
        import pyarrow as pa

        result = np.zeros(len(nsn), dtype=bool)
        chosen = np.full(len(nsn), -1, dtype=np.int64)
        for i, (_, leading, checks) in enumerate(self.members):
            rows = np.flatnonzero(chosen < 0)  # the regions before this one took the rest
            if not len(rows):
                break
            sub = nsn.take(pa.array(rows)) if len(rows) < len(nsn) else nsn
            known = _type_known(checks, sub, lens[rows])
            hit = _mask(pc.match_substring_regex(sub, leading)) if leading is not None else known
            result[rows[hit]] = known[hit]
            chosen[rows[hit]] = i
        return result, chosen


def _type_known(checks: tuple, nsn: Any, lens: Any) -> Any:
    """``_number_type_helper(nsn, metadata) != UNKNOWN`` for one region's compiled checks."""
    import numpy as np
    import pyarrow.compute as pc

    import pyarrow as pa

    (general_lengths, general), groups = checks
    ok = np.ones(len(nsn), dtype=bool) if general_lengths is None else np.isin(lens, general_lengths)
    ok &= _mask(pc.match_substring_regex(nsn, general))
    any_type = np.zeros(len(nsn), dtype=bool)
    for lengths, pattern in groups:  # each type tried on the numbers no earlier type matched
        fits = ok & ~any_type & (np.ones(len(nsn), dtype=bool) if lengths is None else np.isin(lens, lengths))
        rows = np.flatnonzero(fits)
        if len(rows):
            sub = nsn.take(pa.array(rows)) if len(rows) < len(nsn) else nsn
            any_type[rows[_mask(pc.match_substring_regex(sub, pattern))]] = True
    return ok & any_type


def _anchored(pattern: str) -> str:
    return f"^(?:{pattern})$"


def _checks(metadata: Any) -> tuple | None:
    """A region's type rules as (general (lengths, pattern), [(lengths, pattern of types with those lengths)])."""
    def lengths(desc: Any) -> tuple | None:
        return tuple(desc.possible_length) if desc.possible_length else None

    general = metadata.general_desc
    if general is None or not general.national_number_pattern:
        return None
    by_lengths: dict = {}
    for name in _TYPES:
        if name == "mobile" and metadata.same_mobile_and_fixed_line_pattern:
            continue  # the library does not try mobile then: fixed_line decided it
        desc = getattr(metadata, name)
        if desc is None or not desc.national_number_pattern:
            continue
        by_lengths.setdefault(lengths(desc), []).append(desc.national_number_pattern)
    groups = tuple((key, _anchored("|".join(f"(?:{p})" for p in pats))) for key, pats in by_lengths.items())
    return (lengths(general), _anchored(general.national_number_pattern)), groups


def _re2_ok(*patterns: str | None) -> bool:
    """Whether RE2 (pyarrow's engine) compiles every pattern."""
    import pyarrow as pa
    import pyarrow.compute as pc

    probe = pa.array([""], type=pa.large_string())
    for pattern in patterns:
        if pattern is None:
            continue
        try:
            pc.match_substring_regex(probe, pattern)
        except pa.ArrowException:
            return False
    return True


_COUNTRIES: dict = {}


def _country(code: int) -> _Country | None:
    """The compiled rules of a calling code, or None when the column path leaves it to the library."""
    if code in _COUNTRIES:
        return _COUNTRIES[code]
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata
    from phonenumbers import phonenumberutil as pu

    country = None
    main = pu.region_code_for_country_code(code)
    metadata = PhoneMetadata.metadata_for_region(main, None) if main not in ("ZZ", "001") else None
    prefix = metadata.national_prefix_for_parsing if metadata is not None else None
    plain_prefix = not prefix or (re.fullmatch(r"[0-9]+(?:\|[0-9]+)*", prefix)
                                  and not metadata.national_prefix_transform_rule)
    if metadata is not None and metadata.general_desc.national_number_pattern and plain_prefix:
        members = []
        for region in COUNTRY_CODE_TO_REGION_CODE.get(code, ()):
            member = PhoneMetadata.metadata_for_region(region, None)
            if member is None:
                continue  # the library skips it too
            checks = _checks(member)
            leading = f"^(?:{member.leading_digits})" if member.leading_digits is not None else None
            if checks is None:
                members = None
                break
            members.append((region, leading, checks))
        idd = f"^(?:{metadata.international_prefix})" if metadata.international_prefix else None
        patterns = [idd, _anchored(metadata.general_desc.national_number_pattern)]
        for _, leading, ((_, general), groups) in members or ():
            patterns += [leading, general, *(p for _, p in groups)]
        if members and _re2_ok(*patterns):
            country = _Country(code, metadata, tuple(prefix.split("|")) if prefix else (), members, idd)
    _COUNTRIES[code] = country
    return country


def _region_country(region: str) -> _Country | None:
    """The rules for national numbers of *region* (upper case), or None when it is not its code's main region."""
    from phonenumbers import PhoneMetadata
    from phonenumbers import phonenumberutil as pu

    if region not in pu.SUPPORTED_REGIONS:
        return None
    metadata = PhoneMetadata.metadata_for_region(region, None)
    if metadata is None or pu.region_code_for_country_code(metadata.country_code) != region:
        return None  # a territory sharing a code (GG, CA ...) parses with its own metadata: the library's
    return _country(metadata.country_code)


def country_of(number: Any) -> str | None:
    """ISO country code of an international number (``"NL"``), or None when it cannot be told.

    The one answer to "which country is this number", used by allowed countries, calling hours,
    estimates and call analysis alike. Spaces, dashes, dots and brackets are ignored and ``00``
    reads as ``+``; a number the library cannot place, or a non-geographic one (``+800``…), has
    no country. A number of a territory that shares its code is the territory's (``+44 7911`` is
    Guernsey, ``+1 416`` Canada).

    Examples
    --------
    >>> country_of("+31612345678"), country_of("0032 470 12 34 56"), country_of("+1 212 555 0123"), country_of("x")
    ('NL', 'BE', 'US', None)
    >>> country_of("+447911123456"), country_of("+14165551234"), country_of("+80012345678"), country_of(None)
    ('GG', 'CA', None, None)
    """
    import phonenumbers

    if not isinstance(number, str):
        return None
    text = _JUNK.sub("", number.strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    if not text.startswith("+"):
        return None
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(parsed)
    return None if region in (None, "", "ZZ", "001") else region


__all__ = ["normalize_number", "normalize_numbers", "try_normalize", "country_of", "SCIENTIFIC_REASON"]
