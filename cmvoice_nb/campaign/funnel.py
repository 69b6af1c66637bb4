"""Campaign results joined with their callbacks: the funnel, reach per wave, one period of both.

:func:`funnel` follows each results row from sending to answer, counting only this campaign's
callbacks; :func:`reach_by_wave` says how many people were answered after 1, 2, 3... attempts;
:func:`scope_results` cuts results and callbacks to the same period. Pure: results and callbacks
in (or the paths to read them from), new DataFrames out. The callbacks side (loading, event
times, periods, DTMF validity) is :mod:`cmvoice_nb.callbacks`'.
"""
from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from ..callbacks import AnalysisError, calls_frame, dtmf_validator, event_time, in_period, period_bounds
from .results import load_results

# SENT_STATUSES: a request reached (or may have reached) the provider. MAY_HAVE_CALLED: rows
# whose call may exist; only those are matched to callbacks by instruction id.
from .vocabulary import CALLED_STATES as MAY_HAVE_CALLED, SENT_STATUSES

__all__ = ["Funnel", "funnel", "scope_results", "reach_by_wave", "FUNNEL_STAGES", "WAVE_COLUMNS",
           "SENT_AT_TOLERANCE", "SENT_STATUSES", "MAY_HAVE_CALLED"]

log = logging.getLogger(__name__)

#: How much earlier than a row's ``sent_at`` a callback's call may seem to start (clock skew between
#: this machine and the provider) and still be that row's call, when it is matched on its instruction id.
SENT_AT_TOLERANCE = pd.Timedelta(minutes=10)
#: Stage names of :attr:`Funnel.stages`, in order ("valid DTMF" only when the campaign has DTMF rows).
FUNNEL_STAGES = ("rows", "sent", "queued", "callback received", "answered", "valid DTMF")


