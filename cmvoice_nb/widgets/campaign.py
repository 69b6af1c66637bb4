"""Campaign: DataFrame → mapped, validated instructions → dry run or a paced, stoppable send.

Wiring only over :mod:`cmvoice_nb.campaign`: ``plan_campaign`` builds the plan from one
form row per field (a column *or* a default value, generated from :data:`cmvoice_nb.spec.APPS`),
``CampaignSender`` sends it in a background thread so the notebook stays live and Stop works.

Safety: the simulator is always the starting target and typing a token never changes it.
Sending to the real API first shows what will happen (rows, countries, the estimate and the
calling hours) and waits for the campaign name typed into ``confirm_text`` and a click on
``confirm``; no request leaves before that.

Campaign operations are plain options of the library: ``calling_hours``/``days``/``wait`` go to
:class:`~cmvoice_nb.campaign.CampaignSender`, the do-not-call list (``suppress`` path or
``suppress_upload``) and ``allowed_countries`` to :func:`~cmvoice_nb.campaign.plan_campaign`, and
Validate / Dry run show :meth:`CampaignPlan.estimate <cmvoice_nb.campaign.CampaignPlan.estimate>`
(priced with the ``prices`` CSV when one is given). The rules beyond them (holidays, time zone,
validity, contact ledger and cap, budget, live calls, the A/B test and the opt-out key) are the
same library options, in the operations panel and ``_campaign_rules``; the library checks their
values at Validate and its messages name the controls.

The list is given as ``df`` or loaded with ``upload`` (CSV with any separator and encoding,
Excel, Parquet: the library's :func:`~cmvoice_nb.campaign.inputs.read_table`); its columns are
proposed by :func:`~cmvoice_nb.campaign.propose_columns` (names and contents) for the operator to
confirm in the form.

The confirmation before real calls is bound to one snapshot of everything that shapes the run
(the plan, target, token, base URL, campaign name, journal and options): while it is open every
input is locked, any change or Cancel withdraws it, and ``confirm`` acts only on the plan it
showed. Its counts are the forecast's (:func:`~cmvoice_nb.campaign.forecast`: after the journal,
the people guard and the do-not-call list) less the rows outside their calling hours now; a
callback URL the real API cannot reach is refused unless its checkbox says it is reachable.

A run ends in one of four states with the CLI's exit classes (``_campaign_ends``): finished,
waiting, needs you, nothing to send. Send is disabled, with the reason, when nothing is sendable.

The form is a :class:`~cmvoice_nb.widgets._campaign_form.FieldForm`; what the app says about a
plan and a run is computed by the pure functions of ``_campaign_facts`` and ``_campaign_ends``;
the results are shown by ``_campaign_results.ResultsView``; sending runs in ``_campaign_run``.

The product token is taken from the ``token=`` argument, the ``CM_PRODUCT_TOKEN`` environment
variable (read when the widget is created) or the password field. A token typed into the field is
moved into the object at once and the field is emptied, so it is never echoed, never kept in the
widget state and never saved with the notebook.
"""
from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from ..spec import DEFAULT_RATE
from ._campaign_confirm import Confirmation
from ._campaign_facts import banner_html, preview_html
from ._campaign_form import UNSET, FieldForm, unset
from ._campaign_list import LIST_SUFFIXES, column_dropdown, column_options, proposal_text, read_list
from ._campaign_ops import OperationsPanel
from ._campaign_progress import RunProgress
from ._campaign_results import ResultsView
from ._campaign_rules import ABPanel, live_calls_control, with_pacing
from ._campaign_run import PROVIDER, SIMULATOR, RunMixin
from ._common import BAD, MUTED, App, clear

if TYPE_CHECKING:
    from ..campaign import CampaignPlan, CampaignSender
    from ..simulator import Simulator
    from ._campaign_ends import EndState

logger = logging.getLogger(__name__)

