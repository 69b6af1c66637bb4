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
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from ...errors import CampaignError
from ...spec import DEFAULT_LANGUAGE
from ._formats import PY_SPEC, compile_strftime, format_currency, format_date, format_number

__all__ = ["TemplateError", "Placeholder", "template_columns", "template_placeholders", "placeholder_kind",
           "render_template", "render_placeholder", "cell_renderer", "compile_template", "voice_locale", "is_blank"]

_NUMBER_TYPES = set("eEfFgGn%dbcoxX")


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
        raise TemplateError(f"template {template!r} is malformed: {exc} "
                            "(write {{ and }} for literal braces)") from None


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
    match = PY_SPEC.fullmatch(spec)
    return match is not None and (match.group("type") in _NUMBER_TYPES or bool(match.group("grouping")))


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
    [Placeholder(column='datum', spec='%-d %B', conversion=None, kind='date'), Placeholder(column='bedrag', ...)]
    """
    found = []
    for _literal, name, spec, conv in _parse_template(template):
        if name is None:
            continue
        if name == "" or name.isdigit():
            raise TemplateError(f"template {template!r} has a positional placeholder {{{name}}}: name a column, "
                                "e.g. {first_name}")
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
            return format_date(moment, "date:long", locale)
        return format_date(moment, "datetime:long", locale)
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

    def renderer(self, language: Any = None, readers: Mapping[tuple, Any] | None = None
                 ) -> Callable[[Mapping[str, Any]], str]:
        """A function filling this template from a row, in *language*, its typed columns read by *readers*.

        Everything that does not depend on the row (the locale, each placeholder's reader and
        formatter) is settled here once: a plan renders a million rows with one renderer.
        """
        locale = voice_locale(language)
        steps: list[Any] = []
        for literal, placeholder in self.parts:
            if literal:
                steps.append(literal)
            if placeholder is not None:
                steps.append(_placeholder_renderer(placeholder, locale, readers))

        def render(row: Mapping[str, Any]) -> str:
            return "".join([step if step.__class__ is str else step(row) for step in steps])

        return render

    def render(self, row: Mapping[str, Any], *, language: Any = None,
               readers: Mapping[tuple, Any] | None = None) -> str:
        return self.renderer(language, readers)(row)


def _typed_formatter(p: Placeholder, locale: Any) -> Callable[[Any], str]:
    """The function that formats a read date or number of placeholder *p* in *locale*."""
    if p.kind == "date":
        head = p.spec.partition(":")[0]
        if head in ("date", "time", "datetime"):
            return functools.partial(format_date, spec=p.spec, locale=locale)
        return compile_strftime(p.spec, locale)
    head, _, rest = p.spec.partition(":")
    if head == "currency":
        code, _, kind = rest.partition(":")
        return functools.partial(format_currency, code=code.upper(), kind=kind, locale=locale)
    return functools.partial(format_number, spec=p.spec, locale=locale)


def _placeholder_renderer(p: Placeholder, locale: Any, readers: Mapping[tuple, Any] | None
                          ) -> Callable[[Mapping[str, Any]], str]:
    """The function saying placeholder *p* of a row (TemplateError naming the placeholder when it cannot)."""
    column, kind, spec, conversion = p.column, p.kind, p.spec, p.conversion
    where = f"{{{column}:{spec}}}" if spec else f"{{{column}}}"
    reader = readers.get((column, kind)) if readers and kind != "text" else None
    if reader is None and kind != "text":
        from .values import DateReader, NumberReader

        reader = DateReader(column) if kind == "date" else NumberReader(column)
    formatted = _typed_formatter(p, locale) if kind != "text" else None

    def one(row: Mapping[str, Any]) -> str:
        try:
            value = row[column]
        except KeyError:
            raise TemplateError(f"placeholder {where} names no column") from None
        if value.__class__ is str:
            if not value.strip():
                raise TemplateError(f"placeholder {{{column}}} is empty in this row")
        else:
            nested = _nested(value)
            if nested:
                raise TemplateError(f"placeholder {where} holds a nested value ({nested}): give one text value")
            if is_blank(value):
                raise TemplateError(f"placeholder {{{column}}} is empty in this row")
        if conversion == "r":
            value = repr(value)
        elif conversion in ("s", "a"):
            value = str(value) if conversion == "s" else ascii(value)
        if kind == "text":
            text = value if value.__class__ is str else _plain(value, locale)
            if not spec:
                return text
            try:
                return format(text, spec)
            except ValueError as exc:
                raise TemplateError(f"{where}: cannot format {text!r} ({exc})") from None
        assert reader is not None and formatted is not None  # both set for every kind but text
        try:
            typed = reader(value)
        except ValueError as exc:
            raise TemplateError(f"{where}: {exc}") from None
        try:
            return formatted(typed)
        except (ValueError, TypeError, KeyError, AttributeError, decimal.InvalidOperation) as exc:
            raise TemplateError(f"{where}: cannot format {value!r} ({exc})") from None

    return one


def cell_renderer(placeholder: Placeholder, *, locale: Any, readers: Mapping[tuple, Any] | None = None
                  ) -> Callable[[Any], str]:
    """A function filling *placeholder* with one cell, as :func:`render_template` fills it in a row.

    *locale* is a Babel locale (:func:`voice_locale`); the reader and formatter are settled once.
    The column-wise planner fills each distinct cell of a column once with it. The function
    raises :class:`TemplateError` as the row would.

    Examples
    --------
    >>> say = cell_renderer(template_placeholders("{datum:%-d %B}")[0], locale=voice_locale("nl-NL"))
    >>> say("2025-12-09"), say("2026-01-02")
    ('9 december', '2 januari')
    """
    one = _placeholder_renderer(placeholder, locale, readers)
    column = placeholder.column
    return lambda value: one({column: value})


def render_placeholder(placeholder: Placeholder, value: Any, *, locale: Any,
                       readers: Mapping[tuple, Any] | None = None) -> str:
    """One placeholder filled with one cell, as :func:`render_template` fills it in a row.

    *locale* is a Babel locale (:func:`voice_locale`). Raises :class:`TemplateError` as the row
    would.

    Examples
    --------
    >>> p = template_placeholders("{datum:%-d %B}")[0]
    >>> render_placeholder(p, "2025-12-09", locale=voice_locale("nl-NL"))
    '9 december'
    """
    return _placeholder_renderer(placeholder, locale, readers)({placeholder.column: value})


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
