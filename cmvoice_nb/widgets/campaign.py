"""Campaign: DataFrame → mapped, validated instructions → dry run or a paced, stoppable send.

Wiring only over :mod:`cmvoice_nb.campaign`: ``plan_campaign`` builds the plan from one
form row per field (a column *or* a default value, generated from :data:`cmvoice_nb.spec.APPS`),
``CampaignSender`` sends it in a background thread so the notebook stays live and Stop works.

Safety: the simulator is always the starting target and typing a token never changes it.
Sending to the real API first shows what will happen (rows, countries, the estimate and the
calling hours) and waits for the campaign name typed into ``confirm_text`` and a click on
``confirm``; no request leaves before that.

Campaign operations (issue 14) are plain options of the library: ``calling_hours``/``days``/
``wait`` go to :class:`~cmvoice_nb.campaign.CampaignSender`, the do-not-call list
(``suppress`` path or ``suppress_upload``) and ``allowed_countries`` to
:func:`~cmvoice_nb.campaign.plan_campaign`, and Validate / Dry run show
:meth:`CampaignPlan.estimate <cmvoice_nb.campaign.CampaignPlan.estimate>` (priced with the
``prices`` CSV when one is given).

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
from collections import Counter
from pathlib import Path
from typing import Any

import ipywidgets as W

from ..spec import DEFAULT_RATE
from ._common import BAD, MUTED, NONE_LABEL, OK, WARN, App, clear, say, show, table

logger = logging.getLogger(__name__)

SIMULATOR = "simulator"
PROVIDER = "provider"
#: Fields that differ per row by nature: mapped from a column, never given one default.
_PER_ROW = ("instruction-id", "callee", "callees")
#: Fields shown before the "More fields" accordion (with every required one).
_COMMON = ("callee", "caller", "prompt", "prompt-type", "code", "code-type", "intro-prompt", "valid-prompt",
           "voice.language", "callback-url")
#: How often the send monitor refreshes the progress bar and counts.
_POLL_S = 0.2
_LABEL_W, _COLUMN_W, _DEFAULT_W = "15em", "15em", "30em"
#: The value of "—" (not mapped / no default) in the dropdowns: ipywidgets shows a None value as a blank.
UNSET = ""
_HELP_ICON = ("<span style='display:inline-block;width:1.2em;height:1.2em;line-height:1.2em;border-radius:50%;"
              "background:#eaeef2;color:#57606a;text-align:center;font-size:85%;cursor:help'>?</span>")
#: Words of the honest counts, in the order they are shown.
COUNT_LABELS = {
    "new": "new this run",
    "dry-run": "would be called (dry run)",
    "already_done": "already done (journal)",
    "stopped": "not sent — stopped",
    "left_out": "left out (repeated callee)",
    "suppressed": "do-not-call (not sent)",
    "deferred": "deferred — outside calling hours",
    "invalid": "invalid",
    "failed": "failed",
    "rejected": "rejected",
    "unknown": "unknown",
    "changed": "changed",
    "already-called": "already called",
}
_BANNER = {
    SIMULATOR: ("#ddf4ff", "#0969da", "SIMULATOR — a rehearsal: no real calls, no cost"),
    PROVIDER: ("#ffebe9", "#cf222e", "REAL CALLS — CM Voice API: every call is placed and billed"),
}


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


def _unset(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value == UNSET)


def _needed(field: Any) -> bool:
    # callee is not "required" in the spec (callees may replace it) but the form offers only callee.
    return bool(field.required) or field.key == "callee"


def _help(field: Any) -> str:
    text = field.description or ""
    if field.kind == "enum":
        text += f" — one of {', '.join(field.choices)}"
    if field.default is not None:
        text += f" (provider default: {field.default})"
    if getattr(field, "template", False):
        text += "; text prompts take {column} templates filled per row"
    return text.strip(" —")


def _default_widget(field: Any) -> W.Widget:
    """An input for a field's campaign-wide default; empty / "—" means "not given"."""
    layout = W.Layout(width=_DEFAULT_W)
    tip = _help(field)
    if field.kind == "enum":
        return W.Dropdown(options=[(NONE_LABEL, UNSET)] + [(c, c) for c in field.choices], value=UNSET,
                          layout=layout, tooltip=tip)
    if field.kind == "bool":
        return W.Dropdown(options=[(NONE_LABEL, UNSET), ("true", True), ("false", False)], value=UNSET,
                          layout=layout, tooltip=tip)
    placeholder = NONE_LABEL if field.default is None else f"{NONE_LABEL} (provider default {field.default})"
    if getattr(field, "template", False):
        return W.Textarea(value="", placeholder="text, or a file name; {column} fills it per row", rows=2,
                          layout=layout, tooltip=tip)
    return W.Text(value="", placeholder=placeholder, layout=layout, tooltip=tip)


