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
(HTTP transport), ``_handling`` (what a request means: token, faults, validation, placing
calls), ``_book`` (the records of requests, calls and deliveries),
:mod:`~cmvoice_nb.simulator.delivery` (callback scheduling and retries),
:mod:`~cmvoice_nb.simulator.defaults` (every default, shared with ``cmvoice simulate``) and
this front, :class:`Simulator`: its settings, its state and its public surface.

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

import functools
import logging
import os
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import spec as _spec
from ..errors import ConfigurationError
from . import defaults as _defaults
from ._book import CallBook
from ._handling import BASE_PATH, PromptDurations, handle, new_call_rng
from .defaults import SIMULATOR_TOKEN
from .delivery import Scheduler, Sessions, post_callback, retry_at
from .physics import MAGIC_ENDINGS, Behaviour, CallPlan, iso_utc, judge_dtmf, magic_result_code, plan_call

# The HTTP transport (.server, which pulls in http.server) is imported when a Simulator starts,
# not here: `cmvoice --help` reads .defaults through this package and must stay quick.

logger = logging.getLogger(__name__)


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
    behaviour_by
        Other behaviour for some calls: ``{"prompt:Goedemiddag": {"p_answer": 0.8}, "id:spring-": {...}}``
        changes the :class:`Behaviour` knobs for calls whose prompt contains the text after
        ``prompt:``, or whose instruction id starts with the text after ``id:`` (the first key
        that matches wins). A simulated A/B test with a known difference between its variants.
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
                 behaviour_by: Mapping[str, Mapping[str, float]] | None = None,
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
        self.behaviour_by = _behaviours_by(self._behaviour, behaviour_by)
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
        self._book = CallBook()
        self._prompts = PromptDurations()
        self._sessions = Sessions()
        self._closed = False

        self._scheduler = Scheduler(self._deliver, workers=int(callback_workers))
        try:
            from .server import Handler, Server

            self._server = Server((host, int(port)), Handler, functools.partial(handle, self))
        except OSError as exc:
            self._scheduler.close()
            raise ConfigurationError(f"cannot listen on {host}:{port}: {exc}") from exc
        address = self._server.server_address  # (host, port) of an IP socket: the host is text
        self.host, self.port = str(address[0]), int(address[1])
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
        return self._book.requests()

    @property
    def calls(self):
        """One row per placed call (including calls whose response was dropped), as a DataFrame.

        Columns: call_id, instruction_id, app, callee, caller, result_code, started_on,
        answered_on, finished_on, ring_s, talk_s, digits, voicemail, replays, dtmf_attempts,
        response (``ok`` / ``dropped``), callback_url, callback_status (``pending``,
        ``delivered``, ``failed``, ``no-url``, ``cancelled``), callback_attempts.
        """
        return self._book.calls()

    @property
    def deliveries(self):
        """Every callback delivery attempt: time, call_id, url, attempt, status, error, ok."""
        return self._book.deliveries()

    def placed_count(self, instruction_id: str | None = None) -> int:
        """How many calls were placed (for one ``instruction-id``, or in total).

        Counts calls whose response was dropped too: this is what "did we call them
        twice?" tests need.
        """
        return self._book.placed_count(instruction_id)

    def clear(self) -> None:
        """Forget the recorded requests, calls and deliveries (pending callbacks still go out).

        Handy between experiments in one notebook session; the seed's streams continue.
        """
        self._book.clear()

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
        self._book.cancel_pending()
        self._sessions.close()
        logger.info("simulator at %s stopped", self.base_url)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._closed

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        n_req, n_calls = self._book.sizes()
        state = "closed" if self._closed else "running"
        active = {k: v for k, v in self.faults.items()
                  if (k.startswith("rate_") or k == "latency_s") and v}
        faults = " faults=" + ",".join(f"{k}={v:g}" for k, v in active.items()) if active else ""
        return (f"<Simulator {self.base_url} {state} speed={self.speed:g} seed={self.seed} "
                f"requests={n_req} calls={n_calls} pending_callbacks={self.pending_callbacks}{faults}>")

    def _repr_html_(self) -> str:
        import html

        n_req, n_calls = self._book.sizes()
        codes = self._book.result_codes()
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

    # ------------------------------------------------------------------ what the request handling draws on

    def _draw_fault(self) -> tuple[dict, float]:
        """The fault settings in force and this request's one uniform draw from the fault stream."""
        with self._lock:
            return dict(self._faults), self._fault_rng.random()

    def _new_call(self) -> tuple[str, random.Random, Behaviour]:
        """A call id, the call's own random stream and the behaviour in force, from the seeded stream."""
        with self._lock:
            call_id, call_rng = new_call_rng(self._rng)
            return call_id, call_rng, self._behaviour

    def _deliver(self, job: dict) -> float | None:
        job["attempt"] += 1
        ok, status, error = post_callback(self._sessions.get(), job["url"], job["payload"],
                                          timeout_s=self.callback_timeout_s)
        give_up = not ok and job["attempt"] > self.callback_retries
        self._book.record_delivery(call_id=job["call_id"], url=job["url"], attempt=job["attempt"], status=status,
                                   error=error, ok=ok, give_up=give_up)
        if ok or give_up:
            if give_up:
                logger.warning("callback for call %s to %s given up after %d attempts (%s)",
                               job["call_id"], job["url"], job["attempt"], error)
            return None
        return retry_at(job["attempt"], backoff_s=self.callback_backoff_s, speed=self.speed)


def _behaviours_by(base: Behaviour, given: Mapping[str, Mapping[str, float]] | None) -> tuple:
    """``behaviour_by=`` as ``((kind, text, changes), ...)``, each checked now (a bad knob fails at start)."""
    found = []
    for key, changes in (given or {}).items():
        kind, colon, text = str(key).partition(":")
        if not colon or kind not in ("prompt", "id") or not text:
            raise ConfigurationError(f"behaviour_by key {key!r}: expected 'prompt:TEXT' or 'id:PREFIX'")
        unknown = set(changes) - set(base.__dict__)
        if unknown:
            raise ConfigurationError(f"behaviour_by[{key!r}]: unknown setting(s) {sorted(unknown)}; known: "
                                     f"{sorted(base.__dict__)}")
        Behaviour(**{**base.__dict__, **changes})  # validated now
        found.append((kind, text, dict(changes)))
    return tuple(found)


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
