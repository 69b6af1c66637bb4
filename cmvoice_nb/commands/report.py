"""``cmvoice report``: load callback logs and write an HTML report (and exports).

With ``--journal`` (the campaign's journal: its truth, every row it ever sent, every wave) the
report is that campaign's: the funnel and reach per wave are printed on the console, and the
summaries cover only the callbacks of that campaign's calls (matched on call ids, see
:func:`cmvoice_nb.campaign.funnel`); callbacks of other campaigns are counted and set aside, and
the report says how many. ``--prices`` adds the cost (actual talk time x prices, beside the
estimate); ``--not-reached FILE`` writes the people no call reached, with your kept columns.
``--results`` (one run's results CSV) still works, for that run's rows only.

Examples
--------
::

    $ cmvoice report callbacks/ --results results.csv --html report.html --parquet calls.parquet
    1190 callbacks: 1050 answered (88.2%), 90 Cancelled, 30 Failed, 20 Rejected
    333 callback(s) of other campaigns (or matching no row of results.csv) set aside: the summary covers this campaign's 1190
    campaign funnel (results.csv):
    stage               rows  of rows  of sent  of previous
    rows                1250   100.0%
    sent                1240    99.2%   100.0%        99.2%
    ...
    wrote report.html
"""  # noqa: E501  # the output exactly as the command prints it
from __future__ import annotations

import argparse
import sys
import warnings

from .. import spec


