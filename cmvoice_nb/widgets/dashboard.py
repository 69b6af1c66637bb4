"""CallbackDashboard: receive or load callbacks, filter them, see the summary, plots and funnel.

Wiring only over :mod:`cmvoice_nb.callbacks` (``CallbackReceiver``, ``load_callbacks``,
``summarize`` and the ``plot_*`` functions) and :mod:`cmvoice_nb.campaign` (``funnel``).
"""
from __future__ import annotations

import datetime as dt
import html
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ipywidgets as W

from .. import spec
from ._common import BAD, MUTED, OK, WARN, App, clear, plain_error, say, show, table

if TYPE_CHECKING:
    import pandas as pd

    from ..callbacks import CallAggregate, CallbackReceiver, CallHistory

logger = logging.getLogger(__name__)

ALL = "all"
#: How often a running receiver is polled for new callbacks.
_POLL_S = 1.0
#: Positions of the Plots and Funnel tabs: they are drawn when shown.
_PLOTS_TAB, _FUNNEL_TAB = 1, 2


def readable(frame: Any) -> Any:
    """*frame* with headers in words: ``answer_rate`` → ``Answer rate`` (a copy; the values are kept).

    Examples
    --------
    >>> import pandas as pd
    >>> list(readable(pd.DataFrame(columns=["calls", "answer_rate", "median_ring_s"])).columns)
    ['Calls', 'Answer rate', 'Median ring s']
    """
    def words(name: Any) -> Any:
        if not isinstance(name, str):
            return name
        text = name.replace("_", " ").strip()
        return text[:1].upper() + text[1:]

    out = frame.rename(columns=words)
    if isinstance(out.index.name, str):
        out.index = out.index.rename(words(out.index.name))
    return out


def funnel_table(stages: Any) -> Any:
    """A funnel's stages as the dashboard shows them: each stage's rate over the calls that can reach it.

    ``valid DTMF`` is judged over the DTMF calls sent, not over every call (a Notification call
    cannot give digits); shares are percentages in words.

    Examples
    --------
    >>> import pandas as pd
    >>> stages = pd.DataFrame({"stage": ["rows", "sent", "valid DTMF"], "rows": [10, 9, 2],
    ...                        "reachable": [10, 10, 3], "share_of_reachable": [1.0, 0.9, 2 / 3],
    ...                        "share_of_previous": [float("nan"), 0.9, 0.22]})
    >>> funnel_table(stages).to_dict("records")[2]
    {'Stage': 'valid DTMF', 'Calls': 2, 'Can reach it': 3, 'Rate': '67%', 'Of the stage before': '22%'}
    """
    import pandas as pd

    def pct(x: Any) -> str:
        return "" if pd.isna(x) else f"{x:.0%}"

    reach = stages["reachable"] if "reachable" in stages.columns else stages["rows"].iloc[:1].repeat(len(stages))
    share = stages["share_of_reachable"] if "share_of_reachable" in stages.columns else stages["share_of_rows"]
    return pd.DataFrame({"Stage": stages["stage"].tolist(), "Calls": stages["rows"].astype(int).tolist(),
                         "Can reach it": [int(x) for x in reach], "Rate": [pct(x) for x in share],
                         "Of the stage before": [pct(x) for x in stages["share_of_previous"]]})


