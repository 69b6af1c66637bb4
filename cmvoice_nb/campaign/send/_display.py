"""How a :class:`~cmvoice_nb.campaign.CampaignSender` shows itself: one line, and a notebook's table."""
from __future__ import annotations

import html

from ..vocabulary import RESULT_STATUSES

__all__ = ["SenderDisplay"]


class SenderDisplay:
    """The sender's ``repr`` and ``_repr_html_`` (a part of :class:`~cmvoice_nb.campaign.CampaignSender`)."""

    def __repr__(self) -> str:
        p = self.progress
        state = "running" if self.running else ("done" if self.done else "not started")
        counts = " ".join(f"{k}={p[k]}" for k in RESULT_STATUSES if p[k])
        return f"<CampaignSender {self.plan.name!r} {state} sent={p['sent']}/{p['to_send']} {counts}>"

    def _repr_html_(self) -> str:
        import pandas as pd

        from ..._tables import to_html

        p = self.progress
        state = "running" if self.running else ("done" if self.done else "not started")
        # The totals always, the statuses only where something happened.
        shown = {k: v for k, v in p.items() if v or k in ("total", "to_send", "sent")}
        counts = to_html(pd.DataFrame([shown]), caption=f"Campaign {self.plan.name} — {state}", failures_first=False)
        summary = f"<pre class='cmvoice-summary'>{html.escape(self.summary())}</pre>" if self.done else ""
        results = self.results
        head = to_html(results, max_rows=10, caption=f"Results ({len(results)} rows, rows needing attention first)")
        return f"<div>{counts}{summary}{head}</div>"
