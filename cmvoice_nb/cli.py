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

from ._version import __version__
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


class _FlagFormatter(logging.Formatter):
    """Log lines whose message names options (a :class:`~cmvoice_nb.messages.Text`) say them as flags."""

    def format(self, record: logging.LogRecord) -> str:
        from .messages import Text

        if isinstance(record.msg, Text) or (isinstance(record.args, tuple)
                                            and any(isinstance(a, Text) for a in record.args)):
            record = logging.makeLogRecord(record.__dict__)  # a copy: other handlers see the record as it was
            if isinstance(record.msg, Text):
                record.msg = record.msg.say("cli")
            if isinstance(record.args, tuple):
                record.args = tuple(a.say("cli") if isinstance(a, Text) else a for a in record.args)
        return super().format(record)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``cmvoice`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    level = logging.WARNING - 10 * min(args.verbose, 2)
    handler = logging.StreamHandler()
    handler.setFormatter(_FlagFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])  # (only where nothing configured logging before)
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
