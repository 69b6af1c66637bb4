"""How a run of the Campaign app ends, how fast it goes, and what the confirmation says: pure functions.

* :func:`end_state` — the end of a run (or of a forecast) as one of four states with its own
  colour and headline, by the exit classes of :func:`~cmvoice_nb.campaign.vocabulary.exit_status`
  (the CLI's): ``finished`` (every row final), ``waiting`` (rows go later by themselves or on
  Send again), ``needs you`` (rows to fix or decide), ``nothing to send``.
* :func:`pace` / :func:`pace_text` — calls per second actually placed (beside the set rate) and
  the time left, from samples of the sender's progress.
* :func:`calls_now` — of a forecast's rows to send, how many are inside their calling hours now.
* :func:`callback_facts` — the callback URLs of a plan and why the provider could not reach them.
* :func:`outcome_bars` — the small live chart of outcomes (HTML bars, no plotting library).
"""
from __future__ import annotations

import dataclasses
import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

from ..campaign.vocabulary import EXIT_ACT, EXIT_RETRY, STATUS, count_line, exit_status
from ._common import BAD, MUTED, OK, WARN

__all__ = ["EndState", "END_STATES", "end_state", "pace", "pace_text", "duration_text", "calls_now",
           "options_hours", "instant", "callback_facts", "outcome_bars"]

#: The four end states: colour of the status line and style of the progress bar.
END_STATES = {
    "finished": (OK, "success"),
    "waiting": (WARN, "warning"),
    "needs you": (BAD, "danger"),
    "nothing to send": (MUTED, ""),
}


@dataclasses.dataclass(frozen=True)
class EndState:
    """How a run ended: ``kind`` (a key of :data:`END_STATES`), its ``headline``, ``colour`` and ``bar_style``."""

    kind: str
    headline: str

    @property
    def colour(self) -> str:
        return END_STATES[self.kind][0]

    @property
    def bar_style(self) -> str:
        return END_STATES[self.kind][1]


def end_state(counts: Mapping[str, int], *, placed: int = 0, dry_run: bool = False, stopped: bool = False,
              stop_class: int | None = None, rows: int | None = None) -> EndState:
    """The end state of a run from its rows' statuses (or a forecast's counts), by the CLI's exit classes.

    Parameters
    ----------
    counts
        Rows per results status (``skipped``, ``invalid``…); a forecast's ``to send`` and
        ``already done`` are read as ``pending`` rows and as rows already final.
    placed
        Calls this run placed (dry run: rows it would call).
    dry_run, stopped
        A dry run; a run the operator stopped.
    stop_class
        What stopped the run early (:attr:`CampaignSender.stop_class`), if anything.
    rows
        The list's rows (to say "the list is empty").

    Examples
    --------
    >>> end_state({"queued": 3}, placed=3).kind
    'finished'
    >>> end_state({"invalid": 4}).headline
    'Needs you: invalid 4 — nothing was placed'
    >>> end_state({}, rows=0).headline
    'Nothing to send: the list is empty'
    >>> end_state({"queued": 2, "skipped": 3}, placed=2, stopped=True).kind
    'waiting'
    >>> end_state({"already done": 5}).headline
    'Nothing to send: every row is already final (already done 5)'
    """
    statuses = [s for s, n in counts.items() if n and s in STATUS]
    code = exit_status(statuses, stop=stop_class)
    rest = {k: int(n) for k, n in counts.items() if n and k not in ("queued", "dry-run", "to send")}
    detail = count_line(rest) if rest else ""
    what = (f"{placed} would be called (dry run, nothing was sent)" if dry_run
            else f"{placed} call{'s' if placed != 1 else ''} placed")
    if code == EXIT_ACT:
        head = "needs you"
        stopper = " (the provider refused the run: see the error)" if stop_class == EXIT_ACT else ""
        text = f"Needs you: {detail}{stopper} — " + (what if placed else "nothing was placed")
    elif code == EXIT_RETRY:
        head = "waiting"
        if stopped:
            lead = f"Stopped by you: {counts.get('skipped', 0)} not sent — Send again sends the rest"
        elif stop_class == EXIT_RETRY:
            lead = "Waiting: the provider could not be reached — Send again later sends the rest"
        else:
            lead = "Waiting: rows go later (their calling hours) — Send again sends them"
        text = f"{lead}; {what}" + (f" ({detail})" if detail else "")
    elif placed == 0:
        head = "nothing to send"
        if rows == 0:
            text = "Nothing to send: the list is empty"
        else:
            text = "Nothing to send: every row is already final" + (f" ({detail})" if detail else "")
    else:
        head = "finished"
        text = ("Dry run finished: " if dry_run else "Finished: ") + what + (f"; {detail}" if detail else "") \
            + ("" if dry_run else "; every row is final")
    return EndState(head, text)


def pace(samples: Sequence[tuple[float, int]], *, to_send: int,
         window_s: float = 5.0) -> tuple[float | None, float | None]:
    """(calls per second actually placed, seconds left) from ``(time, sent)`` samples of a running send.

    The rate is measured over the last *window_s* seconds of samples (None until two samples
    span some time); the time left is the rows still to send at that rate (None without a rate,
    0 when every row went).

    Examples
    --------
    >>> pace([(0.0, 0), (1.0, 20), (2.0, 40)], to_send=100)
    (20.0, 3.0)
    >>> pace([(0.0, 0)], to_send=100)
    (None, None)
    """
    if len(samples) < 2:
        return None, None
    t_end, sent_end = samples[-1]
    # The latest sample at least *window_s* before the last one (or the first): a span that long.
    start = next(((t, n) for t, n in reversed(samples) if t <= t_end - window_s), samples[0])
    if t_end - start[0] <= 0:
        return None, None
    rate = (sent_end - start[1]) / (t_end - start[0])
    left = max(0, to_send - sent_end)
    if left == 0:
        return rate, 0.0
    return rate, (left / rate if rate > 0 else None)


