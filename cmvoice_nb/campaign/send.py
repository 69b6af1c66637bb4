"""Send a planned campaign: paced, bounded, journaled, never calling anyone twice by accident.

The provider has no idempotency key, so the sender retries only what provably was not
processed and writes every row's state to a SQLite journal *before* each request:

* 200 with call ids → ``queued``.
* 400 ``InstructionRejected`` → ``rejected`` (fix the row; a re-run sends it again).
* 429 ``RateLimited`` → retried after ``Retry-After``; the whole pace is halved.
* 503 or connection refused → retried with exponential backoff, a bounded number of times;
  then ``failed`` (nothing was placed; a re-run sends it again).
* read timeout, dropped connection, any other 5xx → ``unknown``: the call MAY exist. Never
  resent unless ``resend_unknown=True``.
* Systemic errors stop the whole run at once, with their reason, instead of failing every
  row: 401/403 (the token), 404 (a wrong base URL or path: the URL called is named) and a
  connection refused on every attempt. Rows not attempted stay pending (``skipped``).

Before anything is sent, each row is matched with the journal (see :mod:`.plan` for the
ids). The journal guards **people, not positions**: a row whose callee already has a call
``sending``, ``queued`` or ``unknown`` in this journal — under any id, in any campaign, or
earlier in the same list — is not sent and is reported ``already-called`` with the earlier
instruction id and call id (``allow_repeat=True`` calls them again, for a list that means
it). A row already sent whose content changed since is withheld and reported ``changed``
(``resend_changed=True`` sends it again, deliberately).

Result statuses: ``queued`` (call accepted), ``dry-run`` (would be sent), ``suppressed``
(on the do-not-call list: never sent, final), ``skipped`` (not sent: the run ended or stopped
first — run again; or left out by ``drop_duplicates``), and the ones that need attention:
``invalid``, ``rejected``, ``failed``, ``unknown``, ``changed``, ``already-called``,
``deferred`` (outside its calling hours and not waited for: a later run sends it).
:func:`summarize_results` tells the operator what each needs.

Calling hours (``calling_hours=``, see :class:`SendOptions`): a row is sent only while its
window holds in the callee's zone, checked again just before its request leaves; rows outside
wait (the clock and the sleep are injectable) or, with ``wait=False``, end ``deferred``.

Defaults are conservative — 5 calls/s, burst 5, 4 requests in flight — because the
provider documents no rate limit: a real campaign is limited by people's phones, not by
HTTP, and a slow start is cheap while a blocked account is not. Raise them for the
simulator or once the provider has confirmed your limits.

Examples
--------
>>> import pathlib, tempfile, pandas as pd, cmvoice_nb as cm
>>> df = pd.DataFrame({"callee": ["+31612345610", "+31612345611"], "name": ["Ann", "Bob"]})
>>> journal = pathlib.Path(tempfile.mkdtemp()) / "spring.sqlite"
>>> with cm.Simulator() as sim:
...     res = send_campaign(df, sim.client(), journal=journal, app="notification", name="spring",
...                         defaults={"caller": "+31201234567", "prompt": "Hi {name}", "prompt-type": "TTS"},
...                         rate=50, progress=False)
>>> res["status"].tolist()
['queued', 'queued']
"""
from __future__ import annotations

import dataclasses
import html
import logging
import operator
import math
import os
import queue
import random
import threading
import time
from pathlib import Path
from typing import Any, Callable

from ..errors import (
    APIError,
    AuthenticationError,
    CampaignError,
    CMVoiceError,
    ConnectError,
    InstructionRejected,
    JournalError,
    ValidationError,
    redact,
)
from ..messages import FRONTS, MARKER, opt, say
from ..spec import DEFAULT_BURST, DEFAULT_CONCURRENCY, DEFAULT_RATE
from ..wire import callee_numbers, same_instruction
from .journal import Journal, JournalRow, LiveCall, RowStatus
from .pacing import TokenBucket
from .plan import CampaignPlan
from .vocabulary import ATTENTION_STATUSES, RESULT_STATUSES
from .results import (
    RESULT_COLUMNS,
    needs_attention,
    results_frame,
    results_to_csv,
    results_to_excel,
    summarize_results,
    write_results,
)

__all__ = [
    "CampaignSender",
    "SendOptions",
    "RetryPolicy",
    "send_campaign",
    "classify_error",
    "results_to_csv",
    "results_to_excel",
    "write_results",
    "summarize_results",
    "RESULT_COLUMNS",
    "RESULT_STATUSES",
    "ATTENTION_STATUSES",
    "DEFAULT_RATE",
    "DEFAULT_BURST",
    "DEFAULT_CONCURRENCY",
]

log = logging.getLogger(__name__)
_instruction_id = operator.attrgetter("instruction_id")

