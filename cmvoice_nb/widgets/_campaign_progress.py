"""The Campaign app's run line: a progress bar, the counts beside it, the pace and the live outcomes.

Updated from the send's monitor thread: only trait assignments, which are safe from a thread.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as W

from ._campaign_ends import outcome_bars, pace_text
from ._campaign_facts import render_counts, render_running


class RunProgress(W.VBox):
    """``progress`` (an ``IntProgress``), ``counts`` (HTML), ``pace`` (calls/s, time left), ``outcomes`` (a chart)."""

    def __init__(self, *, style: dict | None = None) -> None:
        self.progress = W.IntProgress(value=0, min=0, max=1, description="Progress",
                                      style=style or {"description_width": "8em"}, layout=W.Layout(width="30em"))
        self.counts = W.HTML("")
        self.pace = W.HTML("")
        self.pace.add_class("cmvoice-pace")
        self.outcomes = W.HTML("")
        super().__init__([W.HBox([self.progress, self.counts]), self.pace, self.outcomes])

    def clear(self, *, rows: int = 1, style: str = "") -> None:
        """An empty bar over *rows* (in *style*), no counts, no pace, no outcomes."""
        self.counts.value = self.pace.value = self.outcomes.value = ""
        self.progress.max = max(1, rows)
        self.progress.value = 0
        self.progress.bar_style = style

    def running(self, progress: Mapping[str, int], wait_text: str = "", *,
                samples: Sequence[tuple[float, int]] = (), rate: float | None = None) -> None:
        """Show a running sender's :attr:`~cmvoice_nb.campaign.CampaignSender.progress` and its pace."""
        self.progress.max = max(1, int(progress.get("to_send", 0)))
        self.progress.value = min(self.progress.max, int(progress.get("sent", 0)))
        self.counts.value = render_running(progress, wait_text)
        if rate is not None:
            self.pace.value = pace_text(list(samples), to_send=int(progress.get("to_send", 0)), rate=rate,
                                        waiting=int(progress.get("waiting", 0)))

    def show_outcomes(self, counts: Mapping[str, int]) -> None:
        """Draw the outcomes of the run's calls so far (nothing until a callback arrived)."""
        self.outcomes.value = outcome_bars(counts)

    def finished(self, counts: Mapping[str, int], *, to_send: int, end: Any, failed: bool = False) -> None:
        """Show a finished run's honest counts; the bar is filled from them, in its end state's colour."""
        self.counts.value = render_counts(counts)
        self.pace.value = ""
        self.progress.max = max(1, to_send)
        self.progress.value = self.progress.max if to_send == 0 else max(0, to_send - counts.get("stopped", 0))
        self.progress.bar_style = "danger" if failed else end.bar_style

    def ended(self, end: Any) -> None:
        """Show a run that sent nothing (its end state): an empty bar, never green."""
        self.clear()
        self.progress.bar_style = end.bar_style if end.kind != "finished" else ""
        self.counts.value = ""


__all__ = ["RunProgress"]
