"""One row's attempt: mark it ``sending`` in the journal, POST its frozen bytes, classify, record.

The provider has no idempotency key, so every request is journaled *before* it leaves and only
what provably was not processed is retried (:func:`~cmvoice_nb.campaign.send.classify_error`).
:class:`Attempts` does this for one row at a time; the sender's workers call it.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from ...errors import APIError, AuthenticationError, ConnectError, JournalError, redact
from ...messages import opt, say
from ..journal import Journal, RowStatus
from ._options import RetryPolicy, SendOptions, classify_error
from .pacing import TokenBucket

__all__ = ["Attempts", "redact_secrets", "systemic_reason"]

log = logging.getLogger(__package__)


def redact_secrets(client: Any, text: str | None) -> str | None:
    """*text* without the product token *client* holds (``VoiceClient`` keeps it in a ``_Secret``)."""
    if not text:
        return text
    for attr in ("_token", "token", "product_token"):
        secret: Any = getattr(client, attr, None)
        if callable(getattr(secret, "reveal", None)):
            secret = secret.reveal()
        if isinstance(secret, str) and secret:
            text = redact(text, secret)
    return text


def provider_url(client: Any, app: str) -> str:
    """The URL *client* posts *app*'s instructions to, for a message (``the provider`` if unknown)."""
    url_for = getattr(client, "url_for", None)
    try:
        return str(url_for(app)) if callable(url_for) else "the provider"
    except Exception:  # noqa: BLE001 - only used to word a message
        return "the provider"


def systemic_reason(error: BaseException, *, url: str, attempts: int | None = None,
                    clean: Callable[[str], str | None] = lambda text: text) -> str:
    """Why *error* stops the whole run, as a message template (options as markers).

    Examples
    --------
    >>> from cmvoice_nb.errors import APIError
    >>> from cmvoice_nb.messages import say
    >>> say(systemic_reason(APIError(404, "no such path"), url="http://127.0.0.1:1/Notification"), "cli")
    'HTTP 404 from http://127.0.0.1:1/Notification: the base URL or path is wrong; check --base-url. Nothing more ...'
    """
    status = getattr(error, "status", None)
    if isinstance(error, AuthenticationError):
        return (f"the provider refused the product token (HTTP {status}); check {opt('token')}. "
                "Nothing more was sent")
    if isinstance(error, APIError) and status == 404:
        return (f"HTTP 404 from {url}: the base URL or path is wrong; check {opt('base_url')}. "
                "Nothing more was sent")
    if isinstance(error, ConnectError):
        return (f"could not connect to {url} ({attempts} attempts refused): is the base URL right "
                f"({opt('base_url')}) and the service up? Nothing more was sent")
    return clean(str(error)) or type(error).__name__


