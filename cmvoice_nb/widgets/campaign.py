"""Campaign: DataFrame → mapped, validated instructions → dry run or a paced, stoppable send.

Wiring only over :mod:`cmvoice_nb.campaign`: ``plan_campaign`` builds the plan from
the mapping and default controls (both generated from :data:`cmvoice_nb.spec.APPS`),
``CampaignSender`` sends it in a background thread so the notebook stays live and
the Stop button works.

The product token is taken from the ``token=`` argument, the ``CM_PRODUCT_TOKEN``
environment variable (read when the widget is created) or the password field. A
token typed into the field is moved into the object at once and the field is
emptied, so it is never echoed, never kept in the widget state and never saved
with the notebook. Without a token the built-in simulator is preselected.
"""
from __future__ import annotations

import html
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import ipywidgets as W

from ._common import NONE_LABEL, App, clear, say, show

logger = logging.getLogger(__name__)

SIMULATOR = "simulator"
PROVIDER = "provider"
#: Fields that differ per row by nature: mapped from a column, never given one default.
_PER_ROW = ("instruction-id", "callee", "callees")
#: How often the send monitor refreshes the progress bar and counts.
_POLL_S = 0.2


def _app_fields(app: str) -> list[Any]:
    """The fields of *app* a user can map or default, voice keys spelled ``voice.<key>``."""
    from ..spec import APPS, VOICE_FIELDS

    fields = [f for f in APPS[app].fields if not f.forbidden and f.kind not in ("voice", "list")]
    return fields + [_VoiceField(f) for f in VOICE_FIELDS]


class _VoiceField:
    """A voice sub-field presented like a top-level one (``voice.language``)."""

    def __init__(self, field: Any) -> None:
        self._field = field
        self.key = f"voice.{field.key}"

    def __getattr__(self, name: str) -> Any:
        return getattr(self._field, name)


def _default_widget(field: Any) -> W.Widget:
    """An input for a field's campaign-wide default; empty / "—" means "not given"."""
    desc = field.key
    style = {"description_width": "13em"}
    layout = W.Layout(width="34em")
    tip = (field.description or "") + (f" (provider default: {field.default})" if field.default is not None else "")
    if field.kind == "enum":
        return W.Dropdown(options=[(NONE_LABEL, None)] + [(c, c) for c in field.choices], value=None,
                          description=desc, style=style, layout=layout, tooltip=tip)
    if field.kind == "bool":
        return W.Dropdown(options=[(NONE_LABEL, None), ("true", True), ("false", False)], value=None,
                          description=desc, style=style, layout=layout, tooltip=tip)
    placeholder = "" if field.default is None else f"default {field.default}"
    if getattr(field, "template", False):
        placeholder = "text; {column} fills it per row"
    return W.Text(value="", placeholder=placeholder, description=desc, style=style, layout=layout, tooltip=tip)


