"""What one request to the simulator means: token, faults, validation, placing the calls.

:func:`handle` is called by the HTTP transport (:mod:`~cmvoice_nb.simulator.server`) with the
request handler; it answers like the provider, records the request in the simulator's
:class:`~cmvoice_nb.simulator._book.CallBook` and schedules each placed call's callback.
The outcome of a call is decided by :func:`~cmvoice_nb.simulator.physics.plan_call`; this
module turns that plan into the records and the provider's callback body.
"""
from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from .. import spec as _spec
from ..errors import CMVoiceError, redact
from .physics import behaviour_for, iso_utc, plan_call

if TYPE_CHECKING:
    from ._book import CallBook
    from .delivery import Scheduler
    from .server import Handler


class SimulatorState(Protocol):
    """What answering a request reads and changes of the :class:`~cmvoice_nb.simulator.Simulator`."""

    @property
    def token(self) -> str: ...

    speed: float
    audio_root: Path | None
    callback_url: str | None
    dtmf_script: Any
    behaviour_by: tuple
    on_request: Callable[..., Any] | None
    _book: CallBook
    _scheduler: Scheduler
    _prompts: Any

    def _draw_fault(self) -> tuple[dict[str, Any], float]: ...

    def _new_call(self) -> tuple[str, random.Random, Any]: ...

logger = logging.getLogger(__name__)

#: Path prefix of the provider's API (taken from its documented base URL).
BASE_PATH = urlsplit(_spec.DEFAULT_BASE_URL).path


def handle(sim: SimulatorState, h: Handler) -> None:
    """Answer one request; count it as pending meanwhile, since it may still place calls."""
    # A request in progress (e.g. sleeping on injected latency) may still place calls:
    # wait_idle() must wait for it too.
    sim._scheduler.hold()
    try:
        _answer(sim, h)
    finally:
        sim._scheduler.release()


def _answer(sim: SimulatorState, h: Handler) -> None:
    from .server import ENDPOINTS, Dropped, format_seconds, read_body, reply

    received = datetime.now(timezone.utc)
    received_mono = time.monotonic()
    path = urlsplit(h.path).path
    record: dict[str, Any] = {"time": received, "method": h.command, "path": path, "app": None,
                              "status": None, "fault": None, "latency_s": 0.0, "instruction_id": None,
                              "callees": None, "call_ids": None, "message": None, "body": None}
    # Recorded on arrival and filled in as we go (every key exists already, so readers copying
    # it meanwhile are safe): a client that got its answer always finds its request here.
    sim._book.add_request(record)
    try:
        body, body_error = read_body(h)
        if body is not None:
            record["body"] = redact(body.decode("utf-8", "replace"), sim.token)
        faults, u = sim._draw_fault()
        if faults["latency_s"] > 0:
            record["latency_s"] = faults["latency_s"]
            time.sleep(faults["latency_s"])
        if body_error is not None:
            status, message = body_error
            reply(h, record, status, {"message": message}, close=True)
            return
        app = ENDPOINTS.get(path[len(BASE_PATH) + 1:]) if path.startswith(BASE_PATH + "/") else None
        if app is None:
            reply(h, record, 404, {"message": f"no such endpoint {path!r}: POST {BASE_PATH}/"
                                              + f", {BASE_PATH}/".join(ENDPOINTS)})
            return
        record["app"] = app
        if h.command != "POST":
            reply(h, record, 405, {"message": f"{h.command} not allowed: use POST"}, headers={"Allow": "POST"})
            return
        token = h.headers.get(_spec.TOKEN_HEADER)
        if not token or not token.strip():
            reply(h, record, 401, {"message": f"missing {_spec.TOKEN_HEADER} header (your product token)"})
            return
        if token.strip().lower() != sim.token.lower():
            reply(h, record, 401, {"message": "unknown product token"})
            return
        fault = _pick_fault(faults, u)
        if fault == "429":
            record["fault"] = "429"
            reply(h, record, 429, {"message": "Too many requests, slow down"},
                  headers={"Retry-After": format_seconds(faults["retry_after_s"])})
            return
        if fault == "5xx":
            record["fault"] = "5xx"
            status = int(faults["status_5xx"])
            headers = {"Retry-After": format_seconds(faults["retry_after_s"])} if status == 503 else {}
            reply(h, record, status, {"message": "Service unavailable" if status == 503
                                      else "Internal server error"}, headers=headers)
            return
        _process(sim, h, record, app, body or b"", received, received_mono, drop=fault == "drop")
    except Dropped:
        pass
    except OSError:
        # The client went away (e.g. its read timeout fired during injected latency) or the
        # simulator is closing: there is nobody to answer.
        logger.debug("client left before the answer to %s %s", h.command, path)
        h.close_connection = True
    except Exception as exc:  # a simulator bug must still answer, and be visible
        logger.exception("simulator failed on %s %s", h.command, path)
        try:
            reply(h, record, 500, {"message": f"simulator error: {type(exc).__name__}"}, close=True)
        except OSError:
            pass
    finally:
        if sim.on_request is not None:
            try:
                sim.on_request(dict(record))
            except Exception:
                logger.exception("on_request hook failed")


