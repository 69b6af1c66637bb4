"""How messages name things, once for every front-end: options, values, rows.

A message that tells the operator what to do names an option. Python spells it as a keyword
(``resend_unknown=True``), the command line as a flag (``--resend-unknown``), the Campaign app as
the control's label. Code writes the option once, as a key: :func:`opt` puts a marker in the
text, and each front-end renders the text in its own words with :func:`say`. Nothing below the
front-ends knows which front-end it serves.

Exceptions of the package's tree print in Python's words (``str(exc)``); ``exc.say("cli")`` (or
``say(exc, "cli")``) gives the command line's. :data:`OPTIONS` is the one table of spellings.

Examples
--------
>>> text = f"the call may have been placed; {opt('resend_unknown')} sends it again"
>>> say(text), say(text, "cli")
('the call may have been placed; resend_unknown=True sends it again', 'the call may have been placed; --resend-unknown sends it again')
>>> say(f"map it with {opt('map_region', 'Land')}"), say(f"map it with {opt('map_region', 'Land')}", "cli")
("map it with columns={'region': 'Land'}", 'map it with --map region=Land')
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["FRONTS", "MARKER", "Option", "OPTIONS", "Text", "opt", "say", "quote", "cut", "listing", "did_you_mean", "row_name",
           "MAX_SHOWN", "LINE_INDEX"]

#: The front-ends a message can be said in.
FRONTS = ("python", "cli", "widget")
#: Longest value echoed in a message before it is cut (with "…").
MAX_SHOWN = 60
#: The index name of a list read from a file: its labels are the lines the spreadsheet shows.
LINE_INDEX = "line"


@dataclass(frozen=True)
class Option:
    """One option as each front-end spells it; ``{0}``, ``{1}`` stand for the marker's arguments."""

    key: str
    python: str
    cli: str
    widget: str | None = None  # None: the app has no control for it, Python's spelling is said

    def spelled(self, front: str, arguments: tuple[str, ...] = ()) -> str:
        text = getattr(self, front) if front != "widget" or self.widget is not None else self.python
        return text.format(*arguments) if arguments or "{" in text else text


#: Every option a message may name, as Python, the command line and the Campaign app say it.
OPTIONS: dict[str, Option] = {o.key: o for o in (
    Option("again", "send again", "run the same command again", "press Send again"),
    Option("columns", "columns=", "--map", "the column choices"),
    Option("map_pair", "columns= maps {0!r}", "--map {0}={1}", "the column of {0}"),
    Option("defaults", "defaults=", "--set", "the Default inputs"),
    Option("set_pair", "defaults= sets {0!r}", "--set {0}=…", "the default of {0}"),
    Option("default_of", "defaults[{0!r}]", "--set {0}={1}", "the default of {0}"),
    Option("source", "the DataFrame", "the input file", "the list"),
    Option("name", "name=", "--name", "Campaign"),
    Option("allow_repeat", "allow_repeat=True", "--allow-repeat"),
    Option("resend_changed", "resend_changed=True", "--resend-changed"),
    Option("resend_unknown", "resend_unknown=True", "--resend-unknown"),
    Option("drop_duplicates", "drop_duplicates=True", "--drop-duplicates", "Leave out repeated callees"),
    Option("base_url", "base_url=", "--base-url", "Base URL"),
    Option("token", "the token (VoiceClient(token=...) or CM_PRODUCT_TOKEN)", "CM_PRODUCT_TOKEN", "Product token"),
    Option("dayfirst", "dayfirst=True or dayfirst=False", "--dayfirst or --monthfirst", "the Dates choice"),
    Option("date_format", "date_format=", "--date-format"),
    Option("decimal", "decimal=',' or decimal='.'", "--decimal , or --decimal .", "the Decimal sign choice"),
    Option("keep", "keep=", "--keep"),
    Option("region", "region=", "--region", "Region"),
    Option("map_region", "columns={{'region': {0!r}}}", "--map region={0}", "choosing {0} as Country column"),
    Option("calling_hours", "calling_hours=", "--calling-hours", "Calling hours"),
    Option("days", "days=", "--days", "Days"),
    Option("holidays", "holidays=", "--holidays"),
    Option("tz", "tz=", "--tz"),
    Option("no_wait", "wait=False", "--no-wait", "an unticked Wait for calling hours"),
    Option("suppress", "suppress=", "--suppress", "Do-not-call"),
    Option("allowed_countries", "allowed_countries=", "--allow-countries", "Countries"),
    Option("allow_unreadable_suppress", "allow_unreadable_suppress=True", "--allow-unreadable-suppress"),
    Option("encoding", "encoding=", "--encoding"),
    Option("encoding_of", "encoding={0!r}", "--encoding {0}"),
    Option("sep", "sep=", "--sep"),
    Option("sheet", "sheet=", "--sheet"),
    Option("prices", "prices=", "--prices", "Prices"),
    Option("rate", "rate=", "--rate", "Calls / s"),
    Option("burst", "burst=", "--burst"),
    Option("concurrency", "concurrency=", "--concurrency"),
    Option("min_gap", "min_gap=", "--after"),
    Option("max_attempts", "max_attempts=", "--max-attempts"),
    Option("outcomes", "outcomes=", "--outcomes"),
    Option("campaign", "campaign=", "--campaign"),
    Option("now", "now=", "--now"),
    Option("callback_url", "callback_url=", "--callback-url"),
    # An option whose spellings its owner keeps (the receiver's ReceiverOptions has its flags):
    # opt("named", "max_body_bytes", "--max-body-bytes").
    Option("named", "{0}=", "{1}"),
)}

