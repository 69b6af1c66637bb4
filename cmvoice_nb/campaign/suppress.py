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

:func:`check_allowed_country` makes "only NL and BE" a validation rule (countries by
:func:`cmvoice_nb.numbers.country_of`).

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
cmvoice_nb.errors.SuppressionError: suppress=: 1 of 2 entries is not a phone number (more than 1 %): the list cannot be trusted, so the campaign stops before any call. First bad entries:
  item 2: '3.16123E+10': a spreadsheet turned the number into scientific notation, so its last digits are lost: format the column as text in the spreadsheet and export the file again
Fix the list, or pass allow_unreadable_suppress=True to go on with the 1 number that could be read.
>>> read_suppression(["+31612345678", "3.16123E+10"], allow_unreadable_suppress=True)
SuppressionList(1 number, 1 unreadable)
>>> check_allowed_country("+33612345678", ("NL", "BE"))
'country FR not allowed (allowed: BE, NL)'
"""
from __future__ import annotations

import csv
import io
import logging
import os
import re
from pathlib import Path
from typing import Any, Iterable, Iterator, NamedTuple

from ..errors import CampaignError, SuppressionError
from ..messages import Text, opt

log = logging.getLogger(__name__)

__all__ = ["SuppressionList", "Unreadable", "read_suppression", "text_entries",
           "parse_allowed_countries", "check_allowed_country", "apply_suppression", "suppression_reason",
           "NUMBER_COLUMNS", "UNREADABLE_LIMIT"]

#: Column names taken as the number column of a CSV or DataFrame, in order of preference.
NUMBER_COLUMNS = ("number", "callee", "phone", "msisdn", "mobile", "telephone", "tel", "phone_number",
                  "phonenumber", "phone number", "nummer", "telefoon", "telefoonnummer", "numero")
#: The share of unreadable entries above which a list is not trusted (1 %).
UNREADABLE_LIMIT = 0.01
# A cell that is meant as a phone number: digits and separators, a tel: URI, or what a
# spreadsheet made of one (3.16123E+10), which must be found to be refused by its line.
_PHONEISH = re.compile(r"^(?:(?:tel:)?[\s+()\-./\d\u00a0]{6,}(?:;.*)?|\+?\d+(?:[.,]\d+)?[eE][+-]?\d+)$",
                       re.IGNORECASE)
# What is not a field separator when telling a one-number-per-line file from a CSV: the
# parameters of a tel: URI (tel:+31...;ext=12), the decimal comma of 3,16123E+10, a comment.
_NOT_A_SEPARATOR = re.compile(r";(?=(?:ext|isub|phone-context|tgrp|trunk-context|npdi|rn|cic)\b)"
                              r"|(?<=\d),(?=\d+[eE][+-]?\d)|\s#.*$", re.IGNORECASE)


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


def _number_column(columns: list[str], rows: list[list[str]]) -> int | None:
    """The index of the number column: by name first, else the column most cells of which look like numbers."""
    lowered = [str(c).strip().lower() for c in columns]
    for name in NUMBER_COLUMNS:
        if name in lowered:
            return lowered.index(name)
    scores = [sum(1 for r in rows if i < len(r) and _PHONEISH.match(str(r[i]).strip() or "x")) for i in range(len(columns))]
    best = max(range(len(columns)), key=lambda i: scores[i]) if columns else None
    return best if best is not None and scores[best] > 0 else None


#: Rows the number column is chosen on (by content, when no column has a number's name).
_SAMPLE_ROWS = 1000
#: Characters the separator is sniffed on.
_SNIFF_CHARS = 64 * 1024
# A line that is no entry: blank (whitespace only) or a comment.
_SKIPPED_LINE = re.compile(r"(?m)^[^\S\n]*(?:#|$)")


def _file_entries(path: Path, name: str) -> tuple[Any, Any]:
    """(line numbers, values) of a do-not-call file: its text decoded, a TXT or a CSV."""
    from .inputs import decode_text

    if not path.exists():
        raise CampaignError(f"{name}: {path}: no such file")
    if not path.is_file():
        raise CampaignError(f"{name}: {path}: not a regular file; give the CSV or TXT file of numbers")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CampaignError(f"{name}: {path}: cannot read ({exc.strerror or exc})") from None
    text, _ = decode_text(data, name=f"{name}: {path}", option=False)
    return text_entries(text, name=f"{name}: {path}")


def text_entries(text: str, *, name: str = "the list") -> tuple[Any, Any]:
    """The entries of a do-not-call list's text: ``(line numbers, values)``, numpy arrays.

    Blank lines and lines starting with ``#`` are not entries. A text whose first line holds
    no field separator (``, ; TAB |``; the ``;`` of a ``tel:`` URI's parameters and the
    comma of ``3,16123E+10`` are none) has one value per line, a ``#`` starting a comment;
    a first line without a digit is its header. Otherwise it is a CSV, the separator sniffed
    as for call lists (:func:`~cmvoice_nb.campaign.inputs.sniff_separator`): a first row
    without a phone-like cell is its header, and the number column is the one named like
    :data:`NUMBER_COLUMNS`, else the one that looks most like phone numbers. Rows with no
    text at all (``;;;`` at the end of a spreadsheet export) are not entries. Line numbers
    are the text's own lines (a header is line 1).

    Examples
    --------
    >>> lines, values = text_entries("Telefoonnummer;Naam\\r\\n+31 6 1234 5678;Jan\\r\\n\\r\\n0612345679;Piet\\r\\n")
    >>> lines.tolist(), values.tolist()
    ([2, 4], ['+31 6 1234 5678', '0612345679'])
    >>> text_entries("# opt-outs\\ntel:+31612345678;ext=12\\n+32 470 12 34 56   # by phone\\n")[1].tolist()
    ['tel:+31612345678;ext=12', '+32 470 12 34 56']
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from .inputs import sniff_separator, unify_line_ends

    body = unify_line_ends(text).rstrip("\n")  # empty lines at the end are no entries and move no line
    if _SKIPPED_LINE.search(body):
        # Blank or comment lines between the entries: the others are found, and keep their numbers.
        lines = body.split("\n")
        trimmed = pc.utf8_trim_whitespace(pa.array(lines, type=pa.large_string()))
        keep = pc.and_(pc.greater(pc.utf8_length(trimmed), 0), pc.invert(pc.starts_with(trimmed, "#")))
        at = np.flatnonzero(keep.to_numpy(zero_copy_only=False))
        if not len(at):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
        content: list[str] | None = [lines[i] for i in at]
        head = content[:50]
    else:  # every line an entry (most exports): no line-by-line work
        if not body:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
        at = np.arange(body.count("\n") + 1)
        content = None
        head = body[:_SNIFF_CHARS].split("\n")[:50]
    if not any(sep in _NOT_A_SEPARATOR.sub("", head[0]) for sep in _SEPARATORS):
        # One value per line; "#" starts a comment.
        values = pa.array(content if content is not None else body.split("\n"), type=pa.large_string())
        values = pc.utf8_trim_whitespace(values)
        if pc.any(pc.match_substring(values, "#")).as_py():
            values = pc.utf8_trim_whitespace(pc.replace_substring_regex(values, "#.*$", ""))
        if pc.any(pc.match_substring(values, '"')).as_py():  # a one-column CSV export may quote its cells
            quoted = pc.match_substring_regex(values, '^".*"$')
            inner = pc.replace_substring(pc.replace_substring_regex(values, '^"(.*)"$', r"\1"), '""', '"')
            values = pc.if_else(quoted, pc.utf8_trim_whitespace(inner), values)
        values = values.to_numpy(zero_copy_only=False)
        if not any(c.isdigit() for c in values[0]):  # a header: "Telefoonnummer", "phone"
            at, values = at[1:], values[1:]
        return at + 1, values
    sep = sniff_separator("\n".join(_NOT_A_SEPARATOR.sub("", ln) for ln in head))
    columns = _csv_columns("\n".join(content) if content is not None else body, sep, len(at))
    header = [str(c[0].as_py()) for c in columns]
    has_header = not any(_PHONEISH.match(c.strip()) for c in header)
    start = 1 if has_header else 0
    names = header if has_header else [str(k) for k in range(len(header))]
    sample = [list(r) for r in zip(*(c.slice(start, _SAMPLE_ROWS).to_pylist() for c in columns))]
    col = _number_column(names, sample)
    if col is None:
        raise CampaignError(f"{name}: no column of phone numbers (name it one of {', '.join(NUMBER_COLUMNS[:3])})")
    values = columns[col].slice(start)
    blank = np.flatnonzero(pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(values)), 0).to_numpy(zero_copy_only=False))
    keep = np.ones(len(values), dtype=bool)
    for i in blank:  # ";;;" (a spreadsheet's formatted but empty rows): no entry at all
        keep[i] = any(str(c[start + i].as_py()).strip() for c in columns)
    return at[start:][keep] + 1, values.to_numpy(zero_copy_only=False)[keep]