def _pick_fault(faults: dict, u: float) -> str | None:
    """One uniform draw per request picks at most one fault: ``429`` | ``5xx`` | ``drop`` | None.

    Examples
    --------
    >>> rates = {"rate_429": 0.1, "rate_5xx": 0.2, "rate_drop": 0.3}
    >>> [_pick_fault(rates, u) for u in (0.05, 0.15, 0.45, 0.95)]
    ['429', '5xx', 'drop', None]
    """
    if u < faults["rate_429"]:
        return "429"
    if u < faults["rate_429"] + faults["rate_5xx"]:
        return "5xx"
    if u < faults["rate_429"] + faults["rate_5xx"] + faults["rate_drop"]:
        return "drop"
    return None


def _process(sim: SimulatorState, h: Handler, record: dict, app: str, body: bytes, received: datetime,
             received_mono: float, *, drop: bool) -> None:
    from ..instructions import instruction_from_json
    from .server import drop as drop_connection, reply

    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        reply(h, record, 400, {"message": f"body is not valid JSON: {exc}"})
        return
    if not isinstance(data, dict):
        reply(h, record, 400, {"message": f"body must be one JSON object, got {type(data).__name__}"})
        return
    raw_id = data.get("instruction-id")
    record["instruction_id"] = redact(raw_id, sim.token) if isinstance(raw_id, str) else None
    try:
        inst = instruction_from_json(app, data)
    except (CMVoiceError, ValueError, TypeError, KeyError) as exc:
        reply(h, record, 400, {"message": redact(str(exc), sim.token)})
        return
    wire = inst.to_json()
    skip_invalid = bool(wire.get("disable-callees-validation"))
    problems = list(inst.validate())
    callees = [str(c) for c in inst.callee_list()]
    bad_callees: dict[str, str] = {}
    if skip_invalid:
        # disable-callees-validation: a callee the shared rules refuse is skipped (success: false)
        # instead of refusing the whole instruction; every other problem still refuses it.
        for p in problems:
            if p.field in ("callee", "callees") and isinstance(p.value, str) and p.value in callees:
                bad_callees.setdefault(p.value, f"{p.field}: {p.message}")
        problems = [p for p in problems if not (p.field in ("callee", "callees") and p.value in bad_callees)]
    if problems:
        message = "; ".join(f"{p.field}: {p.message}" for p in problems)
        reply(h, record, 400, {"message": message,
                               "problems": [{"field": p.field, "message": p.message} for p in problems]})
        return
    instruction_id = wire.get("instruction-id")
    record["instruction_id"] = redact(instruction_id, sim.token) if instruction_id else None
    record["callees"] = ";".join(callees)
    caller = wire.get("caller")
    shown_caller = "anonymous" if wire.get("anonymous") else caller
    url = wire.get("callback-url") or sim.callback_url

    results, call_ids = [], []
    for callee in callees:
        error = bad_callees.get(callee)
        if error is not None:
            item = {"type": _spec.CALL_QUEUED_TYPE, "caller": caller, "callee": callee,
                    "success": False, "error": error}
            if instruction_id:
                item["instruction-id"] = instruction_id
            results.append(item)
            continue
        call_id = _place(sim, app, wire, callee, shown_caller, instruction_id, url, received, received_mono,
                         dropped=drop)
        call_ids.append(call_id)
        item = {"type": _spec.CALL_QUEUED_TYPE, "call-id": call_id, "caller": caller, "callee": callee,
                "success": True}
        if instruction_id:
            item["instruction-id"] = instruction_id
        results.append(item)
    record["call_ids"] = ";".join(call_ids)
    if drop:
        record["fault"] = "drop"
        record["status"] = None
        drop_connection(h)
    reply(h, record, 200, results)


