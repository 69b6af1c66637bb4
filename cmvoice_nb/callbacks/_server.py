"""The callback server: waitress with a connection limit that makes room, timeouts on slow requests, a watched loop.

:func:`serve_in_thread` serves a WSGI app in a daemon thread and returns a :class:`Server`
handle (its plan, its health, a graceful stop); :class:`~cmvoice_nb.callbacks.CallbackReceiver`
is the public front. The server subclass is built on first use: importing this module imports
no server.
"""
from __future__ import annotations

import errno
import functools
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from ._connections import plan_for_this_process
from ._display import Throttled
from .options import DEFAULTS, ReceiverOptions

__all__ = ["Server", "serve_in_thread", "MAX_HEADER_BYTES", "LOOP_STALL_S"]

# Records carry the public module's name, which ``cmvoice receive`` prints with each message.
log = logging.getLogger("cmvoice_nb.callbacks.receiver")

#: Longest request line plus headers. A provider's callback sends a few hundred bytes of headers;
#: a reverse proxy adds a few more.
MAX_HEADER_BYTES = 16 * 1024

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


@functools.cache
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


class Server:
    """waitress's server and the thread running its loop: a plan, health, a graceful stop."""

    def __init__(self, app: Any, *, host: str, port: int, options: ReceiverOptions, max_body_bytes: int,
                 on_failure: Callable[[str], None] | None = None) -> None:
        from waitress import wasyncore
        from waitress.adjustments import Adjustments
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
            # It checks a chunked body against that limit only once a read (recv_bytes) is buffered, so
            # the read crossing it lands up to one read past it: in-memory buffers hold that too, and
            # nothing it reads is spooled to a temporary file.
            max_request_body_size=max_body_bytes + 1, inbuf_overflow=max_body_bytes + 2 + Adjustments.recv_bytes,
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
        server.limit_log = Throttled(logging.WARNING, logger=log)
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
            wait_s = max(0.1, deadline - time.monotonic())
            # waitress adds the timeout to time.time(): a float works; its stubs say int
            self.dispatcher.shutdown(cancel_pending=True, timeout=wait_s)  # type: ignore[arg-type]
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
                    **options: Any) -> Server:
    """Serve a WSGI *app* with waitress in a daemon thread; returns the running server handle.

    *options* are :class:`~cmvoice_nb.callbacks.options.ReceiverOptions` server fields
    (``backlog``, ``threads``, ``connection_limit``, ``idle_timeout_s``, ``request_timeout_s``,
    ``max_body_bytes``); the body limit is the app's own when it has one.
    """
    opts = DEFAULTS.replace(**options)
    max_body = int(getattr(app, "max_body_bytes", opts.max_body_bytes))
    return Server(app, host=host, port=port, options=opts, max_body_bytes=max_body, on_failure=on_failure)
