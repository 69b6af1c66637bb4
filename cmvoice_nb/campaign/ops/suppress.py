"""Do-not-call lists and allowed countries: who must never be called.

:func:`read_suppression` reads a do-not-call list in whatever shape operators keep it — a
TXT with one number per line and ``#`` comments, a CSV export with a phone column (with or
without a header), a DataFrame, a list — in any spelling (``+31 6 1234 5678``,
``0031612345678``, ``0612345678`` with ``region="NL"``, ``tel:+31-6-1234-5678``,
spreadsheet floats), normalises every number to E.164 and returns a :class:`SuppressionList`.
Files are read like call lists: the encoding detected (UTF-8 with or without a byte-order
mark, UTF-16 with one, Windows-1252), the separator sniffed.

A list is a promise that nobody on it is called, so a list that cannot be read is not
treated as a short one: when none of its entries, or more than 1 % of them, are phone
numbers, :class:`~cmvoice_nb.errors.SuppressionError` stops the campaign before any call,
naming the file and the first bad lines, unless ``allow_unreadable_suppress=True``
(``--allow-unreadable-suppress``) says to go on with the numbers that could be read. A list
with no entries at all (an empty file, a header only) is read as empty, with a warning.

:func:`check_allowed_country` makes "only NL and BE" a rule of every row (countries by
:func:`cmvoice_nb.numbers.country_of`): a row calling another country is ``refused-country``
(:func:`country_refusals` finds the problems that say so), and :func:`apply_allowed_countries` applies
the rule to a plan made without it (a follow-up wave).

Examples
--------
>>> dnc = read_suppression(["+31 6 1234 5678", "0031612345679", "tel:+32-470-12-34-56"])
>>> dnc
SuppressionList(3 numbers)
>>> "+31612345678" in dnc, "+31612345670" in dnc
(True, False)
>>> read_suppression(["+31612345678", "3.16123E+10"])
Traceback (most recent call last):
...
cmvoice_nb.errors.SuppressionError: suppress=: 1 of 2 entries is not a phone number (more than 1 %): the list ...
  item 2: '3.16123E+10': a spreadsheet turned the number into scientific notation, so its last digits are lost: ...
Fix the list, or pass allow_unreadable_suppress=True to go on with the 1 number that could be read.
>>> read_suppression(["+31612345678", "3.16123E+10"], allow_unreadable_suppress=True)
SuppressionList(1 number, 1 unreadable)
>>> check_allowed_country("+33612345678", ("NL", "BE"))
'country FR not allowed (allowed: BE, NL)'
"""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from ..._dnc import NUMBER_COLUMNS, SAMPLE_ROWS, file_entries, number_column, text_entries
from ...errors import CampaignError, SuppressionError
from ...messages import Text, opt

log = logging.getLogger(__name__)

__all__ = ["SuppressionList", "Unreadable", "read_suppression", "text_entries",
           "parse_allowed_countries", "check_allowed_country", "country_refusals", "apply_allowed_countries",
           "apply_suppression", "suppression_reason", "NUMBER_COLUMNS", "UNREADABLE_LIMIT"]

#: The share of unreadable entries above which a list is not trusted (1 %).
UNREADABLE_LIMIT = 0.01


class Unreadable(NamedTuple):
    """An entry of a do-not-call list that is not a phone number."""

    line: int | None
    value: Any
    reason: str


