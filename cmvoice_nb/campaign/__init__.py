"""Campaigns: bulk-send instructions from DataFrames — validated, paced, resumable, never twice.

* :func:`plan_campaign` — rows → instructions, problems, duplicates, stable ids, audio preflight.
* :func:`send_campaign` — paced, bounded, journaled sending; :class:`CampaignSender` for the
  background version with ``start()``/``stop()``/``wait()``/``progress``.
* :class:`Journal` — the SQLite (WAL) ledger that makes re-runs and crashes safe.
* :class:`TokenBucket` — the pacing.

Importing this package registers the ``df.cmvoice`` pandas accessor.
"""
from __future__ import annotations

from . import accessor as _accessor  # noqa: F401 - registers df.cmvoice
from .journal import Journal, instruction_hash
from .pacing import TokenBucket
from .plan import CampaignPlan, derive_instruction_id, plan_campaign, render_template
from .send import (
    RESULT_COLUMNS,
    CampaignSender,
    RetryPolicy,
    SendJob,
    classify_error,
    results_to_csv,
    send_campaign,
)

__all__ = [
    "CampaignPlan",
    "CampaignSender",
    "Journal",
    "RESULT_COLUMNS",
    "RetryPolicy",
    "SendJob",
    "TokenBucket",
    "classify_error",
    "derive_instruction_id",
    "instruction_hash",
    "plan_campaign",
    "render_template",
    "results_to_csv",
    "send_campaign",
]
