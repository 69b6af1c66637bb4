"""The Campaign app's operations panel: calling hours, the do-not-call list, allowed countries, prices.

:class:`OperationsPanel` holds the controls and says what they stand for, as the library's
keywords: :meth:`~OperationsPanel.send_options` for
:class:`~cmvoice_nb.campaign.CampaignSender` (``calling_hours``, ``days``, ``wait``),
:meth:`~OperationsPanel.suppression` and :meth:`~OperationsPanel.allowed` for
:func:`~cmvoice_nb.campaign.plan_campaign`, :meth:`~OperationsPanel.prices_path` for the
estimate. An uploaded do-not-call list is read at once and its bytes are dropped from the
widget state, so they never end up in a saved notebook.
"""
from __future__ import annotations

import html
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as W

from ..messages import OPTIONS
from ._campaign_facts import merged_suppression, read_upload
from ._common import MUTED, WARN


def _label(key: str) -> str:
    """A control's label: the option's spelling in the app (:data:`cmvoice_nb.messages.OPTIONS`), which
    is also how every message names it."""
    return OPTIONS[key].widget or OPTIONS[key].python


class OperationsPanel(W.VBox):
    """When to call, whom never to call, where calls may go and what they cost.

    Parameters
    ----------
    region
        Returns the region national numbers of a do-not-call list are read in (the app's
        ``region`` control, read when a list is read).
    calling_hours, days, wait, suppress, allowed_countries, prices
        The initial values (see :class:`~cmvoice_nb.widgets.Campaign`).
    style
        The ``description_width`` style of the app's controls.
    """

    def __init__(self, *, region: Callable[[], str | None], calling_hours: str | None = None,
                 days: str = "mon-fri", wait: bool = True, suppress: str | os.PathLike | None = None,
                 allowed_countries: str | None = None, prices: str | os.PathLike | None = None,
                 style: dict | None = None) -> None:
        super().__init__()
        style = style or {"description_width": "8em"}
        self._region = region
        self.calling_hours = W.Text(value=calling_hours or "", description=_label("calling_hours"), style=style,
                                    placeholder="e.g. 09:00-20:00 (empty: any time)", layout=W.Layout(width="30em"),
                                    tooltip="the window each row is called in, in the callee's local time")
        self.days = W.Text(value=days or "", description=_label("days"), style=style, placeholder="mon-fri",
                           layout=W.Layout(width="16em"), tooltip="mon-fri, sat-sun, mon,wed,fri or all")
        self.wait_for_hours = W.Checkbox(value=bool(wait), description="Wait for calling hours", indent=False,
                                         layout=W.Layout(width="auto"),
                                         tooltip="ticked: rows outside their hours wait; unticked: they end "
                                                 "'deferred' and a later Send sends them")
        self.allowed_countries = W.Text(value=allowed_countries or "",
                                        description=_label("allowed_countries"), style=style,
                                        placeholder="e.g. NL,BE (empty: any)", layout=W.Layout(width="30em"),
                                        tooltip=OPTIONS["allowed_countries"].help)
        self.suppress = W.Text(value="" if suppress is None else os.fspath(suppress), description=_label("suppress"),
                               style=style, placeholder="CSV/TXT path of numbers never to call",
                               layout=W.Layout(width="32em"))
        self.suppress_upload = W.FileUpload(accept=".csv,.txt", multiple=False, description="Upload list",
                                            layout=W.Layout(width="11em"))
        self.suppress_info = W.HTML()
        self.prices = W.Text(value="" if prices is None else os.fspath(prices), description=_label("prices"),
                             style=style, placeholder="CSV country,price_per_minute[,setup] (optional)",
                             layout=W.Layout(width="40em"))
        #: The do-not-call list read from the last upload, or None.
        self.uploaded_suppression: Any = None
        self.children = [
            W.HBox([self.calling_hours, self.days, self.wait_for_hours]),
            W.HBox([self.allowed_countries]),
            W.HBox([self.suppress, self.suppress_upload]),
            self.suppress_info,
            W.HBox([self.prices]),
        ]

    @property
    def controls(self) -> list[W.Widget]:
        """The inputs (disabled together while the app works)."""
        return [self.calling_hours, self.days, self.wait_for_hours, self.allowed_countries, self.suppress,
                self.suppress_upload, self.prices]

    def send_options(self) -> dict[str, Any]:
        """The calling-hours keywords of :class:`~cmvoice_nb.campaign.CampaignSender` (empty: any time)."""
        hours = self.calling_hours.value.strip() or None
        if hours is None:
            return {}
        return {"calling_hours": hours, "days": self.days.value.strip() or "mon-fri",
                "wait": bool(self.wait_for_hours.value)}

    def prices_path(self) -> str | None:
        """The price table typed in ``prices``, or None."""
        return self.prices.value.strip() or None

    def allowed(self) -> str | None:
        """The allowed countries typed (``"NL,BE"``), or None for any."""
        return self.allowed_countries.value.strip() or None

    def take_upload(self) -> None:
        """Read the uploaded list (the last file), then drop its bytes from the widget state."""
        files = list(self.suppress_upload.value or ())
        if not files:
            return
        entry = files[-1]
        name = Path(str(entry.get("name") or "upload.csv")).name  # only the base name, never a path to write
        data = bytes(entry.get("content") or b"")
        # The uploaded bytes live in the widget state (and so in a saved notebook): drop them now.
        self.suppress_upload.value = ()
        self.uploaded_suppression = read_upload(name, data, region=self._region())
        dnc = self.uploaded_suppression
        colour = WARN if dnc.unreadable else MUTED
        self.suppress_info.value = (f"<span style='color:{colour}'>uploaded "
                                    f"{html.escape(dnc.report(limit=3)).replace(chr(10), '<br>')}</span>")

    def suppression(self) -> Any:
        """The do-not-call list for the next plan: the ``suppress`` path, the upload, both (merged), or None."""
        from ..campaign.ops.suppress import read_suppression

        path = self.suppress.value.strip()
        uploaded = self.uploaded_suppression
        if not path:
            return uploaded
        from_path = read_suppression(path, region=self._region())
        return from_path if uploaded is None else merged_suppression(from_path, uploaded)


__all__ = ["OperationsPanel"]