@dataclass
class Funnel:
    """Campaign rows followed from sending to answer, counting only this campaign's callbacks.

    Attributes
    ----------
    stages
        ``stage`` (rows, sent, queued, callback received, answered[, valid DTMF]), ``rows`` (how many
        campaign rows reached it), ``share_of_rows`` (of all rows), ``share_of_sent`` (of rows sent;
        empty for the ``rows`` stage, which comes before sending), ``share_of_previous`` (of the
        stage before), ``reachable`` (the calls that can reach the stage: every row for ``sent``,
        the calls sent for the others, the DTMF calls sent for ``valid DTMF``) and
        ``share_of_reachable`` (of those). Every stage is a subset of the one before, so no share
        exceeds 100 %.
    rows
        The campaign results (same index) plus ``callbacks`` (how many arrived), ``outcome``
        (of the last callback), ``answered``, ``digits``, ``valid_dtmf``, ``resolved`` (an
        ``unknown`` row whose call a callback proves was placed) and ``stage`` (furthest reached).
    waiting
        Rows queued (or resolved) but with no callback yet.
    resolved_unknown
        ``unknown`` rows (e.g. a read timeout) that a callback now resolves: the call WAS placed,
        do not resend them.
    unresolved_unknown
        ``unknown`` rows with no callback (yet): reconcile before resending.
    calls
        The callbacks of this campaign: those matched to one of its rows.
    unmatched_callbacks
        Every other callback (another campaign's, or one matching no row at all): set aside,
        counted in no stage.
    id_collisions
        The unmatched callbacks that carry one of this campaign's instruction ids but not the
        call id recorded for that row: another campaign that used the same ids (or an earlier,
        unrecorded attempt of a row that was sent again). Never counted as this campaign's.
    """

    stages: pd.DataFrame
    rows: pd.DataFrame
    waiting: pd.DataFrame
    resolved_unknown: pd.DataFrame
    unresolved_unknown: pd.DataFrame
    unmatched_callbacks: pd.DataFrame
    calls: pd.DataFrame | None = None
    id_collisions: pd.DataFrame | None = None
    #: Reach per wave (see :func:`reach_by_wave`) when the results hold more than one wave; else None.
    waves: pd.DataFrame | None = None
    #: What the operator should know about the comparison: the date scope, results and
    #: callbacks that do not overlap at all (why every share after "sent" reads 0 %).
    notes: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        parts = ", ".join(f"{s}={int(n)}" for s, n in zip(self.stages["stage"], self.stages["rows"], strict=True))
        return (
            f"Funnel({parts}; waiting={len(self.waiting)}, resolved_unknown={len(self.resolved_unknown)}, "
            f"unmatched_callbacks={len(self.unmatched_callbacks)})"
        )

    def _repr_html_(self) -> str:
        notes = (
            f"<p>{len(self.waiting)} row(s) waiting for a callback; {len(self.resolved_unknown)} unknown row(s) "
            f"resolved by a callback; {len(self.unresolved_unknown)} still unknown; "
            f"{len(self.unmatched_callbacks)} callback(s) of other campaigns or matching no row set aside.</p>"
        )
        from .._tables import to_html

        waves = (to_html(self.waves, caption="Reach per wave", failures_first=False)
                 if self.waves is not None else "")
        from .._tables import notes_html

        return (notes_html(self.notes, colour="#9a6700") + to_html(self.stages, caption="Funnel", failures_first=False)
                + notes + waves)

    def to_text(self) -> str:
        """The stages as a plain-text table (for a console), with the callbacks set aside.

        Examples
        --------
        >>> results = pd.DataFrame({"instruction_id": ["a", "b"], "status": ["queued", "invalid"]})
        >>> print(funnel(results, [{"type": "otp-finished", "instruction-id": "a", "result": {"code": 10}}]).to_text())
        stage               rows  of rows  of sent  of previous
        rows                   2   100.0%
        sent                   1    50.0%   100.0%        50.0%
        queued                 1    50.0%   100.0%       100.0%
        callback received      1    50.0%   100.0%       100.0%
        answered               1    50.0%   100.0%       100.0%
        callbacks: 1 of this campaign, 0 set aside
        """
        def pct(x: Any) -> str:
            return f"{x:.1%}" if pd.notna(x) else ""

        lines = [f"{'stage':<17} {'rows':>6} {'of rows':>8} {'of sent':>8} {'of previous':>12}"]
        for r in self.stages.to_dict("records"):
            lines.append(f"{r['stage']:<17} {int(r['rows']):>6} {pct(r['share_of_rows']):>8} "
                         f"{pct(r['share_of_sent']):>8} {pct(r['share_of_previous']):>12}".rstrip())
        own = len(self.calls) if self.calls is not None else int(self.rows["callbacks"].to_numpy(dtype="int64").sum())
        aside = len(self.unmatched_callbacks)
        line = f"callbacks: {own} of this campaign, {aside} set aside"
        if aside:
            line += " (other campaigns, or matching no row)"
        lines.append(line)
        collisions = len(self.id_collisions) if self.id_collisions is not None else 0
        if collisions:
            lines.append(f"  {collisions} of them carry one of this campaign's instruction ids with a call id "
                         "it did not record: another campaign used the same ids")
        if self.waves is not None:
            lines.append(_waves_text(self.waves))
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def _per_key(cb: pd.DataFrame, key: str, is_valid: Callable[[str], bool]) -> pd.DataFrame:
    cb = cb[cb[key].notna()]
    if cb.empty:
        return pd.DataFrame(columns=["callbacks", "outcome", "answered", "digits", "valid_dtmf", "is_dtmf"])
    # The last callback (by end time, then arrival) decides the outcome shown for a row.
    order = cb.assign(_t=event_time(cb)).sort_values("_t", kind="stable", na_position="first")
    digits = order["digits"].fillna("")
    order = order.assign(
        _valid=(order["app"].eq("dtmf").fillna(False) & order["answered"] & digits.map(is_valid)).astype(bool),
        _dtmf=order["app"].eq("dtmf").fillna(False).astype(bool),
        _digits=digits.where(digits != ""),
    )
    g = order.groupby(key, sort=False)
    return pd.DataFrame(
        {
            "callbacks": g.size(),
            "outcome": g["outcome"].last().astype("object"),
            "answered": g["answered"].any(),
            "digits": g["_digits"].last(),
            "valid_dtmf": g["_valid"].any(),
            "is_dtmf": g["_dtmf"].any(),
        }
    )


