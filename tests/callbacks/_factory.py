"""Callback dicts built in code, shaped like the contract's examples (no simulator needed)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

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