_SEPARATORS = ",;\t|"


def _csv_columns(text: str, sep: str, rows: int) -> list[Any]:
    """The columns (pyarrow string arrays, ``""`` for a missing cell) of CSV *text*, one row per line.

    *text* holds *rows* lines, none of them blank. pyarrow's parser first (fast); pandas' where
    rows are shorter than the first; the csv module line by line where a quoted cell spans
    lines or a row is longer than the first, so that every row keeps its own line number.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv as pacsv

    width = len(next(csv.reader([text[:text.find("\n")] if "\n" in text else text], delimiter=sep), [])) or 1
    names = [f"c{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            io.BytesIO(text.encode("utf-8") + b"\n"),
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.large_string() for n in names},
                                                 strings_can_be_null=False, quoted_strings_can_be_null=False))
        if table.num_rows == rows:
            return [table.column(n).combine_chunks() for n in names]
    except (pa.ArrowException, UnicodeError):
        pass
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, header=None, dtype=str, keep_default_na=False,
                            skip_blank_lines=False, engine="c")
        if len(frame) == rows:
            return [pa.array(frame[c].fillna("").to_numpy(dtype=object), type=pa.large_string()) for c in frame.columns]
    except (ValueError, pd.errors.ParserError):
        pass
    parsed = [next(csv.reader([ln], delimiter=sep), []) for ln in text.split("\n")]
    width = max(len(r) for r in parsed)
    return [pa.array([r[i] if i < len(r) else "" for r in parsed], type=pa.large_string()) for i in range(width)]


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

    from ..numbers import normalize_numbers

    name = opt("suppress")
    if isinstance(source, SuppressionList):
        return source
    if source is None:
        return SuppressionList(source="<none>", region=region)
    if isinstance(source, (str, os.PathLike)):
        where = os.fspath(source)
        lines, values = _file_entries(Path(where), name)
    elif isinstance(source, pd.DataFrame):
        cols = [str(c) for c in source.columns]
        # Cells as Python text, not astype(str): an arrow-backed string column refuses lone surrogates.
        sample = [[str(v) for v in row] for row in source.head(_SAMPLE_ROWS).itertuples(index=False, name=None)]
        col = _number_column(cols, sample) if len(cols) else None
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
    from ..errors import shorten

    return shorten(repr(value), 60)


def _read_suppression_reference(source: Any, *, region: str | None = None) -> SuppressionList:
    """The per-entry reader: one :func:`~cmvoice_nb.numbers.try_normalize` call per entry.

    The baseline ``bench/suppress_read.py`` times :func:`read_suppression` against (UTF-8 or
    cp1252 text, the separator taken from the first line, no check of how much was read).
    """
    from ..numbers import try_normalize

    name = opt("suppress")
    path = Path(os.fspath(source))
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    content = [(i, ln) for i, ln in enumerate(text.splitlines(), 1) if ln.strip() and not ln.lstrip().startswith("#")]
    entries: list = []
    if content:
        first = content[0][1]
        sep = next((s for s in (",", ";", "\t", "|") if s in first), None)
        if sep is None:
            entries = [(i, ln.split("#", 1)[0].strip()) for i, ln in content]
        else:
            parsed = [(i, next(csv.reader(io.StringIO(ln), delimiter=sep))) for i, ln in content]
            header = parsed[0][1]
            has_header = not any(_PHONEISH.match(c.strip()) for c in header)
            body = parsed[1:] if has_header else parsed
            col = _number_column(header if has_header else [str(k) for k in range(len(header))], [r for _, r in body])
            if col is None:
                raise CampaignError(f"{name}: {path}: no column of phone numbers")
            entries = [(i, r[col] if col < len(r) else "") for i, r in body]
    numbers: set[str] = set()
    bad: list[Unreadable] = []
    for line, value in entries:
        normal, reason = try_normalize(value, region=region)
        if normal is None:
            bad.append(Unreadable(line, value, reason or "not a number"))
        else:
            numbers.add(normal)
    return SuppressionList(numbers, unreadable=bad, source=str(path), entries=len(entries), region=region)


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
    from ..numbers import country_of

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


def apply_suppression(plan: Any, suppress: Any, *, region: str | None = None,
                      allow_unreadable_suppress: bool = False) -> Any:
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
    import copy

    region = region if region is not None else plan.options.get("region")
    dnc = read_suppression(suppress, region=region, allow_unreadable_suppress=allow_unreadable_suppress)
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
    options["suppress_entries"] = dnc.entries
    return plan.replace(rows=rows, options=options)
