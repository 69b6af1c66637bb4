"""The sender: runs one plan in the background, and only orchestrates.

:class:`CampaignSender` opens the journal, asks :func:`~cmvoice_nb.campaign.send.decide.decide`
what to do with each row, records the decisions, hands the rows to send to a pool of workers
(each row one :class:`~cmvoice_nb.campaign.send._attempt.Attempts` call, within its calling hours
through :class:`~cmvoice_nb.campaign.send._waiting.Waiting`), settles the rows held back behind
an earlier row of the list, and builds the results.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import CampaignError, ConnectError
from ...messages import MARKER, say
from ...spec import iso_utc
from ..journal import Journal
from ..plan import CampaignPlan, design_conflict
from ..results import results_frame, status_counts, write_results
from ..vocabulary import EXIT_ACT, EXIT_RETRY, RESULT_STATUSES
from ._attempt import Attempts, redact_secrets
from ._display import SenderDisplay
from ._forecast import journal_view, row_costs
from ._limits import Limits
from ._options import SendOptions, check_callback_urls
from ._waiting import Waiting
from .decide import Decision, decide, settle_held, tally
from .pacing import TokenBucket

if TYPE_CHECKING:
    import pandas as pd
    from tqdm.auto import tqdm

__all__ = ["CampaignSender", "CEILING_SLACK_S"]

log = logging.getLogger(__package__)

#: The "at most ``rate`` calls in any second" ceiling counts each call for 1.1 s, not 1 s:
#: requests leave (and arrive) a little later than their token was granted, by a varying
#: amount (thread scheduling, connection reuse), and 100 ms of slack keeps every 1-second
#: window the provider sees at or below ``rate``. Cost: a binding rate averages ~rate/1.1.
CEILING_SLACK_S = 0.1

#: A row to send, until its request's outcome is known (reported ``skipped`` if the run ends first).
_NOT_SENT = "not sent: the run ended first"
#: A row whose request was in flight when the run was stopped at once (a second Ctrl-C or signal).
_ABANDONED = "the run was stopped at once while its request was in flight: the call may have been placed"


class CampaignSender(SenderDisplay):
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
        base_url = getattr(client, "base_url", None)
        if isinstance(base_url, str):  # a callback the provider can never reach loses every result
            check_callback_urls(plan, base_url=base_url,
                                allow_private_callback_url=options.allow_private_callback_url)
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
        self._thread: threading.Thread | None = None
        self._finished = threading.Event()
        self._results: pd.DataFrame | None = None
        self.error: BaseException | None = None
        #: Why the run stopped before sending everything (a systemic error), or None.
        self.stop_reason: str | None = None
        #: The exit class of that stop: EXIT_RETRY (the provider could not be reached) or EXIT_ACT
        #: (a refused token, a wrong base URL); None when nothing stopped the run early.
        self.stop_class: int | None = None
        self.stopped_by_user = False
        #: True once the run was stopped at once (:meth:`abandon`): nothing waits for requests in flight.
        self.abandoned = False
        #: What the run decided for the rows before sending (:func:`~cmvoice_nb.campaign.send.decide.tally`).
        self.counts: dict[str, int] = {}
        #: Rows an earlier run on this journal had already queued (not sent again).
        self.already_done = 0
        self.campaign_key = plan.campaign_key
        self._held: list[tuple[Any, Decision]] = []
        # Rows put aside in the journal without a request: (instruction_id, label, callee, hash, reason).
        self._holds: dict[str, list[tuple[str, str | None, str | None, str | None, str | None]]] = {
            s: [] for s in ("suppressed", "budget", "holdout", "expired", "over-contacted", "pending")}
        #: True once every row was matched with the journal (the results mean something).
        self.matched = False
        self._bar: tqdm[Any] | None = None
        self._hours = Waiting(options, plan, self._stop, record=self._set)
        self._limits = Limits(options, plan, self._hours)
        self._attempts: Attempts | None = None

    # -------------------------------------------------------------- control
    def start(self) -> CampaignSender:
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

    def abandon(self) -> None:
        """Stop at once (a second Ctrl-C or signal): nothing waits for the requests in flight.

        Their rows become ``unknown`` in the journal and the results (the call may have been
        placed); the rows not sent are ``skipped``; the results are built (and written to
        ``results_path``) now, and :meth:`wait` returns them. Safe to call from the thread that
        started the run; a request that comes back afterwards records nothing.
        """
        if self._thread is None or self._finished.is_set():
            return
        self.stop()
        with self._lock:
            self.abandoned = True
        journal = self._open_journal
        if self._attempts is not None:
            for row in self._attempts.abandon():
                if journal is not None:
                    try:
                        journal.mark_done(self.plan.name, row.instruction_id, "unknown", error=_ABANDONED)
                    except Exception as exc:  # noqa: BLE001 - the next run turns "sending" into unknown
                        log.error("campaign %r: %s", self.plan.name, exc)
                self._set(row.position, status="unknown", error=_ABANDONED)
        self._finish_results()
        self._finished.set()

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
        in_flight = self._attempts.in_flight if self._attempts is not None else 0
        with self._lock:
            out = {"total": len(self.plan.rows), "to_send": self._to_send, "sent": self._done_sending,
                   "in_flight": in_flight, "already_done": self.already_done, "waiting": self._hours.count}
            out.update(self._counts)
        return out

    @property
    def results(self):
        """The results DataFrame: final after the run, a snapshot while it runs."""
        if self._results is not None:
            return self._results
        return self._build_results()

    @property
    def wait_text(self) -> str:
        """How many rows wait for their calling hours and until when (``""`` when none does).

        During a dry run: how many would wait. See :func:`~cmvoice_nb.campaign.ops.hours.describe_waits`.
        """
        return self._hours.text(dry_run=self.dry_run)

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

    def _status_of(self, position: int) -> str | None:
        return self._records.get(position, {}).get("status")

    def _redact(self, text: str | None) -> str | None:
        return redact_secrets(self.client, text)

    def _run_safely(self) -> None:
        journal: Journal | None = None
        own_journal = False
        started = iso_utc()
        try:
            if isinstance(self.journal, Journal):
                journal = self.journal
            elif self.journal is not None and (not self.dry_run or Path(self.journal).exists()):
                journal = Journal(self.journal)
                own_journal = True
            self._open_journal = journal
            self._run(journal)
        except BaseException as exc:  # noqa: BLE001 - recorded and re-raised by wait()
            if self.error is None:
                self.error = exc
            log.error("campaign %r: %s", self.plan.name, exc)
        finally:
            if not self.abandoned:  # abandon() built and wrote the results already
                self._finish_results()
                self._record_run(journal, started)
            self._limits.close()
            if journal is not None:
                journal.unlock()
                if own_journal:
                    journal.close()
            if self._bar is not None:
                self._bar.close()
            self._finished.set()

    _open_journal: Journal | None = None

    def _finish_results(self) -> None:
        """Build the results, write them to ``results_path``, and hang them on the error (if any)."""
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
                self.error.results = self._results  # type: ignore[attr-defined]  # any exception: set if it can be
            except AttributeError:
                pass

    def _record_run(self, journal: Journal | None, started: str) -> None:
        """Record the finished run in the journal (its wave, counts and exit status): what ``cmvoice status`` reads."""
        if journal is None or self.dry_run or not self.matched or self._results is None:
            return
        counts = status_counts(self._results)
        if self.already_done:
            counts["already done"] = self.already_done
        waves = {r.wave for r in self.plan.rows}
        try:
            journal.record_run(self.plan.name, wave=max(waves) if waves else None, started_at=started, counts=counts,
                               exit_status=self.exit_status)
        except Exception as exc:  # noqa: BLE001 - the run's own outcome is recorded; this is its report
            log.warning("campaign %r: the run could not be recorded in the journal: %s", self.plan.name, exc)

    def _run(self, journal: Journal | None) -> None:
        if journal is not None and not self.dry_run:
            journal.lock()
            journal.ensure_campaign(self.plan.name, app=self.plan.app)
            conflict = design_conflict(journal.design(self.plan.name), self.plan)
            if conflict:
                raise CampaignError(conflict)
            journal.recover(self.plan.name)
        # The ids that go out carry the journal's campaign key: a plan made without the
        # journal (provisional key) is re-keyed here; ids from an instruction-id column stay.
        key = journal.campaign_key if journal is not None else self.plan.campaign_key
        if self.plan.campaign_key != key:
            self.plan = self.plan.rekey(key)
        self.campaign_key = key
        plan = self.plan
        # What a re-run needs of the journal, and no more: one compact status per record, the
        # calls that may exist to the numbers of the rows this run may still send, the cost so far.
        statuses, live, spent = journal_view(journal, plan, allow_repeat=self.allow_repeat,
                                             resend_unknown=self.resend_unknown, resend_changed=self.resend_changed)
        max_cost = self.options.max_cost
        costs = row_costs(plan, self.options.prices) if max_cost is not None else None
        limits = self._limits.prepare(journal, statuses, plan=plan, dry_run=self.dry_run)
        decisions = decide(plan, statuses=statuses, live=live, allow_repeat=self.allow_repeat,
                           resend_changed=self.resend_changed, resend_unknown=self.resend_unknown,
                           max_cost=max_cost, spent=spent, costs=costs, **limits)
        del statuses, live
        self.counts = tally(decisions)
        to_send = self._take(decisions, key)
        self._limits.note(decisions)
        del decisions

        with self._lock:
            self._to_send = len(to_send)
        self.matched = True
        if self.already_done:
            log.info("campaign %r: %d row(s) already done by an earlier run on this journal", plan.name,
                     self.already_done)
        if self.dry_run:
            # A dry run validates and matches; it never waits for the pace (nothing is sent).
            for r, _jr in to_send:
                self._set(r.position, status="dry-run", error=self._hours.dry_run_note(r))
            with self._lock:
                self._done_sending = len(to_send)
            self._resolve_held()
            return

        assert journal is not None  # a send that is not a dry run has its journal (checked by __init__)
        self._flush_holds(journal)
        if journal is not None:
            # New rows get their facts (label, callee, payload hash) here, once; rows the journal
            # already holds keep theirs until a request with new content leaves (mark_sending).
            # The payload is stored when the row is sent (mark_sending): a follow-up wave only
            # resends what was sent, and a million-row registration writes a third less.
            # In id order: the journal writes a first registration in chunks, each index filled at its end.
            # The plan gives the rows' facts from its columns (hashes computed a block at a time).
            journal.register(plan.name, plan.rows.registration([r.position for r, jr in to_send if jr is None]))
            self._store_kept(journal)
            self._store_design(journal)
        self._limits.register(journal)
        if self.show_progress and to_send:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=len(to_send), desc=f"sending {plan.name}", unit="call")

        self._attempts = Attempts(plan=plan, client=self.client, options=self.options, bucket=self.bucket,
                                  stop=self._stop, record=self._set, may_go=self._hours.may_go, abort=self._abort,
                                  costs=costs, limits=self._limits)
        if self._hours.windows is not None:
            self._hours.run(to_send, journal, campaign=plan.name, dispatch=lambda items: self._dispatch(items, journal),
                            status_of=self._status_of, show=self._show)
        else:
            self._dispatch(to_send, journal)
        self._resolve_held()
        s = self.progress
        log.info("campaign %r: %s", plan.name, ", ".join(f"{k}={s[k]}" for k in RESULT_STATUSES if s[k]))

    def _take(self, decisions: list[Decision], key: str) -> list[tuple[Any, Any]]:
        """Record every row's decision; return the rows to send, each with its journal record."""
        to_send = []
        holds = self._holds
        for r, d in zip(self.plan.rows, decisions, strict=True):
            base = {"instruction_id": r.instruction_id, "callee": r.callee or None, "input_position": r.position,
                    "campaign_key": key, "wave": r.wave}
            jr, action = d.record, d.action
            if d.released:
                holds["pending"].append((r.instruction_id, str(r.label), r.callee or None, r.payload_hash,
                                         "no longer on the do-not-call list"))
            if action == "send":
                self._set(r.position, **base, status="pending", error=_NOT_SENT,
                          attempts=jr.attempts if jr else 0, sent_at=jr.sent_at if jr else None,
                          http_status=jr.http_status if jr else None)
                to_send.append((r, jr))
            elif action in ("unknown", "changed", "done"):
                assert jr is not None  # these rules speak only for a row the journal holds
                self._set(r.position, **base, http_status=jr.http_status, call_ids=jr.call_ids,
                          attempts=jr.attempts, sent_at=jr.sent_at, status=d.status, error=d.reason)
                if action == "done":
                    self.already_done += 1
            elif action in ("invalid", "refused-country"):
                self._set(r.position, **base, status=action, error=self._redact(d.reason))
            elif action in ("suppressed", "budget", "holdout", "expired", "over-contacted"):
                # Held in the journal with the reason: never sent (suppressed, holdout, expired), or until allowed.
                self._set(r.position, **base, status=action, error=d.reason)
                holds[action].append((r.instruction_id, str(r.label), r.callee or None, r.payload_hash, d.reason))
            elif action == "already-called":
                assert d.call is not None  # the rule names the earlier call
                self._set(r.position, **base, status="already-called", call_ids=d.call.call_ids, error=d.reason)
            elif action == "dropped":
                self._set(r.position, **base, status="dropped", error=d.reason)
            elif action == "held":
                # Settled when the run ends, from what happened to the first row.
                self._held.append((r, d))
                self._set(r.position, **base, status="pending", error=d.reason)
            else:
                self._set(r.position, **base, status=d.status, error=d.reason)
        return to_send

    def _show(self, text: str) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(text[:80])

    def _dispatch(self, to_send: list, journal: Journal) -> None:
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

    def _worker(self, work: queue.SimpleQueue, journal: Journal) -> None:
        attempts = self._attempts
        assert attempts is not None  # set by _run before any worker starts
        while not self._stop.is_set():
            try:
                row, earlier = work.get_nowait()
            except queue.Empty:
                return
            try:
                attempts.send(row, earlier, journal)
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

    def _store_kept(self, journal: Journal) -> None:
        """Store the operator's kept columns of every row the journal holds for this campaign (``keep=``)."""
        kept = self.plan.kept
        if kept is None or self.dry_run:
            return
        columns = [str(c) for c in kept.columns]
        journal.keep(self.plan.name, (
            (r.base_id or r.instruction_id, dict(zip(columns, values, strict=True)))
            for r, values in zip(self.plan.rows, kept.itertuples(index=False, name=None), strict=True) if r.valid))

    def _store_design(self, journal: Journal) -> None:
        """Keep the A/B design, the opt-out key and each person's variant in the journal (every wave reads them)."""
        design = {k: self.plan.options[k] for k in ("variants", "holdout", "seed", "opt_out_digit")
                  if self.plan.options.get(k) is not None}
        if design and not self.plan.is_followup:
            journal.set_design(self.plan.name, design)
        rows = self.plan.rows
        # From the columns when the plan has them: a view per row of a million would cost seconds, for nothing
        # when there is no A/B test.
        pairs = rows.variant_pairs() if hasattr(rows, "variant_pairs") else \
            ((r.base_id or r.instruction_id, r.variant) for r in rows)
        journal.assign_variants(self.plan.name, pairs)

    def _flush_holds(self, journal: Journal | None) -> None:
        if journal is None or self.dry_run:
            return
        for state in self._holds:
            if self._holds[state]:
                journal.hold(self.plan.name, self._holds[state], state)
                self._holds[state] = []

    def _resolve_held(self) -> None:
        """Settle rows held back because an earlier row of the list calls the same person."""
        for r, decision in self._held:
            with self._lock:
                first = dict(self._records.get(decision.first, {})) if decision.first is not None else {}
            status, reason = settle_held(self.plan, decision, first.get("status"))
            if status == "already-called":
                self._set(r.position, status=status, call_ids=first.get("call_ids"), error=reason)
            else:
                self._set(r.position, status=status, error=reason)

    def _abort(self, error: BaseException, reason: str) -> None:
        reason = say(reason, self.front)
        with self._lock:
            first = self.error is None
            if first:
                self.error = error
                self.stop_reason = reason
                # A provider that cannot be reached may be back later; a refused token or a wrong
                # URL needs the operator before any run can make progress.
                self.stop_class = EXIT_RETRY if isinstance(error, ConnectError) else EXIT_ACT
        if first:
            log.error("campaign %r stopped: %s", self.plan.name, reason)
            if hasattr(error, "add_note"):  # Python 3.11+: the traceback shows the reason too
                error.add_note(f"cmvoice_nb: {reason}")
            else:
                try:
                    error.stop_reason = reason  # type: ignore[attr-defined]  # Python 3.10: no add_note
                except AttributeError:
                    pass
        self._stop.set()

    def _build_results(self) -> pd.DataFrame:
        # The records are shared, not copied (a million-row run would hold them twice): _set
        # replaces a row's dict and never changes one in place; only a pending row is copied to
        # be reported as skipped.
        empty: dict = {}
        with self._lock:
            records = [self._records.get(r.position, empty) for r in self.plan.rows]
        for i, rec in enumerate(records):
            if rec.get("status") == "pending":
                rec = records[i] = dict(rec, status="skipped")
                if self.stop_reason and rec.get("error") == _NOT_SENT:
                    rec["error"] = f"not sent: the run stopped ({self.stop_reason})"
                elif self.stopped_by_user and rec.get("error") == _NOT_SENT:
                    rec["error"] = "not sent: the run was stopped first (Ctrl-C, a signal or stop())"
        frame = results_frame(records, index=self.plan.index, campaign_key=self.campaign_key, kept=self.plan.kept)
        # Messages name options as markers; the results say them in the sender's front's words.
        errors = frame["error"]
        marked = errors.str.contains(MARKER, regex=False).fillna(False).to_numpy(dtype=bool)
        if marked.any():
            frame.loc[marked, "error"] = [say(text, self.front) for text in errors[marked]]
        return frame
