"""Follow-up waves: call again, once per wave, the people whose last call was not answered.

:func:`plan_followup` reads a campaign's journal (every attempt, with the exact JSON it
sent) and its callbacks, and plans the next wave: each row whose **latest** attempt ended in
one of ``outcomes`` (``Cancelled``, ``Failed`` by default), that has had fewer than
``max_attempts`` calls, and whose latest call ended at least ``min_gap`` ago. The plan is an
ordinary :class:`~cmvoice_nb.campaign.CampaignPlan`: :func:`~cmvoice_nb.campaign.send_campaign`
sends it through the same journal, paced, and never twice.

Each attempt has its own instruction id, derived from the row's id and the wave
(``<id>-w2``, see :func:`~cmvoice_nb.wire.wave_instruction_id`), so callbacks map to
the right attempt and the journal allows one call per row per wave. A wave cut short (Ctrl-C,
``kill -9``) resumes by planning again: rows of the unfinished wave that were not sent are
planned again under the same id; rows in flight at the crash are ``unknown`` and left out.

Rows left out are listed in :attr:`CampaignPlan.left_out` with one reason each
(:data:`LEFT_OUT_REASONS`) and counted by :meth:`CampaignPlan.left_out_summary`.

The package: :mod:`.decide` (who goes in the next wave and why the others do not: pure) and
``_api`` (:func:`plan_followup`: reads the journal and the callbacks, builds the plan).
"""
from __future__ import annotations

from ._api import LEFT_OUT_COLUMNS, plan_followup
from .decide import LEFT_OUT_REASONS

__all__ = ["plan_followup", "LEFT_OUT_REASONS", "LEFT_OUT_COLUMNS"]
