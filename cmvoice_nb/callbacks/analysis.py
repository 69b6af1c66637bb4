"""Analyse loaded callbacks: outcome counts and rates, ring/talk times, DTMF input, the funnel.

Every function is pure: it takes the frame :func:`~cmvoice_nb.callbacks.load.load_callbacks`
returns (or anything it accepts) and returns new DataFrames; inputs are never modified.
"""
from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from ..errors import CallbackError

log = logging.getLogger(__name__)

#: Campaign statuses for which a request reached (or may have reached) the provider.
SENT_STATUSES = ("queued", "rejected", "failed", "unknown")
#: Grouping keys :func:`summarize` derives when the frame has no such column.
DERIVED_KEYS = ("hour", "date", "weekday", "country")


class AnalysisError(CallbackError, ValueError):
    """An analysis was asked for something the data does not have (e.g. an unknown column)."""


def _calls_frame(calls: Any) -> pd.DataFrame:
    if isinstance(calls, pd.DataFrame) and "outcome" in calls.columns and "answered" in calls.columns:
        return calls
    from .load import load_callbacks

    return load_callbacks(calls)


def _outcomes() -> list[str]:
    from .. import spec

    return list(spec.OUTCOMES)


# ---------------------------------------------------------------------------------------------
# Grouping keys
# ---------------------------------------------------------------------------------------------

def _event_time(calls: pd.DataFrame) -> pd.Series:
    # When the call started; fall back to when it ended or was received (Failed calls may lack a start).
    t = calls["started_on"]
    for col in ("finished_on", "received_at"):
        if col in calls.columns:
            t = t.fillna(calls[col])
    return t


def _region(number: Any) -> str | None:
    from ..numbers import number_region

    try:
        region = number_region(str(number).strip())
    except Exception:  # noqa: BLE001 - an unparsable number simply has no country
        return None
    return None if region in (None, "", "ZZ", "001") else region


def callee_country(callees: pd.Series) -> pd.Series:
    """ISO country of each callee number (``"unknown"`` when it cannot be told).

    The answer is :func:`cmvoice_nb.numbers.number_region`'s, except that non-geographic numbers
    (``+800``…, region ``"001"``) count as ``"unknown"``. Each distinct number is looked up once,
    and numbers whose country code belongs to a single country are looked up in bulk.

    Examples
    --------
    >>> callee_country(pd.Series(["+31612345678", "0032470123456", "n/a"])).tolist()
    ['NL', 'BE', 'unknown']
    """
    codes, uniques = pd.factorize(callees.astype("string"), use_na_sentinel=True)
    regions = _regions(pd.Series(uniques, dtype="string"))
    table = np.array(list(regions) + ["unknown"], dtype=object)
    return pd.Series(table[codes], index=callees.index, dtype="string", name="country")


def _regions(numbers: pd.Series) -> list[str]:
    import phonenumbers

    text = numbers.str.strip().str.replace(r"^00", "+", regex=True)
    # Most country codes belong to one region, and then phonenumbers' answer depends on the code
    # alone: look those up in bulk; only shared codes (+1, +7, +44, ...) need a full parse.
    single = {str(cc): regions[0] for cc, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items()
              if len(regions) == 1 and regions[0] not in ("001", "ZZ")}
    plausible = text.str.fullmatch(r"\+[1-9]\d{6,14}").fillna(False).astype(bool)
    fast = pd.Series(pd.NA, index=text.index, dtype="object")
    for width in (1, 2, 3):  # E.164 country codes are prefix-free: at most one width matches
        hit = text.str[1: 1 + width].map(single).where(plausible)
        fast = fast.where(fast.notna(), hit)
    out = []
    for number, region in zip(numbers.tolist(), fast.tolist()):
        # Shared codes (+1, +7, +44, ...) depend on the whole number: ask number_region itself.
        out.append(region if isinstance(region, str) else (_region(number) or "unknown"))
    return out