def _split_ids(value: Any) -> list[str]:
    """The call ids of one results cell (``;``-separated), normalised like the callbacks' ids."""
    if value is None or (not isinstance(value, (str, list, tuple)) and pd.isna(value)):
        return []
    parts = value if isinstance(value, (list, tuple)) else str(value).split(";")
    return [p.strip().lower() for p in map(str, parts) if p.strip()]


def _number_tail(value: Any) -> set[str]:
    # Numbers in any format (+31…, 0031…, national 06…) agree on their last 9 digits.
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return set()
    tails = {re.sub(r"\D", "", part)[-9:] for part in str(value).split(";")}
    return {t for t in tails if len(t) >= 6}


def _row_status(rows: pd.DataFrame) -> pd.Series:
    """Each results row's status, trimmed and lower-cased; ``""`` where none was recorded.

    A results CSV with a blank status cell (a hand-edited or truncated file) reads back as
    missing; every comparison of the funnel goes through here, so a missing status is an empty
    word ("fate not recorded") and never a ``pd.NA`` whose truth value is ambiguous.

    Examples
    --------
    >>> _row_status(pd.DataFrame({"status": [" Queued", None, ""]})).tolist()
    ['queued', '', '']
    """
    return rows["status"].astype("string").str.strip().str.lower().fillna("")


def _match_rows(rows: pd.DataFrame, calls: pd.DataFrame) -> np.ndarray:
    """For each callback, the position of the campaign row it belongs to, or -1.

    A row that recorded call ids owns exactly the callbacks with those call ids. A row without
    any whose call may exist (an ``unknown`` row: the answer never came; or a ``queued`` row of
    results without a ``call_ids`` column) owns the callbacks with its instruction id whose call
    id no row recorded, provided the callee agrees and the call did not start before the row was
    sent (:data:`SENT_AT_TOLERANCE`). A row whose status was not recorded (a blank cell) may
    have called too, so it is matched the same way. Rows that placed nothing (invalid,
    rejected, ...) own none.
    """
    owner = np.full(len(calls), -1, dtype="int64")
    if not len(calls) or not len(rows):
        return owner
    # Plain Python lists and dicts: Arrow-backed string Series are slow at isin()/map() with sets.
    cb_call = [c.strip().lower() if isinstance(c, str) else None for c in calls["call_id"].tolist()]
    ids_per_row = (list(map(_split_ids, rows["call_ids"].tolist())) if "call_ids" in rows.columns
                   else [[] for _ in range(len(rows))])
    status = _row_status(rows).tolist()
    claimed: dict[str, int] = {}
    # A call id may be quoted by more than one row (a row refused as already called names the
    # earlier call): the row that placed it (queued/unknown) owns it, else the first to name it.
    for first_pass in (True, False):
        for pos, (ids, state) in enumerate(zip(ids_per_row, status, strict=True)):
            if (state in MAY_HAVE_CALLED) == first_pass:
                for cid in ids:
                    claimed.setdefault(cid, pos)
    if claimed:
        owner[:] = [claimed.get(c, -1) if c is not None else -1 for c in cb_call]
    if "instruction_id" not in rows.columns:
        return owner
    by_iid: dict[str, int] = {}
    for pos, (iid, ids, state) in enumerate(zip(rows["instruction_id"].tolist(), ids_per_row, status, strict=True)):
        # Only a row whose call may exist: invalid, rejected, failed, skipped... placed nothing.
        # A row without a recorded status may have called: its own callback (same callee, not
        # earlier than its sending) is still its own, not another campaign's.
        if not ids and (state in MAY_HAVE_CALLED or state == "") and isinstance(iid, str) and iid:
            by_iid.setdefault(iid, pos)
    if not by_iid:
        return owner
    cb_iid = calls["instruction_id"].tolist()
    free = [i for i, (c, iid) in enumerate(zip(cb_call, cb_iid, strict=True))
            if owner[i] < 0 and isinstance(iid, str) and iid in by_iid and c not in claimed]
    if not free:
        return owner
    sent_at = (pd.to_datetime(rows["sent_at"], utc=True, errors="coerce", format="ISO8601")
               if "sent_at" in rows.columns else pd.Series(pd.NaT, index=rows.index)).tolist()
    started = event_time(calls).tolist()
    callees = rows["callee"].tolist() if "callee" in rows.columns else [None] * len(rows)
    cb_callees = calls["callee"].tolist()
    for i in free:
        pos = by_iid[cb_iid[i]]
        row_numbers, cb_numbers = _number_tail(callees[pos]), _number_tail(cb_callees[i])
        if row_numbers and cb_numbers and not row_numbers & cb_numbers:
            continue  # someone else was called under this id: another campaign's call
        t_sent, t_call = sent_at[pos], started[i]
        if pd.notna(t_sent) and pd.notna(t_call) and t_call < t_sent - SENT_AT_TOLERANCE:
            continue  # the call started before this row was sent: an earlier campaign's call
        owner[i] = pos
    return owner


