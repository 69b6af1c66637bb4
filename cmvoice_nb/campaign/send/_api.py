"""The blocking verbs: :func:`send_campaign` (plan if needed, send, return the results) and :func:`run_until_done`."""
from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from ...errors import CampaignError
from ...spec import DEFAULT_BURST, DEFAULT_CONCURRENCY, DEFAULT_RATE
from ..journal import Journal
from ..plan import CampaignPlan
from ._options import RetryPolicy, SendOptions
from ._sender import CampaignSender

__all__ = ["send_campaign", "run_until_done"]

log = logging.getLogger(__package__)


def run_until_done(sender: CampaignSender, *, interrupts: Sequence[str] | None = None) -> None:
    """Start *sender* and wait for it in the calling thread; Ctrl-C stops it cleanly.

    The first Ctrl-C (a :class:`KeyboardInterrupt`) asks the run to stop: requests in flight
    finish and are recorded, nothing new starts. A second one stops at once
    (:meth:`CampaignSender.abandon`): the rows whose request is still in flight become
    ``unknown``. Either way the journal is consistent and the results are built (and written
    to ``results_path``) before this returns.

    *interrupts* is a list another party appends to, one entry (what happened, in words) per
    stop request: the command line's signal handlers do, so SIGTERM and SIGHUP stop a run
    exactly as Ctrl-C does, without raising anything in the middle of the bookkeeping.
    """
    sender.start()
    raised: list[str] = []
    handled = 0
    while not sender.done:
        try:
            sender._finished.wait(0.1)
        except KeyboardInterrupt as exc:
            raised.append(_said(exc))
        received = raised + list(interrupts or ())
        while handled < min(len(received), 2) and not sender.done:
            what = received[handled]
            handled += 1
            if handled == 1:
                log.warning("campaign %r: %s; finishing the requests in flight (again to stop at once)",
                            sender.plan.name, what)
                sender.stop()
            else:
                log.warning("campaign %r: %s again; stopping at once: requests in flight become unknown",
                            sender.plan.name, what)
                sender.abandon()


def _said(interrupt: BaseException) -> str:
    """What interrupted the run, in words: ``interrupted`` (Ctrl-C), or the signal the command line turned into one."""
    return str(interrupt) if str(interrupt) else "interrupted"


