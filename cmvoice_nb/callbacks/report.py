"""A self-contained HTML report of callbacks (tables + plots embedded as base64 PNG).

:func:`render_calls_report` builds the HTML string (no file I/O); :func:`write_calls_report`
writes it atomically. The report needs no network or other files to open. Further sections
(a campaign's funnel: :func:`cmvoice_nb.write_report`) are HTML fragments built with
:func:`table_html` and :func:`figure_html`, appended after the callbacks' own.
"""
from __future__ import annotations

import base64
import datetime as _dt
import io
import os
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from .._fsutil import atomic_write_text, same_file
from ..errors import CallbackError
from .analysis import dtmf_summary, summarize
from .load import calls_frame
from .plots import plot_answer_rate_by_hour, plot_outcomes, plot_ring_time

__all__ = ["render_calls_report", "write_calls_report", "load_notes", "table_html", "figure_html"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1000px;color:#222;
padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}
h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0;max-width:100%}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right;overflow-wrap:anywhere;word-break:break-word;
white-space:normal}
th{background:#f5f5f5} td:first-child,th:first-child{text-align:left} .muted{color:#666;font-size:.85rem}
.wrap{max-width:100%}
.warn{background:#fff8e1;border-left:4px solid #f9a825;padding:.5rem 1rem} img{max-width:100%;height:auto}
"""


def figure_html(fig: Any) -> str:
    """A matplotlib figure as an ``<img>`` holding its PNG (base64), for a report section."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="plot" src="data:image/png;base64,{data}">'


def table_html(frame: pd.DataFrame, *, index: bool = True, max_rows: int = 50) -> str:
    """A table for a report section: at most *max_rows* rows, then how many were left out.

    Every column and every cell is shown whole (pandas would cut text after 50 characters and
    hide middle columns); long cells wrap within the page instead of being cut.

    Examples
    --------
    >>> html = table_html(pd.DataFrame({"n": range(3)}), max_rows=2)
    >>> html.count("</tr>"), "1 more row(s) not shown" in html
    (3, True)
    >>> "x" * 80 in table_html(pd.DataFrame({"error": ["x" * 80]}))
    True
    """
    shown = frame.head(max_rows)
    with pd.option_context("display.max_colwidth", None, "display.max_columns", None, "display.width", None):
        body = shown.to_html(index=index, border=0, na_rep="", float_format=lambda x: f"{x:,.2f}")
    html = "<div class='wrap'>" + body + "</div>"
    if len(frame) > max_rows:
        html += f'<p class="muted">… {len(frame) - max_rows} more row(s) not shown.</p>'
    return html


def _rates(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    if "answer_rate" in out.columns:
        out["answer_rate"] = out["answer_rate"].map(lambda x: f"{x:.1%}" if pd.notna(x) else "")
    return out


def load_notes(calls: pd.DataFrame) -> list[str]:
    """What loading the callbacks skipped or repaired, in words (from ``calls.attrs["load_report"]``).

    Examples
    --------
    >>> from cmvoice_nb.callbacks import load_callbacks
    >>> load_notes(load_callbacks([{"call-id": "a", "result": {"code": 10}}] * 2))
    ['1 duplicate callback(s) removed']
    """
    report = calls.attrs.get("load_report")
    if report is None:
        return []
    notes = report.problems()
    if report.duplicates_removed:
        notes.append(f"{report.duplicates_removed} duplicate callback(s) removed")
    return notes


def render_calls_report(calls: Any, *, title: str = "Call results", tz: str = "UTC",
                        notes: Sequence[str] | None = None, sections: Sequence[str] = ()) -> str:
    """Return the report as one HTML string (see :func:`write_calls_report`).

    *notes* default to :func:`load_notes`; *sections* are HTML fragments appended at the end.
    """
    calls = calls_frame(calls)
    notes = load_notes(calls) if notes is None else list(notes)
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
    parts.append(table_html(_rates(summarize(calls, tz=tz))))
    parts.append(figure_html(plot_outcomes(calls)))
    if calls["app"].notna().any():
        parts.append("<h2>By app</h2>")
        parts.append(table_html(_rates(summarize(calls, by="app", tz=tz))))
        parts.append(figure_html(plot_outcomes(calls, by="app", title="Call outcomes by app")))
    if calls["callee"].notna().any():
        parts.append("<h2>By callee country</h2>")
        by_country = summarize(calls, by="country", tz=tz).sort_values("calls", ascending=False)
        parts.append(table_html(_rates(by_country), max_rows=25))
    parts.append("<h2>Timing</h2>")
    parts.append(figure_html(plot_answer_rate_by_hour(calls, tz=tz)))
    parts.append(figure_html(plot_ring_time(calls)))

    if (calls["app"] == "dtmf").any():
        d = dtmf_summary(calls)
        parts.append("<h2>DTMF input</h2>")
        overview = d.overview.copy()
        for key in ("valid_share", "empty_share"):
            overview[key] = f"{overview[key]:.1%}" if pd.notna(overview[key]) else ""
        parts.append(table_html(overview.to_frame("value")))
        digits = d.digits.assign(share=d.digits["share"].map(lambda x: f"{x:.1%}"))
        parts.append(table_html(digits, index=False, max_rows=30))
    parts.extend(sections)
    parts.append("</body></html>")
    return "\n".join(parts)


def write_calls_report(calls: Any, *, html_path: str | os.PathLike, title: str = "Call results", tz: str = "UTC",
                       notes: Sequence[str] | None = None, sections: Sequence[str] = ()) -> Path:
    """Write a self-contained HTML report of the callbacks (summaries, DTMF input, plots) atomically.

    Parameters
    ----------
    calls
        Loaded callbacks, or anything :func:`load_callbacks` accepts.
    html_path
        Where to write; never one of the callback sources.
    notes, sections
        See :func:`render_calls_report`.

    Returns
    -------
    pathlib.Path
        *html_path*.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "report.html"
    >>> write_calls_report([{"type": "otp-finished", "result": {"code": 10}}], html_path=out).name
    'report.html'
    """
    calls = calls_frame(calls)
    target = Path(html_path)
    report = calls.attrs.get("load_report")
    for src in getattr(report, "sources", []):
        if not str(src).startswith("<") and target.exists() and same_file(src, target):
            raise CallbackError(f"{target}: refusing to overwrite a callback source with the report")
    html = render_calls_report(calls, title=title, tz=tz, notes=notes, sections=sections)
    return atomic_write_text(target, html)
