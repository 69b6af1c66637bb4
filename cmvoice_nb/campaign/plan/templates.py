"""Per-row templates, spoken in the voice's language: ``"Beste {naam}, uw afspraak is op {datum:%-d %B}"``.

A template is Python's ``str.format`` syntax with a column name in each placeholder. What a
format spec means is kept; what is spoken takes the row's **voice language**, through Babel's
CLDR data (month and day names, decimal and grouping signs, currency formats).

The template mini-language
--------------------------
========================  ==========================================  =========================
placeholder               nl-NL                                       en-GB
========================  ==========================================  =========================
``{naam}``                the cell as written: ``Anne``               ``Anne``
``{datum:%d %B %Y}``      ``09 december 2025``                        ``09 December 2025``
``{datum:%-d %B}``        ``9 december`` (``%-d``: no leading zero)   ``9 December``
``{datum:%A %-d %B}``     ``dinsdag 9 december``                      ``Tuesday 9 December``
``{datum:%H:%M}``         ``14:30``                                   ``14:30``
``{datum:date:long}``     ``9 december 2025`` (CLDR's own pattern)    ``9 December 2025``
``{datum:date:full}``     ``dinsdag 9 december 2025``                 ``Tuesday, 9 December 2025``
``{datum:date:EEEE d MMMM}``  a CLDR pattern: ``dinsdag 9 december``  ``Tuesday 9 December``
``{datum:time:short}``    ``14:30``                                   ``14:30``
``{datum:datetime:medium}``  ``9 dec 2025, 14:30:00``                 ``9 Dec 2025, 14:30:00``
``{bedrag:.2f}``          ``1250,00`` (no grouping)                   ``1250.00``
``{bedrag:,.2f}``         ``1.250,00`` (the locale's grouping)        ``1,250.00``
``{bedrag:currency:EUR}``  ``€ 1.250,00``                             ``€1,250.00``
``{bedrag:currency:EUR:name}``  ``1.250,00 euro``                     ``1,250.00 euros``
``{aantal:number}``       ``1.250,5`` (CLDR's decimal format)         ``1,250.5``
``{deel:percent}``        ``15%``                                     ``15%``
========================  ==========================================  =========================

German (``de-DE``): ``{datum:%d %B %Y}`` → ``13 Dezember 2025``, ``{datum:date:long}`` →
``13. Dezember 2025``, ``{bedrag:,.2f}`` → ``1.250,00``, ``{bedrag:currency:EUR}`` →
``1.250,00 €``. French (``fr-FR``): ``{datum:%A %-d %B}`` → ``samedi 13 décembre``,
``{bedrag:,.2f}`` → ``1 250,00`` (a narrow no-break space groups).

* **Dates** are ``strftime`` specs (every directive keeps its meaning; ``%B %b %A %a %p`` take the
  locale's names, ``%x %X %c`` its short date, time and date-time; ``%-d``, ``%-m``, ``%-H``,
  ``%-I`` and Windows' ``%#d`` drop the leading zero) or ``date:``/``time:``/``datetime:`` with a
  CLDR style (``short``, ``medium``, ``long``, ``full``) or a CLDR pattern.
* **Numbers** are Python format specs (``.2f``, ``,.2f``, ``.0f``, ``d``, ``,d``, ``.1%``, widths
  and signs too) rendered with the locale's signs, or ``number``/``percent`` (optionally with a
  CLDR pattern: ``number:#,##0.0``) or ``currency:CODE`` / ``currency:CODE:name``. Amounts are
  rounded half up (``12,345`` with ``.2f`` says ``12,35``), as on an invoice.
* **A plain placeholder** says the cell as written; a real number (not text) with decimals uses
  the locale's decimal sign, and a real date the locale's long date.
* The cells of a date or number placeholder are read **per column** (see
  :mod:`cmvoice_nb.campaign.plan.values`): the order of ``09-12-2025`` and the decimal sign of
  ``12,50`` are decided from the whole column, never from one cell.
* The locale is the row's voice language (``voice.language``, default ``en-GB``). Every language
  of the voice catalogue has a Babel locale; for another language code the language alone is used
  (``nl-BE`` → ``nl_BE`` when CLDR has it, else ``nl``), and ``en_GB`` when Babel knows neither
  (:func:`voice_locale` says which).

Examples
--------
>>> render_template("Beste {naam}, op {datum:%-d %B %Y}: {bedrag:currency:EUR:name}",
...                 {"naam": "Anne", "datum": "2025-12-09", "bedrag": "12,50"}, language="nl-NL")
'Beste Anne, op 9 december 2025: 12,50 euro'
>>> render_template("Am {datum:date:long}: {bedrag:,.2f} Euro", {"datum": "2025-12-13", "bedrag": "1.250,00"},
...                 language="de-DE")
'Am 13. Dezember 2025: 1.250,00 Euro'
"""
from __future__ import annotations

