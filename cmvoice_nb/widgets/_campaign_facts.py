"""What the Campaign app says about a plan and a run, computed from the library's objects.

Functions over a :class:`~cmvoice_nb.campaign.CampaignPlan`, its
:class:`~cmvoice_nb.campaign.ops.estimate.Estimate`, a results frame and a sender's progress
dict, touching no widget: the problems grouped one line per kind, the honest counts of a run and
their words, the confirmation's lines (countries, estimate, calling hours), the banner and
preview HTML, and the do-not-call list of an upload. The app only shows what they return.
"""
from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from ._common import WARN

#: Words of the honest counts, in the order they are shown.
COUNT_LABELS = {
    "new": "new this run",
    "dry-run": "would be called (dry run)",
    "already_done": "already done (journal)",
    "stopped": "not sent — stopped",
    "left_out": "left out (repeated callee)",
    "suppressed": "do-not-call (not sent)",
    "deferred": "deferred — outside calling hours",
    "no-zone": "no time zone known",
    "budget": "past the budget",
    "invalid": "invalid",
    "refused-country": "country not allowed",
    "failed": "failed",
    "rejected": "rejected",
    "unknown": "unknown",
    "changed": "changed",
    "already-called": "already called",
    "holdout": "holdout — A/B control group, never called",
    "expired": "expired — validity window ended",
    "over-contacted": "over-contacted — contact cap reached",
}
#: Counts shown in amber: each needs the operator's attention.
ATTENTION_COUNTS = frozenset({"stopped", "deferred", "no-zone", "budget", "invalid", "refused-country", "failed",
                              "rejected", "unknown", "changed", "already-called"})
_SEP = " &nbsp;·&nbsp; "


def grouped_problems(problems: Any, *, index: Any = None) -> Any:
    """The plan's problems, one line per (field, message) with how many rows and which.

    An unmapped callee is one line ("4 rows: lines 2, 3, 4, 5"), not one identical line per row.
    Rows are named as the operator's file shows them: by spreadsheet line when the list was read
    from a file (its *index* is named ``line``), else by 1-based position in *index*.

    Examples
    --------
    >>> import pandas as pd
    >>> problems = pd.DataFrame({"row": [0, 1, 2], "field": ["callee"] * 3, "message": ["is required"] * 3})
    >>> grouped_problems(problems, index=pd.RangeIndex(3)).to_dict("records")
    [{'field': 'callee', 'problem': 'is required', 'rows': 3, 'examples': 'rows 1, 2, 3'}]
    >>> lines = pd.Index([2, 3, 5], name="line")
    >>> grouped_problems(problems.assign(row=[2, 3, 5]), index=lines)["examples"].item()
    'lines 2, 3, 5'
    """
    import pandas as pd

    if not len(problems):
        return pd.DataFrame(columns=["field", "problem", "rows", "examples"])
    word = "lines"
    if index is not None and getattr(index, "name", None) != "line":
        position = {label: i + 1 for i, label in enumerate(index)}
        problems = problems.assign(row=[position.get(r, r) for r in problems["row"].tolist()])
        word = "rows"
    frame = problems.assign(field=problems["field"].fillna("").astype(str),
                            message=problems["message"].astype(str))
    groups = frame.groupby(["field", "message"], sort=False)["row"]
    out = groups.agg(rows="size", examples=lambda s: f"{word} " + ", ".join(map(str, s.head(5)))
                     + (" …" if len(s) > 5 else ""))
    out = out.reset_index().rename(columns={"message": "problem"})
    return out.sort_values("rows", ascending=False, kind="stable").reset_index(drop=True)


def outcome_counts(results: Any, *, already_done: int = 0) -> dict[str, int]:
    """The honest counts of a finished run, from its results frame (see :data:`COUNT_LABELS`).

    ``new`` are rows queued by this run (queued minus those the journal had already done),
    ``stopped`` rows not sent because the run ended first (``skipped``), ``left_out`` repeated
    callees left out on purpose (``dropped``); every other key is a results status
    (:data:`~cmvoice_nb.campaign.vocabulary.RESULT_STATUSES`). Zero counts are left out.

    Examples
    --------
    >>> import pandas as pd
    >>> results = pd.DataFrame({"status": ["queued", "queued", None, "dropped", "invalid"]})
    >>> outcome_counts(results, already_done=1)
    {'new': 1, 'already_done': 1, 'stopped': 1, 'left_out': 1, 'invalid': 1}
    """
    from ..campaign.vocabulary import RESULT_STATUSES

    status = results["status"].astype("string").fillna("skipped").to_numpy(dtype=object)
    counts = {
        "new": int((status == "queued").sum()) - int(already_done),
        "dry-run": int((status == "dry-run").sum()),
        "already_done": int(already_done),
        "stopped": int((status == "skipped").sum()),
        "left_out": int((status == "dropped").sum()),
    }
    for name in RESULT_STATUSES:
        if name not in ("queued", "dry-run", "skipped", "dropped"):
            counts[name] = int((status == name).sum())
    return {k: v for k, v in counts.items() if v}


def render_counts(counts: Mapping[str, int]) -> str:
    """The honest counts as one HTML line (attention counts in amber).

    Examples
    --------
    >>> render_counts({})
    'nothing to send'
    """
    parts = []
    for key, label in COUNT_LABELS.items():
        n = counts.get(key)
        if n:
            colour = WARN if key in ATTENTION_COUNTS else "#1f2328"
            parts.append(f"<span style='color:{colour}'>{html.escape(label)} <b>{n}</b></span>")
    return _SEP.join(parts) or "nothing to send"


