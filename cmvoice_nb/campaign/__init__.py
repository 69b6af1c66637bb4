"""Campaigns: bulk-send instructions from DataFrames — validated, paced, resumable, never twice.

* :func:`plan_campaign` — rows → instructions, problems, duplicates, stable ids, audio preflight.
* :func:`plan_followup` — the next wave: call again, once, whoever did not answer.
* :func:`send_campaign` — paced, bounded, journaled sending; :class:`CampaignSender` for the
  background version with ``start()``/``stop()``/``wait()``/``progress``; :func:`forecast` —
  what a run would do with each row now, counted as every front-end counts it.
* :func:`load_results` — a results file read back with the types :func:`send_campaign` returns.
* :func:`funnel`, :func:`reach_by_wave`, :func:`write_report` — the results joined with their
  callbacks: sent → queued → callback received → answered, reach per follow-up wave, the HTML report.
* :func:`ab_report` — an A/B test of prompt variants (``variants=``, ``holdout=``): each variant's
  rates with confidence intervals, and whether the differences are significant.
* :func:`campaign_status` — where a campaign stands, from its journal (``cmvoice status``).
* :class:`Journal` — the SQLite (WAL) ledger that makes re-runs and crashes safe.
* :class:`TokenBucket` — the pacing.

Importing this package registers the ``df.cmvoice`` pandas accessor.
"""
from __future__ import annotations

from ..wire import instruction_hash, wave_instruction_id
from . import accessor as _accessor  # noqa: F401 - registers df.cmvoice
from .abtest import ABReport, ab_report
from .followup import LEFT_OUT_REASONS, plan_followup
from .funnel import Funnel, funnel, reach_by_wave, scope_results
from .journal import Journal
from .plan import CampaignPlan, content_key, derive_instruction_id, plan_campaign, propose_columns, render_template
from .report import not_reached, render_report, write_report
from .results import RESULT_COLUMNS, load_results, results_frame, results_to_csv, summarize_results
from .send import (
    CampaignSender,
    Forecast,
    RetryPolicy,
    SendOptions,
    TokenBucket,
    classify_error,
    forecast,
    send_campaign,
)
from .status import CampaignStatus, campaign_status
from .vocabulary import ATTENTION_STATUSES, RESULT_STATUSES

__all__ = [
    "ABReport",
    "ATTENTION_STATUSES",
    "CampaignPlan",
    "CampaignSender",
    "CampaignStatus",
    "Forecast",
    "Funnel",
    "Journal",
    "LEFT_OUT_REASONS",
    "RESULT_COLUMNS",
    "RESULT_STATUSES",
    "RetryPolicy",
    "SendOptions",
    "TokenBucket",
    "ab_report",
    "campaign_status",
    "classify_error",
    "content_key",
    "derive_instruction_id",
    "forecast",
    "funnel",
    "instruction_hash",
    "load_results",
    "not_reached",
    "plan_campaign",
    "plan_followup",
    "propose_columns",
    "reach_by_wave",
    "render_report",
    "render_template",
    "results_frame",
    "results_to_csv",
    "scope_results",
    "send_campaign",
    "summarize_results",
    "wave_instruction_id",
    "write_report",
]
