"""Plots of call results with matplotlib. Each returns the :class:`matplotlib.figure.Figure`.

Figures are created without pyplot's global figure list, so nothing is shown
twice in a notebook and nothing leaks in loops; the returned Figure displays
itself (as a PNG) when it is the value of a notebook cell — so end the line
without ``;``. Pass ``ax=`` to draw into an existing Axes instead. Library code
never calls ``plt.show()``.

:func:`plot_outcomes`, :func:`plot_answer_rate_by_hour` and :func:`plot_ring_time` take the calls
or their :func:`~cmvoice_nb.callbacks.aggregate_calls` aggregate, and draw the same bars from
either: on a million calls the aggregate draws in the same time as on a thousand.
"""
from __future__ import annotations

import functools
import io
from typing import Any

import numpy as np
import pandas as pd

from .. import spec
from .analysis import AnalysisError, with_group_keys
from .frame import event_time
from .load import calls_frame

#: One colour per outcome, consistent across every plot and the HTML report.
OUTCOME_COLORS = {
    "Finished": "#2e7d32",
    "Cancelled": "#f9a825",
    "Failed": "#c62828",
    "Rejected": "#6a1b9a",
    "unknown": "#9e9e9e",
}


def _figure_png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi, bbox_inches="tight")
    return buf.getvalue()


def _axes(ax: Any, figsize: tuple[float, float]):
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    # The figure is not pyplot's, so no backend shows it behind our back; as the value of a
    # notebook cell it renders itself as one PNG (a registered inline backend takes precedence).
    fig._repr_png_ = functools.partial(_figure_png, fig)  # type: ignore[attr-defined]  # this figure's own hook
    return fig, fig.add_subplot()


def _empty(ax, message: str = "no callbacks") -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#666")
    ax.set_xticks([])
    ax.set_yticks([])


def _aggregate(calls: Any) -> Any:
    """*calls* if it is a :class:`~cmvoice_nb.callbacks.aggregate.CallAggregate`, else None."""
    from .aggregate import CallAggregate

    return calls if isinstance(calls, CallAggregate) else None


