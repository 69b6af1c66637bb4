"""A faithful local simulator of the CM Voice API Apps, for demos, notebooks and tests.

:class:`Simulator` is a real HTTP server on loopback (``http.server`` in daemon
threads, so it runs inside a Jupyter kernel) that behaves like the provider:

* ``POST {base_url}/Notification``, ``/OTP`` and ``/DTMF`` with ``X-CM-PRODUCTTOKEN``;
* validates bodies with the very same rules as the client
  (:func:`cmvoice_nb.instructions.instruction_from_json` + ``validate()``) and answers
  ``400 {"message": ...}`` naming the field, ``401`` for any other token;
* answers ``200`` with the ``call-queued`` array, "places" each call with a
  deterministic, seeded outcome and POSTs the provider's callback JSON on an
  accelerated clock (``speed``);
* injects faults on demand (latency, 429 + ``Retry-After``, 5xx, dropped connection
  *after* the call was placed);
* keeps everything it received and did in :attr:`Simulator.requests`,
  :attr:`Simulator.calls` and :attr:`Simulator.deliveries` (DataFrames).

The call "physics" are pure functions (:func:`plan_call`, :func:`judge_dtmf`,
:func:`prompt_duration_s`, :func:`magic_result_code`, :func:`wav_duration_s`) so
they can be tested and reused without a server.

Examples
--------
>>> from cmvoice_nb.sandbox import Simulator
>>> from cmvoice_nb.instructions import Notification
>>> with Simulator(seed=1) as sim:
...     result = sim.client().send(Notification(callee="+31612345610", caller="+31201234567",
...                                             prompt="Hello", prompt_type="TTS"))
...     int(sim.calls.loc[0, "result_code"])             # ...10 is a magic ending: answered
10
"""
from __future__ import annotations

import heapq
import itertools
import json
import logging
import os
import random
import re
import socket
import socketserver
import struct
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import urlsplit

from . import spec as _spec
from .errors import CMVoiceError, ConfigurationError, redact
from ._http import send_json

logger = logging.getLogger(__name__)

#: The documented **test-only** product token the simulator accepts by default.
#: It is GUID-shaped like a real token, spells "7e57" (test) and is useless against
#: the real provider. Any other token gets ``401``.
SIMULATOR_TOKEN = "7e577e57-0000-4000-8000-000000000000"

#: Path prefix of the provider's API; ``sim.base_url`` ends with it.
BASE_PATH = "/voiceapi/v2"

#: Magic callee endings: the last two digits of the callee force this result code.
MAGIC_ENDINGS: Mapping[str, int] = {"09": 9, "10": 10, "11": 11, "12": 12}

#: SIP reasons the simulator reports with failed (11) and rejected (12) calls.
_SIP_REASONS: Mapping[int, tuple[tuple[int, str], ...]] = {
    11: ((503, "Service Unavailable"), (404, "Not Found"), (480, "Temporarily Unavailable")),
    12: ((603, "Decline"), (486, "Busy Here"), (403, "Forbidden")),
}

_MAX_BODY_BYTES = 1 << 20
_FAULT_KEYS = ("latency_s", "rate_429", "retry_after_s", "rate_5xx", "status_5xx", "rate_drop")
_REQUEST_COLUMNS = ("time", "method", "path", "app", "status", "fault", "latency_s",
                    "instruction_id", "callees", "call_ids", "message", "body")
_CALL_COLUMNS = ("call_id", "instruction_id", "app", "callee", "caller", "result_code",
                 "started_on", "answered_on", "finished_on", "ring_s", "talk_s", "digits",
                 "voicemail", "replays", "dtmf_attempts", "response", "callback_url",
                 "callback_status", "callback_attempts")
_DELIVERY_COLUMNS = ("time", "call_id", "url", "attempt", "status", "error", "ok")


# =============================================================================================
# Pure call physics
# =============================================================================================

def magic_result_code(number: str) -> int | None:
    """Result code forced by a callee's last two digits, or None for an ordinary number.

    Examples
    --------
    >>> magic_result_code("+31612345610"), magic_result_code("0031 6 1234 5612")
    (10, 12)
    >>> magic_result_code("+31612345678") is None
    True
    """
    digits = re.sub(r"\D", "", str(number))
    return MAGIC_ENDINGS.get(digits[-2:]) if len(digits) >= 2 else None


