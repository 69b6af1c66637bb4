"""``cmvoice simulate``: run the provider simulator from a shell.

Prints the base URL as the very first line of stdout (so scripts can read it),
then the test token and ready-to-paste lines that point another terminal at it
(bash/zsh, PowerShell, cmd), then one line per request it answers, and runs
until SIGINT or SIGTERM (exit 0). A token given with ``--token`` is never printed.

Examples
--------
::

    $ cmvoice simulate --port 8765 --speed 100 --callback-url http://127.0.0.1:9000/cb
    http://127.0.0.1:8765/voiceapi/v2
    # test token 7e577e57-0000-4000-8000-000000000000: accepted by this simulator only, not a real account
    # paste one line into another terminal, then run cmvoice send there:
    export CM_PRODUCT_TOKEN=7e577e57-0000-4000-8000-000000000000 CMVOICE_BASE_URL=http://127.0.0.1:8765/voiceapi/v2
    $env:CM_PRODUCT_TOKEN="7e577e57-0000-4000-8000-000000000000"; $env:CMVOICE_BASE_URL="http://127.0.0.1:8765/voiceapi/v2"  # PowerShell
    set "CM_PRODUCT_TOKEN=7e577e57-0000-4000-8000-000000000000" & set "CMVOICE_BASE_URL=http://127.0.0.1:8765/voiceapi/v2"  & rem cmd.exe
    18:02:11 POST /voiceapi/v2/Notification 200 instruction=row-1 calls=1
"""  # noqa: E501  # the paste lines exactly as the command prints them
from __future__ import annotations

import argparse
import shlex
import sys
import time
from typing import TypedDict

# Only the defaults (a module that imports nothing): the server loads when the command runs.
from ..messages import decimal_number, say
from ..simulator import defaults as _defaults
from ._signals import catch


def register(subparsers) -> None:
    """Add the ``simulate`` sub-command."""
    p = subparsers.add_parser(
        "simulate",
        help="run a local simulator of the CM Voice API (no account needed)",
        description=(
            "Run a local simulator of the CM Voice API Apps on loopback. It prints its base URL on the "
            "first line, then the test token and lines to paste into another terminal (bash/zsh, PowerShell, "
            "cmd) that set CM_PRODUCT_TOKEN and CMVOICE_BASE_URL. It accepts only the given token "
            "(default: the built-in TEST token "
            "cmvoice_nb.simulator.SIMULATOR_TOKEN), places simulated calls and POSTs callbacks. "
            "Callee numbers ending in 09/10/11/12 always give result code 9/10/11/12. "
            "Stop it with Ctrl-C."
        ),
    )
    p.add_argument("--host", default=_defaults.HOST,
                   help=f"address to listen on (default {_defaults.HOST}; keep it loopback)")
    p.add_argument("--port", type=int, default=_defaults.PORT, help=f"port (default {_defaults.PORT}: a free port)")
    p.add_argument("--token", default=None,
                   help="the only product token to accept (default: the documented test token SIMULATOR_TOKEN)")
    p.add_argument("--speed", type=decimal_number, default=_defaults.SPEED,
                   help="time acceleration for ringing, talking and callbacks "
                        f"(1 = real time; default {_defaults.SPEED:g})")
    p.add_argument("--seed", type=int, default=_defaults.SEED,
                   help=f"seed for call ids, outcomes and faults (default {_defaults.SEED})")
    p.add_argument("--callback-url", default=None,
                   help="where to POST callbacks when an instruction has no callback-url")
    p.add_argument("--audio-root", default=None,
                   help="folder standing in for the Audio Prompt Manager (File prompt durations)")
    p_answer = _defaults.BEHAVIOUR["p_answer"]
    p.add_argument("--p-answer", type=decimal_number, default=p_answer,
                   help=f"chance an ordinary callee answers (default {p_answer:g})")
    p.add_argument("--latency-s", type=decimal_number, default=_defaults.FAULTS["latency_s"],
                   help="fault: delay before every answer, seconds")
    p.add_argument("--rate-429", type=decimal_number, default=_defaults.FAULTS["rate_429"],
                   help="fault: share of requests answered 429")
    p.add_argument("--rate-5xx", type=decimal_number, default=_defaults.FAULTS["rate_5xx"],
                   help=f"fault: share of requests answered {_defaults.FAULTS['status_5xx']}")
    p.add_argument("--rate-drop", type=decimal_number, default=_defaults.FAULTS["rate_drop"],
                   help="fault: share of requests whose connection drops after the call was placed")
    p.set_defaults(func=run)


class _Outcomes(TypedDict):
    p_rejected: float
    p_failed: float


def _other_outcomes(p_answer: float) -> _Outcomes:
    """The default rejected/failed chances, shrunk so that they fit beside *p_answer*.

    Examples
    --------
    >>> _other_outcomes(0.75), _other_outcomes(1.0)
    ({'p_rejected': 0.05, 'p_failed': 0.05}, {'p_rejected': 0.0, 'p_failed': 0.0})
    """
    rejected, failed = _defaults.BEHAVIOUR["p_rejected"], _defaults.BEHAVIOUR["p_failed"]
    return {"p_rejected": min(rejected, 1 - p_answer), "p_failed": min(failed, max(0.0, 1 - p_answer - rejected))}


