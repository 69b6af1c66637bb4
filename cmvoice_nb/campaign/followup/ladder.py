"""The retry ladder: per outcome of a call, how long to wait before each next wave, or never.

A call that rang out is worth trying again in half an hour; a busy line sooner; a number that
does not exist (SIP 404) never. ``retry_ladder=`` maps each outcome to its steps, one per wave:
``{"not-answered": ["30m", "2h", "4h"], "busy": ["10m", "30m"], "failed:404": "never"}`` waits 30
minutes before the second wave of a row whose call rang out, 2 hours before the third, 4 hours
before the fourth, and calls no fifth time (the last step is not repeated: a ladder ends). One
duration (``"1h"``) is the same wait before every wave.

The outcomes (:data:`OUTCOMES`), from the call's callback:

=================  ==========================================================================
``not-answered``   it rang until the ringing timeout (``Cancelled``)
``busy``           ``Rejected`` or ``Failed`` with SIP 486 (Busy Here) or 600 (Busy Everywhere)
``rejected``       ``Rejected`` for another cause (declined, forbidden): usually a person's no
``failed``         ``Failed`` for another cause; ``failed:<SIP code>`` (``failed:404``) for one cause
``voicemail``      answered by a voicemail box, where the callback says so (CM's callbacks do not
                   today: such a call counts as answered)
=================  ==========================================================================

``max_attempts`` still caps the calls per person over every wave. The short form of the
follow-up options (``outcomes=``, ``min_gap=``) is the ladder "each listed outcome: *min_gap*
before every wave; every other outcome: never" (:meth:`RetryLadder.short_form`).

:data:`DEFAULT_RETRY_LADDER` (``retry_ladder="default"``) follows what voice platforms document:
escalating waits like Infobip's voice retry schedule (1 min … 24 h, growing between attempts, at
most 4 retries, within the message's validity) and a short retry for a busy line, no retry for a
number that does not exist, and no retry for a declined call (Amazon Connect counts every call as
a contact towards its per-recipient limits, so a refusal is not asked again).

Examples
--------
>>> ladder = parse_retry_ladder({"not-answered": ["30m", "2h"], "failed:404": "never"})
>>> ladder.wait("not-answered", wave=2), ladder.wait("not-answered", wave=3), ladder.wait("not-answered", wave=4)
(datetime.timedelta(seconds=1800), datetime.timedelta(seconds=7200), None)
>>> ladder.wait(outcome_key("Failed", "404"), wave=2) is None
True
"""
from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any, NamedTuple

from ...errors import CampaignError
from ...messages import opt
from ...spec import RESULT_CODES

__all__ = ["RetryLadder", "parse_retry_ladder", "outcome_key", "OUTCOMES", "BUSY_SIP", "DEFAULT_RETRY_LADDER",
           "NEVER"]

#: The outcomes a ladder has steps for (``failed:<SIP code>`` besides).
OUTCOMES = ("not-answered", "busy", "rejected", "failed", "voicemail")
#: SIP causes that mean the line was busy.
BUSY_SIP = ("486", "600")
#: A step that ends the ladder.
NEVER = "never"
#: The documented default (``retry_ladder="default"``): see the module's text for its sources.
DEFAULT_RETRY_LADDER: Mapping[str, Any] = {
    "not-answered": ("30m", "2h", "4h"),
    "busy": ("10m", "30m", "1h"),
    "failed": ("30m", "2h"),
    "failed:404": NEVER,  # Not Found: the number does not exist
    "failed:410": NEVER,  # Gone
    "failed:484": NEVER,  # Address Incomplete
    "failed:604": NEVER,  # Does Not Exist Anywhere
    "rejected": NEVER,
    "voicemail": NEVER,
}

_CANCELLED, _FAILED, _REJECTED = RESULT_CODES[9].name, RESULT_CODES[11].name, RESULT_CODES[12].name


def outcome_key(outcome: str | None, sip: Any = None, voicemail: bool = False) -> str | None:
    """The ladder's name for a call's ending: its outcome, SIP cause and voicemail flag (None: not a retry case).

    Examples
    --------
    >>> outcome_key("Cancelled"), outcome_key("Rejected", 486), outcome_key("Failed", "503"), outcome_key("Finished")
    ('not-answered', 'busy', 'failed:503', None)
    """
    code = None if sip is None or str(sip).strip() in ("", "nan", "None") else str(sip).strip().split(".")[0]
    if voicemail:
        return "voicemail"
    if outcome == _CANCELLED:
        return "not-answered"
    if outcome in (_FAILED, _REJECTED) and code in BUSY_SIP:
        return "busy"
    if outcome == _REJECTED:
        return "rejected"
    if outcome == _FAILED:
        return f"failed:{code}" if code else "failed"
    return None