def _group_keys(calls: pd.DataFrame, by: Any, tz: str) -> tuple[pd.DataFrame, list[str]]:
    if by is None:
        return calls, []
    keys = [by] if isinstance(by, str) else list(by)
    frame = calls
    added = {}
    for key in keys:
        if key in calls.columns:
            continue
        if key not in DERIVED_KEYS:
            raise AnalysisError(
                f"cannot group by {key!r}: not a column (columns: {', '.join(map(str, calls.columns))}) "
                f"and not one of {', '.join(DERIVED_KEYS)}"
            )
        if key == "country":
            added[key] = callee_country(calls["callee"])
        else:
            local = _event_time(calls).dt.tz_convert(tz)
            if key == "hour":
                added[key] = local.dt.hour.astype("Int64")
            elif key == "date":
                added[key] = local.dt.date
            else:
                added[key] = local.dt.day_name()
    if added:
        frame = calls.assign(**added)
    return frame, keys


# ---------------------------------------------------------------------------------------------
# summarize
# ---------------------------------------------------------------------------------------------

def summarize(
    calls: Any,
    by: str | Sequence[str] | None = None,
    *,
    tz: str = "UTC",
    percentiles: Sequence[int] = (50, 90),
) -> pd.DataFrame:
    """Outcome counts, answer rate and ring/talk-time percentiles, overall or per group.

    Parameters
    ----------
    calls
        A frame from :func:`load_callbacks` (or anything it loads).
    by
        ``None`` for one overall row, or a column name or list of them: any column of *calls*
        (``"app"``, ``"outcome"``, a column you joined in) or a derived key: ``"hour"`` (hour of
        day the call started, in *tz*), ``"date"``, ``"weekday"``, ``"country"`` (of the callee).
    tz
        Time zone for ``hour``/``date``/``weekday`` (e.g. ``"Europe/Amsterdam"``).
    percentiles
        Which ring/talk percentiles to report.

    Returns
    -------
    pandas.DataFrame
        One row per group with ``calls``, ``answered``, ``answer_rate`` (answered / calls), a
        count per outcome (Cancelled, Finished, Failed, Rejected, unknown), ``ring_seconds_pNN``
        (over calls with a ring time: to answer, or to the end when unanswered) and
        ``talk_seconds_pNN`` / ``talk_seconds_mean`` (over answered calls).

    Examples
    --------
    >>> from cmvoice_nb.callbacks.load import load_callbacks
    >>> calls = load_callbacks([
    ...     {"type": "otp-finished", "result": {"code": 10}, "started-on": "2024-01-01T10:00:00Z",
    ...      "answered-on": "2024-01-01T10:00:04Z", "finished-on": "2024-01-01T10:00:34Z"},
    ...     {"type": "otp-finished", "result": {"code": 9}, "started-on": "2024-01-01T10:05:00Z",
    ...      "finished-on": "2024-01-01T10:06:00Z"}])
    >>> s = summarize(calls)
    >>> int(s.loc["all", "calls"]), float(s.loc["all", "answer_rate"]), float(s.loc["all", "talk_seconds_p50"])
    (2, 0.5, 30.0)
    """
    calls = _calls_frame(calls)
    frame, keys = _group_keys(calls, by, tz)
    outcomes = _outcomes()
    counts = pd.get_dummies(frame["outcome"].astype(pd.CategoricalDtype(outcomes))).reindex(
        columns=outcomes, fill_value=False
    ).astype("int64")
    work = pd.concat(
        [
            frame[keys].reset_index(drop=True),
            pd.DataFrame({
                "calls": np.ones(len(frame), dtype="int64"),
                "answered": frame["answered"].to_numpy(dtype=bool).astype("int64"),
                "ring": frame["ring_seconds"].to_numpy(dtype=float),
                "talk": frame["talk_seconds"].to_numpy(dtype=float),
            }),
            counts.reset_index(drop=True),
        ],
        axis=1,
    )
    if keys:
        grouped = work.groupby(keys, dropna=False, sort=True, observed=True)
    else:
        grouped = work.assign(_all="all").groupby("_all")
    out = grouped[["calls", "answered", *outcomes]].sum()
    out.insert(2, "answer_rate", (out["answered"] / out["calls"]).astype("float64"))
    for p in percentiles:
        out[f"ring_seconds_p{p}"] = grouped["ring"].quantile(p / 100)
    for p in percentiles:
        out[f"talk_seconds_p{p}"] = grouped["talk"].quantile(p / 100)
    out["talk_seconds_mean"] = grouped["talk"].mean()
    if not keys:
        out.index.name = None
    return out


