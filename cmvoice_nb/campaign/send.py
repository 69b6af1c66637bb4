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
* 401/403 ``AuthenticationError`` → the whole run stops; unsent rows stay pending (``skipped``).

Defaults are conservative — 5 calls/s, burst 5, 4 requests in flight — because the
provider documents no rate limit: a real campaign is limited by people's phones, not by
HTTP, and a slow start is cheap while a blocked account is not. Raise them for the
simulator or once the provider has confirmed your limits.

Examples
--------
>>> import pandas as pd, cmvoice_nb as cm                      # doctest: +SKIP
>>> with cm.Simulator() as sim:                                # doctest: +SKIP
...     res = cm.send_campaign(df, sim.client(), journal="j.sqlite", app="notification",
...                            name="spring", defaults={"caller": "+31201234567",
...                            "prompt": "Hi {name}", "prompt-type": "TTS"})
"""
from __future__ import annotations

import dataclasses
import html
import logging
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
    RateLimited,
    ServerError,
    ValidationError,
    redact,
)
from .journal import Journal, JournalRow, instruction_hash
from .pacing import TokenBucket
from .plan import CampaignPlan

__all__ = [
    "CampaignSender",
    "SendJob",
    "RetryPolicy",
    "send_campaign",
    "classify_error",
    "results_to_csv",
    "RESULT_COLUMNS",
    "RESULT_STATUSES",
    "DEFAULT_RATE",
    "DEFAULT_BURST",
    "DEFAULT_CONCURRENCY",
]

log = logging.getLogger(__name__)

#: Columns of the results DataFrame (and CSV, after the ``row`` index column).
RESULT_COLUMNS = ["instruction_id", "callee", "status", "http_status", "call_ids", "error", "attempts", "sent_at"]
#: Every status a results row can have.
RESULT_STATUSES = ("queued", "rejected", "failed", "unknown", "invalid", "skipped", "dry-run")
#: Statuses after which re-running the same campaign has nothing more to do for the row
#: (``unknown`` is reported separately: it needs the user to reconcile).
DONE_STATUSES = ("queued", "rejected", "invalid", "dry-run")

#: The "at most ``rate`` calls in any second" ceiling counts each call for 1.1 s, not 1 s:
#: requests leave (and arrive) a little later than their token was granted, by a varying
#: amount (thread scheduling, connection reuse), and 100 ms of slack keeps every 1-second
#: window the provider sees at or below ``rate``. Cost: a binding rate averages ~rate/1.1.
CEILING_SLACK_S = 0.1

DEFAULT_RATE = 5.0
DEFAULT_BURST = 5
DEFAULT_CONCURRENCY = 4


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
    ``"unknown"`` (a call may exist) or ``"abort"`` (stop the whole run).

    Examples
    --------
    >>> from cmvoice_nb.errors import ReadTimeout, ConnectError, ServerError
    >>> classify_error(ConnectError("refused"))
    ('failed', True)
    >>> classify_error(ReadTimeout("slow"))
    ('unknown', False)
    >>> classify_error(ServerError(500, "boom"))
    ('unknown', False)
    """
    if isinstance(exc, AuthenticationError):
        return "abort", False
    if isinstance(exc, RateLimited):
        return "failed", True
    if isinstance(exc, ServerError):
        return ("failed", True) if exc.status == 503 else ("unknown", False)
    if isinstance(exc, ConnectError):
        return "failed", True
    if isinstance(exc, InstructionRejected):
        return "rejected", False
    if isinstance(exc, ValidationError):
        return "invalid", False
    if isinstance(exc, APIError):
        # Another 4xx (404 wrong URL, 413 ...) was refused before anything was placed.
        if 400 <= exc.status < 500:
            return "failed", False
        return "unknown", False
    if isinstance(exc, CMVoiceError) and getattr(exc, "retry_safe", False):
        return "failed", True
    # Anything else (a dropped connection, a bug) happened somewhere around the request:
    # assume the call may have been placed.
    return "unknown", False


