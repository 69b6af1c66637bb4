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

import errno
import functools
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import CallbackError, CallbackTimeout  # noqa: F401  (CallbackTimeout: public here too)
from .options import DEFAULTS, ReceiverOptions
from .wsgi import DEFAULT_MAX_BODY_BYTES, CallbackApp, _Throttled, log_line

log = logging.getLogger(__name__)

#: Listen backlog (see :data:`~cmvoice_nb.callbacks.options.DEFAULTS`).
DEFAULT_BACKLOG = DEFAULTS.backlog

#: Worker threads. Writes are serialised by the log's lock; the threads overlap network I/O.
DEFAULT_THREADS = DEFAULTS.threads

#: Descriptors kept free for everything that is not a connection: standard streams, the listening
#: socket and the loop's wake-up pipe, the log and quarantine files, modules being imported, and
#: whatever else shares the process (a notebook's kernel sockets, a campaign's journal).
RESERVED_DESCRIPTORS = 64

#: Longest request line plus headers. A provider's callback sends a few hundred bytes of headers;
#: a reverse proxy adds a few more.
MAX_HEADER_BYTES = 16 * 1024

#: How many sockets ``select()`` watches where it is the only choice: Python on Windows is built
#: with FD_SETSIZE 512; elsewhere descriptor numbers must stay below 1024.
SELECT_LIMIT = {"nt": 512}
SELECT_LIMIT_POSIX = 1024

#: The serving loop wakes at least this often (seconds), to time connections out and see a stop.
_LOOP_TIMEOUT_S = 0.2

#: A loop that has not come round for this long is stuck: health fails, ``on_failure`` hears it.
LOOP_STALL_S = 60.0

#: At the connection limit, a connection idle for this long, or whose request is still arriving
#: after this long, may be closed to make room (a connection just accepted has not been read yet).
_MAKE_ROOM_AFTER_S = 1.0

#: After accept() ran out of descriptors, new connections wait this long before the next try.
_ACCEPT_PAUSE_S = 0.5

#: accept() errors that mean "no descriptor or buffer for a new connection now" (Windows: WSA codes).
_OUT_OF_RESOURCES = frozenset(
    code for code in (getattr(errno, name, None) for name in ("EMFILE", "ENFILE", "ENOBUFS", "ENOMEM",
                                                               "WSAEMFILE", "WSAENOBUFS"))
    if code is not None)


# -- descriptors: a pure plan, and the few calls that read and raise the limit -----------------------

@dataclass(frozen=True)
class ConnectionPlan:
    """How many connections the server holds, and why.

    Attributes
    ----------
    connection_limit
        Connections held open at once.
    open_file_limit
        The soft ``RLIMIT_NOFILE`` the plan needs (``None``: the platform has none).
    watcher
        ``"poll"`` or ``"select"``.
    note
        One line for the startup message.
    """

    connection_limit: int
    open_file_limit: int | None
    watcher: str
    note: str


def plan_connections(requested: int, *, soft: int | None, hard: int | None, in_use: int, has_poll: bool,
                     platform: str = os.name) -> ConnectionPlan:
    """Fit *requested* connections under the open-file limit and the socket watcher's own limit.

    Pure. *soft* and *hard* are ``RLIMIT_NOFILE`` (``None`` where there is none; *hard* ``None``
    also means unlimited), *in_use* the descriptors already open. The soft limit is raised toward
    the hard one when the connection limit needs it; :data:`RESERVED_DESCRIPTORS` stay free.

    Examples
    --------
    >>> plan_connections(1000, soft=1024, hard=1024, in_use=10, has_poll=True).connection_limit
    950
    >>> p = plan_connections(1000, soft=1024, hard=65536, in_use=10, has_poll=True)
    >>> p.connection_limit, p.open_file_limit, p.watcher
    (1000, 1074, 'poll')
    >>> plan_connections(1000, soft=None, hard=None, in_use=10, has_poll=False, platform="nt").note
    'up to 500 connections (select(): Windows watches at most 512 sockets; 1000 asked)'
    """
    limit = int(requested)
    target = soft
    if soft is not None:
        needed = limit + in_use + RESERVED_DESCRIPTORS
        if needed > soft:
            target = needed if hard is None else max(soft, min(needed, hard))
        limit = min(limit, target - in_use - RESERVED_DESCRIPTORS)
    if has_poll:
        watcher, why = "poll", ""
    else:
        watcher = "select"
        cap = SELECT_LIMIT.get(platform)
        if cap is not None:
            # The listening socket and the loop's wake-up socket are watched too; keep a margin.
            limit = min(limit, cap - 12)
            why = f"select(): Windows watches at most {cap} sockets"
        else:
            limit = min(limit, SELECT_LIMIT_POSIX - in_use - RESERVED_DESCRIPTORS)
            why = f"select(): descriptors must stay below {SELECT_LIMIT_POSIX}"
    limit = max(1, limit)
    if watcher == "poll":
        why = "poll" + (f"; open-file limit {target}" if target is not None else "")
    if limit < requested:
        why += f"; {requested} asked"
    return ConnectionPlan(limit, target, watcher, f"up to {limit} connections ({why})")


