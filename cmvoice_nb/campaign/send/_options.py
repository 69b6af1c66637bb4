"""How a campaign is sent: :class:`SendOptions`, the :class:`RetryPolicy`, and :func:`classify_error`.

Examples
--------
>>> SendOptions(rate=20.0).retry.max_attempts
5
"""
from __future__ import annotations

import dataclasses
import math
import os
import random
import re
from collections.abc import Callable
from typing import Any

from ...errors import APIError, AuthenticationError, CampaignError, CMVoiceError, InstructionRejected, ValidationError
from ...messages import FRONTS, opt
from ...spec import DEFAULT_BURST, DEFAULT_CONCURRENCY, DEFAULT_HTTP_ATTEMPTS, DEFAULT_RATE

__all__ = ["SendOptions", "RetryPolicy", "classify_error", "callback_urls", "check_callback_urls"]


@dataclasses.dataclass(frozen=True)
class RetryPolicy:
    """How retry-safe failures (connection refused, 429, 503) are retried.

    Parameters
    ----------
    max_attempts
        Requests per row per run, the first included; then the row is ``failed``.
    backoff_s, max_backoff_s
        Wait before attempt *n+1* is ``backoff_s * 2**(n-1)`` (plus up to 10 % jitter),
        capped at ``max_backoff_s``; a longer ``Retry-After`` wins.
    slow_down_factor
        The pace is multiplied by this on every 429 or 503 (it recovers by 2 % of the
        target per success).

    Examples
    --------
    >>> RetryPolicy(backoff_s=0.5).delay_s(3, jitter=0.0)
    2.0
    >>> RetryPolicy().delay_s(1, retry_after=7.0, jitter=0.0)
    7.0
    """

    max_attempts: int = DEFAULT_HTTP_ATTEMPTS
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0
    slow_down_factor: float = 0.5

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")

    def delay_s(self, attempt: int, *, retry_after: float | None = None, jitter: float | None = None) -> float:
        """Seconds to wait after failed attempt number *attempt* (1-based)."""
        base = min(self.max_backoff_s, self.backoff_s * 2 ** max(0, attempt - 1))
        if jitter is None:
            jitter = random.uniform(0.0, 0.1)  # spreads workers that failed together
        delay = base * (1.0 + jitter)
        if retry_after is not None and math.isfinite(retry_after) and retry_after > 0:
            delay = max(delay, float(retry_after))
        return delay


def classify_error(exc: BaseException) -> tuple[str, bool]:
    """Map an exception from :meth:`VoiceClient.send` to ``(row state, retry?)``.

    The state is ``"failed"`` (nothing was placed), ``"rejected"``, ``"invalid"``,
    ``"unknown"`` (a call may exist) or ``"abort"`` (stop the whole run: a 401/403 refused
    token or a 404, a wrong base URL, would fail every row the same way). Retry safety is the
    error's own: :attr:`~cmvoice_nb.errors.CMVoiceError.retry_safe` (provably not processed:
    retried) and :attr:`~cmvoice_nb.errors.CMVoiceError.may_have_been_placed`.

    Examples
    --------
    >>> from cmvoice_nb.errors import ReadTimeout, ConnectError, ServerError, InstructionRejected
    >>> classify_error(ConnectError("refused"))
    ('failed', True)
    >>> classify_error(ServerError(503, "busy"))
    ('failed', True)
    >>> classify_error(ReadTimeout("slow"))
    ('unknown', False)
    >>> classify_error(ServerError(500, "boom"))
    ('unknown', False)
    >>> classify_error(InstructionRejected(400, "bad callee"))
    ('rejected', False)
    """
    if isinstance(exc, AuthenticationError) or (isinstance(exc, APIError) and exc.status == 404):
        return "abort", False
    if not isinstance(exc, CMVoiceError):
        # Anything else (a bug, an interrupt) happened somewhere around the request:
        # assume the call may have been placed.
        return "unknown", False
    if exc.retry_safe:
        return "failed", True
    if exc.may_have_been_placed:
        return "unknown", False
    if isinstance(exc, InstructionRejected):
        return "rejected", False
    if isinstance(exc, ValidationError):
        return "invalid", False
    if isinstance(exc, APIError) and 400 <= exc.status < 500:
        return "rejected", False  # another 4xx (413 ...): the provider refused the payload, nothing was placed
    # An error that says neither (an unexpected answer): a call may exist.
    return "unknown", False


