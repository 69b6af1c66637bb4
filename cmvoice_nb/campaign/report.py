"""The HTML report of a campaign: its callbacks, and with its journal (or results) the funnel that joins both.

:func:`render_report` builds the HTML string (no file I/O); :func:`write_report` writes it
atomically. The callbacks' part is :func:`cmvoice_nb.callbacks.render_calls_report`; this
module adds the funnel, reach per wave, the rows still waiting for a callback, the callbacks set
aside and, with a price table, the cost. The journal is the campaign's truth: every row it ever
sent, every wave (a row since deleted from the list still owns its callbacks);
:func:`not_reached` lists the people no call reached, with the operator's kept columns.
"""
from __future__ import annotations

import os
from html import escape
from pathlib import Path
from typing import Any

import pandas as pd

from ..callbacks import (
    AnalysisError,
    calls_frame,
    figure_html,
    load_notes,
    plot_funnel,
    render_calls_report,
    table_html,
    write_calls_report,
)
from .funnel import Funnel, funnel
from .results import load_results, write_results

__all__ = ["render_report", "write_report", "campaign_note", "campaign_results", "not_reached", "people_reached",
           "NOT_REACHED_COLUMNS"]

#: Columns of :func:`not_reached` before the operator's kept columns.
NOT_REACHED_COLUMNS = ["row", "instruction_id", "callee", "status", "outcome", "calls", "waves", "why"]


