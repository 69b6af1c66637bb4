"""``cmvoice receive``: capture the provider's callbacks into a JSON Lines log.

Serves :func:`cmvoice_nb.callbacks.wsgi_app` with waitress (a production WSGI server) with a listen
backlog sized for bursts. Prints the full callback URL (secret path included) as the very first
line of stdout, then one line per callback, and runs until SIGINT or SIGTERM (exit 0).

The console is never on the acknowledgement path: callback lines are written by a separate thread
from a bounded queue, straight to the file descriptor. If nobody reads stdout (a supervisor, a
paused terminal, ``| head``), lines are dropped and counted; every callback is still stored and
acknowledged.

Examples
--------
::

    $ cmvoice receive --out callbacks.jsonl --port 9000
    http://127.0.0.1:9000/Xq3...secret
    18:02:11 otp-finished call=6d0f176e-... result=10
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
import threading
import time


def register(subparsers) -> None:
    """Add the ``receive`` sub-command."""
    p = subparsers.add_parser(
        "receive",
        help="receive call-result callbacks into a JSONL log",
        description=(
            "Listen for the provider's call-result callbacks and append each, with the time it was "
            "received, to a JSON Lines log (fsynced before it is acknowledged; refused with 503 when it "
            "cannot be stored). Serves the receiver's WSGI app with waitress. Prints the callback URL "
            "on the first line: pass it as callback-url. GET <url>/health answers a monitor. The provider "
            "cannot reach loopback: for a real campaign put an HTTPS reverse proxy or a tunnel in front "
            "and use its https URL with the same path. Stop it with Ctrl-C or SIGTERM."
        ),
    )
    p.add_argument("--out", required=True, help="JSONL log to append to (created if missing, never truncated)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port (default 0: a free port)")
    secret = p.add_mutually_exclusive_group()
    secret.add_argument("--secret", default=None,
                        help="secret path segment (default: a random one; '' for none — not recommended). "
                             "Visible in the process list: prefer --secret-file on shared machines")
    secret.add_argument("--secret-file", default=None,
                        help="read the secret path segment from this file (first line)")
    p.add_argument("--rotate-daily", action="store_true", help="write one file per UTC day: NAME-YYYY-MM-DD.jsonl")
    p.add_argument("--max-body-bytes", type=int, default=None, help="reject larger bodies with 413 (default 64 KiB)")
    p.add_argument("--quarantine", default=None,
                   help="where malformed bodies are kept (default: NAME.quarantine.jsonl beside --out)")
    p.add_argument("--backlog", type=int, default=None,
                   help="listen backlog: connections queued during a burst (default 2048)")
    p.add_argument("--threads", type=int, default=None, help="server worker threads (default 8)")
    p.add_argument("--quiet", action="store_true", help="no line per callback (the URL line is still printed)")
    p.set_defaults(func=run)


def _console_writer(stream):
    """Write display lines to *stream*'s descriptor, bypassing Python's buffer and its lock.

    A write blocked on a full pipe then holds no lock that the interpreter's exit would need.
    """
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        fd = None
    encoding = getattr(stream, "encoding", None) or "utf-8"

    def write(text: str) -> None:
        if fd is None:
            stream.write(text)
            stream.flush()
            return
        data = text.encode(encoding, "replace")
        while data:
            n = os.write(fd, data)
            data = data[n:]

    return write


def run(args: argparse.Namespace) -> int:
    """Start the receiver, print its URL, serve until SIGINT/SIGTERM; return 0."""
    import logging
    import signal

    from ..callbacks.receiver import DEFAULT_BACKLOG, DEFAULT_MAX_BODY_BYTES, DEFAULT_THREADS, CallbackReceiver
    from ..errors import CMVoiceError

    stop = threading.Event()
    write = _console_writer(sys.stdout)

    def show(rec: dict) -> None:
        result = rec.get("result") if isinstance(rec.get("result"), dict) else {}
        try:
            write(f"{time.strftime('%H:%M:%S')} {rec.get('type')} call={rec.get('call-id')} "
                  f"instruction={rec.get('instruction-id')} result={result.get('code')}\n")
        except OSError:
            pass  # stdout closed (| head): the callbacks are stored all the same

    secret = args.secret
    if args.secret_file:
        try:
            with open(args.secret_file, encoding="utf-8") as fh:
                secret = (fh.readline() or "").strip()
        except OSError as exc:
            print(f"cmvoice receive: cannot read --secret-file: {exc}", file=sys.stderr)
            return 2
        if not secret:
            print(f"cmvoice receive: {args.secret_file} is empty", file=sys.stderr)
            return 2
    # Fail at start, not with a 503 on every callback, when the log cannot be written at all.
    folder = Path(args.out) if Path(args.out).is_dir() else Path(args.out).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"cmvoice receive: cannot create {folder}: {exc}", file=sys.stderr)
        return 2
    if not os.access(folder, os.W_OK):
        print(f"cmvoice receive: {folder} is not writable", file=sys.stderr)
        return 2
    # waitress reports queue depth on every burst; the health endpoint says it better, and a log
    # line blocked on an unread stderr must not stall the server's loop.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    try:
        # A receiver may run for weeks: records live in the log only, not in memory.
        rx = CallbackReceiver(
            args.out, host=args.host, port=args.port, secret=secret,
            max_body_bytes=args.max_body_bytes or DEFAULT_MAX_BODY_BYTES,
            rotate_daily=args.rotate_daily, quarantine=args.quarantine,
            keep_in_memory=False, on_callback=None,
            backlog=args.backlog or DEFAULT_BACKLOG, threads=args.threads or DEFAULT_THREADS,
        ).start()
    except (CMVoiceError, ValueError, OSError) as exc:
        print(f"cmvoice receive: {exc}", file=sys.stderr)
        return 2
    previous = {}
    try:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, lambda *_: stop.set())
        # The first stdout line is the URL: scripts and tests read exactly that.
        print(rx.url, flush=True)
        if not args.quiet:
            rx.on_callback = show  # only now: a retried callback must not print before the URL line
        print(f"cmvoice receive: appending to {rx.path}; health at <url>/health; Ctrl-C to stop",
              file=sys.stderr, flush=True)
        while not stop.wait(0.2):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        rx.stop()
    rejected = ", ".join(f"{k}: {v}" for k, v in sorted(rx.rejected.items())) or "none"
    lines = [f"cmvoice receive: stopped after {rx.count} callbacks (rejected: {rejected})"]
    if rx.display_dropped:
        lines.append(f"cmvoice receive: {rx.display_dropped} console line(s) dropped because stdout was not "
                     "read (the callbacks themselves are stored)")
    health = rx.health()
    if rx.refused or health["status"] == "failing":
        lines.append(f"cmvoice receive: {rx.refused} callback(s) refused with 503 because they could not be "
                     f"stored (the provider retries them); last error: {health['last_error']}")
    try:
        print("\n".join(lines), file=sys.stderr, flush=True)
    except OSError:
        pass  # stderr gone or full (ENOSPC on a redirected stderr): nothing more to say
    return 0
