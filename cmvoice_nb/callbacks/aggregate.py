"""Count callbacks once, then filter, summarize and plot the counts instead of the rows.

A dashboard redraws on every filter change. Filtering a million rows by date, re-summarizing
them and plotting the raw values costs seconds each time; the counts those views show change
only when callbacks arrive. :func:`aggregate_calls` does the per-row work once: it counts the
calls per *group* (UTC day or the day in *tz*, app, outcome, answered) and per hour of day, and
keeps the ring and talk times as sorted value counts. A filter then picks groups (thousands of
rows, not millions), and :func:`~cmvoice_nb.callbacks.summarize` and the ``plot_*`` functions
accept the result, giving the same numbers as on the rows:

* counts, answer rates and the outcome and hourly plots: identical;
* ring/talk percentiles: identical (the values are kept exactly, only repeated values are
  merged), computed the way pandas' ``groupby().quantile()`` does;
* ``talk_seconds_mean``: equal to the last bits of a float (the sum runs in another order).

New callbacks are added with :meth:`CallAggregate.add` without touching the history, and
:class:`CallHistory` keeps a growing set of calls (a receiver's) with its aggregate, dropping
redeliveries as :func:`~cmvoice_nb.callbacks.load_callbacks` does.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import spec
from .analysis import AnalysisError
from .frame import event_time
from .load import calls_frame

#: Columns of :attr:`CallAggregate.groups` that identify a group, in order.
GROUP_KEYS = ("day", "app", "outcome", "answered")
#: The keys ``summarize`` accepts for an aggregate (the rows are needed for any other key).
AGGREGATE_BY = ("app", "outcome")
_VALUE_COLUMNS = ("seconds", "group", "calls")


def _values_frame(seconds: np.ndarray, group: np.ndarray, calls: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"seconds": seconds.astype("float64", copy=False),
                         "group": group.astype("int64", copy=False),
                         "calls": calls.astype("int64", copy=False)})


@dataclass(frozen=True, eq=False)
class CallAggregate:
    """Callbacks counted per (day, app, outcome, answered) group, with their ring and talk times.

    Made by :func:`aggregate_calls`; :func:`~cmvoice_nb.callbacks.summarize`,
    :func:`~cmvoice_nb.callbacks.plot_outcomes`, :func:`~cmvoice_nb.callbacks.plot_answer_rate_by_hour`
    and :func:`~cmvoice_nb.callbacks.plot_ring_time` accept it in place of the calls.

    Attributes
    ----------
    groups
        One row per group: ``day`` (nullable integer: days since 1970-01-01 of the day the call
        started, else ended, else arrived, in :attr:`tz`; missing for a call with no time at
        all), ``app`` and ``outcome`` (with the dtypes of the calls' columns), ``answered``
        (bool) and ``calls`` (how many).
    hours
        ``len(groups)`` × 24 integers: the calls of each group per hour of day (in :attr:`tz`).
        A call with no time is in no hour.
    ring, talk
        The ring and talk times (see :func:`~cmvoice_nb.callbacks.load_callbacks`) that are
        known: ``seconds`` ascending, ``group`` (row of :attr:`groups`) and ``calls`` (how many
        calls of that group took exactly that long; a value may appear on more than one line).
    tz
        The time zone of ``day`` and of the hours.
    """

    groups: pd.DataFrame
    hours: np.ndarray
    ring: pd.DataFrame
    talk: pd.DataFrame
    tz: str = "UTC"

    #: Tells :func:`~cmvoice_nb.callbacks.summarize` to call :meth:`summarize` (no import cycle).
    __cmvoice_aggregate__ = True

    def summarize(self, by: str | None = None, *, percentiles: Sequence[int] = (50, 90)) -> pd.DataFrame:
        """:func:`~cmvoice_nb.callbacks.summarize` of these calls: overall, or ``by="app"`` or ``"outcome"``."""
        return summarize_aggregate(self, by, percentiles=percentiles)

    @property
    def total(self) -> int:
        """How many calls were counted."""
        return int(self.groups["calls"].sum())

    def __repr__(self) -> str:
        return (f"CallAggregate(calls={self.total}, groups={len(self.groups)}, ring_values={len(self.ring)}, "
                f"talk_values={len(self.talk)}, tz={self.tz!r})")

    # -- filtering ---------------------------------------------------------------------------
    def select(self, *, since: Any = None, until: Any = None, app: str | None = None,
               outcome: str | None = None) -> CallAggregate:
        """The aggregate of the calls in a period, of one app and one outcome.

        The same calls as :func:`~cmvoice_nb.callbacks.calls_in_period` keeps for dates *since* and
        *until* (both inclusive; a call with no time at all is kept), then those of *app* and
        *outcome*. ``None`` (or ``"all"``) leaves a filter out.

        Parameters
        ----------
        since, until
            ``datetime.date`` or ``"YYYY-MM-DD"`` (whole days in :attr:`tz`). Times of day need
            the rows: filter them with ``calls_in_period`` and aggregate the result.
        app, outcome
            An app (``"otp"``...) and an outcome (``"Finished"``...).

        Raises
        ------
        AnalysisError
            For a time of day, or *until* before *since*.
        """
        groups = self.groups
        keep = np.ones(len(groups), dtype=bool)
        lo, hi = _day_bound(since, "since"), _day_bound(until, "until")
        if lo is not None and hi is not None and hi < lo:
            raise AnalysisError(f"until ({until}) is not after since ({since}): the period is empty")
        if lo is not None or hi is not None:
            day = groups["day"]
            inside = pd.Series(True, index=groups.index)
            if lo is not None:
                inside &= (day >= lo).fillna(False).astype(bool)
            if hi is not None:
                inside &= (day <= hi).fillna(False).astype(bool)
            keep &= (day.isna() | inside).to_numpy(dtype=bool)
        if app not in (None, "all"):
            keep &= _equals(groups["app"], app)
        if outcome not in (None, "all"):
            keep &= _equals(groups["outcome"], outcome)
        if keep.all():
            return self
        return self._take(keep)

    def _take(self, keep: np.ndarray) -> CallAggregate:
        new_code = np.cumsum(keep) - 1  # old group -> new group, for kept groups

        def values(table: pd.DataFrame) -> pd.DataFrame:
            group = table["group"].to_numpy()
            mask = keep[group]
            return _values_frame(table["seconds"].to_numpy()[mask], new_code[group[mask]],
                                 table["calls"].to_numpy()[mask])

        return CallAggregate(groups=self.groups[keep].reset_index(drop=True), hours=self.hours[keep],
                             ring=values(self.ring), talk=values(self.talk), tz=self.tz)

    # -- growing -----------------------------------------------------------------------------
    def add(self, calls: Any) -> CallAggregate:
        """This aggregate plus *calls* (new callbacks, already free of duplicates).

        Only the new calls are aggregated; the history is not read again. The result equals
        ``aggregate_calls`` of all the calls together (same counts, same values).
        """
        new = calls if isinstance(calls, CallAggregate) else aggregate_calls(calls, tz=self.tz)
        if new.tz != self.tz:
            raise AnalysisError(f"cannot add an aggregate in {new.tz} to one in {self.tz}")
        if not len(new.groups):
            return self
        if not len(self.groups):
            return new
        index = {_group_key(row): i for i, row in enumerate(self.groups[list(GROUP_KEYS)].itertuples(index=False))}
        mapping = np.empty(len(new.groups), dtype="int64")
        fresh: list[int] = []
        calls_per_group = self.groups["calls"].to_numpy().copy()
        for j, row in enumerate(new.groups[list(GROUP_KEYS)].itertuples(index=False)):
            i = index.get(_group_key(row))
            if i is None:
                i = len(self.groups) + len(fresh)
                fresh.append(j)
            mapping[j] = i
        new_calls = new.groups["calls"].to_numpy()
        old = mapping < len(self.groups)
        np.add.at(calls_per_group, mapping[old], new_calls[old])
        groups = self.groups.assign(calls=calls_per_group)
        if fresh:
            extra = new.groups.iloc[fresh]
            for col in ("app", "outcome"):
                a, b = groups[col], extra[col]
                if isinstance(a.dtype, pd.CategoricalDtype) and isinstance(b.dtype, pd.CategoricalDtype) \
                        and a.dtype != b.dtype:
                    # A batch's categories are its own values: join them so the column stays categorical.
                    both = a.cat.categories.union(b.cat.categories, sort=False)
                    groups[col] = a.cat.set_categories(both)
                    extra = extra.assign(**{col: b.cat.set_categories(both)})
            groups = pd.concat([groups, extra], ignore_index=True)
            groups["calls"] = groups["calls"].astype("int64")
        hours = np.zeros((len(groups), 24), dtype="int64")
        hours[: len(self.groups)] = self.hours
        np.add.at(hours, mapping, new.hours)
        return CallAggregate(groups=groups, hours=hours, ring=_merge_values(self.ring, new.ring, mapping),
                             talk=_merge_values(self.talk, new.talk, mapping), tz=self.tz)


def _group_key(row: tuple) -> tuple:
    # Missing values (None, NaN, pd.NA) all mean "none": one key for them.
    return tuple(None if _missing(v) else (bool(v) if isinstance(v, (bool, np.bool_)) else v) for v in row)


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _merge_values(old: pd.DataFrame, new: pd.DataFrame, mapping: np.ndarray) -> pd.DataFrame:
    """*old* with *new*'s lines inserted in order (new groups renumbered by *mapping*)."""
    if not len(new):
        return old
    seconds = old["seconds"].to_numpy()
    add = new["seconds"].to_numpy()
    at = np.searchsorted(seconds, add, side="right")  # a copy of the history, not a sort of it
    return _values_frame(np.insert(seconds, at, add),
                         np.insert(old["group"].to_numpy(), at, mapping[new["group"].to_numpy()]),
                         np.insert(old["calls"].to_numpy(), at, new["calls"].to_numpy()))


def _equals(column: pd.Series, value: str) -> np.ndarray:
    return (column.astype("string") == value).fillna(False).to_numpy(dtype=bool)


def _day_bound(value: Any, name: str) -> int | None:
    """A date as days since 1970-01-01, or None."""
    if value is None:
        return None
    if isinstance(value, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value):
        value = dt.date.fromisoformat(value.strip())
    if isinstance(value, pd.Timestamp) and value == value.normalize() and value.tzinfo is None:
        value = value.date()
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise AnalysisError(f"{name}={value!r}: an aggregate is filtered by whole days (a date such as "
                            "'2024-03-01'); for a time of day, filter the calls with calls_in_period first")
    return (value - dt.date(1970, 1, 1)).days


def aggregate_calls(calls: Any, *, tz: str = "UTC") -> CallAggregate:
    """Count callbacks per day, app, outcome and answered, per hour, with their ring and talk times.

    The per-row work a dashboard needs, done once: filter the result with
    :meth:`CallAggregate.select` and pass it to :func:`~cmvoice_nb.callbacks.summarize` or the
    ``plot_*`` functions, which then work on thousands of groups instead of millions of rows
    and give the same numbers.

    Parameters
    ----------
    calls
        A frame from :func:`~cmvoice_nb.callbacks.load_callbacks` (text or Arrow-backed string
        columns, categories) or anything it loads.
    tz
        The time zone of the days and hours (as ``summarize(..., tz=)``).

    Returns
    -------
    CallAggregate

    Examples
    --------
    >>> from cmvoice_nb.callbacks import load_callbacks, summarize
    >>> calls = load_callbacks([
    ...     {"type": "otp-finished", "call-id": "a", "result": {"code": 10}, "started-on": "2024-01-01T10:00:00Z",
    ...      "answered-on": "2024-01-01T10:00:04Z", "finished-on": "2024-01-01T10:00:34Z"},
    ...     {"type": "otp-finished", "call-id": "b", "result": {"code": 9}, "started-on": "2024-01-02T10:05:00Z",
    ...      "finished-on": "2024-01-02T10:06:00Z"}])
    >>> agg = aggregate_calls(calls)
    >>> agg
    CallAggregate(calls=2, groups=2, ring_values=2, talk_values=1, tz='UTC')
    >>> summarize(agg).equals(summarize(calls))
    True
    >>> int(summarize(agg.select(since="2024-01-02")).loc["all", "Cancelled"])
    1
    """
    calls = calls_frame(calls)
    n = len(calls)
    times = event_time(calls)
    local = times.dt.tz_convert(tz) if tz != "UTC" else times
    wall = local.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
    timed = ~np.isnat(wall)
    day = np.where(timed, wall.astype("datetime64[D]").astype("int64"), 0)
    hour = np.where(timed, wall.astype("datetime64[h]").astype("int64") % 24, 0)
    app_code, app_uniques = pd.factorize(calls["app"])
    out_code, out_uniques = pd.factorize(calls["outcome"])
    answered = calls["answered"].to_numpy(dtype=bool)
    day_index = np.where(timed, day - (day[timed].min() if timed.any() else 0) + 1, 0)
    key = (((day_index * (len(app_uniques) + 1) + app_code + 1) * (len(out_uniques) + 1) + out_code + 1) * 2
           + answered)
    _, first, group = np.unique(key, return_index=True, return_inverse=True)
    group = group.reshape(-1)
    n_groups = len(first)
    group_day = pd.array(day[first], dtype="Int64")
    group_day[~timed[first]] = pd.NA
    groups = pd.DataFrame({
        "day": group_day,
        "app": calls["app"].iloc[first].reset_index(drop=True),
        "outcome": calls["outcome"].iloc[first].reset_index(drop=True),
        "answered": answered[first],
        "calls": np.bincount(group, minlength=n_groups).astype("int64"),
    })
    hours = np.bincount(group[timed] * 24 + hour[timed], minlength=n_groups * 24).reshape(n_groups, 24)
    ring = _value_counts(calls["ring_seconds"].to_numpy(dtype="float64", na_value=np.nan), group)
    talk = _value_counts(calls["talk_seconds"].to_numpy(dtype="float64", na_value=np.nan), group)
    assert n == int(groups["calls"].sum())
    return CallAggregate(groups=groups, hours=hours.astype("int64"), ring=ring, talk=talk, tz=tz)


def _value_counts(values: np.ndarray, group: np.ndarray) -> pd.DataFrame:
    """(seconds ascending, group, calls) of the known *values*, repeated pairs merged."""
    known = ~np.isnan(values)
    v, g = values[known], group[known]
    order = np.lexsort((g, v))
    v, g = v[order], g[order]
    if not len(v):
        return _values_frame(v, g, np.zeros(0, dtype="int64"))
    starts = np.flatnonzero(np.r_[True, (v[1:] != v[:-1]) | (g[1:] != g[:-1])])
    counts = np.diff(np.r_[starts, len(v)])
    return _values_frame(v[starts], g[starts], counts)


# ---------------------------------------------------------------------------------------------
# What summarize and the plots compute from an aggregate
# ---------------------------------------------------------------------------------------------

def value_quantiles(seconds: np.ndarray, calls: np.ndarray, qs: Sequence[float]) -> list[float]:
    """Quantiles of values given ascending with their counts, as pandas' ``groupby().quantile()``.

    Linear interpolation between the two values around rank ``q * (n - 1)``: the same
    arithmetic, so the same float, as pandas on the rows.

    Examples
    --------
    >>> value_quantiles(np.array([1.0, 2.0, 10.0]), np.array([2, 1, 1]), [0.5, 0.9])
    [1.5, 7.6...]
    """
    n = int(calls.sum())
    if n == 0:
        return [float("nan")] * len(qs)
    cum = np.cumsum(calls)
    out = []
    for q in qs:
        position = q * (n - 1)
        i = int(position)
        frac = position % 1
        low = seconds[np.searchsorted(cum, i, side="right")]
        if frac == 0.0:
            out.append(float(low))
        else:
            high = seconds[np.searchsorted(cum, i + 1, side="right")]
            out.append(float(low + (high - low) * frac))
    return out


def value_median(seconds: np.ndarray, calls: np.ndarray) -> float:
    """``numpy.median`` of values given ascending with their counts."""
    n = int(calls.sum())
    if n == 0:
        return float("nan")
    cum = np.cumsum(calls)
    middle = seconds[np.searchsorted(cum, [(n - 1) // 2, n // 2], side="right")]
    return float(np.mean(middle))


def summarize_aggregate(agg: CallAggregate, by: str | Sequence[str] | None = None, *,
                        percentiles: Sequence[int] = (50, 90)) -> pd.DataFrame:
    """:func:`~cmvoice_nb.callbacks.summarize` of the calls *agg* counts (``summarize(agg)`` calls this)."""
    keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
    if len(keys) > 1 or (keys and keys[0] not in AGGREGATE_BY):
        raise AnalysisError(f"an aggregate is summarized overall or by one of {', '.join(AGGREGATE_BY)}, "
                            f"not by {by!r}: summarize the calls themselves for that")
    outcomes = list(spec.OUTCOMES)
    g = agg.groups
    n = g["calls"].to_numpy(dtype="int64")
    # pandas takes na_value=None; its stubs do not
    outcome = g["outcome"].astype("string").to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]
    work = pd.DataFrame({
        **({keys[0]: g[keys[0]].reset_index(drop=True)} if keys else {}),
        "calls": n,
        "answered": n * g["answered"].to_numpy(dtype=bool),
        **{o: n * (outcome == o) for o in outcomes},
    })
    for o in outcomes:
        work[o] = work[o].astype("int64")
    grouped = (work.groupby(keys, dropna=False, sort=True, observed=True) if keys
               else work.assign(_all="all").groupby("_all"))
    out = grouped[["calls", "answered", *outcomes]].sum()
    out.insert(2, "answer_rate", (out["answered"] / out["calls"]).astype("float64"))
    label = grouped.ngroup().to_numpy(dtype="int64")
    qs = [p / 100 for p in percentiles]
    stats: dict[str, list[list[float]]] = {}
    means: list[float] = []
    for name, table in (("ring", agg.ring), ("talk", agg.talk)):
        seconds, calls = table["seconds"].to_numpy(), table["calls"].to_numpy()
        if len(out) == 1:  # one group of groups: every value counts, no selection to copy
            parts = [(seconds, calls)]
        else:
            row_label = label[table["group"].to_numpy()] if len(table) else np.zeros(0, dtype="int64")
            parts = [(seconds[row_label == k], calls[row_label == k]) for k in range(len(out))]
        stats[name] = [value_quantiles(s, c, qs) for s, c in parts]
        if name == "talk":
            # (s * c).sum(): pairwise summation, and no int->float copy inside a mixed-type dot.
            means = [float((s * c).sum() / c.sum()) if c.sum() else np.nan for s, c in parts]
    for i, p in enumerate(percentiles):
        out[f"ring_seconds_p{p}"] = np.array([q[i] for q in stats["ring"]], dtype="float64")
    for i, p in enumerate(percentiles):
        out[f"talk_seconds_p{p}"] = np.array([q[i] for q in stats["talk"]], dtype="float64")
    out["talk_seconds_mean"] = np.array(means, dtype="float64")
    if not keys:
        out.index.name = None
    return out


def outcome_counts(agg: CallAggregate, by: str | None = None) -> pd.DataFrame | pd.Series:
    """Calls per outcome (a Series), or a table of calls per *by* label × outcome, as plot_outcomes draws."""
    outcomes = list(spec.OUTCOMES)
    g = agg.groups
    outcome = g["outcome"].astype("string")
    if by is None:
        return g["calls"].groupby(outcome).sum().reindex(outcomes, fill_value=0).astype("int64")
    if by not in AGGREGATE_BY:
        raise AnalysisError(f"an aggregate's outcomes are plotted overall or by one of {', '.join(AGGREGATE_BY)}, "
                            f"not by {by!r}: plot the calls themselves for that")
    label = g[by].astype("string").fillna("(none)")
    table = g["calls"].groupby([label.rename(by), outcome.rename("outcome")]).sum().unstack(fill_value=0)
    return table.reindex(columns=outcomes, fill_value=0).astype("int64")


def hourly(agg: CallAggregate, tz: str) -> tuple[np.ndarray, np.ndarray]:
    """(calls, answered) per hour of day 0-23, as plot_answer_rate_by_hour draws."""
    if tz != agg.tz:
        raise AnalysisError(f"this aggregate counts hours in {agg.tz}, not {tz}: aggregate the calls with tz={tz!r}")
    answered = agg.groups["answered"].to_numpy(dtype=bool)
    return agg.hours.sum(axis=0), agg.hours[answered].sum(axis=0)


def ring_parts(agg: CallAggregate) -> dict[bool, tuple[np.ndarray, np.ndarray]]:
    """Ring times (seconds ascending, calls) of answered (True) and unanswered (False) calls."""
    answered = agg.groups["answered"].to_numpy(dtype=bool)
    seconds, calls, group = (agg.ring[c].to_numpy() for c in ("seconds", "calls", "group"))
    mask = answered[group] if len(group) else np.zeros(0, dtype=bool)
    return {True: (seconds[mask], calls[mask]), False: (seconds[~mask], calls[~mask])}


# ---------------------------------------------------------------------------------------------
# A growing history: new callbacks appended, the aggregate kept up to date
# ---------------------------------------------------------------------------------------------

#: What makes two callbacks the same delivery (as ``load_callbacks`` dedupes): every field the
#: provider sent; ``received_at`` is ours and differs between deliveries.
_IDENTITY = ("type", "call_id", "instruction_id", "caller", "callee", "result_code", "result_description",
             "sip_disconnect_code", "sip_disconnect_reason", "started_on", "answered_on", "finished_on", "digits")


class CallHistory:
    """Callbacks that keep arriving: append each new batch, read the calls and their aggregate.

    :meth:`append` drops what :func:`~cmvoice_nb.callbacks.load_callbacks` drops when it reads
    everything at once — a callback delivered again (same content, whatever its
    ``received_at``; the first delivery stays) — and adds only the new calls to
    :attr:`aggregate`. The history is neither re-read nor re-aggregated, so a receiver's new
    callbacks cost what they are, not what came before them.

    Parameters
    ----------
    calls
        The calls so far (a frame from ``load_callbacks``), or None.
    tz
        The time zone of the aggregate's days and hours.

    Examples
    --------
    >>> from cmvoice_nb.callbacks import load_callbacks
    >>> first = {"type": "otp-finished", "call-id": "a", "result": {"code": 10}, "received-at": "2024-01-01T10:00:01Z"}
    >>> again = dict(first, **{"received-at": "2024-01-01T10:00:09Z"})
    >>> history = CallHistory(load_callbacks([first]))
    >>> history.append(load_callbacks([again, {"type": "otp-finished", "call-id": "b", "result": {"code": 9}}]))
    1
    >>> len(history.calls), history.aggregate.total, history.duplicates_removed
    (2, 2, 1)
    """

    def __init__(self, calls: Any = None, *, tz: str = "UTC") -> None:
        self.tz = tz
        frame = calls_frame(calls) if calls is not None else None
        self._frames: list[pd.DataFrame] = [] if frame is None else [frame]
        self._rows = 0 if frame is None else len(frame)
        self.aggregate: CallAggregate = aggregate_calls(frame if frame is not None else [], tz=tz)
        #: Deliveries :meth:`append` dropped as duplicates of earlier calls.
        self.duplicates_removed = 0
        #: Increases with every change (a cache key for what is computed from the calls).
        self.version = 0
        self._hashes: np.ndarray | None = None  # sorted identity hashes of every call (built on first append)
        self._positions: np.ndarray | None = None

    def __len__(self) -> int:
        return self._rows

    @property
    def calls(self) -> pd.DataFrame:
        """Every call so far, in arrival order (one frame; joined when first read after appends)."""
        if not self._frames:
            return calls_frame([])
        if len(self._frames) > 1:
            # As load_callbacks joins its blocks: categories unified, Arrow text chained (pd.concat
            # would turn two categoricals with different categories into text). Shallow copies:
            # joining consumes its parts' columns, and the first part may be the caller's frame.
            from .frame import concat_typed

            self._frames = [concat_typed([f.copy(deep=False) for f in self._frames])]
        return self._frames[0]

    def append(self, calls: Any) -> int:
        """Add *calls* (a frame from ``load_callbacks``); return how many were new."""
        new = calls_frame(calls)
        if not len(new):
            return 0
        if self._hashes is None:
            self._index(self.calls if self._frames else None)
        known, positions = self._hashes, self._positions
        assert known is not None and positions is not None  # _index made them
        hashes = _identity_hash(new)
        at = np.searchsorted(known, hashes)
        hit = (at < len(known)) & (known[np.minimum(at, len(known) - 1)] == hashes) \
            if len(known) else np.zeros(len(new), dtype=bool)
        duplicate = np.zeros(len(new), dtype=bool)
        if hit.any():
            history = self.calls
            for j in np.flatnonzero(hit):
                same = positions[at[j]: np.searchsorted(known, hashes[j], side="right")]
                duplicate[j] = any(_same_delivery(history, int(i), new, int(j)) for i in same)
        keep = new[~duplicate].reset_index(drop=True) if duplicate.any() else new.reset_index(drop=True)
        self.duplicates_removed += int(duplicate.sum())
        if not len(keep):
            return 0
        self._add_hashes(hashes[~duplicate], self._rows + np.arange(len(keep)))
        self._frames.append(keep)
        self._rows += len(keep)
        self.aggregate = self.aggregate.add(keep)
        self.version += 1
        return len(keep)

    def _index(self, frame: pd.DataFrame | None) -> None:
        self._hashes = np.zeros(0, dtype="uint64")
        self._positions = np.zeros(0, dtype="int64")
        if frame is not None and len(frame):
            self._add_hashes(_identity_hash(frame), np.arange(len(frame)))

    def _add_hashes(self, hashes: np.ndarray, positions: np.ndarray) -> None:
        order = np.argsort(hashes, kind="stable")
        hashes, positions = hashes[order], positions[order]
        assert self._hashes is not None and self._positions is not None  # _index made them
        at = np.searchsorted(self._hashes, hashes, side="right")  # one copy of the index, not a sort of it
        self._hashes = np.insert(self._hashes, at, hashes)
        self._positions = np.insert(self._positions, at, positions)


def _identity_hash(frame: pd.DataFrame) -> np.ndarray:
    columns = {}
    for c in _IDENTITY:
        series = frame[c] if c in frame.columns else pd.Series(pd.NA, index=frame.index, dtype="object")
        # One kind per column whatever the loader's dtypes (object, "string", Arrow, category).
        if not isinstance(series.dtype, pd.DatetimeTZDtype) and c != "result_code":
            series = series.astype("string")
        columns[c] = series
    return pd.util.hash_pandas_object(pd.DataFrame(columns), index=False).to_numpy(dtype="uint64")


def _same_delivery(a: pd.DataFrame, i: int, b: pd.DataFrame, j: int) -> bool:
    """Row *i* of *a* and row *j* of *b* are the same callback (every column but ``received_at``)."""
    for c in set(a.columns) | set(b.columns):
        if c == "received_at":
            continue
        x = a[c].iloc[i] if c in a.columns else None
        y = b[c].iloc[j] if c in b.columns else None
        if _missing(x) and _missing(y):
            continue
        if _missing(x) or _missing(y):
            return False
        try:
            if not bool(x == y):
                return False
        except (TypeError, ValueError):  # lists or arrays in an extra column
            if repr(x) != repr(y):
                return False
    return True


__all__ = ["CallHistory", "aggregate_calls", "CallAggregate", "GROUP_KEYS", "AGGREGATE_BY",
           "value_quantiles", "value_median"]
