"""Receive the provider's call-result callbacks on a small HTTP server.

:class:`CallbackReceiver` is a standard-library ``ThreadingHTTPServer`` running in
a daemon thread, so it works inside a Jupyter kernel whose event loop is busy.
Every accepted callback becomes one line of a JSON Lines log, with the time it
was received, flushed and fsynced *before* the 200 is returned: a callback the
provider saw acknowledged is on disk. One lock around append + flush + fsync keeps
concurrent posts from interleaving.

Callbacks are unsigned (contract): the practical guard is an unguessable URL, so
the receiver listens on a random secret path and answers 404 everywhere else.

Rejections::

    wrong path                         404
    not POST                           405
    no Content-Length (chunked)        411
    body over max_body_bytes           413
    Content-Type not JSON              415
    malformed JSON / not an object     400  (the body is kept in the quarantine file)
    receiver stopping                  503
"""
from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

from ..errors import CallbackError
from ..spec import iso_utc
from .._http import send_json

log = logging.getLogger(__name__)

#: Default body limit. A callback is ~400 bytes; 64 KiB leaves room for extra keys.
DEFAULT_MAX_BODY_BYTES = 64 * 1024

#: Oversized bodies up to this size are read and discarded so the client sees the 413.
_DRAIN_LIMIT_BYTES = 8 * 1024 * 1024

# Indirection so tests can observe that every acknowledged line was fsynced first.
_fsync = os.fsync


class CallbackTimeout(CallbackError, TimeoutError):
    """:meth:`CallbackReceiver.wait_for` ran out of time before enough callbacks arrived."""


def log_line(callback: dict, received_at: str) -> bytes:
    """Return the JSONL line stored for *callback*: ``received-at`` first, then the callback as sent.

    Pure, so the format is testable without a server.

    Examples
    --------
    >>> log_line({"type": "otp-finished"}, "2026-01-01T00:00:00.000Z")
    b'{"received-at": "2026-01-01T00:00:00.000Z", "type": "otp-finished"}\\n'
    """
    record = {"received-at": received_at}
    record.update((k, v) for k, v in callback.items() if k != "received-at")
    return (json.dumps(record, ensure_ascii=False, separators=(", ", ": ")) + "\n").encode("utf-8")


def _is_json_content_type(value: str | None) -> bool:
    if not value:
        return False
    mime = value.split(";", 1)[0].strip().lower()
    return mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json"))


class _LogWriter:
    """Append-only JSONL writer with optional per-day rotation; callers hold the receiver's lock."""

    def __init__(self, out: Path, *, rotate_daily: bool) -> None:
        self.base = out
        self.rotate_daily = rotate_daily
        self._fh = None
        self._day: str | None = None
        self.path: Path | None = None

    def _path_for(self, day: str) -> Path:
        if not self.rotate_daily:
            return self.base
        name = self.base.name
        for suffix in (".jsonl", ".ndjson", ".json", ".log"):
            if name.endswith(suffix):
                return self.base.with_name(f"{name[: -len(suffix)]}-{day}{suffix}")
        return self.base.with_name(f"{name}-{day}")

    def _open(self, day: str) -> None:
        path = self._path_for(day)
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(path, "ab")
        # A crash may have left half a line: start on a fresh line so the next record stays parseable.
        if fh.tell() > 0:
            with open(path, "rb") as check:
                check.seek(-1, os.SEEK_END)
                if check.read(1) != b"\n":
                    fh.write(b"\n")
        self._fh, self._day, self.path = fh, day, path

    def write(self, data: bytes, day: str) -> None:
        if self._fh is None or (self.rotate_daily and day != self._day):
            self.close()
            self._open(day)
        self._fh.write(data)
        self._fh.flush()
        _fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    receiver: "CallbackReceiver"