# Private-use characters: nobody types them, so a marker can never be a user's text.
_OPEN, _SEP, _CLOSE = "\ue020", "\ue022", "\ue021"
#: What every marker starts with: text without it has nothing for :func:`say` to do.
MARKER = _OPEN
_MARKER = re.compile(f"{_OPEN}([a-z_]+)((?:{_SEP}[^{_SEP}{_CLOSE}]*)*){_CLOSE}")


def opt(key: str, *arguments: Any) -> str:
    """A marker naming option *key* in a message, with its *arguments* (a column, a value).

    Raises
    ------
    KeyError
        For a key :data:`OPTIONS` does not know (a typo would otherwise reach the operator).
    """
    if key not in OPTIONS:
        raise KeyError(f"no option {key!r} in cmvoice_nb.messages.OPTIONS")
    clean = "".join(_SEP + str(a).replace(_SEP, "").replace(_CLOSE, "") for a in arguments)
    return f"{_OPEN}{key}{clean}{_CLOSE}"


class Text(str):
    """A message in Python's words that can still be said in another front-end's: ``text.say("cli")``.

    Examples
    --------
    >>> note = Text(f"map it with {opt('map_region', 'Land')}")
    >>> note, note.say("cli")
    ("map it with columns={'region': 'Land'}", 'map it with --map region=Land')
    """

    template: str

    def __new__(cls, template: str) -> "Text":
        template = template.template if isinstance(template, Text) else str(template)
        text = super().__new__(cls, say(template))
        text.template = template
        return text

    def say(self, front: str = "python") -> str:
        return say(self.template, front)


def say(text: Any, front: str = "python") -> str:
    """*text* (a message, or an exception) with every option said as *front* says it.

    Examples
    --------
    >>> say(f"fix it with {opt('columns')}", "widget")
    'fix it with the column choices'
    >>> say(ValueError(f"use {opt('sep')}"), "cli")
    'use --sep'
    >>> [say(opt("map_pair", "calee", "Phone"), front) for front in ("python", "cli")]
    ["columns= maps 'calee'", '--map calee=Phone']
    """
    if front not in FRONTS:
        raise ValueError(f"front must be one of {', '.join(FRONTS)}, got {front!r}")
    if isinstance(text, BaseException):
        text = Exception.__str__(text)
    elif isinstance(text, Text):
        text = text.template
    text = "" if text is None else str(text)
    if _OPEN not in text:
        return text

    def spell(match: re.Match) -> str:
        arguments = tuple(match.group(2).split(_SEP)[1:]) if match.group(2) else ()
        return OPTIONS[match.group(1)].spelled(front, arguments)

    return _MARKER.sub(spell, text)


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
