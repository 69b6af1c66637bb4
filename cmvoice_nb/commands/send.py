"""``cmvoice send``: bulk-send a list of people as a campaign — validated, paced, journaled, resumable.

The list is a CSV (separator sniffed, ``--sep`` to force; UTF-8 with or without BOM,
``--encoding`` otherwise), an Excel/ODS sheet (``.xlsx``, ``.xls``, ``.ods``; ``--sheet``)
or a Parquet file; every column is read as text, so leading zeros and ``+`` survive. The
token comes only from the ``CM_PRODUCT_TOKEN`` environment variable (never a flag: flags
end up in shell history).

Running the same command again resumes: rows already ``queued`` or ``unknown`` in the
journal are not sent again, and nobody the journal already called is called again, even
after the file was edited (rows inserted, deleted, reordered). Before any call it prints the
plan line — what will happen to each row, counted as the dry run, the summary and ``cmvoice
status`` count it — and the estimate of what is left to send. The run ends with a summary:
counts per status and, for each status that needs attention, the first rows with their
reason and the flag that resolves it.

Exit status (also in ``--help``, generated from the status table): 75 run the same command
again later (rows stopped by a signal or Ctrl-C, waiting for their calling hours, a provider
that could not be reached); 1 rows need the operator (invalid, refused-country, rejected,
unknown, changed, already-called, budget, no-zone) or a refused token; 0 every row is final;
2 a usage error or input that cannot be trusted, found before any call. SIGTERM and SIGHUP stop
a run exactly as Ctrl-C does.

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
from pathlib import Path

from ..messages import say
from ..spec import APPS
from ._sending import (
    EXIT_RETRY,
    EXIT_USAGE,
    UsageError,
    add_sending_options,
    check_output,
    exit_epilog,
    preflight,
    print_error,
    send_plan,
    stop_signals,
)

PROG = "cmvoice send"

EPILOG = f"""\
instruction ids: an instruction-id column is used as given; otherwise ids are
<name>-<campaign key>-<callee digits>-<occurrence>, where the campaign key is drawn once by the
journal. Editing the file (inserting, deleting, reordering rows) never moves another row's id.

{exit_epilog()}
"""


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
    p.add_argument("--set", action="append", metavar="FIELD=VALUE",
                   help="value (or template) for every row (repeatable)")
    p.add_argument("--journal", required=True, help="SQLite journal file (created if missing; reuse it to resume)")
    p.add_argument("-o", "--output", required=True,
                   help="results file to write: .csv, or .xlsx for spreadsheets (text cells keep + and leading zeros)")
    p.add_argument("--sep", default=None, help="CSV field separator (default: sniffed from , ; TAB |)")
    p.add_argument("--encoding", default=None, help="CSV text encoding (default UTF-8, with or without BOM)")
    p.add_argument("--sheet", default=None, help="spreadsheet sheet name or 0-based number (default: the first)")
    p.add_argument("--number-style", choices=["e164", "00"], default="e164", help="send +31… (e164) or 0031… (00)")
    p.add_argument("--audio-root", default=None, help="local mirror of uploaded audio: check every File prompt")
    p.add_argument("--spelling-root", default=None,
                   help="folder holding spelling/<locale>/ (default: --audio-root): check Custom OTP codes")
    p.add_argument("--preview", type=int, default=None, metavar="N",
                   help="print the rendered text of the first N rows, and of the first row of each further "
                        "voice or template, before anything is sent (default 3 with --dry-run, 0 otherwise)")
    p.add_argument("--keep", action="append", metavar="COLUMN",
                   help="carry your own column (e.g. Klantnummer) into the results file and the journal "
                        "(repeatable); --map id=COLUMN names rows by your own id in every message")
    p.add_argument("--max-attempts", dest="max_attempts_http", type=int, default=None, metavar="N",
                   help="deprecated spelling of --http-attempts (HTTP requests per row); --max-attempts means calls "
                        "per person across waves (cmvoice followup)")
    add_sending_options(p, "send")
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
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``cmvoice send``; returns the exit status (see ``EPILOG``)."""
    with stop_signals() as stopper:
        try:
            return _run(args, stopper)
        except UsageError as exc:
            print_error(str(exc), PROG)
            return EXIT_USAGE
        except KeyboardInterrupt as exc:
            print(f"{PROG}: {exc or 'interrupted'} before any call: nothing was sent; run the same command again",
                  file=sys.stderr)
            return EXIT_RETRY