class SuppressionList:
    """A frozen set of E.164 numbers never to call, with what could not be read.

    Behaves like a ``frozenset`` of strings for ``in``, ``len`` and iteration; membership
    also accepts any spelling a :func:`~cmvoice_nb.numbers.normalize_number` understands.

    Attributes
    ----------
    numbers
        The normalised numbers (``frozenset`` of ``"+31612345678"`` strings).
    unreadable
        One :class:`Unreadable` per entry that is not a number (``line`` is the file's line,
        or the item's position counted from 1 for an iterable).
    source
        Where the list came from (a path, or a description).
    entries
        How many entries were read (numbers, duplicates and unreadable ones).
    region
        The region national numbers were read with.
    empty
        True when the list had no entries at all (an empty file, a header only).
    """

    def __init__(self, numbers: Iterable[str] = (), *, unreadable: Iterable[Unreadable] = (), source: str = "",
                 entries: int | None = None, region: str | None = None) -> None:
        self.numbers = frozenset(numbers)
        self.unreadable = tuple(unreadable)
        self.source = source
        self.entries = len(self.numbers) + len(self.unreadable) if entries is None else entries
        self.region = region

    def __contains__(self, number: object) -> bool:
        if not isinstance(number, (str, int, float)) or isinstance(number, bool):
            return False
        if number in self.numbers:
            return True
        from ...numbers import try_normalize

        normal, _ = try_normalize(number, region=self.region)
        return normal is not None and normal in self.numbers

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.numbers))

    def __len__(self) -> int:
        return len(self.numbers)

    def __bool__(self) -> bool:
        return bool(self.numbers)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, SuppressionList):
            return self.numbers == other.numbers
        if isinstance(other, (set, frozenset)):
            return self.numbers == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to sets: not hashable like them

    @property
    def empty(self) -> bool:
        """True when the list had no entries at all (an empty file, a header only, ``[]``)."""
        return self.entries == 0

    @property
    def duplicates(self) -> int:
        """Entries that repeat a number already in the list."""
        return self.entries - len(self.numbers) - len(self.unreadable)

    def __repr__(self) -> str:
        n = len(self.numbers)
        text = f"{n} number{'s' if n != 1 else ''}"
        if self.unreadable:
            text += f", {len(self.unreadable)} unreadable"
        if self.duplicates:
            text += f", {self.duplicates} duplicate{'s' if self.duplicates != 1 else ''}"
        return f"SuppressionList({text})"

    def report(self, limit: int = 10) -> str:
        """The counts, and the unreadable entries by line (at most *limit* shown).

        Examples
        --------
        >>> print(read_suppression(["+31612345678", "n/a", ""], allow_unreadable_suppress=True).report())
        do-not-call list: 1 number from 3 entries; 2 unreadable:
          item 2: 'n/a': contains letters
          item 3: '': empty
        """
        head = f"do-not-call list{f' {self.source}' if self.source else ''}: {len(self.numbers)} number" \
               f"{'s' if len(self.numbers) != 1 else ''} from {self.entries} entr{'ies' if self.entries != 1 else 'y'}"
        if not self.unreadable:
            return head
        word = "line" if self.source and not self.source.startswith("<") else "item"
        lines = [f"  {word} {u.line}: {u.value!r}: {u.reason}" for u in self.unreadable[:limit]]
        if len(self.unreadable) > limit:
            lines.append(f"  ... and {len(self.unreadable) - limit} more")
        return f"{head}; {len(self.unreadable)} unreadable:\n" + "\n".join(lines)


