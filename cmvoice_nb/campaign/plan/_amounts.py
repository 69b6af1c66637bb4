"""Amounts said quickly: the common specs of a plainly written amount, and a column's decimal sign by shape.

:func:`quick_amount` gives, for the most common specs (``currency:EUR``, ``.2f``, ``,.2f``), a
function formatting a plainly written amount (``1.250,00``) as
:func:`~cmvoice_nb.campaign.plan._formats.format_number` would, with integer arithmetic and no
Decimal or Babel per value: the column-wise planner formats each of a million distinct amounts
with it. :func:`decimal_votes` tells a column's decimal sign from its distinct values with Arrow,
as :func:`~cmvoice_nb.campaign.plan.values.number_reader` reads them one by one.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from ._formats import currency_form, signs

__all__ = ["quick_amount", "decimal_votes"]


#: A plainly written amount, by the column's decimal sign: digits grouped by the other sign (in
#: threes) or not at all, then the decimals. A subset of what ``NumberReader`` reads the same way.
_PLAIN = {",": re.compile(r"(\d{1,3}(?:\.\d{3})+|\d{1,15})(?:,(\d{1,12}))?"),
          ".": re.compile(r"(\d{1,3}(?:,\d{3})+|\d{1,15})(?:\.(\d{1,12}))?"),
          None: re.compile(r"(\d{1,15})()")}
_FIXED = re.compile(r"(,?)\.(\d)f")


def quick_amount(spec: str, sign: str | None, locale: Any) -> Callable[[str], str | None] | None:
    """A function formatting a plainly written amount as ``format_number`` would, or None for this spec.

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
    table = signs(locale)
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
        return wrap.replace("{}", body.translate(table))

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
