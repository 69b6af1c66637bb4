"""Calling hours for a running send: per-row windows, and a clock and sleep that tests can drive.

:mod:`.hours` is the pure window arithmetic; this module applies it to a plan's rows for the
sender (:class:`~cmvoice_nb.campaign.CampaignSender`): which rows may be called at an instant,
which wait and until when, which can never be called (no known time zone).

The sender never reads the time or sleeps on its own: it asks a *clock* (a callable returning
an aware datetime) and a *sleep* (a callable taking seconds). :class:`ManualClock` is both, and
only moves when it is told to sleep: a test (or a notebook rehearsal on the simulator) runs a
campaign across a weekend in milliseconds.

Examples
--------
>>> from datetime import datetime, timezone
>>> clock = ManualClock(datetime(2026, 3, 28, 12, 0, tzinfo=timezone.utc))
>>> clock.sleep(3600); clock.now().isoformat()
'2026-03-28T13:00:00+00:00'
"""
from __future__ import annotations

import datetime as _dt
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ...errors import CampaignError
from ...messages import opt
from .hours import CallingHours, WindowStatus, parse_calling_hours, zone_info, zones_for_number

__all__ = ["ManualClock", "make_clock", "RowWindows", "calling_hours_from", "plan_subdivisions", "SLEEP_CHUNK_S"]

#: Longest single sleep while rows wait: the clock is read again after it, so a wall clock that
#: jumps (a laptop that slept, an NTP correction) never makes a row go out early or much too late.
SLEEP_CHUNK_S = 60.0


class ManualClock:
    """A clock that moves only when :meth:`sleep` (or :meth:`advance`) is called; thread-safe.

    Pass it as both ``now=clock.now`` and ``sleep=clock.sleep`` (or just ``now=clock``: the
    sender then uses its ``sleep`` too).

    Parameters
    ----------
    start
        The first instant, timezone-aware.
    """

    def __init__(self, start: _dt.datetime) -> None:
        _check_aware(start, "ManualClock(start)")
        self._now = start.astimezone(_dt.timezone.utc)
        self._lock = threading.Lock()
        #: Every sleep asked for, in seconds (tests check the sender waited, and how long).
        self.sleeps: list[float] = []

    def now(self) -> _dt.datetime:
        """The current (manual) instant, UTC."""
        with self._lock:
            return self._now

    __call__ = now

    def sleep(self, seconds: float) -> None:
        """Move the clock *seconds* forward, at once."""
        self.advance(seconds)
        with self._lock:
            self.sleeps.append(float(seconds))

    def advance(self, seconds: float) -> None:
        """Move the clock forward without recording a sleep."""
        if seconds < 0:
            raise ValueError("a clock does not go back")
        with self._lock:
            self._now += _dt.timedelta(seconds=seconds)

    def __repr__(self) -> str:
        return f"ManualClock({self.now().isoformat()})"


