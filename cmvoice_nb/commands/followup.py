"""``cmvoice followup``: call again, once, everyone whose latest call of a campaign was not answered.

Reads the campaign's journal (every attempt and the exact JSON it sent) and its callback
logs, plans the next wave with :func:`cmvoice_nb.campaign.plan_followup` and sends it like
``cmvoice send`` does: same token (``CM_PRODUCT_TOKEN`` only), and every sending option of
``cmvoice send`` that applies to a wave — calling hours, days, holidays, time zone, do-not-call
list, allowed countries, prices and budget, pacing, base URL, callback URL — built from the same
table (:data:`cmvoice_nb.messages.OPTIONS`), with the same summary, exit status and signals.
Running it again resumes an unfinished wave; a wave already sent is not sent again (its calls
wait for their callbacks).

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
from typing import TYPE_CHECKING, Any

from ..messages import say
from ._sending import (
    EXIT_ACT,
    EXIT_RETRY,
    EXIT_USAGE,
    UsageError,
    add_sending_options,
    check_output,
    exit_epilog,
    first_exit,
    preflight,
    print_error,
    send_plan,
    stop_signals,
)

if TYPE_CHECKING:
    from ..callbacks import LoadReport

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

{exit_epilog()}
"""


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
                   help="calls per person over all waves, the first included (default 3)")
    p.add_argument("--after", default="30m", metavar="GAP",
                   help="how long ago the latest call must have ended, e.g. 30m, 2h, 90s (default 30m)")
    p.add_argument("--retry-ladder", default=None, action="append", metavar="OUTCOME=STEPS",
                   help="per outcome (not-answered, busy, rejected, failed, failed:<SIP code>, voicemail) the wait "
                        "before each next wave, or never, e.g. --retry-ladder not-answered=30m,2h,4h --retry-ladder "
                        "failed:404=never; 'default' for the documented ladder. Replaces --outcomes and --after")
    p.add_argument("--now", default=None, metavar="TIME",
                   help="measure --after from this ISO time instead of the clock (a rehearsal on the simulator, "
                        "whose call times run ahead; replaying old logs)")
    p.add_argument("-o", "--output", required=True,
                   help="results file of this wave: .csv, or .xlsx (text cells keep + and leading zeros)")
    add_sending_options(p, "followup")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``cmvoice followup``; returns the exit status."""
    with stop_signals() as stopper:
        try:
            return _run(args, stopper)
        except UsageError as exc:
            print_error(say(exc, "cli"), PROG)
            return EXIT_USAGE
        except KeyboardInterrupt as exc:
            print(f"{PROG}: {exc or 'interrupted'} before any call: nothing was sent; run the same command again",
                  file=sys.stderr)
            return EXIT_RETRY


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


def _run(args: argparse.Namespace, stopper: Any) -> int:
    from .._fsutil import same_file
    from ..callbacks import load_callbacks
    from ..campaign import plan_followup
    from ..errors import CallbackError, CampaignError, JournalBusy, JournalError

    out = Path(args.output)
    journal = Path(args.journal)
    if not journal.is_file():
        raise UsageError(f"--journal {journal}: " + ("not a regular file (a folder, a pipe or a device?)"
                                                     if journal.exists() else
                                                     "no such journal file (the one cmvoice send wrote)"))
    if out.exists() and same_file(journal, out):
        raise UsageError("-o must not be the journal")
    check_output(out, "-o")
    for log in args.callbacks:
        if Path(log).exists() and out.exists() and same_file(log, out):
            raise UsageError(f"-o {out} is a callback log; it would be overwritten")
    try:
        calls = load_callbacks(list(args.callbacks), warn=False)
    except (CallbackError, OSError) as exc:
        raise UsageError(f"--callbacks: {exc}") from None
    report: LoadReport | None = calls.attrs.get("load_report")
    if report is not None and report.bad_line_count:
        print(f"{PROG}: {report.bad_line_count} callback line(s) could not be read and were skipped",
              file=sys.stderr)
    try:
        plan = plan_followup(journal, calls, outcomes=args.outcomes, max_attempts=args.max_attempts,
                             min_gap=args.after, now=args.now, campaign=args.campaign,
                             suppress=_suppress_list(args.suppress, args.region,
                                                     allow_unreadable=args.allow_unreadable_suppress),
                             region=args.region, callback_url=args.callback_url,
                             allowed_countries=args.allowed_countries,
                             retry_ladder=";".join(args.retry_ladder) if args.retry_ladder else None)
    except JournalBusy as exc:
        print_error(say(exc, "cli"), PROG)
        return EXIT_RETRY
    except (JournalError, CampaignError) as exc:
        raise UsageError(say(exc, "cli")) from None
    waves = sorted({r.wave for r in plan.rows})
    reasons = ", ".join(f"{k} {v}" for k, v in plan.left_out_summary().items()) or "none"
    print(f"follow-up of {plan.name!r}: {len(plan.rows)} row(s) to call in wave {','.join(map(str, waves)) or '-'}; "
          f"left out: {reasons}", file=sys.stderr)
    if not plan.rows:
        print(f"{PROG}: nobody is due for a follow-up now; nothing sent", file=sys.stderr)
    try:
        preflight(plan, args, journal=journal, prog=PROG, full_estimate=args.dry_run)
    except JournalBusy as exc:
        print_error(say(exc, "cli"), PROG)
        return EXIT_RETRY
    status = send_plan(plan, args, stopper, journal=str(journal), out=out, prog=PROG)
    assert plan.left_out is not None  # plan_followup always lists the rows it left out
    unknown = plan.left_out[plan.left_out["reason"] == "unknown"]
    if len(unknown):
        # Like cmvoice send's unknown rows: a call may exist, the operator decides (exit status 1).
        print(f"unknown: {len(unknown)} row(s) left out - their latest call may have been placed and has no "
              "outcome: check the callbacks or CM's logs before calling them again", file=sys.stderr)
        for rec in unknown.head(3).itertuples(index=False):
            print(f"  row {rec.row} ({rec.instruction_id})", file=sys.stderr)
        return first_exit(status, EXIT_ACT)
    return status


__all__ = ["register", "run"]
