"""Reading the operator's values as the operator wrote them: dates, amounts and countries, per column.

A spreadsheet column is written in one convention: a Dutch CRM export writes ``09-12-2025``
and ``12,50`` in every row. Reading each cell on its own cannot know that convention —
``09-12-2025`` alone may be 9 December or 12 September, ``1,250`` alone may be 1.25 or
1250 — so a value is never guessed from itself: the convention is decided once per column,
from the values that can only be read one way, and then applied to every cell.

* :func:`date_reader` decides whether a column's dates are day-first or month-first
  (``13-12-2025`` decides day-first for the whole column), reads ISO dates, real datetime
  values and Excel serial numbers as such, and refuses a column it cannot decide.
* :func:`number_reader` decides a column's decimal separator (``12,50`` and ``1.250,00``:
  comma; ``1,250.00``: point) and refuses a column where it is ambiguous (only ``1,250``).
* :func:`read_country` reads a country as an ISO 3166 code, from a code (``DE``, ``uk``) or a
  country name in English or in one of the voice catalogue's languages (``Duitsland``,
  ``Deutschland``, ``Allemagne``).

A column that cannot be decided raises :class:`ColumnError` naming the column, examples and
the option that decides it; one cell that does not fit its column's convention is a problem
of its row only (a ``ValueError`` from the reader, which the planner turns into a problem).

Examples
--------
>>> read = date_reader(["09-12-2025", "13-12-2025"], column="datum")
>>> read.dayfirst, read("09-12-2025").date()
(True, datetime.date(2025, 12, 9))
>>> amounts = number_reader(["12,50", "1.250,00"], column="bedrag")
>>> amounts.decimal, amounts("1.250,00"), amounts("12,50")
(',', Decimal('1250.00'), Decimal('12.50'))
>>> read_country("Duitsland"), read_country(" de "), read_country("UK")
('DE', 'DE', 'GB')
"""
from __future__ import annotations

import datetime as _dt
import decimal
import functools
import math
import re
from collections.abc import Iterable
from typing import Any, cast

from ...errors import CampaignError
from ._amounts import decimal_votes
from ._countries import fold_name, looks_like_countries, read_country

__all__ = ["ColumnError", "DateReader", "NumberReader", "date_reader", "number_reader", "read_country",
           "looks_like_countries", "excel_serial_date", "EXCEL_EPOCH"]

#: Day 0 of Excel's serial dates (1899-12-30: Excel counts 1900 as a leap year, so serials from
#: 61 on, every date after 28 February 1900, are days since this day).
EXCEL_EPOCH = _dt.datetime(1899, 12, 30)
_SERIAL_MAX = 2958465  # 9999-12-31
#: How many example values an error names.
_EXAMPLES = 3


class ColumnError(CampaignError, ValueError):
    """A column whose convention (date order, decimal separator) cannot be decided from its values."""


def _key(value: Any) -> tuple:
    """A memo key only equal-printing values share: floats by their bits (``-0.0`` is not ``0.0``)."""
    return (float, value.hex()) if type(value) is float else (type(value), value)


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return math.isnan(value)
    try:
        import pandas as pd

        return (value is pd.NaT or value is pd.NA
                or (not isinstance(value, (list, tuple, dict)) and bool(pd.isna(value))))
    except (TypeError, ValueError):
        return False


def _distinct(values: Iterable[Any]) -> list[Any]:
    """The distinct non-blank values of a column, in first-seen order (values that cannot be keys: each kept)."""
    seen: dict[Any, None] = {}
    others: list[Any] = []
    for value in values:
        if _is_missing(value):
            continue
        try:
            seen.setdefault(_key(value), None)
        except TypeError:
            others.append(value)
    return [float.fromhex(v) if t is float else v for t, v in seen] + others


def _examples(values: list[str]) -> str:
    return ", ".join(repr(v) for v in values[:_EXAMPLES])


# ------------------------------------------------------------------------------------------ dates
_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,6})\d*)?)?)?"
                  r"\s*(Z|[+-]\d{2}:?\d{2})?")
