"""``cmvoice followup``: call again, once, everyone whose latest call of a campaign was not answered.

Reads the campaign's journal (every attempt and the exact JSON it sent) and its callback
logs, plans the next wave with :func:`cmvoice_nb.campaign.plan_followup` and sends it like
``cmvoice send`` does: same token (``CM_PRODUCT_TOKEN`` only), same base URL, pacing, summary
and exit status. Running it again resumes an unfinished wave; a wave already sent is not sent
again (its calls wait for their callbacks).

Examples
--------
::

    $ export CM_PRODUCT_TOKEN=...
    $ cmvoice followup --journal spring.sqlite --callbacks callbacks/ --after 30m -o spring-wave2.csv
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..messages import say
from ..spec import DEFAULT_BURST, DEFAULT_CONCURRENCY, DEFAULT_RATE
from .send import EPILOG as SEND_EPILOG
from .send import EXIT_ATTENTION, EXIT_USAGE, UsageError, print_error, send_plan

PROG = "cmvoice followup"

EPILOG = f"""\
who is called: every row of the campaign whose LATEST call ended in one of --outcomes, that was
called fewer than --max-attempts times (all waves), and whose latest call ended at least --after
ago. Left out, and counted with the reason: waiting (no callback yet), answered, rejected (result
12: check the number), suppressed, unknown (reconcile first), max attempts, too recent, other
outcome, not sent, no payload (journal written before waves existed).

Each attempt has its own instruction id, <row id>-w<wave>, so callbacks map to it and the journal
allows one call per row per wave. A wave is sent with the callback URL its rows were first sent
with, unless --callback-url gives the receiver's current one.

{SEND_EPILOG}"""


def register(subparsers) -> None:
    """Add the ``followup`` sub-command."""
    p = subparsers.add_parser(
        "followup",
        help="send a follow-up wave: call again whoever did not answer (from the journal and callbacks)",
        description=(
            "Plan the next wave of a campaign from its journal and callback logs and send it: everyone whose "
            "latest call was Cancelled or Failed (see --outcomes), once each. The product token is read from "
            "CM_PRODUCT_TOKEN. Running it again resumes an unfinished wave and never calls anyone twice in a wave."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--journal", required=True, help="the campaign's SQLite journal (as given to cmvoice send)")
    p.add_argument("--callbacks", required=True, nargs="+", metavar="LOG",
                   help="callback logs (files, folders or globs, as cmvoice receive writes them)")
    p.add_argument("--campaign", default=None, help="campaign name (needed when the journal holds several)")
    p.add_argument("--outcomes", default="Cancelled,Failed",
                   help="outcomes of the latest call that make a row due again (default Cancelled,Failed)")
    p.add_argument("--max-attempts", type=int, default=3,
                   help="calls per row over all waves, the first included (default 3)")
    p.add_argument("--after", default="30m", metavar="GAP",
                   help="how long ago the latest call must have ended, e.g. 30m, 2h, 90s (default 30m)")
    p.add_argument("--now", default=None, metavar="TIME",
                   help="measure --after from this ISO time instead of the clock (a rehearsal on the simulator, "
                        "whose call times run ahead; replaying old logs)")
    p.add_argument("--suppress", default=None, metavar="FILE",
                   help="text/CSV file of numbers never to call (any spelling; in a CSV the column named like "
                        "phone/number/callee, else the one holding numbers); listed rows are left out. A list of "
                        "which none, or more than 1 %%, of the entries are phone numbers stops before any call (exit 2)")
    p.add_argument("--allow-unreadable-suppress", action="store_true",
                   help="go on when the --suppress list has unreadable entries, holding back only the numbers "
                        "that could be read")
    p.add_argument("--callback-url", default=None, metavar="URL",
                   help="send the wave's callbacks to URL (a receiver restarted on a new address) instead of "
                        "the URL each row was first sent with; \"\" for the account's configured URL")
    p.add_argument("--region", default=None,
                   help="region for national numbers in the --suppress list, e.g. NL (0612345678)")
    p.add_argument("-o", "--output", required=True,
                   help="results file of this wave: .csv, or .xlsx (text cells keep + and leading zeros)")
    p.add_argument("--rate", type=float, default=None, help=f"calls per second (default {DEFAULT_RATE:g})")
    p.add_argument("--burst", type=int, default=None, help=f"calls that may start back to back (default {DEFAULT_BURST})")
    p.add_argument("--concurrency", type=int, default=None, help=f"requests in flight (default {DEFAULT_CONCURRENCY})")
    p.add_argument("--base-url", default=None, help="API base URL (default: CMVOICE_BASE_URL, then the provider's)")
    p.add_argument("--dry-run", action="store_true", help="plan and show the wave; send nothing, write no journal")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``cmvoice followup``; returns the exit status."""
    try:
        return _run(args)
    except UsageError as exc:
        print_error(say(exc, "cli"), PROG)
        return EXIT_USAGE


