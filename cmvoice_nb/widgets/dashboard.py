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
from ._common import BAD, MUTED, OK, WARN, App, clear, say, show, table

logger = logging.getLogger(__name__)

ALL = "all"
#: How often a running receiver is polled for new callbacks.
_POLL_S = 1.0


def funnel_scope(results: Any, calls: Any, *, start: dt.date | None = None, end: dt.date | None = None,
                 app: str | None = None, outcome: str | None = None) -> tuple[Any, Any, list[str]]:
    """The results rows and callbacks a funnel under these filters compares, and notes saying so.

    Both sides get the same dates: callbacks by ``started_on``, results rows by ``sent_at``
    (rows never sent have none and stay). The app filter narrows the callbacks; the outcome
    filter is left out, because the funnel's later stages are outcomes themselves.
    """
    import pandas as pd

    notes = []
    scoped_calls = filter_calls(calls, start=start, end=end, app=app)
    scoped = results
    if (start is not None or end is not None) and "sent_at" in results.columns:
        sent = pd.to_datetime(results["sent_at"], utc=True, errors="coerce")
        day = sent.dt.date
        keep = sent.isna().to_numpy()
        inside = pd.Series(True, index=results.index)
        if start is not None:
            inside &= (day >= start).fillna(False)
        if end is not None:
            inside &= (day <= end).fillna(False)
        scoped = results[keep | inside.to_numpy(dtype=bool)]
        notes.append(f"{len(scoped)} of {len(results)} results rows sent in the chosen dates (or never sent)")
    if outcome not in (None, ALL):
        notes.append("the outcome filter does not apply here: the funnel's stages are the outcomes")
    return scoped, scoped_calls, notes


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
        The loaded callbacks, the filtered view, ``summarize(filtered)`` and the funnel of the
        same filtered calls (see :func:`funnel_scope`).
    plots
        The grid of plot images.
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
        self._loaded_from: Path | None = None
        self._loaded = None

        self.log_path = W.Text(value=str(log), description="Callback log", style=style, layout=W.Layout(width="36em"))
        self.results_path = W.Text(value=str(results) if isinstance(results, (str, os.PathLike)) else "",
                                   description="Results CSV", placeholder="campaign results for the funnel",
                                   style=style, layout=W.Layout(width="36em"))
        self.start = W.Button(description="Start receiver", button_style="primary", icon="play",
                              layout=W.Layout(width="11em"))
        self.stop = W.Button(description="Stop receiver", icon="stop", disabled=True, layout=W.Layout(width="11em"))
        self.load = W.Button(description="Load log", icon="upload", layout=W.Layout(width="11em"))
        self.refresh = W.Button(description="Refresh", icon="refresh", layout=W.Layout(width="11em"))
        # Enabled (so it can be selected and copied) but not editable: an edit is put back.
        self.url = W.Text(value="", description="Callback URL", placeholder="Start receiver to get the URL",
                          style=style, layout=W.Layout(width="48em"))
        self.url.observe(self._keep_url, names="value")
        self.date_from = W.DatePicker(description="From", style=style)
        self.date_to = W.DatePicker(description="To", style=style)
        self.app = W.Dropdown(options=[ALL, *spec.APPS], value=ALL, description="App", style=style)
        self.outcome = W.Dropdown(options=[ALL, *spec.OUTCOMES], value=ALL, description="Outcome", style=style)
        self.summary_out = W.Output()
        self.plots = W.GridBox(layout=W.Layout(grid_template_columns="repeat(2, minmax(0, 1fr))", grid_gap="8px",
                                               width="100%"))
        self.plots_note = W.HTML()
        self.funnel_out = W.Output()
        tabs = W.Tab(children=[self.summary_out, W.VBox([self.plots_note, self.plots]), self.funnel_out])
        for i, title in enumerate(("Summary", "Plots", "Funnel")):
            tabs.set_title(i, title)
        self.tabs = tabs

        busy = [self.start, self.load, self.refresh]
        self.start.on_click(self.action("start receiver", self._start_receiver, busy=[self.load],
                                        working="starting the receiver"))
        self.stop.on_click(self.guard(self._on_stop, action="stop receiver"))
        self.load.on_click(self.action("load", self._load, busy=busy, working="loading the log"))
        self.refresh.on_click(self.action("refresh", self._refresh, busy=busy, working="refreshing"))
        for control in (self.date_from, self.date_to, self.app, self.outcome):
            control.observe(self.guard(lambda _change: self.render(), action="filter"), names="value")

        self.children = [
            W.HTML("<h3>Callback dashboard</h3>"),
            W.HBox([self.log_path, self.load, self.start, self.stop]),
            self.url,
            W.HBox([self.results_path, self.refresh]),
            W.HBox([self.date_from, self.date_to, self.app, self.outcome]),
            self.status,
            tabs,
            self.out,
        ]

    # -- receiving --------------------------------------------------------------------------------
    def _keep_url(self, change: dict) -> None:
        rx = self.receiver
        wanted = rx.url if rx is not None else ""
        if change.get("new") != wanted:
            self.url.value = wanted

    def _start_receiver(self) -> None:
        from ..callbacks import CallbackReceiver

        if self.receiver is not None:
            return
        self.receiver = CallbackReceiver(Path(self.log_path.value).expanduser(), host=self._host,
                                         port=self._port).start()
        self.url.value = self.receiver.url
        self.start.disabled, self.stop.disabled = True, False
        self._seen = 0  # loaded calls stay until the receiver has something new
        shown = f"; {len(self.calls)} loaded calls stay shown" if self.calls is not None else "; no callbacks yet"
        self.set_status("receiving: copy the URL above into callback-url (the simulator reaches it directly; "
                        f"the real provider needs a tunnel){shown}", colour=OK)
        self._watch_stop.clear()
        self.in_thread(self._watch, action="watch receiver")

    def _on_start(self, _button: Any = None) -> None:  # kept for scripts
        self.start.click()

    def _on_stop(self, _button: Any = None) -> None:
        self._watch_stop.set()
        if self.receiver is not None:
            self.receiver.stop()
            n = self.receiver.count
            self.receiver = None
            self.url.value = ""
            self.set_status(f"receiver stopped after {n} callback(s); the log stays at {self.log_path.value}",
                            colour=MUTED)
        self.start.disabled, self.stop.disabled = False, True

    def _received(self) -> Any:
        """Loaded calls plus what the receiver got; one log re-read when it writes the loaded file."""
        from ..callbacks import load_callbacks

        rx = self.receiver
        if rx is None:
            return self.calls
        if self._loaded is None:
            return rx.frame()
        log = Path(self.log_path.value).expanduser()
        if self._loaded_from is not None and log.resolve() == self._loaded_from:
            return load_callbacks(log, warn=False)
        import pandas as pd

        return pd.concat([self._loaded, rx.frame()], ignore_index=True)

    def _watch(self) -> None:
        # Refresh when new callbacks arrived; from a thread, so no `with out:` anywhere below.
        while not self._watch_stop.wait(_POLL_S):
            rx = self.receiver
            if rx is None:
                return
            if rx.count != self._seen:
                self._seen = rx.count
                self.calls = self._received()
                self.render()

    def close(self) -> None:
        self._on_stop()
        super().close()

    # -- loading ---------------------------------------------------------------------------------
    def _load(self) -> None:
        from ..callbacks import load_callbacks

        path = Path(self.log_path.value).expanduser()
        self.calls = load_callbacks(path, warn=False)
        self._loaded, self._loaded_from = self.calls, path.resolve()
        report = self.calls.attrs.get("load_report")
        if report is not None:
            skipped = f", {len(report.bad_lines)} bad lines skipped" if report.bad_lines else ""
            say(self.out, f"loaded {report.rows} callbacks from {path.name} "
                          f"({report.duplicates_removed} duplicates removed{skipped})")
            for line in report.problems():
                say(self.out, "  " + line)
        self.render()

    def _on_load(self, _button: Any = None) -> None:  # kept for scripts
        self.load.click()

    def _refresh(self) -> None:
        if self.receiver is not None:
            self.calls = self._received()
            self.render()
        else:
            self._load()

    def _on_refresh(self, _button: Any = None) -> None:  # kept for scripts
        self.refresh.click()

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
        from ..callbacks import summarize

        if self.calls is None:
            return
        self.filtered = filter_calls(self.calls, **self.filters())
        self.summary = summarize(self.filtered)
        clear(self.summary_out)
        n = len(self.filtered)
        if n:
            show(self.summary_out, table(self.summary, caption="All shown calls", failures_first=False))
            show(self.summary_out, table(summarize(self.filtered, by="app"), caption="Per app",
                                         failures_first=False))
        else:
            say(self.summary_out, f"No calls match these filters ({len(self.calls)} loaded): widen the dates "
                                  "or choose 'all'.")
        self._render_plots()
        funnel_problem = self._render_funnel()
        rate = self.summary["answer_rate"].iloc[0] if len(self.summary) else float("nan")
        rate_text = "n/a" if rate != rate else f"{rate:.0%}"
        text = f"{n} of {len(self.calls)} calls shown; answer rate {rate_text}"
        if funnel_problem:
            text += f" — funnel: {funnel_problem}"
        self.set_status(text, colour=WARN if funnel_problem else "#1f2328")

    def _render_plots(self) -> None:
        from ..callbacks import plot_answer_rate_by_hour, plot_outcomes, plot_ring_time

        if not len(self.filtered):
            self.plots.children = []
            self.plots_note.value = "<i>No calls match these filters: nothing to plot.</i>"
            return
        self.plots_note.value = ""
        images = []
        for plot in (plot_outcomes, plot_answer_rate_by_hour, plot_ring_time):
            images.append(W.Image(value=figure_png(plot(self.filtered)), format="png",
                                  layout=W.Layout(width="100%", height="auto")))
        self.plots.children = images

    def _render_funnel(self) -> str:
        """Draw the funnel of the filtered calls; return a short problem to flag, or ''."""
        from ..callbacks import funnel, plot_funnel

        clear(self.funnel_out)
        self.funnel = None
        try:
            results = self.results()
        except Exception as exc:  # the log loaded: say what is wrong with the results, keep the calls
            from ._common import plain_error

            say(self.funnel_out, f"The results CSV could not be read, so there is no funnel: {plain_error(exc)}")
            return "results CSV unreadable"
        if results is None:
            say(self.funnel_out, "Give a campaign's results CSV to follow its rows from sending to answer.")
            return ""
        scoped, calls, notes = funnel_scope(results, self.calls, **self.filters())
        try:
            self.funnel = funnel(scoped, calls)
        except Exception as exc:  # e.g. a results file with rows the funnel cannot read: calls stay shown
            from ._common import plain_error

            say(self.funnel_out, f"No funnel from these results: {plain_error(exc)}")
            return "results CSV unreadable"
        matched = len(self.funnel.calls) if self.funnel.calls is not None else int(self.funnel.rows["callbacks"].sum())
        problem = ""
        if len(calls) and matched == 0:
            problem = "results and callbacks do not overlap"
            from IPython.display import HTML

            show(self.funnel_out, HTML(
                f"<div style='color:{BAD};font-weight:bold'>None of the {len(calls)} callbacks belongs to these "
                f"{len(scoped)} results rows: check that the results CSV is this campaign's (and the dates).</div>"))
        for note in [f"Same filter as the summary: {len(calls)} callbacks, {len(scoped)} results rows."] + notes:
            say(self.funnel_out, note)
        show(self.funnel_out, table(self.funnel.stages, caption="Funnel", failures_first=False))
        show(self.funnel_out, W.Image(value=figure_png(plot_funnel(self.funnel)), format="png",
                                      layout=W.Layout(max_width="720px")))
        return problem


def figure_png(fig: Any) -> bytes:
    """PNG bytes of a matplotlib figure, count axes with whole-number ticks; the figure is closed."""
    import io

    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    for ax in fig.axes:
        label = (ax.get_ylabel() or "").lower()
        if label in ("calls", "count", "rows") or label.startswith("calls"):
            # A count is never 0.6 calls.
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        if (ax.get_xlabel() or "").lower() in ("calls", "rows", "campaign rows"):
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