def _default_value(field: Any, widget: W.Widget) -> Any:
    value = widget.value
    if field.kind in ("enum", "bool"):
        return value
    text = str(value).strip()
    if not text:
        return None
    if field.kind == "int":
        try:
            return int(text)
        except ValueError:
            return text  # the plan reports it with the field name and the allowed range
    return text


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

    Attributes
    ----------
    target, token, base_url, app, name, region, rate, drop_duplicates, mapping, default_inputs, validate,
    dry_run, send, stop, progress, counts
        The controls; ``mapping`` and ``default_inputs`` are dicts keyed by wire key.
    plan, sender, results
        The last plan, the last :class:`~cmvoice_nb.campaign.CampaignSender` and its results.
    """

    _control_names = ("target", "token", "base_url", "app", "name", "region", "rate", "drop_duplicates", "mapping",
                      "default_inputs", "validate", "dry_run", "send", "stop", "progress", "counts")

    def __init__(self, df: Any = None, *, name: str = "campaign", app: str = "notification",
                 token: str | None = None, simulator: Any = None, journal_dir: str | os.PathLike = "campaigns",
                 region: str | None = "NL", columns: dict[str, Any] | None = None,
                 defaults: dict[str, Any] | None = None,
                 audio_root: str | os.PathLike | None = None, spelling_root: str | os.PathLike | None = None,
                 drop_duplicates: bool = False, rate: float = 5.0) -> None:
        from ..spec import APPS, DEFAULT_BASE_URL, TOKEN_ENV

        super().__init__()
        self.add_class("cmvoice-app")
        self.add_class("cmvoice-campaign")
        import pandas as pd

        self.df = pd.DataFrame() if df is None else df
        self._token = token if token else os.environ.get(TOKEN_ENV) or None
        self._simulator = simulator
        self._own_simulator = None
        self.journal_dir = Path(journal_dir)
        self.audio_root = audio_root
        self.spelling_root = spelling_root
        self._initial_defaults = dict(defaults or {})
        self._initial_columns = dict(columns or {})
        self.plan = None
        self.sender = None
        self.results = None
        self._monitor: threading.Thread | None = None

        style = {"description_width": "8em"}
        self.target = W.ToggleButtons(options=[("Simulator (no account)", SIMULATOR), ("CM Voice API", PROVIDER)],
                                      value=PROVIDER if self._token else SIMULATOR, description="Send to",
                                      style={**style, "button_width": "14em"})
        self.token = W.Password(value="", description="Product token", style=style,
                                placeholder=self._token_placeholder(), layout=W.Layout(width="30em"))
        self.token.observe(self._take_token, names="value")
        self.base_url = W.Text(value="", placeholder=DEFAULT_BASE_URL, description="Base URL", style=style,
                               layout=W.Layout(width="30em"))
        self.app = W.Dropdown(options=list(APPS), value=app, description="App", style=style)
        self.name = W.Text(value=name, description="Campaign", style=style)
        self.region = W.Text(value=region or "", description="Region", placeholder="e.g. NL", style=style)
        self.rate = W.BoundedFloatText(value=rate, min=0.1, max=100.0, step=0.5, description="Calls / s", style=style)
        self.drop_duplicates = W.Checkbox(value=bool(drop_duplicates), description="Leave out repeated callees",
                                          indent=False)
        self.mapping: dict[str, W.Dropdown] = {}
        self.default_inputs: dict[str, W.Widget] = {}
        self.fields_box = W.Tab()
        self.preview = W.HTML()
        self.validate = W.Button(description="Validate", icon="check")
        self.dry_run = W.Button(description="Dry run", icon="eye")
        self.send = W.Button(description="Send", button_style="danger", icon="phone")
        self.stop = W.Button(description="Stop", icon="stop", disabled=True)
        self.progress = W.IntProgress(value=0, min=0, max=1, description="Progress", style=style)
        self.counts = W.HTML("")

        self.app.observe(self.guard(lambda _change: self._build_fields(), action="switch app"), names="value")
        self.validate.on_click(self.guard(self._on_validate, action="validate"))
        self.dry_run.on_click(self.guard(self._on_dry_run, action="dry run"))
        self.send.on_click(self.guard(self._on_send, action="send"))
        self.stop.on_click(self.guard(self._on_stop, action="stop"))
        self._build_fields()
        self._show_preview()

        self.children = [
            W.HTML("<h3>Campaign</h3>"),
            self.preview,
            W.HBox([self.target]),
            W.HBox([self.token, self.base_url]),
            W.HBox([self.app, self.name, self.region]),
            W.HBox([self.rate, self.drop_duplicates]),
            self.fields_box,
            W.HBox([self.validate, self.dry_run, self.send, self.stop]),
            W.HBox([self.progress, self.counts]),
            self.status,
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
        self.target.value = PROVIDER

    @property
    def has_token(self) -> bool:
        """True when a product token is available (its value is never shown)."""
        return bool(self._token)

    # -- generated controls ----------------------------------------------------------------------
    def _build_fields(self) -> None:
        fields = _app_fields(self.app.value)
        columns = [(NONE_LABEL, None)] + [(str(c), c) for c in self.df.columns]
        style = {"description_width": "13em"}
        mapping: dict[str, W.Dropdown] = {}
        defaults: dict[str, W.Widget] = {}
        for f in fields:
            guess = self._initial_columns.get(f.key)
            if guess not in list(self.df.columns):
                guess = next((c for c in self.df.columns if str(c) in (f.key, f.name, f.key.replace(".", "_"))), None)
            mapping[f.key] = W.Dropdown(options=columns, value=guess, description=f.key + (" *" if f.required else ""),
                                        style=style, layout=W.Layout(width="30em"))
            if f.key not in _PER_ROW:
                widget = _default_widget(f)
                if f.key in self._initial_defaults:
                    widget.value = self._initial_defaults[f.key]
                defaults[f.key] = widget
        self.mapping = mapping
        self.default_inputs = defaults
        self._fields = {f.key: f for f in fields}
        self.fields_box.children = [
            W.VBox([W.HTML("Which column holds each field (* required); same-named columns map themselves."),
                    *mapping.values()]),
            W.VBox([W.HTML("Used when the row has no value; text prompts take {column} templates."),
                    *defaults.values()]),
        ]
        self.fields_box.set_title(0, "Columns")
        self.fields_box.set_title(1, "Defaults")

    def _show_preview(self) -> None:
        n = len(self.df)
        table = self.df.head(8).to_html(max_cols=12, border=0) if n else "<i>no rows</i>"
        self.preview.value = f"<details open><summary>{n} rows</summary>{table}</details>"

    def columns(self) -> dict[str, Any]:
        """The field → column mapping chosen in the dropdowns."""
        return {key: dd.value for key, dd in self.mapping.items() if dd.value is not None}

    def defaults(self) -> dict[str, Any]:
        """The field → default value typed in the inputs (empty inputs left out)."""
        out = {}
        for key, widget in self.default_inputs.items():
            value = _default_value(self._fields[key], widget)
            if value is not None:
                out[key] = value
        return out

    def plan_options(self) -> dict[str, Any]:
        """The keyword arguments of :func:`~cmvoice_nb.campaign.plan_campaign` the controls stand for."""
        return {
            "app": self.app.value,
            "name": self.name.value.strip() or "campaign",
            "columns": self.columns(),
            "defaults": self.defaults(),
            "region": self.region.value.strip() or None,
            "drop_duplicates": bool(self.drop_duplicates.value),
            "audio_root": self.audio_root,
            "spelling_root": self.spelling_root,
            # The journal's campaign key, when the journal exists, so the plan shows final ids.
            "journal": self.journal_path(),
        }

    # -- transport -------------------------------------------------------------------------------
    def client(self) -> Any:
        """The client for the chosen target (the simulator is started on first use)."""
        from ..client import VoiceClient
        from ..errors import ConfigurationError

        if self.target.value == SIMULATOR:
            return self.simulator.client()
        if not self._token:
            raise ConfigurationError("no product token: paste it into 'Product token', set CM_PRODUCT_TOKEN, "
                                     "or choose the simulator")
        return VoiceClient(self._token, base_url=self.base_url.value.strip() or None)

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

        self.plan = plan_campaign(self.df, **self.plan_options())
        return self.plan

    def _on_validate(self, _button: Any = None) -> None:
        clear(self.out)
        plan = self.make_plan()
        summary = plan.summary()
        show(self.out, plan)
        if len(plan.problems):
            show(self.out, plan.problems)
        self.set_status(f"{int(summary['valid'])} of {int(summary['rows'])} rows valid, "
                        f"{int(summary['problems'])} problem(s), {int(summary['to_send'])} to send",
                        colour="#1a7f37" if not len(plan.problems) else "#9a6700")

    def _on_dry_run(self, _button: Any = None) -> None:
        self._start(dry_run=True)

    def _on_send(self, _button: Any = None) -> None:
        self._start(dry_run=False)

    def _on_stop(self, _button: Any = None) -> None:
        if self.sender is not None and self.sender.running:
            self.sender.stop()
            self.set_status("stopping: requests in flight finish, nothing new starts …", colour="#9a6700")

    def journal_path(self) -> Path:
        return self.journal_dir / f"{self.name.value.strip() or 'campaign'}.sqlite"

    def results_path(self) -> Path:
        return self.journal_dir / f"{self.name.value.strip() or 'campaign'}-results.csv"

    def _start(self, *, dry_run: bool) -> None:
        from ..campaign import CampaignSender

        if self.sender is not None and self.sender.running:
            raise RuntimeError("a send is already running: Stop it or wait for it to finish")
        clear(self.out)
        plan = self.make_plan()
        client = self.client() if not dry_run or self.target.value == SIMULATOR or self._token else None
        if not dry_run:
            self.journal_dir.mkdir(parents=True, exist_ok=True)
        self.sender = CampaignSender(
            plan, client, journal=None if dry_run else self.journal_path(), dry_run=dry_run,
            rate=float(self.rate.value), burst=max(1, int(self.rate.value)), progress=False,
            results_path=None if dry_run else self.results_path())
        self.results = None
        self.progress.max = max(1, len(plan.rows))
        self.progress.value = 0
        self.progress.bar_style = "info"
        self.stop.disabled = False
        self.send.disabled = self.dry_run.disabled = True
        what = "dry run" if dry_run else f"sending to {'the simulator' if self.target.value == SIMULATOR else 'CM'}"
        self.set_status(f"{what}: {len(plan.rows)} rows …")
        sender = self.sender.start()
        self._monitor = self.in_thread(lambda: self._watch(sender, dry_run), action="send")

    def wait(self, timeout: float | None = 60.0) -> Any:
        """Block until the current send (and its monitor) finished; return the results."""
        if self._monitor is not None:
            self._monitor.join(timeout)
        return self.results

    def _render_counts(self, progress: dict) -> str:
        keys = [k for k in ("queued", "dry-run", "rejected", "failed", "unknown", "invalid", "changed",
                            "already-called", "skipped") if progress.get(k)]
        parts = [f"{html.escape(k)}: <b>{progress[k]}</b>" for k in keys]
        return f"sent {progress.get('sent', 0)}/{progress.get('to_send', 0)} &nbsp; " + " &nbsp; ".join(parts)

    def _show_progress(self, progress: dict) -> None:
        # The bar counts the rows this run sends: invalid rows and rows the journal already
        # settled are never sent, so the plan's row count would leave the bar short of full.
        self.progress.max = max(1, int(progress.get("to_send", 0)))
        self.progress.value = min(self.progress.max, int(progress.get("sent", 0)))

    def _watch(self, sender: Any, dry_run: bool) -> None:
        # Runs in a thread: touch widgets only through trait assignment and append_* calls.
        try:
            while not sender.done:
                p = sender.progress
                self._show_progress(p)
                self.counts.value = self._render_counts(p)
                time.sleep(_POLL_S)
            try:
                results = sender.wait()
            except Exception as exc:
                results = getattr(exc, "results", None)
                self.report_error(exc, action="send")
            self.results = results
            p = sender.progress
            self._show_progress(p)
            self.counts.value = self._render_counts(p)
            if results is not None:
                counts = results["status"].value_counts().to_dict()
                stopped = " (stopped by you: run Send again to send the rest)" if sender.stopped_by_user else ""
                self.progress.bar_style = "warning" if sender.stopped_by_user else "success"
                if self.last_error is None or sender.error is None:
                    self.set_status(f"{'dry run' if dry_run else 'send'} finished{stopped}: "
                                    + ", ".join(f"{k} {v}" for k, v in counts.items()),
                                    colour="#9a6700" if stopped else "#1a7f37")
                show(self.out, results)
                if sender.needs_attention:
                    say(self.out, sender.summary())  # what needs attention, and what resolves it
                if not dry_run:
                    say(self.out, f"results: {self.results_path()}  journal: {self.journal_path()}")
        finally:
            self.stop.disabled = True
            self.send.disabled = self.dry_run.disabled = False
