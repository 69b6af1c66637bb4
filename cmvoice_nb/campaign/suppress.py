"""Do-not-call lists and allowed countries: who must never be called.

:func:`read_suppression` reads a do-not-call list in whatever shape operators keep it — a
TXT with one number per line and ``#`` comments, a CSV export with a phone column, a
DataFrame, a list — in any spelling (``+31 6 1234 5678``, ``0031612345678``,
``0612345678`` with ``region="NL"``, spreadsheet floats), normalises every number to E.164
and returns a :class:`SuppressionList`. An entry that is not a number does not stop the
reading: it is listed in :attr:`SuppressionList.unreadable` with its line.

:func:`country_of` and :func:`check_allowed_country` make "only NL and BE" a validation rule.

Examples
--------
>>> dnc = read_suppression(["+31 6 1234 5678", "0031612345679", "call me maybe"])
>>> dnc
SuppressionList(2 numbers, 1 unreadable)
>>> "+31612345678" in dnc, "+31612345670" in dnc
(True, False)
>>> check_allowed_country("+33612345678", ("NL", "BE"))
'country FR not allowed (allowed: BE, NL)'
"""
from __future__ import annotations

import csv
import io
import os
import re
from pathlib import Path
from typing import Any, Iterable, Iterator, NamedTuple

from ..errors import CampaignError

__all__ = ["SuppressionList", "Unreadable", "read_suppression", "country_of", "parse_allowed_countries",
           "check_allowed_country", "apply_suppression", "suppression_reason", "NUMBER_COLUMNS"]

#: Column names taken as the number column of a CSV or DataFrame, in order of preference.
NUMBER_COLUMNS = ("number", "callee", "phone", "msisdn", "mobile", "telephone", "tel", "phone_number",
                  "phonenumber", "phone number", "nummer", "telefoon", "telefoonnummer", "numero")
_OPTION = {"python": {"suppress": "suppress=", "allowed_countries": "allowed_countries=", "region": "region="},
           "cli": {"suppress": "--suppress", "allowed_countries": "--allow-countries", "region": "--region"}}
_PHONEISH = re.compile(r"^[\s+()\-./\d\u00a0]{6,}$")


def _opt(interface: str, name: str) -> str:
    return _OPTION.get(interface, _OPTION["python"])[name]


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
        from ..numbers import try_normalize

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
        >>> print(read_suppression(["+31612345678", "n/a", ""]).report())
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


def _number_column(columns: list[str], rows: list[list[str]]) -> int | None:
    """The index of the number column: by name first, else the column most cells of which look like numbers."""
    lowered = [str(c).strip().lower() for c in columns]
    for name in NUMBER_COLUMNS:
        if name in lowered:
            return lowered.index(name)
    scores = [sum(1 for r in rows if i < len(r) and _PHONEISH.match(str(r[i]).strip() or "x")) for i in range(len(columns))]
    best = max(range(len(columns)), key=lambda i: scores[i]) if columns else None
    return best if best is not None and scores[best] > 0 else None


