"""What ``cmvoice send`` and ``cmvoice followup`` share: their sending options, the exit status,
signals, the plan line and the send itself.

* The options every sending command reads come from one table,
  :data:`cmvoice_nb.messages.OPTIONS` (:func:`add_sending_options`): a flag of ``send`` that
  applies to a wave is a flag of ``followup`` too, spelled and explained alike.
* The exit status follows the row status table (:func:`cmvoice_nb.campaign.vocabulary.exit_status`),
  explained in ``--help`` by :func:`exit_epilog`, generated from that table.
* SIGTERM and SIGHUP (SIGBREAK, Ctrl-Break, on Windows) stop a run exactly as Ctrl-C does
  (:func:`stop_signals`): installed here, by the command line only, never by the library.
"""
from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..campaign.vocabulary import (
    ATTENTION_STATUSES,
    EXIT_ACT,
    EXIT_CLASSES,
    EXIT_FINAL,
    EXIT_RETRY,
    EXIT_USAGE,
    FIX,
    statuses_of,
)
from ..messages import command_options, say
from ..spec import DEFAULT_BURST, DEFAULT_CONCURRENCY, DEFAULT_RATE
from ._signals import install, restore

__all__ = ["UsageError", "add_sending_options", "check_output", "exit_epilog", "stop_signals", "first_exit",
           "print_error", "preflight", "send_plan", "STOP_SIGNALS"]

#: The signals that stop a run like Ctrl-C, where the platform has them (SIGBREAK: Ctrl-Break on Windows).
STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK")


class UsageError(Exception):
    """A command-line mistake, or input that cannot be trusted, found before any call: exit status 2."""


def check_output(path: Any, flag: str) -> None:
    """Refuse, before any call, an output that is a device, a pipe, a socket or a folder (exit 2).

    The results are written last, under a temporary name renamed over the target: found only
    then, a run would have placed its calls and lost its results file.
    """
    from .._fsutil import NotARegularFile, check_target

    try:
        check_target(path)
    except NotARegularFile as exc:
        raise UsageError(f"{flag} {exc}") from None


def print_error(message: str, prog: str) -> None:
    print(f"{prog}: error: {message}", file=sys.stderr)


# ------------------------------------------------------------------------------ the options
def add_sending_options(parser: argparse.ArgumentParser, command: str) -> None:
    """Add the options of :data:`~cmvoice_nb.messages.OPTIONS` that *command* reads, each in its ``--help`` section."""
    groups: dict[str | None, Any] = {None: parser}
    for o in command_options(command):
        if o.group not in groups:
            groups[o.group] = parser.add_argument_group(o.group)
        groups[o.group].add_argument(o.cli, dest=o.key, help=o.help, **dict(o.arg))


def sending_options(args: argparse.Namespace) -> dict[str, Any]:
    """The :class:`~cmvoice_nb.campaign.SendOptions` keywords the parsed *args* stand for."""
    from ..campaign import RetryPolicy

    return {
        "rate": args.rate if args.rate is not None else DEFAULT_RATE,
        "burst": args.burst if args.burst is not None else DEFAULT_BURST,
        "concurrency": args.concurrency if args.concurrency is not None else DEFAULT_CONCURRENCY,
        "retry": RetryPolicy(max_attempts=max(1, args.http_attempts)),
        "dry_run": args.dry_run, "allow_repeat": args.allow_repeat,
        "resend_unknown": getattr(args, "resend_unknown", False),
        "resend_changed": getattr(args, "resend_changed", False),
        "calling_hours": args.calling_hours, "days": args.days, "holidays": args.holidays, "tz": args.tz,
        "public_holidays": args.public_holidays, "valid_until": args.valid_until,
        "valid_for": "auto" if args.valid_for is None else args.valid_for, "contacts": args.contacts,
        "max_contacts": args.max_contacts, "max_live_calls": args.max_live_calls,
        "callbacks": getattr(args, "callbacks", None),
        "wait": not args.no_wait, "prices": args.prices, "max_cost": args.max_cost,
        "allow_private_callback_url": args.allow_private_callback_url,
    }