def _open_file_limit() -> tuple[int | None, int | None]:
    """``RLIMIT_NOFILE`` as (soft, hard); ``None`` for unlimited, (None, None) where there is none."""
    try:
        import resource
    except ImportError:  # Windows
        return None, None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    infinity = resource.RLIM_INFINITY
    return (None if soft == infinity else soft), (None if hard == infinity else hard)


def _set_open_file_limit(soft: int) -> bool:
    """Raise the soft ``RLIMIT_NOFILE`` to *soft*; False when the system does not allow it."""
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    except (ImportError, ValueError, OSError):  # macOS refuses more than kern.maxfilesperproc
        return False
    return True


def _descriptors_in_use() -> int:
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            return len(os.listdir(folder))
        except OSError:
            continue
    return 16


def _has_poll() -> bool:
    import select

    return hasattr(select, "poll")


def plan_for_this_process(requested: int) -> ConnectionPlan:
    """:func:`plan_connections` for this process, raising its soft open-file limit when needed."""
    soft, hard = _open_file_limit()
    in_use = _descriptors_in_use()
    plan = plan_connections(requested, soft=soft, hard=hard, in_use=in_use, has_poll=_has_poll())
    if soft is not None and plan.open_file_limit is not None and plan.open_file_limit > soft:
        if not _set_open_file_limit(plan.open_file_limit):
            plan = plan_connections(requested, soft=soft, hard=soft, in_use=in_use, has_poll=_has_poll())
    return plan


# -- the server: waitress with a connection limit that makes room, and timeouts on slow requests -----

@functools.lru_cache(maxsize=None)
def _server_class():
    # Built on first use: importing this module imports no server.
    from waitress.channel import HTTPChannel
    from waitress.server import TcpWSGIServer
    from waitress.task import ErrorTask

    class CountedErrorTask(ErrorTask):
        # Requests the server answers itself (413 over the body limit, 400, 431) never reach the
        # app: count them here, on a worker thread.
        def execute(self):
            code = getattr(self.request.error, "code", 500)
            server = self.channel.server
            with server.counts_lock:
                server.refused[code] = server.refused.get(code, 0) + 1
            super().execute()

    class Channel(HTTPChannel):
        error_task_class = CountedErrorTask
        #: When the request now arriving sent its first byte (time.monotonic()).
        request_started = 0.0

        def received(self, data):
            if self.request is None and data:
                self.request_started = time.monotonic()
            return super().received(data)

    class Server(TcpWSGIServer):
        channel_class = Channel
        connection_limit = 1
        idle_timeout_s = request_timeout_s = 60.0
        accept_paused_until = 0.0
        evicted = timed_out = out_of_descriptors = 0

        def readable(self):
            # Runs on the loop's thread before every wait: timeouts first, then whether to accept.
            now = time.time()
            if now >= self.next_channel_cleanup:
                self.next_channel_cleanup = now + self.adj.cleanup_interval
                self.maintenance(now)
            if not self.accepting or time.monotonic() < self.accept_paused_until:
                return False
            if len(self.active_channels) >= self.connection_limit:
                self.make_room()
                return False
            return True

        def maintenance(self, now):
            """Close idle connections and those whose request takes too long to arrive."""
            started_before = time.monotonic() - self.request_timeout_s
            idle_before = now - self.idle_timeout_s
            for channel in list(self.active_channels.values()):
                if channel.requests or channel.will_close:
                    continue  # being answered, or closing already
                if channel.request is not None and channel.request_started < started_before:
                    channel.will_close = True
                    self.timed_out += 1
                elif channel.last_activity < idle_before:
                    channel.will_close = True

        def make_room(self):
            """At the limit: close idle connections, then slowly arriving requests, oldest first."""
            idle_before = time.time() - _MAKE_ROOM_AFTER_S
            started_before = time.monotonic() - _MAKE_ROOM_AFTER_S
            closing, idle, slow = 0, [], []
            for channel in self.active_channels.values():
                if channel.will_close or channel.close_when_flushed:
                    closing += 1
                elif channel.requests or channel.total_outbufs_len:
                    continue
                elif channel.request is None:
                    if channel.last_activity < idle_before:
                        idle.append(channel)
                elif channel.request_started < started_before:
                    slow.append(channel)
            needed = len(self.active_channels) - self.connection_limit + 1 - closing
            if needed <= 0:
                return
            victims = sorted(idle, key=lambda c: c.last_activity)[:needed]
            victims += sorted(slow, key=lambda c: c.request_started)[: needed - len(victims)]
            for channel in victims:
                channel.will_close = True
            self.evicted += len(victims)
            if victims:
                self.limit_log("callback receiver: %d connections open, the limit: closing the oldest idle or "
                               "slow ones to make room (%d so far)", len(self.active_channels), self.evicted)
            else:
                self.limit_log("callback receiver: %d connections open, the limit, all of them busy: new "
                               "connections wait", len(self.active_channels))

        def handle_accept(self):
            try:
                pair = self.accept()
            except OSError as exc:
                if exc.errno in _OUT_OF_RESOURCES:
                    # The connection stays in the backlog; trying again at once would spin.
                    self.accept_paused_until = time.monotonic() + _ACCEPT_PAUSE_S
                    self.out_of_descriptors += 1
                    self.limit_log("callback receiver: cannot accept a connection (%s); new connections wait",
                                   os.strerror(exc.errno))
                return
            if pair is None:
                return
            conn, addr = pair
            try:
                self.set_socket_options(conn)
                self.channel_class(self, conn, self.fix_addr(addr), self.adj, map=self._map)
            except OSError:  # the client left before we got to it
                conn.close()

    return Server


