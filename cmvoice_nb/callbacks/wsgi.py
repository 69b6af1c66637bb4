"""The callback receiver as a WSGI application: run it under any WSGI server.

:func:`wsgi_app` returns a :class:`CallbackApp`, a plain WSGI callable. ``cmvoice receive`` and
:class:`~cmvoice_nb.callbacks.CallbackReceiver` serve it with waitress; gunicorn, uWSGI or any
other WSGI server can serve it too, behind your HTTPS reverse proxy (see the deployment guide,
``docs/guides/deployment.md``)::

    gunicorn --workers 1 --threads 8 --bind 127.0.0.1:9000 \\
        'cmvoice_nb.callbacks:wsgi_app(out="/var/lib/cmvoice/callbacks.jsonl", secret="Xq3...")'

Use **one** worker process (threads are fine): the app serialises writes with a lock and undoes a
failed write by truncating its own log, which only one process may do.

What it guarantees:

* **Acknowledged means on disk.** Each callback becomes one JSON Lines record (``received-at``
  first, then the callback as sent), written and fsynced *before* the 200 goes back.
* **Refused means absent.** When the write or the fsync fails (disk full, I/O error) the log is
  truncated back to its last good length and the answer is 503 with ``Retry-After``: the provider
  retries later, and the refused copy never surfaces in the log. The app keeps serving, reopens
  the log on the next callback (so freeing space or moving a full log aside is enough to recover)
  and logs the cause at most once a minute.
* **Nothing slow sits before the acknowledgement.** ``on_callback`` (the CLI's console line, a
  notebook's display) runs on its own thread, fed by a bounded queue; when it falls behind, display
  events are dropped and counted (:attr:`CallbackApp.display_dropped`), never callbacks.
* **Every request gets an answer.** Whatever breaks the parser -- nesting too deep for
  ``json.loads``, invalid UTF-8, a lone surrogate (``"\\ud800"``), which no UTF-8 log can hold --
  the body is kept in the quarantine file and the answer is 400.
* **Rotation-safe.** Before and after each append the log's path must still name the open file;
  when logrotate (or anyone) renamed or removed it, the log is created anew under its name and a
  record that may have gone into the renamed file is written again there (the loader drops the
  duplicate). :meth:`CallbackApp.reopen` (``cmvoice receive``: SIGHUP) reopens it at once.

Answers::

    POST /<secret>                 200 stored and fsynced
    GET  /<secret>/health          200, or 503 when callbacks cannot be stored now (problems says why)
    wrong path                     404
    other method                   405
    Content-Length not one run of
      digits / conflicting values  400
    no Content-Length              411
    body over max_body_bytes       413
    Content-Type not JSON          415
    malformed body                 400  (kept in the quarantine file)
    storage failing                503  (Retry-After: 60; nothing stored)
    app stopping                   503
"""
from __future__ import annotations

import base64
import json
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ..errors import CallbackTimeout
from ..spec import iso_utc
from ._display import Display, Throttled
from ._logfile import LogWriter, append_fsynced, log_line
from .options import DEFAULTS
from .optout import OptOutList, instruction_prefixes, opt_out_number

__all__ = ["wsgi_app", "CallbackApp", "log_line", "parse_callback", "content_length", "DEFAULT_MAX_BODY_BYTES"]

log = logging.getLogger(__name__)

#: Default body limit (:data:`~cmvoice_nb.callbacks.options.DEFAULTS`). A callback is ~400 bytes;
#: 64 KiB leaves room for extra keys.
DEFAULT_MAX_BODY_BYTES = DEFAULTS.max_body_bytes
#: How many display events may wait for a slow ``on_callback``; beyond that they are dropped.
DEFAULT_DISPLAY_QUEUE = DEFAULTS.display_queue

_DIGITS = re.compile(r"[0-9]+")


