"""A self-contained HTML report of call results (tables + plots embedded as base64 PNG).

:func:`render_report` builds the HTML string (no file I/O); :func:`write_report`
writes it atomically. The report needs no network or other files to open.
"""
from __future__ import annotations

import base64
import datetime as _dt
import io
import os
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from .._fsutil import atomic_write_text, same_file
from ..errors import CallbackError
from .analysis import _calls_frame, dtmf_summary, funnel, load_results, summarize
from .plots import plot_answer_rate_by_hour, plot_funnel, plot_outcomes, plot_ring_time

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1000px;color:#222;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem} h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0} th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}
th{background:#f5f5f5} td:first-child,th:first-child{text-align:left} .muted{color:#666;font-size:.85rem}
.scroll{overflow-x:auto}
.warn{background:#fff8e1;border-left:4px solid #f9a825;padding:.5rem 1rem} img{max-width:100%;height:auto}
"""


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="plot" src="data:image/png;base64,{data}">'


def _table(frame: pd.DataFrame, *, index: bool = True, max_rows: int = 50) -> str:
    shown = frame.head(max_rows)
    html = "<div class='scroll'>" + shown.to_html(index=index, border=0, na_rep="", float_format=lambda x: f"{x:,.2f}") + "</div>"
    if len(frame) > max_rows:
        html += f'<p class="muted">… {len(frame) - max_rows} more row(s) not shown.</p>'
    return html


def _rates(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if "answer_rate" in out.columns:
        out["answer_rate"] = out["answer_rate"].map(lambda x: f"{x:.1%}" if pd.notna(x) else "")
    return out


def campaign_note(f: Any) -> str | None:
    """One sentence saying which callbacks a campaign report counts and how many it set aside."""
    aside = len(f.unmatched_callbacks)
    own = len(f.calls) if f.calls is not None else int(f.rows["callbacks"].sum())
    if not aside:
        return None
    note = (f"Limited to this campaign's {own} callback(s); {aside} callback(s) of other campaigns "
            "(or matching no row of these results) set aside and counted nowhere")
    collisions = len(f.id_collisions) if f.id_collisions is not None else 0
    if collisions:
        note += (f", {collisions} of them carrying one of this campaign's instruction ids with a call id it did "
                 "not record (another campaign using the same ids)")
    return note + "."


def render_report(calls: Any, *, results: Any = None, title: str = "Call results", tz: str = "UTC",
                  campaign_only: bool = True) -> str:
    """Return the report as one HTML string (see :func:`write_report`)."""
    calls = _calls_frame(calls)
    if isinstance(results, (str, os.PathLike)):
        results = load_results(results)
    report = calls.attrs.get("load_report")
    f = funnel(results, calls) if results is not None else None
    notes = []
    if report is not None:
        notes = report.problems()
        if report.duplicates_removed:
            notes.append(f"{report.duplicates_removed} duplicate callback(s) removed")
    if f is not None:
        note = campaign_note(f)
        if note and campaign_only:
            notes.append(note)
            calls = f.calls
        elif note:
            notes.append(note.replace("Limited to this campaign's", "The funnel counts this campaign's"))
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p class='muted'>{len(calls)} callback(s); generated "
        f"{_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M} UTC; times in {escape(tz)}.</p>",
    ]
    if notes:
        parts.append("<div class='warn'><b>Data notes:</b><ul>"
                     + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul></div>")

    parts.append("<h2>Overview</h2>")
    parts.append(_table(_rates(summarize(calls, tz=tz))))
    parts.append(_png(plot_outcomes(calls)))
    if calls["app"].notna().any():
        parts.append("<h2>By app</h2>")
        parts.append(_table(_rates(summarize(calls, by="app", tz=tz))))
        parts.append(_png(plot_outcomes(calls, by="app", title="Call outcomes by app")))
    if calls["callee"].notna().any():
        parts.append("<h2>By callee country</h2>")
        by_country = summarize(calls, by="country", tz=tz).sort_values("calls", ascending=False)
        parts.append(_table(_rates(by_country), max_rows=25))
    parts.append("<h2>Timing</h2>")
    parts.append(_png(plot_answer_rate_by_hour(calls, tz=tz)))
    parts.append(_png(plot_ring_time(calls)))

    if (calls["app"] == "dtmf").any():
        d = dtmf_summary(calls)
        parts.append("<h2>DTMF input</h2>")
        overview = d.overview.copy()
        for key in ("valid_share", "empty_share"):
            overview[key] = f"{overview[key]:.1%}" if pd.notna(overview[key]) else ""
        parts.append(_table(overview.to_frame("value")))
        digits = d.digits.assign(share=d.digits["share"].map(lambda x: f"{x:.1%}"))
        parts.append(_table(digits, index=False, max_rows=30))

    if f is not None:
        parts.append("<h2>Campaign funnel</h2>")
        stages = f.stages.copy()
        for col in ("share_of_rows", "share_of_sent", "share_of_previous"):
            stages[col] = stages[col].map(lambda x: f"{x:.1%}" if pd.notna(x) else "")
        parts.append(_table(stages, index=False))
        parts.append(_png(plot_funnel(f)))
        cols = [c for c in ("instruction_id", "callee", "status", "call_ids", "sent_at") if c in f.rows.columns]
        parts.append(f"<h3>Waiting for a callback ({len(f.waiting)})</h3>")
        parts.append(_table(f.waiting[cols]) if len(f.waiting) else "<p class='muted'>none</p>")
        parts.append(f"<h3>Unknown rows resolved by a callback ({len(f.resolved_unknown)}): placed, do not resend</h3>")
        parts.append(_table(f.resolved_unknown[cols + ["outcome"]]) if len(f.resolved_unknown) else "<p class='muted'>none</p>")
        parts.append(f"<h3>Unknown rows without a callback ({len(f.unresolved_unknown)}): reconcile before resending</h3>")
        parts.append(_table(f.unresolved_unknown[cols]) if len(f.unresolved_unknown) else "<p class='muted'>none</p>")
        if len(f.unmatched_callbacks):
            parts.append(f"<h3>Callbacks set aside: other campaigns or no campaign row ({len(f.unmatched_callbacks)})</h3>")
            parts.append(_table(f.unmatched_callbacks[["type", "call_id", "instruction_id", "callee", "outcome"]],
                                index=False))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(
    calls: Any,
    *,
    results: Any = None,
    html_path: str | os.PathLike,
    title: str = "Call results",
    tz: str = "UTC",
    campaign_only: bool = True,
) -> Path:
    """Write a self-contained HTML report (summaries, DTMF input, funnel, plots) atomically.

    Parameters
    ----------
    calls
        Loaded callbacks, or anything :func:`load_callbacks` accepts.
    results
        Optional campaign results (DataFrame or CSV path): adds the funnel and the rows still
        waiting for a callback.
    campaign_only
        With *results*: the summaries, plots and DTMF tables cover only that campaign's callbacks
        (see :func:`~cmvoice_nb.callbacks.analysis.funnel`); the others are counted, set aside and
        listed. ``False`` keeps every loaded callback in the summaries.
    html_path
        Where to write; never one of the callback sources.

    Returns
    -------
    pathlib.Path
        *html_path*.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report.html"
    >>> write_report([{"type": "otp-finished", "result": {"code": 10}}], html_path=out).name
    'report.html'
    """
    calls = _calls_frame(calls)
    target = Path(html_path)
    report = calls.attrs.get("load_report")
    for src in getattr(report, "sources", []):
        if not str(src).startswith("<") and target.exists() and same_file(src, target):
            raise CallbackError(f"{target}: refusing to overwrite a callback source with the report")
    html = render_report(calls, results=results, title=title, tz=tz, campaign_only=campaign_only)
    return atomic_write_text(target, html)


__all__ = ["render_report", "write_report", "campaign_note"]
