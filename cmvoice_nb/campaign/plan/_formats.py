"""How a template's dates and numbers are said in a locale: strftime and CLDR dates, number specs, currencies.

The formatting half of :mod:`cmvoice_nb.campaign.plan.templates` (which documents the
mini-language): pure functions of a read value, a spec and a Babel locale.
"""
from __future__ import annotations

import datetime as _dt
import decimal
import functools
import re
from collections.abc import Callable, Mapping
from typing import Any

CLDR_STYLES = ("short", "medium", "long", "full")
PY_SPEC = re.compile(r"(?:(?P<fill>.)?(?P<align>[<>=^]))?(?P<sign>[-+ ])?(?P<z>z)?(?P<alt>#)?(?P<zero>0)?"
                      r"(?P<width>\d+)?(?P<grouping>[,_])?(?:\.(?P<precision>\d+))?(?P<type>[bcdeEfFgGnosxX%])?",
                      re.DOTALL)


@functools.lru_cache(maxsize=256)
def signs(locale: Any) -> dict[int, str]:
    """A ``str.translate`` table from Python's ``,`` and ``.`` to *locale*'s grouping and decimal signs."""
    from babel.numbers import get_decimal_symbol, get_group_symbol

    return {ord(","): get_group_symbol(locale), ord("."): get_decimal_symbol(locale)}


# ------------------------------------------------------------------------------------------- dates
DIRECTIVE = re.compile(r"%([-#]?)([a-zA-Z%])")


@functools.lru_cache(maxsize=512)
def compile_strftime(spec: str, locale: Any) -> Callable[[_dt.datetime], str]:
    """A function formatting a datetime with the strftime *spec*, names and patterns taken from *locale*."""
    from babel.dates import format_date, format_datetime, format_time

    has_day = bool(re.search(r"%[-#]?[de]", spec))
    months = locale.months["format" if has_day else "stand-alone"]
    days = locale.days["format" if has_day else "stand-alone"]
    periods = locale.day_periods.get("format", {}).get("abbreviated", {})

    def fixed(text: str) -> Callable[[_dt.datetime], str]:
        return lambda moment: text

    def named(names: Mapping[int, str], index: Callable[[_dt.datetime], int]) -> Callable[[_dt.datetime], str]:
        return lambda moment: names[index(moment)]

    def strftime(directive: str) -> Callable[[_dt.datetime], str]:
        return lambda moment: moment.strftime(directive)

    def number(attr: str, width: int, strip: bool,
               convert: Callable[[Any], int] | None = None) -> Callable[[_dt.datetime], str]:
        def render(moment: _dt.datetime) -> str:
            value = convert(moment) if convert else getattr(moment, attr)
            return str(value) if strip else str(value).zfill(width)
        return render

    def hour12(moment: _dt.datetime) -> int:
        return (moment.hour % 12) or 12

    parts: list[Callable[[_dt.datetime], str]] = []
    position = 0
    for match in DIRECTIVE.finditer(spec):
        if match.start() > position:
            parts.append(fixed(spec[position:match.start()]))
        position = match.end()
        flag, code = match.groups()
        strip = bool(flag)
        if code == "d":
            parts.append(number("day", 2, strip))
        elif code == "e":
            parts.append(number("day", 2, True) if strip else (lambda m: f"{m.day:>2}"))
        elif code == "m":
            parts.append(number("month", 2, strip))
        elif code == "Y":
            parts.append(lambda m: str(m.year))
        elif code == "y":
            parts.append(number("year", 2, strip, lambda m: m.year % 100))
        elif code == "H":
            parts.append(number("hour", 2, strip))
        elif code == "I":
            parts.append(number("hour", 2, strip, hour12))
        elif code == "M":
            parts.append(number("minute", 2, strip))
        elif code == "S":
            parts.append(number("second", 2, strip))
        elif code == "j":
            parts.append(number("", 3, strip, lambda m: m.timetuple().tm_yday))
        elif code == "B":
            parts.append(named(months["wide"], lambda m: m.month))
        elif code in ("b", "h"):
            parts.append(named(months["abbreviated"], lambda m: m.month))
        elif code == "A":
            parts.append(named(days["wide"], lambda m: m.weekday()))
        elif code == "a":
            parts.append(named(days["abbreviated"], lambda m: m.weekday()))
        elif code == "p":
            parts.append(lambda m: periods.get("am" if m.hour < 12 else "pm", "AM" if m.hour < 12 else "PM"))
        elif code == "x":
            parts.append(lambda m: format_date(m, "short", locale=locale))
        elif code == "X":
            parts.append(lambda m: format_time(m, "medium", locale=locale))
        elif code == "c":
            parts.append(lambda m: format_datetime(m, "medium", locale=locale))
        elif code == "%":
            parts.append(fixed("%"))
        else:  # %U, %W, %z, %Z, %G...: no names in them, Python's own meaning
            parts.append(strftime("%" + code))
    if position < len(spec):
        parts.append(fixed(spec[position:]))
    return lambda moment: "".join(part(moment) for part in parts)