def render_running(progress: Mapping[str, int], wait_text: str = "") -> str:
    """A running send's progress (:attr:`CampaignSender.progress`) as one HTML line."""
    from ..campaign.vocabulary import RESULT_STATUSES

    parts = [f"done <b>{progress.get('sent', 0)}</b> of {progress.get('to_send', 0)} this run"]
    parts += [f"{html.escape(k)} <b>{progress[k]}</b>" for k in RESULT_STATUSES if progress.get(k)]
    if progress.get("waiting"):
        parts.append(f"<span style='color:{WARN}'>waiting <b>{progress['waiting']}</b>"
                     + (f" — {html.escape(wait_text)}" if wait_text else "") + "</span>")
    return _SEP.join(parts)


def banner_html(real: bool, url: str) -> str:
    """The target banner: real calls (red) or the simulator (blue), and where the calls go."""
    kind, bg, fg, words = (("provider", "#ffebe9", "#cf222e", "REAL CALLS — CM Voice API: every call is placed and "
                            "billed") if real else
                           ("simulator", "#ddf4ff", "#0969da", "SIMULATOR — a rehearsal: no real calls, no cost"))
    return (f"<div class='cmvoice-target cmvoice-target-{kind}' style='background:{bg};"
            f"border-left:6px solid {fg};padding:4px 10px;margin:4px 0'><b style='color:{fg}'>{html.escape(words)}"
            f"</b><br><code>{html.escape(url)}</code></div>")


def preview_html(df: Any, plan: Any = None) -> str:
    """The list's first rows; with a plan, what they will hear (:meth:`CampaignPlan.preview`)."""
    from .._tables import to_html

    n = len(df)
    body = to_html(df, max_rows=5, failures_first=False) if n else "<i>no rows</i>"
    heard = "<p style='color:#57606a'>Validate to see what each row will hear.</p>"
    if plan is not None:
        frame = plan.preview(5)
        shown = frame[["row", "callee", "language", "field", "text", "problems"]].reset_index(drop=True)
        heard = to_html(shown, max_rows=len(shown), failures_first=False,
                        caption="What the first rows will hear (and one row per further voice)")
    return f"<details open><summary>{n} rows (first 5)</summary>{body}{heard}</details>"


def countries_text(estimate: Any, *, priced: bool = False) -> str:
    """Calls per country of an estimate, most first (``NL 3, BE 1``), with each country's cost when *priced*.

    ``none`` when the estimate has no calls.
    """
    import math

    per_country = sorted(estimate.calls_per_country.items(), key=lambda item: (-item[1], item[0]))
    costs = estimate.to_frame()["cost"] if priced and per_country else {}

    def cost(country: str) -> str:
        value = costs.get(country, math.nan) if priced else math.nan
        return f" (cost {value:,.2f})" if isinstance(value, float) and math.isfinite(value) else ""

    return ", ".join(f"{country} {n}{cost(country)}" for country, n in per_country) or "none"


def estimate_text(estimate: Any, *, priced: bool) -> str:
    """The estimate's headline: calls, talk minutes and, when *priced*, the cost."""
    text = estimate.to_text().splitlines()[0].removeprefix("Estimate: ")
    return text if priced else text + " (no price table: cost not estimated)"


def calling_hours_text(plan: Any, options: Mapping[str, Any]) -> str:
    """The calling-hours line: the window, the days, and how many of *plan*'s rows are outside it now.

    *options* are the sender's keywords (``calling_hours``, ``days``, ``wait``, ``holidays``,
    ``public_holidays``, ``tz``, ``now``); without calling hours or holidays, every row is called at once.
    """
    from ..campaign.ops.hours import describe_waits, window_status
    from ._campaign_ends import instant, options_hours

    hours = options_hours(options)
    if hours is None:
        return "none: every row is called at once, whatever the callee's local time"
    text = f"{hours.hours_text} on {hours.days_text}, in each callee's local time"
    callees = [(r.callee_list() or [r.callee])[0] for r in plan.rows if r.sendable]
    if callees:
        waits = describe_waits(window_status(callees, calling_hours=hours, tz=options.get("tz"),
                                             now=instant(options.get("now"))))
        text += f"; {waits}"
        if "wait" in waits and not options.get("wait", True):
            text += " (not waiting: those rows end 'deferred', a later Send sends them)"
    return text


def read_upload(name: str, data: bytes, *, region: str | None) -> Any:
    """The do-not-call list in uploaded bytes, read by the library's one reader.

    The reader takes files (CSV column by name or content, TXT): the bytes go to a private
    temporary copy that is removed at once; *name* (its base name only) names the list.
    """
    import tempfile
    from pathlib import Path

    from ..campaign.ops.suppress import SuppressionList, read_suppression

    suffix = ".txt" if name.lower().endswith(".txt") else ".csv"
    with tempfile.TemporaryDirectory(prefix="cmvoice-dnc-") as folder:
        copy = Path(folder) / f"list{suffix}"
        copy.write_bytes(data)
        read = read_suppression(copy, region=region)
    return SuppressionList(read.numbers, unreadable=read.unreadable, source=name, entries=read.entries,
                           region=region)


def merged_suppression(first: Any, second: Any) -> Any:
    """One do-not-call list holding the numbers (and unreadable entries) of both."""
    from ..campaign.ops.suppress import SuppressionList

    return SuppressionList(first.numbers | second.numbers, unreadable=first.unreadable + second.unreadable,
                           source=f"{first.source} + {second.source}", entries=first.entries + second.entries,
                           region=first.region)


__all__ = ["COUNT_LABELS", "ATTENTION_COUNTS", "grouped_problems", "outcome_counts", "render_counts",
           "render_running", "banner_html", "preview_html", "countries_text", "estimate_text",
           "calling_hours_text", "read_upload", "merged_suppression"]