def _whole(value: Any, key: str) -> int:
    """*value* (``4``, ``4.0``, ``"4"``) as a whole number of 1 or more, or a :class:`CampaignError` naming *key*."""
    whole = 0
    if isinstance(value, float):
        whole = int(value) if value.is_integer() else 0
    elif not isinstance(value, bool):
        try:
            whole = int(str(value).strip())
        except ValueError:
            pass
    if whole < 1:
        raise CampaignError(f"{opt(key)} must be a whole number of 1 or more, got {value!r}")
    return whole


@dataclasses.dataclass(frozen=True)
class SendOptions:
    """How a campaign is sent: everything :class:`CampaignSender` needs besides the plan and client.

    Parameters
    ----------
    rate, burst, concurrency
        Calls per second (a hard ceiling per 1-s window), calls that may start back to back,
        requests in flight. Defaults 5/s, 5, 4 (:data:`cmvoice_nb.spec.DEFAULT_RATE` ...: the
        provider documents no limit).
    dry_run
        Validate and match with the journal, send nothing, write nothing; no pacing, so a
        large dry run takes seconds.
    resend_unknown
        Send rows whose earlier outcome was ``unknown`` again (may call someone twice).
    resend_changed
        Send rows again whose content changed since they were queued (calls them again).
    allow_repeat
        Call a callee even though this journal (or an earlier row of the list) already has a
        call to them; without it such rows are ``already-called``.
    retry
        A :class:`RetryPolicy` (default ``RetryPolicy()``).
    front
        Whose words the results, the summary and the logs use for options: ``"python"`` (keyword
        arguments, default), ``"cli"`` (flags) or ``"widget"`` (the Campaign app's labels).
    progress
        Show a ``tqdm.auto`` progress bar.
    results_path
        Also write the results there when the run ends (even when it ends in an error): CSV, or
        an ``.xlsx`` workbook whose text cells keep ``+`` and leading zeros in a spreadsheet.
    calling_hours, days, holidays
        Call each row only inside this window of the callee's local time (``"09:00-20:00"``,
        ``days="mon-fri"``, holidays as in :func:`~cmvoice_nb.campaign.ops.hours.read_holidays`).
        ``None`` (default): no calling hours. See :mod:`cmvoice_nb.campaign.ops.hours`.
    public_holidays
        Nobody is called on a public holiday of their own number's country (or of the row's
        subdivision, ``columns={"subdivision": ...}``), from the ``holidays`` package; combines
        with *holidays*. Alone it means whole days (``00:00-24:00``) on *days*.
    tz
        Overrides the zones taken from the numbers: one IANA zone, a mapping number → zone, or
        one zone per row.
    wait
        True (default): rows outside their window wait and are sent when it opens. False: they
        end ``deferred`` and a later run sends them.
    now, sleep
        The clock (an aware datetime to start from, or a callable returning one; default the
        real time) and the sleep (seconds → None) the calling-hours wait uses: tests pass a
        :class:`~cmvoice_nb.campaign.ops.schedule.ManualClock` so nobody waits for real.
    prices
        A price table (DataFrame or CSV path, see
        :func:`~cmvoice_nb.campaign.ops.estimate.read_prices`): what *max_cost* counts calls in.
    max_cost
        The campaign's budget, every wave together (None: none). Every call placed counts at its
        upper-bound cost (full talk time, every replay; :func:`~cmvoice_nb.campaign.ops.estimate.upper_bound_costs`),
        recorded in the journal with its ``sending`` mark; a call that would take the total past
        the budget is not placed and its row ends ``budget``. Running again with a higher budget
        sends those rows.
    allow_private_callback_url
        Send to the real API even though a callback URL's host is loopback, private or
        link-local (reachable through a tunnel or VPN); without it such a run is refused before
        any call (:func:`check_callback_urls`).
    valid_until, valid_for
        A validity window (see :mod:`cmvoice_nb.campaign.ops.validity`): a time (aware datetime or
        ISO text with its offset), and/or a duration (``"30m"``) from when each row is first
        registered in its wave. A row not placed by then ends ``expired`` and is never sent later.
        ``valid_for`` defaults to ``"auto"``: 10 minutes for an OTP campaign, none otherwise;
        ``valid_for=None`` turns it off.
    contacts, max_contacts
        The contact ledger shared by campaigns (a SQLite path, see
        :class:`~cmvoice_nb.campaign.contacts.ContactLedger`): every placed call is recorded per
        person. ``max_contacts="1/7d"``: a call that would make more than 1 call to a person in 7
        days (every campaign and wave of the ledger) is not placed; the row ends ``over-contacted``.
    max_live_calls, callbacks
        At most this many calls alive at once (apart from *concurrency*, which counts HTTP
        requests): a call counts from its placement until its callback says it ended (read from
        *callbacks*: a receiver's log path or folder, or a running
        :class:`~cmvoice_nb.callbacks.CallbackReceiver`) or until its longest possible duration
        has passed (:mod:`cmvoice_nb.timing`).

    Examples
    --------
    >>> SendOptions(rate=20.0, dry_run=True).concurrency
    4
    >>> SendOptions(calling_hours="09:00-20:00").hours
    CallingHours('09:00-20:00', days='mon-fri', holidays=none)
    """

    rate: float = DEFAULT_RATE
    burst: int = DEFAULT_BURST
    concurrency: int = DEFAULT_CONCURRENCY
    dry_run: bool = False
    resend_unknown: bool = False
    resend_changed: bool = False
    allow_repeat: bool = False
    retry: RetryPolicy | None = None
    progress: bool = True
    results_path: str | os.PathLike | None = None
    front: str = "python"
    calling_hours: Any = None
    days: Any = "mon-fri"
    holidays: Any = None
    public_holidays: bool = False
    tz: Any = None
    wait: bool = True
    now: Any = None
    sleep: Callable[[float], Any] | None = None
    prices: Any = None
    max_cost: float | None = None
    allow_private_callback_url: bool = False
    valid_until: Any = None
    valid_for: Any = "auto"
    contacts: str | os.PathLike | None = None
    max_contacts: Any = None
    max_live_calls: int | None = None
    callbacks: Any = None
    #: ``(calls, period)`` of *max_contacts* (None: no cap), parsed.
    max_contacts_rule: Any = dataclasses.field(default=None, init=False, repr=False, compare=False)
    #: The parsed calling hours (None: none), built from the fields above.
    hours: Any = dataclasses.field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.front not in FRONTS:
            raise CampaignError(f"front must be one of {', '.join(FRONTS)}, got {self.front!r}")
        # Pacing is checked here, where the option has its name in every front (the limiter says only "rate").
        rate = self.rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) or rate <= 0:
            raise CampaignError(f"{opt('rate')} must be a positive number of calls per second, got {rate!r}")
        concurrency = _whole(self.concurrency, "concurrency")
        _whole(self.burst, "burst")
        for name in ("dry_run", "resend_unknown", "resend_changed", "allow_repeat"):
            object.__setattr__(self, name, bool(getattr(self, name)))
        object.__setattr__(self, "concurrency", concurrency)
        if self.retry is None:
            object.__setattr__(self, "retry", RetryPolicy())
        from ..ops.schedule import calling_hours_from

        object.__setattr__(self, "wait", bool(self.wait))
        object.__setattr__(self, "public_holidays", bool(self.public_holidays))
        object.__setattr__(self, "hours", calling_hours_from(self.calling_hours, days=self.days,
                                                             holidays=self.holidays,
                                                             public_holidays=self.public_holidays))
        if self.hours is None and self.tz is not None:
            raise CampaignError(f"{opt('tz')} needs {opt('calling_hours')} (the zone only matters for calling hours)")
        if self.max_cost is not None:
            try:
                max_cost = float(self.max_cost)
            except (TypeError, ValueError):
                raise CampaignError(f"{opt('max_cost')} must be an amount, got {self.max_cost!r}") from None
            if not math.isfinite(max_cost) or max_cost < 0 or isinstance(self.max_cost, bool):
                raise CampaignError(f"{opt('max_cost')} must be an amount of 0 or more, got {self.max_cost!r}")
            if self.prices is None:
                raise CampaignError(f"{opt('max_cost')} needs {opt('prices')}: calls are counted at their cost")
            object.__setattr__(self, "max_cost", max_cost)
        object.__setattr__(self, "allow_private_callback_url", bool(self.allow_private_callback_url))
        from ..ops.validity import parse_validity

        parse_validity(valid_until=self.valid_until, valid_for=self.valid_for)  # checked now, before any call
        if self.max_contacts is not None:
            from ..contacts import parse_max_contacts

            if self.contacts is None:
                raise CampaignError(f"{opt('max_contacts')} needs {opt('contacts')}: the ledger it counts calls in")
            object.__setattr__(self, "max_contacts_rule", parse_max_contacts(self.max_contacts))
        if self.max_live_calls is not None:
            try:
                live = int(self.max_live_calls)
            except (TypeError, ValueError):
                live = 0
            if live < 1 or isinstance(self.max_live_calls, bool):
                raise CampaignError(f"{opt('max_live_calls')} must be a whole number of 1 or more, got "
                                    f"{self.max_live_calls!r}")
            object.__setattr__(self, "max_live_calls", live)


