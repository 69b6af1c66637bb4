"""``cmvoice send``: bulk-send a list of people as a campaign — validated, paced, journaled, resumable.

The list is a CSV (separator sniffed, ``--sep`` to force; UTF-8 with or without BOM,
``--encoding`` otherwise), an Excel/ODS sheet (``.xlsx``, ``.xls``, ``.ods``; ``--sheet``)
or a Parquet file; every column is read as text, so leading zeros and ``+`` survive. The
token comes only from the ``CM_PRODUCT_TOKEN`` environment variable (never a flag: flags
end up in shell history).

Running the same command again resumes: rows already ``queued`` or ``unknown`` in the
journal are not sent again, and nobody the journal already called is called again, even
after the file was edited (rows inserted, deleted, reordered). The run ends with a summary:
counts per status and, for each status that needs attention, the first rows with their
reason and the flag that resolves it.

Exit status (also in ``--help``): 0 every row is final and nothing needs attention; 1 the
run finished (or stopped) but some rows need attention (invalid — even all of them —,
failed, rejected, unknown, changed, already-called, deferred by calling hours, not sent;
suppressed rows are final); 2 usage error (bad flags,
unknown fields or columns, unreadable input, a --suppress list that cannot be trusted).

Examples
--------
::

    $ export CM_PRODUCT_TOKEN=...
    $ cmvoice send people.xlsx --app notification --map callee=Phone --set caller=+31201234567 \\
          --set prompt="Hello {first_name}" --set prompt-type=TTS --region NL \\
          --callback-url https://example.org/cb --journal spring.sqlite -o spring-results.csv
"""
from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

from ..campaign.vocabulary import ATTENTION_STATUSES, FIX
from ..messages import say
from ..spec import APPS, DEFAULT_BURST, DEFAULT_CONCURRENCY, DEFAULT_RATE

EXIT_OK, EXIT_ATTENTION, EXIT_USAGE = 0, 1, 2

def _statuses_help() -> str:
    """The attention statuses and what resolves each, as ``--help`` shows them (from the one status table)."""
    width = max(map(len, ATTENTION_STATUSES))
    return "\n".join(
        textwrap.fill(say(FIX[name], "cli"), 100, initial_indent=f"  {name:<{width}}  ",
                      subsequent_indent=" " * (width + 4), break_on_hyphens=False)
        for name in ATTENTION_STATUSES
    )


EPILOG = f"""\
exit status:
  0  every row is final and nothing needs attention (queued, dry-run, suppressed by --suppress,
     or left out by --drop-duplicates)
  1  the run finished (or stopped) but some rows need attention (every row invalid included):
     {", ".join(ATTENTION_STATUSES)}
  2  usage error: bad flags (e.g. --set caller without =), unknown fields or columns, unreadable input;
     also a --suppress list of which none, or more than 1 %, of the entries are phone numbers
     (nothing is sent; --allow-unreadable-suppress goes on with the numbers that could be read)

instruction ids: an instruction-id column is used as given; otherwise ids are
<name>-<campaign key>-<callee digits>-<occurrence>, where the campaign key is drawn once by the
journal. Editing the file (inserting, deleting, reordering rows) never moves another row's id.

statuses that need attention, and what resolves them:
{_statuses_help()}
"""


class UsageError(Exception):
    """A command-line mistake: reported and exit status 2."""


def _pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            example = "--map callee=Phone" if flag == "--map" else "--set caller=+31201234567"
            raise UsageError(f"{flag} expects FIELD=VALUE (e.g. {example}), got {item!r}")
        out[key.strip()] = value
    return out


