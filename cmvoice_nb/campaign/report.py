"""The HTML report of a campaign: its callbacks, and with its results the funnel that joins both.

:func:`render_report` builds the HTML string (no file I/O); :func:`write_report` writes it
atomically. The callbacks' part is :func:`cmvoice_nb.callbacks.render_calls_report`; this
module adds the funnel, the rows still waiting for a callback and the callbacks set aside.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from ..callbacks import (calls_frame, figure_html, load_notes, plot_funnel, render_calls_report, table_html,
                         write_calls_report)
from .funnel import Funnel, funnel
from .results import load_results

__all__ = ["render_report", "write_report", "campaign_note"]


def campaign_note(f: Funnel) -> str | None:
    """One sentence saying which callbacks a campaign report counts and how many it set aside.

    Examples
    --------
    >>> results = pd.DataFrame({"instruction_id": ["a"], "status": ["queued"]})
    >>> calls = [{"instruction-id": "a", "result": {"code": 10}}, {"instruction-id": "z", "result": {"code": 9}}]
    >>> print(campaign_note(funnel(results, calls)))
    Limited to this campaign's 1 callback(s); 1 callback(s) of other campaigns (or matching no row of these results) set aside and counted nowhere.
    """
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


def _funnel_section(f: Funnel) -> str:
    parts = ["<h2>Campaign funnel</h2>"]
    stages = f.stages.copy()
    for col in ("share_of_rows", "share_of_sent", "share_of_previous"):
        stages[col] = stages[col].map(lambda x: f"{x:.1%}" if pd.notna(x) else "")
    parts.append(table_html(stages, index=False))
    parts.append(figure_html(plot_funnel(f)))
    cols = [c for c in ("instruction_id", "callee", "status", "call_ids", "sent_at") if c in f.rows.columns]
    none = "<p class='muted'>none</p>"
    parts.append(f"<h3>Waiting for a callback ({len(f.waiting)})</h3>")
    parts.append(table_html(f.waiting[cols]) if len(f.waiting) else none)
    parts.append(f"<h3>Unknown rows resolved by a callback ({len(f.resolved_unknown)}): placed, do not resend</h3>")
    parts.append(table_html(f.resolved_unknown[cols + ["outcome"]]) if len(f.resolved_unknown) else none)
    parts.append(f"<h3>Unknown rows without a callback ({len(f.unresolved_unknown)}): reconcile before resending</h3>")
    parts.append(table_html(f.unresolved_unknown[cols]) if len(f.unresolved_unknown) else none)
    if len(f.unmatched_callbacks):
        parts.append(f"<h3>Callbacks set aside: other campaigns or no campaign row ({len(f.unmatched_callbacks)})</h3>")
        parts.append(table_html(f.unmatched_callbacks[["type", "call_id", "instruction_id", "callee", "outcome"]],
                                index=False))
    return "\n".join(parts)


def _report_parts(calls: Any, results: Any, campaign_only: bool) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The callbacks the report covers, its data notes and its campaign sections."""
    calls = calls_frame(calls)
    if isinstance(results, (str, os.PathLike)):
        results = load_results(results)
    notes = load_notes(calls)
    if results is None:
        return calls, notes, []
    f = funnel(results, calls)
    note = campaign_note(f)
    if note and campaign_only:
        notes.append(note)
        own = f.calls
        own.attrs["load_report"] = calls.attrs.get("load_report")  # the sources a report must never overwrite
        calls = own
    elif note:
        notes.append(note.replace("Limited to this campaign's", "The funnel counts this campaign's"))
    return calls, notes, [_funnel_section(f)]


def render_report(calls: Any, *, results: Any = None, title: str = "Call results", tz: str = "UTC",
                  campaign_only: bool = True) -> str:
    """Return the report as one HTML string (see :func:`write_report`)."""
    shown, notes, sections = _report_parts(calls, results, campaign_only)
    return render_calls_report(shown, title=title, tz=tz, notes=notes, sections=sections)


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
        Loaded callbacks, or anything :func:`~cmvoice_nb.callbacks.load_callbacks` accepts.
    results
        Optional campaign results (DataFrame or CSV path): adds the funnel and the rows still
        waiting for a callback.
    campaign_only
        With *results*: the summaries, plots and DTMF tables cover only that campaign's callbacks
        (see :func:`~cmvoice_nb.campaign.funnel.funnel`); the others are counted, set aside and
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
    >>> results = pd.DataFrame({"instruction_id": ["a"], "status": ["queued"]})
    >>> write_report([{"type": "otp-finished", "instruction-id": "a", "result": {"code": 10}}], results=results,
    ...              html_path=out).name
    'report.html'
    >>> "Campaign funnel" in out.read_text(encoding="utf-8")
    True
    """
    shown, notes, sections = _report_parts(calls, results, campaign_only)
    return write_calls_report(shown, html_path=html_path, title=title, tz=tz, notes=notes, sections=sections)