def read_suppression(source: Any, *, region: str | None = None,
                     allow_unreadable_suppress: bool = False) -> SuppressionList:
    """Read a do-not-call list into a :class:`SuppressionList`; refuse one that cannot be trusted.

    Parameters
    ----------
    source
        A path (``str``/``PathLike``) of a TXT (one number per line; ``#`` starts a comment)
        or a CSV, with or without a header (the number column is one named like
        :data:`NUMBER_COLUMNS`, else the column that looks most like phone numbers), in
        UTF-8, UTF-16 (Excel's "Unicode text") or Windows-1252; a pandas DataFrame (same
        column rule) or Series; an iterable of numbers in any spelling; or a
        :class:`SuppressionList` (returned as is).
    region
        ISO country code for national numbers (``0612345678`` with ``"NL"``).
    allow_unreadable_suppress
        Go on with the numbers that could be read when none, or more than 1 %, of the
        entries are phone numbers (the unreadable ones are in :attr:`SuppressionList.unreadable`).

    Raises
    ------
    SuppressionError
        None, or more than 1 %, of the entries are phone numbers (and
        *allow_unreadable_suppress* is not set): the message names the list, the counts and
        the first bad lines with their reason.
    CampaignError
        The file is missing or unreadable as a whole, or a CSV has no number column.

    Notes
    -----
    A list with no entries at all (an empty file, a header only, ``[]``) is read as empty
    (:attr:`SuppressionList.empty`) and logged as a warning.

    Examples
    --------
    >>> dnc = read_suppression(["0612345678", 31612345679.0, "+32 470 12 34 56"], region="NL")
    >>> sorted(dnc)
    ['+31612345678', '+31612345679', '+32470123456']
    """
    import numpy as np
    import pandas as pd

    from ...numbers import normalize_numbers

    name = opt("suppress")
    if isinstance(source, SuppressionList):
        return source
    if source is None:
        return SuppressionList(source="<none>", region=region)
    if isinstance(source, (str, os.PathLike)):
        where = os.fspath(source)
        lines, values = file_entries(Path(where), name)
    elif isinstance(source, pd.DataFrame):
        cols = [str(c) for c in source.columns]
        # Cells as Python text, not astype(str): an arrow-backed string column refuses lone surrogates.
        sample = [[str(v) for v in row] for row in source.head(SAMPLE_ROWS).itertuples(index=False, name=None)]
        col = number_column(cols, sample) if len(cols) else None
        if col is None:
            raise CampaignError(f"{name}: the DataFrame has no column of phone numbers "
                                f"(name it one of {', '.join(NUMBER_COLUMNS[:3])})")
        values = source.iloc[:, col].to_numpy(dtype=object)
        lines = np.arange(1, len(values) + 1)
        where = f"<DataFrame column {cols[col]!r}>"
    elif isinstance(source, (bytes, bytearray)):
        raise CampaignError(f"{name} must be a path or numbers, got bytes")
    else:
        if isinstance(source, pd.Series):
            values = source.to_numpy(dtype=object)
        else:
            try:
                values = list(source)
            except TypeError:
                raise CampaignError(f"{name} must be a file path or an iterable of numbers, "
                                    f"got {type(source).__name__}") from None
        lines = np.arange(1, len(values) + 1)
        where = "<list>"
    numbers, reasons = normalize_numbers(values, region=region)
    found = pd.notna(numbers)
    bad = np.flatnonzero(~found)
    cells = values if isinstance(values, np.ndarray) else None
    unreadable = [Unreadable(int(lines[i]), cells[i] if cells is not None else values[i], reasons[i]) for i in bad]
    dnc = SuppressionList(numbers[found].tolist(), unreadable=unreadable, source="" if where.startswith("<") else where,
                          entries=len(numbers), region=region)
    _check_trust(dnc, name=name, allow=allow_unreadable_suppress)
    return dnc


def _check_trust(dnc: SuppressionList, *, name: str, allow: bool) -> None:
    """Raise SuppressionError for a list too unreadable to trust; warn about one with no entries."""
    where = f"{name}: {dnc.source}" if dnc.source else name
    if dnc.empty:
        log.warning("%s: the do-not-call list has no entries (an empty file or a header only): nobody is held back "
                    "by it", Text(where))
        return
    bad, n = len(dnc.unreadable), dnc.entries
    if not bad or allow or bad <= UNREADABLE_LIMIT * n:
        return
    if bad == n:
        counts = "its only entry is not a phone number" if n == 1 else f"none of its {n} entries is a phone number"
    else:
        what = "is not a phone number" if bad == 1 else "are not phone numbers"
        counts = f"{bad} of {n} entries {what} (more than {UNREADABLE_LIMIT:.0%})".replace("%", " %")
    word, words = ("line", "lines") if dnc.source else ("item", "entries")
    shown = [f"  {word} {u.line}: {_shown(u.value)}: {u.reason}" for u in dnc.unreadable[:5]]
    if bad > 5:
        shown.append(f"  ... and {bad - 5} more")
    kept = len(dnc)
    go_on = (f"to go on with the {kept} number{'s' if kept != 1 else ''} that could be read" if kept
             else "to go on without it (nobody is held back by it)")
    raise SuppressionError(
        f"{where}: {counts}: the list cannot be trusted, so the campaign stops before any call. "
        f"First bad {words}:\n" + "\n".join(shown)
        + f"\nFix the list, or pass {opt('allow_unreadable_suppress')} {go_on}.",
        source=dnc.source or where, entries=n, unreadable=dnc.unreadable)


