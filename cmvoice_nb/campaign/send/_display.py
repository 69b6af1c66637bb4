"""How a :class:`~cmvoice_nb.campaign.CampaignSender` shows itself: one line, a notebook's table, its report."""
from __future__ import annotations

import html
from typing import TYPE_CHECKING

from ..results import needs_attention, results_exit_status, summarize_results
from ..vocabulary import EXIT_ACT, RESULT_STATUSES

if TYPE_CHECKING:
    import pandas as pd

    from ..plan import CampaignPlan

__all__ = ["SenderDisplay"]


class SenderDisplay:
    """The sender's ``repr``, ``_repr_html_`` and report (a part of :class:`~cmvoice_nb.campaign.CampaignSender`)."""

    if TYPE_CHECKING:  # what the sender provides
        plan: CampaignPlan
        error: BaseException | None
        stop_class: int | None
        stop_reason: str | None
        already_done: int
        front: str

        @property
        def running(self) -> bool: ...
        @property
        def done(self) -> bool: ...
        @property
        def progress(self) -> dict[str, int]: ...
        @property
        def results(self) -> pd.DataFrame: ...

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

    # --------------------------------------------------------------- report
    @property
    def needs_attention(self) -> bool:
        """True when some row needs the operator or a later run (invalid, failed, unknown, ...) or the run stopped."""
        return self.error is not None or needs_attention(self.results)

    @property
    def exit_status(self) -> int:
        """The run's exit status by the status table: 75 (run again later), 1 (act) or 0 (see
        :func:`~cmvoice_nb.campaign.vocabulary.exit_status`); 1 when the run failed unexpectedly."""
        if self.error is not None and self.stop_class is None:
            return EXIT_ACT  # the journal failed, or a bug: the operator must look
        return results_exit_status(self.results, stop=self.stop_class)

    def summary(self, *, examples: int = 3) -> str:
        """The end-of-run summary (see :func:`summarize_results`) in the words of the sender's front."""
        return summarize_results(self.results, already_done=self.already_done, front=self.front,
                                 stop_reason=self.stop_reason, examples=examples, id_column=self.plan.id_column)