def _print_request(record: dict) -> None:
    status = record["status"] if record["status"] is not None else "dropped"
    parts = [f"{record['time']:%H:%M:%S}", record["method"], record["path"], str(status)]
    if record.get("fault"):
        parts.append(f"fault={record['fault']}")
    if record.get("instruction_id"):
        parts.append(f"instruction={record['instruction_id']}")
    if record.get("call_ids"):
        parts.append(f"calls={len(record['call_ids'].split(';'))}")
    if record.get("message") and status != 200:
        parts.append(f"message={record['message']!r}")
    print(" ".join(parts), flush=True)


def env_lines(base_url: str, token: str | None) -> list[str]:
    """Lines that point a shell at the simulator: a comment naming the token, then bash/zsh,
    PowerShell and cmd.exe lines setting ``CM_PRODUCT_TOKEN`` and ``CMVOICE_BASE_URL``.

    *token* is the built-in test token to show, or None when the user chose one (``--token``):
    then it is not printed (it may be a real one) and the lines set the base URL only.

    Examples
    --------
    >>> for line in env_lines("http://127.0.0.1:8765/voiceapi/v2", "t-1"):
    ...     print(line)
    # test token t-1: accepted by this simulator only, not a real account
    # paste one line into another terminal, then run cmvoice send there:
    export CM_PRODUCT_TOKEN=t-1 CMVOICE_BASE_URL=http://127.0.0.1:8765/voiceapi/v2
    $env:CM_PRODUCT_TOKEN="t-1"; $env:CMVOICE_BASE_URL="http://127.0.0.1:8765/voiceapi/v2"  # PowerShell
    set "CM_PRODUCT_TOKEN=t-1" & set "CMVOICE_BASE_URL=http://127.0.0.1:8765/voiceapi/v2"  & rem cmd.exe
    """
    url = base_url
    if token is None:
        return [
            "# accepting the token given with --token (not shown); set CM_PRODUCT_TOKEN to it yourself",
            "# paste one line into another terminal, then run cmvoice send there:",
            f"export CMVOICE_BASE_URL={shlex.quote(url)}",
            f'$env:CMVOICE_BASE_URL="{url}"  # PowerShell',
            f'set "CMVOICE_BASE_URL={url}"  & rem cmd.exe',
        ]
    return [
        f"# test token {token}: accepted by this simulator only, not a real account",
        "# paste one line into another terminal, then run cmvoice send there:",
        f"export CM_PRODUCT_TOKEN={shlex.quote(token)} CMVOICE_BASE_URL={shlex.quote(url)}",
        f'$env:CM_PRODUCT_TOKEN="{token}"; $env:CMVOICE_BASE_URL="{url}"  # PowerShell',
        f'set "CM_PRODUCT_TOKEN={token}" & set "CMVOICE_BASE_URL={url}"  & rem cmd.exe',
    ]


def run(args: argparse.Namespace) -> int:
    """Start the simulator, print its base URL, serve until SIGINT/SIGTERM; return 0."""
    from ..errors import CMVoiceError
    from ..simulator import SIMULATOR_TOKEN, Simulator

    try:
        sim = Simulator(
            host=args.host, port=args.port, token=args.token or SIMULATOR_TOKEN, speed=args.speed,
            seed=args.seed, callback_url=args.callback_url, audio_root=args.audio_root,
            p_answer=args.p_answer, **_other_outcomes(args.p_answer),
            faults={"latency_s": args.latency_s, "rate_429": args.rate_429, "rate_5xx": args.rate_5xx,
                    "rate_drop": args.rate_drop},
            on_request=_print_request,
        )
    except CMVoiceError as exc:
        print(f"cmvoice simulate: {say(exc, 'cli')}", file=sys.stderr)
        return 2
    # A handler may run while the loop's wait holds a lock: it only records the signal (_signals).
    received = catch("SIGINT", "SIGTERM")
    try:
        # The first stdout line is the base URL: scripts and tests read exactly that.
        print(sim.base_url, flush=True)
        print("\n".join(env_lines(sim.base_url, SIMULATOR_TOKEN if args.token is None else None)), flush=True)
        which = "the built-in test token (SIMULATOR_TOKEN)" if args.token is None else "the token given (not shown)"
        print(f"cmvoice simulate: accepting {which}; speed x{args.speed:g}; Ctrl-C to stop", file=sys.stderr,
              flush=True)
        while not received.stopped:
            time.sleep(0.2)  # a signal interrupts the sleep, runs its handler, and the sleep resumes
    finally:
        received.restore()
        sim.close()
    print(f"cmvoice simulate: stopped after {len(sim.requests)} requests, {sim.placed_count()} calls",
          file=sys.stderr, flush=True)
    return 0


__all__ = ["register", "run", "env_lines"]