def parse_callback(body: bytes) -> tuple[dict | None, str]:
    """Parse a request body: ``(callback, "")`` or ``(None, reason)``; never raises.

    Pure. Covers everything that breaks ``json.loads`` (nesting, invalid UTF-8) and what it lets
    through but a UTF-8 log cannot hold (lone surrogates).

    Examples
    --------
    >>> parse_callback(b'{"type": "otp-finished"}')
    ({'type': 'otp-finished'}, '')
    >>> parse_callback(b'{"note": "\\\\ud800"}')[1]
    'lone surrogate in a string (not valid Unicode)'
    """
    if not body.strip():
        return None, "empty body"
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"not valid UTF-8 (byte {exc.start + 1})"
    try:
        value = json.loads(text)
    except RecursionError:
        return None, "JSON nested too deeply"
    except ValueError as exc:
        return None, f"malformed JSON: {exc}"
    if not isinstance(value, dict):
        return None, f"expected a JSON object, got {type(value).__name__}"
    if "\\u" in text:
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return None, "lone surrogate in a string (not valid Unicode)"
        except RecursionError:
            return None, "JSON nested too deeply"
    return value, ""


def content_length(environ: dict) -> tuple[int | None, str]:
    """The request's body length: ``(n, "")``, ``(None, "")`` when absent, ``(None, reason)`` when bad.

    Strict, whatever the server let through: one run of ASCII digits (``int()`` would also take
    ``"0_2"``, ``" 2"`` or ``"+2"``); two headers arrive joined as ``"2, 2"`` and are refused.
    """
    raw = environ.get("CONTENT_LENGTH")
    if raw is None or raw == "":
        return None, ""
    if not _DIGITS.fullmatch(raw):
        return None, f"bad Content-Length {raw[:40]!r}: expected one run of digits"
    return int(raw), ""


def _is_json_content_type(value: str | None) -> bool:
    if not value:
        return False
    mime = value.split(";", 1)[0].strip().lower()
    return mime == "application/json" or (mime.startswith("application/") and mime.endswith("+json"))


