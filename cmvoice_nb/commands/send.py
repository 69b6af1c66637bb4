"""``cmvoice send``: bulk-send a CSV as a campaign — validated, paced, journaled, resumable.

The CSV is read with every column as text, so leading zeros and ``+`` survive. The token
comes only from the ``CM_PRODUCT_TOKEN`` environment variable (never a flag: flags end up
in shell history). Running the same command again resumes: rows already ``queued`` or
``unknown`` in the journal are not sent again.

Exit status: 0 when every row reached a final status (``queued``, ``rejected``,
``invalid``, ``dry-run``, or left out by ``--drop-duplicates``); 1 when some row is ``unknown`` (reconcile it), ``failed`` or
``skipped`` (run the command again), or the run stopped on an error; 2 for usage errors.

Examples
--------
::

    $ export CM_PRODUCT_TOKEN=...
    $ cmvoice send people.csv --app notification --map callee=Phone --set caller=+31201234567 \\
          --set prompt="Hello {first_name}" --set prompt-type=TTS --region NL \\
          --journal spring.sqlite -o spring-results.csv
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

_FINAL = ("queued", "rejected", "invalid", "dry-run")


def _pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"cmvoice send: error: {flag} expects FIELD=VALUE, got {item!r}")
        out[key.strip()] = value
    return out


def register(subparsers) -> None:
    """Add the ``send`` sub-command."""
    p = subparsers.add_parser(
        "send",
        help="send a campaign from a CSV file (paced, journaled, resumable)",
        description=(
            "Plan and send one call per CSV row. Columns named like contract fields map automatically; "
            "--map FIELD=COLUMN maps others, --set FIELD=VALUE fills a field for every row (prompt texts "
            "accept templates like 'Hello {first_name}'). The product token is read from CM_PRODUCT_TOKEN. "
            "Re-running the same command resumes and never resends a queued or unknown row."
        ),
        epilog=(
            "exit status: 0 every row final (queued/rejected/invalid/dry-run); 1 some row unknown, failed or "
            "not sent (run again to resume); 2 usage error"
        ),
    )
    p.add_argument("file", help="CSV file, one row per call (read as text)")
    p.add_argument("--app", required=True, choices=["notification", "otp", "dtmf"], help="which Voice API App")
    p.add_argument("--name", default=None,
                   help="campaign name (default: the CSV file's stem); part of every derived instruction id")
    p.add_argument("--map", action="append", metavar="FIELD=COLUMN", help="map a field to a CSV column (repeatable)")
    p.add_argument("--set", action="append", metavar="FIELD=VALUE", help="value (or template) for every row (repeatable)")
    p.add_argument("--journal", required=True, help="SQLite journal file (created if missing; reuse it to resume)")
    p.add_argument("-o", "--output", required=True, help="results CSV to write")
    p.add_argument("--rate", type=float, default=None, help="calls per second (default 5, a hard ceiling per second)")
    p.add_argument("--burst", type=int, default=None, help="calls that may start back to back (default 5)")
    p.add_argument("--concurrency", type=int, default=None, help="requests in flight (default 4)")
    p.add_argument("--max-attempts", type=int, default=5, help="requests per row for 429/503/refused (default 5)")
    p.add_argument("--base-url", default=None, help="API base URL (default: CMVOICE_BASE_URL, then the provider's)")
    p.add_argument("--region", default=None, help="default region for national numbers, e.g. NL")
    p.add_argument("--number-style", choices=["e164", "00"], default="e164", help="send +31… (e164) or 0031… (00)")
    p.add_argument("--drop-duplicates", action="store_true", help="skip rows whose callee appeared in an earlier row")
    p.add_argument("--audio-root", default=None, help="local mirror of uploaded audio: check every File prompt")
    p.add_argument("--spelling-root", default=None,
                   help="folder holding spelling/<locale>/ (default: --audio-root): check Custom OTP codes")
    p.add_argument("--resend-unknown", action="store_true",
                   help="send rows whose earlier outcome was unknown again (MAY CALL SOMEONE TWICE)")
    p.add_argument("--dry-run", action="store_true", help="validate and pace, send nothing, write no journal")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run ``cmvoice send``; returns the exit status."""
    import pandas as pd

    from .._fsutil import same_file
    from ..campaign import RetryPolicy, plan_campaign, send_campaign
    from ..campaign.send import DEFAULT_BURST, DEFAULT_CONCURRENCY, DEFAULT_RATE
    from ..errors import AuthenticationError, CampaignError, ConfigurationError, ConnectError

    src = Path(args.file)
    out = Path(args.output)
    if not src.is_file():
        print(f"cmvoice send: error: {src}: no such file", file=sys.stderr)
        return 2
    if out.exists() and same_file(src, out):
        print(f"cmvoice send: error: -o {out} is the input file; it would be overwritten", file=sys.stderr)
        return 2
    if Path(args.journal).exists() and (same_file(args.journal, src) or same_file(args.journal, out)):
        print("cmvoice send: error: --journal must be its own file", file=sys.stderr)
        return 2
    try:
        df = pd.read_csv(src, dtype=str, keep_default_na=False)
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        print(f"cmvoice send: error: {src}: cannot read as CSV ({exc})", file=sys.stderr)
        return 2

    try:
        plan = plan_campaign(
            df, app=args.app, name=args.name or src.stem, columns=_pairs(args.map, "--map"),
            defaults=_pairs(args.set, "--set"), region=args.region, number_style=args.number_style,
            drop_duplicates=args.drop_duplicates, audio_root=args.audio_root, spelling_root=args.spelling_root,
        )
    except CampaignError as exc:
        print(f"cmvoice send: error: {exc}", file=sys.stderr)
        return 2
    summary = plan.summary()
    print(f"planned {plan.name!r}: {summary['rows']} rows, {summary['valid']} valid, {summary['invalid']} invalid, "
          f"{summary['duplicates']} duplicate callees", file=sys.stderr)
    for p in plan.problems.head(20).itertuples(index=False):
        print(f"  row {p.row}: {p.field}: {p.message} (got {p.value!r})", file=sys.stderr)
    if len(plan.problems) > 20:
        print(f"  ... and {len(plan.problems) - 20} more problems (see {out})", file=sys.stderr)

    client = None
    if not args.dry_run:
        from ..client import VoiceClient

        try:
            client = VoiceClient(None, base_url=args.base_url)  # token: CM_PRODUCT_TOKEN only
        except ConfigurationError as exc:
            print(f"cmvoice send: error: {exc}", file=sys.stderr)
            return 2
    try:
        results = send_campaign(
            plan, client, journal=args.journal,
            rate=args.rate if args.rate is not None else DEFAULT_RATE,
            burst=args.burst if args.burst is not None else DEFAULT_BURST,
            concurrency=args.concurrency if args.concurrency is not None else DEFAULT_CONCURRENCY,
            dry_run=args.dry_run, resend_unknown=args.resend_unknown,
            retry=RetryPolicy(max_attempts=args.max_attempts),
            progress=not args.no_progress and sys.stderr.isatty(), results_path=out,
        )
        failure = None
    except (AuthenticationError, ConnectError) as exc:
        results = getattr(exc, "results", None)
        failure = exc
    except CampaignError as exc:
        print(f"cmvoice send: error: {exc}", file=sys.stderr)
        return 2 if "journal" not in str(exc).lower() else 1
    finally:
        if client is not None:
            client.close()

    if results is not None:
        counts = results["status"].value_counts()
        print("results: " + ", ".join(f"{k} {int(v)}" for k, v in counts.items()) + f" -> {out}", file=sys.stderr)
        unknown = int(counts.get("unknown", 0))
        if unknown:
            print(f"  {unknown} row(s) are unknown: the call may have been placed; check before resending "
                  "(--resend-unknown)", file=sys.stderr)
    if failure is not None:
        print(f"cmvoice send: stopped: {failure}", file=sys.stderr)
        return 1
    if results is None:
        return 1
    # A duplicate left out on purpose (--drop-duplicates) is as final as it gets.
    dropped = [r.dropped for r in plan.rows]
    final = results["status"].isin(_FINAL).to_numpy() | (results["status"].eq("skipped").to_numpy() & dropped)
    return 0 if final.all() else 1
