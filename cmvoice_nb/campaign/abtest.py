"""The A/B report: how each prompt variant did, with confidence intervals and a test of the difference.

:func:`ab_report` joins a campaign's callbacks with its A/B design (the plan, or better the
journal, which keeps each person's variant and every wave) and counts per variant: the people
in it, the calls that ended (a callback), those answered, those completed, valid DTMF input and
the talk time. Every rate is over the variant's calls; each has a Wilson score interval, and
each variant is compared with the first by a two-proportion z-test (:func:`two_proportion_test`).
The report says in words whether a difference is significant, and when it is not that the
calls cannot tell the variants apart.

* **answered**: result code 10 (Finished);
* **completed**: answered, and for DTMF with valid input, otherwise talked at least one full play
  of the variant's message (the talk-time model of :mod:`cmvoice_nb.timing`, without replays):
  a callee who hangs up early, or a voicemail box that stops the call, has not heard it all;
* **DTMF valid**: a DTMF call whose digits are valid input (see :func:`~cmvoice_nb.callbacks.dtmf_summary`).

The holdout (never called) is listed with its people and no calls.

Examples
--------
>>> wilson_interval(45, 100)
(0.3561..., 0.5475...)
>>> round(two_proportion_test(60, 100, 40, 100)[1], 4)
0.0047
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

from ..callbacks import AnalysisError, calls_frame, dtmf_validator
from ..timing import talk_seconds
from ..wire import WAVE_SUFFIX

__all__ = ["ABReport", "ab_report", "wilson_interval", "two_proportion_test", "AB_METRICS", "ALPHA"]

#: The rates compared between variants: ``(column, what it counts, in words)``.
AB_METRICS = (("answered", "answered"), ("completed", "completed"), ("dtmf_valid", "gave valid DTMF input"))
#: Significance level of the tests (and 1 - the confidence of the intervals).
ALPHA = 0.05
#: Seconds a completed call may fall short of its message's modelled length (rounding, clock).
_SLACK_S = 0.5
_HOLDOUT = "holdout"


def wilson_interval(successes: int, n: int, *, alpha: float = ALPHA) -> tuple[float, float]:
    """The Wilson score interval of a proportion (``(nan, nan)`` for ``n == 0``).

    Better than the normal approximation for small counts and rates near 0 or 1 (it never leaves [0, 1]).
    """
    if n <= 0:
        return float("nan"), float("nan")
    from scipy.stats import norm

    z = float(norm.ppf(1 - alpha / 2))
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def two_proportion_test(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float]:
    """``(z, two-sided p-value)`` of the pooled two-proportion z-test of x1/n1 against x2/n2 (nan when undefined)."""
    if n1 <= 0 or n2 <= 0:
        return float("nan"), float("nan")
    from scipy.stats import norm

    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return float("nan"), float("nan")  # every call alike in both: nothing to test
    z = (x1 / n1 - x2 / n2) / se
    return z, float(2 * norm.sf(abs(z)))


@dataclass
class ABReport:
    """The outcome of :func:`ab_report`.

    Attributes
    ----------
    table
        One row per variant (the holdout last): ``people``, ``calls`` (calls that ended, with a
        callback), ``answered``, ``completed``, ``dtmf_valid``, ``talk_s`` (total talk seconds),
        ``talk_s_per_answered``, and per metric its ``<metric>_rate`` (over calls) and
        ``<metric>_low`` / ``<metric>_high`` (the Wilson interval).
    tests
        One row per variant after the first and metric: ``variant``, ``baseline``, ``metric``,
        ``difference`` (rate of the variant minus the baseline's), ``z``, ``p_value``, ``significant``.
    verdicts
        The tests in words, one sentence each.
    confidence
        The intervals' confidence (0.95).
    """

    table: Any
    tests: Any
    verdicts: list[str] = field(default_factory=list)
    confidence: float = 1 - ALPHA
    campaign: str | None = None

    def to_text(self) -> str:
        """The report as lines for a terminal (``cmvoice report --ab``)."""
        head = f"A/B test{f' of campaign {self.campaign}' if self.campaign else ''}: rates over each variant's " \
               f"calls, {self.confidence:.0%} Wilson intervals"
        lines = [head]
        for name, row in self.table.iterrows():
            if name == _HOLDOUT:
                lines.append(f"  {name}: {int(row['people'])} people, never called")
                continue
            parts = [f"{int(row['people'])} people", f"{int(row['calls'])} calls"]
            for metric, _words in AB_METRICS:
                if metric == "dtmf_valid" and not self.table.attrs.get("dtmf"):
                    continue
                parts.append(f"{metric.replace('_', ' ')} {int(row[metric])} ({_pct(row[f'{metric}_rate'])}, "
                             f"{_pct(row[f'{metric}_low'])}-{_pct(row[f'{metric}_high'])})")
            parts.append(f"talk {row['talk_s'] / 60:.1f} min")
            lines.append(f"  {name}: " + ", ".join(parts))
        return "\n".join(lines + self.verdicts)

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_html(self) -> str:
        """The report as an HTML section (the campaign report's A/B part)."""
        from html import escape

        from ..callbacks import table_html

        shown = self.table.copy()
        for column in [c for c in shown.columns if c.endswith(("_rate", "_low", "_high"))]:
            shown[column] = shown[column].map(_pct)
        shown["talk_s"] = shown["talk_s"].map(lambda s: f"{s:,.0f}")
        shown["talk_s_per_answered"] = shown["talk_s_per_answered"].map(lambda s: "" if s != s else f"{s:,.1f}")
        items = "".join(f"<li>{escape(v)}</li>" for v in self.verdicts)
        return (f"<h2>A/B test</h2><p>Rates over each variant's calls, {self.confidence:.0%} Wilson intervals; "
                f"each variant against {escape(str(self.tests.attrs.get('baseline', '')))} by a two-proportion "
                f"z-test.</p>{table_html(shown)}<ul>{items}</ul>")


def _pct(x: Any) -> str:
    return "" if x is None or x != x else f"{x:.1%}"


def _design(plan_or_journal: Any, campaign: str | None) -> tuple[Any, str, str, list[str]]:
    """``(rows, app, campaign, variant names)``: one row per attempt with its ``base_id``, ``variant``, ``payload``."""
    import pandas as pd

    from .journal import Journal, opened_journal, pick_campaign
    from .plan import CampaignPlan
    from .status import journal_results

    if isinstance(plan_or_journal, CampaignPlan):
        plan = plan_or_journal
        if all(r.variant is None for r in plan.rows):
            raise AnalysisError(f"campaign {plan.name!r} has no A/B test: plan it with variants= or holdout=")
        if plan.key_is_provisional:
            raise AnalysisError(f"campaign {plan.name!r}: this plan's ids carry a provisional key, not the ids "
                                "that were sent: give the campaign's journal (or plan with journal=)")
        rows = pd.DataFrame({"instruction_id": [r.instruction_id for r in plan.rows],
                             "base_id": [r.base_id or r.instruction_id for r in plan.rows],
                             "variant": [r.variant for r in plan.rows],
                             "payload": [r.payload for r in plan.rows]})
        return rows, plan.app, plan.name, list(plan.options.get("variants") or {})
    if plan_or_journal is None or not isinstance(plan_or_journal, (Journal, str, os.PathLike)):
        raise AnalysisError(f"ab_report needs the campaign's plan or journal, got {type(plan_or_journal).__name__}")
    with opened_journal(plan_or_journal, error=AnalysisError) as journal:
        campaign = pick_campaign(journal, campaign, error=AnalysisError)
        app = journal.campaigns()[campaign]
        results = journal_results(journal, campaign)
        payloads = journal.payloads(campaign)
        variants = journal.variants(campaign)
        names = list(journal.design(campaign).get("variants") or {})
        path = journal.path
    if not variants:
        raise AnalysisError(f"campaign {campaign!r} of {path} has no A/B test: send it with variants= or holdout= "
                            "(--variant, --holdout)")
    rows = pd.DataFrame({"instruction_id": results["instruction_id"].astype(object),
                         "base_id": results["base_id"].astype(object)})
    rows["variant"] = rows["base_id"].map(variants)
    rows["payload"] = rows["instruction_id"].map(payloads)
    attempted = set(rows["base_id"])
    extra = [(b, b, v, None) for b, v in variants.items() if b not in attempted]  # held out: no attempt row
    if extra:
        rows = pd.concat([rows, pd.DataFrame(extra, columns=rows.columns)], ignore_index=True)
    return rows, app, campaign, names


def _message_s(payload: Any, app: str) -> float | None:
    """How long one full play of a payload's message talks (None when unknown)."""
    if payload is None:
        return None
    try:
        wire = json.loads(payload) if isinstance(payload, (bytes, str)) else payload
        return float(talk_seconds(wire, app, replays=0))
    except (ValueError, TypeError, KeyError):
        return None


def ab_report(calls: Any, plan_or_journal: Any, *, campaign: str | None = None, valid: Any = None) -> ABReport:
    """Per A/B variant: calls, answered, completed, DTMF valid, talk time, with intervals and tests.

    Parameters
    ----------
    calls
        The campaign's callbacks (loaded, or anything :func:`~cmvoice_nb.callbacks.load_callbacks` reads).
        Only callbacks of the campaign's attempts count, every wave (``-w2``...) included.
    plan_or_journal
        The :class:`~cmvoice_nb.campaign.CampaignPlan` planned with ``variants=``/``holdout=``, or
        the campaign's journal (a path or :class:`~cmvoice_nb.campaign.Journal`): the journal
        keeps each person's variant and every wave.
    campaign
        Which campaign of the journal (needed only when it holds several).
    valid
        What counts as valid DTMF input (see :func:`~cmvoice_nb.callbacks.dtmf_summary`).

    Returns
    -------
    ABReport
        ``.table``, ``.tests``, ``.verdicts`` (in words), ``.to_text()``, ``.to_html()``.

    Examples
    --------
    >>> import pandas as pd
    >>> from cmvoice_nb.campaign import plan_campaign
    >>> df = pd.DataFrame({"callee": [f"+316123456{i:02d}" for i in range(20)]})
    >>> plan = plan_campaign(df, app="notification", name="ab", campaign_key="k0000000", seed=1,
    ...                      defaults={"caller": "+31201234567", "prompt-type": "TTS", "prompt": "Hallo"},
    ...                      variants={"A": {}, "B": {"prompt": "Goedemiddag"}})
    >>> calls = [{"type": "notification-finished", "call-id": f"c{i}", "instruction-id": r.instruction_id,
    ...           "result": {"code": 10 if i % 2 else 9}, "started-on": "2026-01-05T10:00:00Z",
    ...           "answered-on": "2026-01-05T10:00:05Z" if i % 2 else None, "finished-on": "2026-01-05T10:00:09Z"}
    ...          for i, r in enumerate(plan.rows)]
    >>> report = ab_report(calls, plan)
    >>> report.table[["people", "calls"]].to_dict("index")
    {'A': {'people': 10, 'calls': 10}, 'B': {'people': 10, 'calls': 10}}
    >>> print(report.verdicts[0].replace(": ", ":\\n"))
    B answered 60.0% of its calls (95% CI 31.3%-83.2%) against A's 40.0% (16.8%-68.7%):
    a difference of +20.0 points, not significant (p = 0.37):
    these calls cannot tell the variants apart.
    """
    import numpy as np
    import pandas as pd

    rows, app, name, design = _design(plan_or_journal, campaign)
    calls = calls_frame(calls)
    ids = calls["instruction_id"].astype(object).where(calls["instruction_id"].notna(), None)
    of_attempt = dict(zip(rows["instruction_id"], rows["variant"], strict=True))
    of_row = dict(zip(rows["base_id"], rows["variant"], strict=True))
    # An attempt the design does not list (a plan's row called again in a follow-up wave, -w2) counts for its row.
    variant = [of_attempt[i] if i in of_attempt else of_row.get(WAVE_SUFFIX.sub("", i)) if isinstance(i, str) else None
               for i in ids.tolist()]
    own = calls.assign(_variant=variant)
    own = own[own["_variant"].notna() & (own["_variant"] != _HOLDOUT)]
    is_valid = dtmf_validator(valid)
    answered = own["answered"].astype("boolean").fillna(False).astype(bool).to_numpy()
    digits = own["digits"].astype(object).where(own["digits"].notna(), "").tolist()
    dtmf = (own["app"].astype(object) == "dtmf").to_numpy()
    valid_input = np.array([is_valid(str(d)) for d in digits], dtype=bool) & answered & dtmf
    talk_raw = pd.to_numeric(own["talk_seconds"], errors="coerce").to_numpy(dtype=float)
    talk = np.nan_to_num(talk_raw, nan=0.0)
    sent = rows[rows["payload"].notna() & rows["variant"].notna()]
    message = {v: _message_s(group["payload"].iloc[0], app) for v, group in sent.groupby("variant", sort=False)}
    # A talk time that is not known (no answered-on or finished-on) does not prove the message was heard.
    full = np.array([message.get(v) is None or (t == t and t + _SLACK_S >= message[v])
                     for v, t in zip(own["_variant"].tolist(), talk_raw, strict=True)], dtype=bool)
    completed = np.where(dtmf, valid_input, answered & full)

    people = rows.drop_duplicates("base_id")["variant"].value_counts()
    seen = [v for v in dict.fromkeys(rows["variant"].dropna().tolist()) if v != _HOLDOUT]
    names = [v for v in design if v in seen] + sorted(v for v in seen if v not in design)
    records = []
    frame = pd.DataFrame({"variant": own["_variant"].to_numpy(dtype=object), "answered": answered,
                          "completed": completed, "dtmf_valid": valid_input, "talk_s": talk})
    for v in names + ([_HOLDOUT] if _HOLDOUT in people.index else []):
        mine = frame[frame["variant"] == v]
        n = len(mine)
        record = {"variant": v, "people": int(people.get(v, 0)), "calls": n}
        for metric, _words in AB_METRICS:
            k = int(mine[metric].sum())
            low, high = wilson_interval(k, n)
            record.update({metric: k, f"{metric}_rate": k / n if n else float("nan"), f"{metric}_low": low,
                           f"{metric}_high": high})
        record["talk_s"] = float(mine["talk_s"].sum())
        record["talk_s_per_answered"] = record["talk_s"] / record["answered"] if record["answered"] else float("nan")
        records.append(record)
    table = pd.DataFrame.from_records(records).set_index("variant")
    table.attrs["dtmf"] = bool(dtmf.any()) or app == "dtmf"
    tests, verdicts = _tests(table, names)
    return ABReport(table=table, tests=tests, verdicts=verdicts, campaign=name)


def _tests(table: Any, names: list[str]) -> tuple[Any, list[str]]:
    import pandas as pd

    records, verdicts = [], []
    metrics = [m for m in AB_METRICS if m[0] != "dtmf_valid" or table.attrs.get("dtmf")]
    if len(names) < 2:
        verdicts.append("one variant only: nothing to compare (the holdout is never called)")
    for v in names[1:]:
        base = names[0]
        for metric, words in metrics:
            a, b = table.loc[v], table.loc[base]
            z, p = two_proportion_test(int(a[metric]), int(a["calls"]), int(b[metric]), int(b["calls"]))
            difference = a[f"{metric}_rate"] - b[f"{metric}_rate"]
            significant = bool(p == p and p < ALPHA)
            records.append({"variant": v, "baseline": base, "metric": metric, "difference": difference, "z": z,
                            "p_value": p, "significant": significant})
            head = (f"{v} {words} {_pct(a[f'{metric}_rate'])} of its calls (95% CI {_pct(a[f'{metric}_low'])}-"
                    f"{_pct(a[f'{metric}_high'])}) against {base}'s {_pct(b[f'{metric}_rate'])} "
                    f"({_pct(b[f'{metric}_low'])}-{_pct(b[f'{metric}_high'])})")
            if p != p:
                verdicts.append(f"{head}: no test possible (no calls, or every call alike)")
            elif significant:
                verdicts.append(f"{head}: a difference of {difference * 100:+.1f} points, significant (p = {p:.2g})")
            else:
                verdicts.append(f"{head}: a difference of {difference * 100:+.1f} points, not significant "
                                f"(p = {p:.2f}): these calls cannot tell the variants apart.")
    tests = pd.DataFrame.from_records(records, columns=["variant", "baseline", "metric", "difference", "z", "p_value",
                                                        "significant"])
    tests.attrs["baseline"] = names[0] if names else None
    return tests, verdicts