def scope_results(results: pd.DataFrame, calls: Any, *, since: Any = None, until: Any = None,
                  tz: str = "UTC") -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The results rows and callbacks of one period, so a funnel compares like with like.

    Both sides get the same period: callbacks by when the call started (else ended, else
    arrived), results rows by ``sent_at``. Rows never sent (no ``sent_at``) and callbacks
    without any time stay: nothing places them outside the period.

    Parameters
    ----------
    results
        Campaign results (a DataFrame).
    calls
        Loaded callbacks (or anything :func:`~cmvoice_nb.callbacks.load_callbacks` accepts).
    since, until
        Dates (``datetime.date`` or ``"2024-03-01"``: whole days, both inclusive) or times
        (``datetime``, ``"2024-03-01 09:00"``: from *since* up to but excluding *until*);
        ``None`` leaves that side open.
    tz
        The time zone of dates and of times given without one.

    Returns
    -------
    (results, calls, notes)
        The rows and callbacks in the period, and a sentence saying how many rows were kept.

    Examples
    --------
    >>> results = pd.DataFrame({"status": ["queued", "queued", "invalid"],
    ...                         "sent_at": pd.to_datetime(["2024-03-01T09:00Z", "2024-03-02T09:00Z", None])})
    >>> rows, calls, notes = scope_results(results, [], since="2024-03-02")
    >>> rows.index.tolist(), notes
    ([1, 2], ['2 of 3 results rows sent in the period (or never sent)'])
    """
    calls = calls_frame(calls)
    lo, hi = period_bounds(since, until, tz=tz)
    if lo is None and hi is None:
        return results, calls, []
    scoped_calls = calls[in_period(event_time(calls), lo, hi)] if len(calls) else calls
    notes = []
    scoped = results
    if "sent_at" in results.columns:
        sent = pd.to_datetime(results["sent_at"], utc=True, errors="coerce", format="ISO8601")
        scoped = results[in_period(sent, lo, hi)]
        notes.append(f"{len(scoped)} of {len(results)} results rows sent in the period (or never sent)")
    else:
        notes.append("the results have no sent_at column: every row is kept, only the callbacks are scoped")
    return scoped, scoped_calls, notes


def funnel(results: Any, calls: Any, *, valid: Any = None, since: Any = None, until: Any = None,
           tz: str = "UTC") -> Funnel:
    """Join campaign results with callbacks: sent → queued → callback received → answered (→ valid DTMF).

    Rows are matched on their ``call_ids`` (``;``-separated, the provider's own ids, unique
    across campaigns); a row without call ids (an ``unknown`` row, or results without that
    column) falls back to its ``instruction_id`` when its call may exist (``queued``/``unknown``),
    taking only callbacks whose call id no row recorded, for the same callee, that did not start
    before the row was sent. A callback of
    another campaign is never counted, even when it carries the same instruction id: it is
    set aside in :attr:`Funnel.unmatched_callbacks` (and :attr:`Funnel.id_collisions`).

    Parameters
    ----------
    results
        The campaign results DataFrame (or the path of its CSV export).
    calls
        Loaded callbacks (or anything :func:`~cmvoice_nb.callbacks.load_callbacks` accepts).
    valid
        What counts as valid DTMF input; see :func:`~cmvoice_nb.callbacks.dtmf_summary`.
    since, until, tz
        Compare only one period: results rows sent in it and callbacks of calls in it (see
        :func:`scope_results`); :attr:`Funnel.notes` says how many rows were kept.

    Examples
    --------
    >>> results = pd.DataFrame({"instruction_id": ["a", "b", "c"], "status": ["queued", "queued", "unknown"]})
    >>> from cmvoice_nb.callbacks import load_callbacks
    >>> calls = load_callbacks([{"type": "otp-finished", "instruction-id": "a", "result": {"code": 10}},
    ...                         {"type": "otp-finished", "instruction-id": "c", "result": {"code": 9}}])
    >>> f = funnel(results, calls)
    >>> f.stages.set_index("stage")["rows"].tolist()
    [3, 3, 3, 2, 1]
    >>> f.waiting["instruction_id"].tolist(), f.resolved_unknown["instruction_id"].tolist()
    (['b'], ['c'])
    """
    if isinstance(results, (str, os.PathLike)):
        results = load_results(results)
    if not isinstance(results, pd.DataFrame):
        raise AnalysisError(f"results must be a DataFrame or the path of a results CSV, got {type(results).__name__}")
    for col in ("status",):
        if col not in results.columns:
            raise AnalysisError(f"campaign results lack the {col!r} column "
                                f"(columns: {', '.join(map(str, results.columns))})")
    calls = calls_frame(calls)
    results, calls, notes = scope_results(results, calls, since=since, until=until, tz=tz)
    is_valid = dtmf_validator(valid)
    rows = results.copy()
    status = _row_status(rows)
    blank = int((status == "").sum())
    if blank:
        log.warning("%d campaign results row(s) have no status: counted as sent only when a callback shows "
                    "their call", blank)

    owner = _match_rows(rows, calls)
    matched = owner >= 0
    own = calls[matched]
    fields = ["callbacks", "outcome", "answered", "digits", "valid_dtmf", "is_dtmf"]
    per_row = _per_key(own.assign(_owner=owner[matched]), "_owner", is_valid)
    joined = per_row.reindex(np.arange(len(rows)))[fields]
    joined.index = rows.index

    n_cb = pd.to_numeric(joined["callbacks"], errors="coerce").fillna(0).astype("int64")
    has_cb = n_cb > 0
    answered = joined["answered"].astype("boolean").fillna(False).astype(bool)
    valid_dtmf = joined["valid_dtmf"].astype("boolean").fillna(False).astype(bool)
    sent = status.isin(SENT_STATUSES).fillna(False).astype(bool) | has_cb
    resolved = (status == "unknown").fillna(False).astype(bool) & has_cb
    queued = (status == "queued").fillna(False).astype(bool) | resolved | has_cb

    stage = pd.Series("not sent", index=rows.index, dtype="object")
    stage[sent] = "sent"
    stage[queued] = "queued"
    stage[has_cb] = "callback received"
    stage[answered] = "answered"
    rows["callbacks"] = n_cb
    rows["outcome"] = joined["outcome"].astype("string")
    rows["answered"] = answered
    rows["digits"] = joined["digits"].astype("string")
    rows["valid_dtmf"] = valid_dtmf
    rows["resolved"] = resolved
    rows["stage"] = stage

    counts = [("rows", len(rows)), ("sent", int(sent.sum())), ("queued", int(queued.sum())),
              ("callback received", int(has_cb.sum())), ("answered", int(answered.sum()))]
    if joined["is_dtmf"].astype("boolean").fillna(False).astype(bool).any():
        counts.append(("valid DTMF", int(valid_dtmf.sum())))
    stages = pd.DataFrame(counts, columns=["stage", "rows"])
    n_rows, n_sent = counts[0][1], counts[1][1]
    stages["share_of_rows"] = (stages["rows"] / n_rows) if n_rows else np.nan
    # "rows" comes before sending: a share of sent means nothing there (it would exceed 100 %).
    stages["share_of_sent"] = ((stages["rows"] / n_sent) if n_sent else np.nan)
    stages.loc[stages["stage"] == "rows", "share_of_sent"] = np.nan
    prev = stages["rows"].shift(1)
    stages["share_of_previous"] = (stages["rows"] / prev).where(prev > 0)
    # The calls that can reach each stage: every row can be sent, every sent call be queued, get a
    # callback and be answered; only a DTMF call can give valid DTMF (a call whose callbacks show
    # another app cannot), so a DTMF campaign mixed with others is not judged over all calls.
    is_dtmf = joined["is_dtmf"].astype("boolean").fillna(False).astype(bool)
    can_dtmf = int((sent & ~(has_cb & ~is_dtmf)).sum())
    reach = {"rows": n_rows, "sent": n_rows, "queued": n_sent, "callback received": n_sent, "answered": n_sent,
             "valid DTMF": can_dtmf}
    stages["reachable"] = stages["stage"].map(reach).astype("int64")
    stages["share_of_reachable"] = (stages["rows"] / stages["reachable"]).where(stages["reachable"] > 0)
    for col in ("share_of_rows", "share_of_sent", "share_of_previous", "share_of_reachable"):
        stages[col] = stages[col].astype("float64")

    unmatched = calls[~matched]
    if "instruction_id" in rows.columns:
        ours = {i for i in rows["instruction_id"].tolist() if isinstance(i, str)}
        collisions = unmatched[np.array([isinstance(i, str) and i in ours
                                         for i in unmatched["instruction_id"].tolist()], dtype=bool)]
    else:
        collisions = unmatched.iloc[0:0]
    waves = None
    if "wave" in rows.columns and rows["wave"].nunique(dropna=True) > 1:
        waves = _wave_table(rows)
    return Funnel(
        waves=waves,
        stages=stages,
        rows=rows,
        waiting=rows[queued & ~has_cb],
        resolved_unknown=rows[resolved],
        unresolved_unknown=rows[(status == "unknown").fillna(False).astype(bool) & ~has_cb],
        unmatched_callbacks=unmatched,
        calls=own,
        id_collisions=collisions,
        notes=notes + _overlap_notes(len(calls), int(matched.sum()), int(sent.sum())),
    )


def _overlap_notes(n_calls: int, n_matched: int, n_sent: int) -> list[str]:
    """A warning when results and callbacks share nothing: 0 % then means "wrong files", not "no answer"."""
    if n_sent and n_calls and not n_matched:
        return [f"none of the {n_calls} callbacks belongs to these results (no call id or instruction id in "
                "common): they are of another campaign or period, so every share after 'sent' reads 0 %"]
    if n_sent and not n_calls:
        return ["no callbacks to compare with: every share after 'queued' reads 0 %"]
    return []


# ---------------------------------------------------------------------------------------------
# Reach per wave (follow-up waves)
# ---------------------------------------------------------------------------------------------

#: Columns of :func:`reach_by_wave` (and :attr:`Funnel.waves`), indexed by ``wave``.
WAVE_COLUMNS = ("called", "answered", "answer_rate", "answered_cumulative", "reach_cumulative")


def _person(callee: Any) -> str | None:
    tails = sorted(_number_tail(callee))
    return ";".join(tails) if tails else None


def _wave_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Per wave: attempts placed, answered, and people reached so far (a funnel's ``rows``)."""
    wave = pd.to_numeric(rows["wave"], errors="coerce").fillna(1).astype("int64").to_numpy()
    called = rows["stage"].isin(["queued", "callback received", "answered"]).to_numpy(dtype=bool)
    answered = rows["answered"].to_numpy(dtype=bool)
    people = [_person(c) for c in (rows["callee"].tolist() if "callee" in rows.columns else [None] * len(rows))]
    # Rows without a readable number count as their own person (their instruction id's row).
    people = [p if p is not None else f"row:{i}" for i, p in enumerate(people)]
    everyone = {p for p, c in zip(people, called, strict=True) if c}
    records, reached = [], set()
    for w in sorted(set(wave.tolist())):
        here = wave == w
        n_called, n_answered = int((here & called).sum()), int((here & answered).sum())
        reached |= {p for p, h, a in zip(people, here, answered, strict=True) if h and a}
        records.append((w, n_called, n_answered, n_answered / n_called if n_called else np.nan, len(reached),
                        len(reached) / len(everyone) if everyone else np.nan))
    table = pd.DataFrame.from_records(records, columns=["wave", *WAVE_COLUMNS]).set_index("wave")
    table["answer_rate"] = table["answer_rate"].astype("float64")
    table["reach_cumulative"] = table["reach_cumulative"].astype("float64")
    table.attrs["people"] = len(everyone)
    return table