# ------------------------------------------------------------------------------ the exit status
def first_exit(*codes: int) -> int:
    """The exit status that wins among *codes*: 2, then 75, then 1, then 0 (the order of :data:`EXIT_CLASSES`).

    Examples
    --------
    >>> first_exit(0, 1, 75), first_exit(1, 0), first_exit()
    (75, 1, 0)
    """
    for code, _meaning in EXIT_CLASSES:
        if code in codes:
            return code
    return EXIT_FINAL


def exit_epilog() -> str:
    """The exit statuses, the signals and the statuses that need the operator, as ``--help`` shows them.

    Generated from the status table (:data:`cmvoice_nb.spec.STATUS`), so ``--help`` cannot drift from it.
    """
    lines = ["exit status (the first that matches wins):"]
    for code, meaning in EXIT_CLASSES:
        rows = statuses_of(code) if code != EXIT_USAGE else ()
        text = meaning + (f"; rows {', '.join(rows)}" if rows else "")
        lines.append(textwrap.fill(text, 100, initial_indent=f"  {code:<3} ", subsequent_indent=" " * 6,
                                   break_on_hyphens=False))
    lines += [
        "  A loop that runs the same command while the exit status is 75 ends at 0 or 1.",
        "",
        "signals: SIGTERM and SIGHUP stop a run exactly as Ctrl-C does: requests in flight finish, the journal",
        "stays consistent, the summary and the results file are written, and the exit status follows the table",
        "(75 when only stopped rows remain). A second signal stops at once: requests still in flight end",
        "unknown. On Windows, where those signals cannot be caught, Ctrl-C and Ctrl-Break do the same.",
        "",
        "statuses that need you (or a later run), and what resolves them:",
    ]
    width = max(map(len, ATTENTION_STATUSES))
    lines += [textwrap.fill(say(FIX[name], "cli"), 100, initial_indent=f"  {name:<{width}}  ",
                            subsequent_indent=" " * (width + 4), break_on_hyphens=False)
              for name in ATTENTION_STATUSES]
    return "\n".join(lines).replace("%", "%%")


