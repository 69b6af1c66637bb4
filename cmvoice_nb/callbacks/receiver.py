"""Receive the provider's call-result callbacks: the WSGI app of :mod:`.wsgi`, served by waitress.

:class:`CallbackReceiver` runs :func:`~cmvoice_nb.callbacks.wsgi_app` under waitress (a pure-Python,
cross-platform production WSGI server) in a daemon thread, so it works inside a Jupyter kernel
whose event loop is busy; ``cmvoice receive`` runs the same thing from a shell. Everything about
what is stored and answered lives in the app (see :mod:`cmvoice_nb.callbacks.wsgi`):

* a callback is on disk (written and fsynced) before its 200 goes back;
* a callback that cannot be stored is answered 503 and is not in the log;
* ``on_callback`` (printing, a notebook's display) never delays an acknowledgement;
* every malformed body gets a 400 and a quarantine entry.

The server is set up so that nobody without the secret can take it down
(:data:`~cmvoice_nb.callbacks.options.DEFAULTS` holds the figures):

* **Sockets are watched with poll()** where the platform has it, so descriptors above 1,024 are
  fine; ``select()`` (Windows) is kept under the 512 sockets it can watch.
* **Connections are limited** below what the process's open-file limit (``RLIMIT_NOFILE``) leaves
  after :data:`RESERVED_DESCRIPTORS`; the soft limit is raised toward the hard one when the
  connection limit needs it. At the limit, idle connections (then requests arriving slowly) are
  closed, oldest first, so that a new connection gets in; running out of descriptors anyway
  pauses accepting for a moment instead of spinning.
* **Idle and slow connections time out**: no request for ``idle_timeout_s``, or a request that
  has not fully arrived ``request_timeout_s`` after its first byte.
* **Nothing is spooled to disk**: the server refuses a body over the app's ``max_body_bytes`` (413)
  from its ``Content-Length``, or, chunked, as soon as it exceeds the limit; smaller bodies and
  headers (at most :data:`MAX_HEADER_BYTES`) stay in memory.
* **A dead serving loop is never silent**: it is logged, ``/health`` reports it, ``on_failure``
  hears it (``cmvoice receive`` exits non-zero so a supervisor restarts it).

Waitress refuses, with 400, a ``Content-Length`` that is not one run of digits or that is sent
twice. Callbacks are unsigned (contract): the practical guard is an unguessable URL, so the
receiver listens on a random secret path and answers 404 everywhere else.
"""
from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import CallbackError, CallbackTimeout
from ._connections import RESERVED_DESCRIPTORS, ConnectionPlan, plan_connections
from ._server import MAX_HEADER_BYTES, Server, serve_in_thread
from .options import DEFAULTS
from .wsgi import DEFAULT_MAX_BODY_BYTES, CallbackApp

__all__ = ["CallbackReceiver", "CallbackTimeout", "ConnectionPlan", "DEFAULT_MAX_BODY_BYTES", "DEFAULT_BACKLOG",
           "DEFAULT_THREADS", "MAX_HEADER_BYTES", "RESERVED_DESCRIPTORS", "plan_connections", "serve_in_thread"]

log = logging.getLogger(__name__)

#: Listen backlog (see :data:`~cmvoice_nb.callbacks.options.DEFAULTS`).
DEFAULT_BACKLOG = DEFAULTS.backlog

#: Worker threads. Writes are serialised by the log's lock; the threads overlap network I/O.
DEFAULT_THREADS = DEFAULTS.threads