def _shown(value: Any) -> str:
    from ...errors import shorten

    return shorten(repr(value), 60)


def parse_allowed_countries(allowed: Any) -> frozenset[str] | None:
    """``"NL,BE"`` or ``("NL", "BE")`` as a set of ISO codes; None (no restriction) for None/empty.

    Examples
    --------
    >>> sorted(parse_allowed_countries("nl, be"))
    ['BE', 'NL']
    >>> parse_allowed_countries("NL,Belgium")
    Traceback (most recent call last):
    ...
    cmvoice_nb.errors.CampaignError: allowed_countries=: 'Belgium' is not a two-letter ISO country code (e.g. NL, BE)
    """
    import phonenumbers

    name = opt("allowed_countries")
    if allowed is None:
        return None
    items = re.split(r"[,;\s]+", allowed) if isinstance(allowed, str) else list(allowed)
    codes = set()
    known = phonenumbers.SUPPORTED_REGIONS
    for item in items:
        code = str(item).strip().upper()
        if not code:
            continue
        if code not in known:
            raise CampaignError(f"{name}: {str(item).strip()!r} is not a two-letter ISO country code (e.g. NL, BE)")
        codes.add(code)
    return frozenset(codes) or None


def check_allowed_country(e164: Any, allowed: Any) -> str | None:
    """The problem message when *e164*'s country is not in *allowed*; None when it is (or no restriction).

    The message starts ``country XX not allowed``; an unknown country reads ``country unknown``.

    Examples
    --------
    >>> check_allowed_country("+32470123456", ("NL", "BE")) is None
    True
    >>> check_allowed_country("+33612345678", "NL")
    'country FR not allowed (allowed: NL)'
    """
    codes = allowed if isinstance(allowed, frozenset) else parse_allowed_countries(allowed)
    if not codes:
        return None
    from ...numbers import country_of

    country = country_of(e164)
    listed = ", ".join(sorted(codes))
    if country is None:
        return f"country unknown, {_REFUSED}{listed})"
    if country not in codes:
        return f"country {country} {_REFUSED}{listed})"
    return None


#: What every refusal of :func:`check_allowed_country` says, and :func:`country_refusals` looks for.
_REFUSED = "not allowed (allowed: "


def country_refusals(problems: Any) -> list:
    """The problems of a row (:class:`~cmvoice_nb.instructions.Problem`) that refuse a callee's country.

    Examples
    --------
    >>> from cmvoice_nb.instructions import Problem
    >>> found = country_refusals([Problem("prompt", "", "is required"),
    ...                           Problem("callee", "+33612345678", check_allowed_country("+33612345678", "NL"))])
    >>> [p.value for p in found]
    ['+33612345678']
    """
    return [p for p in problems or () if p.field in ("callee", "callees") and isinstance(p.message, str)
            and p.message.startswith("country ") and _REFUSED in p.message]


def apply_allowed_countries(plan: Any, allowed: Any) -> Any:
    """A copy of *plan* whose rows calling a number outside *allowed* carry the refusal (``refused-country``).

    For a plan made without ``allowed_countries=`` (a follow-up wave: its rows are the payloads
    the journal stored). The input plan is not changed; ``None`` (no restriction) returns it.

    Examples
    --------
    >>> import pandas as pd
    >>> from cmvoice_nb.campaign import plan_campaign
    >>> plan = plan_campaign(pd.DataFrame({"callee": ["+31612345610", "+33612345611"]}), app="notification",
    ...                      name="c", defaults={"caller": "+31201234567", "prompt": "Hi", "prompt-type": "TTS"})
    >>> [len(country_refusals(r.problems)) for r in apply_allowed_countries(plan, "NL").rows]
    [0, 1]
    """
    import copy

    from ...instructions import Problem

    codes = parse_allowed_countries(allowed)
    if not codes:
        return plan
    rows = []
    for r in plan.rows:
        new = copy.copy(r)
        new.problems = list(r.problems)
        numbers = [n for n in str(r.callee or "").split(";") if n.strip()]
        for number in numbers:
            message = check_allowed_country(number.strip(), codes)
            if message:
                new.problems.append(Problem("callees" if len(numbers) > 1 else "callee", number.strip(), message))
        rows.append(new)
    options = dict(plan.options)
    options["allowed_countries"] = tuple(sorted(codes))
    return plan.replace(rows=rows, options=options)