def register(subparsers) -> None:
    """Add the ``send`` sub-command."""
    p = subparsers.add_parser(
        "send",
        help="send a campaign from a CSV, Excel or Parquet file (paced, journaled, resumable)",
        description=(
            "Plan and send one call per row. Columns named like contract fields map automatically; "
            "--map FIELD=COLUMN maps others, --set FIELD=VALUE fills a field for every row (prompt texts "
            "accept templates like 'Hello {first_name}'). The product token is read from CM_PRODUCT_TOKEN. "
            "Re-running the same command resumes and never calls anyone the journal already called."
        ),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", help="CSV, Excel (.xlsx/.xls/.ods) or Parquet file, one row per call (read as text)")
    p.add_argument("--app", required=True, choices=list(APPS), help="which Voice API App")
    p.add_argument("--name", default=None,
                   help="campaign name (default: the file's stem); the first part of every derived instruction id")
    p.add_argument("--map", action="append", metavar="FIELD=COLUMN", help="map a field to a column (repeatable)")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE", help="value (or template) for every row (repeatable)")
    p.add_argument("--callback-url", default=None, metavar="URL", help="where the provider POSTs call events")
    p.add_argument("--journal", required=True, help="SQLite journal file (created if missing; reuse it to resume)")
    p.add_argument("-o", "--output", required=True,
                   help="results file to write: .csv, or .xlsx for spreadsheets (text cells keep + and leading zeros)")
    p.add_argument("--sep", default=None, help="CSV field separator (default: sniffed from , ; TAB |)")
    p.add_argument("--encoding", default=None, help="CSV text encoding (default UTF-8, with or without BOM)")
    p.add_argument("--sheet", default=None, help="spreadsheet sheet name or 0-based number (default: the first)")
    p.add_argument("--rate", type=float, default=None, help=f"calls per second (default {DEFAULT_RATE:g}, a hard ceiling per second)")
    p.add_argument("--burst", type=int, default=None, help=f"calls that may start back to back (default {DEFAULT_BURST})")
    p.add_argument("--concurrency", type=int, default=None, help=f"requests in flight (default {DEFAULT_CONCURRENCY})")
    p.add_argument("--max-attempts", type=int, default=5, help="requests per row for 429/503/refused (default 5)")
    p.add_argument("--base-url", default=None, help="API base URL (default: CMVOICE_BASE_URL, then the provider's)")
    p.add_argument("--region", default=None, help="default region for national numbers, e.g. NL")
    p.add_argument("--number-style", choices=["e164", "00"], default="e164", help="send +31… (e164) or 0031… (00)")
    p.add_argument("--drop-duplicates", action="store_true", help="leave out rows whose callee appeared in an earlier row")
    p.add_argument("--allow-repeat", action="store_true",
                   help="call people this journal (or an earlier row) already called (CALLS THEM AGAIN)")
    p.add_argument("--resend-changed", action="store_true",
                   help="send rows whose content changed since they were sent (CALLS THEM AGAIN)")
    p.add_argument("--resend-unknown", action="store_true",
                   help="send rows whose earlier outcome was unknown again (MAY CALL SOMEONE TWICE)")
    p.add_argument("--audio-root", default=None, help="local mirror of uploaded audio: check every File prompt")
    p.add_argument("--spelling-root", default=None,
                   help="folder holding spelling/<locale>/ (default: --audio-root): check Custom OTP codes")
    p.add_argument("--dry-run", action="store_true",
                   help="validate and match with the journal; send nothing, write no journal, no pacing; "
                        "prints what the first rows will hear (see --preview)")
    p.add_argument("--preview", type=int, default=None, metavar="N",
                   help="print the rendered text of the first N rows, and of the first row of each further "
                        "voice or template, before anything is sent (default 3 with --dry-run, 0 otherwise)")
    p.add_argument("--keep", action="append", metavar="COLUMN",
                   help="carry your own column (e.g. Klantnummer) into the results file and the journal "
                        "(repeatable); --map id=COLUMN names rows by your own id in every message")
    v = p.add_argument_group("values as the list writes them (template dates and amounts)")
    order = v.add_mutually_exclusive_group()
    order.add_argument("--dayfirst", dest="dayfirst", action="store_const", const=True, default=None,
                       help="numeric dates are day-first (09-12-2025 is 9 December); default: decided per column")
    order.add_argument("--monthfirst", dest="dayfirst", action="store_const", const=False,
                       help="numeric dates are month-first (12-09-2025 is 9 December)")
    v.add_argument("--date-format", action="append", metavar="[COLUMN=]PATTERN",
                   help="strptime pattern of a template date column, e.g. --date-format datum=%%d.%%m.%%Y "
                        "(repeatable; without COLUMN= for every date column)")
    v.add_argument("--decimal", choices=[",", "."], default=None,
                   help="decimal sign of template number columns (default: decided per column: 12,50 and "
                        "1.250,00 are comma, 1,250.00 is point)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    g = p.add_argument_group("calling hours, do-not-call lists and the estimate")
    g.add_argument("--calling-hours", default=None, metavar="HH:MM-HH:MM",
                   help="call each row only inside this window of the callee's local time (e.g. 09:00-20:00; "
                        "20:00-08:00 crosses midnight); rows outside wait for it")
    g.add_argument("--days", default=None, help="days the window opens on (default mon-fri; e.g. mon,wed,fri, all)")
    g.add_argument("--holidays", default=None, metavar="FILE",
                   help="dates nobody is called on: a TXT of YYYY-MM-DD lines or a CSV with date[,country]")
    g.add_argument("--tz", default=None, metavar="ZONE",
                   help="the callees' time zone (IANA, e.g. Europe/Amsterdam) instead of the numbers' own")
    g.add_argument("--no-wait", action="store_true",
                   help="do not wait for calling hours: rows outside them end deferred; run again later to send them")
    g.add_argument("--suppress", default=None, metavar="FILE",
                   help="do-not-call list (TXT, one number per line, or CSV with a number column; UTF-8, UTF-16 or "
                        "cp1252): listed rows end suppressed and are never sent. A list of which none, or more "
                        "than 1 %%, of the entries are phone numbers stops the send before any call (exit 2)")
    g.add_argument("--allow-unreadable-suppress", action="store_true",
                   help="go on when the --suppress list has unreadable entries, holding back only the numbers "
                        "that could be read")
    g.add_argument("--allow-countries", default=None, metavar="CC,CC",
                   help="only call numbers of these countries (ISO codes, e.g. NL,BE); others are invalid rows")
    g.add_argument("--prices", default=None, metavar="FILE",
                   help="price table CSV country,price_per_minute[,setup] (* for any other country): "
                        "the estimate shows the expected cost")
    p.set_defaults(func=run)


def print_error(message: str, prog: str = "cmvoice send") -> None:
    print(f"{prog}: error: {message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Run ``cmvoice send``; returns the exit status."""
    try:
        return _run(args)
    except UsageError as exc:
        print_error(str(exc))
        return EXIT_USAGE


def _run(args: argparse.Namespace) -> int:
    from .._fsutil import same_file
    from ..campaign import plan_campaign
    from ..campaign.inputs import read_table
    from ..errors import CampaignError, JournalError

    src = Path(args.file)
    out = Path(args.output)
    columns = _pairs(args.map, "--map")
    defaults = _pairs(args.set, "--set")
    if args.callback_url is not None:
        if "callback-url" in defaults or "callback_url" in defaults:
            raise UsageError("give the callback URL once: --callback-url URL or --set callback-url=URL")
        defaults["callback-url"] = args.callback_url
    if out.exists() and src.exists() and same_file(src, out):
        raise UsageError(f"-o {out} is the input file; it would be overwritten")
    if Path(args.journal).exists() and (same_file(args.journal, src) or (out.exists() and same_file(args.journal, out))):
        raise UsageError("--journal must be its own file")
    if Path(args.journal).exists() and not Path(args.journal).is_file():
        raise UsageError(f"--journal {args.journal} is not a regular file (a folder or a device?)")
    if args.preview is not None and args.preview < 0:
        raise UsageError(f"--preview takes a number of rows (0 or more), got {args.preview}")
    try:
        df = read_table(src, sep=args.sep, encoding=args.encoding, sheet=args.sheet)
        plan = plan_campaign(
            df, app=args.app, name=args.name or src.stem, columns=columns, defaults=defaults, region=args.region,
            number_style=args.number_style, drop_duplicates=args.drop_duplicates, audio_root=args.audio_root,
            spelling_root=args.spelling_root, journal=args.journal if Path(args.journal).exists() else None,
            suppress=args.suppress, allowed_countries=args.allow_countries,
            dayfirst=args.dayfirst, date_format=_date_formats(args.date_format), decimal=args.decimal,
            keep=args.keep, allow_unreadable_suppress=args.allow_unreadable_suppress,
        )
    except JournalError as exc:
        print_error(say(exc, "cli"))
        return EXIT_ATTENTION
    except CampaignError as exc:
        raise UsageError(say(exc, "cli")) from None
    summary = plan.summary()
    print(f"planned {plan.name!r}: {summary['rows']} rows, {summary['valid']} valid, {summary['invalid']} invalid, "
          f"{summary['duplicates']} repeated callees"
          + (f", {summary['suppressed']} on the do-not-call list" if args.suppress is not None else ""),
          file=sys.stderr)
    for note in plan.notes:
        print(f"note: {note.say('cli')}", file=sys.stderr)
    if plan.options.get("suppress_unreadable"):
        print(f"do-not-call list {args.suppress}: {plan.options['suppress_unreadable']} entries are not numbers "
              "(ignored)", file=sys.stderr)
    try:
        estimate = plan.estimate(args.prices)
    except CampaignError as exc:
        if args.prices is not None:
            text = say(exc, "cli")
            raise UsageError(text if text.startswith("prices") else f"--prices: {text}") from None
        estimate = None
        print(f"no estimate: {say(exc, 'cli')}", file=sys.stderr)
    # Before anything is sent: the whole report on a dry run, its headline otherwise.
    if estimate is not None and args.dry_run:
        print(estimate.to_text())
    elif estimate is not None:
        print(estimate.to_text().splitlines()[0], file=sys.stderr)
    shown = args.preview if args.preview is not None else (3 if args.dry_run else 0)
    if shown:
        print(format_preview(plan.preview(shown)), file=sys.stdout if args.dry_run else sys.stderr)
    return send_plan(plan, journal=args.journal, out=out, base_url=args.base_url, dry_run=args.dry_run,
                     rate=args.rate, burst=args.burst, concurrency=args.concurrency, retries=args.max_attempts,
                     resend_unknown=args.resend_unknown, resend_changed=args.resend_changed,
                     allow_repeat=args.allow_repeat, progress=not args.no_progress,
                     calling_hours=args.calling_hours, days=args.days, holidays=args.holidays, tz=args.tz,
                     wait=not args.no_wait)


def _date_formats(values: list[str] | None):
    """``--date-format`` values as ``date_format=``: one pattern, or a dict column → pattern (``*``: the rest)."""
    if not values:
        return None
    formats: dict[str, str] = {}
    for value in values:
        column, sep, pattern = value.partition("=")
        if sep and "%" not in column:
            if not column.strip() or "%" not in pattern:
                raise UsageError(f"--date-format expects [COLUMN=]PATTERN (e.g. datum=%d-%m-%Y), got {value!r}")
            formats[column.strip()] = pattern
        else:
            formats["*"] = value
    if list(formats) == ["*"]:
        return formats["*"]
    return formats


def format_preview(frame) -> str:
    """The preview frame (:meth:`~cmvoice_nb.campaign.CampaignPlan.preview`) as lines for a terminal."""
    if not len(frame):
        return "preview: no rows"
    lines = ["preview: what the first rows will hear (line numbers as the spreadsheet shows them)"]
    for rec in frame.itertuples(index=False):
        head = f"  {rec.row}  {rec.callee or '-'}"
        if not isinstance(rec.text, str):
            lines.append(f"{head}  not sent: {rec.problems}")
            continue
        lines.append(f"{head}  {rec.language}  {rec.field}: {rec.text}"
                     + ("  [another voice or template]" if rec.shown_for != "first rows" else ""))
    return "\n".join(lines)


def send_plan(plan, *, journal: str, out: Path, base_url: str | None, dry_run: bool, rate: float | None = None,
              burst: int | None = None, concurrency: int | None = None, retries: int = 5,
              resend_unknown: bool = False, resend_changed: bool = False, allow_repeat: bool = False,
              progress: bool = True, prog: str = "cmvoice send", calling_hours: str | None = None,
              days: str | None = None, holidays: str | None = None, tz: str | None = None, wait: bool = True) -> int:
    """Send a planned campaign the CLI's way and return the exit status (shared by ``send`` and ``followup``).

    The token comes from ``CM_PRODUCT_TOKEN`` only; the summary goes to stderr, the results to
    *out*; exit status 0 (nothing needs attention) or 1 (see ``EPILOG``). Raises
    :class:`UsageError` for a missing token or bad pacing values.
    """
    from ..campaign import CampaignSender, RetryPolicy
    from ..campaign.send import run_until_done
    from ..errors import CampaignError, CMVoiceError, ConfigurationError

    client = None
    if not dry_run:
        from ..client import VoiceClient

        try:
            client = VoiceClient(None, base_url=base_url)  # token: CM_PRODUCT_TOKEN only
        except ConfigurationError as exc:
            raise UsageError(say(exc, "cli")) from None
    try:
        try:
            sender = CampaignSender(
                plan, client, journal=journal,
                rate=rate if rate is not None else DEFAULT_RATE,
                burst=burst if burst is not None else DEFAULT_BURST,
                concurrency=concurrency if concurrency is not None else DEFAULT_CONCURRENCY,
                dry_run=dry_run, resend_unknown=resend_unknown, resend_changed=resend_changed,
                allow_repeat=allow_repeat, retry=RetryPolicy(max_attempts=max(1, retries)),
                progress=progress and sys.stderr.isatty(), results_path=out, front="cli",
                calling_hours=calling_hours, days=days, holidays=holidays, tz=tz, wait=wait,
            )
        except CampaignError as exc:  # bad --rate/--burst/--concurrency
            raise UsageError(say(exc, "cli")) from None
        run_until_done(sender)
    finally:
        if client is not None:
            client.close()

    error = sender.error
    if error is not None and not sender.matched:
        print_error(say(error, "cli"), prog)  # the journal is in use or unusable: nothing was sent, no results written
        return EXIT_ATTENTION
    results = sender.results
    print(sender.summary(), file=sys.stderr)
    if dry_run and sender.wait_text:
        print(sender.wait_text, file=sys.stderr)
    if out.exists():
        print(f"results: {out}", file=sys.stderr)
    if error is not None:
        if sender.stop_reason is None:
            reason = say(error, "cli") if isinstance(error, CMVoiceError) else f"{type(error).__name__}: {error}"
            print(f"{prog}: stopped: {sender._redact(reason)}", file=sys.stderr)
        return EXIT_ATTENTION
    if sender.stopped_by_user:
        print(f"{prog}: stopped by the user; run the same command again to send the rest", file=sys.stderr)
    return EXIT_ATTENTION if results is None or sender.needs_attention else EXIT_OK


__all__ = ["register", "run", "send_plan", "format_preview", "print_error", "UsageError", "EXIT_OK", "EXIT_ATTENTION",
           "EXIT_USAGE", "EPILOG"]