# ------------------------------------------------------------------------------ signals
class _Stopper:
    """The handler of :data:`STOP_SIGNALS`, in one of three modes.

    ``"raise"`` (before any call): raise :class:`KeyboardInterrupt` naming the signal, as Ctrl-C
    does. ``"count"`` (while a run sends): note it in :attr:`received`; the sending loop
    (:func:`~cmvoice_nb.campaign.send.run_until_done`) stops the run on the first and at once on
    the second, raising nothing in the middle of its bookkeeping. ``"ignore"``: the run ended and
    its results are written; the summary is being printed.
    """

    def __init__(self) -> None:
        self.mode = "raise"
        self.received: list[str] = []

    def __call__(self, signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        what = "interrupted (Ctrl-C)" if name == "SIGINT" else f"{name} received"
        if self.mode == "raise":
            raise KeyboardInterrupt(what)
        if self.mode == "count":
            self.received.append(what)


@contextlib.contextmanager
def stop_signals() -> Iterator[_Stopper]:
    """While the block runs, SIGTERM and SIGHUP (and Ctrl-Break on Windows) stop it as Ctrl-C does.

    Installed by the command line only (never on import, never by the library), and only in the
    main thread (a test calling ``main()`` from a worker gets none), through
    :func:`cmvoice_nb.commands._signals.install`. The previous handlers come back afterwards. See
    :class:`_Stopper` for what a signal does when.
    """
    stopper = _Stopper()
    previous = install(stopper, STOP_SIGNALS)
    try:
        yield stopper
    finally:
        restore(previous)


# ------------------------------------------------------------------------------ before the send
def preflight(plan: Any, args: argparse.Namespace, *, journal: str | Path, prog: str, full_estimate: bool) -> Any:
    """Everything checked and said before any call: the target, the counts, the estimate; returns the forecast.

    Raises :class:`UsageError` for a callback URL the real API cannot reach, a bad price table or
    budget, and an unusable journal; ``SystemExit``-free: a journal another run holds is
    :class:`~cmvoice_nb.errors.JournalBusy` (the caller exits 75).
    """
    from ..campaign import forecast
    from ..campaign.send import check_callback_urls
    from ..client import resolve_base_url
    from ..errors import CampaignError, ConfigurationError, JournalBusy, JournalError

    try:
        base_url = resolve_base_url(args.base_url)
        check_callback_urls(plan, base_url=base_url, allow_private_callback_url=args.allow_private_callback_url)
    except (CampaignError, ConfigurationError) as exc:
        raise UsageError(say(exc, "cli")) from None
    try:
        fc = forecast(plan, journal, allow_repeat=args.allow_repeat,
                      resend_unknown=getattr(args, "resend_unknown", False),
                      resend_changed=getattr(args, "resend_changed", False), prices=args.prices,
                      max_cost=args.max_cost, valid_until=args.valid_until,
                      valid_for="auto" if args.valid_for is None else args.valid_for, contacts=args.contacts,
                      max_contacts=args.max_contacts)
    except JournalBusy:
        raise
    except (JournalError, CampaignError) as exc:
        raise UsageError(say(exc, "cli")) from None
    print(f"plan: {fc.line()}", file=sys.stderr)
    if fc.budget_line():
        print(fc.budget_line(), file=sys.stderr)
    try:
        estimate = fc.estimate(args.prices)
    except CampaignError as exc:
        if args.prices is not None:
            text = say(exc, "cli")
            raise UsageError(text if text.startswith("prices") else f"--prices: {text}") from None
        print(f"no estimate: {say(exc, 'cli')}", file=sys.stderr)
        return fc
    if full_estimate:
        print(estimate.to_text())
    else:
        print(estimate.to_text().splitlines()[0], file=sys.stderr)
    return fc


# ------------------------------------------------------------------------------ the send
def send_plan(plan: Any, args: argparse.Namespace, stopper: Any, *, journal: str, out: Path, prog: str) -> int:
    """Send a planned campaign (or wave) the command line's way and return the exit status.

    The token comes from ``CM_PRODUCT_TOKEN`` only; the summary goes to stderr, the results to
    *out*; the exit status follows the status table (see :func:`exit_epilog`). Raises
    :class:`UsageError` for a missing token or bad pacing values.
    """
    from ..campaign import CampaignSender
    from ..campaign.send import run_until_done
    from ..errors import CampaignError, CMVoiceError, ConfigurationError, JournalBusy

    client = None
    if not args.dry_run:
        from ..client import VoiceClient

        try:
            client = VoiceClient(None, base_url=args.base_url)  # token: CM_PRODUCT_TOKEN only
        except ConfigurationError as exc:
            raise UsageError(say(exc, "cli")) from None
    try:
        try:
            sender = CampaignSender(plan, client, journal=journal,
                                    progress=not args.no_progress and sys.stderr.isatty(),
                                    results_path=out, front="cli", **sending_options(args))
        except CampaignError as exc:  # bad --rate/--burst/--concurrency/--max-cost
            raise UsageError(say(exc, "cli")) from None
        stopper.mode = "count"
        try:
            run_until_done(sender, interrupts=stopper.received)
        finally:
            stopper.mode = "ignore"  # the results are written: later signals wait for the summary
    finally:
        if client is not None:
            client.close()

    error = sender.error
    if error is not None and not sender.matched:
        # Refused before any call: the journal is in use (run again later) or unusable; no results written.
        print_error(say(error, "cli"), prog)
        return EXIT_RETRY if isinstance(error, JournalBusy) else EXIT_USAGE
    print(sender.summary(), file=sys.stderr)
    if args.dry_run and sender.wait_text:
        print(sender.wait_text, file=sys.stderr)
    if out.exists():
        print(f"results: {out}", file=sys.stderr)
    code = sender.exit_status
    if error is not None and sender.stop_reason is None:
        reason = say(error, "cli") if isinstance(error, CMVoiceError) else f"{type(error).__name__}: {error}"
        print(f"{prog}: stopped: {sender._redact(reason)}", file=sys.stderr)
    elif sender.abandoned:
        print(f"{prog}: stopped at once; rows whose request was in flight are unknown; run the same command again "
              "to send the rest", file=sys.stderr)
    elif sender.stopped_by_user:
        print(f"{prog}: stopped; run the same command again to send the rest", file=sys.stderr)
    print(f"exit status {code}: {_exit_words(code)}", file=sys.stderr)
    return code


def _exit_words(code: int) -> str:
    return {EXIT_RETRY: "run the same command again later", EXIT_ACT: "rows need you (see above)",
            EXIT_FINAL: "every row is final"}.get(code, "")