class RetryLadder(NamedTuple):
    """Outcome key → its steps (a tuple of waits, each a timedelta, or None for never).

    *repeat* names the outcomes given one duration: that wait holds before every wave.
    """

    steps: Mapping[str, tuple]
    repeat: frozenset = frozenset()

    def wait(self, key: str | None, *, wave: int) -> _dt.timedelta | None:
        """How long after the latest call wave *wave* (2, 3...) may call; None: never."""
        if key is None:
            return None
        steps = self.steps.get(key)
        if steps is None and key.startswith("failed:"):
            key = "failed"  # a cause without a step of its own: as any failure
            steps = self.steps.get(key)
        if not steps:
            return None
        if key in self.repeat:
            return steps[0]  # one duration: the same wait before every wave
        index = wave - 2
        return steps[index] if 0 <= index < len(steps) else None

    @classmethod
    def short_form(cls, outcomes: Any, min_gap: _dt.timedelta) -> RetryLadder:
        """The ladder of ``outcomes=`` and ``min_gap=``: each listed outcome waits *min_gap*, every wave."""
        keys = set()
        for o in outcomes:
            keys.add({_CANCELLED: "not-answered", _REJECTED: "rejected", _FAILED: "failed"}.get(o, o))
        steps: dict[str, tuple] = {k: (min_gap,) for k in keys}
        if "rejected" in keys or "failed" in keys:
            steps["busy"] = (min_gap,)
        return cls(steps, frozenset(steps))

    def describe(self) -> str:
        """The ladder in one line, for a plan's options and the operator."""
        def said(step: Any) -> str:
            return NEVER if step is None else _duration_text(step)

        return "; ".join(f"{k}={','.join(said(s) for s in v) or NEVER}" for k, v in self.steps.items())


def _duration_text(delta: _dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_retry_ladder(ladder: Any) -> RetryLadder:
    """A :class:`RetryLadder` from a mapping, ``"default"``, or text ``"not-answered=30m,2h; busy=10m"``.

    Raises
    ------
    CampaignError
        An outcome the ladder does not know (naming the known ones), or a step that is neither a
        duration nor ``never``; every bad entry is named at once.
    """
    from ..ops.validity import parse_duration

    where = opt("retry_ladder")
    if isinstance(ladder, RetryLadder):
        return ladder
    if isinstance(ladder, str) and ladder.strip().lower() == "default":
        ladder = DEFAULT_RETRY_LADDER
    if isinstance(ladder, str):
        entries = {}
        for part in filter(str.strip, ladder.replace("\n", ";").split(";")):
            key, sep, value = part.partition("=")
            if not sep:
                raise CampaignError(f"{where}: {part.strip()!r} is not outcome=steps (e.g. not-answered=30m,2h)")
            entries[key.strip()] = [v for v in value.split(",") if v.strip()]
        ladder = entries
    if not isinstance(ladder, Mapping):
        raise CampaignError(f"{where} must be a mapping outcome -> steps, 'default', or text like "
                            f"'not-answered=30m,2h; busy=10m', got {type(ladder).__name__}")
    steps: dict[str, tuple] = {}
    repeat = set()
    bad = []
    for key, value in ladder.items():
        name = str(key).strip().lower().replace("_", "-").replace(" ", "-")
        base, _colon, sip = name.partition(":")
        if base not in OUTCOMES or (sip and (base != "failed" or not sip.isdigit())):
            bad.append(f"{key!r} is not an outcome (known: {', '.join(OUTCOMES)}, failed:<SIP code>)")
            continue
        items = [value] if isinstance(value, (str, _dt.timedelta, int, float)) else list(value or [NEVER])
        parsed: list[_dt.timedelta | None] = []  # None: never again
        for item in items:
            if isinstance(item, str) and item.strip().lower() == NEVER:
                parsed.append(None)
                break  # nothing after never
            try:
                parsed.append(parse_duration(item.strip() if isinstance(item, str) else item, name="retry_ladder"))
            except CampaignError:
                bad.append(f"{key}: {item!r} is neither a duration (30m, 2h) nor never")
        steps[name] = tuple(parsed)
        if len(items) == 1 and parsed and parsed[0] is not None:
            repeat.add(name)  # one duration repeats; a list is a ladder that ends
    if bad:
        raise CampaignError(f"{where}: {'; '.join(bad)}")
    return RetryLadder(steps, frozenset(repeat))