_NUMERIC = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})(?:[T ,]\s*(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?)?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SERIAL = re.compile(r"\d{1,7}(?:[.,]\d+)?")
_WORD = r"([^\W\d_]+)\.?"
_DAY_MONTH_YEAR = re.compile(r"(\d{1,2})\.?\s+" + _WORD + r"\s+(\d{4})(?:,?\s+(\d{1,2})[:.](\d{2}))?")
_MONTH_DAY_YEAR = re.compile(_WORD + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})(?:,?\s+(\d{1,2})[:.](\d{2}))?")
#: Languages whose month names a date column may be written in: English and the voice catalogue's.
_MONTH_LANGUAGES = ("en", "nl", "de", "fr", "es", "it", "pt", "da", "sv", "nb", "pl", "ro", "ru", "tr", "is", "cy")


@functools.lru_cache(maxsize=1)
def _month_numbers() -> dict[str, int]:
    """Month name or abbreviation (folded) → month number, in every language of :data:`_MONTH_LANGUAGES`."""
    from babel.dates import get_month_names

    names: dict[str, int] = {}
    for language in _MONTH_LANGUAGES:
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for number, name in get_month_names(width, context=context, locale=language).items():
                    names.setdefault(fold_name(name), number)
    return names


def excel_serial_date(serial: float) -> _dt.datetime:
    """The date (and time of day) of an Excel serial number.

    Examples
    --------
    >>> excel_serial_date(45998)
    datetime.datetime(2025, 12, 7, 0, 0)
    >>> excel_serial_date(45998.75)
    datetime.datetime(2025, 12, 7, 18, 0)
    """
    if not 1 <= serial <= _SERIAL_MAX:
        raise ValueError(f"{serial!r} is outside Excel's date serials (1 to {_SERIAL_MAX})")
    moment = EXCEL_EPOCH + _dt.timedelta(days=float(serial))
    return moment.replace(microsecond=0) if moment.microsecond < 500_000 else \
        (moment + _dt.timedelta(seconds=1)).replace(microsecond=0)


def _year(text: str) -> int:
    year = int(text)
    if len(text) == 2:  # the POSIX rule: 69-99 are 1900s, 00-68 the 2000s
        year += 1900 if year >= 69 else 2000
    return year


def _make(year: int, month: int, day: int, hour: Any = None, minute: Any = None, second: Any = None,
          fraction: Any = None) -> _dt.datetime:
    try:
        return _dt.datetime(year, month, day, int(hour or 0), int(minute or 0), int(second or 0),
                            int((fraction or "0").ljust(6, "0")[:6]))
    except ValueError as exc:
        raise ValueError(f"not a real date ({exc})") from None


def _order_of(value: str) -> tuple[str, int, int] | None:
    """For a numeric ``a-b-yyyy`` date: ``("day" | "month" | "ambiguous" | "same" | "invalid", a, b)``."""
    match = _NUMERIC.fullmatch(value)
    if not match:
        return None
    a, b = int(match.group(1)), int(match.group(3))
    if a > 12 and b > 12:
        kind = "invalid"
    elif a > 12:
        kind = "day"
    elif b > 12:
        kind = "month"
    elif a == b:
        kind = "same"
    else:
        kind = "ambiguous"
    return kind, a, b