import datetime as _dt
import decimal
import functools
import re
import string
from typing import Any, Callable, Mapping, NamedTuple

from ...errors import CampaignError
from ...spec import DEFAULT_LANGUAGE
from ._amounts import NUMBER_TYPES as _NUMBER_TYPES
from ._amounts import PY_SPEC as _PY_SPEC
from ._amounts import format_amount as _format_number
from ._amounts import format_currency_text as _format_currency
from ._amounts import half_up as _half_up

__all__ = ["TemplateError", "Placeholder", "template_columns", "template_placeholders", "placeholder_kind",
           "render_template", "render_placeholder", "compile_template", "voice_locale", "is_blank"]

_CLDR_STYLES = ("short", "medium", "long", "full")


class TemplateError(CampaignError):
    """A template cannot be filled for a row (empty value, unreadable date, bad format)."""


class Placeholder(NamedTuple):
    """One ``{column:spec!conversion}`` of a template, and the kind of value its spec formats."""

    column: str
    spec: str
    conversion: str | None
    kind: str  # "date", "number" or "text"


def _parse_template(template: str) -> list[tuple]:
    """``string.Formatter().parse`` as a list, with a TemplateError that says how to write braces."""
    try:
        return list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"template {template!r} is malformed: {exc} (write {{{{ and }}}} for literal braces)") from None


def placeholder_kind(spec: str) -> str:
    """``"date"``, ``"number"`` or ``"text"``: what a format spec formats.

    Examples
    --------
    >>> [placeholder_kind(s) for s in ("%d %B", "date:long", ".2f", ",d", "currency:EUR", "", ">10")]
    ['date', 'date', 'number', 'number', 'number', 'text', 'text']
    """
    if not spec:
        return "text"
    head = spec.split(":", 1)[0]
    if "%" in spec and head not in ("number", "percent", "currency") and not _is_python_number(spec):
        return "date"
    if head in ("date", "time", "datetime"):
        return "date"
    if head in ("number", "percent", "currency"):
        return "number"
    return "number" if _is_python_number(spec) else "text"


def _is_python_number(spec: str) -> bool:
    match = _PY_SPEC.fullmatch(spec)
    return bool(match) and (match.group("type") in _NUMBER_TYPES or bool(match.group("grouping")))


def template_placeholders(template: str) -> list[Placeholder]:
    """The placeholders of *template* in order, each with its column, spec and kind.

    Raises
    ------
    TemplateError
        For a malformed template, a positional ``{}`` placeholder, a nested ``{a:{b}}`` spec or
        a spec this mini-language does not know (``currency`` without a code).

    Examples
    --------
    >>> template_placeholders("Op {datum:%-d %B}: {bedrag:.2f}")
    [Placeholder(column='datum', spec='%-d %B', conversion=None, kind='date'), Placeholder(column='bedrag', spec='.2f', conversion=None, kind='number')]
    """
    found = []
    for _literal, name, spec, conv in _parse_template(template):
        if name is None:
            continue
        if name == "" or name.isdigit():
            raise TemplateError(f"template {template!r} has a positional placeholder {{{name}}}: name a column, e.g. {{first_name}}")
        if spec and ("{" in spec or "}" in spec):
            raise TemplateError(f"template {template!r}: {{{name}:{spec}}} nests a placeholder in a format spec")
        kind = placeholder_kind(spec or "")
        _check_spec(name, spec or "", kind)
        found.append(Placeholder(name, spec or "", conv, kind))
    return found


