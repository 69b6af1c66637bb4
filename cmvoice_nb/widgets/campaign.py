"""Campaign: DataFrame → mapped, validated instructions → dry run or a paced, stoppable send.

Wiring only over :mod:`cmvoice_nb.campaign`: ``plan_campaign`` builds the plan from one
form row per field (a column *or* a default value, generated from :data:`cmvoice_nb.spec.APPS`),
``CampaignSender`` sends it in a background thread so the notebook stays live and Stop works.

Safety: the simulator is always the starting target and typing a token never changes it.
Sending to the real API first shows what will happen (rows, countries, the estimate and the
calling hours) and waits for the campaign name typed into ``confirm_text`` and a click on
``confirm``; no request leaves before that.

Campaign operations are plain options of the library: ``calling_hours``/``days``/
``wait`` go to :class:`~cmvoice_nb.campaign.CampaignSender`, the do-not-call list
(``suppress`` path or ``suppress_upload``) and ``allowed_countries`` to
:func:`~cmvoice_nb.campaign.plan_campaign`, and Validate / Dry run show
:meth:`CampaignPlan.estimate <cmvoice_nb.campaign.CampaignPlan.estimate>` (priced with the
``prices`` CSV when one is given).

The form is a :class:`~cmvoice_nb.widgets._campaign_form.FieldForm`; what the app says about a
plan and a run (problems grouped, honest counts, the confirmation's lines) is computed in
``_campaign_facts``.

The product token is taken from the ``token=`` argument, the ``CM_PRODUCT_TOKEN``
environment variable (read when the widget is created) or the password field. A
token typed into the field is moved into the object at once and the field is
emptied, so it is never echoed, never kept in the widget state and never saved
with the notebook.
"""
from __future__ import annotations

import html
import logging
import os
import time
from pathlib import Path
from typing import Any

import ipywidgets as W

from ..spec import DEFAULT_RATE
from ._campaign_confirm import Confirmation
from ._campaign_facts import (
    banner_html,
    calling_hours_text,
    countries_text,
    estimate_text,
    finished_text,
    grouped_problems,
    outcome_counts,
    preview_html,
)
from ._campaign_form import UNSET, FieldForm, unset
from ._campaign_ops import OperationsPanel
from ._campaign_progress import RunProgress
from ..campaign.vocabulary import count_line
from ._common import BAD, MUTED, NONE_LABEL, OK, WARN, App, clear, say, show, table

logger = logging.getLogger(__name__)

SIMULATOR = "simulator"
PROVIDER = "provider"
#: How often the send monitor refreshes the progress bar and counts.
_POLL_S = 0.2