# ---------------------------------------------------------------------------------------------
# DTMF
# ---------------------------------------------------------------------------------------------

@dataclass
class DTMFSummary:
    """What people keyed in on Request-DTMF calls.

    Attributes
    ----------
    overview
        ``calls``, ``answered``, ``with_input``, ``empty_input`` (answered, no digits),
        ``valid_input``, ``invalid_input``, and the shares ``valid_share`` / ``empty_share``
        (of answered calls).
    digits
        One row per distinct input (answered calls with digits): ``digits``, ``count``, ``share``,
        ``valid``; most frequent first.
    """

    overview: pd.Series
    digits: pd.DataFrame

    def __repr__(self) -> str:
        o = self.overview
        return (
            f"DTMFSummary(calls={int(o['calls'])}, answered={int(o['answered'])}, "
            f"valid={int(o['valid_input'])} ({o['valid_share']:.1%}), empty={int(o['empty_input'])}, "
            f"distinct inputs={len(self.digits)})"
        )

    def _repr_html_(self) -> str:
        return (
            "<b>DTMF input</b>" + self.overview.to_frame("value").to_html()
            + self.digits.head(20).to_html(index=False)
        )


def _validator(valid: Any) -> Callable[[str], bool]:
    if valid is None:
        # Contract: the provider reports digits only for valid input ("empty when no valid input").
        return lambda d: bool(d)
    if callable(valid):
        return lambda d: bool(valid(d))
    if isinstance(valid, (str, re.Pattern)):
        pattern = re.compile(valid)
        return lambda d: bool(d) and pattern.fullmatch(d) is not None
    accepted = {str(v) for v in valid}
    return lambda d: d in accepted


def dtmf_summary(calls: Any, *, valid: Any = None) -> DTMFSummary:
    """Distribution of entered digits, share of valid input and of empty input.

    Parameters
    ----------
    calls
        Loaded callbacks; only ``dtmf`` rows are used.
    valid
        What counts as valid input: ``None`` (default) — any non-empty digits, since the provider
        sends digits only for input that matched the instruction; a regex (full match); a
        callable ``str -> bool``; or a collection of accepted answers (e.g. ``{"1", "2"}``).

    Examples
    --------
    >>> from cmvoice_nb.callbacks.load import load_callbacks
    >>> calls = load_callbacks([
    ...     {"type": "dtmf-finished", "call-id": "a", "result": {"code": 10}, "digits": "1"},
    ...     {"type": "dtmf-finished", "call-id": "b", "result": {"code": 10}, "digits": "1"},
    ...     {"type": "dtmf-finished", "call-id": "c", "result": {"code": 10}, "digits": ""},
    ...     {"type": "dtmf-finished", "call-id": "d", "result": {"code": 9}}])
    >>> d = dtmf_summary(calls)
    >>> int(d.overview["valid_input"]), int(d.overview["empty_input"]), d.digits["digits"].tolist()
    (2, 1, ['1'])
    """
    calls = _calls_frame(calls)
    dtmf = calls[calls["app"] == "dtmf"]
    answered = dtmf[dtmf["answered"]]
    digits = answered["digits"].fillna("")
    is_valid = _validator(valid)
    entered = digits[digits != ""]
    valid_flags = digits.map(is_valid).astype(bool) if len(digits) else pd.Series([], dtype=bool)
    n_answered = len(answered)
    overview = pd.Series(
        {
            "calls": len(dtmf),
            "answered": n_answered,
            "with_input": len(entered),
            "empty_input": int((digits == "").sum()),
            "valid_input": int(valid_flags.sum()),
            "invalid_input": int(n_answered - valid_flags.sum()),
            "valid_share": float(valid_flags.sum() / n_answered) if n_answered else float("nan"),
            "empty_share": float((digits == "").sum() / n_answered) if n_answered else float("nan"),
        },
        dtype="object",
        name="dtmf",
    )
    counts = entered.value_counts()
    table = pd.DataFrame(
        {
            "digits": counts.index.astype("string"),
            "count": counts.to_numpy(dtype="int64"),
            "share": (counts / n_answered).to_numpy(dtype=float) if n_answered else np.zeros(len(counts)),
            "valid": [is_valid(str(d)) for d in counts.index],
        }
    )
    return DTMFSummary(overview=overview, digits=table)