def register(subparsers) -> None:
    """Add the ``report`` sub-command."""
    p = subparsers.add_parser(
        "report",
        help="summarise callback logs into an HTML report",
        description=(
            "Load callback logs (JSONL files, folders, globs, JSON arrays, CSV/Parquet exports), print a "
            "summary and write a self-contained HTML report. With --results, the report is that campaign's: "
            "its results CSV is joined with the callbacks on call ids (instruction ids for rows without one), "
            "the funnel is printed, and the summaries cover only that campaign's calls; callbacks of other "
            "campaigns are counted and set aside. Exit status 1 when nothing could be loaded or a file is missing; "
            "2 for contradicting flags."
        ),
    )
    p.add_argument("callbacks", nargs="+", metavar="CALLBACKS", help="callback logs, folders or glob patterns")
    p.add_argument("--journal", default=None,
                   help="the campaign's journal (as given to cmvoice send): the campaign's truth, every row it "
                        "ever sent in every wave; print its funnel and reach and limit the report to its calls")
    p.add_argument("--campaign", default=None, help="with --journal: which campaign (when it holds several)")
    p.add_argument("--results", default=None,
                   help="instead of --journal: one run's results CSV (from cmvoice send -o)")
    p.add_argument("--prices", default=None, metavar="FILE",
                   help="price table CSV country,price_per_minute[,setup]: a cost section, the answered calls' "
                        "actual talk time x prices beside the estimate")
    p.add_argument("--not-reached", default=None, metavar="FILE",
                   help="with --journal: write the people no call reached (CSV, or .xlsx), with your --keep "
                        "columns, for a colleague or another channel")
    p.add_argument("--ab", action="store_true",
                   help="with --journal: print the campaign's A/B test (each variant's calls, answered, completed, "
                        "DTMF valid and talk time, with 95%% intervals, and whether the differences are significant)")
    p.add_argument("--all-callbacks", action="store_true",
                   help="with --results: keep other campaigns' callbacks in the summaries "
                        "(the funnel never counts them)")
    p.add_argument("--html", required=True, help="where to write the HTML report")
    p.add_argument("--title", default="Call results", help="report title")
    p.add_argument("--tz", default="UTC", help="time zone for hours of day (e.g. Europe/Amsterdam)")
    p.add_argument("--parquet", default=None, help="also export the loaded callbacks to this Parquet file")
    p.add_argument("--csv", default=None, help="also export the loaded callbacks to this CSV file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load, summarise, write the report and exports; return 0, or 1 when nothing could be loaded."""
    from ..callbacks import load_callbacks, save_calls, summarize
    from ..campaign import funnel, load_results, write_report
    from ..campaign.report import campaign_results, people_reached
    from ..errors import CMVoiceError
    from ..messages import say

    if args.journal and args.results:
        print("cmvoice report: error: give --journal or --results, not both (the journal holds every wave)",
              file=sys.stderr)
        return 2
    if args.ab and not args.journal:
        print("cmvoice report: error: --ab needs --journal (it keeps each person's variant)", file=sys.stderr)
        return 2
    if args.not_reached and not (args.journal or args.results):
        print("cmvoice report: error: --not-reached needs --journal", file=sys.stderr)
        return 2
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the load report below says the same, once
            calls = load_callbacks(args.callbacks)
        if args.journal:
            results = campaign_results(args.journal, args.campaign)
        else:
            results = load_results(args.results) if args.results else None
    except CMVoiceError as exc:
        print(f"cmvoice report: {say(exc, 'cli')}", file=sys.stderr)
        return 1
    source = args.journal or args.results
    report = calls.attrs["load_report"]
    for problem in report.problems():
        print(f"cmvoice report: {problem}", file=sys.stderr)
    if report.duplicates_removed:
        print(f"cmvoice report: {report.duplicates_removed} duplicate callback(s) removed", file=sys.stderr)
    if len(calls) == 0:
        print("0 callbacks")
        print("cmvoice report: no callbacks could be loaded", file=sys.stderr)
        return 1
    f = funnel(results, calls) if results is not None else None
    shown = f.calls if f is not None and not args.all_callbacks else calls
    summary = summarize(shown)
    overall = summary.iloc[0] if len(summary) else None
    n = int(overall["calls"]) if overall is not None else 0
    answered = int(overall["answered"]) if overall is not None else 0
    others = [] if overall is None else [(int(overall[o]), o) for o in spec.OUTCOMES
                                         if o != "Finished" and o in overall.index and int(overall[o])]
    detail = ", ".join(f"{count} {o}" for count, o in sorted(others, key=lambda item: -item[0]))
    rate = f" ({answered / n:.1%} of calls)" if n else ""
    print(f"{n} callbacks: {answered} answered{rate}" + (f", {detail}" if detail else ""))
    if f is not None:
        assert f.calls is not None  # funnel() keeps the callbacks it was given
        aside = len(f.unmatched_callbacks)
        if aside:
            covers = ("the summary covers all of them; the funnel counts this campaign's "
                      f"{len(f.calls)} only" if args.all_callbacks else f"the summary covers this campaign's {n}")
            print(f"{aside} callback(s) of other campaigns (or matching no row of {source}) set aside: {covers}")
        if len(f.calls) == 0:
            print(f"none of the {len(calls)} loaded callbacks belongs to this campaign's calls (yet)")
        print(f"campaign funnel ({source}):")
        print(f.to_text())
        reached, people = people_reached(f)
        if people:
            print(f"people: {reached} of {people} reached ({reached / people:.1%} of the people called, every wave)")
    if args.ab:
        from ..campaign import ab_report

        try:
            print(ab_report(calls, args.journal, campaign=args.campaign).to_text())
        except CMVoiceError as exc:
            print(f"cmvoice report: {say(exc, 'cli')}", file=sys.stderr)
            return 1
    try:
        campaign = {"journal": args.journal, "campaign": args.campaign} if args.journal else {"results": results}
        out = write_report(calls, **campaign, html_path=args.html, title=args.title, tz=args.tz,
                           campaign_only=not args.all_callbacks, prices=args.prices,
                           not_reached_path=args.not_reached)
        if args.not_reached:
            print(f"wrote {args.not_reached} (the people no call reached)")
        print(f"wrote {out}")
        for path in (args.parquet, args.csv):
            if path:
                print(f"wrote {save_calls(calls, path)}")
    except (CMVoiceError, OSError) as exc:
        print(f"cmvoice report: {say(exc, 'cli')}", file=sys.stderr)
        return 1
    return 0


__all__ = ["register", "run"]