def iso_utc(moment: datetime) -> str:
    """Format a UTC datetime the way the provider does: ``2018-02-09T11:00:31.752Z``.

    Examples
    --------
    >>> iso_utc(datetime(2018, 2, 9, 11, 0, 31, 752499, tzinfo=timezone.utc))
    '2018-02-09T11:00:31.752Z'
    """
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def wav_duration_s(path: str | os.PathLike) -> float | None:
    """Duration of a WAV file from its RIFF header (any codec), or None when unreadable.

    Walks the RIFF chunks, because ffmpeg and pydub put ``LIST`` chunks before
    ``data`` and A-law files have a ``fact`` chunk; duration = data bytes / byte rate.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.wav"
    >>> fmt = struct.pack("<HHIIHH", 6, 1, 8000, 8000, 1, 8)     # A-law, 8 kHz, mono
    >>> _ = p.write_bytes(b"RIFF" + struct.pack("<I", 4 + 8 + 16 + 8 + 4000) + b"WAVE"
    ...                   + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", 4000) + bytes(4000))
    >>> wav_duration_s(p)
    0.5
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                return None
            byte_rate = None
            while True:
                chunk = fh.read(8)
                if len(chunk) < 8:
                    return None
                cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if cid == b"fmt ":
                    fmt = fh.read(size)
                    if len(fmt) < 16:
                        return None
                    byte_rate = struct.unpack("<I", fmt[8:12])[0]
                    if size % 2:
                        fh.seek(1, os.SEEK_CUR)
                elif cid == b"data":
                    if not byte_rate:
                        return None
                    # A streaming writer may leave 0 or 0xFFFFFFFF: fall back to the file size.
                    if size in (0, 0xFFFFFFFF):
                        here = fh.tell()
                        size = max(0, os.fstat(fh.fileno()).st_size - here)
                    return size / byte_rate
                else:
                    fh.seek(size + (size % 2), os.SEEK_CUR)
    except OSError:
        return None


def prompt_duration_s(text: str | None, prompt_type: str | None, *, words_per_s: float = 2.5,
                      file_duration_s: Callable[[str], float | None] | None = None,
                      default_file_s: float = 4.0) -> float:
    """How long a prompt plays, in seconds.

    TTS (and TTS_SSML, tags removed) speaks ``words_per_s`` words per second; a File
    prompt lasts as long as the file when ``file_duration_s`` knows it, else
    ``default_file_s``. An empty prompt lasts 0 s.

    Examples
    --------
    >>> prompt_duration_s("one two three four five", "TTS")
    2.0
    >>> prompt_duration_s("<speak>Hello <break time='1s'/> there</speak>", "TTS_SSML")
    0.8
    >>> prompt_duration_s("prompts/welcome.wav", "File")
    4.0
    """
    if not text:
        return 0.0
    kind = (prompt_type or "File").upper()
    if kind in ("TTS", "TTS_SSML"):
        spoken = re.sub(r"<[^>]*>", " ", text) if kind == "TTS_SSML" else text
        return len(spoken.split()) / words_per_s
    seconds = file_duration_s(text) if file_duration_s else None
    return float(seconds) if seconds is not None else float(default_file_s)


def judge_dtmf(raw: str | None, *, regex: str = "[0-9]*", min_digits: int = 0, max_digits: int = 99,
               terminators: str = "#") -> tuple[bool, str]:
    """Judge one DTMF attempt like the provider: ``(valid, digits)``.

    Input ends at the first terminator, which is not part of the digits (seed: "excluding
    the terminator symbol"). It is valid when there was input (``""``/None is a timeout),
    it has ``min_digits``..``max_digits`` characters and fully matches ``regex``.

    Examples
    --------
    >>> judge_dtmf("1234#", regex="[0-9]*", min_digits=2, max_digits=5)
    (True, '1234')
    >>> judge_dtmf("1#99", min_digits=2, max_digits=5)
    (False, '1')
    >>> judge_dtmf("12a", regex="[0-9]+", min_digits=1, max_digits=5)
    (False, '12a')
    """
    if not raw:
        return False, ""
    digits = raw
    for i, ch in enumerate(raw):
        if terminators and ch in terminators:
            digits = raw[:i]
            break
    if not digits:
        return False, ""
    ok = min_digits <= len(digits) <= max_digits and _compiled(regex).fullmatch(digits) is not None
    return ok, digits


_REGEX_CACHE: dict[str, re.Pattern] = {}


def _compiled(regex: str) -> re.Pattern:
    pattern = _REGEX_CACHE.get(regex)
    if pattern is None:
        pattern = re.compile(regex)
        if len(_REGEX_CACHE) < 512:
            _REGEX_CACHE[regex] = pattern
    return pattern


@dataclass(frozen=True)
class Behaviour:
    """The knobs of the simulated world (probabilities and speaking rates).

    Attributes
    ----------
    p_answer, p_rejected, p_failed
        Chance that an ordinary (non-magic) callee answers (10), rejects (12) or fails
        (11); the rest is not answered (9 Cancelled).
    p_voicemail
        Share of answered calls that reach voicemail.
    p_replay
        Chance the callee presses 1 to hear it again, at each replay opportunity.
    p_dtmf_valid
        Chance a generated DTMF attempt is valid.
    words_per_s, code_char_s, default_file_s
        TTS speaking rate, seconds per OTP code character, duration of a File prompt
        whose length is unknown.
    """

    p_answer: float = 0.75
    p_rejected: float = 0.05
    p_failed: float = 0.05
    p_voicemail: float = 0.1
    p_replay: float = 0.3
    p_dtmf_valid: float = 0.7
    words_per_s: float = 2.5
    code_char_s: float = 0.7
    default_file_s: float = 4.0

    def __post_init__(self) -> None:
        for name in ("p_answer", "p_rejected", "p_failed", "p_voicemail", "p_replay", "p_dtmf_valid"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and 0.0 <= value <= 1.0):
                raise ConfigurationError(f"{name} must be a probability between 0 and 1, got {value!r}")
        total = self.p_answer + self.p_rejected + self.p_failed
        if total > 1.0 + 1e-9:
            raise ConfigurationError(
                f"p_answer + p_rejected + p_failed must be at most 1 (the rest is Cancelled), got {total:g}")
        for name in ("words_per_s", "code_char_s"):
            if not getattr(self, name) > 0:
                raise ConfigurationError(f"{name} must be positive, got {getattr(self, name)!r}")
        if self.default_file_s < 0:
            raise ConfigurationError(f"default_file_s must be >= 0, got {self.default_file_s!r}")


@dataclass(frozen=True)
class CallPlan:
    """What happens on one simulated call (all durations in simulated seconds)."""

    result_code: int
    ring_s: float
    talk_s: float
    digits: str | None = None
    voicemail: bool = False
    replays: int = 0
    dtmf_attempts: int | None = None
    sip_code: int | None = None
    sip_reason: str | None = None

    @property
    def answered(self) -> bool:
        return self.result_code == 10

    @property
    def duration_s(self) -> float:
        return self.ring_s + self.talk_s


def _wire_value(wire: Mapping[str, Any], app: _spec.AppSpec, key: str) -> Any:
    # to_json() omits unset optional keys: fall back to the contract's default.
    value = wire.get(key)
    if value is None or value == "":
        try:
            return app.field(key).default
        except KeyError:
            return None
    return value


def plan_call(app: str, wire: Mapping[str, Any], callee: str, *, rng: random.Random,
              behaviour: Behaviour = Behaviour(),
              file_duration_s: Callable[[str], float | None] | None = None,
              dtmf_inputs: Sequence[str] | None = None) -> CallPlan:
    """Decide the outcome and timing of one call (pure: all chance comes from *rng*).

    Parameters
    ----------
    app
        ``"notification"``, ``"otp"`` or ``"dtmf"``.
    wire
        The instruction's wire dict (``inst.to_json()``).
    callee
        The number dialled; its last two digits may be magic (see :data:`MAGIC_ENDINGS`).
    rng
        Source of every random draw.
    behaviour
        Probabilities and speaking rates.
    file_duration_s
        Maps a File prompt's path to its duration (None when unknown).
    dtmf_inputs
        Per-attempt DTMF inputs (``"123#"``; ``""`` is a timeout) instead of generated ones.

    Examples
    --------
    >>> wire = {"callee": "+31612345610", "caller": "+31201234567", "prompt": "one two three four five",
    ...         "prompt-type": "TTS"}
    >>> plan = plan_call("notification", wire, "+31612345610", rng=random.Random(0))
    >>> plan.result_code, plan.talk_s
    (10, 2.0)
    """
    spec = _spec.APPS[app]
    ring_timeout_s = float(_wire_value(wire, spec, "max-ringing-timeout") or 60)
    code = magic_result_code(callee)
    magic = code is not None
    if code is None:
        u = rng.random()
        b = behaviour
        if u < b.p_answer:
            code = 10
        elif u < b.p_answer + b.p_rejected:
            code = 12
        elif u < b.p_answer + b.p_rejected + b.p_failed:
            code = 11
        else:
            code = 9
    if code == 9:
        # Cancelled: rang until the ringing timeout (seed: "cancelled after a timeout hit").
        return CallPlan(9, ring_timeout_s, 0.0, digits="" if app == "dtmf" else None)
    if code in (11, 12):
        ring_s = rng.uniform(0.1, 2.0) if code == 11 else rng.uniform(0.5, min(10.0, ring_timeout_s))
        sip_code, sip_reason = rng.choice(_SIP_REASONS[code])
        return CallPlan(code, round(ring_s, 3), 0.0, digits="" if app == "dtmf" else None,
                        sip_code=sip_code, sip_reason=sip_reason)

    ring_s = round(rng.uniform(2.0, max(2.0, min(20.0, ring_timeout_s - 1.0))), 3)
    # Magic "10" numbers are a person who answers: predictable in tests, no voicemail.
    voicemail = (not magic) and rng.random() < behaviour.p_voicemail

    def dur(key: str) -> float:
        return prompt_duration_s(wire.get(key), _wire_value(wire, spec, f"{key}-type"),
                                 words_per_s=behaviour.words_per_s, file_duration_s=file_duration_s,
                                 default_file_s=behaviour.default_file_s)

    def replays_for(max_replays: int, auto: bool) -> int:
        if auto:
            return max_replays
        n = 0
        while n < max_replays and rng.random() < behaviour.p_replay:
            n += 1
        return n

    digits: str | None = None
    attempts: int | None = None
    replays = 0
    if app == "dtmf":
        talk_s, digits, attempts = _dtmf_talk(wire, spec, rng, behaviour, dur,
                                              None if voicemail else dtmf_inputs, voicemail)
    else:
        if app == "notification":
            intro_s, outro_s = 0.0, 0.0
            play_s = dur("prompt")
        else:
            intro_s, outro_s = dur("intro-prompt"), dur("outro-prompt")
            play_s = dur("code-prompt") + len(str(wire.get("code") or "")) * behaviour.code_char_s
        ask_s = dur("replay-prompt")
        max_replays = int(_wire_value(wire, spec, "max-replays") or 0)
        auto = bool(_wire_value(wire, spec, "auto-replay"))
        vm_response = str(_wire_value(wire, spec, "voicemail-response") or "Ignore").capitalize()
        if voicemail and vm_response == "Stop":
            # Voicemail detected and the instruction says Stop: hang up as the greeting starts.
            talk_s = rng.uniform(1.0, 3.0)
        else:
            # Nobody presses 1 on a voicemail box; automatic replays still happen.
            replays = replays_for(max_replays, auto) if not voicemail else (max_replays if auto else 0)
            # Without auto-replay the replay prompt ("press 1") follows each play while replays remain.
            asks = 0 if auto or max_replays == 0 else min(replays + 1, max_replays)
            talk_s = intro_s + (replays + 1) * play_s + asks * ask_s + outro_s
            if voicemail and vm_response == "Restart":
                # The greeting talks over the first play; the whole prompt restarts after the beep.
                talk_s += rng.uniform(4.0, 8.0)
    return CallPlan(10, ring_s, round(talk_s, 3), digits=digits, voicemail=voicemail, replays=replays,
                    dtmf_attempts=attempts)


def _dtmf_talk(wire, spec, rng, behaviour, dur, inputs, voicemail) -> tuple[float, str, int]:
    regex = str(_wire_value(wire, spec, "regex") or "[0-9]*")
    min_digits = int(_wire_value(wire, spec, "min-digits") or 0)
    max_digits = int(_wire_value(wire, spec, "max-digits") or max(min_digits, 1))
    max_attempts = max(1, int(_wire_value(wire, spec, "max-attempts") or 1))
    terminators = str(_wire_value(wire, spec, "terminators") or "")
    timeout_s = int(_wire_value(wire, spec, "timeout") or 5000) / 1000.0
    talk_s = 0.0
    for attempt in range(1, max_attempts + 1):
        if voicemail:
            raw = ""  # a voicemail box presses nothing: every attempt times out
        elif inputs is not None:
            raw = inputs[attempt - 1] if attempt - 1 < len(inputs) else ""
        else:
            raw = _generate_dtmf(rng, behaviour, regex, min_digits, max_digits, terminators)
        valid, digits = judge_dtmf(raw, regex=regex, min_digits=min_digits, max_digits=max_digits,
                                   terminators=terminators)
        typing_s = timeout_s if not raw else 1.0 + 0.4 * len(raw)
        talk_s += dur("prompt") + typing_s
        if valid:
            return talk_s + dur("valid-prompt"), digits, attempt
        talk_s += dur("invalid-prompt")
    return talk_s, "", max_attempts


def _generate_dtmf(rng: random.Random, behaviour: Behaviour, regex: str, min_digits: int,
                   max_digits: int, terminators: str) -> str:
    keys = [d for d in "0123456789" if d not in terminators] or list("0123456789")
    end = terminators[0] if terminators and rng.random() < 0.5 else ""

    def judge(s: str) -> bool:
        return judge_dtmf(s, regex=regex, min_digits=min_digits, max_digits=max_digits,
                          terminators=terminators)[0]

    lo, hi = max(min_digits, 1), max(max_digits, max(min_digits, 1))
    if rng.random() < behaviour.p_dtmf_valid:
        for _ in range(64):
            s = "".join(rng.choice(keys) for _ in range(rng.randint(lo, hi))) + end
            if judge(s):
                return s
    # An invalid attempt: a timeout, too few, too many, or a random string the regex refuses.
    candidates = [""]
    if min_digits > 1:
        candidates.append("".join(rng.choice(keys) for _ in range(min_digits - 1)) + end)
    candidates.append("".join(rng.choice(keys) for _ in range(hi + 1)) + end)
    candidates.append("".join(rng.choice(keys) for _ in range(rng.randint(lo, hi))) + end)
    rng.shuffle(candidates)
    for s in candidates:
        if not judge(s):
            return s
    return ""


# =============================================================================================
# HTTP server
# =============================================================================================

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Keep-alive connections park their threads on a read: do not join them on close.
    block_on_close = False
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, address, handler, simulator: "Simulator") -> None:
        self.simulator = simulator
        self._connections: set = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse-DNS lookup that can hang offline.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), port

    def process_request(self, request, client_address) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            conns = list(self._connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every response carries Content-Length
    server_version = "cmvoice-simulator"
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms Nagle stall
    timeout = 300  # an idle keep-alive connection is closed after this many seconds

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.server.simulator._handle(self)

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_POST

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        logger.debug("%s %s", self.address_string(), format % args)


class _Dropped(Exception):
    """Internal: the request's connection was dropped on purpose."""


# =============================================================================================
# Callback scheduler: one thread with a heap + a small pool of delivery workers
# =============================================================================================

class _Scheduler:
    def __init__(self, deliver: Callable[[dict], float | None], *, workers: int) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._deliver = deliver
        self._heap: list = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._pending = 0  # jobs in the heap or being delivered
        self._closed = False
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cmvoice-sim-callback")
        self._thread = threading.Thread(target=self._loop, name="cmvoice-sim-scheduler", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        with self._cv:
            return self._pending

    def schedule(self, due: float, job: dict, *, new: bool = True) -> None:
        with self._cv:
            if self._closed:
                if not new:
                    self._pending -= 1
                    self._cv.notify_all()
                return
            heapq.heappush(self._heap, (due, next(self._seq), job))
            if new:
                self._pending += 1
            self._cv.notify_all()

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._closed:
                    now = time.monotonic()
                    if self._heap and self._heap[0][0] <= now:
                        break
                    self._cv.wait(None if not self._heap else self._heap[0][0] - now)
                if self._closed:
                    return
                due_jobs = []
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    due_jobs.append(heapq.heappop(self._heap)[2])
            for job in due_jobs:
                try:
                    self._pool.submit(self._run, job)
                except RuntimeError:  # pool shut down while closing
                    self._done()

    def _run(self, job: dict) -> None:
        try:
            retry_at = self._deliver(job)
        except Exception:  # never let a delivery bug stall wait_idle()
            logger.exception("callback delivery crashed")
            retry_at = None
        if retry_at is not None:
            self.schedule(retry_at, job, new=False)
        else:
            self._done()

    def _done(self) -> None:
        with self._cv:
            self._pending -= 1
            self._cv.notify_all()

    def hold(self) -> None:
        """Count a request being processed as pending: it may still place calls."""
        with self._cv:
            self._pending += 1

    def release(self) -> None:
        self._done()

    def wait_idle(self, timeout: float | None) -> bool:
        with self._cv:
            return self._cv.wait_for(lambda: self._pending <= 0 or self._closed, timeout)

    def close(self) -> int:
        with self._cv:
            self._closed = True
            dropped = len(self._heap)
            self._heap.clear()
            self._cv.notify_all()
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=True, cancel_futures=True)
        return dropped


# =============================================================================================
# The simulator
# =============================================================================================


def _typed_frame(rows: list[dict], columns, *, times=(), ints=()):
    """A DataFrame of *rows* with UTC timestamps and nullable integers where the records need them."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=list(columns))
    for col in times:
        frame[col] = pd.to_datetime(frame[col], utc=True)
    for col in ints:
        frame[col] = frame[col].astype("Int64")
    return frame

class Simulator:
    """The CM Voice API Apps on loopback: validates, "places" calls, POSTs callbacks.

    The server starts when the object is created and runs in daemon threads (fine
    inside a Jupyter kernel); stop it with :meth:`close` or use it as a context manager.

    **Outcomes.** The last two digits of the (normalised) callee decide the result
    when they are one of these *magic endings*; any other number draws from the
    seeded probabilities ``p_answer`` / ``p_rejected`` / ``p_failed`` (rest Cancelled):

    ======  ====  ==========  =====================================================
    ending  code  name        simulated call
    ======  ====  ==========  =====================================================
    ``09``  9     Cancelled   rings until ``max-ringing-timeout`` (60 s), no answer
    ``10``  10    Finished    answered by a person (never voicemail), prompt plays
    ``11``  11    Failed      fails within 2 s, SIP 503/404/480
    ``12``  12    Rejected    rejected within 10 s, SIP 603/486/403
    ======  ====  ==========  =====================================================

    e.g. ``+31612345610`` is always answered and ``+31612345612`` always rejected.

    **Timing.** Simulated time starts at the real time of the request: ring time is
    drawn; talk time follows the prompts (TTS: words / ``words_per_s``; File: the WAV's
    duration under ``audio_root`` when it exists, else ``default_file_s``); OTP codes
    take ``code_char_s`` per character and replay up to ``max-replays`` (automatically
    with ``auto-replay``, else when the callee presses 1, chance ``p_replay``). DTMF
    input comes from ``dtmf_script[callee]`` (one string per attempt, ``""`` = timeout)
    or is generated (valid with chance ``p_dtmf_valid``), judged by the instruction's
    ``regex`` (full match), ``min-digits``/``max-digits`` and ``terminators``, for up to
    ``max-attempts``. A share ``p_voicemail`` of answered calls reach voicemail, handled
    per ``voicemail-response`` (``Ignore`` plays, ``Restart`` replays after the greeting,
    ``Stop`` hangs up after a short talk). The callback is POSTed after the simulated
    call duration divided by ``speed``.

    **Faults** (each drawn from a seeded stream, see :meth:`set_faults`): latency,
    429 with ``Retry-After``, 5xx (nothing placed) and a dropped connection *after* the
    body was read and the call placed.

    Parameters
    ----------
    host, port
        Where to listen; port 0 picks a free one. Keep the host on loopback.
    token
        The only product token accepted (compared case-insensitively, like a GUID); defaults to
        the test token :data:`SIMULATOR_TOKEN`.
    speed
        Time acceleration for ringing, talking and callbacks (1.0 = real time).
    seed
        Seeds call ids, outcomes and faults.
    callback_url
        Where callbacks go when the instruction has no ``callback-url`` (None: nowhere).
    p_answer, p_rejected, p_failed, p_voicemail, p_replay, p_dtmf_valid, words_per_s, code_char_s, default_file_s
        See :class:`Behaviour`; settable later as attributes.
    dtmf_script
        ``{callee: ["12#", "1234#"]}``: DTMF input per attempt for that callee.
    audio_root
        Folder standing in for the account's Audio Prompt Manager root (File prompts).
    faults
        Initial faults, as :meth:`set_faults` keywords.
    callback_retries, callback_backoff_s, callback_timeout_s, callback_workers
        Delivery: retries after a failed POST (non-2xx or no answer), first backoff in
        simulated seconds (doubling; divided by ``speed``, at least 10 ms real), HTTP
        timeout in real seconds, parallel delivery threads.
    on_request
        Called with each request's record (a dict) after it was answered (CLI logging).

    Examples
    --------
    >>> from cmvoice_nb.sandbox import Simulator
    >>> from cmvoice_nb.instructions import DTMF
    >>> with Simulator(seed=7, dtmf_script={"+31612345610": ["9#", "123#"]}) as sim:
    ...     _ = sim.client().send(DTMF(callee="+31612345610", caller="+31201234567", prompt="Code?",
    ...                                prompt_type="TTS", min_digits=2, max_digits=5, max_attempts=3))
    ...     sim.calls.loc[0, "digits"], int(sim.calls.loc[0, "dtmf_attempts"])
    ('123', 2)
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, token: str = SIMULATOR_TOKEN,
                 speed: float = 1000.0, seed: int = 0, callback_url: str | None = None,
                 p_answer: float = 0.75, p_rejected: float = 0.05, p_failed: float = 0.05,
                 p_voicemail: float = 0.1, p_replay: float = 0.3, p_dtmf_valid: float = 0.7,
                 words_per_s: float = 2.5, code_char_s: float = 0.7, default_file_s: float = 4.0,
                 dtmf_script: Mapping[str, Sequence[str] | str] | None = None,
                 audio_root: str | os.PathLike | None = None,
                 faults: Mapping[str, Any] | None = None,
                 callback_retries: int = 3, callback_backoff_s: float = 5.0,
                 callback_timeout_s: float = 5.0, callback_workers: int = 4,
                 on_request: Callable[[dict], None] | None = None) -> None:
        if not isinstance(token, str) or not token.strip():
            raise ConfigurationError("token must be a non-empty string (default: SIMULATOR_TOKEN, a test token)")
        if not (isinstance(speed, (int, float)) and speed > 0):
            raise ConfigurationError(f"speed must be a positive number (1.0 = real time), got {speed!r}")
        if callback_retries < 0 or callback_workers < 1 or callback_timeout_s <= 0 or callback_backoff_s < 0:
            raise ConfigurationError("callback_retries >= 0, callback_workers >= 1, callback_timeout_s > 0 "
                                     "and callback_backoff_s >= 0 are required")
        if callback_url is not None:
            _check_url(callback_url, "callback_url")
        self._token = token.strip()
        self.speed = float(speed)
        self.seed = seed
        self.callback_url = callback_url or None
        self._behaviour = Behaviour(p_answer=p_answer, p_rejected=p_rejected, p_failed=p_failed,
                                    p_voicemail=p_voicemail, p_replay=p_replay, p_dtmf_valid=p_dtmf_valid,
                                    words_per_s=words_per_s, code_char_s=code_char_s,
                                    default_file_s=default_file_s)
        # Copied (inputs are never modified); ints from a spreadsheet become text.
        self.dtmf_script = {str(k): ([str(v)] if isinstance(v, (str, int)) else [str(x) for x in v])
                            for k, v in (dtmf_script or {}).items()}
        self.audio_root = Path(audio_root) if audio_root is not None else None
        self.callback_retries = int(callback_retries)
        self.callback_backoff_s = float(callback_backoff_s)
        self.callback_timeout_s = float(callback_timeout_s)
        self.on_request = on_request

        self._lock = threading.Lock()
        self._rng = random.Random(f"cmvoice-sim-calls:{seed}")
        self._fault_rng = random.Random(f"cmvoice-sim-faults:{seed}")
        self._faults = {"latency_s": 0.0, "rate_429": 0.0, "retry_after_s": 1.0, "rate_5xx": 0.0,
                        "status_5xx": 503, "rate_drop": 0.0}
        if faults:
            self.set_faults(**faults)
        self._requests: list[dict] = []
        self._calls: dict[str, dict] = {}
        self._deliveries: list[dict] = []
        self._durations: dict[str, float | None] = {}
        self._sessions: list = []
        self._local = threading.local()
        self._closed = False

        self._scheduler = _Scheduler(self._deliver, workers=int(callback_workers))
        try:
            self._server = _Server((host, int(port)), _Handler, self)
        except OSError as exc:
            self._scheduler.close()
            raise ConfigurationError(f"cannot listen on {host}:{port}: {exc}") from exc
        self.host, self.port = self._server.server_address[:2]
        if self.host not in ("127.0.0.1", "::1", "localhost"):
            logger.warning("simulator listening on %s, not loopback: anyone on the network can reach it", self.host)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="cmvoice-sim-http", daemon=True)
        self._thread.start()
        logger.info("simulator listening at %s", self.base_url)

    # ------------------------------------------------------------------ public surface

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/voiceapi/v2`` — give it to :class:`~cmvoice_nb.client.VoiceClient`."""
        host = f"[{self.host}]" if ":" in str(self.host) else self.host
        return f"http://{host}:{self.port}{BASE_PATH}"

    @property
    def token(self) -> str:
        """The product token this simulator accepts (never shown in repr or logs)."""
        return self._token

    @property
    def behaviour(self) -> Behaviour:
        """The current :class:`Behaviour` (probabilities and rates)."""
        return self._behaviour

    def set_behaviour(self, **changes: float) -> Behaviour:
        """Change probabilities/rates for calls placed from now on; returns the new :class:`Behaviour`.

        Examples
        --------
        >>> sim.set_behaviour(p_answer=1.0, p_rejected=0.0, p_failed=0.0)     # doctest: +SKIP
        """
        current = self._behaviour.__dict__.copy()
        unknown = set(changes) - set(current)
        if unknown:
            raise ConfigurationError(f"unknown behaviour setting(s) {sorted(unknown)}; known: {sorted(current)}")
        current.update(changes)
        new = Behaviour(**current)
        with self._lock:
            self._behaviour = new
        return new

    @property
    def faults(self) -> dict:
        """A copy of the current fault settings."""
        with self._lock:
            return dict(self._faults)

    def set_faults(self, *, latency_s: float | None = None, rate_429: float | None = None,
                   retry_after_s: float | None = None, rate_5xx: float | None = None,
                   status_5xx: int | None = None, rate_drop: float | None = None) -> dict:
        """Change fault injection at runtime; omitted settings keep their value.

        Parameters
        ----------
        latency_s
            Delay before every answer (also before dropping), in real seconds.
        rate_429
            Share of requests answered ``429`` with ``Retry-After: retry_after_s``; nothing placed.
        retry_after_s
            The ``Retry-After`` value (whole seconds are sent as an integer, as RFC 9110 wants).
        rate_5xx
            Share of requests answered ``status_5xx`` (503 default, or 500/502/504); nothing placed.
        rate_drop
            Share of valid requests whose connection is closed without an answer *after* the
            call was placed (``sim.calls.response == "dropped"``): the client cannot know.

        Returns
        -------
        dict
            The settings now in force.

        Examples
        --------
        >>> sim.set_faults(rate_429=0.2, retry_after_s=0.05)               # doctest: +SKIP
        """
        given = {k: v for k, v in dict(latency_s=latency_s, rate_429=rate_429, retry_after_s=retry_after_s,
                                       rate_5xx=rate_5xx, status_5xx=status_5xx, rate_drop=rate_drop).items()
                 if v is not None}
        with self._lock:
            new = {**self._faults, **given}
            for key in ("rate_429", "rate_5xx", "rate_drop"):
                if not (isinstance(new[key], (int, float)) and 0.0 <= new[key] <= 1.0):
                    raise ConfigurationError(f"{key} must be a probability between 0 and 1, got {new[key]!r}")
            if new["rate_429"] + new["rate_5xx"] + new["rate_drop"] > 1.0 + 1e-9:
                raise ConfigurationError("rate_429 + rate_5xx + rate_drop must be at most 1")
            for key in ("latency_s", "retry_after_s"):
                if not (isinstance(new[key], (int, float)) and new[key] >= 0):
                    raise ConfigurationError(f"{key} must be a number of seconds >= 0, got {new[key]!r}")
            if new["status_5xx"] not in (500, 502, 503, 504):
                raise ConfigurationError(f"status_5xx must be 500, 502, 503 or 504, got {new['status_5xx']!r}")
            self._faults = new
            return dict(new)

    def client(self, **kwargs: Any):
        """A :class:`~cmvoice_nb.client.VoiceClient` for this simulator (token and base URL filled in)."""
        from .client import VoiceClient

        return VoiceClient(self._token, base_url=self.base_url, **kwargs)

    @property
    def requests(self):
        """Every request received, as a DataFrame (no token anywhere).

        Columns: time, method, path, app, status (None when dropped), fault, latency_s,
        instruction_id, callees (``;``-joined), call_ids (``;``-joined), message, body.
        """
        with self._lock:
            rows = [dict(r) for r in self._requests]
        return _typed_frame(rows, _REQUEST_COLUMNS, times=("time",), ints=("status",))

    @property
    def calls(self):
        """One row per placed call (including calls whose response was dropped), as a DataFrame.

        Columns: call_id, instruction_id, app, callee, caller, result_code, started_on,
        answered_on, finished_on, ring_s, talk_s, digits, voicemail, replays, dtmf_attempts,
        response (``ok`` / ``dropped``), callback_url, callback_status (``pending``,
        ``delivered``, ``failed``, ``no-url``, ``cancelled``), callback_attempts.
        """
        with self._lock:
            rows = [{k: c[k] for k in _CALL_COLUMNS} for c in self._calls.values()]
        return _typed_frame(rows, _CALL_COLUMNS, times=("started_on", "answered_on", "finished_on"),
                            ints=("result_code", "callback_attempts", "replays", "dtmf_attempts"))

    @property
    def deliveries(self):
        """Every callback delivery attempt: time, call_id, url, attempt, status, error, ok."""
        with self._lock:
            rows = [dict(r) for r in self._deliveries]
        return _typed_frame(rows, _DELIVERY_COLUMNS, times=("time",), ints=("status",))

    def placed_count(self, instruction_id: str | None = None) -> int:
        """How many calls were placed (for one ``instruction-id``, or in total).

        Counts calls whose response was dropped too: this is what "did we call them
        twice?" tests need.
        """
        with self._lock:
            if instruction_id is None:
                return len(self._calls)
            return sum(1 for c in self._calls.values() if c["instruction_id"] == instruction_id)

    def clear(self) -> None:
        """Forget the recorded requests, calls and deliveries (pending callbacks still go out).

        Handy between experiments in one notebook session; the seed's streams continue.
        """
        with self._lock:
            self._requests = []
            self._calls = {}
            self._deliveries = []

    @property
    def pending_callbacks(self) -> int:
        """Callbacks scheduled or being delivered (plus requests still being processed)."""
        return self._scheduler.pending

    def wait_idle(self, timeout: float | None = 30.0) -> bool:
        """Block until no request is being processed and every callback was delivered or given up.

        Returns
        -------
        bool
            True when idle, False when *timeout* (real seconds) passed first.
        """
        return self._scheduler.wait_idle(timeout)

    def close(self) -> None:
        """Stop the server, the scheduler and the delivery threads (idempotent).

        Callbacks not yet delivered are marked ``cancelled`` in :attr:`calls`.
        """
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._scheduler.close()
        with self._lock:
            for call in self._calls.values():
                if call["callback_status"] == "pending":
                    call["callback_status"] = "cancelled"
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        logger.info("simulator at %s stopped", self.base_url)

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> "Simulator":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        with self._lock:
            n_req, n_calls = len(self._requests), len(self._calls)
        state = "closed" if self._closed else "running"
        active = {k: v for k, v in self.faults.items()
                  if (k.startswith("rate_") or k == "latency_s") and v}
        faults = " faults=" + ",".join(f"{k}={v:g}" for k, v in active.items()) if active else ""
        return (f"<Simulator {self.base_url} {state} speed={self.speed:g} seed={self.seed} "
                f"requests={n_req} calls={n_calls} pending_callbacks={self.pending_callbacks}{faults}>")

    def _repr_html_(self) -> str:
        import html

        with self._lock:
            n_req, n_calls = len(self._requests), len(self._calls)
            codes: dict[int, int] = {}
            for c in self._calls.values():
                codes[c["result_code"]] = codes.get(c["result_code"], 0) + 1
        outcome = ", ".join(f"{_spec.RESULT_CODES[k].name} {v}" for k, v in sorted(codes.items())) or "none yet"
        rows = [("base URL", self.base_url), ("state", "closed" if self._closed else "running"),
                ("token", "test token (SIMULATOR_TOKEN)" if self._token == SIMULATOR_TOKEN else "custom (hidden)"),
                ("speed", f"×{self.speed:g}"), ("seed", str(self.seed)),
                ("requests", str(n_req)), ("calls", f"{n_calls} ({outcome})"),
                ("pending callbacks", str(self.pending_callbacks)),
                ("faults", ", ".join(f"{k}={v}" for k, v in self.faults.items()))]
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
                       f"{html.escape(v)}</td></tr>" for k, v in rows)
        return f"<table><caption>cmvoice_nb Simulator</caption>{body}</table>"

    # ------------------------------------------------------------------ request handling

    def _handle(self, h: _Handler) -> None:
        # A request in progress (e.g. sleeping on injected latency) may still place calls:
        # wait_idle() must wait for it too.
        self._scheduler.hold()
        try:
            self._handle_request(h)
        finally:
            self._scheduler.release()

    def _handle_request(self, h: _Handler) -> None:
        received = datetime.now(timezone.utc)
        received_mono = time.monotonic()
        path = urlsplit(h.path).path
        record: dict[str, Any] = {"time": received, "method": h.command, "path": path, "app": None,
                                  "status": None, "fault": None, "latency_s": 0.0, "instruction_id": None,
                                  "callees": None, "call_ids": None, "message": None, "body": None}
        # Recorded on arrival and filled in as we go (every key exists already, so readers copying
        # it meanwhile are safe): a client that got its answer always finds its request here.
        with self._lock:
            self._requests.append(record)
        try:
            body, body_error = self._read_body(h)
            if body is not None:
                record["body"] = redact(body.decode("utf-8", "replace"), self._token)
            with self._lock:
                faults = dict(self._faults)
                u = self._fault_rng.random()
            if faults["latency_s"] > 0:
                record["latency_s"] = faults["latency_s"]
                time.sleep(faults["latency_s"])
            if body_error is not None:
                status, message = body_error
                self._reply(h, record, status, {"message": message}, close=True)
                return
            app = _ENDPOINTS.get(path[len(BASE_PATH) + 1:]) if path.startswith(BASE_PATH + "/") else None
            if app is None:
                self._reply(h, record, 404, {"message": f"no such endpoint {path!r}: POST {BASE_PATH}/"
                                             + f", {BASE_PATH}/".join(_ENDPOINTS)})
                return
            record["app"] = app
            if h.command != "POST":
                self._reply(h, record, 405, {"message": f"{h.command} not allowed: use POST"},
                            headers={"Allow": "POST"})
                return
            token = h.headers.get(_spec.TOKEN_HEADER)
            if not token or not token.strip():
                self._reply(h, record, 401, {"message": f"missing {_spec.TOKEN_HEADER} header (your product token)"})
                return
            if token.strip().lower() != self._token.lower():
                self._reply(h, record, 401, {"message": "unknown product token"})
                return
            # One uniform draw per request picks at most one fault: 429 | 5xx | drop | none.
            fault = None
            if u < faults["rate_429"]:
                fault = "429"
            elif u < faults["rate_429"] + faults["rate_5xx"]:
                fault = "5xx"
            elif u < faults["rate_429"] + faults["rate_5xx"] + faults["rate_drop"]:
                fault = "drop"
            if fault == "429":
                record["fault"] = "429"
                self._reply(h, record, 429, {"message": "Too many requests, slow down"},
                            headers={"Retry-After": _format_seconds(faults["retry_after_s"])})
                return
            if fault == "5xx":
                record["fault"] = "5xx"
                status = int(faults["status_5xx"])
                headers = {"Retry-After": _format_seconds(faults["retry_after_s"])} if status == 503 else {}
                self._reply(h, record, status, {"message": "Service unavailable" if status == 503
                                                else "Internal server error"}, headers=headers)
                return
            self._process(h, record, app, body or b"", received, received_mono, drop=fault == "drop")
        except _Dropped:
            pass
        except OSError:
            # The client went away (e.g. its read timeout fired during injected latency) or the
            # simulator is closing: there is nobody to answer.
            logger.debug("client left before the answer to %s %s", h.command, path)
            h.close_connection = True
        except Exception as exc:  # a simulator bug must still answer, and be visible
            logger.exception("simulator failed on %s %s", h.command, path)
            try:
                self._reply(h, record, 500, {"message": f"simulator error: {type(exc).__name__}"}, close=True)
            except OSError:
                pass
        finally:
            if self.on_request is not None:
                try:
                    self.on_request(dict(record))
                except Exception:
                    logger.exception("on_request hook failed")

    @staticmethod
    def _read_body(h: _Handler) -> tuple[bytes | None, tuple[int, str] | None]:
        if "chunked" in h.headers.get("Transfer-Encoding", "").lower():
            parts, total = [], 0
            while True:
                line = h.rfile.readline(1024)
                try:
                    size = int(line.split(b";")[0].strip() or b"x", 16)
                except ValueError:
                    return None, (400, "malformed chunked body")
                if size == 0:
                    while h.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts), None
                total += size
                if total > _MAX_BODY_BYTES:
                    return None, (413, f"body larger than {_MAX_BODY_BYTES} bytes")
                parts.append(h.rfile.read(size))
                h.rfile.readline(1024)
        length = h.headers.get("Content-Length")
        if length is None:
            return (b"", None) if h.command != "POST" else (None, (411, "Content-Length required"))
        try:
            n = int(length)
        except ValueError:
            return None, (400, f"bad Content-Length {length!r}")
        if n < 0:
            return None, (400, f"bad Content-Length {length!r}")
        if n > _MAX_BODY_BYTES:
            return None, (413, f"body larger than {_MAX_BODY_BYTES} bytes")
        data = h.rfile.read(n)
        if len(data) < n:
            return None, (400, "body shorter than Content-Length")
        return data, None

    def _reply(self, h: _Handler, record: dict, status: int, payload: Any, *,
               headers: Mapping[str, str] | None = None, close: bool = False) -> None:
        record["status"] = status
        if isinstance(payload, dict) and "message" in payload:
            record["message"] = payload["message"]
        send_json(h, status, payload, headers=headers, close=close, content_type=_spec.CONTENT_TYPE)

    def _process(self, h: _Handler, record: dict, app: str, body: bytes, received: datetime,
                 received_mono: float, *, drop: bool) -> None:
        from .instructions import instruction_from_json

        try:
            data = json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            self._reply(h, record, 400, {"message": f"body is not valid JSON: {exc}"})
            return
        if not isinstance(data, dict):
            self._reply(h, record, 400, {"message": f"body must be one JSON object, got {type(data).__name__}"})
            return
        raw_id = data.get("instruction-id")
        record["instruction_id"] = redact(raw_id, self._token) if isinstance(raw_id, str) else None
        try:
            inst = instruction_from_json(app, data)
        except (CMVoiceError, ValueError, TypeError, KeyError) as exc:
            self._reply(h, record, 400, {"message": redact(str(exc), self._token)})
            return
        wire = inst.to_json()
        skip_invalid = bool(wire.get("disable-callees-validation") or data.get("disable-callees-validation"))
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
            self._reply(h, record, 400, {"message": message,
                                         "problems": [{"field": p.field, "message": p.message} for p in problems]})
            return
        instruction_id = wire.get("instruction-id")
        record["instruction_id"] = redact(instruction_id, self._token) if instruction_id else None
        record["callees"] = ";".join(callees)
        caller = wire.get("caller")
        shown_caller = "anonymous" if wire.get("anonymous") else caller
        url = wire.get("callback-url") or self.callback_url

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
            call_id = self._place(app, wire, callee, caller, shown_caller, instruction_id, url,
                                  received, received_mono, dropped=drop)
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
            h.close_connection = True
            try:
                h.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            raise _Dropped
        self._reply(h, record, 200, results)

    def _place(self, app: str, wire: dict, callee: str, caller: str, shown_caller: str,
               instruction_id: str | None, url: str | None, received: datetime, received_mono: float,
               *, dropped: bool) -> str:
        with self._lock:
            call_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
            call_rng = random.Random(self._rng.getrandbits(64))
            behaviour = self._behaviour
        plan = plan_call(app, wire, callee, rng=call_rng, behaviour=behaviour,
                         file_duration_s=self._file_duration if self.audio_root else None,
                         dtmf_inputs=self._script_for(callee) if app == "dtmf" else None)
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
            payload["digits"] = plan.digits or ""
        # The records are for showing: scrub the token even if a user typed it into a field.
        call = {"call_id": call_id, "instruction_id": redact(instruction_id, self._token) if instruction_id else None,
                "app": app, "callee": callee,
                "caller": shown_caller, "result_code": plan.result_code, "started_on": started,
                "answered_on": answered, "finished_on": finished, "ring_s": plan.ring_s,
                "talk_s": plan.talk_s, "digits": plan.digits, "voicemail": plan.voicemail,
                "replays": plan.replays if app != "dtmf" else None, "dtmf_attempts": plan.dtmf_attempts,
                "response": "dropped" if dropped else "ok", "callback_url": url,
                "callback_status": "pending" if url else "no-url", "callback_attempts": 0}
        with self._lock:
            self._calls[call_id] = call
        if url:
            due = received_mono + plan.duration_s / self.speed
            self._scheduler.schedule(due, {"call_id": call_id, "url": url, "payload": payload, "attempt": 0})
        return call_id

    def _script_for(self, callee: str) -> list[str] | None:
        if not self.dtmf_script:
            return None
        for key in (callee, _normalised(callee), re.sub(r"\D", "", callee)):
            if key in self.dtmf_script:
                return self.dtmf_script[key]
        wanted = re.sub(r"\D", "", _normalised(callee))
        for key, value in self.dtmf_script.items():
            if re.sub(r"\D", "", _normalised(key)) == wanted:
                return value
        return None

    def _file_duration(self, prompt_path: str) -> float | None:
        if prompt_path in self._durations:
            return self._durations[prompt_path]
        root = self.audio_root.resolve()
        candidate = (root / prompt_path.lstrip("/\\")).resolve()
        # A prompt path is relative to the account root: never read outside it.
        seconds = wav_duration_s(candidate) if candidate.is_relative_to(root) and candidate.is_file() else None
        self._durations[prompt_path] = seconds
        return seconds

    # ------------------------------------------------------------------ callback delivery

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            import requests

            session = requests.Session()
            session.headers["User-Agent"] = "cmvoice-simulator"
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def _deliver(self, job: dict) -> float | None:
        import requests

        job["attempt"] += 1
        status, error = None, None
        try:
            response = self._session().post(job["url"], json=job["payload"],
                                            timeout=(min(3.0, self.callback_timeout_s), self.callback_timeout_s))
            status = response.status_code
            response.close()
            ok = 200 <= status < 300
            if not ok:
                error = f"HTTP {status}"
        except requests.RequestException as exc:
            ok = False
            error = f"{type(exc).__name__}: {exc}"
        give_up = not ok and job["attempt"] > self.callback_retries
        with self._lock:
            self._deliveries.append({"time": datetime.now(timezone.utc), "call_id": job["call_id"],
                                     "url": job["url"], "attempt": job["attempt"], "status": status,
                                     "error": error, "ok": ok})
            call = self._calls.get(job["call_id"])
            if call is not None:
                call["callback_attempts"] = job["attempt"]
                call["callback_status"] = "delivered" if ok else ("failed" if give_up else "pending")
        if ok or give_up:
            if give_up:
                logger.warning("callback for call %s to %s given up after %d attempts (%s)",
                               job["call_id"], job["url"], job["attempt"], error)
            return None
        backoff_s = self.callback_backoff_s * 2 ** (job["attempt"] - 1) / self.speed
        return time.monotonic() + max(0.01, backoff_s)


_ENDPOINTS: Mapping[str, str] = {a.endpoint: a.name for a in _spec.APPS.values()}


def _behaviour_property(name: str) -> property:
    def fget(self: Simulator) -> Any:
        return getattr(self._behaviour, name)

    def fset(self: Simulator, value: Any) -> None:
        self.set_behaviour(**{name: value})

    return property(fget, fset, doc=f"Shortcut for ``behaviour.{name}``; settable (validated).")


# sim.p_answer = 0.9 etc.: each Behaviour knob is a validated property of the Simulator.
for _name in Behaviour.__dataclass_fields__:
    setattr(Simulator, _name, _behaviour_property(_name))
del _name


def _format_seconds(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def _check_url(url: str, what: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"{what} must be an http:// or https:// URL, got {url!r}")


def _normalised(callee: str) -> str:
    from .numbers import normalize_number

    try:
        return normalize_number(callee)
    except (ValueError, TypeError):
        return str(callee)


__all__ = [
    "SIMULATOR_TOKEN",
    "BASE_PATH",
    "MAGIC_ENDINGS",
    "Simulator",
    "Behaviour",
    "CallPlan",
    "plan_call",
    "judge_dtmf",
    "prompt_duration_s",
    "magic_result_code",
    "wav_duration_s",
    "iso_utc",
]
