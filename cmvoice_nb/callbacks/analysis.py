"""Analyse loaded callbacks: outcome counts and rates, ring/talk times, DTMF input, periods.

Every function is pure: it takes the frame :func:`~cmvoice_nb.callbacks.load_callbacks`
returns (or anything it accepts) and returns new DataFrames; inputs are never modified.
Campaign results joined with callbacks (the funnel, reach per wave) are
:mod:`cmvoice_nb.campaign.funnel`'s.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import spec
from ..errors import CallbackError
from ..wire import WAVE_SUFFIX as _WAVE_SUFFIX  # the follow-up suffix of an attempt's id
from .frame import event_time
from .load import calls_frame

__all__ = [
    "AnalysisError", "DERIVED_KEYS", "DTMFSummary", "callback_wave", "callee_country", "calls_in_period",
    "dtmf_summary", "dtmf_validator", "in_period", "period_bounds", "summarize", "with_group_keys",
]

#: Grouping keys :func:`summarize` derives when the frame has no such column.
DERIVED_KEYS = ("hour", "date", "weekday", "country", "wave")


def callback_wave(instruction_ids: pd.Series) -> pd.Series:
    """The wave of each callback, read from its instruction id (``...-w2`` → 2; otherwise 1).

    Examples
    --------
    >>> callback_wave(pd.Series(["spring-k-31612345610-1", "spring-k-31612345610-1-w3", None])).tolist()
    [1, 3, 1]
    """
    waves = instruction_ids.astype("string").str.extract(_WAVE_SUFFIX, expand=False)
    return pd.to_numeric(waves, errors="coerce").fillna(1).astype("int64").rename("wave")


class AnalysisError(CallbackError, ValueError):
    """An analysis was asked for something the data does not have (e.g. an unknown column)."""


def _region(number: Any) -> str | None:
    from ..numbers import country_of

    return country_of(number if isinstance(number, str) else str(number))


def callee_country(callees: pd.Series) -> pd.Series:
    """ISO country of each callee number (``"unknown"`` when it cannot be told).

    The answer is :func:`cmvoice_nb.numbers.country_of`'s (``"unknown"`` where it has none). Each distinct
    number is looked up once, and numbers whose country code belongs to a single country are looked up in bulk.

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
    for number, region in zip(numbers.tolist(), fast.tolist(), strict=True):
        # Shared codes (+1, +7, +44, ...) depend on the whole number: ask country_of itself.
        out.append(region if isinstance(region, str) else (_region(number) or "unknown"))
    return out


def with_group_keys(calls: pd.DataFrame, by: Any, *, tz: str = "UTC") -> tuple[pd.DataFrame, list[str]]:
    """*calls* with every key of *by* as a column, and the keys as a list (``[]`` for ``None``).

    A key that is a column of *calls* is used as it is; a :data:`DERIVED_KEYS` key is computed
    (``hour``, ``date`` and ``weekday`` of the call in *tz*, the callee's ``country``, the
    follow-up ``wave``). *calls* is not modified.

    Raises
    ------
    AnalysisError
        For a key that is neither a column nor a derived key.

    Examples
    --------
    >>> from cmvoice_nb.callbacks import load_callbacks
    >>> calls = load_callbacks([{"type": "otp-finished", "result": {"code": 10},
    ...                          "started-on": "2024-01-01T10:00:00Z", "instruction-id": "k-1-w2"}])
    >>> frame, keys = with_group_keys(calls, ["hour", "wave"], tz="Europe/Amsterdam")
    >>> keys, frame["hour"].tolist(), frame["wave"].tolist()
    (['hour', 'wave'], [11], [2])
    """
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
        elif key == "wave":
            added[key] = callback_wave(calls["instruction_id"])
        else:
            local = event_time(calls).dt.tz_convert(tz)
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
# Periods
# ---------------------------------------------------------------------------------------------