def format_date(moment: _dt.datetime, spec: str, locale: Any) -> str:
    from babel.dates import format_date, format_time

    head, _, style = spec.partition(":")
    if head in ("date", "time", "datetime"):
        style = style or ("long" if head == "date" else "short" if head == "time" else "medium")
        if head == "date":
            return format_date(moment, style, locale=locale)
        if head == "time":
            return format_time(moment, style, locale=locale)
        date_style, time_style = (style, style) if style in CLDR_STYLES else (style, None)
        if time_style is None:  # a CLDR pattern for the whole
            return format_date(moment, style, locale=locale) if "H" not in style and "h" not in style else \
                format_datetime_pattern(moment, style, locale)
        pattern = str(locale.datetime_formats.get(date_style, "{1} {0}"))
        # The time of a spoken date-time never names a time zone (CLDR's long/full times do).
        time_text = format_time(moment, "short" if date_style in ("long", "full") else time_style, locale=locale)
        return pattern.replace("{1}", format_date(moment, date_style, locale=locale)).replace("{0}", time_text)
    return compile_strftime(spec, locale)(moment)


def format_datetime_pattern(moment: _dt.datetime, pattern: str, locale: Any) -> str:
    from babel.dates import format_datetime

    return format_datetime(moment, pattern, locale=locale)


# ----------------------------------------------------------------------------------------- numbers
def half_up(value: decimal.Decimal, places: int) -> decimal.Decimal:
    """*value* rounded half up to *places* decimals, as on an invoice (``12.345`` → ``12.35``)."""
    try:
        return value.quantize(decimal.Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP)
    except decimal.InvalidOperation:  # more digits than the context holds: leave it to format()
        return value


#: A value whose CLDR rendering shows a pattern's grouping, decimals and sign (every digit differs).
SENTINEL = decimal.Decimal("1234567.89")


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
        value = sign * SENTINEL.quantize(decimal.Decimal(1).scaleb(-digits))
        text = format_currency(value, code, locale=locale)
        plain = format(abs(value), f",.{digits}f").translate(signs(locale))
        if text.count(plain) != 1:
            return None
        forms.append(text.replace(plain, "{}"))
    return digits, forms[0], forms[1]


def format_currency(value: decimal.Decimal, code: str, kind: str, locale: Any) -> str:
    from babel.numbers import format_currency, get_currency_precision

    form = currency_form(code, kind, locale)
    if form is None:
        value = half_up(value, get_currency_precision(code))
        return format_currency(value, code, locale=locale, format_type="name" if kind == "name" else "standard")
    digits, positive, negative = form
    value = half_up(value, digits)
    text = format(abs(value), f",.{digits}f").translate(signs(locale))
    return (negative if value < 0 else positive).replace("{}", text)


def format_number(value: decimal.Decimal, spec: str, locale: Any) -> str:
    from babel.numbers import format_decimal, format_percent

    head, _, rest = spec.partition(":")
    if head == "currency":
        code, _, kind = rest.partition(":")
        return format_currency(value, code.upper(), kind, locale)
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
    return text.translate(signs(locale))