_CALLBACK_URL = re.compile(rb'"callback-url":\s*("(?:[^"\\]|\\.)*")')


def callback_urls(plan: Any) -> list[str]:
    """The distinct callback URLs of the rows *plan* may send, in order of first use.

    Examples
    --------
    >>> import pandas as pd
    >>> from cmvoice_nb.campaign import plan_campaign
    >>> plan = plan_campaign(pd.DataFrame({"callee": ["+31612345610", "+31612345611"]}), app="notification",
    ...                      name="c", defaults={"caller": "+31201234567", "prompt": "Hi", "prompt-type": "TTS",
    ...                                          "callback-url": "https://cb.example.org/x"})
    >>> callback_urls(plan)
    ['https://cb.example.org/x']
    """
    import json

    found: dict[str, None] = {}
    for r in plan.rows:
        if not r.sendable or r.payload is None:
            continue
        match = _CALLBACK_URL.search(r.payload)
        if match is not None:
            found.setdefault(json.loads(match.group(1)), None)
    return list(found)


def check_callback_urls(plan: Any, *, base_url: str, allow_private_callback_url: bool = False) -> None:
    """Refuse, before any call, a send to the real API whose callbacks could never arrive.

    Every callback URL of *plan*'s rows is checked with
    :func:`~cmvoice_nb.client.callback_url_problem` (only when *base_url* is the real API: a
    host that is not loopback); ``allow_private_callback_url=True`` says it is reachable
    through a tunnel or VPN.

    Raises
    ------
    CampaignError
        Naming the URL, why the provider cannot reach it, and the option that says it can.
    """
    from ...client import callback_url_problem

    if allow_private_callback_url:
        return
    for url in callback_urls(plan):
        problem = callback_url_problem(url, base_url=base_url)
        if problem:
            raise CampaignError(f"{problem}: every callback of this campaign would be lost. Give a public "
                                f"{opt('callback_url')} (a reverse proxy or tunnel to the receiver), or "
                                f"{opt('allow_private_callback_url')} if it is reachable through a tunnel or VPN; "
                                "nothing was sent")