def campaign_note(f: Funnel) -> str | None:
    """One sentence saying which callbacks a campaign report counts and how many it set aside.

    Examples
    --------
    >>> results = pd.DataFrame({"instruction_id": ["a"], "status": ["queued"]})
    >>> calls = [{"instruction-id": "a", "result": {"code": 10}}, {"instruction-id": "z", "result": {"code": 9}}]
    >>> print(campaign_note(funnel(results, calls)))
    Limited to this campaign's 1 callback(s); 1 callback(s) of other campaigns (or matching no row of these ...
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
    for col in ("share_of_rows", "share_of_sent", "share_of_previous", "share_of_reachable"):
        if col in stages.columns:
            stages[col] = stages[col].map(lambda x: f"{x:.1%}" if pd.notna(x) else "")
    parts.append(table_html(stages, index=False))
    parts.append(figure_html(plot_funnel(f)))
    if f.waves is not None:
        waves = f.waves.copy()
        for col in ("answer_rate", "reach_cumulative"):
            waves[col] = waves[col].map(lambda x: f"{x:.1%}" if pd.notna(x) else "")
        parts.append(f"<h3>Reach per wave ({waves.attrs.get('people', '?')} people called; rates of the wave's "
                     "calls, reach of the people)</h3>")
        parts.append(table_html(waves))
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


def campaign_results(journal: Any, campaign: str | None = None):
    """*journal*'s attempts of one campaign as results (see :func:`~cmvoice_nb.campaign.status.journal_results`).

    Its ``attrs`` carry the campaign's name and app and, for the cost section, the payloads it
    sent and its upper-bound spend. *campaign* may be left out when the journal holds one.
    """
    from .journal import opened_journal, pick_campaign
    from .status import journal_results

    with opened_journal(journal, error=AnalysisError) as open_journal:
        campaign = pick_campaign(open_journal, campaign, error=AnalysisError)
        results = journal_results(open_journal, campaign)
        payloads = open_journal.payloads(campaign)
        results.attrs.update(campaign=campaign, app=open_journal.campaigns()[campaign],
                             spent=open_journal.spent(campaign),
                             payloads={i: payloads.get(i) for i in results["instruction_id"].tolist()})
        return results


def _cost_section(f: Funnel, results: Any, prices: Any) -> str:
    """Actual talk time from the callbacks x prices, beside the estimate of what was placed (an upper bound)."""
    import json

    from .ops.estimate import estimate_payloads, talk_costs
    from .vocabulary import CALLED_STATES

    actual = talk_costs(f.calls if f.calls is not None else calls_frame([]), prices)
    parts = ["<h2>Cost</h2>", "<p>Actual: the answered calls' talk time (from their callbacks) x the price table.</p>",
             table_html(actual)]
    payloads = results.attrs.get("payloads") or {}
    placed = [json.loads(payloads[i]) for i, st in zip(results["instruction_id"], results["status"], strict=True)
              if st in CALLED_STATES and payloads.get(i)]
    if placed:
        est = estimate_payloads(placed, app=results.attrs.get("app"), prices=prices)
        parts.append(f"<p>Estimate of the {len(placed)} call(s) placed, every one answered and heard in full "
                     f"(an upper bound): {escape(est.to_text().splitlines()[0].removeprefix('Estimate: '))}.</p>")
        parts.append(table_html(est.to_frame()))
    spent = results.attrs.get("spent") or 0.0
    if spent:
        parts.append(f"<p>Counted against the budget so far (each call at its upper bound): {spent:,.2f}.</p>")
    return "\n".join(parts)


def not_reached(results: Any, calls: Any) -> pd.DataFrame:
    """The people no call of the campaign reached, one row per row of the list, with the kept columns.

    Parameters
    ----------
    results
        The campaign's journal results (:func:`~cmvoice_nb.campaign.status.journal_results`: every
        attempt of every wave), or any results frame with ``instruction_id``, ``callee``,
        ``status`` (and ``wave``, ``base_id``, ``row``).
    calls
        The callbacks (anything :func:`~cmvoice_nb.callbacks.load_callbacks` accepts).

    Returns
    -------
    pandas.DataFrame
        :data:`NOT_REACHED_COLUMNS` — the row's label, its latest attempt's id, the callee, that
        attempt's status and outcome, calls placed, waves tried, and ``why`` (``not answered``,
        ``not called yet``, ``outcome unknown``) — then the operator's kept columns. People on
        the do-not-call list are left out: they are not to be contacted this way.

    Examples
    --------
    >>> results = pd.DataFrame({"instruction_id": ["a", "b"], "callee": ["+31612345610", "+31612345611"],
    ...                         "status": ["queued", "queued"]})
    >>> calls = [{"instruction-id": "a", "result": {"code": 10}}, {"instruction-id": "b", "result": {"code": 9}}]
    >>> not_reached(results, calls)[["instruction_id", "outcome", "why"]].to_dict("records")
    [{'instruction_id': 'b', 'outcome': 'Cancelled', 'why': 'not answered'}]
    """
    from .vocabulary import CALLED_STATES

    f = funnel(results, calls)
    rows = f.rows.copy()
    if "base_id" not in rows.columns:
        rows["base_id"] = rows["instruction_id"]
    if "wave" not in rows.columns:
        rows["wave"] = 1
    if "row" not in rows.columns:
        rows["row"] = [str(i) for i in rows.index]
    kept = [c for c in rows.columns if c not in set(f.rows.columns) - set(results.columns)
            and c not in {"instruction_id", "callee", "status", "http_status", "call_ids", "error", "attempts",
                          "sent_at", "wave", "updated_at", "row", "base_id", "input_position", "campaign_key"}]
    out = []
    for _base, group in rows.groupby("base_id", sort=False):
        group = group.sort_values("wave", kind="stable")
        latest = group.iloc[-1]
        status = [str(s) for s in group["status"].tolist()]
        if group["answered"].any() or "suppressed" in status:
            continue
        placed = int(sum(s in CALLED_STATES for s in status))
        outcome = latest["outcome"] if isinstance(latest["outcome"], str) else None
        why = ("outcome unknown" if status[-1] in ("unknown", "sending") and outcome is None else
               "not answered" if placed else "not called yet")
        out.append([latest["row"], latest["instruction_id"], latest["callee"], status[-1], outcome, placed,
                    int(group["wave"].nunique()), why] + [latest[c] for c in kept])
    return pd.DataFrame(out, columns=NOT_REACHED_COLUMNS + kept)


def people_reached(f: Funnel) -> tuple[int, int]:
    """``(people reached, people called)`` of a funnel: a person (a row of the list, every wave) is reached
    when any of its calls was answered.

    A rate over people does not drop when a later wave calls the unanswered again, as a rate over
    calls does.

    Examples
    --------
    >>> results = pd.DataFrame({"instruction_id": ["a", "b", "b-w2"], "base_id": ["a", "b", "b"],
    ...                         "status": ["queued"] * 3, "wave": [1, 1, 2]})
    >>> calls = [{"instruction-id": i, "result": {"code": c}} for i, c in (("a", 10), ("b", 9), ("b-w2", 9))]
    >>> people_reached(funnel(results, calls))
    (1, 2)
    """
    rows = f.rows
    person = rows["base_id"] if "base_id" in rows.columns else rows["instruction_id"]
    called = rows["stage"].isin(["queued", "callback received", "answered"])
    people = set(person[called].tolist())
    reached = set(person[rows["answered"].astype(bool)].tolist())
    return len(reached & people), len(people)


def _report_parts(calls: Any, results: Any, campaign_only: bool, prices: Any = None) -> tuple[pd.DataFrame,
                                                                                              list[str], list[str]]:
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
        assert own is not None  # funnel() keeps the callbacks it was given
        own.attrs["load_report"] = calls.attrs.get("load_report")  # the sources a report must never overwrite
        calls = own
    elif note:
        notes.append(note.replace("Limited to this campaign's", "The funnel counts this campaign's"))
    sections = [_funnel_section(f)]
    if prices is not None:
        sections.append(_cost_section(f, results, prices))
    return calls, notes, sections


def _campaign_results(results: Any, journal: Any, campaign: str | None) -> Any:
    if journal is not None and results is not None:
        raise AnalysisError("give the campaign's journal or its results, not both: the journal holds every wave")
    return campaign_results(journal, campaign) if journal is not None else results


def _ab_section(calls: Any, journal: Any, campaign: str | None) -> list[str]:
    """The A/B test's section when the journal's campaign has one (:func:`~cmvoice_nb.campaign.abtest.ab_report`)."""
    from .abtest import ab_report

    if journal is None:
        return []
    try:
        return [ab_report(calls, journal, campaign=campaign).to_html()]
    except AnalysisError:  # no test in this campaign
        return []


def render_report(calls: Any, *, results: Any = None, journal: Any = None, campaign: str | None = None,
                  prices: Any = None, title: str = "Call results", tz: str = "UTC", campaign_only: bool = True) -> str:
    """Return the report as one HTML string (see :func:`write_report`)."""
    results = _campaign_results(results, journal, campaign)
    shown, notes, sections = _report_parts(calls, results, campaign_only, prices)
    sections += _ab_section(calls, journal, campaign)
    return render_calls_report(shown, title=title, tz=tz, notes=notes, sections=sections)


def write_report(
    calls: Any,
    *,
    results: Any = None,
    journal: Any = None,
    campaign: str | None = None,
    prices: Any = None,
    not_reached_path: str | os.PathLike | None = None,
    html_path: str | os.PathLike,
    title: str = "Call results",
    tz: str = "UTC",
    campaign_only: bool = True,
) -> Path:
    """Write a self-contained HTML report (summaries, DTMF input, funnel, reach, cost, plots) atomically.

    Parameters
    ----------
    calls
        Loaded callbacks, or anything :func:`~cmvoice_nb.callbacks.load_callbacks` accepts.
    journal
        The campaign's journal (path or :class:`~cmvoice_nb.campaign.Journal`): the campaign's
        truth, every row it ever sent in every wave (:func:`~cmvoice_nb.campaign.status.journal_results`);
        adds the funnel, reach per wave and the rows still waiting for a callback, and the A/B test
        (:func:`~cmvoice_nb.campaign.abtest.ab_report`) when the campaign has one.
    campaign
        Which campaign of *journal* (needed only when it holds several).
    results
        Instead of a journal: a campaign's results (DataFrame or CSV path) — one run's rows only.
    prices
        A price table (see :func:`~cmvoice_nb.campaign.ops.estimate.read_prices`): adds the cost
        section, the actual talk time from the callbacks x prices beside the estimate of the calls
        placed (an upper bound).
    not_reached_path
        Also write :func:`not_reached` there (CSV, or ``.xlsx``): the people no call reached,
        with the operator's kept columns, for a colleague or another channel.
    campaign_only
        With a campaign: the summaries, plots and DTMF tables cover only that campaign's callbacks
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
    results = _campaign_results(results, journal, campaign)
    if not_reached_path is not None:
        if results is None:
            raise AnalysisError("not_reached_path needs the campaign: give its journal (or its results)")
        write_results(not_reached(results, calls), not_reached_path)
    shown, notes, sections = _report_parts(calls, results, campaign_only, prices)
    sections += _ab_section(calls, journal, campaign)
    return write_calls_report(shown, html_path=html_path, title=title, tz=tz, notes=notes, sections=sections)
