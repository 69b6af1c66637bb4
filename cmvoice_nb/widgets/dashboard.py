"""CallbackDashboard: receive or load callbacks, filter them, see the summary, plots and funnel.

Wiring only over :mod:`cmvoice_nb.callbacks`: ``CallbackReceiver``,
``load_callbacks``, ``summarize``, ``funnel`` and the ``plot_*`` functions.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from pathlib import Path
from typing import Any

import ipywidgets as W

from .. import spec
from ._common import App, clear, figure_image, say, scroll_layout, show

logger = logging.getLogger(__name__)

ALL = "all"
#: How often a running receiver is polled for new callbacks.
_POLL_S = 1.0


def filter_calls(calls: Any, *, start: dt.date | None = None, end: dt.date | None = None,
                 app: str | None = None, outcome: str | None = None) -> Any:
    """Rows of *calls* started within [start, end] (UTC dates, inclusive), of *app* and *outcome*.

    ``None`` (or ``"all"``) leaves a filter out. Returns a new frame; *calls* is not modified.

    Examples
    --------
    >>> import pandas as pd
    >>> calls = pd.DataFrame({"app": ["otp", "dtmf"], "outcome": ["Finished", "Failed"],
    ...                       "started_on": pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True)})
    >>> filter_calls(calls, app="otp")["outcome"].tolist()
    ['Finished']
    """
    keep = calls.index == calls.index  # all True, aligned
    if app not in (None, ALL):
        keep &= (calls["app"] == app).fillna(False).to_numpy()
    if outcome not in (None, ALL):
        keep &= (calls["outcome"].astype("string") == outcome).fillna(False).to_numpy()
    if start is not None or end is not None:
        day = calls["started_on"].dt.tz_convert("UTC").dt.date
        if start is not None:
            keep &= (day >= start).fillna(False).to_numpy()
        if end is not None:
            keep &= (day <= end).fillna(False).to_numpy()
    return calls[keep].copy()


class CallbackDashboard(App):
    """Watch calls come in (or load logs) and analyse them.

    Parameters
    ----------
    log
        The JSON Lines log the receiver appends to and "Load" reads (a file, folder or glob).
    results
        Campaign results (DataFrame or CSV path) for the funnel.
    host, port
        Where the receiver listens (loopback, free port by default).

    Attributes
    ----------
    log_path, results_path, start, stop, load, refresh, url, date_from, date_to, app, outcome
        The controls.
    receiver
        The running :class:`~cmvoice_nb.callbacks.CallbackReceiver` (or None).
    calls, filtered, summary, funnel
        The loaded callbacks, the filtered view, ``summarize(filtered)`` and the funnel.
    """

    _control_names = ("log_path", "results_path", "start", "stop", "load", "refresh", "url", "date_from",
                      "date_to", "app", "outcome")

    def __init__(self, *, log: str | os.PathLike = "callbacks/callbacks.jsonl", results: Any = None,
                 host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__()
        self.add_class("cmvoice-app")
        self.add_class("cmvoice-callback-dashboard")
        style = {"description_width": "8em"}
        self._results_frame = results if results is not None and not isinstance(results, (str, os.PathLike)) else None
        self._host, self._port = host, port
        self.receiver = None
        self.calls = None
        self.filtered = None
        self.summary = None
        self.funnel = None
        self._watch_stop = threading.Event()
        self._seen = -1

        self.log_path = W.Text(value=str(log), description="Callback log", style=style, layout=W.Layout(width="34em"))
        self.results_path = W.Text(value=str(results) if isinstance(results, (str, os.PathLike)) else "",
                                   description="Results CSV", placeholder="campaign results for the funnel",
                                   style=style, layout=W.Layout(width="34em"))
        self.start = W.Button(description="Start receiver", button_style="primary", icon="play")
        self.stop = W.Button(description="Stop receiver", icon="stop", disabled=True)
        self.load = W.Button(description="Load log", icon="upload")
        self.refresh = W.Button(description="Refresh", icon="refresh")
        self.url = W.Text(value="", description="Callback URL", disabled=True, style=style,
                          layout=W.Layout(width="46em"))
        self.date_from = W.DatePicker(description="From", style=style)
        self.date_to = W.DatePicker(description="To", style=style)
        self.app = W.Dropdown(options=[ALL, *spec.APPS], value=ALL, description="App", style=style)
        self.outcome = W.Dropdown(options=[ALL, *spec.OUTCOMES], value=ALL, description="Outcome", style=style)
        self.summary_out = W.Output(layout=scroll_layout("420px"))
        self.plots_out = W.Output(layout=scroll_layout("420px"))
        self.funnel_out = W.Output(layout=scroll_layout("420px"))
        tabs = W.Tab(children=[self.summary_out, self.plots_out, self.funnel_out])
        for i, title in enumerate(("Summary", "Plots", "Funnel")):
            tabs.set_title(i, title)
        self.tabs = tabs

        self.start.on_click(self.guard(self._on_start, action="start receiver"))
        self.stop.on_click(self.guard(self._on_stop, action="stop receiver"))
        self.load.on_click(self.guard(self._on_load, action="load"))
        self.refresh.on_click(self.guard(self._on_refresh, action="refresh"))
        for control in (self.date_from, self.date_to, self.app, self.outcome):
            control.observe(self.guard(lambda _change: self.render(), action="filter"), names="value")

        self.children = [
            W.HTML("<h3>Callback dashboard</h3>"),
            W.HBox([self.log_path, self.start, self.stop]),
            self.url,
            W.HBox([self.results_path, self.load, self.refresh]),
            W.HBox([self.date_from, self.date_to]),
            W.HBox([self.app, self.outcome]),
            self.status,
            tabs,
            self.out,
        ]

    # -- receiving --------------------------------------------------------------------------------
    def _on_start(self, _button: Any = None) -> None:
        from ..callbacks import CallbackReceiver

        if self.receiver is not None:
            return
        self.receiver = CallbackReceiver(Path(self.log_path.value).expanduser(), host=self._host,
                                         port=self._port).start()
        self.url.value = self.receiver.url
        self.start.disabled, self.stop.disabled = True, False
        self.set_status("receiving: put the URL above into callback-url (the simulator reaches it directly; "
                        "the real provider needs a tunnel)", colour="#1a7f37")
        self._watch_stop.clear()
        self.in_thread(self._watch, action="watch receiver")

    def _on_stop(self, _button: Any = None) -> None:
        self._watch_stop.set()
        if self.receiver is not None:
            self.receiver.stop()
            n = self.receiver.count
            self.receiver = None
            self.set_status(f"receiver stopped after {n} callback(s); the log stays at {self.log_path.value}")
        self.start.disabled, self.stop.disabled = False, True

    def _watch(self) -> None:
        # Refresh when new callbacks arrived; from a thread, so no `with out:` anywhere below.
        while not self._watch_stop.wait(_POLL_S):
            rx = self.receiver
            if rx is None:
                return
            if rx.count != self._seen:
                self._seen = rx.count
                self.calls = rx.frame()
                self.render()

    def close(self) -> None:
        self._on_stop()
        super().close()

    # -- loading ---------------------------------------------------------------------------------
    def _on_load(self, _button: Any = None) -> None:
        from ..callbacks import load_callbacks

        clear(self.out)
        self.calls = load_callbacks(Path(self.log_path.value).expanduser(), warn=False)
        report = self.calls.attrs.get("load_report")
        if report is not None:
            say(self.out, f"loaded {report.rows} callbacks ({report.duplicates_removed} duplicates removed, "
                          f"{len(report.bad_lines)} bad lines skipped)")
        self.render()

    def _on_refresh(self, _button: Any = None) -> None:
        if self.receiver is not None:
            self.calls = self.receiver.frame()
            self.render()
        else:
            self._on_load()

    def results(self) -> Any:
        """The campaign results for the funnel: the frame given, or the CSV named in the field."""
        from ..callbacks import load_results

        if self.results_path.value.strip():
            return load_results(Path(self.results_path.value).expanduser())
        return self._results_frame

    # -- analysis --------------------------------------------------------------------------------
    def filters(self) -> dict[str, Any]:
        """The keyword arguments of :func:`filter_calls` the controls stand for."""
        return {"start": self.date_from.value, "end": self.date_to.value,
                "app": self.app.value, "outcome": self.outcome.value}

    def render(self) -> None:
        """Recompute the filtered view, summary, plots and funnel, and redraw them."""
        from ..callbacks import funnel, plot_answer_rate_by_hour, plot_funnel, plot_outcomes, plot_ring_time, summarize
        if self.calls is None:
            return
        self.filtered = filter_calls(self.calls, **self.filters())
        self.summary = summarize(self.filtered)
        clear(self.summary_out)
        show(self.summary_out, self.summary)
        if len(self.filtered):
            show(self.summary_out, summarize(self.filtered, by="app"))
        clear(self.plots_out)
        if len(self.filtered):
            for plot in (plot_outcomes, plot_answer_rate_by_hour, plot_ring_time):
                show(self.plots_out, figure_image(plot(self.filtered)))
        clear(self.funnel_out)
        results = self.results()
        if results is not None:
            self.funnel = funnel(results, self.filtered)
            show(self.funnel_out, self.funnel.stages)
            show(self.funnel_out, figure_image(plot_funnel(self.funnel)))
        else:
            self.funnel = None
            say(self.funnel_out, "give a campaign's results CSV to follow its rows from sending to answer")
        rate = self.summary["answer_rate"].iloc[0] if len(self.summary) else float("nan")
        rate_text = "n/a" if rate != rate else f"{rate:.0%}"
        self.set_status(f"{len(self.filtered)} of {len(self.calls)} calls shown; answer rate {rate_text}")
