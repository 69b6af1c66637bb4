"""Per-row templates: ``"Hello {first_name}, see you on {date:%d %B}"`` filled from a row.

Pure functions (no I/O): :func:`template_columns` lists a template's placeholders (checked
once per campaign against the columns), :func:`render_template` fills it for one row.
"""
from __future__ import annotations

import string
from typing import Any, Mapping

from ..errors import CampaignError

__all__ = ["TemplateError", "template_columns", "render_template", "is_blank"]


class TemplateError(CampaignError):
    """A template cannot be filled for a row (empty value, unreadable date, bad format)."""


def _parse_template(template: str) -> list[tuple]:
    """``string.Formatter().parse`` as a list, with a TemplateError that says how to write braces."""
    try:
        return list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"template {template!r} is malformed: {exc} (write {{{{ and }}}} for literal braces)") from None


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
    names = []
    for _literal, name, _spec, _conv in _parse_template(template):
        if name is None:
            continue
        if name == "" or name.isdigit():
            raise TemplateError(f"template {template!r} has a positional placeholder {{{name}}}: name a column, e.g. {{first_name}}")
        names.append(name)
    return names


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


def _format_value(value: Any, spec: str, placeholder: str) -> str:
    if not spec:
        if isinstance(value, float) and value.is_integer():
            # Spreadsheets turn 3 into 3.0; nobody wants to hear "3 point 0".
            return str(int(value))
        return str(value)
    try:
        return format(value, spec)
    except (ValueError, TypeError):
        pass
    if isinstance(value, str):
        if "%" in spec:
            import pandas as pd

            try:
                return format(pd.Timestamp(value.strip()), spec)
            except (ValueError, TypeError):
                raise TemplateError(f"{{{placeholder}:{spec}}}: cannot read {value!r} as a date") from None
        try:
            number = float(value.replace(",", "")) if any(c in spec for c in "eEfFgG%") else int(value)
            return format(number, spec)
        except (ValueError, TypeError):
            pass
    raise TemplateError(f"{{{placeholder}:{spec}}}: cannot format {value!r} with {spec!r}")


def render_template(template: str, row: Mapping[str, Any]) -> str:
    """Fill *template* from *row* (column → value); format specs apply (``{date:%d %B}``).

    A string value under a ``%`` date format is read as a date, so CSV text works.

    Raises
    ------
    TemplateError
        When a placeholder's column is missing, its value is empty, or it cannot be formatted.

    Examples
    --------
    >>> render_template("Hello {first_name}, on {date:%d %B}", {"first_name": "Ann", "date": "2024-05-03"})
    'Hello Ann, on 03 May'
    """
    out = []
    for literal, name, spec, conv in _parse_template(template):
        out.append(literal)
        if name is None:
            continue
        if name not in row:
            raise TemplateError(f"placeholder {{{name}}} names no column")
        value = row[name]
        if is_blank(value):
            raise TemplateError(f"placeholder {{{name}}} is empty in this row")
        if conv == "r":
            value = repr(value)
        elif conv in ("s", "a"):
            value = str(value) if conv == "s" else ascii(value)
        out.append(_format_value(value, spec or "", name))
    return "".join(out)