def _default_value(field: Any, widget: W.Widget) -> Any:
    value = widget.value
    if field.kind in ("enum", "bool"):
        return None if value is None or (isinstance(value, str) and value == UNSET) else value
    text = str(value).strip()
    if not text:
        return None
    if field.kind == "int":
        try:
            return int(text)
        except ValueError:
            return text  # the plan reports it with the field name and the allowed range
    return text


def grouped_problems(problems: Any) -> Any:
    """The plan's problems, one line per (field, message) with how many rows and which.

    An unmapped callee is one line ("4 rows: 0, 1, 2, 3"), not one identical line per row.
    """
    import pandas as pd

    if not len(problems):
        return pd.DataFrame(columns=["field", "problem", "rows", "examples"])
    frame = problems.assign(field=problems["field"].fillna("").astype(str),
                            message=problems["message"].astype(str))
    groups = frame.groupby(["field", "message"], sort=False)["row"]
    out = groups.agg(rows="size", examples=lambda s: ", ".join(map(str, s.head(5))) + (" …" if len(s) > 5 else ""))
    out = out.reset_index().rename(columns={"message": "problem"})
    return out.sort_values("rows", ascending=False, kind="stable").reset_index(drop=True)


def outcome_counts(results: Any, *, already_done: int = 0, dropped: Any = None) -> dict[str, int]:
    """The honest counts of a finished run, from its results frame (see :data:`COUNT_LABELS`).

    ``new`` are rows queued by this run (queued minus those the journal had already done),
    ``stopped`` rows not sent because the run ended first, ``left_out`` repeated callees left
    out on purpose; every other key is a results status. Zero counts are left out.
    """
    import numpy as np

    status = results["status"].astype("string").fillna("skipped").to_numpy(dtype=object)
    left = np.asarray(dropped, dtype=bool) if dropped is not None else np.zeros(len(status), dtype=bool)
    counts = {
        "new": int((status == "queued").sum()) - int(already_done),
        "dry-run": int((status == "dry-run").sum()),
        "already_done": int(already_done),
        "stopped": int(((status == "skipped") & ~left).sum()),
        "left_out": int(((status == "skipped") & left).sum()),
    }
    for name in ("suppressed", "deferred", "invalid", "failed", "rejected", "unknown", "changed", "already-called"):
        counts[name] = int((status == name).sum())
    return {k: v for k, v in counts.items() if v}


