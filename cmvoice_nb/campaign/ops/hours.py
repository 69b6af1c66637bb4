"""Calling hours in the callee's local time: pure window arithmetic, no clock of its own.

A campaign may only ring people inside a window of their own local time
(``calling_hours="09:00-20:00"``, ``days="mon-fri"``, ``holidays=...``). The callee's time
zones come from the number (phonenumbers' time-zone data); when a number maps to several
zones (``+1 775`` is Pacific and Mountain time; GB mobiles map to London, Jersey, Guernsey and
the Isle of Man) the window must hold **in all of them**. ``tz=`` overrides the zones.

Rules, stated once:

* A window is ``start-end`` in local wall-clock time; ``24:00`` is the end of the day.
  A window whose end is not after its start crosses midnight (``"20:00-08:00"`` runs from
  20:00 to 08:00 the next morning); ``days`` and ``holidays`` then apply to the day the
  window **starts**.
* Daylight saving: the window follows the local clock (09:00 is 09:00 before and after the
  change). An edge that falls in the skipped hour (spring forward) moves forward by the gap;
  an edge in the repeated hour (fall back) is its first occurrence.
* A number whose zone is unknown (phonenumbers says ``Etc/Unknown``) is **not callable**
  until ``tz=`` names its zone: its status says so, with no opening time.

:func:`window_status` is the batch front (one row per callee, cached per distinct zone set);
:meth:`CallingHours.status` is the core for one set of zones and one instant.

Examples
--------
>>> from datetime import datetime, timezone
>>> hours = parse_calling_hours("09:00-20:00", days="mon-fri")
>>> hours
CallingHours('09:00-20:00', days='mon-fri', holidays=none)
>>> saturday = datetime(2026, 3, 28, 12, 0, tzinfo=timezone.utc)
>>> s = hours.status(("Europe/Amsterdam",), now=saturday)
>>> s.inside, s.opens_at.isoformat()
(False, '2026-03-30T07:00:00+00:00')
"""
from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ...errors import CampaignError
from ...messages import opt, say
from ...numbers import country_of
from .holidays import Holidays, read_holidays

__all__ = [
    "CallingHours",
    "Holidays",
    "WindowStatus",
    "STATUS_COLUMNS",
    "UNKNOWN_ZONE",
    "parse_calling_hours",
    "parse_hours",
    "parse_days",
    "read_holidays",
    "zones_for_number",
    "zone_info",
    "window_status",
    "describe_waits",
]

#: What phonenumbers answers for a number it cannot place.
UNKNOWN_ZONE = "Etc/Unknown"
#: Columns of :func:`window_status`.
STATUS_COLUMNS = ["inside", "opens_at", "closes_at", "zones", "reason"]

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MINUTES_PER_DAY = 24 * 60
# Looked ahead for the next opening: first two weeks (the usual answer), then a bit over a year
# (a long holiday list), after which the window never opens.
_HORIZONS_DAYS = (14, 400)



# ---------------------------------------------------------------------------------------------
# Parsing the options
# ---------------------------------------------------------------------------------------------

_TIME = r"(\d{1,2})(?:[:.h](\d{2}))?"
_HOURS_RE = re.compile(rf"^\s*{_TIME}\s*[-\u2010-\u2015~]\s*{_TIME}\s*$")


