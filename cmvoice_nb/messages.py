"""How messages name things, once for every front-end: options, values, rows.

A message that tells the operator what to do names an option. Python spells it as a keyword
(``resend_unknown=True``), the command line as a flag (``--resend-unknown``), the Campaign app as
the control's label. Code writes the option once, as a key: :func:`opt` puts a marker in the
text, and each front-end renders the text in its own words with :func:`say`. Nothing below the
front-ends knows which front-end it serves.

Exceptions of the package's tree print in Python's words (``str(exc)``); ``exc.say("cli")`` (or
``say(exc, "cli")``) gives the command line's. :data:`OPTIONS` is the one table of spellings; for
the options every sending command shares it also holds what ``--help`` says of them and how the
command line reads them, so ``cmvoice send`` and ``cmvoice followup`` build their parsers from it
(:func:`command_options`) and the Campaign app takes its labels from it.

Examples
--------
>>> text = f"the call may have been placed; {opt('resend_unknown')} sends it again"
>>> say(text), say(text, "cli")
('the call may have been placed; resend_unknown=True sends it again', '... placed; --resend-unknown sends it again')
>>> say(f"map it with {opt('map_region', 'Land')}"), say(f"map it with {opt('map_region', 'Land')}", "cli")
("map it with columns={'region': 'Land'}", 'map it with --map region=Land')
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .spec import DEFAULT_BURST, DEFAULT_CONCURRENCY, DEFAULT_HTTP_ATTEMPTS, DEFAULT_RATE

__all__ = ["FRONTS", "MARKER", "Option", "OPTIONS", "Text", "opt", "say", "quote", "cut", "listing", "decimal_number",
           "did_you_mean", "row_name",
           "MAX_SHOWN", "LINE_INDEX", "SENDING", "command_options"]

#: The front-ends a message can be said in.
FRONTS = ("python", "cli", "widget")
#: Longest value echoed in a message before it is cut (with "…").
MAX_SHOWN = 60
#: The index name of a list read from a file: its labels are the lines the spreadsheet shows.
LINE_INDEX = "line"


@dataclass(frozen=True)
class Option:
    """One option as each front-end spells it; ``{0}``, ``{1}`` stand for the marker's arguments.

    An option some ``cmvoice`` commands read also says which (*commands*), what ``--help`` says of
    it (*help*), its ``--help`` section (*group*) and the rest of how argparse reads it (*arg*:
    ``type``, ``default``, ``metavar``, ``action``...); its value lands in ``args.<key>``.
    """

    key: str
    python: str
    cli: str
    widget: str | None = None  # None: the app has no control for it, Python's spelling is said
    help: str | None = None
    commands: tuple[str, ...] = ()
    group: str | None = None
    arg: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def spelled(self, front: str, arguments: tuple[str, ...] = ()) -> str:
        text = getattr(self, front) if front != "widget" or self.widget is not None else self.python
        return text.format(*arguments) if arguments or "{" in text else text


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]+)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?")


def decimal_number(text: str) -> float:
    """A number as an operator types it in a flag: ``0.1`` or ``0,1`` (the decimal comma of NL, DE, BE, FR).

    The command line's reader of every number that may have a fraction (``type=decimal_number``).
    One decimal sign and no thousands separator: ``1.234,5`` is refused rather than guessed, and
    so are ``nan`` and ``inf``, which ``float`` would take.

    Examples
    --------
    >>> decimal_number("0,1"), decimal_number("25.50"), decimal_number("-20"), decimal_number("1e3")
    (0.1, 25.5, -20.0, 1000.0)
    >>> decimal_number("1.234,5")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: '1.234,5' is not a number: write it with one decimal sign and no thousands \