def send_campaign(
    plan_or_df: Any,
    client: Any,
    *,
    journal: str | os.PathLike | Journal | None,
    rate: float = DEFAULT_RATE,
    burst: int = DEFAULT_BURST,
    concurrency: int = DEFAULT_CONCURRENCY,
    dry_run: bool = False,
    resend_unknown: bool = False,
    resend_changed: bool = False,
    allow_repeat: bool = False,
    retry: RetryPolicy | None = None,
    progress: bool = True,
    results_path: str | os.PathLike | None = None,
    calling_hours: Any = None,
    days: Any = "mon-fri",
    holidays: Any = None,
    tz: Any = None,
    wait: bool = True,
    now: Any = None,
    sleep: Callable[[float], Any] | None = None,
    prices: Any = None,
    max_cost: float | None = None,
    allow_private_callback_url: bool = False,
    public_holidays: bool = False,
    valid_until: Any = None,
    valid_for: Any = "auto",
    contacts: str | os.PathLike | None = None,
    max_contacts: Any = None,
    max_live_calls: int | None = None,
    callbacks: Any = None,
    **plan_options: Any,
):
    """Send a campaign and return its results; blocking, Ctrl-C stops it cleanly.

    Parameters
    ----------
    plan_or_df
        A :class:`CampaignPlan`, or a DataFrame planned first with ``plan_options``
        (``app=``, ``name=``, ``columns=``, ``defaults=``, ``region=`` … as in :func:`plan_campaign`).
    client
        A :class:`cmvoice_nb.VoiceClient` (``Simulator.client()`` for a rehearsal).
    journal
        SQLite journal path: re-running with the same journal resumes and never resends a
        ``queued`` or ``unknown`` row, nor calls anyone the journal already called.
    rate, burst, concurrency, dry_run, resend_unknown, resend_changed, allow_repeat, retry, progress, results_path
        See :class:`SendOptions`.
    calling_hours, days, holidays, public_holidays, tz, wait, now, sleep
        Calling hours in the callee's local time (``calling_hours="09:00-20:00", days="mon-fri"``):
        rows outside their window wait for it (``wait=False``: ``deferred``, sent by a later run);
        ``public_holidays=True`` skips each callee's public holidays. See :class:`SendOptions`.
    valid_until, valid_for
        A validity window: a row not placed by then ends ``expired``, never sent later (an OTP
        campaign: ``valid_for="10m"`` unless given; None turns it off). See :class:`SendOptions`.
    contacts, max_contacts
        The contact ledger shared by campaigns and its cap (``max_contacts="1/7d"``): a call past
        it ends ``over-contacted``. See :class:`SendOptions`.
    max_live_calls, callbacks
        At most this many calls alive at once, each counted until its callback (read from
        *callbacks*) or its longest possible duration. See :class:`SendOptions`.
    prices, max_cost
        A budget for the campaign, every wave together (see :class:`SendOptions`): calls are
        counted at their upper-bound cost from the price table; rows past it end ``budget``.
    allow_private_callback_url
        Send to the real API even though a callback URL is on a loopback, private or link-local
        address (see :func:`~cmvoice_nb.campaign.send.check_callback_urls`).
    plan_options
        For a DataFrame: :func:`plan_campaign`'s options, ``suppress=`` (a do-not-call list),
        ``allow_unreadable_suppress=`` and ``allowed_countries=`` included. ``suppress=`` (and
        ``allow_unreadable_suppress=``) and ``allowed_countries=`` also work with a plan (a
        follow-up wave; see :func:`~cmvoice_nb.campaign.ops.suppress.apply_suppression` and
        :func:`~cmvoice_nb.campaign.ops.suppress.apply_allowed_countries`).

    Returns
    -------
    pandas.DataFrame
        Aligned on the input index: ``instruction_id``, ``callee``, ``status``, ``http_status``,
        ``call_ids``, ``error``, ``attempts``, ``sent_at``, ``input_position``, ``campaign_key``.
        When some row needs attention, the summary (see :func:`summarize_results`) is logged
        as a warning.

    Raises
    ------
    AuthenticationError
        The token was refused: the run stopped, unsent rows stay pending. ``exc.results`` holds the results.
    APIError
        HTTP 404: the base URL or path is wrong (the message's note names the URL); the run stopped.
    ConnectError
        Every attempt for a row was refused: the provider is unreachable; the run stopped.

    Notes
    -----
    Ctrl-C (or a kernel interrupt) stops the run: requests in flight finish and are recorded,
    the rest stay pending (``skipped``), and the partial results are returned. A second Ctrl-C
    stops at once: the rows whose request is still in flight are ``unknown``.
    """
    suppress = plan_options.pop("suppress", None) if isinstance(plan_or_df, CampaignPlan) else None
    if isinstance(plan_or_df, CampaignPlan):
        allow_unreadable = plan_options.pop("allow_unreadable_suppress", False)
        allowed = plan_options.pop("allowed_countries", None)
        if allowed is not None:
            from ..ops.suppress import apply_allowed_countries

            plan_or_df = apply_allowed_countries(plan_or_df, allowed)
        if suppress is not None:
            from ..ops.suppress import apply_suppression

            plan_or_df = apply_suppression(plan_or_df, suppress, allow_unreadable_suppress=allow_unreadable)
        if plan_options:
            raise CampaignError(
                f"planning options {sorted(plan_options)} only apply to a DataFrame; this is already a plan"
            )
        plan = plan_or_df
    else:
        from ..plan import plan_campaign

        missing = [k for k in ("app", "name") if k not in plan_options]
        if missing:
            raise CampaignError(
                f"send_campaign plans a DataFrame first and needs {' and '.join(k + '=' for k in missing)} "
                "(and optionally columns=, defaults=, region=, as in plan_campaign)"
            )
        plan = plan_campaign(plan_or_df, **plan_options)
    options = SendOptions(rate=rate, burst=burst, concurrency=concurrency, dry_run=dry_run,
                          resend_unknown=resend_unknown, resend_changed=resend_changed, allow_repeat=allow_repeat,
                          retry=retry, progress=progress, results_path=results_path, calling_hours=calling_hours,
                          days=days, holidays=holidays, tz=tz, wait=wait, now=now, sleep=sleep, prices=prices,
                          max_cost=max_cost, allow_private_callback_url=allow_private_callback_url,
                          public_holidays=public_holidays, valid_until=valid_until, valid_for=valid_for,
                          contacts=contacts, max_contacts=max_contacts, max_live_calls=max_live_calls,
                          callbacks=callbacks)
    sender = CampaignSender(plan, client, journal=journal, options=options)
    run_until_done(sender)
    if sender.error is None and sender.needs_attention:
        log.warning("campaign %r:\n%s", sender.plan.name, sender.summary())
    return sender.wait()
