"""The simulator's HTTP transport: a threading server on loopback, body reading and JSON replies.

What a request *means* (token, faults, validation, placing calls) is decided by the
simulator's request handling (``cmvoice_nb.simulator._handling``); this module only moves bytes.
"""
from __future__ import annotations

import logging
import socket
import socketserver
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .. import spec as _spec
from .._http import send_json

logger = logging.getLogger(__name__)

#: Endpoint (``Notification``) -> app name (``notification``).
ENDPOINTS: Mapping[str, str] = {a.endpoint: a.name for a in _spec.APPS.values()}
#: Larger bodies are refused with 413 before being read.
MAX_BODY_BYTES = 1 << 20


class Server(ThreadingHTTPServer):
    """The threading HTTP server; every request goes to ``answer(handler)``."""

    daemon_threads = True
    # Keep-alive connections park their threads on a read: do not join them on close.
    block_on_close = False
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, address, handler, answer: Callable[[BaseHTTPRequestHandler], None]) -> None:
        self.answer = answer
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


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every response carries Content-Length
    server_version = "cmvoice-simulator"
    sys_version = ""
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms Nagle stall
    timeout = 300  # an idle keep-alive connection is closed after this many seconds
    server: Server

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.server.answer(self)

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_POST

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        logger.debug("%s %s", self.address_string(), format % args)


class Dropped(Exception):
    """Internal: the request's connection was dropped on purpose."""


def read_body(h: BaseHTTPRequestHandler) -> tuple[bytes | None, tuple[int, str] | None]:
    """Read the request body (Content-Length or chunked): ``(body, None)`` or ``(None, (status, message))``."""
    if "chunked" in h.headers.get("Transfer-Encoding", "").lower():
        parts: list[bytes] = []
        total = 0
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
            if total > MAX_BODY_BYTES:
                return None, (413, f"body larger than {MAX_BODY_BYTES} bytes")
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
    if n > MAX_BODY_BYTES:
        return None, (413, f"body larger than {MAX_BODY_BYTES} bytes")
    data = h.rfile.read(n)
    if len(data) < n:
        return None, (400, "body shorter than Content-Length")
    return data, None


def reply(h: BaseHTTPRequestHandler, record: dict, status: int, payload: Any, *,
          headers: Mapping[str, str] | None = None, close: bool = False) -> None:
    """Answer JSON with the provider's content type; note the status (and message) in *record*."""
    record["status"] = status
    if isinstance(payload, dict) and "message" in payload:
        record["message"] = payload["message"]
    send_json(h, status, payload, headers=headers, close=close, content_type=_spec.CONTENT_TYPE)


def drop(h: BaseHTTPRequestHandler) -> None:
    """Close the connection without an answer (the "dropped after placing" fault)."""
    h.close_connection = True
    try:
        h.connection.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    raise Dropped


def format_seconds(seconds: float) -> str:
    """A ``Retry-After`` value: whole seconds as an integer (RFC 9110), else the shortest decimal."""
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


__all__ = ["ENDPOINTS", "MAX_BODY_BYTES", "Server", "Handler", "Dropped", "read_body", "reply", "drop",
           "format_seconds"]