class _Server:
    """waitress's server and the thread running its loop: a plan, health, a graceful stop."""

    def __init__(self, app: Any, *, host: str, port: int, options: ReceiverOptions, max_body_bytes: int,
                 on_failure: Callable[[str], None] | None = None) -> None:
        from waitress.adjustments import Adjustments
        from waitress import wasyncore
        from waitress.task import ThreadedTaskDispatcher

        self.app = app
        self.options = options
        self.on_failure = on_failure
        self.plan = plan_for_this_process(options.connection_limit)
        adj = Adjustments(
            host=host, port=port, threads=options.threads, backlog=options.backlog, ident="cmvoice-receiver",
            connection_limit=self.plan.connection_limit, channel_timeout=max(1, round(options.idle_timeout_s)),
            cleanup_interval=1, asyncore_use_poll=True, asyncore_loop_timeout=_LOOP_TIMEOUT_S,
            # waitress refuses a body from its limit on (>=): one more byte lets exactly max_body_bytes in.
            # In-memory buffers up to the same size, so nothing it accepts is spooled to a temporary file.
            max_request_body_size=max_body_bytes + 1, inbuf_overflow=max_body_bytes + 2,
            max_request_header_size=MAX_HEADER_BYTES,
            expose_tracebacks=False, clear_untrusted_proxy_headers=True, log_socket_errors=False,
        )
        self.map: dict = {}
        self.dispatcher = ThreadedTaskDispatcher()
        self.dispatcher.set_thread_count(options.threads)
        try:
            server = _server_class()(app, map=self.map, dispatcher=self.dispatcher, adj=adj)
        except BaseException:
            self.dispatcher.shutdown(cancel_pending=True, timeout=1)
            wasyncore.close_all(self.map, ignore_all=True)
            raise
        server.connection_limit = self.plan.connection_limit
        server.idle_timeout_s = float(options.idle_timeout_s)
        server.request_timeout_s = float(options.request_timeout_s)
        server.limit_log = _Throttled(logging.WARNING, logger=log)
        server.refused, server.counts_lock = {}, threading.Lock()
        self.server = server
        self.port = int(server.effective_port)
        self.failure: str | None = None
        self.tick = time.monotonic()
        self._stopping = False
        self.thread = threading.Thread(target=self._run, name="cmvoice-callback-receiver", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        from waitress import wasyncore

        wait = wasyncore.poll2 if self.plan.watcher == "poll" else wasyncore.poll
        try:
            while self.map:
                self.tick = time.monotonic()
                wait(_LOOP_TIMEOUT_S, self.map)
        except BaseException as exc:  # noqa: BLE001 - whatever ends the loop must be reported
            if self._stopping:
                log.debug("callback receiver: server loop ended at stop", exc_info=True)
            else:
                log.debug("callback receiver: the serving loop failed", exc_info=True)
                self._fail(f"{type(exc).__name__}: {exc}")
            return
        if not self._stopping:
            self._fail("the serving loop ended")

    def _fail(self, reason: str) -> None:
        self.failure = reason
        hook = self.on_failure
        if hook is None:
            log.error("callback receiver: the serving loop stopped (%s): nothing is received any more", reason)
            return
        try:
            hook(reason)
        except Exception:  # noqa: BLE001 - the failure is recorded all the same
            log.exception("callback receiver: on_failure raised")

    def problem(self) -> str | None:
        """Why the server is not serving (``None``: it is)."""
        if self.failure is not None:
            return f"the serving loop stopped: {self.failure}"
        if self._stopping:
            return None
        if not self.thread.is_alive():
            return "the serving loop is not running"
        stalled = time.monotonic() - self.tick
        if stalled > LOOP_STALL_S:
            return f"the serving loop has not come round for {stalled:.0f} s"
        return None

    def report(self) -> dict:
        """The server's part of the health report."""
        server = self.server
        return {
            "problem": self.problem(),
            "connections": len(server.active_channels),
            "connection_limit": self.plan.connection_limit,
            "watcher": self.plan.watcher,
            "open_file_limit": self.plan.open_file_limit,
            "closed_to_make_room": server.evicted,
            "timed_out": server.timed_out,
            "out_of_descriptors": server.out_of_descriptors,
            "refused": {str(k): v for k, v in sorted(self.refused().items())},
        }

    def refused(self) -> dict[int, int]:
        """HTTP status -> requests the server answered itself, before the app (413, 400, 431)."""
        with self.server.counts_lock:
            return dict(self.server.refused)

    def stop(self, *, in_flight: Callable[[], int], timeout: float = 5.0) -> None:
        """Stop listening, let requests in progress finish (up to *timeout* s), then close everything."""
        from waitress import wasyncore

        self._stopping = True
        server = self.server
        loop_alive = self.thread.is_alive()
        done = threading.Event()

        def stop_listening() -> None:
            # Runs on the loop's own thread (asyncore is not thread-safe).
            try:
                wasyncore.dispatcher.close(server)
            finally:
                done.set()

        if loop_alive:
            try:
                server.trigger.pull_trigger(stop_listening)
                done.wait(timeout)
            except OSError:
                pass
        deadline = time.monotonic() + (timeout if loop_alive else 0.5)
        while in_flight() > 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        if loop_alive:
            time.sleep(0.05)  # let the loop send the last answers
        try:
            self.dispatcher.shutdown(cancel_pending=True, timeout=max(0.1, deadline - time.monotonic()))
        except Exception:  # noqa: BLE001 - best effort at stop
            pass
        closed = threading.Event()

        def close_all() -> None:
            wasyncore.close_all(self.map, ignore_all=True)
            closed.set()

        if self.thread.is_alive():
            try:
                server.trigger.pull_trigger(close_all)
                closed.wait(2.0)
            except OSError:
                pass
        if not closed.is_set():
            wasyncore.close_all(self.map, ignore_all=True)
        self.thread.join(timeout=5)


def serve_in_thread(app: Any, *, host: str, port: int, on_failure: Callable[[str], None] | None = None,
                    **options: Any) -> _Server:
    """Serve a WSGI *app* with waitress in a daemon thread; returns the running server handle.

    *options* are :class:`~cmvoice_nb.callbacks.options.ReceiverOptions` server fields
    (``backlog``, ``threads``, ``connection_limit``, ``idle_timeout_s``, ``request_timeout_s``,
    ``max_body_bytes``); the body limit is the app's own when it has one.
    """
    opts = DEFAULTS.replace(**options)
    max_body = int(getattr(app, "max_body_bytes", opts.max_body_bytes))
    return _Server(app, host=host, port=port, options=opts, max_body_bytes=max_body, on_failure=on_failure)


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

    Every default is :data:`~cmvoice_nb.callbacks.options.DEFAULTS`'s.

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
    ) -> None:
        options = DEFAULTS.replace(
            max_body_bytes=max_body_bytes, rotate_daily=bool(rotate_daily), quarantine=quarantine,
            keep_in_memory=keep_in_memory, display_queue=display_queue, backlog=backlog, threads=threads,
            connection_limit=connection_limit, idle_timeout_s=idle_timeout_s, request_timeout_s=request_timeout_s,
        )
        self.options = options.replace(keep_in_memory=options.keeps_records(out=out, in_process=True))
        self.app = CallbackApp(
            out, secret=secrets.token_urlsafe(16) if secret is None else secret,
            max_body_bytes=options.max_body_bytes, rotate_daily=options.rotate_daily, quarantine=options.quarantine,
            keep_in_memory=self.options.keep_in_memory, on_callback=on_callback, display_queue=options.display_queue,
        )
        self.host = host
        self.port = int(port)
        self.on_failure = on_failure
        self._server: _Server | None = None
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

    def __enter__(self) -> "CallbackReceiver":
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
        return f"CallbackReceiver({state}, url={self._masked_url()!s}, out={str(self.out) if self.out else None!r}, count={self.count})"

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


__all__ = ["CallbackReceiver", "CallbackTimeout", "ConnectionPlan", "DEFAULT_MAX_BODY_BYTES", "DEFAULT_BACKLOG",
           "log_line", "plan_connections", "serve_in_thread"]
