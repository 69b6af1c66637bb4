"""The Campaign app's run line: a progress bar and the counts beside it, fed by a running sender.

Updated from the send's monitor thread: only trait assignments, which are safe from a thread.
"""
from __future__ import annotations

from collections.abc import Mapping

import ipywidgets as W

from ._campaign_facts import render_counts, render_running


class RunProgress(W.HBox):
    """``progress`` (an ``IntProgress``) and ``counts`` (HTML) of the current or last run."""

    def __init__(self, *, style: dict | None = None) -> None:
        self.progress = W.IntProgress(value=0, min=0, max=1, description="Progress",
                                      style=style or {"description_width": "8em"}, layout=W.Layout(width="30em"))
        self.counts = W.HTML("")
        super().__init__([self.progress, self.counts])

    def clear(self, *, rows: int = 1, style: str = "") -> None:
        """An empty bar over *rows* (in *style*) and no counts."""
        self.counts.value = ""
        self.progress.max = max(1, rows)
        self.progress.value = 0
        self.progress.bar_style = style

    def running(self, progress: Mapping[str, int], wait_text: str = "") -> None:
        """Show a running sender's :attr:`~cmvoice_nb.campaign.CampaignSender.progress`."""
        self.progress.max = max(1, int(progress.get("to_send", 0)))
        self.progress.value = min(self.progress.max, int(progress.get("sent", 0)))
        self.counts.value = render_running(progress, wait_text)

    def finished(self, counts: Mapping[str, int], *, to_send: int, failed: bool, stopped: bool) -> None:
        """Show a finished run's honest counts; the bar is filled from them.

        Every row this run had to send that got an outcome counts as done; the bar is red after
        an error, amber when rows were left unsent by a stop, green otherwise.
        """
        self.counts.value = render_counts(counts)
        self.progress.max = max(1, to_send)
        self.progress.value = self.progress.max if to_send == 0 else max(0, to_send - counts.get("stopped", 0))
        self.progress.bar_style = "danger" if failed else ("warning" if stopped or counts.get("stopped") else "success")


__all__ = ["RunProgress"]
