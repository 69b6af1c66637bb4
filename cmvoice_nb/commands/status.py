"""``cmvoice status``: where a campaign stands, read from its journal, without sending anything.

Campaigns and waves in the journal, attempts per state, rows waiting for their calling hours
(and when their window opens), rows waiting past the budget, the last activity and the last
run's counts and exit status; with ``--callbacks``, the people reached per wave; with
``--prices`` too, what the answered calls cost. ``--json`` prints the same for scripts.

Exit status: 0 the status was printed; 2 no such journal, or unreadable callbacks or prices;
75 a send holds the journal right now (ask again when it ended).

Examples
--------
::

    $ cmvoice status --journal spring.sqlite --callbacks callbacks/ --prices prices.csv
"""
from __future__ import annotations

import argparse
import json

from ..messages import say

PROG = "cmvoice status"


def register(subparsers) -> None:
    """Add the ``status`` sub-command."""
    p = subparsers.add_parser(
        "status",
        help="where a campaign stands: rows per state and wave, waits, reach and cost, from its journal",
        description=("Read a campaign's journal (and optionally its callback logs and a price table) and say where "
                     "it stands, without sending anything: attempts per state and wave, rows waiting for calling "
                     "hours and when they open, rows past the budget, the last run and its exit status, people "
                     "reached per wave (--callbacks) and the cost so far (--callbacks with --prices)."),
        epilog="exit status: 0 printed; 2 no such journal, or unreadable callbacks or prices; 75 a send holds the "
               "journal now (ask again when it ended)",
    )
    p.add_argument("--journal", required=True, help="the campaign's SQLite journal (as given to cmvoice send)")
    p.add_argument("--callbacks", nargs="+", default=None, metavar="LOG",
                   help="callback logs (files, folders or globs): the people reached per wave")
    p.add_argument("--prices", default=None, metavar="FILE",
                   help="price table CSV country,price_per_minute[,setup]: with --callbacks, the cost so far")
    p.add_argument("--campaign", default=None, help="only this campaign of the journal")
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the status; return the exit status."""
    from ..campaign.status import campaign_status
    from ..errors import CMVoiceError, JournalBusy
    from ..spec import EXIT_FINAL, EXIT_RETRY, EXIT_USAGE
    from ._sending import print_error

    try:
        status = campaign_status(args.journal, callbacks=args.callbacks, prices=args.prices, campaign=args.campaign)
    except JournalBusy as exc:
        print_error(say(exc, "cli"), PROG)
        return EXIT_RETRY
    except (CMVoiceError, OSError) as exc:
        print_error(say(exc, "cli"), PROG)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(status.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(status.to_text())
    return EXIT_FINAL


__all__ = ["register", "run"]
