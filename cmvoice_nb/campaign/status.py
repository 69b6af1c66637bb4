"""Where a campaign stands, from its journal: :func:`campaign_status` (``cmvoice status``).

Nothing is sent and no list is read: the journal holds every attempt of every wave, the rows held
back (``suppressed``, ``deferred`` with their window's opening, ``budget``), the cost placed so
far and each run's counts and exit status. With the callback logs it also says how many people
were reached per wave; with a price table, what the answered calls cost.

:func:`journal_results` is the journal as a results frame (one row per attempt, every wave, with
the operator's kept columns): the campaign's truth for :func:`~cmvoice_nb.campaign.write_report`
too.

Examples
--------
>>> import pathlib, tempfile, pandas as pd, cmvoice_nb as cm
>>> journal = pathlib.Path(tempfile.mkdtemp()) / "j.sqlite"
>>> with cm.Simulator() as sim:
...     _ = cm.send_campaign(pd.DataFrame({"callee": ["+31612345610", "+31612345611"]}), sim.client(),
...                          journal=journal, app="notification", name="spring", rate=50, progress=False,
...                          defaults={"caller": "+31201234567", "prompt": "Hi", "prompt-type": "TTS"})
>>> status = campaign_status(journal)
>>> status.campaigns[0]["states"], status.campaigns[0]["last_run"]["exit"]
({'queued': 2}, 0)
"""
from __future__ import annotations

import math
import os
from typing import Any

from ..errors import CampaignError
from ..spec import iso_utc
from .journal import Journal
from .vocabulary import JOURNAL_STATES, count_line

__all__ = ["CampaignStatus", "campaign_status", "journal_results"]


def journal_results(journal: Journal, campaign: str):
    """Every attempt the journal holds for *campaign*, every wave, as a results frame (``state`` → ``status``).

    Columns as :func:`~cmvoice_nb.campaign.results.results_frame` has them where the journal knows
    them (``instruction_id``, ``callee``, ``status``, ``http_status``, ``call_ids``, ``error``,
    ``attempts``, ``sent_at``, ``wave``), plus ``updated_at``, ``row`` (the row's label in the operator's list),
    ``base_id`` (the row: its wave-1 id) and the operator's kept columns (``keep=``).
    """
    import pandas as pd

    frame = journal.to_frame(campaign)
    out = pd.DataFrame({
        "instruction_id": frame["instruction_id"].astype("string"),
        "row": frame["row_label"].astype("string"),
        "base_id": frame["base_id"].fillna(frame["instruction_id"]).astype("string"),
        "callee": frame["callee"].astype("string"),
        "status": frame["state"].astype("string"),
        "http_status": frame["http_status"],
        "call_ids": frame["call_ids"].astype("string"),
        "error": frame["error"].astype("string"),
        "attempts": frame["attempts"].astype("Int64"),
        "sent_at": pd.to_datetime(frame["sent_at"], utc=True, errors="coerce", format="ISO8601"),
        "wave": frame["wave"].astype("Int64"),
        "updated_at": pd.to_datetime(frame["updated_at"], utc=True, errors="coerce", format="ISO8601"),
    })
    kept = journal.kept(campaign)
    for column in kept.columns:
        name = column if column not in out.columns else f"{column} (list)"
        out[name] = out["base_id"].map(kept[column].to_dict()).astype(object)
    return out


