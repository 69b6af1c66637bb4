"""The ``cmvoice`` command line.

Every sub-command lives in :mod:`cmvoice_nb.commands` and is a thin wrapper over
the public Python API; this module only assembles them. Exit status: 0 success,
1 a file/row failed or is not compliant, 2 a usage error (argparse's convention).
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from . import __version__
from .commands import COMMAND_MODULES


def build_parser() -> argparse.ArgumentParser:
    """Return the full argument parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="cmvoice",
        description="CM Voice API Apps toolkit: audio, spelling sets, campaigns, callbacks.",
    )
    parser.add_argument("--version", action="version", version=f"cmvoice_nb {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__package__}.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``cmvoice`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head` & co.: stop quietly, like other Unix tools.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover - exercised through the console script
    sys.exit(main())
