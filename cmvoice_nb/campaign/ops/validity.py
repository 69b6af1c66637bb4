"""Validity windows: until when a row may still be placed, after which it ends ``expired`` for good.

A call is worth placing only for a while: a one-time code is worthless ten minutes later, an
appointment reminder after the appointment. ``valid_until=`` is one instant for every row;
``valid_for=`` a duration counted from when the row was first registered in its wave (each
follow-up wave has its own window). With both, the earlier end counts. A row not placed by its
end is ``expired`` (final) and never sent later, whatever kept it waiting: its calling hours,
the budget, the pace or a stopped run. The end of each row's window is stored in the journal
when the row is registered, so a resumed run honours the window it was first given.

An OTP campaign has ``valid_for="10m"`` unless told otherwise (:data:`OTP_VALID_FOR`);
``valid_for=None`` turns the window off.

Examples
--------
>>> import datetime as dt
>>> v = parse_validity(valid_for="30m", app="notification")
>>> v
Validity(until=None, span='0:30:00')
>>> start = dt.datetime(2026, 4, 27, 8, 0, tzinfo=dt.timezone.utc)
>>> v.deadline(start).isoformat()
'2026-04-27T08:30:00+00:00'
>>> parse_validity(app="otp").span, parse_validity(app="otp", valid_for=None).span
(datetime.timedelta(seconds=600), None)
"""
from __future__ import annotations

import datetime as _dt
import re
from typing import Any, NamedTuple

from ...errors import CampaignError
from ...messages import opt

__all__ = ["Validity", "parse_validity", "parse_duration", "parse_instant", "expiry_reason", "OTP_VALID_FOR",
           "AUTO"]

#: The window of an OTP campaign when ``valid_for`` is not given: a code read out later is worthless.
OTP_VALID_FOR = _dt.timedelta(minutes=10)
#: ``valid_for``'s default: :data:`OTP_VALID_FOR` for an OTP campaign, no window otherwise.
AUTO = "auto"

_UNITS = {"s": 1, "sec": 1, "second": 1, "seconds": 1, "m": 60, "min": 60, "mins": 60, "minute": 60,
          "minutes": 60, "h": 3600, "hr": 3600, "hour": 3600, "hours": 3600, "d": 86400, "day": 86400,
          "days": 86400, "w": 604800, "week": 604800, "weeks": 604800}
_PART = re.compile(r"(\d+(?:[.,]\d+)?)\s*([a-z]+)")


class Validity(NamedTuple):
    """A validity window: an instant (*until*, aware UTC) and/or a span from registration (*span*)."""

    until: _dt.datetime | None = None
    span: _dt.timedelta | None = None

    def __bool__(self) -> bool:
        return self.until is not None or self.span is not None

    def deadline(self, registered: _dt.datetime) -> _dt.datetime | None:
        """The end of the window of a row first registered at *registered* (None: no window)."""
        ends = [e for e in (self.until, registered + self.span if self.span is not None else None) if e is not None]
        return min(ends) if ends else None

    def __repr__(self) -> str:
        until = None if self.until is None else self.until.isoformat()
        span = None if self.span is None else str(self.span)
        return f"Validity(until={until!r}, span={span!r})"


def parse_duration(value: Any, *, name: str = "valid_for") -> _dt.timedelta:
    """``"30m"``, ``"2h"``, ``"1d"``, ``"1h30m"``, ``"90s"``, ``"1,5h"``, seconds, or a timedelta, as a timedelta.

    Examples
    --------
    >>> parse_duration("1h30m"), parse_duration("1,5 h"), parse_duration(90)
    (datetime.timedelta(seconds=5400), datetime.timedelta(seconds=5400), datetime.timedelta(seconds=90))
    >>> parse_duration("soon")
    Traceback (most recent call last):
    ...
    cmvoice_nb.errors.CampaignError: valid_for=: 'soon' is not a duration (write e.g. 30m, 2h, 1d or 1h30m)
    """
    where = opt(name)
    if isinstance(value, _dt.timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = str(value).strip().lower()
        parts = _PART.findall(text)
        if not text or not parts or _PART.sub("", text).strip() or any(u not in _UNITS for _n, u in parts):
            raise CampaignError(f"{where}: {value!r} is not a duration (write e.g. 30m, 2h, 1d or 1h30m)")
        seconds = sum(float(n.replace(",", ".")) * _UNITS[u] for n, u in parts)
    if not seconds > 0 or seconds != seconds:
        raise CampaignError(f"{where}: {value!r} must be longer than nothing")
    return _dt.timedelta(seconds=seconds)


def parse_instant(value: Any, *, name: str = "valid_until") -> _dt.datetime:
    """An aware datetime (UTC) from a datetime or ISO text with its offset (``2026-04-27T18:00+02:00``).

    Examples
    --------
    >>> parse_instant("2026-04-27T18:00+02:00").isoformat()
    '2026-04-27T16:00:00+00:00'
    >>> parse_instant("2026-04-27 18:00")
    Traceback (most recent call last):
    ...
    cmvoice_nb.errors.CampaignError: valid_until=: '2026-04-27 18:00' has no time zone (write e.g. ...)
    """
    where = opt(name)
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, str):
        text = value.strip()
        try:
            value = _dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            raise CampaignError(f"{where}: {text!r} is not a time (write e.g. 2026-04-27T18:00+02:00)") from None
    if not isinstance(value, _dt.datetime):
        raise CampaignError(f"{where}: {value!r} is not a time (write e.g. 2026-04-27T18:00+02:00)")
    if value.tzinfo is None or value.utcoffset() is None:
        raise CampaignError(f"{where}: {value.isoformat(sep=' ', timespec='minutes')!r} has no time zone (write e.g. "
                            "2026-04-27T18:00+02:00, or Z for UTC)")
    return value.astimezone(_dt.timezone.utc)


def parse_validity(*, valid_until: Any = None, valid_for: Any = AUTO, app: str | None = None) -> Validity:
    """The window the options give: *valid_until* (a time), *valid_for* (a duration, ``"none"``/None: none).

    *valid_for* left at :data:`AUTO` is :data:`OTP_VALID_FOR` for an OTP campaign, none otherwise.
    """
    if isinstance(valid_for, str) and valid_for.strip().lower() == AUTO:
        span = OTP_VALID_FOR if str(app or "").lower() == "otp" else None
    elif valid_for is None or (isinstance(valid_for, str) and valid_for.strip().lower() in ("none", "off", "")):
        span = None
    else:
        span = parse_duration(valid_for)
    until = None if valid_until is None or valid_until == "" else parse_instant(valid_until)
    return Validity(until, span)


def expiry_reason(deadline: _dt.datetime, *, waited: str = "") -> str:
    """Why a row ended ``expired``: its window's end, and what it was waiting for (a message template).

    Examples
    --------
    >>> import datetime as dt
    >>> expiry_reason(dt.datetime(2026, 4, 27, 8, 30, tzinfo=dt.timezone.utc), waited="its calling hours")
    'not placed by 2026-04-27 08:30 UTC, the end of its validity window (it waited for its calling hours); ...'
    """
    why = f" (it waited for {waited})" if waited else ""
    return (f"not placed by {deadline.astimezone(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC, the end of its validity "
            f"window{why}; never sent later")