def parse_hours(text: Any) -> tuple[int, int]:
    """``"09:00-20:00"`` as ``(start, end)`` minutes after local midnight.

    ``24:00`` (1440) ends the day; an end not after the start crosses midnight. ``9-20``,
    ``9:00 - 20:00`` and an en dash are accepted.

    Examples
    --------
    >>> parse_hours("09:00-20:00"), parse_hours("9-17:30"), parse_hours("20:00-08:00"), parse_hours("00:00-24:00")
    ((540, 1200), (540, 1050), (1200, 480), (0, 1440))
    >>> parse_hours("9am-5pm")
    Traceback (most recent call last):
    ...
    cmvoice_nb.errors.CampaignError: calling_hours= must look like '09:00-20:00' (...), got '9am-5pm'
    """
    name = opt("calling_hours")
    m = _HOURS_RE.match(text) if isinstance(text, str) else None
    if m is None:
        raise CampaignError(f"{name} must look like '09:00-20:00' (24-hour local time, start-end), got {text!r}")
    values = []
    for hh, mm, edge in ((m.group(1), m.group(2), "start"), (m.group(3), m.group(4), "end")):
        h, mi = int(hh), int(mm or 0)
        if mi > 59 or h > 24 or (h == 24 and mi) or (h == 24 and edge == "start"):
            raise CampaignError(f"{name}: {edge} time {hh}:{mm or '00'} in {text!r} is not a time of day "
                                f"(00:00 to {'23:59' if edge == 'start' else '24:00'})")
        values.append(h * 60 + mi)
    start, end = values
    if start == end or (start == 0 and end == 0):
        raise CampaignError(f"{name}: {text!r} is an empty window (start equals end); "
                            f"for the whole day write '00:00-24:00'")
    return start, end


def parse_days(days: Any = "mon-fri") -> frozenset[int]:
    """Weekdays (0 Monday .. 6 Sunday) from ``"mon-fri"``, ``"mon,wed,fri"``, ``"sat-sun"`` or ``"all"``.

    Ranges may wrap (``"fri-mon"``); full names and any letter case are accepted; an iterable of
    names or numbers (0 = Monday) works from Python.

    Examples
    --------
    >>> sorted(parse_days("mon-fri")), sorted(parse_days("mon,wed,fri")), sorted(parse_days("Fri-Mon"))
    ([0, 1, 2, 3, 4], [0, 2, 4], [0, 4, 5, 6])
    >>> parse_days("mon-fry")
    Traceback (most recent call last):
    ...
    cmvoice_nb.errors.CampaignError: days=: 'fry' is not a day; write mon, tue, wed, thu, fri, sat, sun, ranges ...
    """
    name = opt("days")
    hint = "write mon, tue, wed, thu, fri, sat, sun, ranges like mon-fri, lists like mon,wed,fri, or all"

    def day(token: Any) -> int:
        if isinstance(token, int) and not isinstance(token, bool) and 0 <= token <= 6:
            return token
        t = str(token).strip().lower()
        if t in _DAY_NAMES:
            return _DAY_NAMES.index(t)
        if t in _FULL_DAY_NAMES:
            return _FULL_DAY_NAMES.index(t)
        raise CampaignError(f"{name}: {str(token).strip()!r} is not a day; {hint}")

    if days is None:
        raise CampaignError(f"{name} is missing; {hint}")
    if isinstance(days, str):
        text = days.strip().lower()
        if text in ("all", "every", "daily", "*"):
            return frozenset(range(7))
        parts = [p for p in re.split(r"[,;\s]+", text) if p]
        if not parts:
            raise CampaignError(f"{name} is empty; {hint}")
        chosen: set[int] = set()
        for part in parts:
            if "-" in part:
                a, _, b = part.partition("-")
                first, last = day(a), day(b)
                chosen.update((first + i) % 7 for i in range((last - first) % 7 + 1))
            else:
                chosen.add(day(part))
        return frozenset(chosen)
    try:
        items = list(days)
    except TypeError:
        raise CampaignError(f"{name} must be text like 'mon-fri' or a list of days, got {days!r}") from None
    if not items:
        raise CampaignError(f"{name} is empty: no day to call on; {hint}")
    return frozenset(day(t) for t in items)


def _days_text(days: frozenset[int]) -> str:
    if days == frozenset(range(7)):
        return "all"
    ordered = sorted(days)
    runs: list[list[int]] = []
    for d in ordered:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return ",".join(_DAY_NAMES[r[0]] if len(r) == 1 else
                    f"{_DAY_NAMES[r[0]]}-{_DAY_NAMES[r[-1]]}" for r in runs)


# ---------------------------------------------------------------------------------------------
# Zones
# ---------------------------------------------------------------------------------------------