# ---------------------------------------------------------------------------------------------
# Funnel: campaign results joined with callbacks
# ---------------------------------------------------------------------------------------------

def load_results(path: str | os.PathLike) -> pd.DataFrame:
    """Read a campaign results CSV (first column ``row``) back into a typed DataFrame.

    Everything is read as text first (ids and numbers keep leading zeros), then
    ``http_status``/``attempts`` become nullable integers and ``sent_at`` UTC timestamps.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "results.csv"
    >>> _ = path.write_text("row,instruction_id,callee,status,http_status\\n0,a,+31612345678,queued,200\\n")
    >>> r = load_results(path)
    >>> r.index.name, r.loc[0, "status"], int(r.loc[0, "http_status"])
    ('row', 'queued', 200)
    """
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig")
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise AnalysisError(f"{path}: cannot read campaign results: {exc}") from exc
    if "row" in frame.columns:
        frame = frame.set_index("row")
        index = pd.to_numeric(frame.index, errors="coerce")
        if not index.isna().any():
            frame.index = index.astype("int64")
        frame.index.name = "row"
    for col in ("http_status", "attempts"):
        if col in frame.columns:
            frame[col] = pd.to_numeric(frame[col], errors="coerce").astype("Int64")
    if "sent_at" in frame.columns:
        frame["sent_at"] = pd.to_datetime(frame["sent_at"], utc=True, format="ISO8601", errors="coerce")
    for col in ("instruction_id", "callee", "status", "call_ids", "error"):
        if col in frame.columns:
            frame[col] = frame[col].astype("string")
    return frame


@dataclass
class Funnel:
    """Campaign rows followed from sending to answer.

    Attributes
    ----------
    stages
        ``stage`` (rows, sent, queued, callback received, answered[, valid DTMF]), ``rows``,
        ``share_of_sent`` and ``share_of_previous``.
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
    unmatched_callbacks
        Callbacks whose instruction id / call id matches no campaign row.
    """

    stages: pd.DataFrame
    rows: pd.DataFrame
    waiting: pd.DataFrame
    resolved_unknown: pd.DataFrame
    unresolved_unknown: pd.DataFrame
    unmatched_callbacks: pd.DataFrame

    def __repr__(self) -> str:
        parts = ", ".join(f"{s}={int(n)}" for s, n in zip(self.stages["stage"], self.stages["rows"]))
        return (
            f"Funnel({parts}; waiting={len(self.waiting)}, resolved_unknown={len(self.resolved_unknown)}, "
            f"unmatched_callbacks={len(self.unmatched_callbacks)})"
        )

    def _repr_html_(self) -> str:
        notes = (
            f"<p>{len(self.waiting)} row(s) waiting for a callback; {len(self.resolved_unknown)} unknown row(s) "
            f"resolved by a callback; {len(self.unresolved_unknown)} still unknown; "
            f"{len(self.unmatched_callbacks)} callback(s) match no row.</p>"
        )
        return "<b>Funnel</b>" + self.stages.to_html(index=False, float_format=lambda x: f"{x:.1%}") + notes


def _per_key(cb: pd.DataFrame, key: str, is_valid: Callable[[str], bool]) -> pd.DataFrame:
    cb = cb[cb[key].notna()]
    if cb.empty:
        return pd.DataFrame(columns=["callbacks", "outcome", "answered", "digits", "valid_dtmf", "is_dtmf"])
    # The last callback (by end time, then arrival) decides the outcome shown for a row.
    order = cb.assign(_t=_event_time(cb)).sort_values("_t", kind="stable", na_position="first")
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


