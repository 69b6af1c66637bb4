"""Holidays: dates on which no calling window opens, everywhere or per country.

:func:`read_holidays` reads them from whatever an operator has: dates, ISO text, a mapping
country → dates, a TXT of dates or a CSV with ``date`` (and ``country``) columns. A date is a
holiday of a number when it is one everywhere or in the number's country; calling hours
(:mod:`cmvoice_nb.campaign.ops.hours`) skip the windows that would start on it.

Examples
--------
>>> read_holidays("2026-12-25, 2026-12-26")
Holidays(2 everywhere)
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import CampaignError
from ...messages import opt

__all__ = ["Holidays", "read_holidays"]


@dataclass(frozen=True)
class Holidays:
    """Dates nobody is called on: for every country, and per country (ISO code → dates).

    A date is a holiday for a number when it is in :attr:`everywhere` or in the set of the
    number's country. Built by :func:`read_holidays`.
    """

    everywhere: frozenset = frozenset()
    by_country: Mapping[str, frozenset] = field(default_factory=dict)

    def is_holiday(self, day: _dt.date, country: str | None = None) -> bool:
        """True when *day* is a holiday everywhere or in *country*."""
        if day in self.everywhere:
            return True
        return bool(country) and day in self.by_country.get(str(country).upper(), ())

    def __len__(self) -> int:
        return len(self.everywhere) + sum(len(v) for v in self.by_country.values())

    def __repr__(self) -> str:
        if not len(self):
            return "Holidays(none)"
        parts = [f"{len(self.everywhere)} everywhere"] if self.everywhere else []
        parts += [f"{c}: {len(v)}" for c, v in sorted(self.by_country.items())]
        return f"Holidays({', '.join(parts)})"


_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.+\-Z]*)?\s*$")


def _to_date(value: Any, where: str) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    m = _ISO_DATE.match(value) if isinstance(value, str) else None
    if m:
        try:
            return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            pass
    if hasattr(value, "to_pydatetime"):  # a pandas Timestamp
        return value.to_pydatetime().date()
    raise CampaignError(f"{where}: {value!r} is not a date (write YYYY-MM-DD, e.g. 2026-12-25)")


def read_holidays(holidays: Any = None) -> Holidays:
    """Holidays from dates, ISO text, a mapping country → dates, or a CSV/TXT file.

    Parameters
    ----------
    holidays
        ``None`` (none); an iterable of ``date``/``datetime``/``"YYYY-MM-DD"``; text of ISO dates
        separated by commas; a mapping ``{"NL": [...], "BE": [...]}`` (key ``"*"`` or ``""``:
        every country); or the path of a text file: one date per line (``#`` starts a comment), or
        a CSV whose header has a ``date`` column and optionally a ``country`` column.

    Raises
    ------
    CampaignError
        The file is missing or a date cannot be read; the message names every bad line.

    Examples
    --------
    >>> read_holidays(["2026-12-25", "2026-12-26"])
    Holidays(2 everywhere)
    >>> h = read_holidays({"NL": ["2026-04-27"], "BE": ["2026-07-21"]})
    >>> h, h.is_holiday(_dt.date(2026, 4, 27), "NL"), h.is_holiday(_dt.date(2026, 4, 27), "BE")
    (Holidays(BE: 1, NL: 1), True, False)
    """
    name = opt("holidays")
    if holidays is None:
        return Holidays()
    if isinstance(holidays, Holidays):
        return holidays
    if isinstance(holidays, (str, os.PathLike)):
        text = os.fspath(holidays)
        tokens = [t for t in re.split(r"[,;\s]+", text.strip()) if t] if isinstance(holidays, str) else []
        if tokens and all(_ISO_DATE.match(t) for t in tokens):
            return Holidays(frozenset(_to_date(t, name) for t in tokens))
        return _read_holiday_file(Path(text), name)
    if isinstance(holidays, Mapping):
        everywhere: set = set()
        by_country: dict[str, frozenset] = {}
        for country, dates in holidays.items():
            key = str(country or "").strip().upper()
            if isinstance(dates, (str, _dt.date)):
                dates = [dates]
            got = frozenset(_to_date(d, f"{name}[{country!r}]") for d in dates)
            if key in ("", "*"):
                everywhere |= got
            else:
                by_country[key] = by_country.get(key, frozenset()) | got
        return Holidays(frozenset(everywhere), by_country)
    if isinstance(holidays, (_dt.date, _dt.datetime)):
        return Holidays(frozenset([_to_date(holidays, name)]))
    try:
        items = list(holidays)
    except TypeError:
        raise CampaignError(f"{name} must be dates, a mapping country -> dates or a file, got {holidays!r}") from None
    bad = []
    dates = set()
    for i, item in enumerate(items):
        try:
            dates.add(_to_date(item, name))
        except CampaignError:
            bad.append(f"item {i}: {item!r}")
    if bad:
        raise CampaignError(f"{name}: {len(bad)} value(s) are not dates (write YYYY-MM-DD): {'; '.join(bad[:10])}")
    return Holidays(frozenset(dates))


def _read_holiday_file(path: Path, name: str) -> Holidays:
    if not path.exists():
        raise CampaignError(f"{name}: {path}: no such file (give a CSV/TXT of dates, or dates like 2026-12-25)")
    if not path.is_file():
        raise CampaignError(f"{name}: {path}: not a regular file")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise CampaignError(f"{name}: {path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise CampaignError(f"{name}: {path}: not UTF-8 text (byte {exc.start})") from None
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")), "")
    header = [c.strip().lower() for c in re.split(r"[,;\t]", first)]
    everywhere: set = set()
    by_country: dict[str, set] = {}
    bad: list[str] = []
    if "date" in header:
        sep = next((s for s in ",;\t" if s in first), ",")
        reader = csv.reader(io.StringIO(text), delimiter=sep)
        col_date = header.index("date")
        col_country = header.index("country") if "country" in header else None
        seen_header = False
        for lineno, row in enumerate(reader, 1):
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            if not seen_header:
                seen_header = True
                continue
            try:
                day = _to_date(row[col_date] if col_date < len(row) else "", name)
            except CampaignError:
                bad.append(f"line {lineno}: {','.join(row)!r}")
                continue
            country = (row[col_country].strip().upper() if col_country is not None and col_country < len(row) else "")
            (by_country.setdefault(country, set()) if country not in ("", "*") else everywhere).add(day)
    else:
        for lineno, line in enumerate(lines, 1):
            content = line.split("#", 1)[0].strip()
            if not content:
                continue
            try:
                everywhere.add(_to_date(content.split(",")[0].strip(), name))
            except CampaignError:
                bad.append(f"line {lineno}: {content!r}")
    if bad:
        raise CampaignError(f"{name}: {path}: {len(bad)} line(s) are not dates (write YYYY-MM-DD): "
                            f"{'; '.join(bad[:10])}{' ...' if len(bad) > 10 else ''}")
    return Holidays(frozenset(everywhere), {k: frozenset(v) for k, v in by_country.items()})