#: The "at most ``rate`` calls in any second" ceiling counts each call for 1.1 s, not 1 s:
#: requests leave (and arrive) a little later than their token was granted, by a varying
#: amount (thread scheduling, connection reuse), and 100 ms of slack keeps every 1-second
#: window the provider sees at or below ``rate``. Cost: a binding rate averages ~rate/1.1.
CEILING_SLACK_S = 0.1


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

    max_attempts: int = 5
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
        return "failed", False  # another 4xx (413 ...) was refused before anything was placed
    # An error that says neither (an unexpected answer): a call may exist.
    return "unknown", False


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
        ``days="mon-fri"``, holidays as in :func:`~cmvoice_nb.campaign.hours.read_holidays`).
        ``None`` (default): no calling hours. See :mod:`cmvoice_nb.campaign.hours`.
    tz
        Overrides the zones taken from the numbers: one IANA zone, a mapping number → zone, or
        one zone per row.
    wait
        True (default): rows outside their window wait and are sent when it opens. False: they
        end ``deferred`` and a later run sends them.
    now, sleep
        The clock (an aware datetime to start from, or a callable returning one; default the
        real time) and the sleep (seconds → None) the calling-hours wait uses: tests pass a
        :class:`~cmvoice_nb.campaign.schedule.ManualClock` so nobody waits for real.

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
    tz: Any = None
    wait: bool = True
    now: Any = None
    sleep: Callable[[float], Any] | None = None
    #: The parsed calling hours (None: none), built from the fields above.
    hours: Any = dataclasses.field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.front not in FRONTS:
            raise CampaignError(f"front must be one of {', '.join(FRONTS)}, got {self.front!r}")
        try:
            concurrency = int(self.concurrency)
        except (TypeError, ValueError):
            raise CampaignError(f"concurrency must be a whole number, got {self.concurrency!r}") from None
        if concurrency < 1:
            raise CampaignError(f"concurrency must be at least 1, got {self.concurrency!r}")
        for name in ("dry_run", "resend_unknown", "resend_changed", "allow_repeat"):
            object.__setattr__(self, name, bool(getattr(self, name)))
        object.__setattr__(self, "concurrency", concurrency)
        if self.retry is None:
            object.__setattr__(self, "retry", RetryPolicy())
        from .ops.schedule import calling_hours_from

        object.__setattr__(self, "wait", bool(self.wait))
        object.__setattr__(self, "hours", calling_hours_from(self.calling_hours, days=self.days,
                                                             holidays=self.holidays))
        if self.hours is None and self.tz is not None:
            raise CampaignError(f"{opt('tz')} needs {opt('calling_hours')} (the zone only matters for calling hours)")