def callee_countries(plan: Any) -> Counter:
    """How many calls of *plan* go to each country (``phonenumbers`` region, ``?`` if unknown)."""
    from ..numbers import country_of

    countries: Counter = Counter()
    for r in plan.rows:
        if r.sendable:
            for number in r.callee_list():
                countries[country_of(number) or "?"] += 1
    return countries


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
        :func:`~cmvoice_nb.campaign.suppress.read_suppression`).
    allowed_countries
        Initial allowed countries (``"NL,BE"``); a number of another country is invalid.
    prices
        Initial price table path for the estimate (CSV ``country,price_per_minute[,setup]``).

    Attributes
    ----------
    target, token, base_url, app, name, region, rate, drop_duplicates, mapping, default_inputs, validate,
    dry_run, send, stop, progress, counts, confirm_text, confirm
        The controls; ``mapping`` and ``default_inputs`` are dicts keyed by wire key (one form row
        per field: its column dropdown and its default input).
    calling_hours, days, wait_for_hours, suppress, suppress_upload, allowed_countries, prices, estimate
        The campaign-operation controls: calling hours text, days text, "wait for calling hours"
        checkbox (``wait=`` of the sender), do-not-call list path and upload (its bytes are dropped once read), allowed
        countries text, price table path, and the HTML the estimate is shown in.
    plan, sender, results, last_counts
        The last plan, the last :class:`~cmvoice_nb.campaign.CampaignSender`, its results and the
        honest counts shown for them (:func:`outcome_counts`).
    uploaded_suppression
        The do-not-call list read from the last upload (a
        :class:`~cmvoice_nb.campaign.SuppressionList`), or None.
    """

    _control_names = ("target", "token", "base_url", "app", "name", "region", "rate", "drop_duplicates", "mapping",
                      "default_inputs", "validate", "dry_run", "send", "stop", "progress", "counts",
                      "confirm_text", "confirm", "calling_hours", "days", "wait_for_hours", "suppress",
                      "suppress_upload", "allowed_countries", "prices", "estimate")

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
        # Values typed in the form, by wire key: they survive App switches (and switching back).
        self._kept_columns: dict[str, Any] = dict(columns or {})
        self._kept_defaults: dict[str, Any] = dict(defaults or {})
        self.plan = None
        self.sender = None
        self.results = None
        self.last_counts: dict[str, int] = {}
        self._pending = None  # the plan awaiting the real-API confirmation
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
        self.calling_hours = W.Text(value=calling_hours or "", description="Calling hours", style=style,
                                    placeholder="e.g. 09:00-20:00 (empty: any time)", layout=W.Layout(width="30em"),
                                    tooltip="the window each row is called in, in the callee's local time")
        self.days = W.Text(value=days or "", description="Days", style=style, placeholder="mon-fri",
                           layout=W.Layout(width="16em"), tooltip="mon-fri, sat-sun, mon,wed,fri or all")
        self.wait_for_hours = W.Checkbox(value=bool(wait), description="Wait for calling hours", indent=False,
                               layout=W.Layout(width="auto"),
                               tooltip="ticked: rows outside their hours wait; unticked: they end 'deferred' "
                                       "and a later Send sends them")
        self.allowed_countries = W.Text(value=allowed_countries or "", description="Countries", style=style,
                                        placeholder="e.g. NL,BE (empty: any)", layout=W.Layout(width="30em"),
                                        tooltip="a number of another country is invalid")
        self.suppress = W.Text(value="" if suppress is None else os.fspath(suppress), description="Do-not-call",
                               style=style, placeholder="CSV/TXT path of numbers never to call",
                               layout=W.Layout(width="32em"))
        self.suppress_upload = W.FileUpload(accept=".csv,.txt", multiple=False, description="Upload list",
                                            layout=W.Layout(width="11em"))
        self.suppress_info = W.HTML()
        self.prices = W.Text(value="" if prices is None else os.fspath(prices), description="Prices",
                             style=style, placeholder="CSV country,price_per_minute[,setup] (optional)",
                             layout=W.Layout(width="40em"))
        self.estimate = W.HTML()
        self.uploaded_suppression = None
        self.mapping: dict[str, W.Dropdown] = {}
        self.default_inputs: dict[str, W.Widget] = {}
        self.fields_box = W.VBox()
        self.preview = W.HTML()
        self.validate = W.Button(description="Validate", icon="check", layout=W.Layout(width="9em"))
        self.dry_run = W.Button(description="Dry run", icon="eye", layout=W.Layout(width="9em"))
        self.send = W.Button(description="Send", button_style="danger", icon="phone", layout=W.Layout(width="9em"))
        self.stop = W.Button(description="Stop", icon="stop", disabled=True, layout=W.Layout(width="9em"))
        self.progress = W.IntProgress(value=0, min=0, max=1, description="Progress", style=style,
                                      layout=W.Layout(width="30em"))
        self.counts = W.HTML("")
        # The deliberate step before real calls.
        self.confirm_summary = W.HTML()
        self.confirm_text = W.Text(value="", description="Campaign name", placeholder="type the campaign name",
                                   style={"description_width": "9em"}, layout=W.Layout(width="28em"))
        self.confirm = W.Button(description="Place real calls", button_style="danger", icon="phone", disabled=True,
                                layout=W.Layout(width="16em"))
        self.cancel = W.Button(description="Cancel", layout=W.Layout(width="8em"))
        self.confirm_box = W.VBox([self.confirm_summary, W.HBox([self.confirm_text, self.confirm, self.cancel])],
                                  layout=W.Layout(display="none", border="2px solid #cf222e", padding="6px"))
        self.confirm_box.add_class("cmvoice-confirm")

        self.target.observe(self.guard(lambda _c: self._on_target(), action="switch target"), names="value")
        self.base_url.observe(lambda _c: self._show_banner(), names="value")
        self.app.observe(self.guard(lambda _change: self._build_fields(), action="switch app"), names="value")
        self.confirm_text.observe(lambda _c: self._check_confirm_text(), names="value")
        self.suppress_upload.observe(self.guard(lambda _c: self._take_upload(), action="read the do-not-call list"),
                                     names="value")
        self._busy = [self.validate, self.dry_run, self.send, self.target, self.app, self.name, self.region,
                      self.country_column, self.dates, self.decimal,
                      self.rate, self.drop_duplicates, self.token, self.base_url, self.calling_hours, self.days,
                      self.wait_for_hours, self.allowed_countries, self.suppress, self.suppress_upload, self.prices]
        self.validate.on_click(self.action("validate", self._validate, busy=self._busy, working="validating"))
        self.dry_run.on_click(self.guard(lambda _b: self._start_background(dry_run=True), action="dry run"))
        self.send.on_click(self.guard(self._on_send, action="send"))
        self.confirm.on_click(self.guard(self._on_confirm, action="send"))
        self.cancel.on_click(self.guard(lambda _b: self._cancel_pending("cancelled: nothing was sent"),
                                        action="cancel"))
        self.stop.on_click(self.guard(self._on_stop, action="stop"))
        self._build_fields()
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
            W.HBox([self.calling_hours, self.days, self.wait_for_hours]),
            W.HBox([self.allowed_countries]),
            W.HBox([self.suppress, self.suppress_upload]),
            self.suppress_info,
            W.HBox([self.prices]),
            self.fields_box,
            W.HBox([self.validate, self.dry_run, self.send, self.stop]),
            self.confirm_box,
            W.HBox([self.progress, self.counts]),
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
        bg, fg, words = _BANNER[self.target.value]
        self.banner.value = (
            f"<div class='cmvoice-target cmvoice-target-{self.target.value}' style='background:{bg};"
            f"border-left:6px solid {fg};padding:4px 10px;margin:4px 0'><b style='color:{fg}'>{html.escape(words)}"
            f"</b><br><code>{html.escape(self.target_url())}</code></div>")

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
    def _remember(self) -> None:
        for key, dd in self.mapping.items():
            self._kept_columns[key] = dd.value
        for key, widget in self.default_inputs.items():
            self._kept_defaults[key] = widget.value

    def _build_fields(self) -> None:
        self._remember()
        fields = _app_fields(self.app.value)
        names = list(self.df.columns)
        columns = [(NONE_LABEL, UNSET)] + [(str(c), c) for c in names]
        mapping: dict[str, W.Dropdown] = {}
        defaults: dict[str, W.Widget] = {}
        rows: dict[str, W.Widget] = {}
        for f in fields:
            kept = self._kept_columns.get(f.key, 0)
            if f.key in self._kept_columns and (_unset(kept) or kept in names):
                guess = UNSET if _unset(kept) else kept
            else:
                guess = next((c for c in names if str(c) in (f.key, f.name, f.key.replace(".", "_"))), UNSET)
            dd = W.Dropdown(options=columns, value=guess, layout=W.Layout(width=_COLUMN_W), tooltip=_help(f))
            mapping[f.key] = dd
            cells: list[W.Widget] = [self._label(f), dd]
            if f.key not in _PER_ROW:
                widget = _default_widget(f)
                kept = self._kept_defaults.get(f.key)
                if not _unset(kept):
                    try:
                        widget.value = kept if f.kind in ("enum", "bool") else str(kept)
                    except Exception:  # a kept value this app's choices lack: leave it unset
                        pass
                defaults[f.key] = widget
                cells.append(widget)
            else:
                cells.append(W.HTML("<span style='color:#57606a'>per row: choose a column</span>",
                                    layout=W.Layout(width=_DEFAULT_W)))
            mark = W.HTML(layout=W.Layout(width="8em"))
            cells.append(mark)
            for w in cells[1:3]:
                w.observe(lambda _c, f=f, m=mark: self._mark(f, m), names="value")
            rows[f.key] = W.HBox(cells)
            rows[f.key].add_class("cmvoice-field")
            self._mark(f, mark, mapping=mapping, defaults=defaults)
        self.mapping = mapping
        self.default_inputs = defaults
        self._fields = {f.key: f for f in fields}
        first = [k for k in rows if _needed(self._fields[k]) or k in _COMMON]
        rest = [k for k in rows if k not in first]
        head = W.HBox([W.HTML(f"<b>{t}</b>", layout=W.Layout(width=w)) for t, w in
                       (("Field (* needed)", _LABEL_W), ("Column", _COLUMN_W),
                        ("or a default for every row", _DEFAULT_W))])
        more = W.Accordion(children=[W.VBox([rows[k] for k in rest])])
        more.set_title(0, f"More fields ({len(rest)})")
        more.selected_index = None
        self.fields_box.children = [head, *[rows[k] for k in first], more]

    def _label(self, field: Any) -> W.HTML:
        star = " *" if _needed(field) else ""
        tip = html.escape(_help(field), quote=True)
        return W.HTML(f"<span title='{tip}'>{html.escape(field.key)}{star} {_HELP_ICON}</span>",
                      layout=W.Layout(width=_LABEL_W))

    def _mark(self, field: Any, mark: W.HTML, *, mapping: dict | None = None, defaults: dict | None = None) -> None:
        mapping = self.mapping if mapping is None else mapping
        defaults = self.default_inputs if defaults is None else defaults
        column = mapping.get(field.key)
        default = defaults.get(field.key)
        if column is not None and not _unset(column.value):
            mark.value = f"<span style='color:{OK}'>✓ column</span>"
        elif default is not None and _default_value(field, default) is not None:
            mark.value = f"<span style='color:{OK}'>✓ default</span>"
        elif _needed(field):
            mark.value = f"<span style='color:{BAD}'>✗ needed</span>"
        else:
            mark.value = ""

    def satisfied(self) -> dict[str, bool]:
        """Each needed field (``*``) → whether a column or a default fills it."""
        cols, defs = self.columns(), self.defaults()
        return {k: (k in cols or k in defs) for k, f in self._fields.items() if _needed(f)}

    def _show_preview(self, plan: Any = None) -> None:
        """The list's first rows; once planned, what they will hear (:meth:`CampaignPlan.preview`)."""
        from .._tables import to_html

        n = len(self.df)
        body = to_html(self.df, max_rows=5, failures_first=False) if n else "<i>no rows</i>"
        heard = "<p style='color:#57606a'>Validate to see what each row will hear.</p>"
        if plan is not None:
            frame = plan.preview(5)
            shown = frame[["row", "callee", "language", "field", "text", "problems"]].reset_index(drop=True)
            heard = to_html(shown, max_rows=len(shown), failures_first=False,
                            caption="What the first rows will hear (and one row per further voice)")
        self.preview.value = f"<details open><summary>{n} rows (first 5)</summary>{body}{heard}</details>"

    def columns(self) -> dict[str, Any]:
        """The field → column mapping chosen in the dropdowns."""
        return {key: dd.value for key, dd in self.mapping.items() if not _unset(dd.value)}

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
        columns = self.columns()
        if not _unset(self.country_column.value):
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
            "allowed_countries": self.allowed_countries.value.strip() or None,
            "audio_root": self.audio_root,
            "spelling_root": self.spelling_root,
            # The journal's campaign key, when the journal exists, so the plan shows final ids.
            "journal": self.journal_path(),
        }

    def campaign_name(self) -> str:
        return self.name.value.strip() or "campaign"

    def send_options(self) -> dict[str, Any]:
        """The calling-hours options of :class:`~cmvoice_nb.campaign.CampaignSender` the controls stand for."""
        hours = self.calling_hours.value.strip() or None
        if hours is None:
            return {}
        return {"calling_hours": hours, "days": self.days.value.strip() or "mon-fri",
                "wait": bool(self.wait_for_hours.value)}

    def prices_path(self) -> str | None:
        """The price table typed in ``prices``, or None."""
        return self.prices.value.strip() or None

    # -- the do-not-call list: a path, an upload, or both ---------------------------------------
    def _take_upload(self) -> None:
        from ..campaign.ops.suppress import SuppressionList, read_suppression

        files = list(self.suppress_upload.value or ())
        if not files:
            return
        entry = files[-1]
        name = Path(str(entry.get("name") or "upload.csv")).name  # only the base name, never a path to write
        data = bytes(entry.get("content") or b"")
        # The uploaded bytes live in the widget state (and so in a saved notebook): drop them now.
        self.suppress_upload.value = ()
        import tempfile

        # The list is read by the library's one reader (CSV column by name or content, TXT), from a
        # private temporary copy that is removed at once.
        suffix = ".txt" if name.lower().endswith(".txt") else ".csv"
        with tempfile.TemporaryDirectory(prefix="cmvoice-dnc-") as folder:
            copy = Path(folder) / f"list{suffix}"
            copy.write_bytes(data)
            region = self.region.value.strip() or None
            read = read_suppression(copy, region=region)
        self.uploaded_suppression = SuppressionList(read.numbers, unreadable=read.unreadable, source=name,
                                                    entries=read.entries, region=region)
        self._show_suppression()

    def _show_suppression(self) -> None:
        dnc = self.uploaded_suppression
        if dnc is None:
            self.suppress_info.value = ""
            return
        text = dnc.report(limit=3)
        colour = WARN if dnc.unreadable else MUTED
        self.suppress_info.value = (f"<span style='color:{colour}'>uploaded "
                                    f"{html.escape(text).replace(chr(10), '<br>')}</span>")

    def suppression(self) -> Any:
        """The do-not-call list for the next plan: the ``suppress`` path, the upload, both (merged), or None."""
        from ..campaign.ops.suppress import SuppressionList, read_suppression

        path = self.suppress.value.strip()
        uploaded = self.uploaded_suppression
        if not path:
            return uploaded
        from_path = read_suppression(path, region=self.region.value.strip() or None)
        if uploaded is None:
            return from_path
        return SuppressionList(from_path.numbers | uploaded.numbers,
                               unreadable=from_path.unreadable + uploaded.unreadable,
                               source=f"{from_path.source} + {uploaded.source}",
                               entries=from_path.entries + uploaded.entries, region=from_path.region)

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

    def _validate(self) -> None:
        plan = self.make_plan()
        s = plan.summary()
        valid, rows = int(s["valid"]), int(s["rows"])
        show(self.out, table(s.to_frame().T.reset_index(drop=True), caption="Plan", failures_first=False))
        for note in plan.notes:  # e.g. a country column that is not used
            say(self.out, f"Note: {note.say('widget')}")
        if len(plan.problems):
            show(self.out, table(grouped_problems(plan.problem_frame("widget")), caption="Problems (one line per kind)",
                                 failures_first=False))
        colour = OK if not len(plan.problems) else (BAD if valid == 0 else WARN)
        extra = f", {int(s['suppressed'])} on the do-not-call list" if int(s.get("suppressed", 0)) else ""
        self.set_status(f"{valid} of {rows} rows valid, {int(s['problems'])} problem(s), "
                        f"{int(s['to_send'])} to send{extra}", colour=colour)
        self._show_estimate(plan)

    def _show_estimate(self, plan: Any) -> None:
        """Show the plan's estimate (priced when a price table is given) and the calling-hours line."""
        self.estimate.value = plan.estimate(prices=self.prices_path())._repr_html_() + (
            f"<div><b>Calling hours</b>: {html.escape(self.calling_hours_text(plan))}</div>")

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
        s = plan.summary()
        countries = callee_countries(plan)
        where = ", ".join(f"{c} {n}" for c, n in countries.most_common()) or "none"
        return [
            ("Target", "CM Voice API — real, billable calls"),
            ("Base URL", self.target_url()),
            ("Campaign", f"{plan.name} ({plan.app})"),
            ("Calls", f"{int(s['to_send'])} of {int(s['rows'])} rows "
                      f"({int(s['invalid'])} invalid, {int(s['dropped'])} left out, {int(s['suppressed'])} on the "
                      "do-not-call list); rows the journal already called are not called again"),
            ("Countries", where),
            ("Estimate", self.estimate_text(plan)),
            ("Calling hours", self.calling_hours_text(plan)),
        ]

    def estimate_text(self, plan: Any) -> str:
        """The estimate line of the confirmation: calls, talk minutes and (with ``prices``) the cost."""
        text = plan.estimate(prices=self.prices_path()).to_text().splitlines()[0]
        text = text.removeprefix("Estimate: ")
        return text if self.prices_path() else text + " (no price table: cost not estimated)"

    def calling_hours_text(self, plan: Any) -> str:
        """The calling-hours line: the window, the days, and how many rows are outside it now."""
        from ..campaign.ops.hours import describe_waits, parse_calling_hours, window_status

        options = self.send_options()
        if not options:
            return "none: every row is called at once, whatever the callee's local time"
        hours = parse_calling_hours(options["calling_hours"], days=options["days"])
        text = f"{hours.hours_text} on {hours.days_text}, in each callee's local time"
        callees = [(r.callee_list() or [r.callee])[0] for r in plan.rows if r.sendable]
        if callees:
            waits = describe_waits(window_status(callees, calling_hours=hours))
            text += f"; {waits}"
            if "wait" in waits and not options["wait"]:
                text += " (not waiting: those rows end 'deferred', a later Send sends them)"
        return text

    def _prepare_real_send(self) -> None:
        self._cancel_pending(None)
        # A new action: the previous run's result and error go, like in every other action.
        clear(self.out)
        self.last_error = None
        self.counts.value = ""
        self.progress.value = 0
        self.progress.bar_style = ""
        self._require_token()
        plan = self.make_plan()
        s = plan.summary()
        if int(s["to_send"]) == 0:
            self.set_status(f"nothing to send: {int(s['valid'])} of {int(s['rows'])} rows valid — Validate shows why",
                            colour=BAD)
            return
        rows = "".join(f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(k)}</th>"
                       f"<td>{html.escape(v)}</td></tr>" for k, v in self.confirmation_facts(plan))
        self.confirm_summary.value = (
            f"<b style='color:{BAD}'>Real calls: check, then type the campaign name "
            f"<code>{html.escape(plan.name)}</code> to confirm.</b><table>{rows}</table>")
        self._pending = plan
        self.confirm_text.value = ""
        self.confirm.description = f"Place {int(s['to_send'])} real calls"
        self.confirm.disabled = True
        self.confirm_box.layout.display = ""
        self.set_status("waiting for your confirmation: nothing has been sent", colour=WARN)

    def _check_confirm_text(self) -> None:
        self.confirm.disabled = self._pending is None or self.confirm_text.value.strip() != self._pending.name

    def _cancel_pending(self, message: str | None) -> None:
        self._pending = None
        self.confirm_text.value = ""
        self.confirm.disabled = True
        self.confirm_box.layout.display = "none"
        if message:
            self.set_status(message, colour=MUTED)

    def _on_confirm(self, _button: Any = None) -> None:
        plan = self._pending
        # .click() from code ignores `disabled`: the typed name is checked here, every time.
        if plan is None:
            self.set_status("nothing to confirm: press Send first", colour=WARN)
            return
        if self.confirm_text.value.strip() != plan.name:
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
            self._show_estimate(plan)
        sender = CampaignSender(
            plan, client, journal=None if dry_run else self.journal_path(), dry_run=dry_run,
            rate=float(self.rate.value), burst=max(1, int(self.rate.value)), progress=False,
            results_path=None if dry_run else self.results_path(), front="widget", **self.send_options())
        self.sender = sender
        self.results = None
        self.last_counts = {}
        self.counts.value = ""
        self.progress.max = max(1, len(plan.rows))
        self.progress.value = 0
        self.progress.bar_style = "info"
        self.stop.disabled = False
        try:
            sender.start()
            self._watch(sender, dry_run)
        finally:
            self.stop.disabled = True

    def _render_running(self, p: dict, wait_text: str = "") -> str:
        parts = [f"done <b>{p.get('sent', 0)}</b> of {p.get('to_send', 0)} this run"]
        parts += [f"{html.escape(k)} <b>{p[k]}</b>" for k in ("queued", "suppressed", "deferred", "failed", "rejected",
                                                                "unknown") if p.get(k)]
        if p.get("waiting"):
            parts.append(f"<span style='color:{WARN}'>waiting <b>{p['waiting']}</b>"
                         + (f" — {html.escape(wait_text)}" if wait_text else "") + "</span>")
        return " &nbsp;·&nbsp; ".join(parts)

    @staticmethod
    def render_counts(counts: dict[str, int]) -> str:
        """The honest counts as one HTML line (attention counts in amber)."""
        attention = {"stopped", "deferred", "invalid", "failed", "rejected", "unknown", "changed", "already-called"}
        parts = []
        for key, label in COUNT_LABELS.items():
            n = counts.get(key)
            if n:
                colour = WARN if key in attention else "#1f2328"
                parts.append(f"<span style='color:{colour}'>{html.escape(label)} <b>{n}</b></span>")
        return " &nbsp;·&nbsp; ".join(parts) or "nothing to send"

    def _watch(self, sender: Any, dry_run: bool) -> None:
        # Runs in a thread: touch widgets only through trait assignment and append_* calls.
        while not sender.done:
            p = sender.progress
            self.progress.max = max(1, int(p.get("to_send", 0)))
            self.progress.value = min(self.progress.max, int(p.get("sent", 0)))
            self.counts.value = self._render_running(p, sender.wait_text if p.get("waiting") else "")
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
        dropped = [r.dropped for r in sender.plan.rows]
        counts = outcome_counts(results, already_done=sender.already_done, dropped=dropped)
        self.last_counts = counts
        self.counts.value = self.render_counts(counts)
        # The bar is filled from the final results: every row this run had to send that got an outcome.
        to_send = int(sender.progress.get("to_send", 0))
        self.progress.max = max(1, to_send)
        self.progress.value = self.progress.max if to_send == 0 else max(0, to_send - counts.get("stopped", 0))
        attention = sender.needs_attention
        self.progress.bar_style = "danger" if error is not None else (
            "warning" if sender.stopped_by_user or counts.get("stopped") else "success")
        show(self.out, table(results.drop(columns=["campaign_key", "input_position"], errors="ignore"),
                             caption="Results (rows that need you first)"))
        if attention:
            say(self.out, sender.summary())  # what needs attention, and what resolves it (in the app's words)
        if not dry_run:
            say(self.out, f"results: {self.results_path()}\njournal: {self.journal_path()}")
        if error is not None:
            raise error
        new, done_before = counts.get("new", 0), counts.get("already_done", 0)
        if dry_run:
            text = f"Dry run finished: {counts.get('dry-run', 0)} would be called, nothing was sent"
        elif to_send == 0:
            text = (f"Nothing new to send: {done_before} already done by an earlier run (journal)"
                    if done_before else "Nothing to send")
        else:
            text = f"Send finished: {new} new call(s) placed"
            if done_before:
                text += f", {done_before} already done earlier"
        if counts.get("suppressed"):
            text += f"; {counts['suppressed']} on the do-not-call list, not sent"
        if counts.get("deferred"):
            text += (f"; {counts['deferred']} deferred (outside their calling hours) — Send again inside the "
                     "hours sends them")
        if sender.stopped_by_user:
            text += f"; stopped by you, {counts.get('stopped', 0)} not sent — Send again sends the rest"
        self.set_status(text, colour=WARN if (sender.stopped_by_user or attention or counts.get("deferred")) else OK)

    def wait(self, timeout: float | None = 60.0) -> Any:
        """Block until the current send (and its monitor) finished; return the results."""
        if self._monitor is not None:
            self._monitor.join(timeout)
        return self.results
