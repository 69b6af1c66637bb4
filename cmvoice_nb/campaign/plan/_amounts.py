"""Amounts in the voice's language: Python format specs and CLDR currency patterns, per amount or per column.

:func:`format_amount` formats one amount (a :class:`~decimal.Decimal`) as a template's number spec
says, in a Babel locale; :func:`quick_amount` gives, for the most common specs (``currency:EUR``,
``.2f``, ``,.2f``), a function doing the same for a plainly written amount (``1.250,00``) with
integer arithmetic and no Decimal or Babel per value: the column-wise planner formats each of a
million distinct amounts with it. :func:`decimal_votes` tells a column's decimal sign from its
distinct values with Arrow, as :func:`~cmvoice_nb.campaign.plan.values.number_reader` reads them one
by one.
"""
from __future__ import annotations

import decimal
import functools
import re
from typing import Any, Callable

__all__ = ["PY_SPEC", "NUMBER_TYPES", "locale_signs", "half_up", "currency_form", "format_currency_text",
           "format_amount", "quick_amount", "decimal_votes"]

PY_SPEC = re.compile(r"(?:(?P<fill>.)?(?P<align>[<>=^]))?(?P<sign>[-+ ])?(?P<z>z)?(?P<alt>#)?(?P<zero>0)?"
                     r"(?P<width>\d+)?(?P<grouping>[,_])?(?:\.(?P<precision>\d+))?(?P<type>[bcdeEfFgGnosxX%])?",
                     re.DOTALL)
NUMBER_TYPES = set("eEfFgGn%dbcoxX")


@functools.lru_cache(maxsize=256)
def locale_signs(locale: Any) -> dict[int, str]:
    """A ``str.translate`` table from Python's ``,`` and ``.`` to *locale*'s grouping and decimal signs."""
    from babel.numbers import get_decimal_symbol, get_group_symbol

    return {ord(","): get_group_symbol(locale), ord("."): get_decimal_symbol(locale)}


def half_up(value: decimal.Decimal, places: int) -> decimal.Decimal:
    """*value* rounded half up to *places* decimals, as on an invoice (``12.345`` → ``12.35``)."""
    try:
        return value.quantize(decimal.Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP)
    except decimal.InvalidOperation:  # more digits than the context holds: leave it to format()
        return value


#: A value whose CLDR rendering shows a pattern's grouping, decimals and sign (every digit differs).
_SENTINEL = decimal.Decimal("1234567.89")


@functools.lru_cache(maxsize=256)
def currency_form(code: str, kind: str, locale: Any) -> tuple | None:
    """``(digits, positive, negative)``: *locale*'s currency pattern as text around ``{}``, or None.

    Babel's ``format_currency`` re-reads its pattern for every value (~50 µs); a list of a million
    amounts needs it once. The pattern is taken from Babel's own rendering of a sentinel amount and
    kept only when the fast rendering of that sentinel equals Babel's, so a locale with another
    grouping (Indian lakhs) or sign placement keeps Babel's own path.
    """
    from babel.numbers import format_currency, get_currency_precision

    if kind == "name":
        return None  # the name follows the amount's plural category (Icelandic "evra" / "evrur")
    digits = get_currency_precision(code)
    forms = []
    for sign in (1, -1):
        value = sign * _SENTINEL.quantize(decimal.Decimal(1).scaleb(-digits))
        text = format_currency(value, code, locale=locale)
        plain = format(abs(value), f",.{digits}f").translate(locale_signs(locale))
        if text.count(plain) != 1:
            return None
        forms.append(text.replace(plain, "{}"))
    return digits, forms[0], forms[1]


def format_currency_text(value: decimal.Decimal, code: str, kind: str, locale: Any) -> str:
    """*value* as an amount of currency *code* in *locale* (``kind="name"``: with the currency's name)."""
    from babel.numbers import format_currency, get_currency_precision

    form = currency_form(code, kind, locale)
    if form is None:
        value = half_up(value, get_currency_precision(code))
        return format_currency(value, code, locale=locale, format_type="name" if kind == "name" else "standard")
    digits, positive, negative = form
    value = half_up(value, digits)
    text = format(abs(value), f",.{digits}f").translate(locale_signs(locale))
    return (negative if value < 0 else positive).replace("{}", text)


def format_amount(value: decimal.Decimal, spec: str, locale: Any) -> str:
    """*value* formatted by a template's number *spec* (``.2f``, ``currency:EUR``, ``number``…) in *locale*."""
    from babel.numbers import format_decimal, format_percent

    head, _, rest = spec.partition(":")
    if head == "currency":
        code, _, kind = rest.partition(":")
        return format_currency_text(value, code.upper(), kind, locale)
    if head == "number":
        return format_decimal(value, format=rest or None, locale=locale)
    if head == "percent":
        return format_percent(value, format=rest or None, locale=locale)
    match = PY_SPEC.fullmatch(spec)
    assert match is not None  # placeholder_kind said "number"
    g = match.groupdict()
    kind = g["type"] or ""
    precision = g["precision"]
    # Python's own spec, grouping written "," (the locale's sign replaces it below); "n" is "g" grouped.
    python_spec = "".join((
        (g["fill"] or "") + g["align"] if g["align"] else "", g["sign"] or "", g["z"] or "", g["alt"] or "",
        g["zero"] or "", g["width"] or "", "," if g["grouping"] or kind == "n" else "",
        "." + precision if precision is not None else "", "g" if kind == "n" else kind))
    if kind in ("f", "F", "%") and precision is not None:
        scale = 100 if kind == "%" else 1
        value = half_up(value * scale, int(precision)) / scale
    if kind and kind in "dbcoxX":
        if value != value.to_integral_value():
            raise ValueError(f"{value} is not a whole number")
        text = format(int(value), python_spec)
    else:
        text = format(value, python_spec)
    return text.translate(locale_signs(locale))