def funnel(results: Any, calls: Any, *, valid: Any = None) -> Funnel:
    """Join campaign results with callbacks: sent → queued → callback received → answered (→ valid DTMF).

    Rows are matched on ``instruction_id`` (the contract's join key); rows without one are
    matched through their ``call_ids`` (``;``-separated).

    Parameters
    ----------
    results
        The campaign results DataFrame (or the path of its CSV export).
    calls
        Loaded callbacks (or anything :func:`load_callbacks` accepts).
    valid
        What counts as valid DTMF input; see :func:`dtmf_summary`.

    Examples
    --------
    >>> results = pd.DataFrame({"instruction_id": ["a", "b", "c"], "status": ["queued", "queued", "unknown"]})
    >>> from cmvoice_nb.callbacks.load import load_callbacks
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
            raise AnalysisError(f"campaign results lack the {col!r} column (columns: {', '.join(map(str, results.columns))})")
    calls = _calls_frame(calls)
    is_valid = _validator(valid)
    rows = results.copy()
    status = rows["status"].astype("string").str.strip().str.lower()

    by_instruction = _per_key(calls, "instruction_id", is_valid)
    fields = ["callbacks", "outcome", "answered", "digits", "valid_dtmf", "is_dtmf"]
    joined = pd.DataFrame(index=rows.index, columns=fields, dtype=object)
    matched_ids: set = set()
    matched_calls: set = set()
    if "instruction_id" in rows.columns:
        iid = rows["instruction_id"].astype("string")
        hit = iid.isin(by_instruction.index) & iid.notna()
        if hit.any():
            joined.loc[hit, fields] = by_instruction.loc[iid[hit].to_numpy(), fields].to_numpy()
            matched_ids = set(iid[hit])
    else:
        hit = pd.Series(False, index=rows.index)
    if "call_ids" in rows.columns:
        by_call = _per_key(calls, "call_id", is_valid)
        for idx in rows.index[~hit.to_numpy()]:
            value = rows.at[idx, "call_ids"]
            if value is None or (not isinstance(value, str) and pd.isna(value)):
                continue
            ids = [s.strip() for s in str(value).split(";") if s.strip()]
            ids = [c for c in ids if c in by_call.index]
            if not ids:
                continue
            sub = by_call.loc[ids]
            joined.loc[idx, fields] = [
                int(sub["callbacks"].sum()), sub["outcome"].iloc[-1], bool(sub["answered"].any()),
                sub["digits"].dropna().iloc[-1] if sub["digits"].notna().any() else None,
                bool(sub["valid_dtmf"].any()), bool(sub["is_dtmf"].any()),
            ]
            matched_calls.update(ids)

    n_cb = pd.to_numeric(joined["callbacks"], errors="coerce").fillna(0).astype("int64")
    has_cb = n_cb > 0
    answered = joined["answered"].fillna(False).astype(bool)
    valid_dtmf = joined["valid_dtmf"].fillna(False).astype(bool)
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
    if joined["is_dtmf"].fillna(False).astype(bool).any():
        counts.append(("valid DTMF", int(valid_dtmf.sum())))
    stages = pd.DataFrame(counts, columns=["stage", "rows"])
    n_sent = counts[1][1]
    stages["share_of_sent"] = stages["rows"] / n_sent if n_sent else np.nan
    prev = stages["rows"].shift(1)
    stages["share_of_previous"] = (stages["rows"] / prev).where(prev > 0)

    matched = pd.Series(False, index=calls.index)
    if matched_ids:
        matched |= calls["instruction_id"].isin(matched_ids).fillna(False).astype(bool)
    if matched_calls:
        matched |= calls["call_id"].isin(matched_calls).fillna(False).astype(bool)
    return Funnel(
        stages=stages,
        rows=rows,
        waiting=rows[queued & ~has_cb],
        resolved_unknown=rows[resolved],
        unresolved_unknown=rows[(status == "unknown").fillna(False).astype(bool) & ~has_cb],
        unmatched_callbacks=calls[~matched.to_numpy()],
    )


__all__ = [
    "summarize", "dtmf_summary", "DTMFSummary", "funnel", "Funnel", "load_results",
    "callee_country", "AnalysisError", "SENT_STATUSES",
]
