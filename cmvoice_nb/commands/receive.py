"""``cmvoice receive``: capture the provider's callbacks into a JSON Lines log.

Prints the full callback URL (secret path included) as the very first line of
stdout, then one line per callback, and runs until SIGINT or SIGTERM (exit 0).

Examples
--------
::

    $ cmvoice receive --out callbacks.jsonl --port 9000
    http://127.0.0.1:9000/Xq3...secret
    18:02:11 otp-finished call=6d0f176e-... result=10
"""
from __future__ import annotations

import argparse
import sys
import threading
import time


def register(subparsers) -> None:
    """Add the ``receive`` sub-command."""
    p = subparsers.add_parser(
        "receive",
        help="receive call-result callbacks into a JSONL log",
        description=(
            "Listen for the provider's call-result callbacks and append each, with the time it was "
            "received, to a JSON Lines log (fsynced before it is acknowledged). Prints the callback URL "
            "on the first line: pass it as callback-url. The provider cannot reach loopback: for a real "
            "campaign expose the port through a tunnel and use the tunnel's https URL with the same path. "
            "Stop it with Ctrl-C."
        ),
    )
    p.add_argument("--out", required=True, help="JSONL log to append to (created if missing, never truncated)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port (default 0: a free port)")
    p.add_argument("--secret", default=None,
                   help="secret path segment (default: a random one; '' for none — not recommended)")
    p.add_argument("--rotate-daily", action="store_true", help="write one file per UTC day: NAME-YYYY-MM-DD.jsonl")
    p.add_argument("--max-body-bytes", type=int, default=None, help="reject larger bodies with 413 (default 64 KiB)")
    p.add_argument("--quarantine", default=None,
                   help="where malformed bodies are kept (default: NAME.quarantine.jsonl beside --out)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the receiver, print its URL, serve until SIGINT/SIGTERM; return 0."""
    import signal

    from ..callbacks.receiver import DEFAULT_MAX_BODY_BYTES, CallbackReceiver
    from ..errors import CMVoiceError

    stop = threading.Event()

    def show(rec: dict) -> None:
        result = rec.get("result") if isinstance(rec.get("result"), dict) else {}
        print(f"{time.strftime('%H:%M:%S')} {rec.get('type')} call={rec.get('call-id')} "
              f"instruction={rec.get('instruction-id')} result={result.get('code')}", flush=True)

    try:
        # A receiver may run for weeks: records live in the log only, not in memory.
        rx = CallbackReceiver(
            args.out, host=args.host, port=args.port, secret=args.secret,
            max_body_bytes=args.max_body_bytes or DEFAULT_MAX_BODY_BYTES,
            rotate_daily=args.rotate_daily, quarantine=args.quarantine,
            keep_in_memory=False, on_callback=show,
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
        print(f"cmvoice receive: appending to {rx.path}; Ctrl-C to stop", file=sys.stderr, flush=True)
        while not stop.wait(0.2):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        rx.stop()
    rejected = ", ".join(f"{k}: {v}" for k, v in sorted(rx.rejected.items())) or "none"
    print(f"cmvoice receive: stopped after {rx.count} callbacks (rejected: {rejected})", file=sys.stderr, flush=True)
    return 0