class CampaignSender:
    """Send one :class:`CampaignPlan`: start it in the background, watch, stop, collect results.

    Parameters
    ----------
    plan
        From :func:`plan_campaign`.
    client
        A :class:`cmvoice_nb.VoiceClient`: each row's payload, built and validated once by the
        plan, goes out as those exact bytes through ``client.send_payload``. Anything with only
        ``send(instruction)`` works too (it is given the row's instruction).
    journal
        Path of the SQLite journal, or an open :class:`Journal`. Required unless ``dry_run``.
    options
        A :class:`SendOptions`; or give its fields as keywords (``rate=20, dry_run=True``).
    clock
        The pacing's clock (tests pass a fake one).

    Examples
    --------
    >>> import pathlib, tempfile, pandas as pd, cmvoice_nb as cm
    >>> plan = cm.plan_campaign(pd.DataFrame({"callee": ["+31612345610", "+31612345611"]}), app="notification",
    ...                         name="demo", defaults={"caller": "+31201234567", "prompt": "Hi", "prompt-type": "TTS"})
    >>> with cm.Simulator() as sim:
    ...     job = CampaignSender(plan, sim.client(), journal=pathlib.Path(tempfile.mkdtemp()) / "j.sqlite",
    ...                          rate=50, progress=False).start()     # returns at once; stop() ends it early
    ...     results = job.wait()
    >>> {k: job.progress[k] for k in ("total", "sent", "queued")}
    {'total': 2, 'sent': 2, 'queued': 2}
    """

    def __init__(
        self,
        plan: CampaignPlan,
        client: Any,
        *,
        journal: str | os.PathLike | Journal | None,
        options: SendOptions | None = None,
        clock: Callable[[], float] = time.monotonic,
        **option_values: Any,
    ) -> None:
        if not isinstance(plan, CampaignPlan):
            raise CampaignError(f"CampaignSender needs a CampaignPlan (see plan_campaign), got {type(plan).__name__}")
        if options is None:
            unknown = sorted(set(option_values) - {f.name for f in dataclasses.fields(SendOptions)})
            if unknown:
                raise CampaignError(f"CampaignSender got unknown option(s) {', '.join(unknown)}; "
                                    f"options: {', '.join(f.name for f in dataclasses.fields(SendOptions))}")
            options = SendOptions(**option_values)
        elif option_values:
            raise CampaignError("give the options either as options=SendOptions(...) or as keywords, not both")
        if journal is None and not options.dry_run:
            raise CampaignError(
                "a send needs journal= (a file path): it records every row before its request, so a re-run "
                "or a crash never calls anyone twice"
            )
        if not options.dry_run and not callable(getattr(client, "send_payload", None)) \
                and not callable(getattr(client, "send", None)):
            raise CampaignError(
                f"client must be a VoiceClient (or have send(instruction)), got {type(client).__name__}; "
                "use Simulator().client() to rehearse"
            )
        self.plan = plan
        self.client = client
        self.journal = journal
        self.options = options
        self.dry_run = options.dry_run
        self.resend_unknown = options.resend_unknown
        self.resend_changed = options.resend_changed
        self.allow_repeat = options.allow_repeat
        self.front = options.front
        self.retry = options.retry
        self.concurrency = options.concurrency
        self.show_progress = options.progress
        self.results_path = options.results_path
        try:
            self.bucket = TokenBucket(options.rate, burst=options.burst, clock=clock, slack_s=CEILING_SLACK_S)
        except ValueError as exc:
            raise CampaignError(str(exc)) from None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._records: dict[int, dict[str, Any]] = {}
        # "pending" is internal (not sent yet); it becomes "skipped" in the results if the run ends first.
        self._counts: dict[str, int] = {s: 0 for s in ("pending",) + RESULT_STATUSES}
        self._to_send = 0
        self._done_sending = 0
        self._in_flight = 0
        self._thread: threading.Thread | None = None
        self._finished = threading.Event()
        self._results = None
        self.error: BaseException | None = None
        #: Why the run stopped before sending everything (a systemic error), or None.
        self.stop_reason: str | None = None
        self.stopped_by_user = False
        #: Rows an earlier run on this journal had already queued (not sent again).
        self.already_done = 0
        self.campaign_key = plan.campaign_key
        self._held: list[tuple[Any, Any]] = []
        #: True once every row was matched with the journal (the results mean something).
        self.matched = False
        self._bar = None
        self._init_hours()

    # -------------------------------------------------------------- control
    def start(self) -> "CampaignSender":
        """Start sending in a background thread and return immediately (returns self)."""
        if self._thread is not None:
            raise CampaignError("this sender was already started; create a new one to send again")
        self._thread = threading.Thread(target=self._run_safely, name=f"cmvoice-send-{self.plan.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ask the run to end: requests in flight finish and are recorded, nothing new starts.

        Safe to call from any thread (a widget's Stop button). Unsent rows stay pending in the
        journal and show as ``skipped``; running the campaign again sends them.
        """
        if not self._stop.is_set():
            self.stopped_by_user = self.error is None
            self._stop.set()

    def wait(self, timeout: float | None = None):
        """Wait for the run to end and return the results DataFrame.

        Raises :class:`TimeoutError` if *timeout* passes first, and re-raises a fatal error
        (``AuthenticationError``, provider unreachable) after the results were recorded; the
        exception's ``.results`` holds them.
        """
        if self._thread is None:
            raise CampaignError("call start() (or run()) first")
        if not self._finished.wait(timeout):
            raise TimeoutError(f"campaign {self.plan.name!r} still sending after {timeout} s")
        if self.error is not None:
            raise self.error
        return self._results

    def run(self):
        """Send in the calling thread and return the results (like ``start().wait()``)."""
        return self.start().wait()

    @property
    def running(self) -> bool:
        """True while the background run is going."""
        return self._thread is not None and not self._finished.is_set()

    @property
    def done(self) -> bool:
        """True once the run ended (finished, stopped or failed)."""
        return self._finished.is_set()

    @property
    def progress(self) -> dict[str, int]:
        """Counts so far: ``total`` rows, ``to_send``, ``sent`` (finished this run), ``in_flight``, per status."""
        with self._lock:
            out = {"total": len(self.plan.rows), "to_send": self._to_send, "sent": self._done_sending,
                   "in_flight": self._in_flight, "already_done": self.already_done, "waiting": self._waiting}
            out.update(self._counts)
        return out

    @property
    def results(self):
        """The results DataFrame: final after the run, a snapshot while it runs."""
        if self._results is not None:
            return self._results
        return self._build_results()

    # ------------------------------------------------------------- internals
    def _set(self, position: int, **record: Any) -> None:
        with self._lock:
            old = self._records.get(position)
            if old is not None and old.get("status") in self._counts:
                self._counts[old["status"]] -= 1
            merged = dict(old or {})
            merged.update(record)
            self._records[position] = merged
            if merged.get("status") in self._counts:
                self._counts[merged["status"]] += 1

    def _redact(self, text: str | None) -> str | None:
        if not text:
            return text
        for attr in ("_token", "token", "product_token"):
            secret = getattr(self.client, attr, None)
            if callable(getattr(secret, "reveal", None)):
                secret = secret.reveal()  # VoiceClient keeps its token in a _Secret
            if isinstance(secret, str) and secret:
                text = redact(text, secret)
        return text

    def _storable(self, payload: bytes | None) -> bytes | None:
        """*payload* as the journal may keep it: None when it holds the product token (typed into a field).

        The journal never stores the token; such a row is sent, but a follow-up wave reports it
        ``no payload`` instead of sending it again.
        """
        if payload is None:
            return None
        text = payload.decode("utf-8", "replace")
        return payload if self._redact(text) == text else None

    def _run_safely(self) -> None:
        journal: Journal | None = None
        own_journal = False
        try:
            if isinstance(self.journal, Journal):
                journal = self.journal
            elif self.journal is not None and (not self.dry_run or Path(self.journal).exists()):
                journal = Journal(self.journal)
                own_journal = True
            self._run(journal)
        except BaseException as exc:  # noqa: BLE001 - recorded and re-raised by wait()
            if self.error is None:
                self.error = exc
            log.error("campaign %r: %s", self.plan.name, exc)
        finally:
            try:
                self._results = self._build_results()
                # A run refused before it matched the rows with the journal (journal in use,
                # another app's campaign) has no results: keep an earlier results file as it is.
                if self.results_path is not None and self.matched:
                    write_results(self._results, self.results_path)
            except BaseException as exc:  # noqa: BLE001
                if self.error is None:
                    self.error = exc
            if self.error is not None:
                try:
                    self.error.results = self._results  # type: ignore[attr-defined]
                except AttributeError:
                    pass
            if journal is not None:
                journal.unlock()
                if own_journal:
                    journal.close()
            if self._bar is not None:
                self._bar.close()
            self._finished.set()

    def _run(self, journal: Journal | None) -> None:
        if journal is not None and not self.dry_run:
            journal.lock()
            journal.ensure_campaign(self.plan.name, app=self.plan.app)
            journal.recover(self.plan.name)
        # The ids that go out carry the journal's campaign key: a plan made without the
        # journal (provisional key) is re-keyed here; ids from an instruction-id column stay.
        key = journal.campaign_key if journal is not None else self.plan.campaign_key
        if self.plan.campaign_key != key:
            self.plan = self.plan.rekey(key)
        self.campaign_key = key
        plan = self.plan
        # What a re-run needs of the journal, and no more: one compact status per record, and
        # the calls that may exist to the numbers of the rows this run may still send.
        existing: dict[str, RowStatus] = journal.statuses(plan.name) if journal is not None else {}
        called = self._live_calls(journal, existing) if journal is not None and not self.allow_repeat else {}
        claimed: dict[str, Any] = {}  # number -> the row of this list that calls it in this run

        to_send = []
        for r in plan.rows:
            base = {"instruction_id": r.instruction_id, "callee": r.callee or None, "input_position": r.position,
                    "campaign_key": key, "wave": r.wave}
            if not r.valid:
                text = "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in r.problems)
                self._set(r.position, **base, status="invalid", error=self._redact(text or "invalid"))
                continue
            if r.dropped:
                self._set(r.position, **base, status="skipped",
                          error=f"duplicate callee: same as {self.plan.label_name(r.duplicate_of)} "
                                f"({opt('drop_duplicates')})")
                continue
            jr = existing.get(r.instruction_id)
            h = r.payload_hash
            numbers = r.callee_list()
            state = jr.state if jr else None
            if state == "sending":  # only seen in a dry run over a crashed journal
                state = "unknown"
            earlier_record = {"http_status": jr.http_status, "call_ids": jr.call_ids, "attempts": jr.attempts,
                              "sent_at": jr.sent_at} if jr else {}
            # A new callback URL is not a change (identity hash); a record hashed before schema 4
            # matches through its old whole-wire hash.
            changed = bool(jr and not same_instruction(jr.payload_hash, r.payload, h))
            if state == "unknown" and not self.resend_unknown:
                note = "; the row also changed since" if changed else ""
                # Not "done": reported (with what resolves it) every run until the user decides.
                self._set(r.position, **base, **earlier_record, status="unknown", error=f"{jr.error or 'outcome unknown'}{note}")
                continue
            if state == "queued" and not (changed and self.resend_changed):
                if changed:
                    self._set(r.position, **base, **earlier_record, status="changed",
                              error=f"the row changed since it was sent (call {jr.call_ids or '?'}); not sent again "
                                    f"({opt('resend_changed')} sends it)")
                else:
                    self._set(r.position, **base, **earlier_record, status="queued", error=jr.error)
                    self.already_done += 1
                continue
            if self._suppressed(r, jr, base, journal):  # a row already called keeps its outcome above
                continue
            if not self.allow_repeat:
                earlier = next((e for n in numbers for e in called.get(n, ())
                                if (e.campaign, e.instruction_id) != (plan.name, r.instruction_id)
                                and not _ended_before(plan.name, r, e)), None)
                if earlier is not None:
                    where = "" if earlier.campaign == plan.name else f" of campaign {earlier.campaign!r}"
                    self._set(r.position, **base, status="already-called", call_ids=earlier.call_ids,
                              error=f"{', '.join(numbers)} already called as {earlier.instruction_id}{where} "
                                    f"({earlier.state}, call {earlier.call_ids or '?'}); not called again")
                    continue
                first = next((claimed[n] for n in numbers if n in claimed), None)
                if first is not None:
                    # Decided when the run ends, from what happened to the first row.
                    self._held.append((r, first))
                    self._set(r.position, **base, status="pending",
                              error=f"not sent: same callee as {plan.row_name(first.position)} ({first.instruction_id})")
                    continue
            for n in numbers:
                claimed.setdefault(n, r)
            self._set(r.position, **base, status="pending", error="not sent: the run ended first",
                      attempts=jr.attempts if jr else 0, sent_at=jr.sent_at if jr else None,
                      http_status=jr.http_status if jr else None)
            to_send.append((r, jr))

        with self._lock:
            self._to_send = len(to_send)
        self.matched = True
        if self.already_done:
            log.info("campaign %r: %d row(s) already done by an earlier run on this journal", plan.name,
                     self.already_done)
        if self.dry_run:
            # A dry run validates and matches; it never waits for the pace (nothing is sent).
            for r, _jr in to_send:
                self._set(r.position, status="dry-run", error=self._dry_run_wait(r))
            with self._lock:
                self._done_sending = len(to_send)
            self._resolve_held()
            return

        self._flush_holds(journal)
        if journal is not None:
            # New rows get their facts (label, callee, payload hash) here, once; rows the journal
            # already holds keep theirs until a request with new content leaves (mark_sending).
            # The payload is stored when the row is sent (mark_sending): a follow-up wave only
            # resends what was sent, and a million-row registration writes a third less.
            # In id order: the journal writes a first registration in chunks, each index filled at its end.
            new = sorted((r for r, jr in to_send if jr is None), key=_instruction_id)
            journal.register(plan.name, ((r.instruction_id, str(r.label), r.callee, r.payload_hash, None,
                                          r.wave, r.base_id or r.instruction_id) for r in new))
            del new
            self._store_kept(journal)
        if self.show_progress and to_send:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=len(to_send), desc=f"sending {plan.name}", unit="call")

        if self._windows is not None:
            self._send_in_hours(to_send, journal)
        else:
            self._dispatch(to_send, journal)
        self._resolve_held()
        s = self.progress
        log.info("campaign %r: %s", plan.name, ", ".join(f"{k}={s[k]}" for k in RESULT_STATUSES if s[k]))

    def _live_calls(self, journal: Journal, existing: dict[str, RowStatus]) -> dict[str, list[LiveCall]]:
        """The journal's calls that may exist, to the numbers of rows this run may still send."""
        live = ("queued", "unknown", "sending")
        resend = self.resend_unknown or self.resend_changed
        numbers: set[str] = set()
        for r in self.plan.rows:
            if not r.valid or r.dropped:
                continue
            st = existing.get(r.instruction_id)
            if st is None or resend or st.state not in live:
                # Read from the row's callee cell (the instruction's numbers, ";"-joined): no
                # instruction is built for it here.
                numbers.update(callee_numbers(r.callee))
        return journal.live_callees(numbers)

    def _dispatch(self, to_send: list, journal: Journal | None) -> None:
        """Send *to_send* with the worker pool and return when every row is done (or the run stopped)."""
        work: queue.SimpleQueue = queue.SimpleQueue()
        for item in to_send:
            work.put(item)
        workers = [
            threading.Thread(target=self._worker, args=(work, journal), name=f"cmvoice-send-{i}", daemon=True)
            for i in range(min(self.concurrency, max(1, len(to_send))))
        ]
        for t in workers:
            t.start()
        for t in workers:
            t.join()

    # ------------------------------------------------- calling hours, do-not-call
    def _init_hours(self) -> None:
        from .ops.schedule import RowWindows, make_clock

        self._waiting = 0
        self._wait_rows: dict[int, Any] = {}
        self._closes: dict[int, Any] = {}
        self._fell_out: list = []
        self._holds: dict[str, list] = {"suppressed": [], "pending": []}
        self._now, self._sleep = make_clock(self.options.now, self.options.sleep, self._stop)
        hours = self.options.hours
        self._windows = None if hours is None else RowWindows(hours, self.plan.rows, tz=self.options.tz)

    @property
    def wait_text(self) -> str:
        """How many rows wait for their calling hours and until when (``""`` when none does).

        During a dry run: how many would wait. See :func:`~cmvoice_nb.campaign.hours.describe_waits`.
        """
        import pandas as pd

        from .ops.hours import describe_waits

        with self._lock:
            statuses = list(self._wait_rows.values())
        if not statuses:
            return ""
        frame = pd.DataFrame({"inside": [False] * len(statuses),
                              "opens_at": pd.to_datetime([st.opens_at for st in statuses], utc=True)})
        text = describe_waits(frame)
        if self.dry_run:
            text = text.replace(" row waits ", " row would wait ", 1).replace(" rows wait ", " rows would wait ", 1)
        return text

    def _suppressed(self, r: Any, jr: RowStatus | None, base: dict, journal: Journal | None) -> bool:
        """Report a row on the do-not-call list ``suppressed`` (True), or release one no longer listed."""
        listed = "suppress" in self.plan.options  # this run checked the rows against a list
        if r.suppressed:
            reason = r.suppressed
        elif jr is not None and jr.state == "suppressed" and not listed:
            # A forgotten --suppress on a re-run must not call anyone the list had held back.
            reason = (f"{jr.error or 'on the do-not-call list'} (by an earlier run; give the current "
                      f"{opt('suppress')} list to check again)")
        else:
            if jr is not None and jr.state == "suppressed":
                self._holds["pending"].append((r.instruction_id, str(r.label), r.callee or None, r.payload_hash,
                                               "no longer on the do-not-call list"))
            return False
        self._set(r.position, **base, status="suppressed", error=reason)
        self._holds["suppressed"].append((r.instruction_id, str(r.label), r.callee or None, r.payload_hash, reason))
        return True

    def _store_kept(self, journal: Journal) -> None:
        """Store the operator's kept columns of every row the journal holds for this campaign (``keep=``)."""
        kept = self.plan.kept
        if kept is None or self.dry_run:
            return
        columns = [str(c) for c in kept.columns]
        journal.keep(self.plan.name, (
            (r.base_id or r.instruction_id, dict(zip(columns, values)))
            for r, values in zip(self.plan.rows, kept.itertuples(index=False, name=None)) if r.valid))

    def _flush_holds(self, journal: Journal | None) -> None:
        if journal is None or self.dry_run:
            return
        for state in ("suppressed", "pending"):
            if self._holds[state]:
                journal.hold(self.plan.name, self._holds[state], state)
                self._holds[state] = []

    def _dry_run_wait(self, r: Any) -> str | None:
        if self._windows is None:
            return None
        st = self._windows.status(r.position, self._now())
        if st.inside:
            return None
        with self._lock:
            self._wait_rows[r.position] = st
        return f"{'would wait' if self.options.wait and st.opens_at is not None else 'would be deferred'}: {st.reason}"

    def _send_in_hours(self, to_send: list, journal: Journal | None) -> None:
        """Send each row only inside its calling window; the others wait (or are deferred), then go."""
        waiting = list(to_send)
        noted: dict[int, Any] = {}
        last: dict[int, Any] = {}
        while waiting and not self._stop.is_set():
            now = self._now()
            ready, later, never = [], [], []
            for item in waiting:
                st = self._windows.status(item[0].position, now)
                last[item[0].position] = st
                if st.inside:
                    self._closes[item[0].position] = st.closes_at
                    ready.append(item)
                else:
                    (later if st.opens_at is not None else never).append((item, st))
            if never:  # no known zone: waiting would never end
                self._defer(never, journal, now)
            if later and not self.options.wait:
                self._defer(later, journal, now)
                later = []
            self._note_waits(later, journal, now, noted)
            if ready:
                with self._lock:
                    self._fell_out = []
                self._dispatch(ready, journal)
                with self._lock:
                    waiting = [item for item, _st in later] + self._fell_out
                continue
            if not later:
                break
            self._sleep_until(min(st.opens_at for _item, st in later))
            waiting = [item for item, _st in later]
        if waiting and self._stop.is_set():
            left = [(item, last[item[0].position]) for item in waiting
                    if self._records.get(item[0].position, {}).get("status") == "pending"
                    and item[0].position in self._wait_rows]
            self._defer(left, journal, self._now(), note="the run stopped while it waited: ")
        with self._lock:
            self._waiting = 0
            self._wait_rows = {}

    def _sleep_until(self, wake: Any) -> None:
        from .ops.schedule import SLEEP_CHUNK_S

        while not self._stop.is_set():
            remaining = (wake - self._now()).total_seconds()
            if remaining <= 0:
                return
            self._sleep(min(remaining, SLEEP_CHUNK_S))

    def _note_waits(self, later: list, journal: Journal | None, now: Any, noted: dict) -> None:
        """Show and journal the rows that wait (each wait recorded once, with its reason and opening)."""
        with self._lock:
            self._wait_rows = {item[0].position: st for item, st in later}
            self._waiting = len(later)
        if not later:
            return
        fresh = [((r, jr), st) for (r, jr), st in later if noted.get(r.position) != st.opens_at]
        for (r, _jr), st in later:
            self._set(r.position, status="pending", error=f"waiting: {st.reason}")
        if not fresh:
            return
        for (r, _jr), st in fresh:
            noted[r.position] = st.opens_at
        if journal is not None:
            journal.record_waits(self.plan.name, [(r.instruction_id, st.reason, st.opens_at) for (r, _jr), st in fresh],
                                 at=now)
            journal.hold(self.plan.name, [(r.instruction_id, str(r.label), r.callee or None, r.payload_hash,
                                           f"waiting: {st.reason}") for (r, _jr), st in fresh], "pending")
        text = self.wait_text
        log.warning("campaign %r: %s", self.plan.name, text)
        if self._bar is not None:
            self._bar.set_postfix_str(text[:80])

    def _defer(self, items: list, journal: Journal | None, now: Any, *, note: str = "") -> None:
        """Rows not sent in this run because of their calling hours: ``deferred``, a later run sends them."""
        if not items:
            return
        for (r, _jr), st in items:
            self._set(r.position, status="deferred", error=f"{note}{st.reason}")
            with self._lock:
                self._wait_rows.pop(r.position, None)
        if journal is not None:
            journal.record_waits(self.plan.name, [(r.instruction_id, f"{note}{st.reason}", st.opens_at)
                                                  for (r, _jr), st in items], at=now)
            journal.hold(self.plan.name, [(r.instruction_id, str(r.label), r.callee or None, r.payload_hash,
                                           f"{note}{st.reason}") for (r, _jr), st in items], "deferred")
        log.info("campaign %r: %d row(s) deferred (calling hours)", self.plan.name, len(items))

    def _still_inside(self, row: Any, earlier: Any) -> bool:
        """True when *row* may go now; False (and back to waiting) when its window closed before its turn."""
        if self._windows is None:
            return True
        closes = self._closes.get(row.position)
        if closes is None or self._now() < closes:
            return True
        with self._lock:
            self._fell_out.append((row, earlier))
        self._set(row.position, status="pending", error="waiting: its calling window closed before its turn")
        return False

    def _resolve_held(self) -> None:
        """Settle rows held back because an earlier row of the list calls the same person."""
        for r, first in self._held:
            with self._lock:
                rec = dict(self._records.get(first.position, {}))
            if rec.get("status") in ("queued", "unknown", "dry-run"):
                verb = "would be called" if rec.get("status") == "dry-run" else "called"
                self._set(r.position, status="already-called", call_ids=rec.get("call_ids"),
                          error=f"same callee as {self.plan.row_name(first.position)} ({first.instruction_id}), {verb} "
                                f"in this run; "
                                f"not called twice ({opt('allow_repeat')} calls both)")
            else:
                self._set(r.position, status="pending",
                          error=f"not sent: same callee as {self.plan.row_name(first.position)} ({first.instruction_id}), which "
                                f"ended {rec.get('status', 'unsent')}; run again to send that one")

    def _worker(self, work: queue.SimpleQueue, journal: Journal | None) -> None:
        while not self._stop.is_set():
            try:
                row, earlier = work.get_nowait()
            except queue.Empty:
                return
            try:
                self._send_row(row, earlier, journal)
            except BaseException as exc:  # noqa: BLE001 - a journal failure ends the run
                if self.error is None:
                    self.error = exc
                self._stop.set()
                return
            finally:
                with self._lock:
                    self._done_sending += 1
                if self._bar is not None:
                    self._bar.update(1)

    def _send_row(self, row: Any, earlier: RowStatus | None, journal: Journal) -> None:
        """Send one row's frozen payload, with retries; every attempt is journaled before it leaves."""
        name = self.plan.name
        iid = row.instruction_id
        # A row new to the journal was registered with its hash and callee: nothing to rewrite.
        # Every row's payload is stored as it leaves (the bytes a follow-up wave sends again).
        changes = {} if earlier is None else {"payload_hash": row.payload_hash, "callee": row.callee or None}
        changes["payload"] = self._storable(row.payload)
        send_payload = getattr(self.client, "send_payload", None)
        for attempt in range(1, self.retry.max_attempts + 1):
            if not self.bucket.acquire(self._stop):
                return  # stopped while waiting: the row stays pending ("skipped")
            if not self._still_inside(row, earlier):
                return  # its calling window closed before its turn: it waits again
            try:
                jr = journal.mark_sending(name, iid, **changes,
                                          resend_unknown=self.resend_unknown, resend_queued=self.resend_changed,
                                          allow_repeat=self.allow_repeat, ended=row.ended)
            except JournalError as exc:
                earlier = getattr(exc, "earlier", None)
                if earlier is None:
                    raise
                # The journal's own guard (same transaction as the mark): never call twice.
                self._set(row.position, status="already-called", call_ids=earlier.call_ids,
                          error=f"already called as {earlier.instruction_id} ({earlier.state}, call "
                                f"{earlier.call_ids or '?'}); not called again")
                return
            self._set(row.position, attempts=jr.attempts, sent_at=jr.sent_at)
            with self._lock:
                self._in_flight += 1
            try:
                if callable(send_payload):  # the bytes the plan built and validated, as they are
                    result = send_payload(self.plan.app, row.payload, instruction_id=iid)
                else:
                    result = self.client.send(row.instruction)
            except BaseException as exc:  # noqa: BLE001 - classified below
                error = exc
                result = None
            else:
                error = None
            finally:
                with self._lock:
                    self._in_flight -= 1

            if error is None:
                self._record_success(row, result, journal)
                return

            state, retry = classify_error(error)
            status = getattr(error, "status", None)
            text = self._redact(f"{type(error).__name__}: {error}")
            if state == "abort":
                # Nothing was placed (a refused token or a wrong URL comes before any call), and
                # every other row would fail the same way: stop now; unsent rows stay pending.
                journal.mark_done(name, iid, "pending", http_status=status, error=text)
                self._set(row.position, status="skipped", http_status=status, error=text)
                self._abort(error, self._systemic_reason(error))
                return
            if not isinstance(error, Exception):  # KeyboardInterrupt/SystemExit in a worker
                journal.mark_done(name, iid, "unknown", error=text)
                self._set(row.position, status="unknown", error=text)
                raise error
            if retry and attempt < self.retry.max_attempts:
                retry_after = getattr(error, "retry_after", None)
                if getattr(error, "status", None) in (429, 503):  # the provider asks us to slow down
                    new_rate = self.bucket.slow_down(self.retry.slow_down_factor)
                    log.warning("campaign %r: %s; pace reduced to %.3g calls/s", name, say(text, self.front),
                                new_rate)
                if retry_after:
                    self.bucket.pause(float(retry_after))
                journal.mark_done(name, iid, "pending", http_status=status, error=text)
                self._set(row.position, status="pending", http_status=status, error=text)
                if self._stop.wait(self.retry.delay_s(attempt, retry_after=retry_after)):
                    return
                continue
            if retry:
                text = f"gave up after {attempt} attempts; last: {text}"
            if state == "invalid":
                journal.mark_done(name, iid, "failed", http_status=status, error=text)
            else:
                journal.mark_done(name, iid, state, http_status=status, error=text)
            self._set(row.position, status=state, http_status=status, error=text)
            if state == "unknown":
                log.warning("campaign %r %s: %s — the call may have been placed; marked unknown", name,
                            self.plan.row_name(row.position), say(text, self.front))
            if retry and isinstance(error, ConnectError):
                # Every attempt was refused: the provider is unreachable; stop instead of burning
                # through every row. Unsent rows stay pending.
                self._abort(error, self._systemic_reason(error, attempts=attempt))
            return

    def _url(self) -> str:
        url_for = getattr(self.client, "url_for", None)
        try:
            return str(url_for(self.plan.app)) if callable(url_for) else "the provider"
        except Exception:  # noqa: BLE001 - only used to word a message
            return "the provider"

    def _systemic_reason(self, error: BaseException, *, attempts: int | None = None) -> str:
        """Why *error* stops the whole run (options as markers: said in the sender's front's words)."""
        status = getattr(error, "status", None)
        if isinstance(error, AuthenticationError):
            return (f"the provider refused the product token (HTTP {status}); check {opt('token')}. "
                    "Nothing more was sent")
        if isinstance(error, APIError) and status == 404:
            return (f"HTTP 404 from {self._url()}: the base URL or path is wrong; check {opt('base_url')}. "
                    "Nothing more was sent")
        if isinstance(error, ConnectError):
            return (f"could not connect to {self._url()} ({attempts} attempts refused): is the base URL right "
                    f"({opt('base_url')}) and the service up? Nothing more was sent")
        return self._redact(str(error)) or type(error).__name__

    def _abort(self, error: BaseException, reason: str) -> None:
        reason = say(reason, self.front)
        with self._lock:
            first = self.error is None
            if first:
                self.error = error
                self.stop_reason = reason
        if first:
            log.error("campaign %r stopped: %s", self.plan.name, reason)
            if hasattr(error, "add_note"):  # Python 3.11+: the traceback shows the reason too
                error.add_note(f"cmvoice_nb: {reason}")
            else:
                try:
                    error.stop_reason = reason  # type: ignore[attr-defined]
                except AttributeError:
                    pass
        self._stop.set()

    def _record_success(self, row: Any, result: Any, journal: Journal) -> None:
        name = self.plan.name
        status = getattr(result, "status", 200)
        entries = list(getattr(result, "results", None) or [])
        ok = [e for e in entries if getattr(e, "success", False)]
        bad = [e for e in entries if not getattr(e, "success", False)]
        call_ids = ";".join(str(getattr(e, "call_id", "")) for e in ok if getattr(e, "call_id", None)) or None
        bad_text = "; ".join(f"{getattr(e, 'callee', '?')}: {getattr(e, 'error', None) or 'not dialled'}" for e in bad)
        bad_text = self._redact(bad_text) or None
        if ok:
            state, error = "queued", bad_text
        elif bad:
            state, error = "rejected", bad_text
        else:
            state, error = "unknown", f"HTTP {status} without any call-queued entry: the call may have been placed"
        journal.mark_done(name, row.instruction_id, state, http_status=status, call_ids=call_ids, error=error)
        self._set(row.position, status=state, http_status=status, call_ids=call_ids, error=error)
        if state == "queued":
            self.bucket.recover()

    def _build_results(self):
        # The records are shared, not copied (a million-row run would hold them twice): _set
        # replaces a row's dict and never changes one in place; only a pending row is copied to
        # be reported as skipped.
        empty: dict = {}
        with self._lock:
            records = [self._records.get(r.position, empty) for r in self.plan.rows]
        for i, rec in enumerate(records):
            if rec.get("status") == "pending":
                rec = records[i] = dict(rec, status="skipped")
                if self.stop_reason and rec.get("error") == "not sent: the run ended first":
                    rec["error"] = f"not sent: the run stopped ({self.stop_reason})"
        frame = results_frame(records, index=self.plan.index, campaign_key=self.campaign_key, kept=self.plan.kept)
        # Messages name options as markers; the results say them in the sender's front's words.
        errors = frame["error"]
        marked = errors.str.contains(MARKER, regex=False).fillna(False).to_numpy(dtype=bool)
        if marked.any():
            frame.loc[marked, "error"] = [say(text, self.front) for text in errors[marked]]
        return frame

    # --------------------------------------------------------------- report
    @property
    def needs_attention(self) -> bool:
        """True when some row needs the operator (invalid, failed, unknown, changed, ...) or the run stopped."""
        return self.error is not None or needs_attention(self.results, dropped=[r.dropped for r in self.plan.rows])

    def summary(self, *, examples: int = 3) -> str:
        """The end-of-run summary (see :func:`summarize_results`) in the words of the sender's front."""
        return summarize_results(self.results, already_done=self.already_done,
                                 dropped=[r.dropped for r in self.plan.rows], front=self.front,
                                 stop_reason=self.stop_reason, examples=examples, id_column=self.plan.id_column)

    # --------------------------------------------------------------- display
    def __repr__(self) -> str:
        p = self.progress
        state = "running" if self.running else ("done" if self.done else "not started")
        counts = " ".join(f"{k}={p[k]}" for k in RESULT_STATUSES if p[k])
        return f"<CampaignSender {self.plan.name!r} {state} sent={p['sent']}/{p['to_send']} {counts}>"

    def _repr_html_(self) -> str:
        import pandas as pd

        from .._tables import to_html

        p = self.progress
        state = "running" if self.running else ("done" if self.done else "not started")
        # The totals always, the statuses only where something happened.
        shown = {k: v for k, v in p.items() if v or k in ("total", "to_send", "sent")}
        counts = to_html(pd.DataFrame([shown]), caption=f"Campaign {self.plan.name} — {state}", failures_first=False)
        summary = f"<pre class='cmvoice-summary'>{html.escape(self.summary())}</pre>" if self.done else ""
        results = self.results
        head = to_html(results, max_rows=10, caption=f"Results ({len(results)} rows, rows needing attention first)")
        return f"<div>{counts}{summary}{head}</div>"


def _ended_before(campaign: str, row: Any, earlier: JournalRow | LiveCall) -> bool:
    """True when *earlier* is an attempt of *row* in an earlier wave whose call ended.

    Ended means a callback said so: recorded in the journal (``outcome``) or carried by the
    follow-up plan (``row.ended``). Such an attempt does not stop the row's next wave.
    """
    if earlier.campaign != campaign or earlier.row_id != (row.base_id or row.instruction_id):
        return False
    if earlier.wave >= row.wave:
        return False
    return bool(earlier.outcome) or earlier.instruction_id in {e[0] for e in row.ended}


def run_until_done(sender: CampaignSender) -> None:
    """Start *sender* and wait for it in the calling thread; Ctrl-C stops it cleanly.

    The first Ctrl-C asks the run to stop (requests in flight finish and are recorded); a
    second one stops waiting.
    """
    sender.start()
    try:
        while not sender._finished.wait(0.1):
            pass
    except KeyboardInterrupt:
        log.warning("campaign %r: interrupted; finishing requests in flight (Ctrl-C again to stop waiting)",
                    sender.plan.name)
        sender.stop()
        while not sender._finished.wait(0.1):
            pass


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
    calling_hours, days, holidays, tz, wait, now, sleep
        Calling hours in the callee's local time (``calling_hours="09:00-20:00", days="mon-fri"``):
        rows outside their window wait for it (``wait=False``: ``deferred``, sent by a later run).
        See :class:`SendOptions`.
    plan_options
        For a DataFrame: :func:`plan_campaign`'s options, ``suppress=`` (a do-not-call list),
        ``allow_unreadable_suppress=`` and ``allowed_countries=`` included. ``suppress=`` (and
        ``allow_unreadable_suppress=``) also work with a plan (see
        :func:`~cmvoice_nb.campaign.suppress.apply_suppression`).

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
    the rest stay pending, and the partial results are returned. A second Ctrl-C stops waiting.
    """
    suppress = plan_options.pop("suppress", None) if isinstance(plan_or_df, CampaignPlan) else None
    if isinstance(plan_or_df, CampaignPlan):
        allow_unreadable = plan_options.pop("allow_unreadable_suppress", False)
        if suppress is not None:
            from .ops.suppress import apply_suppression

            plan_or_df = apply_suppression(plan_or_df, suppress, allow_unreadable_suppress=allow_unreadable)
        if plan_options:
            raise CampaignError(
                f"planning options {sorted(plan_options)} only apply to a DataFrame; this is already a plan"
            )
        plan = plan_or_df
    else:
        from .plan import plan_campaign

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
                          days=days, holidays=holidays, tz=tz, wait=wait, now=now, sleep=sleep)
    sender = CampaignSender(plan, client, journal=journal, options=options)
    run_until_done(sender)
    if sender.error is None and sender.needs_attention:
        log.warning("campaign %r:\n%s", sender.plan.name, sender.summary())
    return sender.wait()