def _utc(ts: str | None):
    import pandas as pd

    if not ts:
        return pd.NaT
    return pd.Timestamp(ts).tz_convert("UTC") if pd.Timestamp(ts).tzinfo else pd.Timestamp(ts, tz="UTC")


def results_to_csv(results: Any, path: str | os.PathLike) -> Path:
    """Write a results DataFrame to *path* atomically (index as first column ``row``)."""
    from .._fsutil import atomic_write_text

    frame = results.reindex(columns=RESULT_COLUMNS)
    text = frame.to_csv(index_label="row", date_format="%Y-%m-%dT%H:%M:%S.%fZ")
    return atomic_write_text(path, text)


class CampaignSender:
    """Send one :class:`CampaignPlan`: start it in the background, watch, stop, collect results.

    Parameters
    ----------
    plan
        From :func:`plan_campaign`.
    client
        A :class:`cmvoice_nb.VoiceClient` (or anything with ``send(instruction)``).
    journal
        Path of the SQLite journal, or an open :class:`Journal`. Required unless ``dry_run``.
    rate, burst, concurrency
        Calls per second (a hard ceiling per 1-s window), calls that may start back to back,
        requests in flight. Defaults 5/s, 5, 4 (the provider documents no limit).
    dry_run
        Validate and pace, send nothing, write nothing.
    resend_unknown
        Send rows whose earlier outcome was ``unknown`` again (may call someone twice).
    retry
        A :class:`RetryPolicy`.
    progress
        Show a ``tqdm.auto`` progress bar.
    results_path
        Also write the results CSV there when the run ends (even when it ends in an error).

    Examples
    --------
    >>> job = CampaignSender(plan, client, journal="j.sqlite").start()   # doctest: +SKIP
    >>> job.progress                                                    # doctest: +SKIP
    {'total': 100, 'to_send': 100, 'done': 12, 'queued': 12, ...}
    >>> job.stop(); results = job.wait()                                # doctest: +SKIP
    """

    def __init__(
        self,
        plan: CampaignPlan,
        client: Any,
        *,
        journal: str | os.PathLike | Journal | None,
        rate: float = DEFAULT_RATE,
        burst: int = DEFAULT_BURST,
        concurrency: int = DEFAULT_CONCURRENCY,
        dry_run: bool = False,
        resend_unknown: bool = False,
        retry: RetryPolicy | None = None,
        progress: bool = True,
        results_path: str | os.PathLike | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(plan, CampaignPlan):
            raise CampaignError(f"CampaignSender needs a CampaignPlan (see plan_campaign), got {type(plan).__name__}")
        if journal is None and not dry_run:
            raise CampaignError(
                "a send needs journal= (a file path): it records every row before its request, so a re-run "
                "or a crash never calls anyone twice"
            )
        if not dry_run and not callable(getattr(client, "send", None)):
            raise CampaignError(
                f"client must be a VoiceClient (or have send(instruction)), got {type(client).__name__}; "
                "use Simulator().client() to rehearse"
            )
        if int(concurrency) < 1:
            raise CampaignError(f"concurrency must be at least 1, got {concurrency!r}")
        self.plan = plan
        self.client = client
        self.journal = journal
        self.dry_run = bool(dry_run)
        self.resend_unknown = bool(resend_unknown)
        self.retry = retry or RetryPolicy()
        self.concurrency = int(concurrency)
        self.show_progress = progress
        self.results_path = results_path
        try:
            self.bucket = TokenBucket(rate, burst=burst, clock=clock, slack_s=CEILING_SLACK_S)
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
        self.stopped_by_user = False
        self._bar = None

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
                   "in_flight": self._in_flight}
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
                if self.results_path is not None:
                    results_to_csv(self._results, self.results_path)
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
        plan = self.plan
        existing: dict[str, JournalRow] = {}
        if journal is not None and not self.dry_run:
            journal.lock()
            journal.ensure_campaign(plan.name, app=plan.app)
            journal.recover(plan.name)
        if journal is not None:
            existing = journal.load(plan.name)

        to_send = []
        for r in plan.rows:
            base = {"instruction_id": r.instruction_id, "callee": r.callee or None}
            if not r.valid:
                text = "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in r.problems)
                self._set(r.position, **base, status="invalid", error=self._redact(text or "invalid"))
                continue
            if r.dropped:
                self._set(r.position, **base, status="skipped",
                          error=f"duplicate callee: same as row {r.duplicate_of!r} (drop_duplicates=True)")
                continue
            jr = existing.get(r.instruction_id)
            payload = r.instruction.to_json()
            h = instruction_hash(payload)
            state = jr.state if jr else None
            if state == "sending":  # only seen in a dry run over a crashed journal
                state = "unknown"
            if state == "queued" or (state == "unknown" and not self.resend_unknown):
                error = jr.error
                if jr.payload_hash and jr.payload_hash != h:
                    note = "the row changed since it was sent; not sent again"
                    error = f"{error}; {note}" if error else note
                self._set(r.position, **base, status=state, http_status=jr.http_status, call_ids=jr.call_ids,
                          error=error, attempts=jr.attempts, sent_at=jr.sent_at)
                continue
            self._set(r.position, **base, status="pending", error="not sent: the run ended first",
                      attempts=jr.attempts if jr else 0, sent_at=jr.sent_at if jr else None,
                      http_status=jr.http_status if jr else None)
            to_send.append((r, payload, h))

        if journal is not None and not self.dry_run:
            journal.register(plan.name, [(r.instruction_id, str(r.label), r.callee, h) for r, _p, h in to_send])
        with self._lock:
            self._to_send = len(to_send)
        if self.show_progress and to_send:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=len(to_send), desc=f"{'dry run' if self.dry_run else 'sending'} {plan.name}",
                             unit="call")

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
        s = self.progress
        log.info("campaign %r: %s", plan.name, ", ".join(f"{k}={s[k]}" for k in RESULT_STATUSES if s[k]))

    def _worker(self, work: queue.SimpleQueue, journal: Journal | None) -> None:
        while not self._stop.is_set():
            try:
                row, payload, h = work.get_nowait()
            except queue.Empty:
                return
            try:
                self._send_row(row, payload, h, journal)
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

    def _send_row(self, row: Any, payload: dict, h: str, journal: Journal | None) -> None:
        name = self.plan.name
        iid = row.instruction_id
        for attempt in range(1, self.retry.max_attempts + 1):
            if not self.bucket.acquire(self._stop):
                return  # stopped while waiting: the row stays pending ("skipped")
            if self.dry_run:
                self._set(row.position, status="dry-run", error=None)
                return
            jr = journal.mark_sending(name, iid, payload_hash=h, callee=row.callee or None)
            self._set(row.position, attempts=jr.attempts, sent_at=jr.sent_at)
            with self._lock:
                self._in_flight += 1
            try:
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
                # Nothing was placed (401/403 comes before any call); every unsent row stays pending.
                journal.mark_done(name, iid, "pending", http_status=status, error=text)
                self._set(row.position, status="skipped", http_status=status, error=text)
                if self.error is None:
                    self.error = error
                self._stop.set()
                return
            if not isinstance(error, Exception):  # KeyboardInterrupt/SystemExit in a worker
                journal.mark_done(name, iid, "unknown", error=text)
                self._set(row.position, status="unknown", error=text)
                raise error
            if retry and attempt < self.retry.max_attempts:
                retry_after = getattr(error, "retry_after", None)
                if isinstance(error, (RateLimited, ServerError)):
                    new_rate = self.bucket.slow_down(self.retry.slow_down_factor)
                    log.warning("campaign %r: %s; pace reduced to %.3g calls/s", name, text, new_rate)
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
                log.warning("campaign %r row %r: %s — the call may have been placed; marked unknown", name, row.label, text)
            if retry and isinstance(error, ConnectError):
                # Every attempt was refused: the provider is unreachable; stop instead of burning
                # through every row. Unsent rows stay pending.
                if self.error is None:
                    self.error = error
                self._stop.set()
            return

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
        import pandas as pd

        with self._lock:
            records = [dict(self._records.get(r.position, {})) for r in self.plan.rows]
        for rec in records:
            if rec.get("status") == "pending":
                rec["status"] = "skipped"
        frame = pd.DataFrame.from_records(records, columns=RESULT_COLUMNS) if records else pd.DataFrame(columns=RESULT_COLUMNS)
        frame.index = self.plan.index
        for col in ("instruction_id", "callee", "status", "call_ids", "error"):
            frame[col] = frame[col].astype("string")
        frame["http_status"] = pd.array(
            [None if v is None or (isinstance(v, float) and math.isnan(v)) else int(v) for v in frame["http_status"]],
            dtype="Int64")
        frame["attempts"] = pd.array(
            [0 if v is None or (isinstance(v, float) and math.isnan(v)) else int(v) for v in frame["attempts"]],
            dtype="Int64")
        frame["sent_at"] = pd.to_datetime(
            [v if isinstance(v, str) and v else None for v in frame["sent_at"]], utc=True, format="ISO8601")
        return frame

    # --------------------------------------------------------------- display
    def __repr__(self) -> str:
        p = self.progress
        state = "running" if self.running else ("done" if self.done else "not started")
        counts = " ".join(f"{k}={p[k]}" for k in RESULT_STATUSES if p[k])
        return f"<CampaignSender {self.plan.name!r} {state} sent={p['sent']}/{p['to_send']} {counts}>"

    def _repr_html_(self) -> str:
        p = self.progress
        state = "running" if self.running else ("done" if self.done else "not started")
        cells = "".join(f"<th>{html.escape(k)}</th>" for k in p)
        vals = "".join(f"<td>{v}</td>" for v in p.values())
        return (f"<div><b>Campaign {html.escape(self.plan.name)}</b> — {state}"
                f"<table><tr>{cells}</tr><tr>{vals}</tr></table></div>")


