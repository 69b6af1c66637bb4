"""Callback dicts built in code, shaped like the contract's examples (no simulator needed)."""
from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path

from cmvoice_nb.callbacks.load import CallbackWarning, load_callbacks

TYPES = {"notification": "notification-finished", "otp": "otp-finished", "dtmf": "dtmf-finished"}
DESCRIPTIONS = {9: "Cancelled", 10: "Finished", 11: "Failed", 12: "Call rejected"}
T0 = dt.datetime(2024, 3, 1, 9, 0, 0, tzinfo=dt.timezone.utc)


def iso(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def callback(
    i: int = 0,
    *,
    app: str = "notification",
    code: int = 10,
    ring_s: float = 5.0,
    talk_s: float = 20.0,
    start: dt.datetime | None = None,
    callee: str = "0031612345678",
    digits: str | None = None,
    instruction_id: str | None = None,
    **extra,
) -> dict:
    """One callback as the provider sends it; answered-on only for code 10."""
    started = start or (T0 + dt.timedelta(minutes=i))
    cb = {
        "type": TYPES[app],
        "call-id": f"00000000-0000-4000-8000-{i:012d}",
        "instruction-id": instruction_id if instruction_id is not None else f"row-{i}",
        "caller": "0031201234567",
        "callee": callee,
        "result": {"code": code, "description": DESCRIPTIONS.get(code, "Other")},
        "started-on": iso(started),
    }
    if code == 10:
        answered = started + dt.timedelta(seconds=ring_s)
        cb["answered-on"] = iso(answered)
        cb["finished-on"] = iso(answered + dt.timedelta(seconds=talk_s))
    else:
        cb["finished-on"] = iso(started + dt.timedelta(seconds=ring_s))
    if app == "dtmf":
        cb["digits"] = digits if digits is not None else ("1234" if code == 10 else "")
    cb.update(extra)
    return cb


def write_jsonl(path: Path, items) -> Path:
    """Write dicts (serialised) or raw strings (as given) one per line."""
    lines = [x if isinstance(x, str) else json.dumps(x) for x in items]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def quiet_load(source, **kw):
    """``load_callbacks`` for tests that look at the LoadReport rather than the warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CallbackWarning)
        return load_callbacks(source, **kw)


def sample():
    """Five callbacks over the three apps: every outcome (Finished twice), DTMF digits with a leading zero."""
    return [
        callback(0, app="notification", code=10, ring_s=4, talk_s=30),
        callback(1, app="otp", code=9, ring_s=60),
        callback(2, app="dtmf", code=10, digits="0042", ring_s=2, talk_s=10),
        callback(3, app="dtmf", code=12, ring_s=1),
        callback(4, app="notification", code=11, ring_s=0.5),
    ]


# The provider's documented example values (API-CONTRACT.md, "Callbacks"; the seed's example
# callback): sip-disconnect-code is alphanumeric and the example sends "BYE", the reason may be
# empty, answered-on is null when nobody answered, times come with and without milliseconds,
# and the caller may be "anonymous".
PROVIDER_FAILED = {
    "type": "notification-finished",
    "call-id": "6d0f176e-00ac-4de2-a04d-b3f7c895adb0",
    "instruction-id": "aeba8cae-eadd-4b49-9350-8061893b3d66",
    "caller": "anonymous",
    "callee": "0031612345678",
    "result": {"code": 11, "description": "Failed", "sip-disconnect-code": "BYE", "sip-disconnect-reason": ""},
    "started-on": "2018-02-09T11:00:31Z",
    "answered-on": None,
    "finished-on": "2018-02-09T11:00:48.112Z",
}


# Three follow-up waves of four people (ids ``<id>``, ``<id>-w2``, ``<id>-w3`` as plan_followup
# derives them):
#
# * ann: wave 1 Cancelled, wave 2 Finished                -> answered after 2 attempts
# * bob: wave 1 Failed, wave 2 Cancelled, wave 3 Finished -> answered after 3 attempts
# * cem: wave 1 Finished                                  -> answered after 1 attempt
# * dan: wave 1 Rejected (12)                             -> never followed up, never answered
ANN, BOB, CEM, DAN = "+31612345601", "+31612345602", "+31612345603", "+31612345604"
WAVE_ATTEMPTS = [  # (instruction id, callee, wave, call id, result code)
    ("c-ann", ANN, 1, "a1", 9), ("c-bob", BOB, 1, "b1", 11), ("c-cem", CEM, 1, "c1", 10), ("c-dan", DAN, 1, "d1", 12),
    ("c-ann-w2", ANN, 2, "a2", 10), ("c-bob-w2", BOB, 2, "b2", 9),
    ("c-bob-w3", BOB, 3, "b3", 10),
]


def wave_calls():
    """The callbacks of :data:`WAVE_ATTEMPTS`, wave *w* on 2024-05-0*w*."""
    return load_callbacks([{"type": "notification-finished", "call-id": cid, "instruction-id": i, "callee": c,
                            "result": {"code": code}, "started-on": f"2024-05-0{w}T10:00:00Z",
                            "finished-on": f"2024-05-0{w}T10:01:00Z"}
                           for i, c, w, cid, code in WAVE_ATTEMPTS], warn=False)