def zones_for_number(number: Any) -> tuple[str, ...]:
    """The IANA time zones of an international number (phonenumbers' data); ``()`` when unknown.

    Examples
    --------
    >>> zones_for_number("+31612345678"), zones_for_number("+12125550123")
    (('Europe/Amsterdam',), ('America/New_York',))
    >>> zones_for_number("+17752345678")    # Nevada: Pacific and (Elko County's) Mountain time
    ('America/Boise', 'America/Los_Angeles')
    >>> zones_for_number("+447700900123"), zones_for_number("junk")   # a range with no zone data
    ((), ())
    """
    import phonenumbers
    from phonenumbers import timezone as _tz

    if not isinstance(number, str) or not number.strip():
        return ()
    text = number.strip()
    text = "+" + text[2:] if text.startswith("00") else text
    try:
        parsed = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return ()
    return tuple(z for z in _tz.time_zones_for_number(parsed) if z != UNKNOWN_ZONE)


def zone_info(name: str):
    """The :class:`zoneinfo.ZoneInfo` of an IANA zone name; None when the name is no known zone.

    Examples
    --------
    >>> zone_info("Europe/Amsterdam"), zone_info("Europe/Atlantis")
    (zoneinfo.ZoneInfo(key='Europe/Amsterdam'), None)
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return None


# ---------------------------------------------------------------------------------------------
# The window
# ---------------------------------------------------------------------------------------------

class WindowStatus(NamedTuple):
    """Whether a callee may be called at an instant.

    Attributes
    ----------
    inside
        True when the window holds now in every one of the callee's zones.
    opens_at
        When outside: the next instant (aware, UTC) it holds in all zones; None when it never
        does (unknown zone, or zones too far apart for one common window).
    closes_at
        When inside: the instant (aware, UTC) the common window ends.
    reason
        Empty when inside; else why not, in words (for the journal and the progress display).
    """

    inside: bool
    opens_at: _dt.datetime | None
    closes_at: _dt.datetime | None
    reason: str


def _wall_to_utc(day: _dt.date, minute: int, zone) -> _dt.datetime:
    # fold=0: in the repeated hour this is the first occurrence; in the skipped hour zoneinfo
    # applies the offset before the change, which lands after the gap (02:30 -> 03:30 CEST).
    if minute == _MINUTES_PER_DAY:  # 24:00 is the next day's midnight
        day, minute = day + _dt.timedelta(days=1), 0
    local = _dt.datetime.combine(day, _dt.time(minute // 60, minute % 60), tzinfo=zone)
    return local.astimezone(_dt.timezone.utc)


@dataclass(frozen=True)
class CallingHours:
    """A calling window in local time: hours, weekdays and holidays. Build with :func:`parse_calling_hours`.

    Attributes
    ----------
    start, end
        Minutes after local midnight; ``end <= start`` crosses midnight; 1440 is 24:00.
    days
        Weekdays (0 Monday) a window may **start** on.
    holidays
        Dates (local, per country or everywhere) no window starts on.
    """

    start: int
    end: int
    days: frozenset
    holidays: Holidays = field(default_factory=Holidays)

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    @property
    def hours_text(self) -> str:
        """The window as ``"09:00-20:00"``."""
        return f"{self.start // 60:02d}:{self.start % 60:02d}-{self.end // 60:02d}:{self.end % 60:02d}"

    @property
    def days_text(self) -> str:
        """The days as ``"mon-fri"``."""
        return _days_text(self.days)

    def __repr__(self) -> str:
        n = len(self.holidays)
        return (f"CallingHours({self.hours_text!r}, days={self.days_text!r}, "
                f"holidays={'none' if not n else f'{n} date' + ('s' if n != 1 else '')})")

    def intervals(self, zone_name: str, first: _dt.date, last: _dt.date, *, country: str | None = None,
                  subdivision: str | None = None) -> list[tuple[_dt.datetime, _dt.datetime]]:
        """The window's UTC intervals in one zone for windows starting on local days *first*..*last*."""
        zone = zone_info(zone_name)
        if zone is None:
            raise CampaignError(f"unknown time zone {zone_name!r}")
        out = []
        day = first
        while day <= last:
            if day.weekday() in self.days and not self.holidays.is_holiday(day, country, subdivision):
                start = _wall_to_utc(day, self.start, zone)
                end_day = day + _dt.timedelta(days=1) if self.crosses_midnight else day
                end = _wall_to_utc(end_day, self.end, zone)
                if end > start:
                    out.append((start, end))
            day += _dt.timedelta(days=1)
        return out

    def status(self, zones: Iterable[str], *, now: _dt.datetime, country: str | None = None,
               subdivision: str | None = None) -> WindowStatus:
        """Whether the window holds at *now* in **all** *zones*, and if not, when it next does.

        Parameters
        ----------
        zones
            IANA zone names (``("America/Boise", "America/Los_Angeles")``).
        now
            An aware datetime: the clock is injected, never read here.
        country, subdivision
            ISO code of the callee's country (and its subdivision), for per-country and public holidays.

        Examples
        --------
        >>> from datetime import datetime, timezone
        >>> h = parse_calling_hours("09:00-20:00", days="all")
        >>> s = h.status(("America/New_York", "America/Chicago"), now=datetime(2026, 1, 5, 14, 30, tzinfo=timezone.utc))
        >>> s.inside, s.opens_at.isoformat()      # 09:30 in New York, but only 08:30 in Chicago
        (False, '2026-01-05T15:00:00+00:00')
        """
        if not isinstance(now, _dt.datetime) or now.tzinfo is None or now.utcoffset() is None:
            raise CampaignError(f"now must be a timezone-aware datetime, got {now!r}")
        zones = tuple(dict.fromkeys(str(z) for z in zones))
        if not zones:
            return WindowStatus(False, None, None, "time zone unknown: give the zone with tz=")
        now_utc = now.astimezone(_dt.timezone.utc)
        for name in zones:
            if zone_info(name) is None:
                return WindowStatus(False, None, None, f"unknown time zone {name!r}")
        for horizon in _HORIZONS_DAYS:
            common = None
            for name in zones:
                today = now_utc.astimezone(zone_info(name)).date()
                # Start a day early: yesterday's window may still run (it may cross midnight).
                spans = self.intervals(name, today - _dt.timedelta(days=1), today + _dt.timedelta(days=horizon),
                                       country=country, subdivision=subdivision)
                common = spans if common is None else _intersect(common, spans)
            limit = now_utc + _dt.timedelta(days=horizon - 1)
            for start, end in _merge(common or []):
                if end <= now_utc:
                    continue
                if start <= now_utc:
                    return WindowStatus(True, None, end, "")
                if start <= limit or horizon == _HORIZONS_DAYS[-1]:
                    return WindowStatus(False, start, None,
                                        self._outside_reason(zones, now_utc, start, country, subdivision))
        return WindowStatus(False, None, None, self._never_reason(zones))

    def _outside_reason(self, zones: tuple[str, ...], now_utc: _dt.datetime, opens: _dt.datetime,
                        country: str | None = None, subdivision: str | None = None) -> str:
        zone = zone_info(zones[0])
        here = now_utc.astimezone(zone)
        there = opens.astimezone(zone)
        more = len(zones) - 1
        where = zones[0] if more == 0 else f"{zones[0]} (+{more} more zone{'s' if more > 1 else ''})"
        # The holiday that keeps the window shut today is named (a window may start the evening before).
        holiday = self.holidays.name_of(here.date(), country, subdivision) if here.weekday() in self.days else None
        today = f", {holiday}" if holiday else ""
        return (f"outside calling hours {self.hours_text} {self.days_text}: it is {here:%a %H:%M} in {where}{today}; "
                f"opens {there:%a %Y-%m-%d %H:%M} local")

    def _never_reason(self, zones: tuple[str, ...]) -> str:
        if len(zones) > 1:
            return (f"calling hours {self.hours_text} {self.days_text} never hold in all of {', '.join(zones)} "
                    f"at once; give the callee's zone with tz=")
        return f"calling hours {self.hours_text} {self.days_text} do not open within {_HORIZONS_DAYS[-1]} days"


