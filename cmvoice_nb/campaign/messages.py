"""How campaign messages name things: a user's values, option names per interface, close matches.

Shared by the planner, the input readers and the sender so that ``cmvoice send`` names its
flags (``--map``) where Python names keyword arguments (``columns=``).
"""
from __future__ import annotations

import difflib
from typing import Any

__all__ = ["quote", "cut", "listing", "did_you_mean", "row_name", "OPTION_NAMES", "MAX_SHOWN", "LINE_INDEX"]

#: The index name of a list read from a file: its labels are the lines the spreadsheet shows.
LINE_INDEX = "line"

#: Longest value echoed in a message before it is cut (with "…").
MAX_SHOWN = 60
#: How options are named in messages, per interface: keyword arguments in Python, flags on
#: the command line (``cmvoice send``).
OPTION_NAMES = {
    "python": {"columns": "columns=", "defaults": "defaults=", "name": "name=", "allow_repeat": "allow_repeat=True",
               "resend_changed": "resend_changed=True", "resend_unknown": "resend_unknown=True",
               "drop_duplicates": "drop_duplicates=True", "base_url": "base_url=", "token": "the token "
               "(VoiceClient(token=...) or CM_PRODUCT_TOKEN)", "dayfirst": "dayfirst=True or dayfirst=False",
               "date_format": "date_format=", "decimal": "decimal=',' or decimal='.'", "keep": "keep=",
               "region": "region=", "map_region": "columns={'region': '<column>'}"},
    "cli": {"columns": "--map", "defaults": "--set", "name": "--name", "allow_repeat": "--allow-repeat",
            "resend_changed": "--resend-changed", "resend_unknown": "--resend-unknown",
            "drop_duplicates": "--drop-duplicates", "base_url": "--base-url", "token": "CM_PRODUCT_TOKEN",
            "dayfirst": "--dayfirst or --monthfirst", "date_format": "--date-format", "decimal": "--decimal , or "
            "--decimal .", "keep": "--keep", "region": "--region", "map_region": "--map region=<column>"},
}


def quote(value: Any, limit: int = MAX_SHOWN) -> str:
    """*value* as a message quotes it (``repr`` of text), cut to *limit* characters with ``…``.

    Unlike :func:`cmvoice_nb.errors.shorten` (which flattens a provider's message to one
    line), this keeps the quotes that show where a user's value starts and ends.

    Examples
    --------
    >>> quote("x" * 100, 10)
    "'xxxxxxxx…"
    """
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cut(value: Any, limit: int = MAX_SHOWN) -> str:
    """``str(value)`` cut to *limit* characters with ``…`` (no quotes: for option values)."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def listing(names: Any, limit: int = 20) -> str:
    """``a, b, c`` for a message: at most *limit* names, each cut, then how many more."""
    names = [cut(n, 40) for n in names]
    more = f", … ({len(names) - limit} more)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def did_you_mean(word: Any, choices: Any) -> str:
    """`` did you mean 'x'?`` for the closest of *choices* to *word*, or ``""``.

    Examples
    --------
    >>> did_you_mean("calee", ["callee", "caller", "prompt"])
    " did you mean 'callee'?"
    """
    options = [str(c) for c in choices]
    match = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    if not match:
        lowered = {o.lower().replace("_", "-"): o for o in options}
        hit = lowered.get(str(word).lower().replace("_", "-"))
        match = [hit] if hit else []
    return f" did you mean {match[0]!r}?" if match else ""


def row_name(label: Any, *, lines: bool = False, ident: Any = None, ident_column: str | None = None) -> str:
    """How a message names a row: ``line 7`` for a row of a file, ``row 'x'`` for a DataFrame's label.

    A file's rows are named by the line the spreadsheet shows (the header is line 1, the first
    data row line 2); a DataFrame's by its index label. With the operator's own id column
    (``columns={"id": ...}``), its value follows.

    Examples
    --------
    >>> row_name(7, lines=True), row_name("a"), row_name(7, lines=True, ident="10234", ident_column="Klantnummer")
    ('line 7', "row 'a'", 'line 7 (Klantnummer 10234)')
    """
    text = f"line {label}" if lines else f"row {label!r}"
    if ident_column and ident is not None and str(ident).strip():
        text += f" ({ident_column} {cut(str(ident).strip(), 40)})"
    return text