def _bound(value: Any, tz: str, *, end: bool) -> pd.Timestamp | None:
    """A period bound as a UTC instant: a date (or date-only text) is that whole day in *tz*."""
    if value is None:
        return None
    day_only = (isinstance(value, dt.date) and not isinstance(value, dt.datetime)) or (
        isinstance(value, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value) is not None)
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise AnalysisError(f"{'until' if end else 'since'}={value!r} is not a date or time "
                            "(expected e.g. '2024-03-01' or '2024-03-01 09:00')") from exc
    if day_only and end:
        # The whole last day: until is inclusive for dates. Counted on the calendar before the zone
        # is applied: the day clocks go forward has 23 hours, the day they go back 25.
        ts = ts + pd.Timedelta(days=1)
    if ts.tzinfo is None:
        ts = ts.tz_localize(tz)
    return ts.tz_convert("UTC")


def period_bounds(since: Any = None, until: Any = None, *,
                  tz: str = "UTC") -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """The period from *since* to *until* as two UTC instants: from the first, before the second.

    Parameters
    ----------
    since, until
        Dates (``datetime.date`` or ``"2024-03-01"``: whole days, both inclusive) or times
        (``datetime``, ``"2024-03-01 09:00"``: from *since* up to but excluding *until*);
        ``None`` leaves that side open.
    tz
        The time zone of dates and of times given without one.

    Raises
    ------
    AnalysisError
        For a value that is not a date or time, or an empty period.

    Examples
    --------
    >>> lo, hi = period_bounds("2024-03-01", "2024-03-01", tz="Europe/Amsterdam")
    >>> str(lo), str(hi)
    ('2024-02-29 23:00:00+00:00', '2024-03-01 23:00:00+00:00')
    """
    lo, hi = _bound(since, tz, end=False), _bound(until, tz, end=True)
    if lo is not None and hi is not None and hi <= lo:
        raise AnalysisError(f"until ({until}) is not after since ({since}): the period is empty")
    return lo, hi


def in_period(times: pd.Series, lo: pd.Timestamp | None, hi: pd.Timestamp | None) -> np.ndarray:
    """Which *times* fall in the period ``[lo, hi)`` (:func:`period_bounds`); a missing time is kept.

    Examples
    --------
    >>> times = pd.Series(pd.to_datetime(["2024-03-01T09:00Z", "2024-03-02T09:00Z", None], utc=True))
    >>> in_period(times, *period_bounds(since="2024-03-02")).tolist()
    [False, True, True]
    """
    keep = times.isna().to_numpy(dtype=bool)
    ok = pd.Series(True, index=times.index)
    if lo is not None:
        ok &= (times >= lo).fillna(False)
    if hi is not None:
        ok &= (times < hi).fillna(False)
    return keep | ok.to_numpy(dtype=bool)


