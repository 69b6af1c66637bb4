"""Receive the provider's call-result callbacks: the WSGI app of :mod:`.wsgi`, served by waitress.

:class:`CallbackReceiver` runs :func:`~cmvoice_nb.callbacks.wsgi_app` under waitress (a pure-Python,
cross-platform production WSGI server) in a daemon thread, so it works inside a Jupyter kernel
whose event loop is busy; ``cmvoice receive`` runs the same thing from a shell. Everything about
what is stored and answered lives in the app (see :mod:`cmvoice_nb.callbacks.wsgi`):

* a callback is on disk (written and fsynced) before its 200 goes back;
* a callback that cannot be stored is answered 503 and is not in the log;
* ``on_callback`` (printing, a notebook's display) never delays an acknowledgement;
* every malformed body gets a 400 and a quarantine entry.

Waitress parses the request itself and refuses, with 400, a ``Content-Length`` that is not one run
of digits or that is sent twice; it accepts chunked bodies by buffering them (bounded). The listen
backlog is sized for bursts (:data:`DEFAULT_BACKLOG`): a provider flushing its retry queue opens
many connections at once.

Callbacks are unsigned (contract): the practical guard is an unguessable URL, so the receiver
listens on a random secret path and answers 404 everywhere else.
"""
from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any, Callable

from ..errors import CallbackError, CallbackTimeout  # noqa: F401  (CallbackTimeout: public here too)
from .wsgi import DEFAULT_DISPLAY_QUEUE, DEFAULT_MAX_BODY_BYTES, CallbackApp, log_line

log = logging.getLogger(__name__)

#: Listen backlog: connections the kernel queues while every worker thread is busy (a burst of
#: fresh connections must not be reset).
DEFAULT_BACKLOG = 2048

#: Worker threads. Writes are serialised by the log's lock; the threads overlap network I/O.
DEFAULT_THREADS = 8

#: Bodies up to this size are read by waitress so that the app can answer 413 itself.
_SERVER_BODY_LIMIT = 8 * 1024 * 1024


def serve_in_thread(app: Any, *, host: str, port: int, backlog: int = DEFAULT_BACKLOG,
                    threads: int = DEFAULT_THREADS) -> "_WaitressThread":
    """Serve a WSGI *app* with waitress in a daemon thread; returns the running server handle."""
    return _WaitressThread(app, host=host, port=port, backlog=backlog, threads=threads)


class _WaitressThread:
    """waitress's server and the thread running its loop, with a graceful stop."""

    def __init__(self, app: Any, *, host: str, port: int, backlog: int, threads: int) -> None:
        from waitress.server import create_server

        self.app = app
        self.server = create_server(
            app, host=host, port=port, threads=threads, backlog=backlog,
            connection_limit=max(100, backlog), channel_timeout=60, ident="cmvoice-receiver",
            max_request_body_size=_SERVER_BODY_LIMIT, expose_tracebacks=False, clear_untrusted_proxy_headers=True,
            asyncore_loop_timeout=0.2,
        )
        self.port = int(self.server.effective_port)
        self.thread = threading.Thread(target=self._run, name="cmvoice-callback-receiver", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.server.run()
        except Exception:  # noqa: BLE001 - the loop ending on a closed map is normal at stop
            log.debug("callback receiver: server loop ended", exc_info=True)

    def stop(self, *, in_flight: Callable[[], int], timeout: float = 5.0) -> None:
        """Stop listening, let requests in progress finish (up to *timeout* s), then close everything."""
        from waitress import wasyncore

        server = self.server
        done = threading.Event()

        def stop_listening() -> None:
            # Runs on the loop's own thread (asyncore is not thread-safe).
            try:
                wasyncore.dispatcher.close(server)
            finally:
                done.set()

        try:
            server.trigger.pull_trigger(stop_listening)
            done.wait(timeout)
        except OSError:
            pass
        deadline = time.monotonic() + timeout
        while in_flight() > 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)  # let the loop send the last answers
        try:
            server.task_dispatcher.shutdown(cancel_pending=True, timeout=max(0.1, deadline - time.monotonic()))
        except Exception:  # noqa: BLE001 - best effort at stop
            pass
        closed = threading.Event()

        def close_all() -> None:
            wasyncore.close_all(server._map)
            closed.set()

        try:
            server.trigger.pull_trigger(close_all)
            closed.wait(2.0)
        except OSError:
            pass
        if not closed.is_set():
            wasyncore.close_all(server._map)
        self.thread.join(timeout=5)


