"""``cmvoice report``: load callback logs and write an HTML report (and exports).

Examples
--------
::

    $ cmvoice report callbacks/ --results results.csv --html report.html --parquet calls.parquet
    1523 callbacks: 1190 answered (78.1%), 201 Cancelled, 87 Failed, 45 Rejected
    wrote report.html
"""
from __future__ import annotations

import argparse
import sys
import warnings


def register(subparsers) -> None:
    """Add the ``report`` sub-command."""
    p = subparsers.add_parser(
        "report",
        help="summarise callback logs into an HTML report",
        description=(
            "Load callback logs (JSONL files, folders, globs, JSON arrays, CSV/Parquet exports), print a "
            "summary and write a self-contained HTML report. With --results, the campaign results CSV is "
            "joined on instruction-id: the funnel and the rows still waiting for a callback. Exit status 1 "
            "when nothing could be loaded or a file is missing."
        ),
    )
    p.add_argument("callbacks", nargs="+", metavar="CALLBACKS", help="callback logs, folders or glob patterns")
    p.add_argument("--results", default=None, help="campaign results CSV (first column 'row')")
    p.add_argument("--html", required=True, help="where to write the HTML report")
    p.add_argument("--title", default="Call results", help="report title")
    p.add_argument("--tz", default="UTC", help="time zone for hours of day (e.g. Europe/Amsterdam)")
    p.add_argument("--parquet", default=None, help="also export the loaded callbacks to this Parquet file")
    p.add_argument("--csv", default=None, help="also export the loaded callbacks to this CSV file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load, summarise, write the report and exports; return 0, or 1 when nothing could be loaded."""
    from ..callbacks.analysis import load_results
    from ..callbacks.load import load_callbacks, save_calls
    from ..callbacks.report import write_report
    from ..errors import CMVoiceError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the load report below says the same, once
            calls = load_callbacks(args.callbacks)
        results = load_results(args.results) if args.results else None
    except CMVoiceError as exc:
        print(f"cmvoice report: {exc}", file=sys.stderr)
        return 1
    report = calls.attrs["load_report"]
    for problem in report.problems():
        print(f"cmvoice report: {problem}", file=sys.stderr)
    if report.duplicates_removed:
        print(f"cmvoice report: {report.duplicates_removed} duplicate callback(s) removed", file=sys.stderr)
    n = len(calls)
    answered = int(calls["answered"].sum())
    counts = calls["outcome"].value_counts()
    detail = ", ".join(f"{int(counts[o])} {o}" for o in counts.index if o != "Finished" and counts[o])
    rate = f" ({answered / n:.1%})" if n else ""
    print(f"{n} callbacks: {answered} answered{rate}" + (f", {detail}" if detail else ""))
    if n == 0:
        print("cmvoice report: no callbacks could be loaded", file=sys.stderr)
        return 1
    try:
        out = write_report(calls, results=results, html_path=args.html, title=args.title, tz=args.tz)
        print(f"wrote {out}")
        for path in (args.parquet, args.csv):
            if path:
                print(f"wrote {save_calls(calls, path)}")
    except (CMVoiceError, OSError) as exc:
        print(f"cmvoice report: {exc}", file=sys.stderr)
        return 1
    return 0
