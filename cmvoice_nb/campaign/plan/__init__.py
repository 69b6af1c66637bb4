"""Plan a campaign: DataFrame rows → validated instructions, problems and stable ids.

Nothing here sends anything or touches the network. :func:`plan_campaign` maps columns
to contract fields, fills per-row templates (:mod:`~cmvoice_nb.campaign.plan.templates`, with
dates and amounts read per column by :mod:`~cmvoice_nb.campaign.plan.values`), normalises phone
numbers, validates every row against :mod:`cmvoice_nb.spec`, derives a stable
``instruction-id`` per row, reports duplicated callees and, given a local mirror of the uploaded
audio, checks every ``File`` prompt and every ``Custom`` OTP spelling set. The input DataFrame is
never modified, and the :class:`CampaignPlan` returned does not change: its rows are frozen
:class:`RowPlan`. A list is planned by column (numbers, templates, ids) and its rows are held as
columns, each row a view made when asked for: a row's payload bytes are made from those frozen
columns (the same bytes every time), its hash is computed once.

Instruction ids
---------------
A row's id comes from its ``instruction-id`` column when it has one (the user's own id,
used as given). Otherwise it is derived, and derived ids do not depend on row positions::

    <campaign name>-<campaign key>-<callee digits>-<occurrence>
    spring-7f3a9c2d-31612345610-1

* the **campaign key** is the random key the journal drew when it was created
  (:attr:`cmvoice_nb.campaign.Journal.campaign_key`): two campaigns with the same name
  on different journals never share an id, and re-runs on the same journal derive the
  same ids. A plan made without a journal gets a fresh provisional key;
  :func:`~cmvoice_nb.campaign.send_campaign` re-keys it to the journal's key.
* the **content key** is the normalised callee as digits (``+31 6 1234 5610`` and
  ``0612345610`` with region NL are both ``31612345610``) and its **occurrence** among the
  rows with the same callee (1 for the first). Inserting, deleting or reordering other
  rows moves nobody's id.

Ids are at most 64 characters (the contract's limit): a long campaign name is cut and
keeps a short hash of the full name; a long content key (many callees) becomes a hash.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"phone": ["+31612345610", "06 1234 5611"], "name": ["Ann", "Bob"]})
>>> plan = plan_campaign(df, app="notification", name="demo", region="NL",
...                      columns={"callee": "phone"},
...                      defaults={"caller": "+31201234567", "prompt": "Hello {name}", "prompt-type": "TTS"})
>>> int(plan.summary()["valid"])
2
>>> plan.instructions.iloc[1].to_json()["prompt"]
'Hello Bob'
"""
from __future__ import annotations

from ._api import plan_campaign
from ._ids import content_key, derive_instruction_id, new_campaign_key
from ._mapping import ROW_KEYS, propose_columns
from ._plan import PROBLEM_COLUMNS, CampaignPlan
from ._rows import RowPlan, without_cycle_collection
from ._variants import HOLDOUT, assign, design_conflict, parse_seed, parse_variants
from .templates import TemplateError, render_template, template_columns

__all__ = [
    "plan_campaign",
    "CampaignPlan",
    "RowPlan",
    "content_key",
    "derive_instruction_id",
    "new_campaign_key",
    "render_template",
    "template_columns",
    "TemplateError",
    "PROBLEM_COLUMNS",
    "ROW_KEYS",
    "propose_columns",
    "without_cycle_collection",
    "HOLDOUT",
    "assign",
    "parse_variants",
    "parse_seed",
    "design_conflict",
]