def _check_aware(value: Any, name: str) -> None:
    if not isinstance(value, _dt.datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise CampaignError(f"{name} must be a timezone-aware datetime, got {value!r}")


def make_clock(now: Any, sleep: Callable[[float], Any] | None, stop: threading.Event
               ) -> tuple[Callable[[], _dt.datetime], Callable[[float], object]]:
    """The sender's ``(now(), sleep(seconds))`` from the user's ``now=`` and ``sleep=``.

    * ``now=None``: the real UTC time; ``now=`` a callable: it (it must return aware datetimes;
      an object with a ``sleep`` method, such as :class:`ManualClock`, also gives the sleep).
    * ``now=`` a datetime: a clock that starts there and runs with real time; with a ``sleep=``
      too, each sleep's seconds are added to it (a rehearsal in which waiting takes no time).
    * ``sleep=None``: a real wait that :meth:`~CampaignSender.stop` interrupts.
    """
    real_sleep = stop.wait
    if now is None:
        return (lambda: _dt.datetime.now(_dt.timezone.utc)), (sleep or real_sleep)
    if isinstance(now, _dt.datetime):
        _check_aware(now, "now=")
        start, t0 = now.astimezone(_dt.timezone.utc), time.monotonic()
        if sleep is None:
            return (lambda: start + _dt.timedelta(seconds=time.monotonic() - t0)), real_sleep
        skipped = [0.0]
        lock = threading.Lock()
        user_sleep = sleep

        def skip(seconds: float) -> None:
            user_sleep(seconds)
            with lock:
                skipped[0] += seconds

        return (lambda: start + _dt.timedelta(seconds=time.monotonic() - t0 + skipped[0])), skip
    if callable(now):
        if sleep is None and callable(getattr(now, "sleep", None)):
            sleep = now.sleep
        clock = getattr(now, "now", now) if callable(getattr(now, "now", None)) else now

        def checked() -> _dt.datetime:
            value = clock()
            _check_aware(value, "now() (the clock)")
            return value

        return checked, (sleep or real_sleep)
    raise CampaignError(f"now= must be a timezone-aware datetime or a clock (a callable returning one), got {now!r}")


class ScheduledRow(Protocol):
    """What :class:`RowWindows` reads of a plan row (:class:`~cmvoice_nb.campaign.plan.RowPlan`)."""

    @property
    def position(self) -> int: ...
    @property
    def callee(self) -> str | None: ...
    @property
    def label(self) -> object: ...


class RowWindows:
    """Each plan row's calling window: zones from its numbers (or ``tz=``), judged at an instant.

    Parameters
    ----------
    hours
        A :class:`~cmvoice_nb.campaign.ops.hours.CallingHours`.
    rows
        The plan's rows (:class:`~cmvoice_nb.campaign.plan.RowPlan`).
    tz
        ``None`` (the numbers' zones), one IANA zone for every row, a mapping number → zone,
        or one zone per row (a list or Series as long as the plan; blank: the number's zones).
    subdivisions
        Each row's subdivision by position (``columns={"subdivision": ...}``), for public holidays;
        None: nationwide ones.

    Raises
    ------
    CampaignError
        A subdivision its country does not have, naming every such row.
    """

    def __init__(self, hours: CallingHours, rows: list, *, tz: Any = None, subdivisions: Any = None) -> None:
        self.hours = hours
        self._tz_name = opt("tz")
        overrides = self._overrides(tz, rows)
        self._zones: dict[int, tuple[str, ...]] = {}
        self._country: dict[int, str | None] = {}
        self._unknown: dict[int, str] = {}
        self._subdivision: dict[int, str] = {}
        self._bad: list[str] = []
        from ...numbers import country_of

        for r, override in zip(rows, overrides, strict=True):
            numbers = [n for n in (r.callee or "").split(";") if n.strip()]
            self._country[r.position] = country_of(numbers[0]) if numbers else None
            if subdivisions is not None and hours.holidays.public:
                self._read_subdivision(r, subdivisions[r.position])
            if override is not None:
                self._zones[r.position] = (override,)
                continue
            zones: dict[str, None] = {}
            for n in numbers:
                found = zones_for_number(n)
                if not found:
                    self._unknown[r.position] = f"time zone unknown for {n}: give the zone with {self._tz_name}"
                    break
                zones.update(dict.fromkeys(found))
            self._zones[r.position] = tuple(zones)
        if self._bad:
            raise CampaignError(f"{opt('public_holidays')}: {len(self._bad)} row(s) name a subdivision their "
                                f"country does not have: {'; '.join(self._bad[:10])}"
                                f"{' ...' if len(self._bad) > 10 else ''}")
        self._cache: dict[tuple, WindowStatus] = {}
        self._cache_at: _dt.datetime | None = None

    def _read_subdivision(self, row: Any, value: Any) -> None:
        from .holidays import check_subdivision

        try:
            found = check_subdivision(self._country[row.position], value)
        except CampaignError as exc:
            self._bad.append(f"row {row.label!r}: {exc}")
            return
        if found:
            self._subdivision[row.position] = found

    def _overrides(self, tz: Any, rows: list) -> list:
        name = self._tz_name
        if tz is None:
            return [None] * len(rows)

        import pandas as pd

        def zone(value: Any, where: str) -> str | None:
            if value is None or (not isinstance(value, str) and pd.isna(value)) or not str(value).strip():
                return None  # blank (None, NaN, pd.NA, ""): the number's own zones
            text = str(value).strip()
            if zone_info(text) is None:
                raise CampaignError(f"{name}{where}: unknown time zone {text!r} (an IANA name like 'Europe/Amsterdam')")
            return text

        if isinstance(tz, str):
            one = zone(tz, "")
            return [one] * len(rows)
        if isinstance(tz, Mapping):
            from ...numbers import try_normalize

            table = {}
            for number, value in tz.items():
                normal, _ = try_normalize(number)
                table[normal or str(number)] = zone(value, f"[{number!r}]")
            return [table.get((r.callee or "").split(";")[0]) for r in rows]
        values = list(tz.tolist() if hasattr(tz, "tolist") else tz)
        if len(values) != len(rows):
            raise CampaignError(f"{name} has {len(values)} values for {len(rows)} rows: give one zone, a mapping "
                                f"number -> zone, or one zone per row")
        return [zone(v, f" (row {r.label!r})") for v, r in zip(values, rows, strict=True)]

    def status(self, position: int, now: _dt.datetime) -> WindowStatus:
        """Where row *position* stands at *now* (rows sharing zones and country are judged once per instant)."""
        if position in self._unknown:
            return WindowStatus(False, None, None, self._unknown[position])
        zones = self._zones.get(position, ())
        if not zones:
            return WindowStatus(False, None, None, f"time zone unknown: give the zone with {self._tz_name}")
        if now != self._cache_at:
            self._cache, self._cache_at = {}, now
        country = self._country.get(position) if self.hours.holidays.per_country else None
        subdivision = self._subdivision.get(position) if self.hours.holidays.public else None
        key = (zones, country, subdivision)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self.hours.status(zones, now=now, country=country, subdivision=subdivision)
        return found

    def zones(self, position: int) -> tuple[str, ...]:
        """The zones row *position* is judged in."""
        return self._zones.get(position, ())


def calling_hours_from(calling_hours: Any, *, days: Any, holidays: Any,
                       public_holidays: bool = False) -> CallingHours | None:
    """The options' :class:`CallingHours`, or None when there are no calling hours.

    Calling hours apply when ``calling_hours``, ``holidays`` or ``public_holidays`` is given
    (holidays alone: whole days, ``00:00-24:00`` on *days*). ``days`` other than the default
    needs one of them.
    """
    if calling_hours is None and holidays is None and not public_holidays:
        if days not in (None, "mon-fri"):
            raise CampaignError(f"{opt('days')} needs {opt('calling_hours')} (write '00:00-24:00' for whole days)")
        return None
    return parse_calling_hours(calling_hours, days="mon-fri" if days is None else days, holidays=holidays,
                               public_holidays=public_holidays)


def plan_subdivisions(plan: Any) -> list | None:
    """Each row's subdivision by position, from the column ``columns={"subdivision": ...}`` kept with the plan.

    None when the plan names no such column: public holidays are then nationwide.
    """
    column = plan.options.get("subdivision")
    kept = plan.kept
    if not column or kept is None or column not in kept.columns:
        return None
    return kept[column].tolist()