class Campaign(App):
    """Map a DataFrame onto an app's fields, validate, dry-run and send it with a live progress bar.

    Parameters
    ----------
    df
        One row per call.
    name
        Campaign name (part of every instruction id; re-using it resumes safely).
    app
        ``"notification"``, ``"otp"`` or ``"dtmf"``.
    token
        Product token for the real API; default ``CM_PRODUCT_TOKEN`` (read now) or the password field.
    simulator
        A running :class:`cmvoice_nb.simulator.Simulator` to send to; one is started on first use
        when the simulator target is chosen and none was given.
    journal_dir
        Folder of the send journals (``<name>.sqlite``) and results CSVs.
    region
        Default region for numbers written without a country code.
    columns
        Initial field → column mapping (e.g. ``{"callee": "phone"}``); same-named columns map themselves.
    defaults
        Initial default values, field key → value (e.g. ``{"caller": "+3120…", "callback-url": url}``).
    audio_root, spelling_root
        Passed to :func:`~cmvoice_nb.campaign.plan_campaign` for File-prompt / spelling checks.
    drop_duplicates
        Initial state of "Leave out repeated callees" (see :func:`~cmvoice_nb.campaign.plan_campaign`).
    rate
        Calls per second.
    calling_hours, days, wait
        Initial calling hours (``"09:00-20:00"`` in each callee's local time; empty: any time),
        their days (``"mon-fri"``) and whether rows outside them wait (True) or end ``deferred``.
    suppress
        Initial do-not-call list path (CSV/TXT, any spelling; see
        :func:`~cmvoice_nb.campaign.ops.suppress.read_suppression`).
    allowed_countries
        Initial allowed countries (``"NL,BE"``); a number of another country is invalid.
    prices
        Initial price table path for the estimate (CSV ``country,price_per_minute[,setup]``).

    Attributes
    ----------
    target, token, base_url, app, name, region, country_column, dates, decimal, rate, drop_duplicates,
    mapping, default_inputs, preview, validate, dry_run, send, stop, progress, counts, confirm_text, confirm
        The controls; ``mapping`` and ``default_inputs`` are dicts keyed by wire key (one form row
        per field: its column dropdown and its default input); ``preview`` shows the list's first
        rows and, once validated, what they will hear.
    calling_hours, days, wait_for_hours, suppress, suppress_upload, allowed_countries, prices, estimate
        The campaign-operation controls: calling hours text, days text, "wait for calling hours"
        checkbox (``wait=`` of the sender), do-not-call list path and upload (its bytes are dropped once read), allowed
        countries text, price table path, and the HTML the estimate is shown in.
    plan, sender, results, last_counts
        The last plan, the last :class:`~cmvoice_nb.campaign.CampaignSender`, its results and the
        honest counts shown for them (``new``, ``already_done``, ``stopped``, ``left_out`` and each
        results status that is not zero).
    fields_box, operations, confirm_box, run_progress
        The parts the controls live in: the generated form, the campaign-operations panel, the
        confirmation before real calls, the progress line.
    uploaded_suppression
        The do-not-call list read from the last upload (a
        :class:`~cmvoice_nb.campaign.ops.suppress.SuppressionList`), or None.
    """

    _control_names = ("target", "token", "base_url", "app", "name", "region", "country_column", "dates", "decimal",
                      "rate", "drop_duplicates", "mapping", "default_inputs", "preview", "validate", "dry_run", "send",
                      "stop", "progress", "counts", "confirm_text", "confirm", "calling_hours", "days",
                      "wait_for_hours", "suppress", "suppress_upload", "allowed_countries", "prices", "estimate")

    def __init__(self, df: Any = None, *, name: str = "campaign", app: str = "notification",
                 token: str | None = None, simulator: Any = None, journal_dir: str | os.PathLike = "campaigns",
                 region: str | None = "NL", columns: dict[str, Any] | None = None,
                 defaults: dict[str, Any] | None = None,
                 audio_root: str | os.PathLike | None = None, spelling_root: str | os.PathLike | None = None,
                 drop_duplicates: bool = False, rate: float = DEFAULT_RATE, calling_hours: str | None = None,
                 days: str = "mon-fri", wait: bool = True, suppress: str | os.PathLike | None = None,
                 allowed_countries: str | None = None, prices: str | os.PathLike | None = None) -> None:
        from ..spec import APPS, DEFAULT_BASE_URL, TOKEN_ENV

        super().__init__()
        self.add_class("cmvoice-app")
        self.add_class("cmvoice-campaign")
        import pandas as pd

        self.df = pd.DataFrame() if df is None else df
        self._token = token if token else os.environ.get(TOKEN_ENV) or None
        self._simulator = simulator
        self._own_simulator = None
        self._default_base_url = DEFAULT_BASE_URL
        self.journal_dir = Path(journal_dir)
        self.audio_root = audio_root
        self.spelling_root = spelling_root
        self.plan = None
        self.sender = None
        self.results = None
        self.last_counts: dict[str, int] = {}
        self._monitor = None

        style = {"description_width": "8em"}
        self.target = W.ToggleButtons(options=[("Simulator (rehearsal)", SIMULATOR), ("CM Voice API (real)", PROVIDER)],
                                      value=SIMULATOR, description="Send to",
                                      tooltips=["no account, no real calls", "real, billable calls"],
                                      style={**style, "button_width": "15em"})
        self.banner = W.HTML()
        self.token = W.Password(value="", description="Product token", style=style,
                                placeholder=self._token_placeholder(), layout=W.Layout(width="32em"))
        self.token.observe(self._take_token, names="value")
        self.base_url = W.Text(value="", placeholder=DEFAULT_BASE_URL, description="Base URL", style=style,
                               layout=W.Layout(width="40em"))
        self.app = W.Dropdown(options=list(APPS), value=app, description="App", style=style,
                              layout=W.Layout(width="20em"))
        self.name = W.Text(value=name, description="Campaign", style=style, layout=W.Layout(width="24em"))
        self.region = W.Text(value=region or "", description="Region", placeholder="e.g. NL", style=style,
                             layout=W.Layout(width="16em"))
        # Each row's country (never guessed from a column's name: a "Region" may be a sales area).
        given_country = (columns or {}).get("region")
        self.country_column = W.Dropdown(
            options=[(NONE_LABEL, UNSET)] + [(str(c), c) for c in self.df.columns],
            value=given_country if given_country in list(self.df.columns) else UNSET, description="Country column",
            style=style, layout=W.Layout(width="24em"),
            tooltip="the column giving each row's country: its national numbers are read in it")
        # How the list writes template dates and amounts, when the planner cannot decide it.
        self.dates = W.Dropdown(options=[("decide from the list", None), ("day first (09-12 is 9 Dec)", True),
                                         ("month first (12-09 is 9 Dec)", False)], value=None,
                                description="Dates", style=style, layout=W.Layout(width="24em"))
        self.decimal = W.Dropdown(options=[("decide from the list", None), ("comma (12,50)", ","),
                                           ("point (12.50)", ".")], value=None, description="Decimal sign",
                                  style=style, layout=W.Layout(width="24em"))
        self.rate = W.BoundedFloatText(value=rate, min=0.1, max=100.0, step=0.5, description="Calls / s",
                                       style=style, layout=W.Layout(width="16em"))
        self.drop_duplicates = W.Checkbox(value=bool(drop_duplicates), description="Leave out repeated callees",
                                          indent=False, layout=W.Layout(width="18em"))
        # Campaign operations: when to call, whom never to call, where calls may go, what it costs.
        self.operations = OperationsPanel(region=lambda: self.region.value.strip() or None,
                                          calling_hours=calling_hours, days=days, wait=wait, suppress=suppress,
                                          allowed_countries=allowed_countries, prices=prices, style=style)
        ops = self.operations
        self.calling_hours, self.days, self.wait_for_hours = ops.calling_hours, ops.days, ops.wait_for_hours
        self.allowed_countries, self.prices = ops.allowed_countries, ops.prices
        self.suppress, self.suppress_upload, self.suppress_info = ops.suppress, ops.suppress_upload, ops.suppress_info
        self.estimate = W.HTML()
        self.fields_box = FieldForm(list(self.df.columns), columns=columns, defaults=defaults)
        self.preview = W.HTML()
        self.validate = W.Button(description="Validate", icon="check", layout=W.Layout(width="9em"))
        self.dry_run = W.Button(description="Dry run", icon="eye", layout=W.Layout(width="9em"))
        self.send = W.Button(description="Send", button_style="danger", icon="phone", layout=W.Layout(width="9em"))
        self.stop = W.Button(description="Stop", icon="stop", disabled=True, layout=W.Layout(width="9em"))
        self.run_progress = RunProgress(style=style)
        self.progress, self.counts = self.run_progress.progress, self.run_progress.counts
        # The deliberate step before real calls.
        self.confirm_box = Confirmation()
        self.confirm_summary, self.confirm_text = self.confirm_box.summary, self.confirm_box.text
        self.confirm, self.cancel = self.confirm_box.confirm, self.confirm_box.cancel

        self.target.observe(self.guard(lambda _c: self._on_target(), action="switch target"), names="value")
        self.base_url.observe(lambda _c: self._show_banner(), names="value")
        self.app.observe(self.guard(lambda _change: self.fields_box.build(self.app.value), action="switch app"),
                         names="value")
        self.suppress_upload.observe(self.guard(lambda _c: ops.take_upload(), action="read the do-not-call list"),
                                     names="value")
        self._busy = [self.validate, self.dry_run, self.send, self.target, self.app, self.name, self.region,
                      self.country_column, self.dates, self.decimal,
                      self.rate, self.drop_duplicates, self.token, self.base_url, *ops.controls]
        self.validate.on_click(self.action("validate", self._validate, busy=self._busy, working="validating"))
        self.dry_run.on_click(self.guard(lambda _b: self._start_background(dry_run=True), action="dry run"))
        self.send.on_click(self.guard(self._on_send, action="send"))
        self.confirm.on_click(self.guard(self._on_confirm, action="send"))
        self.cancel.on_click(self.guard(lambda _b: self._cancel_pending("cancelled: nothing was sent"),
                                        action="cancel"))
        self.stop.on_click(self.guard(self._on_stop, action="stop"))
        self.fields_box.build(self.app.value)
        self._show_preview()
        self._on_target()

        self.children = [
            W.HTML("<h3>Campaign</h3>"),
            self.preview,
            self.banner,
            W.HBox([self.target]),
            W.HBox([self.token, self.base_url]),
            W.HBox([self.app, self.name, self.region]),
            W.HBox([self.country_column, self.dates, self.decimal]),
            W.HBox([self.rate, self.drop_duplicates]),
            ops,
            self.fields_box,
            W.HBox([self.validate, self.dry_run, self.send, self.stop]),
            self.confirm_box,
            self.run_progress,
            self.status,
            self.estimate,
            self.out,
        ]

    # -- token: never echoed, never kept in widget state -------------------------------------------
    def _token_placeholder(self) -> str:
        return "token set (hidden) — type to replace" if self._token else "paste your product token"

    def _take_token(self, change: dict) -> None:
        value = (change.get("new") or "").strip()
        if not value:
            return
        self._token = value
        self.token.value = ""  # observer fires again with "", which returns above
        self.token.placeholder = self._token_placeholder()
        # Deliberately NOT switching the target: only a click on "CM Voice API (real)" does.

    @property
    def has_token(self) -> bool:
        """True when a product token is available (its value is never shown)."""
        return bool(self._token)

    # -- target: two looks that cannot be mistaken -------------------------------------------------
    def target_url(self) -> str:
        """Where a send goes: the simulator's address (once started) or the real API's base URL."""
        if self.target.value == SIMULATOR:
            sim = self._simulator
            return sim.base_url if sim is not None else "built-in simulator on 127.0.0.1 (starts on first send)"
        return self.base_url.value.strip() or self._default_base_url

    def _show_banner(self) -> None:
        self.banner.value = banner_html(self.target.value == PROVIDER, self.target_url())

    def _on_target(self) -> None:
        real = self.target.value == PROVIDER
        self.target.button_style = "danger" if real else "info"
        self.send.description = "Send (real)" if real else "Send"
        self.send.layout.width = "11em"
        self.token.layout.display = "" if real else "none"
        self.base_url.layout.display = "" if real else "none"
        self._cancel_pending(None)
        self._show_banner()

    # -- generated form: one row per field ---------------------------------------------------------
    @property
    def mapping(self) -> dict[str, W.Dropdown]:
        """Field key → its column dropdown (one form row per field of the chosen app)."""
        return self.fields_box.mapping

    @property
    def default_inputs(self) -> dict[str, W.Widget]:
        """Field key → the input of its default for every row (fields that differ per row have none)."""
        return self.fields_box.default_inputs

    def satisfied(self) -> dict[str, bool]:
        """Each needed field (``*``) → whether a column or a default fills it."""
        return self.fields_box.satisfied()

    def _show_preview(self, plan: Any = None) -> None:
        self.preview.value = preview_html(self.df, plan)

    def columns(self) -> dict[str, Any]:
        """The field → column mapping chosen in the dropdowns."""
        return self.fields_box.columns()

    def defaults(self) -> dict[str, Any]:
        """The field → default value typed in the inputs (empty inputs left out)."""
        return self.fields_box.defaults()

    def plan_options(self) -> dict[str, Any]:
        """The keyword arguments of :func:`~cmvoice_nb.campaign.plan_campaign` the controls stand for."""
        columns = self.columns()
        if not unset(self.country_column.value):
            columns["region"] = self.country_column.value
        return {
            "app": self.app.value,
            "name": self.campaign_name(),
            "columns": columns,
            "dayfirst": self.dates.value,
            "decimal": self.decimal.value,
            "defaults": self.defaults(),
            "region": self.region.value.strip() or None,
            "drop_duplicates": bool(self.drop_duplicates.value),
            "suppress": self.suppression(),
            "allowed_countries": self.operations.allowed(),
            "audio_root": self.audio_root,
            "spelling_root": self.spelling_root,
            # The journal's campaign key, when the journal exists, so the plan shows final ids.
            "journal": self.journal_path(),
        }

    def campaign_name(self) -> str:
        return self.name.value.strip() or "campaign"

    def send_options(self) -> dict[str, Any]:
        """The calling-hours options of :class:`~cmvoice_nb.campaign.CampaignSender` the controls stand for."""
        return self.operations.send_options()

    def prices_path(self) -> str | None:
        """The price table typed in ``prices``, or None."""
        return self.operations.prices_path()

    @property
    def uploaded_suppression(self) -> Any:
        """The do-not-call list read from the last upload, or None."""
        return self.operations.uploaded_suppression

    def suppression(self) -> Any:
        """The do-not-call list for the next plan: the ``suppress`` path, the upload, both (merged), or None."""
        return self.operations.suppression()

    # -- transport -------------------------------------------------------------------------------
    def client(self) -> Any:
        """The client for the chosen target (the simulator is started on first use)."""
        from ..client import VoiceClient

        if self.target.value == SIMULATOR:
            return self.simulator.client()
        self._require_token()
        return VoiceClient(self._token, base_url=self.base_url.value.strip() or None)

    def _require_token(self) -> None:
        from ..errors import ConfigurationError

        if not self._token:
            raise ConfigurationError("no product token: paste it into 'Product token', set CM_PRODUCT_TOKEN, "
                                     "or choose the simulator")

    @property
    def simulator(self) -> Any:
        """The simulator sends go to when the simulator target is chosen."""
        if self._simulator is None:
            from ..simulator import Simulator

            self._own_simulator = self._simulator = Simulator()
        return self._simulator

    def close(self) -> None:
        """Stop a running send and a simulator this widget started; then close the widget."""
        if self.sender is not None:
            self.sender.stop()
        if self._own_simulator is not None:
            self._own_simulator.close()
            self._own_simulator = None
        super().close()

    # -- actions ---------------------------------------------------------------------------------
    def make_plan(self) -> Any:
        from ..campaign import plan_campaign

        self.estimate.value = ""
        self.plan = plan_campaign(self.df, **self.plan_options())
        self._show_preview(self.plan)
        return self.plan

    def forecast(self, plan: Any) -> Any:
        """What sending *plan* on the app's journal would do with each row now (the counts every front-end shows)."""
        from ..campaign import forecast

        return forecast(plan, self.journal_path())

    def _validate(self) -> None:
        plan = self.make_plan()
        s = plan.summary()
        fc = self.forecast(plan)
        valid, rows = int(s["valid"]), int(s["rows"])
        show(self.out, table(s.to_frame().T.reset_index(drop=True), caption="Plan", failures_first=False))
        for note in plan.notes:  # e.g. a country column that is not used
            say(self.out, f"Note: {note.say('widget')}")
        if len(plan.problems):
            show(self.out, table(grouped_problems(plan.problem_frame("widget")), caption="Problems (one line per kind)",
                                 failures_first=False))
        colour = OK if not len(plan.problems) else (BAD if valid == 0 else WARN)
        rest = {k: n for k, n in fc.counts.items() if k != "to send"}
        extra = f" ({count_line(rest)})" if rest else ""
        self.set_status(f"{valid} of {rows} rows valid, {int(s['problems'])} problem(s), "
                        f"{fc.to_send} to send{extra}", colour=colour)
        self._show_estimate(fc)

    def _show_estimate(self, fc: Any) -> None:
        """Show the estimate of what is left to send (priced when a price table is given) and the calling-hours line."""
        self.estimate.value = fc.estimate(prices=self.prices_path())._repr_html_() + (
            f"<div><b>Calling hours</b>: {html.escape(self.calling_hours_text(fc.plan))}</div>")

    def _on_send(self, _button: Any = None) -> None:
        if self.working:
            return
        if self.target.value == SIMULATOR:
            self._start_background(dry_run=False)
            return
        self._prepare_real_send()

    def _start_background(self, *, dry_run: bool, plan: Any = None) -> None:
        what = "dry run" if dry_run else "send"
        self.action(what, lambda: self._run_send(dry_run=dry_run, plan=plan), busy=self._busy,
                    working="dry run" if dry_run else f"sending to {self._target_words()}", background=True)()
        if self._threads:
            self._monitor = self._threads[-1]

    def _target_words(self) -> str:
        return "the simulator" if self.target.value == SIMULATOR else "CM (real calls)"

    # -- the deliberate step before real calls ---------------------------------------------------------
    def confirmation_facts(self, plan: Any) -> list[tuple[str, str]]:
        """What the confirmation shows, as (label, text) lines; extend it to add more facts."""
        fc = self.forecast(plan)
        estimate = fc.estimate(prices=self.prices_path())
        rest = {k: n for k, n in fc.counts.items() if k != "to send"}
        return [
            ("Target", "CM Voice API — real, billable calls"),
            ("Base URL", self.target_url()),
            ("Campaign", f"{plan.name} ({plan.app})"),
            ("Calls", f"{fc.to_send} of {len(plan.rows)} rows" + (f" ({count_line(rest)})" if rest else "")
                      + "; nobody the journal already called is called again"),
            ("Countries", countries_text(estimate)),
            ("Estimate", estimate_text(estimate, priced=bool(self.prices_path()))),
            ("Calling hours", self.calling_hours_text(plan)),
        ]

    def calling_hours_text(self, plan: Any) -> str:
        """The calling-hours line: the window, the days, and how many rows are outside it now."""
        return calling_hours_text(plan, self.send_options())

    def _prepare_real_send(self) -> None:
        self._cancel_pending(None)
        # A new action: the previous run's result and error go, like in every other action.
        clear(self.out)
        self.last_error = None
        self.run_progress.clear()
        self._require_token()
        plan = self.make_plan()
        s = plan.summary()
        to_send = self.forecast(plan).to_send
        if to_send == 0:
            self.set_status(f"nothing to send: {int(s['valid'])} of {int(s['rows'])} rows valid — Validate shows why",
                            colour=BAD)
            return
        self.confirm_box.ask(plan, self.confirmation_facts(plan), calls=to_send)
        self.set_status("waiting for your confirmation: nothing has been sent", colour=WARN)

    def _cancel_pending(self, message: str | None) -> None:
        self.confirm_box.dismiss()
        if message:
            self.set_status(message, colour=MUTED)

    def _on_confirm(self, _button: Any = None) -> None:
        plan = self.confirm_box.pending
        # .click() from code ignores `disabled`: the typed name is checked here, every time.
        if plan is None:
            self.set_status("nothing to confirm: press Send first", colour=WARN)
            return
        if not self.confirm_box.confirmed():
            self.set_status(f"type the campaign name {plan.name!r} exactly to confirm; nothing was sent", colour=WARN)
            return
        if self.target.value != PROVIDER:
            self._cancel_pending("the target changed: nothing was sent")
            return
        self._cancel_pending(None)
        self._start_background(dry_run=False, plan=plan)

    def _on_stop(self, _button: Any = None) -> None:
        if self.sender is not None and self.sender.running:
            self.sender.stop()
            self.set_status("stopping: requests in flight finish, nothing new starts …", colour=WARN)

    def journal_path(self) -> Path:
        return self.journal_dir / f"{self.campaign_name()}.sqlite"

    def results_path(self) -> Path:
        return self.journal_dir / f"{self.campaign_name()}-results.csv"

    # -- the send itself (in a background thread) ------------------------------------------------
    def _run_send(self, *, dry_run: bool, plan: Any = None) -> None:
        from ..campaign import CampaignSender

        if plan is None:
            plan = self.make_plan()
        else:
            self.plan = plan
        client = self.client() if not dry_run or self.target.value == SIMULATOR or self._token else None
        self._show_banner()  # the simulator's address, once started
        if not dry_run:
            self.journal_dir.mkdir(parents=True, exist_ok=True)
        if dry_run:
            self._show_estimate(self.forecast(plan))
        # A dry run reads the journal too (it writes nothing): its counts are the send's.
        sender = CampaignSender(
            plan, client, journal=self.journal_path(), dry_run=dry_run,
            rate=float(self.rate.value), burst=max(1, int(self.rate.value)), progress=False,
            results_path=None if dry_run else self.results_path(), front="widget", **self.send_options())
        self.sender = sender
        self.results = None
        self.last_counts = {}
        self.run_progress.clear(rows=len(plan.rows), style="info")
        self.stop.disabled = False
        try:
            sender.start()
            self._watch(sender, dry_run)
        finally:
            self.stop.disabled = True

    def _watch(self, sender: Any, dry_run: bool) -> None:
        # Runs in a thread: touch widgets only through trait assignment and append_* calls.
        while not sender.done:
            p = sender.progress
            self.run_progress.running(p, sender.wait_text if p.get("waiting") else "")
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
        counts = outcome_counts(results, already_done=sender.already_done)
        self.last_counts = counts
        to_send = int(sender.progress.get("to_send", 0))
        self.run_progress.finished(counts, to_send=to_send, failed=error is not None, stopped=sender.stopped_by_user)
        attention = sender.needs_attention
        show(self.out, table(results.drop(columns=["campaign_key", "input_position"], errors="ignore"),
                             caption="Results (rows that need you first)"))
        if attention:
            say(self.out, sender.summary())  # what needs attention, and what resolves it (in the app's words)
        if not dry_run:
            say(self.out, f"results: {self.results_path()}\njournal: {self.journal_path()}")
        if error is not None:
            raise error
        text = finished_text(counts, dry_run=dry_run, to_send=to_send, stopped_by_user=sender.stopped_by_user)
        self.set_status(text, colour=WARN if (sender.stopped_by_user or attention or counts.get("deferred")) else OK)

    def wait(self, timeout: float | None = 60.0) -> Any:
        """Block until the current send (and its monitor) finished; return the results."""
        if self._monitor is not None:
            self._monitor.join(timeout)
        return self.results


__all__ = ["Campaign", "SIMULATOR", "PROVIDER"]