class CallbackReceiver:
    """Receive callbacks on loopback and append each to a JSON Lines log.

    Serves :func:`~cmvoice_nb.callbacks.wsgi_app` with waitress in a daemon thread.

    Parameters
    ----------
    out
        The JSONL log to append to (created if missing, never truncated). ``None`` keeps callbacks
        in memory only (:meth:`frame` still works).
    host, port
        Where to listen. Loopback and a free port by default; the provider cannot reach loopback,
        so for a real campaign expose it through a tunnel or a reverse proxy (see the README).
    secret
        The secret path segment; random (``secrets.token_urlsafe(16)``) by default, ``""`` for none.
    max_body_bytes
        Larger bodies are refused with 413.
    rotate_daily
        Write ``name-YYYY-MM-DD.jsonl`` per UTC day of receipt instead of one file.
    quarantine
        Where malformed bodies are kept (JSONL: received-at, reason, body). Default: beside *out*
        as ``<name>.quarantine.jsonl``; in memory (:attr:`quarantined`) when *out* is None.
    keep_in_memory
        Also keep every record in memory for :meth:`frame` (default). Turn it off for long-running
        receivers: :meth:`frame` then reads the log.
    on_callback
        Called with each stored record (callback keys plus ``received-at``) after it is on disk, on
        a separate thread fed by a bounded queue: a slow or blocked hook never delays an
        acknowledgement; events it cannot keep up with are dropped and counted
        (:attr:`display_dropped`). Errors are logged, never sent back to the provider.
    backlog, threads
        The listen backlog (sized for bursts of fresh connections) and waitress's worker threads.

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
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        rotate_daily: bool = False,
        quarantine: str | os.PathLike | None = None,
        keep_in_memory: bool = True,
        on_callback: Callable[[dict], None] | None = None,
        backlog: int = DEFAULT_BACKLOG,
        threads: int = DEFAULT_THREADS,
        display_queue: int = DEFAULT_DISPLAY_QUEUE,
    ) -> None:
        self.app = CallbackApp(
            out, secret=secrets.token_urlsafe(16) if secret is None else secret, max_body_bytes=max_body_bytes,
            rotate_daily=rotate_daily, quarantine=quarantine, keep_in_memory=keep_in_memory,
            on_callback=on_callback, display_queue=display_queue,
        )
        self.host = host
        self.port = int(port)
        self.backlog = int(backlog)
        self.threads = int(threads)
        self._server: _WaitressThread | None = None

    # -- configuration, as attributes (the app holds it) -----------------------------------------
    out = property(lambda self: self.app.out, doc="The JSONL log given (a folder becomes folder/callbacks.jsonl).")
    max_body_bytes = property(lambda self: self.app.max_body_bytes)
    rotate_daily = property(lambda self: self.app.rotate_daily)
    keep_in_memory = property(lambda self: self.app.keep_in_memory)
    quarantine_path = property(lambda self: self.app.quarantine_path,
                               doc="Where malformed bodies are kept (None: in memory, :attr:`quarantined`).")
    quarantined = property(lambda self: self.app.quarantined, doc="Quarantine entries written by this receiver.")
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
    def start(self) -> "CallbackReceiver":
        """Bind and serve in a daemon thread; returns self. Starting twice is an error."""
        if self._server is not None:
            raise CallbackError("receiver is already running")
        try:
            self._server = serve_in_thread(self.app, host=self.host, port=self.port, backlog=self.backlog,
                                           threads=self.threads)
        except OSError as exc:
            raise CallbackError(f"cannot listen on {self.host}:{self.port}: {exc}") from exc
        self.port = self._server.port
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
        self.app.close(display_timeout=display_timeout)
        log.info("callback receiver stopped after %d callbacks", self.count)

    close = stop

    def __enter__(self) -> "CallbackReceiver":
        return self.start() if self._server is None else self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- state ---------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while the server is accepting callbacks."""
        return self._server is not None

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
        """HTTP status -> how many requests got it, for every non-200 answer."""
        return self.app.rejected

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
        state = "running" if self.running else "stopped"
        return f"CallbackReceiver({state}, url={self._masked_url()!s}, out={str(self.out) if self.out else None!r}, count={self.count})"

    def _repr_html_(self) -> str:
        from html import escape

        state = "running" if self.running else "stopped"
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


__all__ = ["CallbackReceiver", "CallbackTimeout", "DEFAULT_MAX_BODY_BYTES", "DEFAULT_BACKLOG", "log_line",
           "serve_in_thread"]