#: A plainly written amount, by the column's decimal sign: digits grouped by the other sign (in
#: threes) or not at all, then the decimals. A subset of what ``NumberReader`` reads the same way.
_PLAIN = {",": re.compile(r"(\d{1,3}(?:\.\d{3})+|\d{1,15})(?:,(\d{1,12}))?"),
          ".": re.compile(r"(\d{1,3}(?:,\d{3})+|\d{1,15})(?:\.(\d{1,12}))?"),
          None: re.compile(r"(\d{1,15})()")}
_FIXED = re.compile(r"(,?)\.(\d)f")


def quick_amount(spec: str, sign: str | None, locale: Any) -> Callable[[str], str | None] | None:
    """A function formatting a plainly written amount as :func:`format_amount` would, or None for this spec.

    For ``currency:<code>`` (a pattern :func:`currency_form` keeps) and ``.<n>f`` / ``,.<n>f``: the
    text (``1.250,00`` in a column whose decimal sign *sign* is ``,``) is read as digits and
    rounded half up in integers. The function gives None for any other text (a sign, a currency
    sign, spaces, more than 15 digits): the caller formats that one the long way.

    Examples
    --------
    >>> from babel import Locale
    >>> quick_amount("currency:EUR", ",", Locale.parse("nl_NL"))("1.250,005")
    '€\\xa01.250,01'
    >>> quick_amount(".1f", ".", Locale.parse("en_GB"))("12.25"), quick_amount("number", ".", None)
    ('12.3', None)
    """
    head, _, rest = spec.partition(":")
    fixed = _FIXED.fullmatch(spec)
    if head == "currency" and ":" not in rest:
        form = currency_form(rest.upper(), "", locale)
        if form is None:
            return None
        digits, wrap, grouped = form[0], form[1], True
    elif fixed is not None:
        digits, wrap, grouped = int(fixed.group(2)), "{}", bool(fixed.group(1))
    else:
        return None
    pattern, group = _PLAIN[sign], {",": ".", ".": ",", None: ""}[sign]
    signs = locale_signs(locale)
    unit = 10 ** digits

    def quick(text: str) -> str | None:
        match = pattern.fullmatch(text)
        if match is None:
            return None
        whole, fraction = match.group(1).replace(group, "") if group else match.group(1), match.group(2) or ""
        if len(whole) > 15:
            return None
        scaled = int(whole) * unit + (int(fraction[:digits].ljust(digits, "0")) if digits else 0)
        scaled += len(fraction) > digits and fraction[digits] >= "5"  # half up: what follows is at least half
        units, cents = divmod(scaled, unit)
        body = (f"{units:,}" if grouped else str(units)) + (f".{cents:0{digits}d}" if digits else "")
        return wrap.replace("{}", body.translate(signs))

    return quick


#: Written amounts whose decimal sign reads one way only, by shape (digits and separators only).
_VOTES = (
    (None, r"^[0-9]+$"),
    (",", r"^[0-9]{1,3}(?:\.[0-9]{3})+,[0-9]+$|^[0-9]{1,3}(?:\.[0-9]{3}){2,}$|^[0-9]+,(?:[0-9]{1,2}|[0-9]{4,})$"
          r"|^0,[0-9]{3}$|^[0-9]{4,},[0-9]{3}$"),
    (".", r"^[0-9]{1,3}(?:,[0-9]{3})+\.[0-9]+$|^[0-9]{1,3}(?:,[0-9]{3}){2,}$|^[0-9]+\.(?:[0-9]{1,2}|[0-9]{4,})$"
          r"|^0\.[0-9]{3}$|^[0-9]{4,}\.[0-9]{3}$"),
    ("?", r"^(?:[1-9][0-9]{0,2}|0[0-9]{1,2})[,.][0-9]{3}$"),
)


def decimal_votes(texts: Any) -> list:
    """Per value of an Arrow text array: the decimal sign its shape shows (``","``, ``"."``, ``"?"``
    or None), or ``False`` where the shape is not one of these (read one by one by the caller)."""
    import pyarrow.compute as pc

    out: list = [False] * len(texts)
    for vote, pattern in _VOTES:
        found = pc.fill_null(pc.match_substring_regex(texts, pattern), False).to_numpy(zero_copy_only=False)
        for i in found.nonzero()[0].tolist():
            out[i] = vote
    return out