class CallbackReceiver:
    """Receive callbacks on loopback and append each to a JSON Lines log.

    Serves :func:`~cmvoice_nb.callbacks.wsgi_app` with waitress in a daemon thread. Every default
    is :data:`~cmvoice_nb.callbacks.options.DEFAULTS`'s.

    Parameters
    ----------
    out
        The JSONL log to append to (created if missing, never truncated). ``None`` keeps callbacks
        in memory only (:meth:`frame` still works).
    host, port
        Where to listen. Loopback and a free port by default; the provider cannot reach loopback,
        so for a real campaign expose it through a tunnel or a reverse proxy (see the deployment
        guide, ``docs/guides/deployment.md``).
    secret
        The secret path segment; random (``secrets.token_urlsafe(16)``) by default, ``""`` for none.
    max_body_bytes
        Larger bodies are refused with 413, by the server itself before it reads them.
    rotate_daily
        Write ``name-YYYY-MM-DD.jsonl`` per UTC day of receipt instead of one file.
    quarantine
        Where malformed bodies are kept (JSONL: received-at, reason, body). Default: beside *out*
        as ``<name>.quarantine.jsonl``; in memory (:attr:`quarantined`) when *out* is None.
    keep_in_memory
        Also keep every record in memory for :meth:`frame` and :meth:`records`. The default
        (``None``) does, for a notebook's live view; turn it off for long-running receivers:
        :meth:`frame` then reads the log.
    on_callback
        Called with each stored record (callback keys plus ``received-at``) after it is on disk, on
        a separate thread fed by a bounded queue: a slow or blocked hook never delays an
        acknowledgement; events it cannot keep up with are dropped and counted
        (:attr:`display_dropped`). Errors are logged, never sent back to the provider.
    on_failure
        Called with a one-line reason if the serving loop stops (nothing is received any more);
        by default the reason is logged as an error. :attr:`failure` and :meth:`health` show it too.
    backlog, threads
        The listen backlog (sized for bursts of fresh connections) and waitress's worker threads.
    connection_limit, idle_timeout_s, request_timeout_s
        Connections held at once (lowered to fit the open-file limit; :attr:`connection_limit`
        is what was applied), and when idle or slowly arriving connections are closed.
    opt_out_digit, opt_out_list, opt_out_instructions
        Opt-out by keypress, as :func:`~cmvoice_nb.callbacks.wsgi_app` has it.

    Examples
    --------
    >>> import json, urllib.request
    >>> with CallbackReceiver() as rx:
    ...     req = urllib.request.Request(rx.url, data=json.dumps({"type": "otp-finished"}).encode(),
    ...                                  headers={"Content-Type": "application/json"})
    ...     urllib.request.urlopen(req, timeout=5).status
    ...     rx.wait_for(1, timeout=5)
    ...     rx.frame()["app"].tolist()
    200
    1
    ['otp']
    """

    def __init__(
        self,
        out: str | os.PathLike | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        secret: str | None = None,
        max_body_bytes: int = DEFAULTS.max_body_bytes,
        rotate_daily: bool = DEFAULTS.rotate_daily,
        quarantine: str | os.PathLike | None = DEFAULTS.quarantine,
        keep_in_memory: bool | None = DEFAULTS.keep_in_memory,
        on_callback: Callable[[dict], None] | None = None,
        on_failure: Callable[[str], None] | None = None,
        backlog: int = DEFAULTS.backlog,
        threads: int = DEFAULTS.threads,
        display_queue: int = DEFAULTS.display_queue,
        connection_limit: int = DEFAULTS.connection_limit,
        idle_timeout_s: float = DEFAULTS.idle_timeout_s,
        request_timeout_s: float = DEFAULTS.request_timeout_s,
        opt_out_digit: str | None = DEFAULTS.opt_out_digit,
        opt_out_list: str | os.PathLike | None = DEFAULTS.opt_out_list,
        opt_out_instructions: str | None = DEFAULTS.opt_out_instructions,
    ) -> None:
        options = DEFAULTS.replace(
            max_body_bytes=max_body_bytes, rotate_daily=bool(rotate_daily), quarantine=quarantine,
            keep_in_memory=keep_in_memory, display_queue=display_queue, backlog=backlog, threads=threads,
            connection_limit=connection_limit, idle_timeout_s=idle_timeout_s, request_timeout_s=request_timeout_s,
            opt_out_digit=opt_out_digit, opt_out_list=opt_out_list, opt_out_instructions=opt_out_instructions,
        )
        self.options = options.replace(keep_in_memory=options.keeps_records(out=out, in_process=True))
        self.app = CallbackApp(
            out, secret=secrets.token_urlsafe(16) if secret is None else secret,
            max_body_bytes=options.max_body_bytes, rotate_daily=options.rotate_daily, quarantine=options.quarantine,
            keep_in_memory=self.options.keep_in_memory, on_callback=on_callback, display_queue=options.display_queue,
            opt_out_digit=options.opt_out_digit, opt_out_list=options.opt_out_list,
            opt_out_instructions=options.opt_out_instructions,
        )
        self.host = host
        self.port = int(port)
        self.on_failure = on_failure
        self._server: Server | None = None
        self._refused_before: dict[int, int] = {}  # the server's own refusals before the last stop

    # -- configuration, as attributes (the app holds it) -----------------------------------------
    out = property(lambda self: self.app.out, doc="The JSONL log given (a folder becomes folder/callbacks.jsonl).")
    max_body_bytes = property(lambda self: self.app.max_body_bytes)
    rotate_daily = property(lambda self: self.app.rotate_daily)
    keep_in_memory = property(lambda self: self.app.keep_in_memory)
    backlog = property(lambda self: self.options.backlog)
    threads = property(lambda self: self.options.threads)
    quarantine_path = property(lambda self: self.app.quarantine_path,
                               doc="Where malformed bodies are kept (None: in memory, :attr:`quarantined`).")
    quarantined = property(lambda self: self.app.quarantined, doc="Quarantine entries written by this receiver.")
    opted_out = property(lambda self: self.app.opted_out, doc="Numbers this receiver added to its opt-out list.")
    _secret = property(lambda self: self.app.secret)
    _path = property(lambda self: self.app.path)

    @property
    def on_callback(self) -> Callable[[dict], None] | None:
        """The display hook; may be replaced while running."""
        return self.app.on_callback

    @on_callback.setter
    def on_callback(self, hook: Callable[[dict], None] | None) -> None:
        self.app.on_callback = hook

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> CallbackReceiver:
        """Bind and serve in a daemon thread; returns self. Starting twice is an error."""
        if self._server is not None:
            raise CallbackError("receiver is already running")
        opts = self.options
        try:
            self._server = serve_in_thread(
                self.app, host=self.host, port=self.port, on_failure=self.on_failure, backlog=opts.backlog,
                threads=opts.threads, connection_limit=opts.connection_limit, idle_timeout_s=opts.idle_timeout_s,
                request_timeout_s=opts.request_timeout_s)
        except OSError as exc:
            raise CallbackError(f"cannot listen on {self.host}:{self.port}: {exc}") from exc
        self.port = self._server.port
        self.app.server_report = self._server.report
        with self.app._lock:
            self.app.accepting = True  # a stopped receiver may be started again (same log, same URL path)
        log.info("callback receiver listening on %s", self._masked_url())
        return self

    def stop(self, *, display_timeout: float = 2.0) -> None:
        """Stop serving, let requests in progress finish, close the log. Safe to call twice.

        Display events still queued get up to *display_timeout* seconds to reach ``on_callback``.
        """
        server, self._server = self._server, None
        if server is None:
            return
        with self.app._lock:
            self.app.accepting = False
        server.stop(in_flight=lambda: self.app.in_flight)
        self.app.server_report = None
        for code, n in server.refused().items():
            self._refused_before[code] = self._refused_before.get(code, 0) + n
        self.app.close(display_timeout=display_timeout)
        log.info("callback receiver stopped after %d callbacks", self.count)

    close = stop

    def __enter__(self) -> CallbackReceiver:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- state ---------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while the server is accepting callbacks."""
        return self._server is not None and self._server.failure is None

    @property
    def failure(self) -> str | None:
        """Why the serving loop stopped on its own (``None`` while it serves, or when stopped by :meth:`stop`)."""
        return self._server.failure if self._server is not None else None

    @property
    def server_problem(self) -> str | None:
        """Why the server is not serving now (a stopped or stuck loop); ``None`` when it is, or is stopped."""
        return self._server.problem() if self._server is not None else None

    @property
    def connection_limit(self) -> int | None:
        """Connections held at once, as applied after fitting the open-file limit (None before :meth:`start`)."""
        return self._server.plan.connection_limit if self._server is not None else None

    @property
    def connection_note(self) -> str:
        """One line on the connection limit and the socket watcher, e.g. ``up to 1000 connections (poll; ...)``."""
        return self._server.plan.note if self._server is not None else "not started"

    def reopen(self) -> str | None:
        """Close the log and open it again under its name (after logrotate); ``None`` or why it failed."""
        return self.app.reopen()

    @property
    def url(self) -> str:
        """The full callback URL, secret path included: paste it into ``callback-url``."""
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host in ("::",):
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        if not self.port:
            raise CallbackError("the receiver has no port yet: call start() (or use it as a context manager)")
        return f"http://{host}:{self.port}{self._path}"

    @property
    def health_url(self) -> str:
        """The health check's URL (``GET``; secret path included)."""
        return self.url.rstrip("/") + "/health"

    @property
    def path(self) -> Path | None:
        """The log file currently written to (the day's file when rotating)."""
        return self.app.log_path

    @property
    def count(self) -> int:
        """Callbacks accepted so far."""
        return self.app.count

    @property
    def rejected(self) -> dict[int, int]:
        """HTTP status -> how many requests got it, for every non-200 answer (the server's own included)."""
        counts = self.app.rejected
        server = self._server
        for part in (self._refused_before, server.refused() if server is not None else {}):
            for code, n in part.items():
                counts[code] = counts.get(code, 0) + n
        return dict(sorted(counts.items()))

    @property
    def refused(self) -> int:
        """Callbacks answered 503 because they could not be stored (the provider retries them)."""
        return self.app.refused

    @property
    def display_dropped(self) -> int:
        """Display events dropped because ``on_callback`` fell behind (their callbacks are stored)."""
        return self.app.display_dropped

    def health(self) -> dict:
        """The health report (what ``GET <url>/health`` answers)."""
        return self.app.health()

    def wait_for(self, n: int, *, timeout: float = 30.0) -> int:
        """Block until at least *n* callbacks have arrived; return the count.

        Raises
        ------
        CallbackTimeout
            When fewer than *n* arrived within *timeout* seconds (also a ``TimeoutError``).
        """
        return self.app.wait_for(n, timeout=timeout)

    def records(self, *, start: int = 0) -> list[dict]:
        """Copies of the records kept in memory (callback keys plus ``received-at``), in arrival order.

        ``start=n`` skips the first *n*: a watcher that already has them takes only what is new.
        Empty when the receiver was made with ``keep_in_memory=False``.
        """
        return self.app.records(start=start)

    def frame(self):
        """What arrived so far as a typed DataFrame (see :func:`load_callbacks`).

        Built from memory, or from the log file(s) when ``keep_in_memory=False``.
        """
        from .load import load_callbacks

        if self.keep_in_memory:
            return load_callbacks(self.records(), warn=False)
        return load_callbacks(self.app.log_files(), warn=False)

    # -- display ---------------------------------------------------------------------------------
    def _masked_url(self) -> str:
        try:
            url = self.url
        except CallbackError:
            return "(not started)"
        return url.replace(self._secret, "<secret>") if self._secret else url

    def __repr__(self) -> str:
        state = "running" if self.running else ("failed" if self.failure else "stopped")
        out = str(self.out) if self.out else None
        return f"CallbackReceiver({state}, url={self._masked_url()!s}, out={out!r}, count={self.count})"

    def _repr_html_(self) -> str:
        from html import escape

        state = "running" if self.running else ("failed: " + self.failure if self.failure else "stopped")
        if self.app.storage_failing:
            state += " — storage failing (answering 503)"
        rejected = ", ".join(f"{k}: {v}" for k, v in sorted(self.rejected.items())) or "none"
        rows = [
            ("state", state),
            ("url", self._masked_url() + " (full URL: rx.url)"),
            ("log", str(self.path) if self.out else "in memory"),
            ("callbacks", str(self.count)),
            ("rejected", rejected),
        ]
        body = "".join(f"<tr><th style='text-align:left'>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
        return f"<table><caption>CallbackReceiver</caption>{body}</table>"