def _count_axis(axis: Any) -> None:
    """Ticks at whole numbers only on an axis that counts calls or rows (never "0.6 calls")."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def plot_outcomes(calls: Any, *, by: str | None = None, ax: Any = None, title: str | None = None):
    """Bar chart of call outcomes (stacked per group when *by* is given, e.g. ``by="app"``).

    Examples
    --------
    >>> from cmvoice_nb.callbacks.load import load_callbacks
    >>> fig = plot_outcomes(load_callbacks([{"type": "otp-finished", "result": {"code": 10}}]))
    >>> fig.axes[0].get_title()
    'Call outcomes (1 calls)'
    """
    agg = _aggregate(calls)
    if agg is None:
        calls = calls_frame(calls)
    fig, ax = _axes(ax, (7, 3.6))
    outcomes = list(spec.OUTCOMES)
    n_calls = agg.total if agg is not None else len(calls)
    if not n_calls:
        _empty(ax)
        return fig
    if by is None:
        if agg is not None:
            from .aggregate import outcome_counts

            counts = outcome_counts(agg)
        else:
            counts = calls["outcome"].value_counts().reindex(outcomes, fill_value=0)
        bars = ax.bar(counts.index, counts.to_numpy(), color=[OUTCOME_COLORS.get(o, "#777") for o in counts.index])
        total = int(counts.to_numpy().sum())
        for rect, n in zip(bars, counts.to_numpy(), strict=True):
            if n:
                ax.annotate(f"{n}\n{n / total:.0%}", (rect.get_x() + rect.get_width() / 2, rect.get_height()),
                            ha="center", va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
        ax.set_ylim(0, max(counts.max(), 1) * 1.25)
    else:
        if agg is not None:
            from .aggregate import outcome_counts

            table = outcome_counts(agg, by)
        else:
            frame, _ = with_group_keys(calls, by)
            table = pd.crosstab(frame[by].astype("string").fillna("(none)"), frame["outcome"]).reindex(
                columns=outcomes, fill_value=0
            )
        bottom = np.zeros(len(table))
        labels = table.index.astype(str)
        for outcome in outcomes:
            values = table[outcome].to_numpy()
            if values.any():
                ax.bar(labels, values, bottom=bottom, color=OUTCOME_COLORS.get(outcome), label=outcome)
            bottom += values
        ax.legend(frameon=False, fontsize=8, ncols=min(len(outcomes), 5), loc="upper right")
        ax.set_ylim(0, max(bottom.max(), 1) * 1.25)
        ax.set_xlabel(by)
    ax.set_ylabel("calls")
    _count_axis(ax.yaxis)
    ax.set_title(title or f"Call outcomes ({n_calls} calls)")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def plot_answer_rate_by_hour(calls: Any, *, tz: str = "UTC", ax: Any = None, title: str | None = None):
    """Answer rate per hour of day (in *tz*) the call started, with the number of calls per bar.

    Examples
    --------
    >>> from cmvoice_nb.callbacks.load import load_callbacks
    >>> calls = load_callbacks([{"type": "otp-finished", "result": {"code": 10}, "started-on": "2024-01-01T09:00:00Z"}])
    >>> len(plot_answer_rate_by_hour(calls).axes[0].patches)
    24
    """
    from matplotlib.ticker import PercentFormatter

    agg = _aggregate(calls)
    fig, ax = _axes(ax, (8, 3.4))
    if agg is not None:
        from .aggregate import hourly

        n_array, answered_array = hourly(agg, tz)
        if not n_array.sum():
            _empty(ax, "no call times")
            return fig
        n = pd.Series(n_array, index=range(24))
        rate = pd.Series(np.divide(answered_array, n_array, out=np.full(24, np.nan), where=n_array > 0),
                         index=range(24))
    else:
        calls = calls_frame(calls)
        hours = event_time(calls).dt.tz_convert(tz).dt.hour
        frame = pd.DataFrame({"hour": hours, "answered": calls["answered"].astype(bool)}).dropna(subset=["hour"])
        if frame.empty:
            _empty(ax, "no call times")
            return fig
        g = frame.groupby(frame["hour"].astype(int))["answered"]
        rate = g.mean().reindex(range(24))
        n = g.size().reindex(range(24), fill_value=0)
    bars = ax.bar(range(24), rate.fillna(0).to_numpy(), color=OUTCOME_COLORS["Finished"])
    for rect, count in zip(bars, n.to_numpy(), strict=True):
        if count:
            ax.annotate(str(count), (rect.get_x() + rect.get_width() / 2, rect.get_height()), ha="center",
                        va="bottom", fontsize=7, xytext=(0, 1), textcoords="offset points", color="#555")
    ax.set_xticks(range(0, 24, 2))
    ax.set_xlim(-0.6, 23.6)
    ax.set_ylim(0, 1.12)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(f"hour of day ({tz})")
    ax.set_ylabel("answer rate")
    ax.set_title(title or "Answer rate by hour (numbers: calls)")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def plot_ring_time(calls: Any, *, bins: int = 30, ax: Any = None, title: str | None = None):
    """Histogram of ring time in seconds: time to answer for answered calls, full ring otherwise.

    Examples
    --------
    >>> from cmvoice_nb.callbacks.load import load_callbacks
    >>> calls = load_callbacks([{"type": "otp-finished", "result": {"code": 9},
    ...     "started-on": "2024-01-01T09:00:00Z", "finished-on": "2024-01-01T09:01:00Z"}])
    >>> plot_ring_time(calls).axes[0].get_xlabel()
    'ring time (s)'
    """
    agg = _aggregate(calls)
    fig, ax = _axes(ax, (7, 3.4))
    if agg is not None:
        from .aggregate import ring_parts, value_median

        parts = ring_parts(agg)
        if not len(agg.ring):
            _empty(ax, "no ring times")
            return fig
        edges = np.histogram_bin_edges(agg.ring["seconds"].to_numpy(dtype=float), bins=bins)
    else:
        calls = calls_frame(calls)
        ring = calls["ring_seconds"]
        answered = calls["answered"].astype(bool)
        values = ring.dropna()
        if values.empty:
            _empty(ax, "no ring times")
            return fig
        edges = np.histogram_bin_edges(values.to_numpy(dtype=float), bins=bins)
    data, weights, labels, colors = [], [], [], []
    for label, flag, color in (("answered", True, OUTCOME_COLORS["Finished"]),
                               ("not answered", False, OUTCOME_COLORS["Cancelled"])):
        if agg is not None:
            part, counts = parts[flag]
            median = value_median(part, counts)
        else:
            part = ring[answered if flag else ~answered].dropna().to_numpy(dtype=float)
            counts = np.ones(len(part))
            median = np.median(part) if part.size else np.nan
        if part.size:
            data.append(part)
            weights.append(counts.astype(float))
            labels.append(f"{label} (median {median:.1f} s)")
            colors.append(color)
    # Stacked, so the bar height is the number of calls in that ring-time bin.
    ax.hist(data, bins=edges, weights=weights, stacked=True, color=colors, label=labels)
    ax.legend(frameon=False, fontsize=8)
    ax.set_xlabel("ring time (s)")
    ax.set_ylabel("calls")
    _count_axis(ax.yaxis)
    ax.set_title(title or "Ring time")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def plot_funnel(funnel: Any, *, ax: Any = None, title: str | None = None):
    """Horizontal funnel: rows → sent → queued → callback received → answered (→ valid DTMF).

    Parameters
    ----------
    funnel
        A :class:`~cmvoice_nb.campaign.funnel.Funnel` (what :func:`cmvoice_nb.funnel` returns),
        or its ``stages`` table: columns ``stage``, ``rows`` and ``share_of_sent``.

    Raises
    ------
    AnalysisError
        For anything else (campaign results: compute their funnel first).

    Examples
    --------
    >>> stages = pd.DataFrame({"stage": ["rows", "sent", "answered"], "rows": [4, 3, 1],
    ...                        "share_of_sent": [float("nan"), 1.0, 1 / 3]})
    >>> [t.get_text() for t in plot_funnel(stages).axes[0].get_yticklabels()]
    ['rows', 'sent', 'answered']
    """
    stages = funnel if isinstance(funnel, pd.DataFrame) else getattr(funnel, "stages", None)
    if not isinstance(stages, pd.DataFrame) or not {"stage", "rows", "share_of_sent"} <= set(stages.columns):
        raise AnalysisError(f"plot_funnel takes a funnel (cmvoice_nb.funnel(results, calls)) or its stages table, "
                        f"got {type(funnel).__name__}")
    fig, ax = _axes(ax, (7, 3.2))
    if stages.empty or int(stages["rows"].max()) == 0:
        _empty(ax, "no campaign rows")
        return fig
    y = np.arange(len(stages))[::-1]
    colors = ["#90a4ae", "#64b5f6", "#1e88e5", "#43a047", OUTCOME_COLORS["Finished"], "#00897b"]
    ax.barh(y, stages["rows"].to_numpy(), color=colors[: len(stages)])
    width = float(stages["rows"].max())
    # A stage is judged over the calls that can reach it (valid DTMF over DTMF calls) when the table says so.
    words = {"sent": "of rows", "valid DTMF": "of DTMF calls sent"}
    if "share_of_reachable" in stages.columns:
        shares, over = stages["share_of_reachable"], stages["stage"].map(lambda s: words.get(s, "of sent"))
    else:
        shares, over = stages["share_of_sent"], stages["stage"].map(lambda _s: "of sent")
    for yi, n, share, words in zip(y, stages["rows"], shares, over, strict=True):
        label = f"{int(n)}" + (f"  ({share:.0%} {words})" if pd.notna(share) and yi < y[0] else "")
        ax.text(n + width * 0.01, yi, label, va="center", fontsize=8)
    ax.set_yticks(y, stages["stage"].tolist())
    ax.set_xlim(0, width * 1.3)
    _count_axis(ax.xaxis)
    ax.set_xlabel("campaign rows")
    ax.set_title(title or "Campaign funnel")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


__all__ = ["plot_outcomes", "plot_answer_rate_by_hour", "plot_ring_time", "plot_funnel", "OUTCOME_COLORS"]