def _merge(spans: list) -> list:
    """Join intervals that touch (a whole-day window on consecutive days is one stretch)."""
    out: list = []
    for start, end in spans:
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _intersect(a: list, b: list) -> list:
    """Intersection of two sorted lists of disjoint half-open intervals."""
    out = []
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i][0], b[j][0])
        end = min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def parse_calling_hours(calling_hours: Any = "09:00-20:00", *, days: Any = "mon-fri",
                        holidays: Any = None, public_holidays: bool = False) -> CallingHours:
    """Build a :class:`CallingHours` from the user's options, with errors naming the option.

    Parameters
    ----------
    calling_hours
        ``"09:00-20:00"`` (local time of the callee); ``None`` means the whole day
        (``"00:00-24:00"``) on *days*. A :class:`CallingHours` is returned as is.
    days
        ``"mon-fri"`` (default), ``"mon,wed,fri"``, ``"sat-sun"``, ``"all"``.
    holidays, public_holidays
        See :func:`read_holidays` (*public_holidays*: each callee's public holidays too).

    Examples
    --------
    >>> parse_calling_hours("20:00-08:00", days="all")
    CallingHours('20:00-08:00', days='all', holidays=none)
    >>> parse_calling_hours("9-17", days="sat-sun", holidays=["2026-12-26"])
    CallingHours('09:00-17:00', days='sat-sun', holidays=1 date)
    >>> parse_calling_hours("25:00-26:00")
    Traceback (most recent call last):
    ...
    cmvoice_nb.errors.CampaignError: calling_hours=: start time 25:00 in '25:00-26:00' is not a time of day (...)
    """
    if isinstance(calling_hours, CallingHours):
        return calling_hours
    start, end = (0, _MINUTES_PER_DAY) if calling_hours is None else parse_hours(calling_hours)
    return CallingHours(start, end, parse_days(days), read_holidays(holidays, public=public_holidays))