def _check_spec(name: str, spec: str, kind: str) -> None:
    """Refuse, once per template, a spec no row could be formatted with."""
    head, _, rest = spec.partition(":")
    where = f"{{{name}:{spec}}}"
    if head == "currency":
        code = rest.split(":")[0]
        if not re.fullmatch(r"[A-Za-z]{3}", code):
            raise TemplateError(f"{where}: currency needs a three-letter code, e.g. {{{name}:currency:EUR}}")
        extra = rest.split(":")[1:]
        if extra not in ([], ["name"]):
            raise TemplateError(f"{where}: after the currency code only ':name' may follow")
    elif head in ("date", "time", "datetime") and not rest:
        return
    elif kind == "text" and spec:
        try:
            format("x", spec)
        except ValueError as exc:
            raise TemplateError(f"{where}: not a format spec this template language knows ({exc})") from None


def template_columns(template: str) -> list[str]:
    """Names of the placeholders in *template* (``{name}``, ``{date:%d %B}``), in order.

    Raises
    ------
    TemplateError
        For a malformed template or a positional ``{}`` placeholder.

    Examples
    --------
    >>> template_columns("Hi {first_name}, see you {date:%d %B} {{literal}}")
    ['first_name', 'date']
    """
    return [p.column for p in template_placeholders(template)]


def is_blank(value: Any) -> bool:
    """True for a cell that holds nothing: None, NaN/NA, or text that is only whitespace.

    Examples
    --------
    >>> is_blank("  "), is_blank(float("nan")), is_blank(0)
    (True, True, False)
    """
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        import pandas as pd

        return bool(pd.isna(value)) if not isinstance(value, (list, tuple, dict)) else False
    except (TypeError, ValueError):
        return False


# ------------------------------------------------------------------------------------------ locale
@functools.lru_cache(maxsize=256)
def voice_locale(language: Any = None) -> Any:
    """The Babel locale a row's voice language speaks in: ``"nl-NL"`` → ``Locale('nl', territory='NL')``.

    ``None`` is the contract's default voice language (``en-GB``). A code CLDR does not know
    falls back to its language (``"nl-XX"`` → ``nl``), then to ``en_GB``.

    Examples
    --------
    >>> str(voice_locale("nl-NL")), str(voice_locale("de-DE")), str(voice_locale(None)), str(voice_locale("zz-ZZ"))
    ('nl_NL', 'de_DE', 'en_GB', 'en_GB')
    """
    from babel import Locale, UnknownLocaleError

    text = str(language or DEFAULT_LANGUAGE).strip().replace("-", "_")
    for candidate in (text, text.split("_")[0], "en_GB"):
        try:
            return Locale.parse(candidate)
        except (UnknownLocaleError, ValueError, TypeError):
            continue
    return Locale.parse("en_GB")  # pragma: no cover - Babel always has en_GB


# ------------------------------------------------------------------------------------------- dates
_DIRECTIVE = re.compile(r"%([-#]?)([a-zA-Z%])")


@functools.lru_cache(maxsize=512)
def _compile_strftime(spec: str, locale: Any) -> Callable[[_dt.datetime], str]:
    """A function formatting a datetime with the strftime *spec*, names and patterns taken from *locale*."""
    from babel.dates import format_date, format_datetime, format_time

    has_day = bool(re.search(r"%[-#]?[de]", spec))
    months = locale.months["format" if has_day else "stand-alone"]
    days = locale.days["format" if has_day else "stand-alone"]
    periods = locale.day_periods.get("format", {}).get("abbreviated", {})

    def fixed(text: str) -> Callable[[_dt.datetime], str]:
        return lambda moment: text

    def number(attr: str, width: int, strip: bool, convert: Callable[[Any], int] | None = None):
        def render(moment: _dt.datetime) -> str:
            value = convert(moment) if convert else getattr(moment, attr)
            return str(value) if strip else str(value).zfill(width)
        return render

    def hour12(moment: _dt.datetime) -> int:
        return (moment.hour % 12) or 12

    parts: list[Callable[[_dt.datetime], str]] = []
    position = 0
    for match in _DIRECTIVE.finditer(spec):
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
            parts.append(lambda m, names=months["wide"]: names[m.month])
        elif code in ("b", "h"):
            parts.append(lambda m, names=months["abbreviated"]: names[m.month])
        elif code == "A":
            parts.append(lambda m, names=days["wide"]: names[m.weekday()])
        elif code == "a":
            parts.append(lambda m, names=days["abbreviated"]: names[m.weekday()])
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
            parts.append(lambda m, directive="%" + code: m.strftime(directive))
    if position < len(spec):
        parts.append(fixed(spec[position:]))
    return lambda moment: "".join(part(moment) for part in parts)