class CallbackApp:
    """The callback receiver as a WSGI application (see the module docstring for its answers).

    Create it with :func:`wsgi_app`. Thread-safe; one instance per process. Besides being called
    by the server, it offers the receiver's state: :attr:`count`, :meth:`wait_for`,
    :meth:`records`, :meth:`health`, :attr:`rejected`, :attr:`quarantined`.
    """

    def __init__(
        self,
        out: str | os.PathLike | None,
        *,
        secret: str,
        max_body_bytes: int = DEFAULTS.max_body_bytes,
        rotate_daily: bool = DEFAULTS.rotate_daily,
        quarantine: str | os.PathLike | None = DEFAULTS.quarantine,
        keep_in_memory: bool | None = DEFAULTS.keep_in_memory,
        on_callback: Callable[[dict], None] | None = None,
        display_queue: int = DEFAULTS.display_queue,
        opt_out_digit: str | None = None, opt_out_list: str | os.PathLike | None = None,
        opt_out_instructions: str | None = None,
    ) -> None:
        options = DEFAULTS.replace(max_body_bytes=max_body_bytes, rotate_daily=bool(rotate_daily),
                                   quarantine=quarantine, keep_in_memory=keep_in_memory,
                                   display_queue=display_queue, opt_out_digit=opt_out_digit,
                                   opt_out_list=opt_out_list, opt_out_instructions=opt_out_instructions)
        keep_in_memory = options.keeps_records(out=out, in_process=False)
        if not keep_in_memory and out is None:
            raise ValueError("keep_in_memory=False needs an out file, or callbacks would be lost")
        if secret is None:
            raise ValueError("secret is required: the unguessable path segment callbacks are posted to ('' for none)")
        secret = str(secret).strip("/")
        if any(ch in secret for ch in "/?#") or any(ch.isspace() for ch in secret):
            raise ValueError("secret must be a single URL path segment (no '/', '?', '#' or spaces)")
        self.options = options.replace(keep_in_memory=keep_in_memory)
        self.out = Path(out) if out is not None else None
        if self.out is not None and (self.out.is_dir() or str(out).endswith(("/", os.sep))):
            self.out = self.out / "callbacks.jsonl"
        self.secret = secret
        self.path = "/" + secret
        self.max_body_bytes = options.max_body_bytes
        self.rotate_daily = options.rotate_daily
        if quarantine is not None:
            self.quarantine_path: Path | None = Path(quarantine)
        elif self.out is not None:
            self.quarantine_path = self.out.with_name(self.out.name.rsplit(".", 1)[0] + ".quarantine.jsonl")
        else:
            self.quarantine_path = None
        self.keep_in_memory = keep_in_memory
        self._display = Display(on_callback, options.display_queue, logger=log)
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._records: list[dict] = []
        self._count = 0
        self.quarantined: list[dict] = []
        self._status_counts: dict[int, int] = {}
        self._writer = LogWriter(self.out, rotate_daily=rotate_daily) if self.out is not None else None
        #: The opt-out list (None: no opt-out key), and how many numbers this app added to it.
        self.opt_out_list, self.opted_out = (OptOutList(options.opt_out_list) if options.opt_out_list else None), 0
        self.accepting, self.in_flight = True, 0
        self.started = time.time()
        self.last_write: str | None = None
        self.last_error: str | None = None
        self.last_error_at: str | None = None
        self.storage_failing = False
        self.refused = 0  # callbacks answered 503 because they could not be stored
        self._quarantine_count = 0
        self._storage_log = Throttled(logging.ERROR, logger=log)
        self._quarantine_log = Throttled(logging.WARNING, logger=log)
        #: Set by the server running the app: returns its state for :meth:`health`, with a
        #: ``"problem"`` (text) when it is not serving properly.
        self.server_report: Callable[[], dict] | None = None

    # -- state -----------------------------------------------------------------------------------
    @property
    def on_callback(self) -> Callable[[dict], None] | None:
        """The display hook (runs on its own thread; see the module docstring)."""
        return self._display.hook

    @on_callback.setter
    def on_callback(self, hook: Callable[[dict], None] | None) -> None:
        self._display.hook = hook

    @property
    def display_dropped(self) -> int:
        """Display events dropped because ``on_callback`` fell behind (the callbacks are stored)."""
        return self._display.dropped

    @property
    def count(self) -> int:
        """Callbacks stored so far."""
        with self._lock:
            return self._count

    @property
    def rejected(self) -> dict[int, int]:
        """HTTP status -> how many requests got it, for every non-200 answer."""
        with self._lock:
            return {k: v for k, v in self._status_counts.items() if k != 200}

    @property
    def log_path(self) -> Path | None:
        """The log file currently written to (the day's file when rotating)."""
        if self._writer is None:
            return None
        return self._writer.path or self._writer.path_for(iso_utc()[:10])

    def wait_for(self, n: int, *, timeout: float) -> int:
        """Block until at least *n* callbacks are stored; return the count or raise ``TimeoutError``."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while self._count < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CallbackTimeout(f"only {self._count} of {n} callbacks arrived within {timeout} s")
                self._arrived.wait(left)
            return self._count

    def records(self, *, start: int = 0) -> list[dict]:
        """Copies of the records kept in memory (none unless ``keep_in_memory``), in order, from *start* on."""
        with self._lock:
            return [dict(r) for r in self._records[start:]]

    def log_files(self) -> list[Path]:
        """The log files written so far (all dated files when rotating, compressed past days too)."""
        if self.out is None:
            return []
        if not self.rotate_daily:
            return [self.out] if self.out.exists() else []
        stem, _, suffix = self.out.name.rpartition(".")
        pattern = f"{stem}-????-??-??.{suffix}" if stem else f"{self.out.name}-????-??-??"
        return sorted([*self.out.parent.glob(pattern), *self.out.parent.glob(pattern + ".gz")])

    def health(self) -> dict:
        """What a monitor needs: status, problems, counts, last write, disk free. No secret.

        ``status`` is ``failing`` (answered 503) when callbacks cannot be stored now: the last
        write failed, the log cannot be opened for appending (its folder is gone or read-only),
        the disk is full, or the server running the app reports a problem; ``problems`` says which.
        Checking reopens a log that was moved away (rotated), so it exists again under its name.
        """
        folder = self.out.parent if self.out is not None else None
        free = None
        if folder is not None:
            try:
                free = shutil.disk_usage(folder if folder.exists() else Path.cwd()).free
            except OSError:
                free = None
        server = self.server_report() if self.server_report is not None else None
        with self._lock:
            problems = []
            if self.storage_failing:
                problems.append(f"cannot store callbacks: {self.last_error}")
            elif self._writer is not None and self.accepting:
                problem = self._writer.probe(iso_utc()[:10])
                if problem:
                    problems.append(problem)
            if free is not None and free < self.max_body_bytes:
                problems.append(f"disk full: {free} bytes free on the log's file system")
            if server and server.get("problem"):
                problems.append(server["problem"])
            status = "failing" if problems else ("stopping" if not self.accepting else "ok")
            report = {
                "status": status,
                "problems": problems,
                "callbacks": self._count,
                "refused": self.refused,
                "quarantined": self._quarantine_count,
                "rejected": {str(k): v for k, v in sorted(self._status_counts.items()) if k != 200},
                "last_write": self.last_write,
                "last_error": self.last_error,
                "last_error_at": self.last_error_at,
                "disk_free_bytes": free,
                "display_dropped": self._display.dropped,
                "opted_out": self.opted_out if self.opt_out_list is not None else None,
                "uptime_s": round(time.time() - self.started, 1),
                "log": self.log_path.name if self.log_path is not None else None,
            }
        if server is not None:
            report["server"] = {k: v for k, v in server.items() if k != "problem"}
        return report

    def reopen(self) -> str | None:
        """Close the log and open it again under its name (what SIGHUP does after logrotate).

        The quarantine file is opened for each entry, so it follows a rename by itself. Returns
        ``None``, or why the log cannot be opened (the next callback tries again and is answered
        503 while it cannot).
        """
        with self._lock:
            if self._writer is None or not self.accepting:
                return None
            try:
                self._writer.reopen(iso_utc()[:10])
            except OSError as exc:
                return f"cannot reopen the log: {exc}"
        return None

    def close(self, *, display_timeout: float = 2.0) -> None:
        """Stop accepting, let the display catch up for up to *display_timeout* s, close the log."""
        with self._lock:
            self.accepting = False
        self._display.close(display_timeout)
        with self._lock:
            if self._writer is not None:
                self._writer.close()

    # -- storing -----------------------------------------------------------------------------------
    def accept(self, callback: dict) -> int:
        """Store one parsed callback; return the HTTP status to answer (200, or 503 when not stored)."""
        received = iso_utc()
        try:
            line = log_line(callback, received)
        except UnicodeEncodeError:
            return 400
        with self._arrived:
            if not self.accepting:
                return 503
            if self.opt_out_list is not None and not self._record_opt_out(self.opt_out_list, callback, received):
                return 503
            if self._writer is not None:
                try:
                    self._writer.write(line, received[:10])
                except OSError as exc:
                    self.storage_failing, self.refused, self.last_error_at = True, self.refused + 1, received
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    self._storage_log("callback receiver: cannot store callbacks, answering 503 so the "
                                      "provider retries: %s", self.last_error)
                    return 503
                if self.storage_failing:
                    log.warning("callback receiver: storage works again after %d refused callback(s)", self.refused)
                self.storage_failing = False
            record = json.loads(line) if (self.keep_in_memory or self._display.hook is not None) else None
            if self.keep_in_memory and record is not None:
                self._records.append(record)
            self._count += 1
            self.last_write = received
            self._arrived.notify_all()
        if record is not None:
            self._display.offer(record)
        return 200

    def _record_opt_out(self, opt_out: OptOutList, callback: dict, received: str) -> bool:
        """Append an opt-out's callee to the list (lock held; before the callback's line, so a 503 comes again)."""
        digit, prefixes = self.options.opt_out_digit, instruction_prefixes(self.options.opt_out_instructions)
        assert digit is not None  # ReceiverOptions: an opt-out list comes with its key
        number = opt_out_number(callback, digit=digit, instructions=prefixes)
        try:
            self.opted_out += number is not None and opt_out.add(number)
            return True
        except OSError as exc:
            self.storage_failing, self.refused, self.last_error_at = True, self.refused + 1, received
            self.last_error = f"opt-out list {opt_out.path.name}: {type(exc).__name__}: {exc}"
            self._storage_log("callback receiver: cannot append to the opt-out list, answering 503: %s",
                              self.last_error)
            return False

    def quarantine(self, body: bytes, reason: str) -> None:
        """Keep a body that was refused as malformed (never raises: the client still gets its 400)."""
        received = iso_utc()
        try:
            text, encoding = body.decode("utf-8"), "utf-8"
            json.dumps(text, ensure_ascii=False).encode("utf-8")  # lone surrogates cannot be stored as text
        except UnicodeError:
            text, encoding = base64.b64encode(body).decode("ascii"), "base64"
        entry = {"received-at": received, "reason": reason, "encoding": encoding, "body": text}
        self._quarantine_log("callback receiver: quarantined a malformed body (%s)", reason)
        with self._lock:
            self._quarantine_count += 1
            if self.quarantine_path is None:
                self.quarantined.append(entry)
                return
        try:
            data = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
            with self._lock:
                append_fsynced(self.quarantine_path, data)
                self.quarantined.append(entry)
        except OSError as exc:
            self._storage_log("callback receiver: cannot write the quarantine file: %s", exc)

    # -- WSGI ----------------------------------------------------------------------------------------
    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        with self._lock:
            self.in_flight += 1
        status, message, headers = 500, "internal error", dict[str, str]()
        try:
            status, message, headers = self._handle(environ)
        except Exception as exc:  # noqa: BLE001 - every request gets an answer
            log.exception("callback receiver: unexpected error")
            message = f"internal error: {type(exc).__name__}"
        finally:
            with self._lock:
                self.in_flight -= 1
                self._status_counts[status] = self._status_counts.get(status, 0) + 1
        if log.isEnabledFor(logging.DEBUG):
            # The request path holds the secret: never log it.
            shown = environ.get("PATH_INFO", "")
            shown = shown.replace(self.secret, "<secret>") if self.secret else shown
            log.debug("%s %s %s -> %d", environ.get("REMOTE_ADDR", "-"), environ.get("REQUEST_METHOD"), shown, status)
        payload = message if isinstance(message, dict) else {"status": status, "message": message}
        body = json.dumps(payload).encode("utf-8")
        reason = _REASONS.get(status, "")
        hdrs = [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))]
        hdrs.extend(headers.items())
        start_response(f"{status} {reason}", hdrs)
        return [body] if environ.get("REQUEST_METHOD") != "HEAD" else [b""]

    def _handle(self, environ: dict) -> tuple[int, Any, dict]:
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        base = self.path.rstrip("/")
        if path.rstrip("/") == base + "/health" and (self.secret or path.startswith("/health")):
            if method not in ("GET", "HEAD"):
                self._drain(environ)
                return 405, "only GET is accepted", {"Allow": "GET"}
            report = self.health()
            return (503 if report["status"] == "failing" else 200), report, {"Cache-Control": "no-store"}
        if path.rstrip("/") != base:
            self._drain(environ)
            return 404, "not found", {}
        if method != "POST":
            self._drain(environ)
            return 405, "only POST is accepted", {"Allow": "POST"}
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return 411, "Content-Length is required", {}
        length, problem = content_length(environ)
        if problem:
            return 400, problem, {}
        if length is None:
            return 411, "Content-Length is required", {}
        if length > self.max_body_bytes:
            self._drain(environ, length)
            return 413, f"body of {length} bytes exceeds the limit of {self.max_body_bytes}", {}
        if not _is_json_content_type(environ.get("CONTENT_TYPE")):
            self._drain(environ, length)
            return 415, "Content-Type must be application/json", {}
        body = _read_exactly(environ["wsgi.input"], length)
        if len(body) < length:
            return 400, "body shorter than Content-Length", {}
        if not self.accepting:
            return 503, "receiver is stopping", {"Retry-After": "60"}
        callback, reason = parse_callback(body)
        if callback is None:
            self.quarantine(body, reason)
            return 400, reason, {}
        status = self.accept(callback)
        if status == 200:
            return 200, "ok", {}
        if status == 400:
            self.quarantine(body, "lone surrogate in a string (not valid Unicode)")
            return 400, "lone surrogate in a string (not valid Unicode)", {}
        if not self.accepting:
            return 503, "receiver is stopping", {"Retry-After": "60"}
        return 503, "could not store the callback; retry later", {"Retry-After": "60"}

    def _drain(self, environ: dict, length: int | None = None) -> None:
        """Read and discard a body within the limit so the client reads our answer instead of a reset.

        A larger one is left unread: reading it would hold the connection (and, under some
        servers, a buffer) for nothing; the server closes the connection after the answer.
        """
        if length is None:
            length, problem = content_length(environ)
            if problem or length is None:
                return
        if length > self.max_body_bytes:
            return
        stream = environ.get("wsgi.input")
        left = length
        try:
            while left > 0 and stream is not None:
                chunk = stream.read(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
        except (OSError, ValueError):
            pass

    def __repr__(self) -> str:
        return (f"CallbackApp(out={str(self.out) if self.out else None!r}, count={self.count}, "
                f"status={'failing' if self.storage_failing else 'ok'})")


def _read_exactly(stream: Any, length: int) -> bytes:
    chunks, left = [], length
    while left > 0:
        chunk = stream.read(left)
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed", 411: "Length Required",
            413: "Payload Too Large", 415: "Unsupported Media Type", 500: "Internal Server Error",
            503: "Service Unavailable"}


def wsgi_app(
    out: str | os.PathLike | None = None,
    *,
    secret: str,
    max_body_bytes: int = DEFAULTS.max_body_bytes,
    rotate_daily: bool = DEFAULTS.rotate_daily,
    quarantine: str | os.PathLike | None = DEFAULTS.quarantine,
    keep_in_memory: bool | None = DEFAULTS.keep_in_memory,
    on_callback: Callable[[dict], None] | None = None,
    display_queue: int = DEFAULTS.display_queue,
    opt_out_digit: str | None = None, opt_out_list: str | os.PathLike | None = None,
    opt_out_instructions: str | None = None,
) -> CallbackApp:
    """Return the callback receiver as a WSGI application, for any WSGI server.

    Parameters
    ----------
    out
        The JSONL log to append to (created if missing, never truncated); a folder gets
        ``callbacks.jsonl``. ``None`` keeps callbacks in memory only (needs ``keep_in_memory``).
    secret
        The path segment callbacks are posted to (``/<secret>``); the health check answers on
        ``/<secret>/health``. Use something unguessable, e.g. ``secrets.token_urlsafe(16)``;
        ``""`` listens on ``/`` (not recommended: callbacks are unsigned).
    max_body_bytes
        Larger bodies are refused with 413.
    rotate_daily
        Write ``name-YYYY-MM-DD.jsonl`` per UTC day of receipt instead of one file.
    quarantine
        Where malformed bodies are kept (JSONL: received-at, reason, encoding, body). Default:
        ``<name>.quarantine.jsonl`` beside *out*; in memory when *out* is None.
    keep_in_memory
        Also keep every record in memory (:meth:`CallbackApp.records`). By default only without a
        log (*out* None): a service runs for a season.
    on_callback
        Called with each stored record after its acknowledgement is decided, on a separate thread
        fed by a queue of *display_queue* events; when it falls behind, events are dropped and
        counted, never callbacks.
    opt_out_digit, opt_out_list, opt_out_instructions
        Opt-out by keypress (:class:`~cmvoice_nb.callbacks.ReceiverOptions`,
        :mod:`~cmvoice_nb.callbacks.optout`): finished DTMF callbacks whose digits are exactly the key
        add their callee to the do-not-call list before the callback is acknowledged.

    Examples
    --------
    A plain WSGI call, as any server makes it:

    >>> import io, json, tempfile, pathlib
    >>> app = wsgi_app(pathlib.Path(tempfile.mkdtemp()) / "cb.jsonl", secret="s3cret")
    >>> body = json.dumps({"type": "otp-finished"}).encode()
    >>> environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/s3cret", "CONTENT_LENGTH": str(len(body)),
    ...            "CONTENT_TYPE": "application/json", "wsgi.input": io.BytesIO(body)}
    >>> reply = app(environ, lambda status, headers: print(status))
    200 OK
    >>> app.count
    1
    """
    return CallbackApp(out, secret=secret, max_body_bytes=max_body_bytes, rotate_daily=rotate_daily,
                       quarantine=quarantine, keep_in_memory=keep_in_memory, on_callback=on_callback,
                       display_queue=display_queue, opt_out_digit=opt_out_digit, opt_out_list=opt_out_list,
                       opt_out_instructions=opt_out_instructions)