def _suppress_list(path: str | None, region: str | None = None, *, allow_unreadable: bool = False) -> Any:
    """The --suppress file as a SuppressionList (None without one); unreadable entries said on stderr.

    A list that cannot be trusted is a UsageError (exit 2) unless *allow_unreadable*.
    """
    if path is None:
        return None
    from ..campaign.ops.suppress import read_suppression
    from ..errors import CampaignError

    try:
        dnc = read_suppression(path, region=region, allow_unreadable_suppress=allow_unreadable)
    except CampaignError as exc:
        raise UsageError(say(exc, "cli")) from None
    if dnc.unreadable:
        print(f"{PROG}: {dnc.report(limit=5)}", file=sys.stderr)
    return dnc


def _run(args: argparse.Namespace) -> int:
    from .._fsutil import same_file
    from ..callbacks import load_callbacks
    from ..campaign import plan_followup
    from ..errors import CallbackError, CampaignError, JournalError

    out = Path(args.output)
    journal = Path(args.journal)
    if not journal.is_file():
        raise UsageError(f"--journal {journal}: no such journal file (the one cmvoice send wrote)")
    if out.exists() and same_file(journal, out):
        raise UsageError("-o must not be the journal")
    for log in args.callbacks:
        if Path(log).exists() and out.exists() and same_file(log, out):
            raise UsageError(f"-o {out} is a callback log; it would be overwritten")
    try:
        calls = load_callbacks(list(args.callbacks), warn=False)
    except (CallbackError, OSError) as exc:
        raise UsageError(f"--callbacks: {exc}") from None
    report = calls.attrs.get("load_report")
    if report is not None and getattr(report, "bad_line_count", 0):
        print(f"{PROG}: {report.bad_line_count} callback line(s) could not be read and were skipped",
              file=sys.stderr)
    try:
        plan = plan_followup(journal, calls, outcomes=args.outcomes, max_attempts=args.max_attempts,
                             min_gap=args.after, now=args.now, campaign=args.campaign,
                             suppress=_suppress_list(args.suppress, args.region,
                                                     allow_unreadable=args.allow_unreadable_suppress),
                             callback_url=args.callback_url)
    except JournalError as exc:
        print_error(say(exc, "cli"), PROG)
        return EXIT_ATTENTION
    except CampaignError as exc:
        raise UsageError(say(exc, "cli")) from None
    waves = sorted({r.wave for r in plan.rows})
    reasons = ", ".join(f"{k} {v}" for k, v in plan.left_out_summary().items()) or "none"
    print(f"follow-up of {plan.name!r}: {len(plan.rows)} row(s) to call in wave {','.join(map(str, waves)) or '-'}; "
          f"left out: {reasons}", file=sys.stderr)
    if not plan.rows:
        print(f"{PROG}: nobody is due for a follow-up now; nothing sent", file=sys.stderr)
    status = send_plan(plan, journal=str(journal), out=out, base_url=args.base_url, dry_run=args.dry_run,
                       rate=args.rate, burst=args.burst, concurrency=args.concurrency,
                       progress=not args.no_progress, prog=PROG)
    unknown = plan.left_out[plan.left_out["reason"] == "unknown"]
    if len(unknown):
        # Like cmvoice send's unknown rows: a call may exist, the operator decides (exit status 1).
        print(f"unknown: {len(unknown)} row(s) left out - their latest call may have been placed and has no "
              "outcome: check the callbacks or CM's logs before calling them again", file=sys.stderr)
        for rec in unknown.head(3).itertuples(index=False):
            print(f"  row {rec.row} ({rec.instruction_id})", file=sys.stderr)
        return max(status, EXIT_ATTENTION)
    return status


__all__ = ["register", "run"]