def calls_in_period(calls: Any, *, since: Any = None, until: Any = None, tz: str = "UTC") -> pd.DataFrame:
    """The callbacks of calls in one period, by when the call started (else ended, else arrived).

    Callbacks without any time stay: nothing places them outside the period. *since*, *until*
    and *tz* are :func:`period_bounds`'.

    Examples
    --------
    >>> calls = [{"type": "otp-finished", "call-id": "a", "result": {"code": 10}, "started-on": "2024-03-01T09:00:00Z"},
    ...          {"type": "otp-finished", "call-id": "b", "result": {"code": 10}, "started-on": "2024-03-02T09:00:00Z"}]
    >>> calls_in_period(calls, since="2024-03-02")["call_id"].tolist()
    ['b']
    """
    calls = calls_frame(calls)
    lo, hi = period_bounds(since, until, tz=tz)
    if (lo is None and hi is None) or not len(calls):
        return calls
    return calls[in_period(event_time(calls), lo, hi)]


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
        A frame from :func:`load_callbacks` (or anything it loads), or the folder of a dataset
        written by ``save_calls(..., partition_by="day")``: that is summarized on DuckDB
        without loading it into pandas (same numbers; ``by="country"`` is refused there), or a
        :class:`~cmvoice_nb.callbacks.aggregate.CallAggregate` from :func:`aggregate_calls`
        (same numbers, without the rows; overall or ``by`` app or outcome; *tz* is
        the aggregate's own).
    by
        ``None`` for one overall row, or a column name or list of them: any column of *calls*
        (``"app"``, ``"outcome"``, a column you joined in) or a derived key: ``"hour"`` (hour of
        day the call started, in *tz*), ``"date"``, ``"weekday"``, ``"country"`` (of the callee),
        ``"wave"`` (the follow-up wave, from the instruction id's ``-w2`` suffix; 1 without one).
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
    >>> from cmvoice_nb.callbacks import load_callbacks
    >>> calls = load_callbacks([
    ...     {"type": "otp-finished", "result": {"code": 10}, "started-on": "2024-01-01T10:00:00Z",
    ...      "answered-on": "2024-01-01T10:00:04Z", "finished-on": "2024-01-01T10:00:34Z"},
    ...     {"type": "otp-finished", "result": {"code": 9}, "started-on": "2024-01-01T10:05:00Z",
    ...      "finished-on": "2024-01-01T10:06:00Z"}])
    >>> s = summarize(calls)
    >>> int(s.loc["all", "calls"]), float(s.loc["all", "answer_rate"]), float(s.loc["all", "talk_seconds_p50"])
    (2, 0.5, 30.0)
    """
    from .dataset import is_dataset, summarize_dataset

    if getattr(calls, "__cmvoice_aggregate__", False):  # a CallAggregate (aggregate.py imports this module)
        return calls.summarize(by, percentiles=percentiles)
    if is_dataset(calls):
        return summarize_dataset(calls, by, tz=tz, percentiles=percentiles, derived_keys=DERIVED_KEYS,
                                 wave_pattern=_WAVE_SUFFIX.pattern, error=AnalysisError)
    calls = calls_frame(calls)
    frame, keys = with_group_keys(calls, by, tz=tz)
    outcomes = list(spec.OUTCOMES)
    counts = pd.get_dummies(frame["outcome"].astype(pd.CategoricalDtype(outcomes))).reindex(
        columns=outcomes, fill_value=False
    ).astype("int64")
    # The keys under names of their own: a key may be called like a value column ("answered").
    slots = [f"__key{i}" for i in range(len(keys))]
    work = pd.concat(
        [
            frame[keys].set_axis(slots, axis=1).reset_index(drop=True),
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
        grouped = work.groupby(slots, dropna=False, sort=True, observed=True)
    else:
        grouped = work.assign(_all="all").groupby("_all")
    out = grouped[["calls", "answered", *outcomes]].sum()
    out.insert(2, "answer_rate", (out["answered"] / out["calls"]).astype("float64"))
    for p in percentiles:
        out[f"ring_seconds_p{p}"] = grouped["ring"].quantile(p / 100)
    for p in percentiles:
        out[f"talk_seconds_p{p}"] = grouped["talk"].quantile(p / 100)
    out["talk_seconds_mean"] = grouped["talk"].mean()
    if keys:
        out.index = out.index.rename(keys if len(keys) > 1 else keys[0])
    else:
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
        from .._tables import facts_html, format_value, to_html

        # Shares as percentages, counts as whole numbers: the overview mixes both in one column.
        facts = [(k, format_value(v, percent=str(k).endswith("_share"))) for k, v in self.overview.items()]
        return (facts_html(facts, caption="DTMF input")
                + to_html(self.digits, max_rows=20, failures_first=False, caption="Inputs, most frequent first"))


def dtmf_validator(valid: Any = None) -> Callable[[str], bool]:
    """What counts as valid DTMF input, as a function ``digits -> bool`` (see :func:`dtmf_summary`).

    Examples
    --------
    >>> dtmf_validator()("12"), dtmf_validator()(""), dtmf_validator(r"[12]")("3"), dtmf_validator({"1", "2"})("2")
    (True, False, False, True)
    """
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
    >>> from cmvoice_nb.callbacks import load_callbacks
    >>> calls = load_callbacks([
    ...     {"type": "dtmf-finished", "call-id": "a", "result": {"code": 10}, "digits": "1"},
    ...     {"type": "dtmf-finished", "call-id": "b", "result": {"code": 10}, "digits": "1"},
    ...     {"type": "dtmf-finished", "call-id": "c", "result": {"code": 10}, "digits": ""},
    ...     {"type": "dtmf-finished", "call-id": "d", "result": {"code": 9}}])
    >>> d = dtmf_summary(calls)
    >>> int(d.overview["valid_input"]), int(d.overview["empty_input"]), d.digits["digits"].tolist()
    (2, 1, ['1'])
    """
    calls = calls_frame(calls)
    dtmf = calls[calls["app"] == "dtmf"]
    answered = dtmf[dtmf["answered"]]
    digits = answered["digits"].fillna("")
    is_valid = dtmf_validator(valid)
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