def _format_date(moment: _dt.datetime, spec: str, locale: Any) -> str:
    from babel.dates import format_date, format_time

    head, _, style = spec.partition(":")
    if head in ("date", "time", "datetime"):
        style = style or ("long" if head == "date" else "short" if head == "time" else "medium")
        if head == "date":
            return format_date(moment, style, locale=locale)
        if head == "time":
            return format_time(moment, style, locale=locale)
        date_style, time_style = (style, style) if style in _CLDR_STYLES else (style, None)
        if time_style is None:  # a CLDR pattern for the whole
            return format_date(moment, style, locale=locale) if "H" not in style and "h" not in style else \
                _format_datetime_pattern(moment, style, locale)
        pattern = str(locale.datetime_formats.get(date_style, "{1} {0}"))
        # The time of a spoken date-time never names a time zone (CLDR's long/full times do).
        time_text = format_time(moment, "short" if date_style in ("long", "full") else time_style, locale=locale)
        return pattern.replace("{1}", format_date(moment, date_style, locale=locale)).replace("{0}", time_text)
    return _compile_strftime(spec, locale)(moment)


def _format_datetime_pattern(moment: _dt.datetime, pattern: str, locale: Any) -> str:
    from babel.dates import format_datetime

    return format_datetime(moment, pattern, locale=locale)


# --------------------------------------------------------------------------------------- rendering
def _nested(value: Any) -> str | None:
    """The kind of a nested value (a list, dict, set or array in one cell), or None for a plain one."""
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        return type(value).__name__
    if hasattr(value, "ndim") and getattr(value, "ndim", 0) > 0:
        return "array"
    return None


def _plain(value: Any, locale: Any) -> str:
    """A cell under a placeholder without spec: text as written; real numbers and dates in the locale."""
    if isinstance(value, str):
        return value
    if hasattr(value, "item") and not isinstance(value, (str, bytes)) and getattr(value, "ndim", 0) == 0:
        kind = getattr(getattr(value, "dtype", None), "kind", "")
        if kind != "M":
            value = value.item()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # spreadsheets turn 3 into 3.0; nobody wants to hear "3 point 0"
    if isinstance(value, (float, decimal.Decimal)):
        from babel.numbers import format_decimal

        return format_decimal(value, format="0.##########", locale=locale)
    if isinstance(value, (_dt.datetime, _dt.date)) or getattr(getattr(value, "dtype", None), "kind", "") == "M":
        from .values import DateReader

        moment = DateReader()(value)
        if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
            return _format_date(moment, "date:long", locale)
        return _format_date(moment, "datetime:long", locale)
    return str(value)


class _Compiled:
    """A template split into literal text and placeholders, ready to render many rows."""

    __slots__ = ("template", "parts")

    def __init__(self, template: str) -> None:
        self.template = template
        self.parts: list[tuple[str, Placeholder | None]] = []
        placeholders = iter(template_placeholders(template))
        for literal, name, _spec, _conv in _parse_template(template):
            self.parts.append((literal, next(placeholders) if name is not None else None))

    def render(self, row: Mapping[str, Any], *, language: Any = None, readers: Mapping[tuple, Any] | None = None) -> str:
        locale = voice_locale(language)
        out = []
        for literal, placeholder in self.parts:
            out.append(literal)
            if placeholder is not None:
                out.append(_render_one(placeholder, row, locale, readers))
        return "".join(out)


