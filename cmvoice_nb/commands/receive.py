"""``cmvoice receive``: capture the provider's callbacks into a JSON Lines log.

Serves :func:`cmvoice_nb.callbacks.wsgi_app` with waitress (a production WSGI server; see
:mod:`cmvoice_nb.callbacks.receiver` for its limits). Prints the full callback URL (secret path
included) as the very first line of stdout, then one line per callback, and runs until SIGINT or
SIGTERM (exit 0). SIGHUP (POSIX) reopens the log under its name, after logrotate moved it; every
append checks that too, so a rotation without the signal loses nothing either. If the server
stops serving (its loop died or is stuck), the command says so in one line on stderr and exits
with status 1, so that systemd or another supervisor restarts it.

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
import threading
import time
from pathlib import Path

from ..messages import decimal_number


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
            "and use its https URL with the same path. Stop it with Ctrl-C or SIGTERM; SIGHUP reopens the log "
            "(after logrotate). Exits with status 1 if the server stops serving, for a supervisor to restart it."
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
    _add_option_flags(p)
    p.add_argument("--quiet", action="store_true", help="no line per callback (the URL line is still printed)")
    p.set_defaults(func=run)


def _add_option_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per receiver option that has one, with the option's own default and help."""
    from ..callbacks.options import ReceiverOptions

    for field in ReceiverOptions.flags():
        meta, default = field.metadata, field.default
        if isinstance(default, bool):
            parser.add_argument(meta["flag"], dest=field.name, action="store_true", default=default, help=meta["help"])
            continue
        fractional = isinstance(default, float)
        kind = decimal_number if fractional else int if isinstance(default, int) else str
        shown = "" if default is None else f" (default {default:g})" if fractional else f" (default {default})"
        parser.add_argument(meta["flag"], dest=field.name, type=kind, default=default, metavar=meta["metavar"],
                            help=meta["help"] + shown)


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


def _say(line: str) -> None:
    """Write one line to stderr, giving up after a moment if nobody reads it (a full pipe)."""
    def write() -> None:
        try:
            print(line, file=sys.stderr, flush=True)
        except (OSError, ValueError):
            pass

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    writer.join(2.0)


def run(args: argparse.Namespace) -> int:
    """Start the receiver, print its URL, serve until SIGINT/SIGTERM; return 0 (1 if the server failed)."""
    import logging
    import signal

    from ..callbacks import CallbackReceiver
    from ..callbacks.options import ReceiverOptions
    from ..errors import CMVoiceError
    from ..messages import say
    from ._signals import catch

    stop = threading.Event()
    failed: list[str] = []
    write = _console_writer(sys.stdout)

    def show(rec: dict) -> None:
        result = rec.get("result")
        if not isinstance(result, dict):
            result = {}
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

    def on_failure(reason: str) -> None:
        failed.append(reason)  # said once, by the main thread, as the last line
        stop.set()

    try:
        options = {f.name: getattr(args, f.name) for f in ReceiverOptions.flags()}
        # A receiver may run for weeks: records live in the log only, not in memory.
        rx = CallbackReceiver(args.out, host=args.host, port=args.port, secret=secret, keep_in_memory=False,
                              on_callback=None, on_failure=on_failure, **options).start()
    except (CMVoiceError, ValueError, OSError) as exc:
        print(f"cmvoice receive: {say(exc, 'cli')}", file=sys.stderr)
        return 2
    # A handler may run while the loop's wait holds a lock: it only records the signal (_signals).
    # SIGHUP is POSIX only; elsewhere each append notices a moved log by itself.
    received = catch("SIGINT", "SIGTERM", "SIGHUP")
    try:
        # The first stdout line is the URL: scripts and tests read exactly that.
        print(rx.url, flush=True)
        if not args.quiet:
            rx.on_callback = show  # only now: a retried callback must not print before the URL line
        print(f"cmvoice receive: appending to {rx.path}; {rx.connection_note}; health at <url>/health; "
              "Ctrl-C to stop", file=sys.stderr, flush=True)
        if rx.app.opt_out_list is not None:
            print(f"cmvoice receive: who presses {rx.options.opt_out_digit} in a finished DTMF call"
                  f"{' of ' + rx.options.opt_out_instructions + '*' if rx.options.opt_out_instructions else ''} "
                  f"is appended to {rx.app.opt_out_list.path} ({len(rx.app.opt_out_list)} listed now)",
                  file=sys.stderr, flush=True)
        while not received.stopped and not stop.wait(0.2):
            if received.take(getattr(signal, "SIGHUP", None)):
                problem = rx.reopen()
                if problem:
                    _say(f"cmvoice receive: SIGHUP: {problem}")
            stuck = rx.server_problem if rx.failure is None else None  # a dead loop is on_failure's
            if stuck and not failed:
                # The loop is stuck, not dead: a graceful stop would wait on it. The log is fsynced.
                _say(f"cmvoice receive: {stuck}; exiting with status 1 so that a supervisor restarts it")
                os._exit(1)
    finally:
        received.restore()
        rx.stop()
    if failed:
        _say(f"cmvoice receive: the server stopped serving ({failed[0]}) after {rx.count} callbacks; "
             "exiting with status 1 so that a supervisor restarts it")
        return 1
    rejected = ", ".join(f"{k}: {v}" for k, v in sorted(rx.rejected.items())) or "none"
    lines = [f"cmvoice receive: stopped after {rx.count} callbacks (rejected: {rejected})"
             + (f"; {rx.opted_out} opt-out(s) added to {rx.app.opt_out_list.path}" if rx.app.opt_out_list else "")]
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


__all__ = ["register", "run"]