def _place(sim: SimulatorState, app: str, wire: dict, callee: str, shown_caller: str | None, instruction_id: str | None,
           url: str | None, received: datetime, received_mono: float, *, dropped: bool) -> str:
    """Place one call: plan it, record it, schedule its callback; returns the call id."""
    call_id, call_rng, behaviour = sim._new_call()
    if sim.behaviour_by:
        behaviour = behaviour_for(behaviour, sim.behaviour_by, wire, instruction_id)
    root = sim.audio_root
    plan = plan_call(app, wire, callee, rng=call_rng, behaviour=behaviour,
                     file_duration_s=(lambda path: sim._prompts.seconds(root, path)) if root else None,
                     dtmf_inputs=script_for(sim.dtmf_script, callee) if app == "dtmf" else None)
    started = received
    answered = started + timedelta(seconds=plan.ring_s) if plan.answered else None
    finished = started + timedelta(seconds=plan.duration_s)
    rc = _spec.RESULT_CODES[plan.result_code]
    result: dict[str, Any] = {"code": rc.code, "description": rc.description}
    if plan.sip_code is not None:
        result["sip-disconnect-code"] = plan.sip_code
        result["sip-disconnect-reason"] = plan.sip_reason
    payload: dict[str, Any] = {"type": _spec.APPS[app].callback_type, "call-id": call_id}
    if instruction_id:
        payload["instruction-id"] = instruction_id
    payload.update({"caller": shown_caller, "callee": callee, "result": result,
                    "started-on": iso_utc(started),
                    "answered-on": iso_utc(answered) if answered else None,
                    "finished-on": iso_utc(finished)})
    if app == "dtmf":
        payload["digits"] = plan.digits  # always a string for DTMF ("" without valid input)
    # The records are for showing: scrub the token even if a user typed it into a field.
    sim._book.add_call({
        "call_id": call_id, "instruction_id": redact(instruction_id, sim.token) if instruction_id else None,
        "app": app, "callee": callee, "caller": shown_caller, "result_code": plan.result_code,
        "started_on": started, "answered_on": answered, "finished_on": finished, "ring_s": plan.ring_s,
        "talk_s": plan.talk_s, "digits": plan.digits, "voicemail": plan.voicemail,
        "replays": plan.replays if app != "dtmf" else None, "dtmf_attempts": plan.dtmf_attempts,
        "response": "dropped" if dropped else "ok", "callback_url": url,
        "callback_status": "pending" if url else "no-url", "callback_attempts": 0})
    if url:
        due = received_mono + plan.duration_s / sim.speed
        sim._scheduler.schedule(due, {"call_id": call_id, "url": url, "payload": payload, "attempt": 0})
    return call_id


def script_for(script: dict[str, list[str]], callee: str) -> list[str] | None:
    """The DTMF input scripted for *callee*, matched as written, normalised or digits only.

    Examples
    --------
    >>> script_for({"31612345610": ["12#", ""]}, "+31 6 1234 5610")
    ['12#', '']
    >>> script_for({"+31612345610": ["9#"]}, "+31612345611") is None
    True
    """
    if not script:
        return None
    for key in (callee, _normalised(callee), re.sub(r"\D", "", callee)):
        if key in script:
            return script[key]
    wanted = re.sub(r"\D", "", _normalised(callee))
    for key, value in script.items():
        if re.sub(r"\D", "", _normalised(key)) == wanted:
            return value
    return None


def _normalised(callee: str) -> str:
    from ..numbers import normalize_number

    try:
        return normalize_number(callee)
    except (ValueError, TypeError):
        return str(callee)


class PromptDurations:
    """The duration of each File prompt under the account root, read once (None: no such WAV)."""

    def __init__(self) -> None:
        self._seen: dict[str, float | None] = {}

    def seconds(self, root: Path, prompt_path: str) -> float | None:
        if prompt_path in self._seen:
            return self._seen[prompt_path]
        root = root.resolve()
        candidate = (root / prompt_path.lstrip("/\\")).resolve()
        # A prompt path is relative to the account root: never read outside it.
        from ..audio.wavfile import wav_duration_s  # numpy comes with it: not at import time

        seconds = wav_duration_s(candidate) if candidate.is_relative_to(root) and candidate.is_file() else None
        self._seen[prompt_path] = seconds
        return seconds


def new_call_rng(rng: random.Random) -> tuple[str, random.Random]:
    """A call id (a UUID4 from the seeded stream *rng*) and the call's own random stream."""
    import uuid

    return str(uuid.UUID(int=rng.getrandbits(128), version=4)), random.Random(rng.getrandbits(64))


__all__ = ["BASE_PATH", "handle", "script_for", "PromptDurations", "new_call_rng"]