def _read_file(path: Path, name: str) -> tuple[list[tuple[int | None, Any]], str]:
    if not path.exists():
        raise CampaignError(f"{name}: {path}: no such file")
    if not path.is_file():
        raise CampaignError(f"{name}: {path}: not a regular file; give the CSV or TXT file of numbers")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CampaignError(f"{name}: {path}: cannot read ({exc.strerror or exc})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Numbers are ASCII: a list saved as cp1252 only differs in comments and names.
        text = data.decode("cp1252", errors="replace")
    lines = text.splitlines()
    content = [(i, ln) for i, ln in enumerate(lines, 1) if ln.strip() and not ln.lstrip().startswith("#")]
    if not content:
        return [], str(path)
    first = content[0][1]
    sep = next((s for s in (",", ";", "\t", "|") if s in first), None)
    if sep is None:  # one value per line (TXT), a trailing "# comment" allowed
        return [(i, ln.split("#", 1)[0].strip()) for i, ln in content], str(path)
    parsed = [(i, next(csv.reader(io.StringIO(ln), delimiter=sep))) for i, ln in content]
    header = parsed[0][1]
    has_header = not any(_PHONEISH.match(c.strip()) for c in header)
    body = parsed[1:] if has_header else parsed
    col = _number_column(header if has_header else [str(k) for k in range(len(header))], [r for _, r in body])
    if col is None:
        raise CampaignError(f"{name}: {path}: no column of phone numbers (name it one of "
                            f"{', '.join(NUMBER_COLUMNS[:3])})")
    return [(i, r[col] if col < len(r) else "") for i, r in body], str(path)


def read_suppression(source: Any, *, region: str | None = None, interface: str = "python") -> SuppressionList:
    """Read a do-not-call list into a :class:`SuppressionList`; unreadable entries are reported, not fatal.

    Parameters
    ----------
    source
        A path (``str``/``PathLike``) of a TXT (one number per line; ``#`` starts a comment) or
        a CSV (the number column is one named like :data:`NUMBER_COLUMNS`, else the column
        that looks most like phone numbers); a pandas DataFrame (same column rule) or Series;
        an iterable of numbers in any spelling; or a :class:`SuppressionList` (returned as is).
    region
        ISO country code for national numbers (``0612345678`` with ``"NL"``).
    interface
        ``"python"`` or ``"cli"``: whether messages name ``suppress=`` or ``--suppress``.

    Raises
    ------
    CampaignError
        The file is missing or unreadable as a whole, or a CSV has no number column.

    Examples
    --------
    >>> dnc = read_suppression(["0612345678", 31612345679.0, "+32 470 12 34 56"], region="NL")
    >>> sorted(dnc)
    ['+31612345678', '+31612345679', '+32470123456']
    """
    import pandas as pd

    from ..numbers import try_normalize

    name = _opt(interface, "suppress")
    if isinstance(source, SuppressionList):
        return source
    if source is None:
        return SuppressionList(source="<none>", region=region)
    if isinstance(source, (str, os.PathLike)):
        entries, where = _read_file(Path(os.fspath(source)), name)
    elif isinstance(source, pd.DataFrame):
        cols = [str(c) for c in source.columns]
        # Cells as Python text, not astype(str): an arrow-backed string column refuses lone surrogates.
        cells = [[str(v) for v in row] for row in source.itertuples(index=False, name=None)]
        col = _number_column(cols, cells) if len(cols) else None
        if col is None:
            raise CampaignError(f"{name}: the DataFrame has no column of phone numbers "
                                f"(name it one of {', '.join(NUMBER_COLUMNS[:3])})")
        entries = [(i, v) for i, v in enumerate(source.iloc[:, col].tolist(), 1)]
        where = f"<DataFrame column {cols[col]!r}>"
    elif isinstance(source, (bytes, bytearray)):
        raise CampaignError(f"{name} must be a path or numbers, got bytes")
    else:
        try:
            entries = [(i, v) for i, v in enumerate(source, 1)]
        except TypeError:
            raise CampaignError(f"{name} must be a file path or an iterable of numbers, got {type(source).__name__}") from None
        where = "<list>"
    numbers: set[str] = set()
    bad: list[Unreadable] = []
    for line, value in entries:
        normal, reason = try_normalize(value, region=region)
        if normal is None:
            bad.append(Unreadable(line, value, reason or "not a number"))
        else:
            numbers.add(normal)
    return SuppressionList(numbers, unreadable=bad, source="" if where.startswith("<") else where,
                           entries=len(entries), region=region)


def country_of(e164: Any) -> str | None:
    """ISO country code of an international number (``"NL"``), or None when unknown.

    Examples
    --------
    >>> country_of("+31612345678"), country_of("+447400123456"), country_of("+1 212 555 0123"), country_of("x")
    ('NL', 'GB', 'US', None)
    >>> country_of("+447911123456"), country_of("+14165551234")   # the territory the number belongs to
    ('GG', 'CA')
    """
    from ..numbers import number_region

    if not isinstance(e164, str):
        return None
    compact = re.sub(r"[\s\-./()]", "", e164)
    return number_region(compact)


def parse_allowed_countries(allowed: Any, *, interface: str = "python") -> frozenset[str] | None:
    """``"NL,BE"`` or ``("NL", "BE")`` as a set of ISO codes; None (no restriction) for None/empty.

    Examples
    --------
    >>> sorted(parse_allowed_countries("nl, be"))
    ['BE', 'NL']
    >>> parse_allowed_countries("NL,Belgium", interface="cli")
    Traceback (most recent call last):
    ...
    cmvoice_nb.errors.CampaignError: --allow-countries: 'Belgium' is not a two-letter ISO country code (e.g. NL, BE)
    """
    import phonenumbers

    name = _opt(interface, "allowed_countries")
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
    country = country_of(e164)
    listed = ", ".join(sorted(codes))
    if country is None:
        return f"country unknown, not allowed (allowed: {listed})"
    if country not in codes:
        return f"country {country} not allowed (allowed: {listed})"
    return None


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


def apply_suppression(plan: Any, suppress: Any, *, region: str | None = None, interface: str | None = None) -> Any:
    """A copy of *plan* whose rows calling a number of *suppress* are ``suppressed`` (never sent).

    The input plan is not changed. Usable on any :class:`~cmvoice_nb.campaign.CampaignPlan`
    (a first campaign or a follow-up wave). A row calling several numbers is suppressed when
    any of them is listed. The plan's ``options["suppress"]`` records the list's description,
    so the sender knows this run had a list (a row the journal holds as ``suppressed`` and that
    is no longer listed is then sent; without any list the journal's ``suppressed`` stands).

    Parameters
    ----------
    plan
        A :class:`~cmvoice_nb.campaign.CampaignPlan`.
    suppress
        What :func:`read_suppression` reads (path, DataFrame, iterable, :class:`SuppressionList`).
    region
        For national numbers in the list (default: the plan's ``region=``).
    interface
        ``"python"`` or ``"cli"`` for messages (default: the plan's).

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
    import copy

    interface = interface or plan.options.get("interface") or "python"
    region = region if region is not None else plan.options.get("region")
    dnc = read_suppression(suppress, region=region, interface=interface)
    rows = []
    for r in plan.rows:
        new = copy.copy(r)
        new.problems = list(r.problems)
        reason = suppression_reason(r.callee, dnc) if r.valid else None
        new.suppressed = reason or r.suppressed
        rows.append(new)
    options = dict(plan.options)
    options["suppress"] = repr(dnc) if not dnc.source else f"{dnc.source} ({len(dnc)} numbers)"
    options["suppress_unreadable"] = len(dnc.unreadable)
    return plan._replace(rows=rows, options=options)