def _render_one(p: Placeholder, row: Mapping[str, Any], locale: Any, readers: Mapping[tuple, Any] | None) -> str:
    where = f"{{{p.column}:{p.spec}}}" if p.spec else f"{{{p.column}}}"
    if p.column not in row:
        raise TemplateError(f"placeholder {where} names no column")
    value = row[p.column]
    nested = _nested(value)
    if nested:
        raise TemplateError(f"placeholder {where} holds a nested value ({nested}): give one text value")
    if is_blank(value):
        raise TemplateError(f"placeholder {{{p.column}}} is empty in this row")
    if p.conversion == "r":
        value = repr(value)
    elif p.conversion in ("s", "a"):
        value = str(value) if p.conversion == "s" else ascii(value)
    if p.kind == "text":
        text = _plain(value, locale)
        if not p.spec:
            return text
        try:
            return format(text, p.spec)
        except ValueError as exc:
            raise TemplateError(f"{where}: cannot format {text!r} ({exc})") from None
    reader = readers.get((p.column, p.kind)) if readers else None
    if reader is None:
        from .values import DateReader, NumberReader

        reader = DateReader(p.column) if p.kind == "date" else NumberReader(p.column)
    try:
        typed = reader(value)
    except ValueError as exc:
        raise TemplateError(f"{where}: {exc}") from None
    try:
        if p.kind == "date":
            return _format_date(typed, p.spec, locale)
        return _format_number(typed, p.spec, locale)
    except (ValueError, TypeError, KeyError, AttributeError, decimal.InvalidOperation) as exc:
        raise TemplateError(f"{where}: cannot format {value!r} ({exc})") from None


def render_placeholder(placeholder: Placeholder, value: Any, *, locale: Any,
                       readers: Mapping[tuple, Any] | None = None) -> str:
    """One placeholder filled with one cell, as :func:`render_template` fills it in a row.

    *locale* is a Babel locale (:func:`voice_locale`). The column-wise planner fills each
    distinct cell of a column once with it. Raises :class:`TemplateError` as the row would.

    Examples
    --------
    >>> p = template_placeholders("{datum:%-d %B}")[0]
    >>> render_placeholder(p, "2025-12-09", locale=voice_locale("nl-NL"))
    '9 december'
    """
    return _render_one(placeholder, {placeholder.column: value}, locale, readers)


@functools.lru_cache(maxsize=256)
def compile_template(template: str) -> _Compiled:
    """*template* parsed once (cached): ``compile_template(t).render(row, language=..., readers=...)``.

    Raises
    ------
    TemplateError
        As :func:`template_placeholders`.
    """
    return _Compiled(template)


def render_template(template: str, row: Mapping[str, Any], *, language: Any = None,
                    readers: Mapping[tuple, Any] | None = None) -> str:
    """Fill *template* from *row* (column → value), spoken in *language* (a voice language like ``nl-NL``).

    Parameters
    ----------
    template
        Text with ``{column}`` / ``{column:spec}`` placeholders (see the module's mini-language).
    row
        Column → cell.
    language
        The voice language the text will be spoken in (default ``en-GB``): month and day names,
        decimal and grouping signs and currency formats follow it.
    readers
        ``{(column, "date" | "number"): reader}``: how each typed column's cells are read, decided
        for the whole column (:func:`cmvoice_nb.campaign.plan.values.date_reader`,
        :func:`~cmvoice_nb.campaign.plan.values.number_reader`). Without one, a cell is read on its own
        and refused when it could be read two ways (``09-12-2025``, ``1,250``).

    Raises
    ------
    TemplateError
        When a placeholder's column is missing, its value is empty or nested, or it cannot be read
        or formatted.

    Examples
    --------
    >>> render_template("Hello {first_name}, on {date:%d %B}", {"first_name": "Ann", "date": "2024-05-03"})
    'Hello Ann, on 03 May'
    >>> render_template("{bedrag:.2f}", {"bedrag": "12,50"}, language="nl-NL")
    '12,50'
    >>> render_template("{datum:%d %B}", {"datum": "09-12-2025"})
    Traceback (most recent call last):
    ...
    cmvoice_nb.campaign.plan.templates.TemplateError: {datum:%d %B}: '09-12-2025' can be read day-first or month-first
    """
    return compile_template(template).render(row, language=language, readers=readers)