class Campaign(RunMixin, App):
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
        Initial field → column mapping (e.g. ``{"callee": "phone"}``); the other fields take
        :func:`~cmvoice_nb.campaign.propose_columns`' proposal (names and contents).
    defaults
        Initial default values, field key → value (e.g. ``{"caller": "+3120…", "callback-url": url}``).
    callbacks
        A callback log (JSONL, as a :class:`~cmvoice_nb.callbacks.CallbackReceiver` writes it):
        while a send runs, the outcomes of its calls are drawn as they arrive.
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
    now
        The clock the forecast and the sender judge time by (an aware datetime, or a clock such as
        :class:`~cmvoice_nb.campaign.ops.schedule.ManualClock`); default the real time.

    Attributes
    ----------
    target, token, base_url, app, name, region, country_column, dates, decimal, rate, drop_duplicates,
    mapping, default_inputs, preview, validate, dry_run, send, stop, progress, counts, confirm_text, confirm,
    upload, keep, pace, outcomes, results_view
        The controls (``upload`` loads a list; ``keep`` the list's columns carried into the
        results; ``pace`` the calls per second and time left of a running send; ``outcomes`` the
        live outcome chart; ``results_view`` every results row, paged and filtered); ``mapping`` and
        ``default_inputs`` are dicts keyed by wire key (one form row per field: its column dropdown
        and its default input); ``preview`` shows the list's first rows and, once validated, what
        they will hear.
    calling_hours, days, wait_for_hours, suppress, suppress_upload, allowed_countries, prices, estimate
        The campaign-operation controls: calling hours text, days text, "wait for calling hours"
        checkbox (``wait=`` of the sender), do-not-call list path and upload (its bytes are dropped once read), allowed
        countries text, price table path, and the HTML the estimate is shown in.
    plan, sender, results, last_counts, end
        The last plan, the last :class:`~cmvoice_nb.campaign.CampaignSender`, its results, the
        honest counts shown for them (``new``, ``already_done``, ``stopped``, ``left_out`` and each
        results status that is not zero) and how the run ended (an
        :class:`~cmvoice_nb.widgets._campaign_ends.EndState`); all cleared when the target, the App
        or the list changes.
    nothing_reason
        Why Send is disabled (nothing is sendable), or None.
    fields_box, operations, confirm_box, run_progress
        The parts the controls live in: the generated form, the campaign-operations panel, the
        confirmation before real calls, the progress line.
    public_holidays, holidays, tz, valid_for, valid_until, contacts, max_contacts, max_cost, max_live_calls
        The rules' controls (the library's options of the same names): public holidays checkbox,
        holidays file, time zone, validity window, contact ledger and its cap (``1/7d``), budget
        (needs ``prices``), calls alive at once.
    subdivision_column
        The column giving each row's subdivision (``columns={"subdivision": ...}``), for public holidays.
    ab, variants, holdout, seed, opt_out_digit
        The "A/B test and opt-out" section and its controls (variants one ``NAME:FIELD=VALUE`` a line).
    uploaded_suppression
        The do-not-call list read from the last upload (a
        :class:`~cmvoice_nb.campaign.ops.suppress.SuppressionList`), or None.
    """

    _control_names = ("target", "token", "base_url", "app", "name", "region", "country_column", "dates", "decimal",
                      "rate", "drop_duplicates", "mapping", "default_inputs", "preview", "validate", "dry_run", "send",
                      "stop", "progress", "counts", "confirm_text", "confirm", "calling_hours", "days",
                      "wait_for_hours", "suppress", "suppress_upload", "allowed_countries", "prices", "estimate",
                      "upload", "keep", "subdivision_column", "public_holidays", "holidays", "tz", "valid_for",
                      "valid_until", "contacts", "max_contacts", "max_cost", "max_live_calls", "variants", "holdout",
                      "seed", "opt_out_digit")

    def __init__(self, df: Any = None, *, name: str = "campaign", app: str = "notification",
                 token: str | None = None, simulator: Any = None, journal_dir: str | os.PathLike = "campaigns",
                 callbacks: str | os.PathLike | None = None,
                 region: str | None = "NL", columns: dict[str, Any] | None = None,
                 defaults: dict[str, Any] | None = None,
                 audio_root: str | os.PathLike | None = None, spelling_root: str | os.PathLike | None = None,
                 drop_duplicates: bool = False, rate: float = DEFAULT_RATE, calling_hours: str | None = None,
                 days: str = "mon-fri", wait: bool = True, suppress: str | os.PathLike | None = None,
                 allowed_countries: str | None = None, prices: str | os.PathLike | None = None,
                 now: Any = None) -> None:
        from ..spec import APPS, DEFAULT_BASE_URL, TOKEN_ENV

        super().__init__()
        self.add_class("cmvoice-app")
        self.add_class("cmvoice-campaign")
        import pandas as pd

        self.df = pd.DataFrame() if df is None else df
        self._token = token if token else os.environ.get(TOKEN_ENV) or None
        self._simulator = simulator
        self._own_simulator: Simulator | None = None
        self._default_base_url = DEFAULT_BASE_URL
        self.journal_dir = Path(journal_dir)
        self.audio_root = audio_root
        self.spelling_root = spelling_root
        self.plan: CampaignPlan | None = None
        self.sender: CampaignSender | None = None
        self.results: pd.DataFrame | None = None
        self.last_counts: dict[str, int] = {}
        self.end: EndState | None = None
        self.nothing_reason: str | None = None
        self.callbacks_log = None if callbacks is None else Path(callbacks)
        self.list_name = "the list given"
        self._list_version = 0
        self._monitor = None
        self._shown: Any = None
        self._confirm_lock = False
        self._pending_options: dict[str, Any] = {}
        self._now = now
        proposal = self._proposal(app, region)
        columns = {**proposal, **(columns or {})}

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
        # Each row's country: given, or proposed from a column's contents (never from its name alone:
        # a "Region" may be a sales area).
        self.country_column = column_dropdown(
            self.df.columns, columns.get("region"), description="Country column", style=style,
            tooltip="the column giving each row's country: its national numbers are read in it")
        self.subdivision_column = column_dropdown(
            self.df.columns, columns.get("subdivision"), description="Subdivision column",
            style={**style, "description_width": "10em"},
            tooltip="the column giving each row's state or province (BY, DE-BY): its public holidays count")
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
                                          allowed_countries=allowed_countries, prices=prices, app=app, style=style)
        ops = self.operations
        self.calling_hours, self.days, self.wait_for_hours = ops.calling_hours, ops.days, ops.wait_for_hours
        self.allowed_countries, self.prices = ops.allowed_countries, ops.prices
        self.suppress, self.suppress_upload, self.suppress_info = ops.suppress, ops.suppress_upload, ops.suppress_info
        self.public_holidays, self.holidays, self.tz = ops.public_holidays, ops.holidays, ops.tz
        self.valid_for, self.valid_until, self.max_cost = ops.valid_for, ops.valid_until, ops.max_cost
        self.contacts, self.max_contacts = ops.contacts, ops.max_contacts
        self.max_live_calls = live_calls_control(style)
        self.ab = ABPanel(app=app, style=style)
        self.variants, self.holdout, self.seed, self.opt_out_digit = self.ab.controls
        self.estimate = W.HTML()
        self.upload = W.FileUpload(accept=",".join(LIST_SUFFIXES), multiple=False, description="Load list",
                                   icon="upload", layout=W.Layout(width="11em"),
                                   tooltip="CSV (any separator and encoding), Excel, ODS or Parquet")
        self.list_info = W.HTML()
        self.keep = W.SelectMultiple(options=[str(c) for c in self.df.columns], description="Keep columns",
                                     rows=3, style=style, layout=W.Layout(width="30em"),
                                     tooltip="your columns carried into the results and the journal")
        self.keep.value = self._unmapped(columns)
        self.fields_box = FieldForm(list(self.df.columns), columns=columns, defaults=defaults)
        self.fields_box.on_change = self._on_input_change
        self.preview = W.HTML()
        self.validate = W.Button(description="Validate", icon="check", layout=W.Layout(width="9em"))
        self.dry_run = W.Button(description="Dry run", icon="eye", layout=W.Layout(width="9em"))
        self.send = W.Button(description="Send", button_style="danger", icon="phone", layout=W.Layout(width="9em"))
        self.stop = W.Button(description="Stop", icon="stop", disabled=True, layout=W.Layout(width="9em"))
        self.run_progress = RunProgress(style=style)
        self.progress, self.counts = self.run_progress.progress, self.run_progress.counts
        self.pace, self.outcomes = self.run_progress.pace, self.run_progress.outcomes
        self.results_view = ResultsView()
        # The deliberate step before real calls.
        self.confirm_box = Confirmation()
        self.confirm_summary, self.confirm_text = self.confirm_box.summary, self.confirm_box.text
        self.confirm, self.cancel = self.confirm_box.confirm, self.confirm_box.cancel
        self.reachable = self.confirm_box.reachable

        self.target.observe(self.guard(lambda _c: self._on_target(), action="switch target"), names="value")
        self.base_url.observe(lambda _c: self._show_banner(), names="value")
        self.app.observe(self.guard(lambda _change: self._on_app(), action="switch app"), names="value")
        self.suppress_upload.observe(self.guard(lambda _c: ops.take_upload(), action="read the do-not-call list"),
                                     names="value")
        self.upload.observe(self.guard(lambda _c: self._take_list(), action="load the list"), names="value")
        for control in self._fixed_inputs():
            if control is not self.upload:  # a loaded list is handled by set_list itself
                control.observe(self._on_input_change, names="value")
        self.validate.on_click(self.action("validate", self._validate, busy=self.busy, working="validating"))
        self.dry_run.on_click(self.guard(lambda _b: self._start_background(dry_run=True), action="dry run"))
        self.send.on_click(self.guard(self._on_send, action="send"))
        self.confirm.on_click(self.guard(self._on_confirm, action="send"))
        self.cancel.on_click(self.guard(lambda _b: self._withdraw("cancelled: nothing was sent"), action="cancel"))
        self.stop.on_click(self.guard(self._on_stop, action="stop"))
        self.fields_box.build(self.app.value)
        self._show_preview()
        self._on_target()

        self.children = [
            W.HTML("<h3>Campaign</h3>"),
            W.HBox([self.upload, self.list_info], layout=W.Layout(align_items="center")),
            self.preview,
            self.banner,
            W.HBox([self.target]),
            W.HBox([self.token, self.base_url]),
            W.HBox([self.app, self.name, self.region]),
            W.HBox([self.country_column, self.subdivision_column]),
            W.HBox([self.dates, self.decimal]),
            W.HBox([self.rate, self.max_live_calls, self.drop_duplicates]),
            ops,
            self.ab,
            self.fields_box,
            self.keep,
            W.HBox([self.validate, self.dry_run, self.send, self.stop]),
            self.confirm_box,
            self.run_progress,
            self.status,
            self.estimate,
            self.results_view,
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
        self._withdraw(None)
        self.clear_results()  # results of one target never stand under the other's banner
        self._show_banner()

    def _on_app(self) -> None:
        self.fields_box.build(self.app.value)
        self.operations.set_app(self.app.value)
        self.ab.set_app(self.app.value)
        self.clear_results()

    def clear_results(self) -> None:
        """Forget the last run's results, counts and end (another target, App or list)."""
        if self.working:
            return  # a running send keeps its own view; the inputs are locked meanwhile
        self.plan = self.results = self.end = None
        self.last_counts = {}
        self.run_progress.clear()
        self.results_view.clear()
        self.estimate.value = ""
        clear(self.out)
        self.status.value = ""

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

    # -- the list: given, or loaded with `upload` --------------------------------------------------
    def _proposal(self, app: str | None = None, region: str | None = None) -> dict[str, Any]:
        from ..campaign import propose_columns

        if not len(self.df.columns):
            return {}
        return propose_columns(self.df, app or self.app.value,
                               region=region if app else (self.region.value.strip() or None))

    def _unmapped(self, columns: dict[str, Any]) -> tuple[str, ...]:
        used = {str(c) for c in columns.values() if not unset(c)}
        return tuple(str(c) for c in self.df.columns if str(c) not in used)

    def _take_list(self) -> None:
        files = list(self.upload.value or ())
        if not files:
            return
        entry = files[-1]
        # The uploaded bytes live in the widget state (and so in a saved notebook): drop them now.
        self.upload.value = ()
        name, data = Path(str(entry.get("name") or "list.csv")).name, bytes(entry.get("content") or b"")
        if self.working or (self.sender is not None and self.sender.running):
            self.set_status(f"{name} was not loaded: the list cannot be replaced while a send runs "
                            "(Stop it first)", colour=BAD)
            return
        self.set_list(read_list(name, data), source=name)

    def set_list(self, df: Any, *, source: str = "the list given") -> None:
        """Use *df* as the list: the plan, results and confirmation go; its columns are proposed in the form."""
        from ..errors import CampaignError

        if self.working or (self.sender is not None and self.sender.running):
            raise CampaignError("the list cannot be replaced while a send runs: Stop it first")
        self._withdraw(None)
        self.df = df
        self.list_name = source
        self._list_version += 1
        proposal = self._proposal()
        region = proposal.pop("region", None)
        self.country_column.options = self.subdivision_column.options = column_options(df.columns)
        self.country_column.value = region if region is not None else UNSET
        self.subdivision_column.value = UNSET
        self.fields_box.set_names(list(df.columns), columns=proposal)
        self.keep.options = [str(c) for c in df.columns]
        self.keep.value = self._unmapped({**proposal, "region": region})
        self.clear_results()
        self.nothing_reason = None
        self._apply_send_state()
        self._show_preview()
        self.list_info.value = proposal_text({**proposal, **({"region": region} if region else {})}, rows=len(df),
                                             name=source)
        self.set_status(f"loaded {source}: check the proposed columns, then Validate", colour=MUTED)

    # -- what the form stands for ---------------------------------------------------------------
    def _fixed_inputs(self) -> list[W.Widget]:
        return [self.target, self.token, self.base_url, self.app, self.name, self.region, self.country_column,
                self.subdivision_column, self.dates, self.decimal, self.rate, self.max_live_calls,
                self.drop_duplicates, self.keep, self.upload, *self.operations.controls, *self.ab.controls]

    def inputs(self) -> list[W.Widget]:
        """Every control that would change a run (locked while it sends and while a confirmation is open)."""
        return [*self._fixed_inputs(), *self.fields_box.inputs]

    @property
    def busy(self) -> list[W.Widget]:
        """The controls an action locks: every input and the buttons that start one."""
        return [self.validate, self.dry_run, self.send, *self.inputs()]

    def snapshot(self) -> tuple:
        """Everything that shapes a run now: every input's value, the token (as a hash), the list, the target."""
        token = hashlib.sha256(self._token.encode()).hexdigest() if self._token else None
        return (tuple(repr(w.value) for w in self.inputs()), token, self._list_version, id(self.df),
                self.target_url(), str(self.journal_path()))

    def _on_input_change(self, _change: Any = None) -> None:
        if self.confirm_box.pending is not None:
            self._withdraw("the form changed while the confirmation was open: it was withdrawn, nothing was sent")
        elif self.last_error is not None and not self.working:
            self.last_error = None  # an error said about the old form does not stand after an edit
            self.set_status("changed since the error: Validate checks the form again", colour=MUTED)
        if self.nothing_reason is not None:
            self.nothing_reason = None
            self._apply_send_state()

    def _apply_send_state(self) -> None:
        if self.working or self._confirm_lock:
            return
        self.send.disabled = self.nothing_reason is not None
        self.send.tooltip = self.nothing_reason or ""

    def _release(self) -> None:
        super()._release()
        self._apply_send_state()

    def plan_options(self) -> dict[str, Any]:
        """The keyword arguments of :func:`~cmvoice_nb.campaign.plan_campaign` the controls stand for."""
        columns = self.columns()
        if not unset(self.country_column.value):
            columns["region"] = self.country_column.value
        if not unset(self.subdivision_column.value):
            columns["subdivision"] = self.subdivision_column.value
        return {
            "app": self.app.value,
            "name": self.campaign_name(),
            "columns": columns,
            "dayfirst": self.dates.value,
            "decimal": self.decimal.value,
            "defaults": self.defaults(),
            "region": self.region.value.strip() or None,
            "drop_duplicates": bool(self.drop_duplicates.value),
            "keep": list(self.keep.value) or None,
            "suppress": self.suppression(),
            "allowed_countries": self.operations.allowed(),
            "audio_root": self.audio_root,
            "spelling_root": self.spelling_root,
            # The journal's campaign key, when the journal exists, so the plan shows final ids.
            "journal": self.journal_path(),
            **self.ab.plan_options(self.app.value),
        }

    def campaign_name(self) -> str:
        return self.name.value.strip() or "campaign"

    def send_options(self) -> dict[str, Any]:
        """The options of :class:`~cmvoice_nb.campaign.CampaignSender` the controls stand for (the rate apart)."""
        return with_pacing(self.operations.send_options(), self.max_live_calls.value, callbacks=self.callbacks_log,
                           now=self._now)

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



__all__ = ["Campaign", "SIMULATOR", "PROVIDER"]