class Attempts:
    """Sends rows one at a time, each through the journal, with the retries its errors allow.

    Parameters
    ----------
    plan
        The (re-keyed) plan the rows belong to.
    client
        ``send_payload(app, bytes, instruction_id=...)`` (a :class:`~cmvoice_nb.VoiceClient`), or
        anything with ``send(instruction)``.
    options
        The run's :class:`~cmvoice_nb.campaign.SendOptions`.
    bucket, stop
        The pacing and the run's stop event.
    record
        ``record(position, **fields)``: the sender's results record of a row.
    may_go
        ``may_go(row, earlier) -> bool``: False when the row's calling window closed before its turn
        (it then waits again).
    abort
        ``abort(error, reason)``: stops the whole run.
    costs
        Each row's upper-bound cost by position, recorded with its ``sending`` mark (a run with a
        budget); None: none recorded.
    limits
        The run's :class:`~cmvoice_nb.campaign.send._limits.Limits`: a row whose validity window
        ended is not placed (``expired``).
    """

    def __init__(self, *, plan: Any, client: Any, options: SendOptions, bucket: TokenBucket,
                 stop: threading.Event, record: Callable[..., None], may_go: Callable[[Any, Any], bool],
                 abort: Callable[[BaseException, str], None], costs: Any = None, limits: Any = None) -> None:
        self.plan = plan
        self.client = client
        self.options = options
        self.retry = options.retry if options.retry is not None else RetryPolicy()  # SendOptions fills it
        self.bucket = bucket
        self._stop = stop
        self._record = record
        self._may_go = may_go
        self._abort = abort
        self._costs = costs
        self._limits = limits
        self._lock = threading.Lock()
        #: Requests on their way right now, and their rows by position.
        self.in_flight = 0
        self._flying: dict[int, Any] = {}
        #: True once the run was stopped at once: an answer that comes back afterwards records nothing.
        self.abandoned = False

    def abandon(self) -> list:
        """Stop recording (the run stops at once) and return the rows whose request is in flight."""
        with self._lock:  # a worker recording its answer holds it: that row's outcome stands
            self.abandoned = True
            return list(self._flying.values())

    def redact(self, text: str | None) -> str | None:
        return redact_secrets(self.client, text)

    def _storable(self, payload: bytes | None) -> bytes | None:
        """*payload* as the journal may keep it: None when it holds the product token (typed into a field).

        The journal never stores the token; such a row is sent, but a follow-up wave reports it
        ``no payload`` instead of sending it again.
        """
        if payload is None:
            return None
        text = payload.decode("utf-8", "replace")
        return payload if self.redact(text) == text else None

    def send(self, row: Any, earlier: RowStatus | None, journal: Journal) -> None:
        """Send one row's frozen payload, with retries; every attempt is journaled before it leaves."""
        name, iid, options = self.plan.name, row.instruction_id, self.options
        # A row new to the journal was registered with its hash and callee: nothing to rewrite.
        # Every row's payload is stored as it leaves (the bytes a follow-up wave sends again).
        changes = {} if earlier is None else {"payload_hash": row.payload_hash, "callee": row.callee or None}
        changes["payload"] = self._storable(row.payload)
        send_payload = getattr(self.client, "send_payload", None)
        live = self._limits.live if self._limits is not None else None
        for attempt in range(1, self.retry.max_attempts + 1):
            if live is not None and not live.acquire(row, self._stop):
                return  # stopped while every line was busy: the row stays pending ("skipped")
            if not self.bucket.acquire(self._stop) or not self._may_go(row, earlier):
                # Stopped while waiting for the pace, or its calling window closed before its turn.
                self._settle(row, "pending")
                return
            if not self._allowed(row, journal):
                return
            cost = self._costs[row.position] if self._costs is not None else None
            try:
                jr = journal.mark_sending(name, iid, **changes, resend_unknown=options.resend_unknown,
                                          resend_queued=options.resend_changed, allow_repeat=options.allow_repeat,
                                          ended=row.ended, cost=cost)
            except JournalError as exc:
                guard = getattr(exc, "earlier", None)
                self._settle(row, "pending")
                if guard is None:
                    raise
                # The journal's own guard (same transaction as the mark): never call twice.
                self._record(row.position, status="already-called", call_ids=guard.call_ids,
                             error=f"already called as {guard.instruction_id} ({guard.state}, call "
                                   f"{guard.call_ids or '?'}); not called again")
                return
            self._record(row.position, attempts=jr.attempts, sent_at=jr.sent_at)
            with self._lock:
                if self.abandoned:  # stopped at once before the request left: it never will
                    journal.mark_done(name, iid, "pending", error="not sent: the run was stopped")
                    self._settle(row, "pending")
                    return
                self.in_flight += 1
                self._flying[row.position] = row
            error: BaseException | None
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
            with self._lock:
                self.in_flight -= 1
                self._flying.pop(row.position, None)
                if self.abandoned:
                    return  # the run stopped at once: abandon() recorded the row unknown
                if error is None:
                    self._record_success(row, result, journal)
                    return
                if not self._record_failure(row, error, attempt, journal):
                    return
            retry_after = getattr(error, "retry_after", None)
            if self._stop.wait(self.retry.delay_s(attempt, retry_after=retry_after)):
                return

    def _record_failure(self, row: Any, error: BaseException, attempt: int, journal: Journal) -> bool:
        """Record a failed request; True when it is retried (after its delay)."""
        name, iid, front = self.plan.name, row.instruction_id, self.options.front
        state, retry = classify_error(error)
        status = getattr(error, "status", None)
        text = self.redact(f"{type(error).__name__}: {error}")
        if state == "abort":
            # Nothing was placed (a refused token or a wrong URL comes before any call), and
            # every other row would fail the same way: stop now; unsent rows stay pending.
            journal.mark_done(name, iid, "pending", http_status=status, error=text)
            self._settle(row, "pending")
            self._record(row.position, status="skipped", http_status=status, error=text)
            self._abort(error, self._reason(error))
            return False
        if not isinstance(error, Exception):  # KeyboardInterrupt/SystemExit in a worker
            journal.mark_done(name, iid, "unknown", error=text)
            self._settle(row, "unknown")
            self._record(row.position, status="unknown", error=text)
            raise error
        if retry and attempt < self.retry.max_attempts:
            retry_after = getattr(error, "retry_after", None)
            if status in (429, 503):  # the provider asks us to slow down
                new_rate = self.bucket.slow_down(self.retry.slow_down_factor)
                log.warning("campaign %r: %s; pace reduced to %.3g calls/s", name, say(text, front), new_rate)
            if retry_after:
                self.bucket.pause(float(retry_after))
            journal.mark_done(name, iid, "pending", http_status=status, error=text)
            self._settle(row, "pending")
            self._record(row.position, status="pending", http_status=status, error=text)
            return True
        if retry:
            text = f"gave up after {attempt} attempts; last: {text}"
        journal.mark_done(name, iid, "failed" if state == "invalid" else state, http_status=status, error=text)
        self._settle(row, state)
        self._record(row.position, status=state, http_status=status, error=text)
        if state == "unknown":
            log.warning("campaign %r %s: %s — the call may have been placed; marked unknown", name,
                        self.plan.row_name(row.position), say(text, front))
        if retry and isinstance(error, ConnectError):
            # Every attempt was refused: the provider is unreachable; stop instead of burning
            # through every row. Unsent rows stay pending.
            self._abort(error, self._reason(error, attempts=attempt))
        return False

    def _allowed(self, row: Any, journal: Journal) -> bool:
        """Check the row's validity window and reserve its contact just before it leaves; False (recorded) when not."""
        if self._limits is None:
            return True
        name, iid = self.plan.name, row.instruction_id
        expired = self._limits.expired(row, waited="its turn")
        refused = None if expired else self._limits.reserve(row, journal)  # one transaction with the count
        if not expired and not refused:
            return True
        self._settle(row, "pending")
        state, why = ("expired", expired) if expired else ("over-contacted", refused)
        journal.hold(name, [(iid, str(row.label), row.callee or None, row.payload_hash, why)], state)
        self._record(row.position, status=state, error=why)
        return False

    def _settle(self, row: Any, state: str) -> None:
        """Settle *row*'s contact reservation once its request's outcome is recorded in the journal."""
        if self._limits is not None:
            self._limits.placed(row, state)

    def _reason(self, error: BaseException, *, attempts: int | None = None) -> str:
        return systemic_reason(error, url=provider_url(self.client, self.plan.app), attempts=attempts,
                               clean=self.redact)

    def _record_success(self, row: Any, result: Any, journal: Journal) -> None:
        status = getattr(result, "status", 200)
        entries = list(getattr(result, "results", None) or [])
        ok = [e for e in entries if getattr(e, "success", False)]
        bad = [e for e in entries if not getattr(e, "success", False)]
        call_ids = ";".join(str(getattr(e, "call_id", "")) for e in ok if getattr(e, "call_id", None)) or None
        bad_text = "; ".join(f"{getattr(e, 'callee', '?')}: {getattr(e, 'error', None) or 'not dialled'}" for e in bad)
        reason = self.redact(bad_text) or None
        if ok:
            state, error = "queued", reason
        elif bad:
            state, error = "rejected", reason
        else:
            state, error = "unknown", f"HTTP {status} without any call-queued entry: the call may have been placed"
        journal.mark_done(self.plan.name, row.instruction_id, state, http_status=status, call_ids=call_ids,
                          error=error)
        self._settle(row, state)
        self._record(row.position, status=state, http_status=status, call_ids=call_ids, error=error)
        if state == "queued":
            self.bucket.recover()
