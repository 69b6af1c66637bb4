"""Holidays: dates on which no calling window opens, everywhere, per country, or the callee's public holidays.

:func:`read_holidays` reads them from whatever an operator has: dates, ISO text, a mapping
country → dates, a TXT of dates or a CSV with ``date`` (and ``country``) columns. With
``public=True`` the public holidays of each callee's own country count too, from the
`holidays <https://pypi.org/project/holidays/>`_ package: nationwide ones, or a subdivision's
(a German *Land*, a Swiss canton) when the row names it. A date is a holiday of a number when it
is one everywhere, in the number's country, or a public holiday there; calling hours
(:mod:`cmvoice_nb.campaign.ops.hours`) skip the windows that would start on it. A country the
package does not know has no public holidays.

Examples
--------
>>> read_holidays("2026-12-25, 2026-12-26")
Holidays(2 everywhere)
>>> h = read_holidays(None, public=True)
>>> h.name_of(_dt.date(2026, 4, 27), "NL"), h.name_of(_dt.date(2026, 4, 27), "BE")
("King's Day (public holiday in NL)", None)
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ...errors import CampaignError
from ...messages import opt

__all__ = ["Holidays", "read_holidays", "public_holiday", "check_subdivision"]

_PUBLIC_LOCK = threading.Lock()  # the package fills a year's dates on first use: one thread at a time


@cache
def _calendar(country: str, subdivision: str | None) -> Any:
    """The holidays package's calendar of *country* (and *subdivision*), or None when it has none."""
    import holidays as _holidays

    try:
        # Names in English whatever the country's own language, on every Python: without a
        # language the package's choice between its English source names and the country's
        # translation depends on how gettext finds its catalogues (3.11 and 3.13 differ).
        return _holidays.country_holidays(country, subdiv=subdivision, language="en_US")
    except (NotImplementedError, KeyError, ValueError):
        return None


def check_subdivision(country: str | None, subdivision: Any) -> str | None:
    """*subdivision* as the holidays package names it in *country* (``"NL-UT"``/``"ut"`` → ``"UT"``).

    Returns None for a blank cell. Raises :class:`~cmvoice_nb.errors.CampaignError` naming the
    country's subdivisions when *country* has none of that name.

    Examples
    --------
    >>> check_subdivision("DE", "de-by"), check_subdivision("DE", " ")
    ('BY', None)
    """
    if subdivision is None or not str(subdivision).strip() or str(subdivision).strip().lower() in ("nan", "<na>"):
        return None
    text = str(subdivision).strip().upper()
    if country and text.startswith(f"{country.upper()}-"):
        text = text[len(country) + 1:]
    if not country or _calendar(country.upper(), None) is None:
        return text  # no public holidays known for the country: the subdivision changes nothing
    import holidays as _holidays

    calendar = _holidays.country_holidays(country.upper())
    known = tuple(getattr(calendar, "subdivisions", ()))
    # Case-insensitive: "by" is Bavaria, "noord" the Dutch region Noord; aliases (full names) too.
    names = {str(k).upper(): str(k) for k in known}
    names.update({str(k).upper(): str(v) for k, v in (getattr(calendar, "subdivisions_aliases", None) or {}).items()})
    if text in names:
        return names[text]
    raise CampaignError(f"subdivision {subdivision!r} is not one of {country.upper()}'s: "
                        f"{', '.join(known) or 'it has none'}")


def public_holiday(day: _dt.date, country: str | None, subdivision: str | None = None) -> str | None:
    """The name of the public holiday *day* is in *country* (and *subdivision*), or None.

    Examples
    --------
    >>> public_holiday(_dt.date(2026, 4, 27), "NL"), public_holiday(_dt.date(2026, 1, 6), "DE", "BY")
    ("King's Day", 'Epiphany')
    >>> public_holiday(_dt.date(2026, 1, 6), "DE") is None
    True
    """
    if not country:
        return None
    calendar = _calendar(str(country).upper(), subdivision)
    if calendar is None:
        return None
    with _PUBLIC_LOCK:
        name = calendar.get(day)
    return str(name) if name else None


@dataclass(frozen=True)
class Holidays:
    """Dates nobody is called on: for every country, and per country (ISO code → dates).

    A date is a holiday for a number when it is in :attr:`everywhere` or in the set of the
    number's country. Built by :func:`read_holidays`.
    """

    everywhere: frozenset = frozenset()
    by_country: Mapping[str, frozenset] = field(default_factory=dict)
    #: True: each callee's public holidays count too (their country's, or their subdivision's).
    public: bool = False

    @property
    def per_country(self) -> bool:
        """True when a date's being a holiday depends on the callee's country."""
        return bool(self.by_country) or self.public

    def is_holiday(self, day: _dt.date, country: str | None = None, subdivision: str | None = None) -> bool:
        """True when *day* is a holiday everywhere, in *country*, or a public holiday there (with *public*)."""
        if day in self.everywhere:
            return True
        if country and day in self.by_country.get(str(country).upper(), ()):
            return True
        return self.public and public_holiday(day, country, subdivision) is not None

    def name_of(self, day: _dt.date, country: str | None = None, subdivision: str | None = None) -> str | None:
        """What *day* is for a callee of *country*: ``"King's Day (public holiday in NL)"``, ``"a holiday"`` or None.
        """
        if self.public:
            name = public_holiday(day, country, subdivision)
            if name:
                where = f"{str(country).upper()}-{subdivision}" if subdivision else str(country).upper()
                return f"{name} (public holiday in {where})"
        if day in self.everywhere or (country and day in self.by_country.get(str(country).upper(), ())):
            return "a holiday"
        return None

    def __len__(self) -> int:
        return len(self.everywhere) + sum(len(v) for v in self.by_country.values())

    def __repr__(self) -> str:
        if not len(self):
            return "Holidays(public)" if self.public else "Holidays(none)"
        parts = [f"{len(self.everywhere)} everywhere"] if self.everywhere else []
        parts += [f"{c}: {len(v)}" for c, v in sorted(self.by_country.items())]
        parts += ["public"] if self.public else []
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


def read_holidays(holidays: Any = None, *, public: bool = False) -> Holidays:
    """Holidays from dates, ISO text, a mapping country → dates, or a CSV/TXT file; *public*: each callee's too.

    Parameters
    ----------
    holidays
        ``None`` (none); an iterable of ``date``/``datetime``/``"YYYY-MM-DD"``; text of ISO dates
        separated by commas; a mapping ``{"NL": [...], "BE": [...]}`` (key ``"*"`` or ``""``:
        every country); or the path of a text file: one date per line (``#`` starts a comment), or
        a CSV whose header has a ``date`` column and optionally a ``country`` column.
    public
        Also the public holidays of each callee's own country (see :func:`public_holiday`).

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
    found = _read(holidays)
    if public and not found.public:
        return Holidays(found.everywhere, found.by_country, public=True)
    return found


def _read(holidays: Any) -> Holidays:
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