def filter_calls(calls: Any, *, start: dt.date | None = None, end: dt.date | None = None,
                 app: str | None = None, outcome: str | None = None) -> Any:
    """Rows of *calls* within [start, end] (UTC dates, inclusive), of *app* and *outcome*.

    The dates are those of :func:`~cmvoice_nb.callbacks.calls_in_period`: when the call started
    (else ended, else arrived); a call with no time at all is kept. ``None`` (or ``"all"``)
    leaves a filter out; *end* before *start* keeps nothing. Returns a new frame; *calls* is not
    modified. The dashboard itself filters :func:`~cmvoice_nb.callbacks.aggregate_calls`'
    aggregate the same way.

    Examples
    --------
    >>> import pandas as pd
    >>> calls = pd.DataFrame({"app": ["otp", "dtmf"], "outcome": ["Finished", "Failed"], "answered": [True, False],
    ...                       "started_on": pd.to_datetime(["2024-01-01", "2024-01-02"], utc=True)})
    >>> filter_calls(calls, app="otp")["outcome"].tolist()
    ['Finished']
    >>> filter_calls(calls, start=dt.date(2024, 1, 2))["app"].tolist()
    ['dtmf']
    """
    import pandas as pd

    from ..callbacks import calls_in_period

    if start is not None and end is not None and end < start:
        return calls.iloc[0:0].copy()  # an empty period: no call, as the dashboard says
    if start is not None or end is not None:
        calls = calls_in_period(calls, since=start, until=end)
    keep = pd.Series(True, index=calls.index)
    if app not in (None, ALL):
        keep &= (calls["app"].astype("string") == app).fillna(False).astype(bool)
    if outcome not in (None, ALL):
        keep &= (calls["outcome"].astype("string") == outcome).fillna(False).astype(bool)
    return calls[keep.to_numpy(dtype=bool)].copy()


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
        same filtered calls (dates and app; the outcome filter does not apply to a funnel).
    history, view
        The calls as a :class:`~cmvoice_nb.callbacks.aggregate.CallHistory` (new callbacks are
        appended, duplicates dropped) and the aggregate of the filtered calls.
    plots
        The grid of plot images, drawn when the Plots tab is shown (and redrawn while it is).
        The funnel likewise is computed and drawn when its tab is shown (or :attr:`funnel` is
        read); a funnel problem (results unreadable, no call in common) then joins the status.

    Notes
    -----
    The calls are aggregated once per change of data (:func:`~cmvoice_nb.callbacks.aggregate_calls`);
    a filter change summarizes and plots the filtered aggregate, so it takes about as long on
    a million callbacks as on a thousand. A running receiver's new callbacks are added to the
    aggregate, never re-reading the history; :attr:`filtered` is computed from the rows only
    when read. The funnel needs the rows: it is computed when its tab is shown, and again only
    when the dates, the app or the data change (not for the outcome filter).
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
        self.receiver: CallbackReceiver | None = None
        self.history: CallHistory | None = None
        self.view: CallAggregate | None = None
        self.summary: pd.DataFrame | None = None
        self._funnel: Any = None
        self._funnel_stale = False
        self._status_base = ""
        self._filtered: tuple[Any, Any] = (None, None)
        self._funnel_cache: tuple[Any, Any] = (None, None)
        self._results_cache: tuple[Any, Any] = (None, None)
        self._watch_stop = threading.Event()
        self._data_lock = threading.RLock()
        self._seen = -1
        self._taken = 0  # receiver records already in the history
        self._loaded_from: Path | None = None
        self._loaded_stamp: Any = None

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
        # Drawing three figures costs more than all the counting, and the funnel joins rows:
        # both are drawn when their tab is seen.
        self._plots_stale = False
        tabs.observe(self.guard(self._on_tab, action="plots"), names="selected_index")

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
        self._seen, self._taken = 0, 0  # loaded calls stay until the receiver has something new
        shown = f"; {len(self.history)} loaded calls stay shown" if self.history is not None else "; no callbacks yet"
        self.set_status("receiving: copy the URL above into callback-url (the simulator reaches it directly; "
                        f"the real provider needs a tunnel){shown}", colour=OK)
        self._watch_stop.clear()
        self.in_thread(self._watch, action="watch receiver")

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

    def _take_new(self) -> None:
        """Append what the receiver got since last time to the history (the history is not re-read)."""
        from ..callbacks import CallHistory, load_callbacks

        rx = self.receiver
        if rx is None:
            return
        records = rx.records(start=self._taken)
        with self._data_lock:
            self._taken += len(records)
            if self.history is None:
                self.history = CallHistory()
            if records:
                self.history.append(load_callbacks(records, warn=False))

    def _watch(self) -> None:
        # Refresh when new callbacks arrived; from a thread, so no `with out:` anywhere below.
        while not self._watch_stop.wait(_POLL_S):
            rx = self.receiver
            if rx is None:
                return
            if rx.count != self._seen:
                self._seen = rx.count
                self._take_new()
                self.render()

    def close(self) -> None:
        self._on_stop()
        super().close()

    # -- loading ---------------------------------------------------------------------------------
    def _load(self) -> None:
        from ..callbacks import CallHistory, load_callbacks

        path = Path(self.log_path.value).expanduser()
        stamp = _log_stamp(path)
        if self._loaded_from == path.resolve() and stamp is not None and stamp == self._loaded_stamp \
                and self.receiver is None and self.history is not None:
            # Nothing was written since the last load: no need to read a million lines again.
            say(self.out, f"{path.name} is unchanged since it was loaded ({len(self.history)} callbacks)")
            self.render()
            return
        try:
            calls = load_callbacks(path, warn=False)
        except Exception as exc:
            # Nothing shown may pass for this log: the previous data goes, and the tabs say why.
            self._forget(f"Loading {path.name} failed: {plain_error(exc)}. Nothing is shown until a log loads.")
            raise
        with self._data_lock:
            self.history = CallHistory(calls)
            self._loaded_from, self._loaded_stamp = path.resolve(), stamp
            if self.receiver is not None:
                self._taken = 0  # the new history holds none of the receiver's callbacks
        report = calls.attrs.get("load_report")
        if report is not None:
            skipped = f", {len(report.bad_lines)} bad lines skipped" if report.bad_lines else ""
            say(self.out, f"loaded {report.rows} callbacks from {path.name} "
                          f"({report.duplicates_removed} duplicates removed{skipped})")
            for line in report.problems():
                say(self.out, "  " + line)
        if self.receiver is not None:
            self._take_new()
        self.render()

    def _refresh(self) -> None:
        if self.receiver is not None:
            self._take_new()
            self.render()
        else:
            self._load()

    def results(self) -> Any:
        """The campaign results for the funnel: the frame given, or the CSV named in the field.

        The CSV is read again only when it changed (its size or modification time).
        """
        from ..campaign import load_results

        if self.results_path.value.strip():
            path = Path(self.results_path.value).expanduser()
            key = (str(path.resolve()), _log_stamp(path))
            if key[1] is None or self._results_cache[0] != key:
                self._results_cache = (key, load_results(path))
            return self._results_cache[1]
        return self._results_frame

    # -- the data ------------------------------------------------------------------------------
    @property
    def calls(self) -> Any:
        """Every callback loaded or received (None before any)."""
        return self.history.calls if self.history is not None else None

    @calls.setter
    def calls(self, frame: Any) -> None:
        from ..callbacks import CallHistory

        with self._data_lock:
            self.history = CallHistory(frame) if frame is not None else None

    @property
    def filtered(self) -> Any:
        """The loaded calls under the current filters (computed from the rows when read)."""
        if self.history is None:
            return None
        key = (self.history, self.history.version, tuple(sorted(self.filters().items())))
        if self._filtered[0] != key:
            self._filtered = (key, filter_calls(self.history.calls, **self.filters()))
        return self._filtered[1]

    # -- analysis --------------------------------------------------------------------------------
    def filters(self) -> dict[str, Any]:
        """The keyword arguments of :func:`filter_calls` the controls stand for."""
        return {"start": self.date_from.value, "end": self.date_to.value,
                "app": self.app.value, "outcome": self.outcome.value}

    def render(self) -> None:
        """Filter the aggregate; redraw the summary, plots and funnel."""
        from ..callbacks import summarize

        with self._data_lock:
            history = self.history
            if history is None:
                return
            f = self.filters()
            if f["start"] is not None and f["end"] is not None and f["end"] < f["start"]:
                self._no_period()
                return
            self.view = history.aggregate.select(since=f["start"], until=f["end"], app=f["app"], outcome=f["outcome"])
        self.summary = summarize(self.view)
        clear(self.summary_out)
        n, total = self.view.total, len(history)
        if n:
            show(self.summary_out, table(readable(self.summary), caption="All shown calls", failures_first=False))
            show(self.summary_out, table(readable(summarize(self.view, by="app")), caption="Per app",
                                         failures_first=False))
        else:
            say(self.summary_out, f"No calls match these filters ({total} loaded): widen the dates "
                                  "or choose 'all'.")
        rate = self.summary["answer_rate"].iloc[0] if len(self.summary) else float("nan")
        rate_text = "n/a" if rate != rate else f"{rate:.0%}"
        self._status_base = f"{n} of {total} calls shown; answer rate {rate_text}"
        self.set_status(self._status_base)
        self._plots_stale = self._funnel_stale = True
        if self.tabs.selected_index == _PLOTS_TAB:
            self._render_plots()
        elif self.tabs.selected_index == _FUNNEL_TAB:
            self._update_funnel()

    def _forget(self, text: str) -> None:
        """Drop the loaded data and every view of it, saying *text* in each tab."""
        with self._data_lock:
            self.history = None
            self._loaded_from = self._loaded_stamp = None
        self.view, self.summary, self._funnel = None, None, None
        self._plots_stale = self._funnel_stale = False
        for out in (self.summary_out, self.funnel_out):
            clear(out)
            say(out, text)
        self.plots.children = []
        self.plots_note.value = f"<i>{html.escape(text)}</i>"

    def _no_period(self) -> None:
        """From after To: nothing matches; say so everywhere instead of showing the last view."""
        text = "The From date is after the To date: no calls match; swap or widen the dates."
        self.view, self.summary, self._funnel = None, None, None
        self._plots_stale = self._funnel_stale = False
        clear(self.summary_out)
        say(self.summary_out, text)
        self.plots.children = []
        self.plots_note.value = f"<i>{text}</i>"
        clear(self.funnel_out)
        say(self.funnel_out, text)
        self.set_status(text, colour=WARN)

    def _on_tab(self, change: dict) -> None:
        if self.view is None:
            return
        if change.get("new") == _PLOTS_TAB and self._plots_stale:
            self._render_plots()
        elif change.get("new") == _FUNNEL_TAB and self._funnel_stale:
            self._update_funnel()

    @property
    def funnel(self) -> Any:
        """The funnel of the filtered calls (None without results); computed now if its tab has not been shown."""
        if self._funnel_stale and self.view is not None:
            self._update_funnel()
        return self._funnel

    def _update_funnel(self) -> None:
        problem = self._render_funnel()
        if problem:
            self.set_status(f"{self._status_base} — funnel: {problem}", colour=WARN)

    def _render_plots(self) -> None:
        """Draw the plots of the filtered aggregate (when the Plots tab is shown)."""
        from ..callbacks import plot_answer_rate_by_hour, plot_outcomes, plot_ring_time

        self._plots_stale = False
        view = self.view
        if view is None:  # nothing loaded, or an empty period: _no_period said so
            return
        if not view.total:
            self.plots.children = []
            self.plots_note.value = "<i>No calls match these filters: nothing to plot.</i>"
            return
        self.plots_note.value = ""
        images = []
        for plot in (plot_outcomes, plot_answer_rate_by_hour, plot_ring_time):
            images.append(W.Image(value=figure_png(plot(view)), format="png",
                                  layout=W.Layout(width="100%", height="auto")))
        self.plots.children = images

    def _scoped_funnel(self, results: Any) -> tuple[Any, int, int, list[str]]:
        """(funnel, callbacks compared, results rows compared, notes) under the current filters.

        The funnel works on rows: it is computed again only when the data, the results, the
        dates or the app change (the outcome filter does not apply to it).
        """
        from ..campaign import funnel

        f = self.filters()
        history = self.history
        assert history is not None  # a funnel is drawn only over loaded calls (a view exists)
        # The data objects themselves, compared by identity (an id() could be reused by a re-read CSV).
        data, key = (history, results), (history.version, f["start"], f["end"], f["app"])
        cached = self._funnel_cache[0]
        if cached is None or not (all(a is b for a, b in zip(cached[0], data, strict=True)) and cached[1] == key):
            calls = filter_calls(history.calls, app=f["app"]) if f["app"] not in (None, ALL) else history.calls
            result = funnel(results, calls, since=f["start"], until=f["end"])
            n_calls = len(result.unmatched_callbacks) + (len(result.calls) if result.calls is not None else 0)
            self._funnel_cache = ((data, key), (result, n_calls, len(result.rows)))
        result, n_calls, n_rows = self._funnel_cache[1]
        notes = list(result.notes)
        if f["outcome"] not in (None, ALL):
            notes.append("the outcome filter does not apply here: the funnel's stages are the outcomes")
        return result, n_calls, n_rows, notes

    def _render_funnel(self) -> str:
        """Draw the funnel of the filtered calls; return a short problem to flag, or ''."""
        from ..callbacks import plot_funnel

        clear(self.funnel_out)
        self._funnel, self._funnel_stale = None, False
        try:
            results = self.results()
        except Exception as exc:  # the log loaded: say what is wrong with the results, keep the calls
            say(self.funnel_out, f"The results CSV could not be read, so there is no funnel: {plain_error(exc)}")
            return "results CSV unreadable"
        if results is None:
            say(self.funnel_out, "Give a campaign's results CSV to follow its rows from sending to answer.")
            return ""
        try:
            self._funnel, n_calls, n_rows, notes = self._scoped_funnel(results)
        except Exception as exc:  # e.g. a results file with rows the funnel cannot read: calls stay shown
            say(self.funnel_out, f"No funnel from these results: {plain_error(exc)}")
            return "results CSV unreadable"
        result = self._funnel
        matched = len(result.calls) if result.calls is not None else int(result.rows["callbacks"].sum())
        problem = ""
        if n_calls and matched == 0:
            problem = "results and callbacks do not overlap"
            from IPython.display import HTML

            show(self.funnel_out, HTML(
                f"<div style='color:{BAD};font-weight:bold'>None of the {n_calls} callbacks belongs to these "
                f"{n_rows} results rows: check that the results CSV is this campaign's (and the dates).</div>"))
        for note in [f"Same filter as the summary: {n_calls} callbacks, {n_rows} results rows."] + notes:
            say(self.funnel_out, note)
        show(self.funnel_out, table(funnel_table(result.stages), caption="Funnel: each rate over the calls that can "
                                    "reach it (valid DTMF over the DTMF calls)", failures_first=False))
        show(self.funnel_out, W.Image(value=figure_png(plot_funnel(result)), format="png",
                                      layout=W.Layout(max_width="720px")))
        return problem


def _log_stamp(path: Path) -> Any:
    """What changes when a log (file, folder or glob) is written to: names, sizes, times; None if unknown."""
    try:
        if path.is_file():
            files = [path]
        elif path.is_dir():
            files = sorted(p for p in path.iterdir() if p.is_file())
        else:
            return None
        return tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files)
    except OSError:
        return None


def figure_png(fig: Any) -> bytes:
    """PNG bytes of a matplotlib figure; the figure is closed.

    Count axes already have whole-number ticks (the library's plots set them). The figures are
    laid out by matplotlib ("constrained"), so no second, "tight" layout pass is made here.
    """
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    plt.close(fig)
    return buf.getvalue()


__all__ = ["CallbackDashboard", "filter_calls", "figure_png", "readable", "funnel_table", "ALL"]
