"""``df.cmvoice``: a thin pandas namespace over :func:`plan_campaign` and :func:`send_campaign`.

Registered when :mod:`cmvoice_nb.campaign` is imported (``import cmvoice_nb.campaign``, or
the first use of ``cmvoice_nb.plan_campaign`` / ``cmvoice_nb.send_campaign``): pandas
accessors are global, so registering one is a side effect we only take on request.

Examples
--------
>>> import pandas as pd, cmvoice_nb.campaign
>>> df = pd.DataFrame({"callee": ["+31612345610"]})
>>> plan = df.cmvoice.plan(app="notification", name="demo",
...                        defaults={"caller": "+31201234567", "prompt": "Hi", "prompt-type": "TTS"})
>>> int(plan.summary()["valid"])
1
"""
from __future__ import annotations

from typing import Any

import pandas as pd

from .plan import CampaignPlan, plan_campaign
from .send import send_campaign

__all__ = ["CMVoiceAccessor"]


@pd.api.extensions.register_dataframe_accessor("cmvoice")
class CMVoiceAccessor:
    """``df.cmvoice.plan(...)`` and ``df.cmvoice.send(client, ...)``; the DataFrame is never modified."""

    def __init__(self, df: pd.DataFrame) -> None:
        self._df = df

    def plan(self, **options: Any) -> CampaignPlan:
        """``plan_campaign(df, **options)``."""
        return plan_campaign(self._df, **options)

    def send(self, client: Any, **options: Any) -> pd.DataFrame:
        """``send_campaign(df, client, **options)``: planning and sending options together."""
        return send_campaign(self._df, client, **options)

    def __repr__(self) -> str:
        return f"<cmvoice accessor over a DataFrame of {len(self._df)} rows: .plan(...), .send(client, ...)>"