class CampaignStatus:
    """Where the campaigns of one journal stand (see :func:`campaign_status`).

    Attributes
    ----------
    journal
        The journal's path.
    campaigns
        One dict per campaign: ``name``, ``app``, ``created_at``, ``rows`` (rows of the list the
        journal knows), ``states`` (attempts per journal state), ``waves`` (per wave: ``wave``,
        ``states``, and with callbacks ``called``, ``answered``, ``reached`` people so far and
        ``reach``), ``deferred`` (rows waiting for calling hours: ``rows``, ``opens`` — the first
        known opening — and ``no_zone``, those without one), ``budget`` (rows waiting past the
        budget), ``expired`` (rows not placed within their validity window), ``window_ended`` (rows
        still waiting whose window has ended by now), ``over_contacted`` (rows the contact cap
        refused), ``spent`` (the upper-bound cost placed so far, from the journal), ``cost`` (with
        callbacks and prices: ``answered``, ``minutes``, ``cost``, ``unpriced``), ``last_activity``
        and ``last_run`` (``wave``, ``started_at``, ``ended_at``, ``counts``, ``exit``).
    """

    def __init__(self, journal: str, campaigns: list[dict[str, Any]]) -> None:
        self.journal = journal
        self.campaigns = campaigns

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain JSON-able values (``cmvoice status --json``)."""
        return {"journal": self.journal, "campaigns": self.campaigns}

    def to_text(self) -> str:
        """The status for a terminal: one block per campaign."""
        n = len(self.campaigns)
        lines = [f"journal {self.journal}: {n} campaign{'s' if n != 1 else ''}"]
        for c in self.campaigns:
            lines.append(f"campaign {c['name']!r} ({c['app']}), created {c['created_at']}, last activity "
                         f"{c['last_activity'] or '-'}")
            lines.append(f"  {c['rows']} rows; attempts: {_states(c['states'])}")
            for w in c["waves"]:
                text = f"  wave {w['wave']}: {_states(w['states'])}"
                if "answered" in w:
                    reach = f" ({w['reach']:.0%} of {c['people']} people called)" if w["reach"] is not None else ""
                    text += (f"; {w['answered']} of {w['called']} calls answered; reached so far: "
                             f"{w['reached']} people{reach}")
                lines.append(text)
            d = c["deferred"]
            if d["rows"]:
                opens = f"; the first window opens {d['opens']}" if d["opens"] else ""
                zone = f"; {d['no_zone']} without a known time zone (--tz names it)" if d["no_zone"] else ""
                lines.append(f"  deferred: {d['rows']} row(s) wait for their calling hours{opens}{zone}")
            if c["budget"]:
                lines.append(f"  budget: {c['budget']} row(s) wait past the budget (--max-cost)")
            if c["expired"]:
                lines.append(f"  expired: {c['expired']} row(s) not placed within their validity window (final)")
            if c["window_ended"]:
                lines.append(f"  window ended: {c['window_ended']} row(s) still waiting whose validity window has "
                             "ended: never sent; the next run ends them expired")
            if c["over_contacted"]:
                lines.append(f"  over-contacted: {c['over_contacted']} row(s) refused by the contact cap "
                             "(--max-contacts; final until the period passes)")
            if c["spent"]:
                lines.append(f"  placed so far, at most: {c['spent']:,.2f} (each call at its upper bound)")
            cost = c.get("cost")
            if cost is not None:
                unpriced = f" (no price for {', '.join(cost['unpriced'])})" if cost["unpriced"] else ""
                lines.append(f"  cost so far: {cost['cost']:,.4f} for {cost['minutes']:.2f} talk minutes of "
                             f"{cost['answered']} answered calls (callbacks x prices){unpriced}")
            run = c["last_run"]
            if run is not None:
                lines.append(f"  last run: wave {run['wave']}, ended {run['ended_at']}, exit status {run['exit']}: "
                             f"{count_line(run['counts'])}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<CampaignStatus {self.journal}: {', '.join(repr(c['name']) for c in self.campaigns) or 'empty'}>"

    def _repr_html_(self) -> str:
        import html

        return f"<pre class='cmvoice-status'>{html.escape(self.to_text())}</pre>"


def _states(states: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in states.items()) or "none"


def _ordered(counts: dict[str, int]) -> dict[str, int]:
    return {s: int(counts[s]) for s in JOURNAL_STATES if counts.get(s)} | \
        {s: int(n) for s, n in counts.items() if s not in JOURNAL_STATES and n}


def campaign_status(journal: str | os.PathLike | Journal, callbacks: Any = None, prices: Any = None, *,
                    campaign: str | None = None) -> CampaignStatus:
    """Where the campaigns of *journal* stand: rows per state and wave, waits, cost, reach, the last run.

    Parameters
    ----------
    journal
        The journal (path or :class:`~cmvoice_nb.campaign.Journal`); a path that does not exist is
        an error (nothing is created).
    callbacks
        The campaigns' callback logs (anything :func:`~cmvoice_nb.callbacks.load_callbacks` takes,
        or a loaded frame): adds the people reached per wave.
    prices
        A price table (see :func:`~cmvoice_nb.campaign.ops.estimate.read_prices`): with
        *callbacks*, adds what the answered calls cost (their actual talk time x the prices).
    campaign
        Only this campaign (default: every campaign of the journal).

    Raises
    ------
    CampaignError
        No such journal file, or no such campaign.
    JournalError
        The journal is unusable; :class:`~cmvoice_nb.errors.JournalBusy` while a send holds it.
    """
    from .journal import opened_journal, pick_campaign

    with opened_journal(journal, error=CampaignError) as open_journal:
        calls = None
        if callbacks is not None:
            from ..callbacks import calls_frame, load_callbacks

            calls = calls_frame(callbacks) if hasattr(callbacks, "columns") else load_callbacks(callbacks, warn=False)
        # Every campaign unless one is named (a status of all is what the operator usually asks for).
        names = list(open_journal.campaigns()) if campaign is None else \
            [pick_campaign(open_journal, campaign, error=CampaignError)]
        found = [_one(open_journal, name, calls, prices) for name in names]
        return CampaignStatus(str(open_journal.path), found)


def _one(journal: Journal, name: str, calls: Any, prices: Any) -> dict[str, Any]:
    results = journal_results(journal, name)
    waits = journal.waits(name)
    runs = journal.runs(name)
    states = _ordered(results["status"].value_counts().to_dict())
    waves = []
    for wave, part in results.groupby("wave", sort=True):
        waves.append({"wave": int(wave), "states": _ordered(part["status"].value_counts().to_dict())})
    deferred_ids = set(results.loc[results["status"] == "deferred", "instruction_id"].tolist())
    last = waits[waits["instruction_id"].isin(deferred_ids)].groupby("instruction_id").tail(1)
    opens = sorted(u for u in last["until"].tolist() if isinstance(u, str) and u)
    times = results["updated_at"].dropna().tolist()
    activity = max([iso_utc(t.to_pydatetime()) for t in times] + [r["ended_at"] for r in runs], default=None)
    out: dict[str, Any] = {
        "name": name, "app": journal.campaigns()[name], "created_at": journal.created_at(name),
        "rows": int(results["base_id"].nunique()), "states": states, "waves": waves,
        "deferred": {"rows": len(deferred_ids), "opens": opens[0] if opens else None,
                     "no_zone": int(sum(1 for u in last["until"].tolist() if not isinstance(u, str) or not u))},
        "budget": int((results["status"] == "budget").sum()), "spent": journal.spent(name),
        "expired": int((results["status"] == "expired").sum()),
        "over_contacted": int((results["status"] == "over-contacted").sum()),
        "window_ended": _window_ended(journal, name, results),
        "last_activity": activity, "last_run": runs[-1] if runs else None, "cost": None,
    }
    if calls is not None:
        _reach(out, results, calls, journal, name)
        if prices is not None:
            out["cost"] = _cost(results, calls, prices)
    return out


def _window_ended(journal: Journal, name: str, results: Any) -> int:
    """Rows not placed yet whose validity window (stored in the journal) has ended by now."""
    import datetime as _dt

    from .vocabulary import UNPLACED_STATES

    ends = journal.validity(name)
    if not ends:
        return 0
    now = _dt.datetime.now(_dt.timezone.utc)
    waiting = results.loc[results["status"].isin(UNPLACED_STATES), "instruction_id"].tolist()
    return sum(1 for iid in waiting if iid in ends and ends[iid] <= now)


def _reach(out: dict[str, Any], results: Any, calls: Any, journal: Journal, name: str) -> None:
    from .funnel import reach_by_wave

    table = reach_by_wave(journal, calls, campaign=name)
    out["people"] = int(table.attrs.get("people", 0))
    for w in out["waves"]:
        if w["wave"] in table.index:
            r = table.loc[w["wave"]]
            w.update(called=int(r["called"]), answered=int(r["answered"]), reached=int(r["answered_cumulative"]),
                     reach=None if math.isnan(r["reach_cumulative"]) else float(r["reach_cumulative"]))


def _cost(results: Any, calls: Any, prices: Any) -> dict[str, Any]:
    from .funnel import funnel
    from .ops.estimate import talk_costs

    own = funnel(results, calls).calls
    table = talk_costs(own, prices)
    unpriced = [str(c) for c in table.index[table["cost"].isna()] if c != "total"]
    total = table.loc["total"]
    return {"answered": int(total["answered"]), "minutes": float(total["minutes"]), "cost": float(total["cost"]),
            "unpriced": unpriced}