def _run(args: argparse.Namespace, stopper) -> int:
    from .._fsutil import same_file
    from ..campaign import plan_campaign
    from ..campaign.inputs import read_table
    from ..errors import CampaignError, JournalBusy, JournalError

    src = Path(args.file)
    out = Path(args.output)
    columns = _pairs(args.map, "--map")
    defaults = _pairs(args.set, "--set")
    if args.max_attempts_http is not None:
        print(f"{PROG}: warning: --max-attempts is deprecated here: it sets HTTP requests per row, now "
              "--http-attempts; --max-attempts means calls per person across waves (cmvoice followup)",
              file=sys.stderr)
        args.http_attempts = args.max_attempts_http
    if args.callback_url is not None:
        if "callback-url" in defaults or "callback_url" in defaults:
            raise UsageError("give the callback URL once: --callback-url URL or --set callback-url=URL")
        defaults["callback-url"] = args.callback_url
    if out.exists() and src.exists() and same_file(src, out):
        raise UsageError(f"-o {out} is the input file; it would be overwritten")
    check_output(out, "-o")
    if Path(args.journal).exists() and (same_file(args.journal, src)
                                        or (out.exists() and same_file(args.journal, out))):
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
            suppress=args.suppress, allowed_countries=args.allowed_countries,
            dayfirst=args.dayfirst, date_format=_date_formats(args.date_format), decimal=args.decimal,
            keep=args.keep, allow_unreadable_suppress=args.allow_unreadable_suppress,
            opt_out_digit=args.opt_out_digit, **_ab_test(args),
        )
    except JournalBusy as exc:
        print_error(say(exc, "cli"), PROG)
        return EXIT_RETRY
    except (JournalError, CampaignError) as exc:  # a journal that is not one counts as untrusted input
        raise UsageError(say(exc, "cli")) from None
    for note in plan.notes:
        print(f"note: {note.say('cli')}", file=sys.stderr)
    if plan.options.get("suppress_unreadable"):
        print(f"do-not-call list {args.suppress}: {plan.options['suppress_unreadable']} entries are not numbers "
              "(ignored)", file=sys.stderr)
    try:
        # Before anything is sent: the plan line, and the estimate of what is left (in full on a dry run).
        fc = preflight(plan, args, journal=args.journal, prog=PROG, full_estimate=args.dry_run)
    except JournalBusy as exc:
        print_error(say(exc, "cli"), PROG)
        return EXIT_RETRY
    shown = args.preview if args.preview is not None else (3 if args.dry_run else 0)
    if shown:
        print(format_preview(fc.plan.preview(shown)), file=sys.stdout if args.dry_run else sys.stderr)
    return send_plan(plan, args, stopper, journal=args.journal, out=out, prog=PROG)


def _ab_test(args: argparse.Namespace) -> dict:
    """``variants=``, ``holdout=`` and ``seed=`` from ``--variant``, ``--holdout`` and ``--seed`` (none: no test)."""
    from ..campaign.plan import parse_seed, parse_variants

    if not args.variants and args.holdout is None:
        if args.seed is not None:
            raise UsageError("--seed needs --variant or --holdout: it seeds the A/B assignment")
        return {}
    return {"variants": parse_variants(args.variants) if args.variants else None, "holdout": args.holdout,
            "seed": parse_seed(args.seed)}


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


__all__ = ["register", "run", "format_preview", "EPILOG"]