class DateReader:
    """Reads the cells of one date column with the order decided for the whole column.

    Call it with a cell: returns a :class:`datetime.datetime` (timezone-aware when the cell says
    so), or raises ``ValueError`` saying why the cell is not a date of this column.

    Attributes
    ----------
    column
        The column's name (for messages).
    dayfirst
        True (``09-12-2025`` is 9 December), False (month-first), or None when no cell needs it.
    date_format
        A ``strptime`` pattern every cell is read with instead, or None.
    """

    def __init__(self, column: str = "", *, dayfirst: bool | None = None, date_format: str | None = None) -> None:
        self.column = column
        self.dayfirst = dayfirst
        self.date_format = date_format
        self._seen: dict[Any, Any] = {}

    def __repr__(self) -> str:
        how = f"format {self.date_format!r}" if self.date_format else \
            {True: "day-first", False: "month-first", None: "no day/month order needed"}[self.dayfirst]
        return f"DateReader({self.column!r}, {how})"

    def __call__(self, value: Any) -> _dt.datetime:
        try:
            hit = self._seen.get(_key(value))
        except TypeError:  # an unhashable cell: read it without remembering
            return self._read(value)
        if hit is None:
            try:
                hit = (self._read(value), None)
            except ValueError as exc:
                hit = (None, str(exc))
            self._seen[_key(value)] = hit
        if hit[1] is not None:
            raise ValueError(hit[1])
        return cast("_dt.datetime", hit[0])  # None only beside an error, raised above

    def _read(self, value: Any) -> _dt.datetime:
        if isinstance(value, _dt.datetime):
            return value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
        if isinstance(value, _dt.date):
            return _dt.datetime(value.year, value.month, value.day)
        if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
            kind = getattr(getattr(value, "dtype", None), "kind", "")
            if kind == "M":
                import pandas as pd

                return pd.Timestamp(value).to_pydatetime()
            value = value.item()
        if isinstance(value, bool):
            raise ValueError(f"expected a date, got {value!r}")
        if isinstance(value, (int, float)):
            return excel_serial_date(value)
        if not isinstance(value, str):
            raise ValueError(f"expected a date, got {type(value).__name__}")
        text = value.strip()
        if self.date_format:
            try:
                return _dt.datetime.strptime(text, self.date_format)
            except ValueError:
                raise ValueError(f"{text!r} does not match the date format {self.date_format!r}") from None
        return self._read_text(text)

    def _read_text(self, text: str) -> _dt.datetime:
        match = _ISO.fullmatch(text)
        if match:
            y, mo, d, h, mi, s, frac, zone = match.groups()
            moment = _make(int(y), int(mo), int(d), h, mi, s, frac)
            if zone:
                moment = moment.replace(tzinfo=_zone(zone))
            return moment
        order = _order_of(text)
        if order is not None:
            kind, a, b = order
            match = _NUMERIC.fullmatch(text)
            assert match is not None
            year = _year(match.group(4))
            h, mi, s = match.group(5), match.group(6), match.group(7)
            if kind == "same":
                return _make(year, a, b, h, mi, s)
            dayfirst = self.dayfirst
            if dayfirst is None:  # no column decided it: only a value that reads one way is read
                if kind == "ambiguous":
                    raise ValueError(f"{text!r} can be read day-first or month-first")
                dayfirst = kind != "month"
            day, month = (a, b) if dayfirst else (b, a)
            if month > 12:
                raise ValueError(f"{text!r}: {month} is not a month (this column is read "
                                 f"{'day-first' if dayfirst else 'month-first'})")
            return _make(year, month, day, h, mi, s)
        match = _COMPACT.fullmatch(text)
        if match:
            return _make(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        if _SERIAL.fullmatch(text):
            return excel_serial_date(float(text.replace(",", ".")))
        for pattern, day_at, month_at in ((_DAY_MONTH_YEAR, 1, 2), (_MONTH_DAY_YEAR, 2, 1)):
            match = pattern.fullmatch(text)
            if match:
                named = _month_numbers().get(fold_name(match.group(month_at)))
                if named is None:
                    raise ValueError(f"{text!r}: {match.group(month_at)!r} is not a month name")
                return _make(int(match.group(3)), named, int(match.group(day_at)), match.group(4), match.group(5))
        raise ValueError(f"cannot read {text!r} as a date (write it as 2025-12-09, 09-12-2025 or 9 December 2025)")


def _zone(text: str) -> _dt.tzinfo:
    if text == "Z":
        return _dt.timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return _dt.timezone(sign * _dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def date_reader(values: Iterable[Any], *, column: str = "", dayfirst: bool | None = None,
                date_format: str | None = None,
                options: tuple[str, str] = ("dayfirst=True or dayfirst=False", "date_format=")) -> DateReader:
    """A :class:`DateReader` for one column, its day/month order decided from all of its *values*.

    Parameters
    ----------
    values
        The column's cells (blank cells are skipped).
    column
        The column's name, for messages.
    dayfirst
        The order, when the operator says it (``True``: ``09-12-2025`` is 9 December). When
        None it is inferred: a value whose first number is above 12 decides day-first, one
        whose second number is above 12 decides month-first.
    date_format
        A ``strptime`` pattern for every cell (``"%d.%m.%Y"``); no inference then.
    options
        How the options that decide are written in the caller's front-end (for messages).

    Raises
    ------
    ColumnError
        The column has numeric dates that can be read both ways and none that decides, or it
        holds both a value only day-first can read and one only month-first can read.

    Examples
    --------
    >>> date_reader(["01-02-2025", "03-04-2025"], column="datum")
    Traceback (most recent call last):
    ...
    cmvoice_nb.campaign.plan.values.ColumnError: column 'datum': every date can be read day-first or month-first ...
    >>> date_reader(["01-02-2025"], column="datum", dayfirst=True)("01-02-2025").date()
    datetime.date(2025, 2, 1)
    """
    if date_format is not None or dayfirst is not None:
        return DateReader(column, dayfirst=None if date_format else bool(dayfirst), date_format=date_format)
    day_first: list[str] = []
    month_first: list[str] = []
    ambiguous: list[str] = []
    for value in _distinct(values):
        if not isinstance(value, str):
            continue
        order = _order_of(value.strip())
        if order is None:
            continue
        kind = order[0]
        (day_first if kind == "day" else month_first if kind == "month" else
         ambiguous if kind == "ambiguous" else []).append(value.strip())
    flag, fmt = options
    if day_first and month_first:
        raise ColumnError(
            f"column {column!r}: some dates are day-first ({_examples(day_first)}) and some month-first "
            f"({_examples(month_first)}); correct the column, or say how to read it with {flag} "
            f"(the rows that do not fit are then invalid)")
    if day_first or month_first:
        return DateReader(column, dayfirst=bool(day_first))
    if ambiguous:
        raise ColumnError(
            f"column {column!r}: every date can be read day-first or month-first ({_examples(ambiguous)}); "
            f"say which with {flag}, or give {fmt}")
    return DateReader(column, dayfirst=None)


# ---------------------------------------------------------------------------------------- numbers
_GROUPING_ONLY = " \u00a0\u202f'\u2019"
#: Every digit but 0 as 9: the shape of a written amount (its vote for a decimal sign depends on nothing else).
_SHAPE = str.maketrans("12345678", "99999999")
_NUMBER = re.compile(r"\d[\d.,\u00a0\u202f' \u2019]*")
_CURRENCY_WORD = re.compile(r"^(?:[A-Z]{3}|[^\w\s+\-\u2212.,]+)\s*|\s*(?:[A-Z]{3}|[^\w\s.,]+)$")


def _strip_currency(text: str) -> str:
    """*text* without a leading or trailing currency sign or code (``€ 12,50``, ``12,50 EUR``, ``$1,250.00``)."""
    previous = None
    while previous != text:
        previous = text
        text = _CURRENCY_WORD.sub("", text).strip()
    return text


def _sign_and_body(text: str) -> tuple[bool, str]:
    """``(negative, digits and separators)`` of a written amount: ``"-€ 1.250,00"`` → ``(True, "1.250,00")``."""
    text = _strip_currency(text.strip())
    negative = text[:1] in ("-", "\u2212")
    if text[:1] in ("+", "-", "\u2212"):
        text = _strip_currency(text[1:].strip())
    return negative, text


def _decimal_vote(body: str) -> str | None:
    """The decimal separator *body* (digits and separators, no sign) shows, ``"?"`` when it cannot tell, or None.

    ``"12,50"`` → ``","``; ``"1,250.00"`` → ``"."``; ``"1.250.000"`` → ``","`` (points group);
    ``"1,250"`` → ``"?"``; ``"1250"`` → None.
    """
    commas, points = body.count(","), body.count(".")
    if commas and points:
        return "," if body.rfind(",") > body.rfind(".") else "."
    if not commas and not points:
        return None
    sep = "," if commas else "."
    other = "." if sep == "," else ","
    if commas + points > 1:
        return other  # the separator repeats: it groups thousands
    head, tail = body.split(sep)
    head = head.translate({ord(c): None for c in _GROUPING_ONLY})
    if len(tail) != 3 or head in ("", "0", "-0") or len(head) > 3 or any(c in body for c in _GROUPING_ONLY):
        return sep  # "0,125", "1250,125", "12,5" and "1 250,125" cannot be thousands
    return "?"


def _to_decimal(body: str, separator: str) -> decimal.Decimal:
    """*body* read with *separator* as the decimal sign; grouping must come in threes."""
    group_marks = set(_GROUPING_ONLY) | ({".", ","} - {separator})
    if body.count(separator) > 1:
        raise ValueError("more than one decimal sign")
    whole, _, fraction = body.partition(separator)
    parts = re.split("[" + re.escape("".join(sorted(group_marks))) + "]", whole)
    if len(parts) > 1 and (not 1 <= len(parts[0]) <= 3 or any(len(p) != 3 for p in parts[1:])):
        raise ValueError("its thousands are not grouped in threes")
    if not all(p.isdigit() for p in parts) or (fraction and not fraction.isdigit()) or any(
            c in fraction for c in group_marks):
        raise ValueError("it is not a number")
    return decimal.Decimal("".join(parts) + ("." + fraction if fraction else ""))


class NumberReader:
    """Reads the cells of one number column with the decimal separator decided for the whole column.

    Call it with a cell: returns a :class:`decimal.Decimal` (exact: ``12,50`` is ``12.50``), or
    raises ``ValueError`` saying why the cell is not a number of this column.

    Attributes
    ----------
    column
        The column's name (for messages).
    decimal
        ``","`` or ``"."``: the column's decimal separator (the other one groups thousands), or
        None when no cell needs it.
    """

    def __init__(self, column: str = "", *, decimal: str | None = None) -> None:
        self.column = column
        self.decimal = decimal
        self._seen: dict[Any, Any] = {}
        # The common spellings (``1.250,00``, ``12,50``, ``1250``) in one match; anything else (a sign,
        # a currency, a misfit) goes the long way, which gives the same number or says why not.
        groups = "[" + re.escape(_GROUPING_ONLY + ("." if decimal == "," else "," if decimal == "." else "")) + "]"
        fraction = rf"(?:{re.escape(decimal)}(\d+))?" if decimal else ""
        self._plain = re.compile(rf"(\d{{1,3}}(?:({groups})\d{{3}})?(?:\2\d{{3}})*|\d+){fraction}")

    def __repr__(self) -> str:
        return f"NumberReader({self.column!r}, decimal={self.decimal!r})"

    def __call__(self, value: Any) -> decimal.Decimal:
        try:
            hit = self._seen.get(_key(value))
        except TypeError:
            return self._read(value)
        if hit is None:
            try:
                hit = (self._read(value), None)
            except ValueError as exc:
                hit = (None, str(exc))
            self._seen[_key(value)] = hit
        if hit[1] is not None:
            raise ValueError(hit[1])
        return cast("decimal.Decimal", hit[0])  # None only beside an error, raised above

    def _read(self, value: Any) -> decimal.Decimal:
        if hasattr(value, "item") and not isinstance(value, (str, bytes)):
            value = value.item()
        if isinstance(value, bool):
            raise ValueError(f"expected a number, got {value!r}")
        if isinstance(value, int):
            return decimal.Decimal(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(f"expected a number, got {value!r}")
            return decimal.Decimal(repr(value))
        if isinstance(value, decimal.Decimal):
            return value
        if not isinstance(value, str):
            raise ValueError(f"expected a number, got {type(value).__name__}")
        match = self._plain.fullmatch(value.strip())
        if match is not None:
            whole = match.group(1)
            if match.group(2):
                whole = whole.replace(match.group(2), "")
            fraction = match.group(3) if self.decimal else None
            return decimal.Decimal(whole + "." + fraction if fraction else whole)
        negative, body = _sign_and_body(value)
        if not _NUMBER.fullmatch(body) or body[-1:] in ".,":
            raise ValueError(f"cannot read {value.strip()!r} as a number")
        vote = _decimal_vote(body)
        if vote is None:
            separator = "."  # digits (and spaces) only: the separator does not matter
        else:
            separator = self.decimal if vote in ("?", ",", ".") and self.decimal else vote
        if separator == "?":
            raise ValueError(f"{value.strip()!r} can be read with a decimal comma or a decimal point")
        try:
            number = _to_decimal(body, separator)
        except ValueError as exc:
            sign = "comma" if separator == "," else "point"
            raise ValueError(f"cannot read {value.strip()!r} as a number with a decimal {sign}: {exc}") from None
        return -number if negative else number


def number_reader(values: Iterable[Any], *, column: str = "", decimal: str | None = None,
                  options: tuple[str, ...] = ("decimal=',' or decimal='.'",)) -> NumberReader:
    """A :class:`NumberReader` for one column, its decimal separator decided from all of its *values*.

    Parameters
    ----------
    values
        The column's cells (blank cells are skipped), or its distinct texts as a pyarrow array
        (their common shapes are then told apart at once).
    column
        The column's name, for messages.
    decimal
        ``","`` or ``"."`` when the operator says it; when None it is inferred: ``12,50``,
        ``1.250,00`` and ``1.250.000`` decide comma, ``12.50``, ``1,250.00`` and ``1,250,000``
        decide point.
    options
        How the option that decides is written in the caller's front-end (for messages).

    Raises
    ------
    ColumnError
        The column has numbers like ``1,250`` that read either way and none that decides, or
        values that decide both ways.

    Examples
    --------
    >>> number_reader(["1,250", "2,500"], column="bedrag")
    Traceback (most recent call last):
    ...
    cmvoice_nb.campaign.plan.values.ColumnError: column 'bedrag': every number can be read with a decimal comma or ...
    >>> number_reader(["1,250"], column="bedrag", decimal=".")("1,250")
    Decimal('1250')
    """
    flag = options[0]
    if decimal is not None:
        if decimal not in (",", "."):
            raise CampaignError(f"the decimal sign must be ',' or '.' ({flag}), got {decimal!r}")
        return NumberReader(column, decimal=decimal)
    votes: dict[str, list[str]] = {",": [], ".": [], "?": []}
    # A value's vote depends only on its shape: where its separators are, how many digits stand
    # between them, whether its whole part is a lone zero. A column of a million distinct amounts
    # has a handful of shapes ("99,99", "9.999,99"): Arrow tells the common ones apart at once
    # (decimal_votes), and any other is judged once, from its first value.
    if type(values).__module__.split(".")[0] == "pyarrow":
        arrow: Any = values  # an Arrow text array (its module says so)
        pairs: Iterable[tuple[Any, Any]] = zip(arrow.to_pylist(), decimal_votes(arrow), strict=True)
    else:
        pairs = ((value, False) for value in _distinct(values))
    judged: dict[str, str | None] = {}
    for value, vote in pairs:
        if vote is False:  # (a shape decimal_votes does not know, or a value not given as Arrow text)
            if not isinstance(value, str):
                continue
            shape = value.translate(_SHAPE)
            if shape in judged:
                vote = judged[shape]
            else:
                body = _sign_and_body(value)[1]
                vote = judged[shape] = _decimal_vote(body) if _NUMBER.fullmatch(body) else None
        if vote is not None and len(votes[vote]) < _EXAMPLES:  # (messages show the first few)
            votes[vote].append(value.strip())
    if votes[","] and votes["."]:
        raise ColumnError(
            f"column {column!r}: some numbers use a decimal comma ({_examples(votes[','])}) and some a decimal "
            f"point ({_examples(votes['.'])}); correct the column, or say which with {flag} (the rows "
            f"that do not fit are then invalid)")
    if votes[","] or votes["."]:
        return NumberReader(column, decimal="," if votes[","] else ".")
    if votes["?"]:
        raise ColumnError(
            f"column {column!r}: every number can be read with a decimal comma or a decimal point "
            f"({_examples(votes['?'])}); say which with {flag}")
    return NumberReader(column, decimal=None)