# ---------------------------------------------------------------------------------------------
# The batch front
# ---------------------------------------------------------------------------------------------

def _is_missing(value: Any) -> bool:
    return (value is None or (isinstance(value, float) and math.isnan(value))
            or (isinstance(value, str) and not value.strip()))


def _tz_per_row(tz: Any, callees: list, n: int) -> list:
    """The tz override for each row (None: use the number's zones)."""
    name = opt("tz")
    if tz is None:
        return [None] * n
    if isinstance(tz, str):
        if zone_info(tz.strip()) is None:
            raise CampaignError(f"{name}: unknown time zone {tz!r} (an IANA name like 'Europe/Amsterdam')")
        return [tz.strip()] * n
    if isinstance(tz, Mapping):
        return [tz.get(c) for c in callees]
    values = list(tz)
    if len(values) != n:
        raise CampaignError(f"{name} has {len(values)} values for {n} callees: give one zone, a mapping "
                            f"number -> zone, or one value per row")
    return values


def window_status(callees: Any, *, calling_hours: Any, days: Any = "mon-fri", holidays: Any = None, tz: Any = None,
                  now: _dt.datetime | None = None, public_holidays: bool = False):
    """Where each callee stands against its calling window at *now*: one row per callee.

    Parameters
    ----------
    callees
        International numbers (a Series keeps its index; anything else gets 0..n-1).
    calling_hours, days, holidays, public_holidays
        See :func:`parse_calling_hours` (a :class:`CallingHours` may be passed as *calling_hours*).
    tz
        Overrides the zones from the number: one IANA name for every row, a mapping
        number → zone, or a sequence/Series with one zone per row (missing: use the number).
    now
        The instant to judge, timezone-aware (inject it in tests); default: the current time.

    Returns
    -------
    pandas.DataFrame
        Columns ``inside`` (bool), ``opens_at`` and ``closes_at`` (UTC timestamps, NaT when not
        applicable), ``zones`` (the zones judged, comma-separated) and ``reason`` (empty when inside).
        A number with no known zone and no *tz* is not inside and never opens (``opens_at`` NaT).

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> now = datetime(2026, 3, 30, 7, 30, tzinfo=timezone.utc)    # Monday: 09:30 Amsterdam, 03:30 New York
    >>> st = window_status(["+31612345678", "+12125550123", "+447700900123"], calling_hours="09:00-20:00", now=now)
    >>> st[["inside", "opens_at"]]
       inside                  opens_at
    0    True                       NaT
    1   False 2026-03-30 13:00:00+00:00
    2   False                       NaT
    >>> st["zones"].tolist()
    ['Europe/Amsterdam', 'America/New_York', '']
    >>> st.loc[2, "reason"]
    'time zone unknown for +447700900123: give the zone with tz='
    """
    import pandas as pd

    hours = parse_calling_hours(calling_hours, days=days, holidays=holidays, public_holidays=public_holidays)
    if now is None:
        now = _dt.datetime.now(_dt.timezone.utc)
    if not isinstance(now, _dt.datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise CampaignError(f"now must be a timezone-aware datetime, got {now!r}")
    index = callees.index if isinstance(callees, pd.Series) else None
    numbers = list(callees.tolist() if isinstance(callees, pd.Series) else callees)
    overrides = _tz_per_row(tz, numbers, len(numbers))
    tz_name = opt("tz")
    cache: dict[tuple, WindowStatus] = {}
    rows: list[tuple[bool, _dt.datetime | None, _dt.datetime | None, str, str]] = []
    for number, override in zip(numbers, overrides, strict=True):
        country = country_of(number)
        zones: tuple[str, ...]
        if not _is_missing(override):
            zones = (str(override).strip(),)
            if zone_info(zones[0]) is None:
                rows.append((False, None, None, zones[0], f"{tz_name}: unknown time zone {zones[0]!r}"))
                continue
        else:
            zones = zones_for_number(number)
        if not zones:
            rows.append((False, None, None, "", f"time zone unknown for {number}: give the zone with {tz_name}"))
            continue
        # Many rows share a zone set (and a country): judge each combination once.
        key = (zones, country if hours.holidays.per_country else None)
        status = cache.get(key)
        if status is None:
            status = cache[key] = hours.status(zones, now=now, country=key[1])
        rows.append((status.inside, status.opens_at, status.closes_at, ",".join(zones), status.reason))
    said = [row[:4] + (say(row[4]),) for row in rows]  # a frame for Python: its words
    frame = pd.DataFrame(said, columns=STATUS_COLUMNS, index=index)
    frame["inside"] = frame["inside"].astype(bool)
    for col in ("opens_at", "closes_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame


def describe_waits(status: Any) -> str:
    """One line for a progress display: how many rows wait, and until when.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> now = datetime(2026, 3, 30, 7, 30, tzinfo=timezone.utc)
    >>> st = window_status(["+31612345678", "+12125550123", "+13125550123"], calling_hours="09:00-20:00", now=now)
    >>> describe_waits(st)
    '2 rows wait for their calling hours; the first opens 2026-03-30 13:00 UTC, the last 2026-03-30 14:00 UTC'
    """
    waiting = status[~status["inside"]]
    if waiting.empty:
        return "every row is inside its calling hours"
    opens = waiting["opens_at"].dropna()
    n = len(waiting)
    text = f"{n} row waits for its calling hours" if n == 1 else f"{n} rows wait for their calling hours"
    if not opens.empty:
        first, last = opens.min(), opens.max()
        text += f"; the first opens {first:%Y-%m-%d %H:%M} UTC"
        if last != first:
            text += f", the last {last:%Y-%m-%d %H:%M} UTC"
    never = n - len(opens)
    if never:
        text += f"; {never} never open{'s' if never == 1 else ''} (see reason)"
    return text