def suppression_reason(callee: Any, dnc: SuppressionList) -> str | None:
    """Why a row calling *callee* (``;``-separated numbers allowed) must not be sent, or None.

    Examples
    --------
    >>> dnc = read_suppression(["+31612345678"])
    >>> suppression_reason("+31612345678", dnc), suppression_reason("+31612345670", dnc)
    ('+31612345678 is on the do-not-call list', None)
    """
    numbers = callee if isinstance(callee, (list, tuple)) else str(callee or "").split(";")
    listed = [n.strip() for n in numbers if n and str(n).strip() and str(n).strip() in dnc]
    if not listed:
        return None
    where = f" {dnc.source}" if dnc.source else ""
    return f"{', '.join(listed)} {'is' if len(listed) == 1 else 'are'} on the do-not-call list{where}"


def apply_suppression(plan: Any, suppress: Any, *, region: str | None = None,
                      allow_unreadable_suppress: bool = False) -> Any:
    """A copy of *plan* whose rows calling a number of *suppress* are ``suppressed`` (never sent).

    The input plan is not changed. Usable on any :class:`~cmvoice_nb.campaign.CampaignPlan`
    (a first campaign or a follow-up wave). A row calling several numbers is suppressed when
    any of them is listed; a listed person is suppressed whatever else is wrong with the row
    (an invalid field, a refused country), so the count of people held back is the list's. The plan's
    ``options["suppress"]`` records the list's description, so the sender knows this run had a list (a row the
    journal holds as ``suppressed`` and that is no longer listed is then sent; without any list the journal's
    ``suppressed`` stands).

    Parameters
    ----------
    plan
        A :class:`~cmvoice_nb.campaign.CampaignPlan`.
    suppress
        What :func:`read_suppression` reads (path, DataFrame, iterable, :class:`SuppressionList`).
    region
        For national numbers in the list (default: the plan's ``region=``).
    allow_unreadable_suppress
        Go on when none, or more than 1 %, of the list's entries are phone numbers (see
        :func:`read_suppression`).

    Raises
    ------
    SuppressionError
        The list cannot be trusted (and *allow_unreadable_suppress* is not set).

    Examples
    --------
    >>> import pandas as pd
    >>> from cmvoice_nb.campaign import plan_campaign
    >>> plan = plan_campaign(pd.DataFrame({"callee": ["+31612345610", "+31612345611"]}), app="notification",
    ...                      name="c", defaults={"caller": "+31201234567", "prompt": "Hi", "prompt-type": "TTS"})
    >>> held = apply_suppression(plan, ["0612345611"], region="NL")
    >>> [r.suppressed for r in held.rows], int(held.summary()["to_send"])
    ([None, '+31612345611 is on the do-not-call list'], 1)
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    region = region if region is not None else plan.options.get("region")
    dnc = read_suppression(suppress, region=region, allow_unreadable_suppress=allow_unreadable_suppress)
    rows = plan.rows  # read by column: a million-row plan is not copied row by row
    callees = rows.callees()
    named = np.flatnonzero(pc.not_equal(callees, pa.scalar("")).to_numpy(zero_copy_only=False))
    reasons = {}
    for position, callee in zip(named.tolist(), callees.take(named).to_pylist(), strict=True):
        reason = suppression_reason(callee, dnc)
        if reason:
            reasons[position] = reason
    rows = rows.with_suppressed(reasons)
    options = dict(plan.options)
    options["suppress"] = repr(dnc) if not dnc.source else f"{dnc.source} ({len(dnc)} numbers)"
    options["suppress_unreadable"] = len(dnc.unreadable)
    options["suppress_entries"] = dnc.entries
    return plan.replace(rows=rows, options=options)