def _waves_text(table: pd.DataFrame) -> str:
    people = table.attrs.get("people", "?")
    lines = [f"reach per wave ({people} people called): wave  called  answered  rate  answered so far  reach"]
    for w, r in table.iterrows():
        wave = cast(int, w)  # the waves' index
        rate = f"{r.answer_rate:.0%}" if pd.notna(r.answer_rate) else "-"
        reach = f"{r.reach_cumulative:.0%}" if pd.notna(r.reach_cumulative) else "-"
        lines.append(f"  wave {wave}: {int(r.called)} called, {int(r.answered)} answered ({rate}); "
                     f"answered after {wave} attempt{'s' if wave != 1 else ''}: {int(r.answered_cumulative)} ({reach})")
    return "\n".join(lines)


def reach_by_wave(results: Any, calls: Any, *, campaign: str | None = None) -> pd.DataFrame:
    """Reach per wave and cumulative: how many were answered after 1, 2, 3... attempts.

    Parameters
    ----------
    results
        The results of every wave of one campaign: one DataFrame with a ``wave`` column (the
        results of :func:`~cmvoice_nb.campaign.send_campaign` concatenated), a list of such
        frames, or results CSV paths. Results without a ``wave`` column are wave 1.
    calls
        The callbacks (anything :func:`~cmvoice_nb.callbacks.load_callbacks` accepts).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``wave``: ``called`` (attempts placed in that wave), ``answered`` (of them),
        ``answer_rate``, ``answered_cumulative`` (people answered in this wave or an earlier one)
        and ``reach_cumulative`` (that, of everyone called in any wave). ``attrs["people"]``
        holds that count. People are told apart by their number.

    Examples
    --------
    >>> results = pd.DataFrame({"instruction_id": ["a", "b", "b-w2"], "callee": ["+31612345610",
    ...                         "+31612345609", "+31612345609"], "status": ["queued"] * 3, "wave": [1, 1, 2]})
    >>> calls = [{"instruction-id": "a", "result": {"code": 10}}, {"instruction-id": "b", "result": {"code": 9}},
    ...          {"instruction-id": "b-w2", "result": {"code": 10}}]
    >>> reach_by_wave(results, calls)[["called", "answered", "answered_cumulative", "reach_cumulative"]]
    ... # doctest: +NORMALIZE_WHITESPACE
          called  answered  answered_cumulative  reach_cumulative
    wave
    1          2         1                    1               0.5
    2          1         1                    2               1.0
    """
    if callable(getattr(results, "to_frame", None)) and hasattr(results, "campaign_key"):  # a Journal
        attempts = results.to_frame(campaign).rename(columns={"state": "status"})
        return _wave_table(funnel(attempts, calls).rows)
    frames = results if isinstance(results, (list, tuple)) else [results]
    loaded = [load_results(f) if isinstance(f, (str, os.PathLike)) else f for f in frames]
    for f in loaded:
        if not isinstance(f, pd.DataFrame):
            raise AnalysisError(f"results must be DataFrames or results CSV paths, got {type(f).__name__}")
    loaded = [f if "wave" in f.columns else f.assign(wave=1) for f in loaded]
    combined = pd.concat(loaded, ignore_index=True) if len(loaded) > 1 else loaded[0].reset_index(drop=True)
    rows = funnel(combined, calls).rows
    return _wave_table(rows)