class _IPv6Server(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "cmvoice-receiver"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = 30  # a client that stops sending must not hold a thread forever

    def setup(self) -> None:
        super().setup()
        # Headers and body leave in two writes; without NODELAY, Nagle + delayed ACK would stall
        # every keep-alive reply by ~40 ms.
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    # -- routing -------------------------------------------------------------------------------
    def _on_path(self) -> bool:
        path = self.path.split("?", 1)[0]
        return path.rstrip("/") == self.server.receiver._path.rstrip("/")

    def _reply(self, status: int, message: str, *, close: bool = False, extra: dict | None = None) -> None:
        send_json(self, status, {"status": status, "message": message}, headers=extra, close=close)
        self.server.receiver._count_status(status)

    def _other_method(self) -> None:
        if not self._on_path():
            self._reply(404, "not found", close=True)
        else:
            self._reply(405, "only POST is accepted", extra={"Allow": "POST"}, close=True)

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _other_method

    def _drain(self, length: int) -> None:
        left = length
        try:
            while left > 0:
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
        except OSError:
            pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        rx = self.server.receiver
        if not self._on_path():
            self._reply(404, "not found", close=True)
            return
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower() or self.headers.get("Content-Length") is None:
            self._reply(411, "Content-Length is required", close=True)
            return
        try:
            length = int(self.headers["Content-Length"])
            if length < 0:
                raise ValueError
        except ValueError:
            self._reply(400, "bad Content-Length", close=True)
            return
        if length > rx.max_body_bytes:
            # Drain a moderately large body so the client reads our 413 instead of a reset;
            # anything huge is not read at all and the connection is closed.
            if length <= _DRAIN_LIMIT_BYTES:
                self._drain(length)
            self._reply(413, f"body of {length} bytes exceeds the limit of {rx.max_body_bytes}", close=True)
            return
        if not _is_json_content_type(self.headers.get("Content-Type")):
            self._drain(length)
            self._reply(415, "Content-Type must be application/json", close=True)
            return
        body = self.rfile.read(length)
        if len(body) < length:
            self._reply(400, "body shorter than Content-Length", close=True)
            return
        try:
            value = json.loads(body)
        except ValueError as exc:
            rx._quarantine(body, f"malformed JSON: {exc}")
            self._reply(400, "malformed JSON")
            return
        if not isinstance(value, dict):
            rx._quarantine(body, f"expected a JSON object, got {type(value).__name__}")
            self._reply(400, "expected a JSON object")
            return
        try:
            accepted = rx._accept(value)
        except OSError as exc:
            # Not on disk, so not acknowledged: the provider may retry, and the loader dedupes.
            log.error("callback receiver: cannot store a callback: %s", exc)
            self._reply(500, "could not store the callback", close=True)
            return
        if not accepted:
            self._reply(503, "receiver is stopping", close=True)
            return
        self._reply(200, "ok")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        # The request line contains the secret path: never log it.
        secret = self.server.receiver._secret
        text = format % args
        if secret:
            text = text.replace(secret, "<secret>")
        log.debug("%s %s", self.address_string(), text)


class CallbackReceiver:
    """Receive callbacks on loopback and append each to a JSON Lines log.

    Parameters
    ----------
    out
        The JSONL log to append to (created if missing, never truncated). ``None`` keeps callbacks
        in memory only (:meth:`frame` still works).
    host, port
        Where to listen. Loopback and a free port by default; the provider cannot reach loopback,
        so for a real campaign expose it through a tunnel (see the README).
    secret
        The secret path segment; random (``secrets.token_urlsafe(16)``) by default, ``""`` for none.
    max_body_bytes
        Larger bodies are refused with 413 without being read.
    rotate_daily
        Write ``name-YYYY-MM-DD.jsonl`` per UTC day of receipt instead of one file.
    quarantine
        Where malformed bodies are kept (JSONL: received-at, reason, body). Default: beside *out*
        as ``<name>.quarantine.jsonl``; in memory (:attr:`quarantined`) when *out* is None.
    keep_in_memory
        Also keep every record in memory for :meth:`frame` (default). Turn it off for long-running
        receivers: :meth:`frame` then reads the log.
    on_callback
        Called with each stored record (callback keys plus ``received-at``) after it is on disk,
        from a server thread; errors are logged, never sent back to the provider.

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
    ) -> None:
        if not keep_in_memory and out is None:
            raise ValueError("keep_in_memory=False needs an out file, or callbacks would be lost")
        if max_body_bytes <= 0:
            raise ValueError(f"max_body_bytes must be positive, got {max_body_bytes!r}")
        self.out = Path(out) if out is not None else None
        if self.out is not None and (self.out.is_dir() or str(out).endswith(("/", os.sep))):
            self.out = self.out / "callbacks.jsonl"
        self.host = host
        self.port = int(port)
        self._secret = secrets.token_urlsafe(16) if secret is None else str(secret).strip("/")
        if "/" in self._secret or "?" in self._secret or "#" in self._secret:
            raise ValueError("secret must be a single URL path segment (no '/', '?' or '#')")
        self._path = "/" + self._secret
        self.max_body_bytes = int(max_body_bytes)
        self.rotate_daily = rotate_daily
        if quarantine is not None:
            self.quarantine_path: Path | None = Path(quarantine)
        elif self.out is not None:
            self.quarantine_path = self.out.with_name(self.out.name.rsplit(".", 1)[0] + ".quarantine.jsonl")
        else:
            self.quarantine_path = None
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._records: list[dict] = []
        self._count = 0
        self.keep_in_memory = keep_in_memory
        self.on_callback = on_callback
        self.quarantined: list[dict] = []
        self._status_counts: dict[int, int] = {}
        self._writer = _LogWriter(self.out, rotate_daily=rotate_daily) if self.out is not None else None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._accepting = False

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> "CallbackReceiver":
        """Bind and serve in a daemon thread; returns self. Starting twice is an error."""
        if self._server is not None:
            raise CallbackError("receiver is already running")
        cls = _IPv6Server if ":" in self.host else _Server
        try:
            server = cls((self.host, self.port), _Handler)
        except OSError as exc:
            raise CallbackError(f"cannot listen on {self.host}:{self.port}: {exc}") from exc
        server.receiver = self
        self._server = server
        self.port = server.server_address[1]
        self._accepting = True
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="cmvoice-callback-receiver", daemon=True
        )
        self._thread.start()
        log.info("callback receiver listening on %s", self._masked_url())
        return self

    def stop(self) -> None:
        """Stop serving, wait for the server thread and close the log. Safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        with self._lock:
            self._accepting = False
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            if self._writer is not None:
                self._writer.close()
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
    def path(self) -> Path | None:
        """The log file currently written to (the day's file when rotating)."""
        if self._writer is None:
            return None
        return self._writer.path or self._writer._path_for(iso_utc()[:10])

    @property
    def count(self) -> int:
        """Callbacks accepted so far."""
        with self._lock:
            return self._count

    @property
    def rejected(self) -> dict[int, int]:
        """HTTP status -> how many requests got it, for every non-200 answer."""
        with self._lock:
            return {k: v for k, v in self._status_counts.items() if k != 200}

    def wait_for(self, n: int, *, timeout: float = 30.0) -> int:
        """Block until at least *n* callbacks have arrived; return the count.

        Raises
        ------
        CallbackTimeout
            When fewer than *n* arrived within *timeout* seconds (also a ``TimeoutError``).
        """
        deadline = time.monotonic() + timeout
        with self._arrived:
            while self._count < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CallbackTimeout(f"only {self._count} of {n} callbacks arrived within {timeout} s")
                self._arrived.wait(left)
            return self._count

    def records(self) -> list[dict]:
        """Copies of the records kept in memory (callback keys plus ``received-at``), in arrival order.

        Empty when the receiver was made with ``keep_in_memory=False``.
        """
        with self._lock:
            return [dict(r) for r in self._records]

    def frame(self):
        """What arrived so far as a typed DataFrame (see :func:`load_callbacks`).

        Built from memory, or from the log file(s) when ``keep_in_memory=False``.
        """
        from .load import load_callbacks

        if self.keep_in_memory:
            return load_callbacks(self.records(), warn=False)
        with self._lock:
            files = self._log_files()
        return load_callbacks(files, warn=False)

    def _log_files(self) -> list[Path]:
        if self.out is None:
            return []
        if not self.rotate_daily:
            return [self.out] if self.out.exists() else []
        stem, _, suffix = self.out.name.rpartition(".")
        pattern = f"{stem}-????-??-??.{suffix}" if stem else f"{self.out.name}-????-??-??"
        return sorted(self.out.parent.glob(pattern))

    # -- called from handler threads -------------------------------------------------------------
    def _accept(self, callback: dict) -> bool:
        received = iso_utc()
        line = log_line(callback, received)
        with self._arrived:
            if not self._accepting:
                return False
            if self._writer is not None:
                self._writer.write(line, received[:10])
            record = json.loads(line)
            if self.keep_in_memory:
                self._records.append(record)
            self._count += 1
            self._arrived.notify_all()
        if self.on_callback is not None:
            try:
                self.on_callback(record)
            except Exception:  # noqa: BLE001 - a display hook must not turn a stored callback into an error
                log.exception("callback receiver: on_callback failed")
        return True

    def _quarantine(self, body: bytes, reason: str) -> None:
        received = iso_utc()
        try:
            text, encoding = body.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = base64.b64encode(body).decode("ascii"), "base64"
        entry = {"received-at": received, "reason": reason, "encoding": encoding, "body": text}
        log.warning("callback receiver: quarantined a body (%s)", reason)
        with self._lock:
            self.quarantined.append(entry)
            if self.quarantine_path is not None:
                self.quarantine_path.parent.mkdir(parents=True, exist_ok=True)
                with open(self.quarantine_path, "ab") as fh:
                    fh.write((json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8"))
                    fh.flush()
                    _fsync(fh.fileno())

    def _count_status(self, status: int) -> None:
        with self._lock:
            self._status_counts[status] = self._status_counts.get(status, 0) + 1

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


__all__ = ["CallbackReceiver", "CallbackTimeout", "DEFAULT_MAX_BODY_BYTES", "log_line"]
