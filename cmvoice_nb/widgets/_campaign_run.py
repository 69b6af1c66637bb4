"""The Campaign app's actions: validate, the confirmation before real calls, and the send in a thread.

:class:`RunMixin` holds the part of :class:`~cmvoice_nb.widgets.Campaign` that acts: planning
(``plan_campaign``), counting (``forecast``, the one set of counts), the deliberate step before
real calls (bound to a snapshot of the form), and a :class:`~cmvoice_nb.campaign.CampaignSender`
run in a background thread, watched for its pace, its live counts and the outcomes of its calls,
ending in one of the four end states. Every decision is a library function or a pure function of
``_campaign_ends`` / ``_campaign_facts``; this module only wires them.
"""
from __future__ import annotations

import html
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..campaign.vocabulary import count_line
from ._campaign_ends import EndState, callback_facts, calls_now, end_state
from ._campaign_facts import calling_hours_text, countries_text, estimate_text, grouped_problems, outcome_counts
from ._campaign_rules import check_rules, forecast_options, rule_lines
from ._common import BAD, MUTED, OK, WARN, clear, say, show, table

if TYPE_CHECKING:
    import threading

    import ipywidgets as W
    import pandas as pd

    from ..campaign import CampaignPlan, CampaignSender
    from ._campaign_confirm import Confirmation
    from ._campaign_progress import RunProgress
    from ._campaign_results import ResultsView

__all__ = ["RunMixin", "SIMULATOR", "PROVIDER"]

SIMULATOR = "simulator"
PROVIDER = "provider"
#: How often the send monitor refreshes the progress bar and counts; the callback log is read every
#: ``_CALLBACK_EVERY`` polls.
_POLL_S = 0.2
_CALLBACK_EVERY = 5