def duration_text(seconds: float | None) -> str:
    """A time left as people say it: ``about 2 min 5 s``, ``under a second``, ``unknown``.

    Examples
    --------
    >>> duration_text(125.4), duration_text(0.3), duration_text(None), duration_text(7325)
    ('about 2 min 5 s', 'under a second', 'unknown', 'about 2 h 2 min')
    """
    if seconds is None or not math.isfinite(seconds):
        return "unknown"
    if seconds < 1:
        return "under a second"
    s = int(round(seconds))
    if s < 60:
        return f"about {s} s"
    if s < 3600:
        return f"about {s // 60} min {s % 60} s"
    return f"about {s // 3600} h {s % 3600 // 60} min"


def pace_text(samples: Sequence[tuple[float, int]], *, to_send: int, rate: float, waiting: int = 0) -> str:
    """The pace line of a running send: actual calls/s beside the set rate, and the time left.

    Examples
    --------
    >>> pace_text([(0.0, 0), (2.0, 50)], to_send=100, rate=100)
    '25.0 calls/s (set 100/s) · time left about 2 s'
    """
    actual, left = pace(samples, to_send=to_send)
    speed = "measuring calls/s" if actual is None else f"{actual:.1f} calls/s"
    text = f"{speed} (set {rate:g}/s) · time left {duration_text(left)}"
    if waiting:
        text += f" · {waiting} waiting for their calling hours"
    return text


def calls_now(rows: Sequence[Any], options: Mapping[str, Any], *, now: Any = None,
              plan: Any = None) -> tuple[int, int]:
    """(rows inside their calling hours now, rows outside) of the rows a run sends.

    *rows* are a forecast's :meth:`~cmvoice_nb.campaign.Forecast.rows_to_send`; *options* the
    sender's keywords (no calling hours, holidays or public holidays: every row now); *now* an
    instant or a clock (default the real time); *plan* the plan they come from, whose
    subdivision column (``columns={"subdivision": ...}``) public holidays are judged by. Each row
    is judged as the sender judges it (:class:`~cmvoice_nb.campaign.ops.schedule.RowWindows`:
    every number of the row, the row's country and subdivision).
    """
    hours = options_hours(options)
    if hours is None or not rows:
        return len(rows), 0
    import datetime as _dt

    from ..campaign.ops.schedule import RowWindows, plan_subdivisions

    windows = RowWindows(hours, list(plan.rows) if plan is not None else list(rows), tz=options.get("tz"),
                         subdivisions=plan_subdivisions(plan) if plan is not None else None)
    at = instant(now) or _dt.datetime.now(_dt.timezone.utc)
    inside = sum(1 for r in rows if windows.status(r.position, at).inside)
    return inside, len(rows) - inside


def options_hours(options: Mapping[str, Any]) -> Any:
    """The :class:`~cmvoice_nb.campaign.ops.hours.CallingHours` of the sender's *options*, or None (any time).

    Examples
    --------
    >>> options_hours({}) is None, options_hours({"calling_hours": "09:00-20:00", "days": "all"})
    (True, CallingHours('09:00-20:00', days='all', holidays=none))
    """
    from ..campaign.ops.schedule import calling_hours_from

    return calling_hours_from(options.get("calling_hours"), days=options.get("days"),
                              holidays=options.get("holidays"), public_holidays=bool(options.get("public_holidays")))


def instant(now: Any) -> Any:
    """*now* as an instant: a clock (such as a :class:`~cmvoice_nb.campaign.ops.schedule.ManualClock`) is read."""
    return now() if callable(now) else now


def callback_facts(plan: Any, *, base_url: str) -> tuple[list[str], list[str]]:
    """(the callback URLs *plan*'s rows send, the problems the provider behind *base_url* has reaching them).

    A problem is :func:`~cmvoice_nb.client.callback_url_problem`'s (only on the real API: a
    loopback, private or link-local host, or ``localhost``).
    """
    from ..campaign.send import callback_urls
    from ..client import callback_url_problem

    urls = callback_urls(plan)
    problems = [p for p in (callback_url_problem(u, base_url=base_url) for u in urls) if p]
    return urls, problems


def outcome_bars(counts: Mapping[str, int], *, width_px: int = 220) -> str:
    """A small bar chart of call outcomes (``{"Finished": 12, "Failed": 3}``) as HTML.

    Examples
    --------
    >>> "Finished" in outcome_bars({"Finished": 2, "Failed": 1})
    True
    >>> outcome_bars({})
    ''
    """
    total = sum(int(n) for n in counts.values())
    if not total:
        return ""
    colours = {"Finished": OK, "Failed": BAD, "Rejected": BAD, "Cancelled": WARN}
    lines = []
    for outcome, n in sorted(counts.items(), key=lambda kv: -int(kv[1])):
        bar = max(2, int(width_px * int(n) / total))
        lines.append(f"<div style='display:flex;align-items:center;gap:6px'><span style='width:7em'>"
                     f"{html.escape(str(outcome))}</span><span style='display:inline-block;height:0.9em;width:{bar}px;"
                     f"background:{colours.get(str(outcome), MUTED)}'></span><b>{int(n)}</b></div>")
    return (f"<div class='cmvoice-outcomes'><b>Outcomes so far</b> ({total} call{'s' if total != 1 else ''} with a "
            f"callback){''.join(lines)}</div>")
