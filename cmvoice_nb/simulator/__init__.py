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

The package has one job per module: :mod:`~cmvoice_nb.simulator.physics` (pure:
outcomes, timings, replays, DTMF judging — :func:`plan_call`, :func:`judge_dtmf`,
:func:`magic_result_code`; talk times by :mod:`cmvoice_nb.timing`), :mod:`~cmvoice_nb.simulator.server`
(HTTP transport), :mod:`~cmvoice_nb.simulator.delivery` (callback scheduling and
retries), :mod:`~cmvoice_nb.simulator.defaults` (every default, shared with
``cmvoice simulate``) and this front, :class:`Simulator`.

Examples
--------
>>> from cmvoice_nb.simulator import Simulator
>>> from cmvoice_nb.instructions import Notification
>>> with Simulator(seed=1) as sim:
...     result = sim.client().send(Notification(callee="+31612345610", caller="+31201234567",
...                                             prompt="Hello", prompt_type="TTS"))
...     int(sim.calls.loc[0, "result_code"])             # ...10 is a magic ending: answered
10
"""
from __future__ import annotations

import json
import logging
import os
import random
import re
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence
from urllib.parse import urlsplit

from .. import spec as _spec
from ..errors import CMVoiceError, ConfigurationError, redact
from . import defaults as _defaults
from .defaults import SIMULATOR_TOKEN
from .delivery import Scheduler, new_session, post_callback, retry_at
from .physics import MAGIC_ENDINGS, Behaviour, CallPlan, iso_utc, judge_dtmf, magic_result_code, plan_call

if TYPE_CHECKING:
    from .server import Handler

# The HTTP transport (.server, which pulls in http.server) is imported when a Simulator starts,
# not here: `cmvoice --help` reads .defaults through this package and must stay quick.

logger = logging.getLogger(__name__)

#: Path prefix of the provider's API (taken from its documented base URL); ``sim.base_url`` ends with it.
BASE_PATH = urlsplit(_spec.DEFAULT_BASE_URL).path

_REQUEST_COLUMNS = ("time", "method", "path", "app", "status", "fault", "latency_s",
                    "instruction_id", "callees", "call_ids", "message", "body")
_CALL_COLUMNS = ("call_id", "instruction_id", "app", "callee", "caller", "result_code",
                 "started_on", "answered_on", "finished_on", "ring_s", "talk_s", "digits",
                 "voicemail", "replays", "dtmf_attempts", "response", "callback_url",
                 "callback_status", "callback_attempts")
_DELIVERY_COLUMNS = ("time", "call_id", "url", "attempt", "status", "error", "ok")


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
    >>> from cmvoice_nb.simulator import Simulator
    >>> from cmvoice_nb.instructions import DTMF
    >>> with Simulator(seed=7, dtmf_script={"+31612345610": ["9#", "123#"]}) as sim:
    ...     _ = sim.client().send(DTMF(callee="+31612345610", caller="+31201234567", prompt="Code?",
    ...                                prompt_type="TTS", min_digits=2, max_digits=5, max_attempts=3))
    ...     sim.calls.loc[0, "digits"], int(sim.calls.loc[0, "dtmf_attempts"])
    ('123', 2)
    """

    def __init__(self, *, host: str = _defaults.HOST, port: int = _defaults.PORT, token: str = SIMULATOR_TOKEN,
                 speed: float = _defaults.SPEED, seed: int = _defaults.SEED, callback_url: str | None = None,
                 p_answer: float = Behaviour.p_answer, p_rejected: float = Behaviour.p_rejected,
                 p_failed: float = Behaviour.p_failed, p_voicemail: float = Behaviour.p_voicemail,
                 p_replay: float = Behaviour.p_replay, p_dtmf_valid: float = Behaviour.p_dtmf_valid,
                 words_per_s: float = Behaviour.words_per_s, code_char_s: float = Behaviour.code_char_s,
                 default_file_s: float = Behaviour.default_file_s,
                 dtmf_script: Mapping[str, Sequence[str] | str] | None = None,
                 audio_root: str | os.PathLike | None = None,
                 faults: Mapping[str, Any] | None = None,
                 callback_retries: int = _defaults.CALLBACK_RETRIES,
                 callback_backoff_s: float = _defaults.CALLBACK_BACKOFF_S,
                 callback_timeout_s: float = _defaults.CALLBACK_TIMEOUT_S,
                 callback_workers: int = _defaults.CALLBACK_WORKERS,
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
        self.callback_url = callback_url
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
        self._faults = dict(_defaults.FAULTS)
        if faults:
            self.set_faults(**faults)
        self._requests: list[dict] = []
        self._calls: dict[str, dict] = {}
        self._deliveries: list[dict] = []
        self._durations: dict[str, float | None] = {}
        self._sessions: list = []
        self._local = threading.local()
        self._closed = False

        self._scheduler = Scheduler(self._deliver, workers=int(callback_workers))
        try:
            from .server import Handler, Server

            self._server = Server((host, int(port)), Handler, self)
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
        from ..client import VoiceClient

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

    def _handle(self, h: Handler) -> None:
        # A request in progress (e.g. sleeping on injected latency) may still place calls:
        # wait_idle() must wait for it too.
        self._scheduler.hold()
        try:
            self._handle_request(h)
        finally:
            self._scheduler.release()

    def _handle_request(self, h: Handler) -> None:
        from .server import ENDPOINTS, Dropped, format_seconds, read_body, reply

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
            body, body_error = read_body(h)
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
                reply(h, record, status, {"message": message}, close=True)
                return
            app = ENDPOINTS.get(path[len(BASE_PATH) + 1:]) if path.startswith(BASE_PATH + "/") else None
            if app is None:
                reply(h, record, 404, {"message": f"no such endpoint {path!r}: POST {BASE_PATH}/"
                                             + f", {BASE_PATH}/".join(ENDPOINTS)})
                return
            record["app"] = app
            if h.command != "POST":
                reply(h, record, 405, {"message": f"{h.command} not allowed: use POST"},
                            headers={"Allow": "POST"})
                return
            token = h.headers.get(_spec.TOKEN_HEADER)
            if not token or not token.strip():
                reply(h, record, 401, {"message": f"missing {_spec.TOKEN_HEADER} header (your product token)"})
                return
            if token.strip().lower() != self._token.lower():
                reply(h, record, 401, {"message": "unknown product token"})
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
            self._process(h, record, app, body or b"", received, received_mono, drop=fault == "drop")
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
            if self.on_request is not None:
                try:
                    self.on_request(dict(record))
                except Exception:
                    logger.exception("on_request hook failed")

    def _process(self, h: Handler, record: dict, app: str, body: bytes, received: datetime,
                 received_mono: float, *, drop: bool) -> None:
        from .server import drop as drop_connection, reply

        from ..instructions import instruction_from_json

        try:
            data = json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            reply(h, record, 400, {"message": f"body is not valid JSON: {exc}"})
            return
        if not isinstance(data, dict):
            reply(h, record, 400, {"message": f"body must be one JSON object, got {type(data).__name__}"})
            return
        raw_id = data.get("instruction-id")
        record["instruction_id"] = redact(raw_id, self._token) if isinstance(raw_id, str) else None
        try:
            inst = instruction_from_json(app, data)
        except (CMVoiceError, ValueError, TypeError, KeyError) as exc:
            reply(h, record, 400, {"message": redact(str(exc), self._token)})
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
            drop_connection(h)
        reply(h, record, 200, results)

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
            payload["digits"] = plan.digits  # always a string for DTMF ("" without valid input)
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
        from ..audio.wavfile import wav_duration_s  # numpy comes with it: not at import time

        seconds = wav_duration_s(candidate) if candidate.is_relative_to(root) and candidate.is_file() else None
        self._durations[prompt_path] = seconds
        return seconds

    # ------------------------------------------------------------------ callback delivery

    def _session(self):
        # One session per delivery thread: keep-alive to the callback endpoint, no sharing across threads.
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = new_session()
            with self._lock:
                self._sessions.append(session)
        return session

    def _deliver(self, job: dict) -> float | None:
        job["attempt"] += 1
        ok, status, error = post_callback(self._session(), job["url"], job["payload"],
                                          timeout_s=self.callback_timeout_s)
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
        return retry_at(job["attempt"], backoff_s=self.callback_backoff_s, speed=self.speed)


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


def _check_url(url: str, what: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(f"{what} must be an http:// or https:// URL, got {url!r}")


def _normalised(callee: str) -> str:
    from ..numbers import normalize_number

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
    "magic_result_code",
    "iso_utc",
]