#: Alias used by the widgets.
SendJob = CampaignSender


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
    retry: RetryPolicy | None = None,
    progress: bool = True,
    results_path: str | os.PathLike | None = None,
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
        ``queued`` or ``unknown`` row.
    rate, burst, concurrency, dry_run, resend_unknown, retry, progress, results_path
        See :class:`CampaignSender`.

    Returns
    -------
    pandas.DataFrame
        Aligned on the input index: ``instruction_id``, ``callee``, ``status``, ``http_status``,
        ``call_ids``, ``error``, ``attempts``, ``sent_at``.

    Raises
    ------
    AuthenticationError
        The token was refused: the run stopped, unsent rows stay pending. ``exc.results`` holds the results.
    ConnectError
        Every attempt for a row was refused: the provider is unreachable; the run stopped.

    Notes
    -----
    Ctrl-C (or a kernel interrupt) stops the run: requests in flight finish and are recorded,
    the rest stay pending, and the partial results are returned. A second Ctrl-C stops waiting.
    """
    if isinstance(plan_or_df, CampaignPlan):
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
    sender = CampaignSender(plan, client, journal=journal, rate=rate, burst=burst, concurrency=concurrency,
                            dry_run=dry_run, resend_unknown=resend_unknown, retry=retry, progress=progress,
                            results_path=results_path)
    sender.start()
    try:
        while not sender._finished.wait(0.1):
            pass
    except KeyboardInterrupt:
        log.warning("campaign %r: interrupted; finishing requests in flight (Ctrl-C again to stop waiting)", plan.name)
        sender.stop()
        while not sender._finished.wait(0.1):
            pass
    return sender.wait()