separator, e.g. 1234.5 or 1234,5
    """
    import argparse

    value = str(text).strip()
    if not _DECIMAL.fullmatch(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number: write it with one decimal sign and no thousands "
                                         "separator, e.g. 1234.5 or 1234,5")
    return float(value.replace(",", "."))


#: The commands that send a campaign or a wave: every option that applies to a wave is theirs alike.
SENDING = ("send", "followup")
_HOURS = "calling hours, do-not-call lists, countries and cost"
_PACE = "pacing and the target"
_FLAG = {"action": "store_true"}
_AB = "A/B tests and opt-out"

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
    Option("allow_repeat", "allow_repeat=True", "--allow-repeat", None,
           "call people this journal (or an earlier row) already called (CALLS THEM AGAIN)", SENDING, None, _FLAG),
    Option("resend_changed", "resend_changed=True", "--resend-changed", None,
           "send rows whose content changed since they were sent (CALLS THEM AGAIN)", ("send",), None, _FLAG),
    Option("resend_unknown", "resend_unknown=True", "--resend-unknown", None,
           "send rows whose earlier outcome was unknown again (MAY CALL SOMEONE TWICE)", ("send",), None, _FLAG),
    Option("drop_duplicates", "drop_duplicates=True", "--drop-duplicates", "Leave out repeated callees",
           "leave out rows whose callee appeared in an earlier row (they end dropped: final)", ("send",), None,
           _FLAG),
    Option("base_url", "base_url=", "--base-url", "Base URL",
           "API base URL (default: CMVOICE_BASE_URL, then the provider's); a host that is not loopback is the "
           "real API", SENDING, _PACE),
    Option("token", "the token (VoiceClient(token=...) or CM_PRODUCT_TOKEN)", "CM_PRODUCT_TOKEN", "Product token"),
    Option("dayfirst", "dayfirst=True or dayfirst=False", "--dayfirst or --monthfirst", "the Dates choice"),
    Option("date_format", "date_format=", "--date-format"),
    Option("decimal", "decimal=',' or decimal='.'", "--decimal , or --decimal .", "the Decimal sign choice"),
    Option("keep", "keep=", "--keep"),
    Option("region", "region=", "--region", "Region",
           "the default country of national numbers, the list's and the do-not-call list's alike (e.g. NL: "
           "0612345678 is +31612345678)", SENDING, _HOURS),
    Option("map_region", "columns={{'region': {0!r}}}", "--map region={0}", "choosing {0} as Country column"),
    Option("calling_hours", "calling_hours=", "--calling-hours", "Calling hours",
           "call each row only inside this window of the callee's local time (e.g. 09:00-20:00; 20:00-08:00 "
           "crosses midnight); rows outside wait for it", SENDING, _HOURS, {"metavar": "HH:MM-HH:MM"}),
    Option("days", "days=", "--days", "Days",
           "days the window opens on (default mon-fri; e.g. mon,wed,fri, all)", SENDING, _HOURS),
    Option("holidays", "holidays=", "--holidays", "Holidays",
           "dates nobody is called on: a TXT of YYYY-MM-DD lines or a CSV with date[,country]", SENDING, _HOURS,
           {"metavar": "FILE"}),
    Option("tz", "tz=", "--tz", "Time zone",
           "the callees' time zone (IANA, e.g. Europe/Amsterdam) instead of the numbers' own", SENDING, _HOURS,
           {"metavar": "ZONE"}),
    Option("public_holidays", "public_holidays=True", "--public-holidays", "Public holidays",
           "nobody is called on a public holiday of their own number's country (the holidays package; a "
           "subdivision's with --map subdivision=COLUMN); combines with --holidays", SENDING, _HOURS, _FLAG),
    Option("map_subdivision", "columns={{'subdivision': {0!r}}}", "--map subdivision={0}",
           "choosing {0} as Subdivision column"),
    Option("valid_until", "valid_until=", "--valid-until", "Valid until",
           "a row not placed by this time (ISO, e.g. 2026-04-27T18:00+02:00) ends expired and is never sent later",
           SENDING, _HOURS, {"metavar": "TIME"}),
    Option("valid_for", "valid_for=", "--valid-for", "Valid for",
           "a row not placed within this long (e.g. 30m, 2h, 1d) of its first registration in its wave ends "
           "expired and is never sent later; an OTP campaign defaults to 10m, 'none' turns it off",
           SENDING, _HOURS, {"metavar": "DURATION"}),
    Option("no_wait", "wait=False", "--no-wait", "an unticked Wait for calling hours",
           "do not wait for calling hours: rows outside them end deferred (exit 75); run again later to send them",
           SENDING, _HOURS, _FLAG),
    Option("suppress", "suppress=", "--suppress", "Do-not-call",
           "do-not-call list (TXT, one number per line, or CSV with a number column; UTF-8, UTF-16 or cp1252): "
           "listed people are suppressed and never called, whatever else is wrong with their row. A list of "
           "which none, or more than 1 %%, of the entries are phone numbers stops before any call (exit 2)",
           SENDING, _HOURS, {"metavar": "FILE"}),
    Option("allowed_countries", "allowed_countries=", "--allow-countries", "Countries",
           "only call numbers of these countries (ISO codes, e.g. NL,BE); others end refused-country",
           SENDING, _HOURS, {"metavar": "CC,CC"}),
    Option("allow_unreadable_suppress", "allow_unreadable_suppress=True", "--allow-unreadable-suppress", None,
           "go on when the --suppress list has unreadable entries, holding back only the numbers that could be read",
           SENDING, _HOURS, _FLAG),
    Option("contacts", "contacts=", "--contacts", "Contact ledger",
           "the contact ledger (SQLite, shared by campaigns): every placed call is recorded per person",
           SENDING, _HOURS, {"metavar": "FILE"}),
    Option("max_contacts", "max_contacts=", "--max-contacts", "Contacts cap",
           "at most N calls per person in a period across every campaign of --contacts (e.g. 1/7d, 2/24h); "
           "a call past it ends over-contacted (final)", SENDING, _HOURS, {"metavar": "N/PERIOD"}),
    Option("encoding", "encoding=", "--encoding"),
    Option("encoding_of", "encoding={0!r}", "--encoding {0}"),
    Option("sep", "sep=", "--sep"),
    Option("sheet", "sheet=", "--sheet"),
    Option("prices", "prices=", "--prices", "Prices",
           "price table CSV country,price_per_minute[,setup] (* for any other country): the estimate's and "
           "the budget's cost", SENDING, _HOURS, {"metavar": "FILE"}),
    Option("max_cost", "max_cost=", "--max-cost", "Budget",
           "the campaign's budget, every wave together, in the currency of --prices (needs --prices): every "
           "call placed counts at its estimated upper bound (the full talk time); a call that would take the "
           "total past it is not placed and its row ends budget (exit 1); run again with a higher budget to go on",
           SENDING, _HOURS, {"type": decimal_number, "metavar": "AMOUNT"}),
    Option("rate", "rate=", "--rate", "Calls / s",
           f"calls per second (default {DEFAULT_RATE:g}, a hard ceiling per second)", SENDING, _PACE,
           {"type": decimal_number}),
    Option("burst", "burst=", "--burst", None,
           f"calls that may start back to back (default {DEFAULT_BURST})", SENDING, _PACE, {"type": int}),
    Option("concurrency", "concurrency=", "--concurrency", None,
           f"requests in flight (default {DEFAULT_CONCURRENCY})", SENDING, _PACE, {"type": int}),
    Option("max_live_calls", "max_live_calls=", "--max-live-calls", "Live calls",
           "at most N calls alive at once (apart from --concurrency, which counts HTTP requests): a call counts "
           "from its placement until its callback (--callbacks) or its longest possible duration",
           SENDING, _PACE, {"type": int, "metavar": "N"}),
    # followup reads --callbacks already (the earlier waves' outcomes, the same logs).
    Option("callbacks", "callbacks=", "--callbacks", None,
           "the callback receiver's logs (files or folders), read while sending to know when calls end "
           "(for --max-live-calls)", ("send",), _PACE, {"nargs": "+", "metavar": "LOG"}),
    Option("http_attempts", "retry=RetryPolicy(max_attempts=...)", "--http-attempts", None,
           f"HTTP requests per row for 429/503/connection refused, the first included (default "
           f"{DEFAULT_HTTP_ATTEMPTS})", SENDING, _PACE, {"type": int, "default": DEFAULT_HTTP_ATTEMPTS}),
    Option("callback_url", "callback_url=", "--callback-url", "Callback URL",
           "where the provider POSTs the call events (a follow-up wave: instead of the URL its rows were first "
           "sent with; \"\" for the account's configured URL). On the real API a loopback, private or "
           "link-local address is refused (exit 2): the provider cannot reach it", SENDING, _PACE,
           {"metavar": "URL"}),
    Option("allow_private_callback_url", "allow_private_callback_url=True", "--allow-private-callback-url",
           "Callback URL reachable through a tunnel or VPN",
           "send to the real API with a callback URL on a loopback, private or link-local address: it is "
           "reachable through a tunnel or VPN", SENDING, _PACE, _FLAG),
    Option("variants", "variants=", "--variant", "Variants",
           "an A/B prompt variant's field, NAME:FIELD=VALUE (repeatable; e.g. A:prompt='Hallo {naam}' "
           "B:prompt='Goedemiddag {naam}'): each person gets one variant, by a hash of --seed and their number, "
           "the same on every run and wave; its fields win over --set and the list's columns",
           ("send",), _AB, {"action": "append", "metavar": "NAME:FIELD=VALUE"}),
    Option("holdout", "holdout=", "--holdout", "Holdout",
           "share of people held out of the A/B test (e.g. 0.1): planned, never called (status holdout, final)",
           ("send",), _AB, {"type": decimal_number, "metavar": "SHARE"}),
    Option("seed", "seed=", "--seed", "Seed",
           "what the A/B assignment's hash starts from (default: the campaign name); keep it for every run",
           ("send",), _AB, {"metavar": "N"}),
    Option("opt_out_digit", "opt_out_digit=", "--opt-out-digit", "Opt-out key",
           "a DTMF campaign's opt-out key (e.g. 9), kept in the journal: warned when min-digits is above 1 or no "
           "prompt mentions it (cmvoice receive --opt-out-digit writes who pressed it to a do-not-call list)",
           ("send",), _AB, {"metavar": "KEY"}),
    Option("min_gap", "min_gap=", "--after"),
    Option("max_attempts", "max_attempts=", "--max-attempts"),
    Option("outcomes", "outcomes=", "--outcomes"),
    Option("retry_ladder", "retry_ladder=", "--retry-ladder"),
    Option("campaign", "campaign=", "--campaign"),
    Option("now", "now=", "--now"),
    Option("dry_run", "dry_run=True", "--dry-run", "the Dry run box",
           "plan and match with the journal; send nothing, write no journal, no pacing", SENDING, None, _FLAG),
    Option("no_progress", "progress=False", "--no-progress", None, "no progress bar", SENDING, None, _FLAG),
    # An option whose spellings its owner keeps (the receiver's ReceiverOptions has its flags):
    # opt("named", "max_body_bytes", "--max-body-bytes").
    Option("named", "{0}=", "{1}"),
)}


def command_options(command: str) -> list[Option]:
    """The options of :data:`OPTIONS` that ``cmvoice`` *command* reads, in the table's order.

    Examples
    --------
    >>> [o.cli for o in command_options("followup")][:3]
    ['--allow-repeat', '--base-url', '--region']
    """
    return [o for o in OPTIONS.values() if command in o.commands]


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

    def __new__(cls, template: str) -> Text:
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