class RunMixin:
    """Validate, confirm and send (see the module docstring); mixed into the Campaign app."""

    if TYPE_CHECKING:  # what this part keeps
        plan: CampaignPlan | None
        sender: CampaignSender | None
        results: pd.DataFrame | None
        end: EndState | None
        nothing_reason: str | None
        last_counts: dict[str, int]
        last_error: BaseException | None
        _shown: tuple | None  # the form the pending confirmation is bound to
        _monitor: threading.Thread | None

    if TYPE_CHECKING:  # what the app provides (App and Campaign)
        df: pd.DataFrame
        out: W.Output
        estimate: W.HTML
        rate: W.BoundedFloatText
        app: W.Dropdown
        target: W.ToggleButtons
        stop: W.Button
        run_progress: RunProgress
        confirm_box: Confirmation
        results_view: ResultsView
        journal_dir: Path
        callbacks_log: Path | None
        list_name: str
        working: bool
        _token: str | None
        _threads: list[threading.Thread]

        @property
        def busy(self) -> list[W.Widget]: ...
        def set_status(self, text: str, *, colour: str = ...) -> None: ...
        def _hold(self, controls: Any) -> None: ...
        def _release(self) -> None: ...
        def action(self, name: str, fn: Callable[[], Any], *, busy: Any = ..., working: str | None = ...,
                   background: bool = ...) -> Callable[..., None]: ...
        def snapshot(self) -> tuple: ...
        def _apply_send_state(self) -> None: ...
        def plan_options(self) -> dict[str, Any]: ...
        def campaign_name(self) -> str: ...
        def send_options(self) -> dict[str, Any]: ...
        def prices_path(self) -> str | None: ...
        def target_url(self) -> str: ...
        def client(self) -> Any: ...
        def _show_preview(self, plan: Any = ...) -> None: ...
        def _show_banner(self) -> None: ...
        def _require_token(self) -> None: ...

    # -- planning and counting ------------------------------------------------------------------
    def make_plan(self) -> Any:
        from ..campaign import plan_campaign

        self.estimate.value = ""
        self.plan = plan_campaign(self.df, **self.plan_options())
        self._show_preview(self.plan)
        check_rules(self.plan, self.send_options())  # a bad rule is said before any count or call
        return self.plan

    def forecast(self, plan: Any) -> Any:
        """What sending *plan* on the app's journal would do with each row now (the counts every front-end shows)."""
        from ..campaign import forecast

        return forecast(plan, self.journal_path(), **forecast_options(self.send_options()))

    def _problems(self, plan: Any) -> None:
        for note in plan.notes:  # e.g. a country column that is not used
            say(self.out, f"Note: {note.say('widget')}")
        if len(plan.problems):
            show(self.out, table(grouped_problems(plan.problem_frame("widget"), index=plan.index),
                                 caption="Problems (one line per kind)", failures_first=False))

    def _validate(self) -> None:
        plan = self.make_plan()
        s = plan.summary()
        fc = self.forecast(plan)
        valid, rows = int(s["valid"]), int(s["rows"])
        show(self.out, table(s.to_frame().T.reset_index(drop=True), caption="Plan", failures_first=False))
        self._problems(plan)
        colour = OK if not len(plan.problems) else (BAD if valid == 0 else WARN)
        rest = {k: n for k, n in fc.counts.items() if k != "to send"}
        extra = f" ({count_line(rest)})" if rest else ""
        text = f"{valid} of {rows} rows valid, {int(s['problems'])} problem(s), {fc.to_send} to send{extra}"
        if fc.to_send == 0:
            state = end_state(fc.counts, rows=rows)
            self.nothing_reason = state.headline
            self.set_status(f"{text} — Send is off: {state.headline}", colour=state.colour if rows else MUTED)
        else:
            self.set_status(text, colour=colour)
        self._show_estimate(fc)

    def _show_estimate(self, fc: Any) -> None:
        """Show the estimate of what is left to send (priced when a price table is given) and the calling-hours line."""
        rules = [(k, v) for k, v in rule_lines(fc.plan, self.send_options()) if k != "Budget"]
        rules.append(("Budget", fc.budget_line() or ""))
        self.estimate.value = fc.estimate(prices=self.prices_path())._repr_html_() + (
            f"<div><b>Calling hours</b>: {html.escape(self.calling_hours_text(fc.plan))}</div>") + "".join(
            f"<div><b>{html.escape(k)}</b>: {html.escape(v)}</div>" for k, v in rules if v)

    def calling_hours_text(self, plan: Any) -> str:
        """The calling-hours line: the window, the days, and how many rows are outside it now."""
        return calling_hours_text(plan, self.send_options())

    def _nothing(self, fc: Any, rows: int) -> bool:
        """Say "nothing to send" (and turn Send off) when *fc* sends no row; True then."""
        if fc.to_send:
            return False
        self.end = end_state(fc.counts, rows=rows)
        self.nothing_reason = self.end.headline
        self._apply_send_state()
        self.run_progress.ended(self.end)
        self.set_status(self.end.headline, colour=self.end.colour)
        return True

    # -- buttons --------------------------------------------------------------------------------
    def _on_send(self, _button: Any = None) -> None:
        if self.working or self.confirm_box.pending is not None:
            return
        if self.nothing_reason is not None:  # a click from code on the disabled button
            self.set_status(f"nothing to send: {self.nothing_reason}", colour=MUTED)
            return
        if self.target.value == SIMULATOR:
            self._start_background(dry_run=False)
            return
        self._prepare_real_send()

    def _start_background(self, *, dry_run: bool, plan: Any = None, options: dict | None = None) -> None:
        what = "dry run" if dry_run else "send"
        self.action(what, lambda: self._run_send(dry_run=dry_run, plan=plan, options=options), busy=self.busy,
                    working="dry run" if dry_run else f"sending to {self._target_words()}", background=True)()
        if self._threads:
            self._monitor = self._threads[-1]

    def _target_words(self) -> str:
        return "the simulator" if self.target.value == SIMULATOR else "CM (real calls)"

    def _on_stop(self, _button: Any = None) -> None:
        if self.sender is not None and self.sender.running:
            self.sender.stop()
            self.set_status("stopping: requests in flight finish, nothing new starts …", colour=WARN)

    def journal_path(self) -> Path:
        return self.journal_dir / f"{self.campaign_name()}.sqlite"

    def results_path(self) -> Path:
        return self.journal_dir / f"{self.campaign_name()}-results.csv"

    # -- the deliberate step before real calls ----------------------------------------------------
    def confirmation_facts(self, plan: Any, fc: Any = None, *, now: int | None = None, later: int = 0,
                           urls: list | None = None, problems: list | None = None) -> list[tuple[str, str]]:
        """What the confirmation shows, as (label, text) lines; extend it to add more facts."""
        fc = fc if fc is not None else self.forecast(plan)
        now = fc.to_send if now is None else now
        estimate = fc.estimate(prices=self.prices_path())
        rest = {k: n for k, n in fc.counts.items() if k != "to send"}
        waits = self.send_options().get("wait", True)
        calls = f"{now} now"
        if later:
            calls += (f", {later} when their calling hours open (the run waits)" if waits
                      else f"; {later} outside their calling hours end deferred")
        urls = callback_facts(plan, base_url=self.target_url())[0] if urls is None else urls
        cb = ", ".join(urls) or "none: no callback will say how the calls ended"
        if problems:
            cb += " — " + "; ".join(problems)
        return [
            ("Target", "CM Voice API — real, billable calls"),
            ("Base URL", self.target_url()),
            ("Campaign", f"{plan.name} ({plan.app}), journal {self.journal_path()}"),
            ("List", f"{self.list_name}: {len(plan.rows)} rows"),
            ("Calls", calls + (f" ({count_line(rest)})" if rest else "")
             + "; nobody the journal already called is called again"),
            ("Countries", countries_text(estimate, priced=bool(self.prices_path()))),
            ("Estimate", estimate_text(estimate, priced=bool(self.prices_path()))),
            ("Calling hours", self.calling_hours_text(plan)),
            ("Callback URL", cb),
            ("Rate", f"{float(self.rate.value):g} calls/s"),
            *rule_lines(plan, self.send_options()),
        ]

    def _prepare_real_send(self) -> None:
        self._withdraw(None)
        # A new action: the previous run's result and error go, like in every other action.
        clear(self.out)
        self.last_error = None
        self.run_progress.clear()
        self.results_view.clear()
        self._require_token()
        plan = self.make_plan()
        fc = self.forecast(plan)
        if self._nothing(fc, len(plan.rows)):
            self._problems(plan)
            return
        options = self.send_options()
        now, later = calls_now(fc.rows_to_send(), options, now=options.get("now"), plan=plan)
        if now == 0 and not options.get("wait", True):
            self.nothing_reason = (f"nothing would be placed now: the {later} row(s) to send are outside their "
                                   "calling hours and the run does not wait")
            self._apply_send_state()
            self.set_status(self.nothing_reason, colour=WARN)
            return
        urls, problems = callback_facts(plan, base_url=self.target_url())
        facts = self.confirmation_facts(plan, fc, now=now, later=later, urls=urls, problems=problems)
        self._pending_options = {"rate": float(self.rate.value), **options}
        self.confirm_box.ask(plan, facts, calls=now + (later if options.get("wait", True) else 0),
                             problems=problems)
        self._shown = self.snapshot()
        self._hold(self.busy)  # every input locked while the confirmation is open
        self._confirm_lock = True
        self.set_status("waiting for your confirmation: nothing has been sent; every input is locked until you "
                        "confirm or cancel", colour=WARN)

    def _withdraw(self, message: str | None) -> None:
        """Withdraw a pending confirmation (and unlock the form); say *message*."""
        self.confirm_box.dismiss()
        self._shown = None
        if self._confirm_lock:
            self._confirm_lock = False
            self._release()
        if message:
            self.set_status(message, colour=MUTED)

    _cancel_pending = _withdraw

    def _on_confirm(self, _button: Any = None) -> None:
        plan = self.confirm_box.pending
        # .click() from code ignores `disabled`: everything is checked here, every time.
        if plan is None:
            self.set_status("nothing to confirm: press Send first", colour=WARN)
            return
        if not self.confirm_box.confirmed():
            self.set_status(f"type the campaign name {plan.name!r} exactly to confirm; nothing was sent", colour=WARN)
            return
        if self.target.value != PROVIDER or self.snapshot() != self._shown:
            self._withdraw("the form changed since the confirmation was shown: it was withdrawn, nothing was sent")
            return
        if self.confirm_box.problems and not self.confirm_box.reachable.value:
            self.set_status("the callback URL cannot be reached by the provider: tick 'reachable' in the "
                            "confirmation if a tunnel or VPN reaches it; nothing was sent", colour=BAD)
            return
        options = {**self._pending_options, "allow_private_callback_url": bool(self.confirm_box.reachable.value)}
        self._withdraw(None)
        self._start_background(dry_run=False, plan=plan, options=options)

    # -- the send itself (in a background thread) ------------------------------------------------
    def _run_send(self, *, dry_run: bool, plan: Any = None, options: dict | None = None) -> None:
        from ..campaign import CampaignSender

        self.results_view.clear()
        self.end = None
        if plan is None:
            plan = self.make_plan()
        else:
            self.plan = plan
        fc = self.forecast(plan)
        if dry_run:
            self._show_estimate(fc)
        if self._nothing(fc, len(plan.rows)):
            self._problems(plan)
            return
        if options is None:
            options = {"rate": float(self.rate.value), **self.send_options()}
        rate = float(options.pop("rate"))
        client = self.client() if not dry_run or self.target.value == SIMULATOR or self._token else None
        self._show_banner()  # the simulator's address, once started
        if not dry_run:
            self.journal_dir.mkdir(parents=True, exist_ok=True)
        # A dry run reads the journal too (it writes nothing): its counts are the send's.
        sender = CampaignSender(
            plan, client, journal=self.journal_path(), dry_run=dry_run, rate=rate, burst=max(1, int(rate)),
            progress=False, results_path=None if dry_run else self.results_path(), front="widget", **options)
        self.sender = sender
        self.results = None
        self.last_counts = {}
        self.run_progress.clear(rows=fc.to_send, style="info")
        self.stop.disabled = False
        try:
            sender.start()
            self._watch(sender, dry_run, rate=rate)
        finally:
            self.stop.disabled = True

    def _live_outcomes(self, ids: set) -> dict[str, int]:
        """Outcomes of this run's calls in the callback log so far (last callback of each call)."""
        path = self.callbacks_log
        if path is None or not ids or not Path(path).exists():
            return {}
        from ..callbacks import load_callbacks

        calls = load_callbacks(path, warn=False)
        if not len(calls):
            return {}
        mine = calls[calls["instruction_id"].astype("string").isin(ids).fillna(False).to_numpy(dtype=bool)]
        last = mine.drop_duplicates("call_id", keep="last") if "call_id" in mine.columns else mine
        return {str(k): int(n) for k, n in last["outcome"].astype("string").fillna("unknown").value_counts().items()}

    def _watch(self, sender: Any, dry_run: bool, *, rate: float) -> None:
        # Runs in a thread: touch widgets only through trait assignment and append_* calls.
        samples: deque = deque(maxlen=200)
        live = self.callbacks_log is not None and not dry_run
        polls = 0
        while not sender.done:
            p = sender.progress
            samples.append((time.monotonic(), int(p.get("sent", 0))))
            self.run_progress.running(p, sender.wait_text if p.get("waiting") else "", samples=samples, rate=rate)
            if live and polls % _CALLBACK_EVERY == 0:
                # The sender's plan carries the journal's campaign key once the run opened it: read its ids now.
                self.run_progress.show_outcomes(self._guarded_outcomes(self._ids(sender)))
            polls += 1
            time.sleep(_POLL_S)
        error = None
        try:
            results = sender.wait()
        except Exception as exc:
            results, error = getattr(exc, "results", None), exc
        self.results = results
        if results is None:
            if error is not None:
                raise error
            return
        if live:
            self.run_progress.show_outcomes(self._guarded_outcomes(self._ids(sender)))
        counts = outcome_counts(results, already_done=sender.already_done)
        self.last_counts = counts
        statuses = results["status"].astype("string").fillna("skipped").value_counts()
        per_status = {str(k): int(n) for k, n in statuses.items() if str(k) not in ("queued", "dry-run")}
        if sender.already_done:
            per_status["already done"] = int(sender.already_done)
        placed = counts.get("dry-run", 0) if dry_run else counts.get("new", 0)
        self.end = end_state(per_status, placed=placed, dry_run=dry_run, stopped=sender.stopped_by_user,
                             stop_class=sender.stop_class, rows=len(results))
        self.run_progress.finished(counts, to_send=int(sender.progress.get("to_send", 0)), end=self.end,
                                   failed=error is not None)
        files = []
        if not dry_run and self.results_path().exists():
            from ..campaign.results import results_to_excel

            files = [self.results_path(), results_to_excel(results, self.results_path().with_suffix(".xlsx"))]
        self.results_view.show(results, files=files, caption="Dry run: what each row would do" if dry_run
                               else f"Results — {self._target_words()}, {self.app.value}")
        if sender.needs_attention:
            say(self.out, sender.summary())  # what needs attention, and what resolves it (in the app's words)
        if not dry_run:
            say(self.out, f"results: {self.results_path()}\njournal: {self.journal_path()}")
            if self.forecast(sender.plan).to_send == 0:  # a second Send would offer nothing
                self.nothing_reason = "nothing left to send: every row of this list is settled in the journal"
        if error is not None:
            raise error
        self.set_status(self.end.headline, colour=self.end.colour)

    @staticmethod
    def _ids(sender: Any) -> set:
        return {r.instruction_id for r in sender.plan.rows}

    def _guarded_outcomes(self, ids: set) -> dict[str, int]:
        try:
            return self._live_outcomes(ids)
        except Exception:  # a chart is a nicety: a log being written may be mid-line
            return {}

    def wait(self, timeout: float | None = 60.0) -> Any:
        """Block until the current send (and its monitor) finished; return the results."""
        if self._monitor is not None:
            self._monitor.join(timeout)
        return self.results
