"""The Campaign app's operations panel: calling hours and holidays, do-not-call, countries, validity, contacts, cost.

:class:`OperationsPanel` holds the controls and says what they stand for, as the library's
keywords: :meth:`~OperationsPanel.send_options` for
:class:`~cmvoice_nb.campaign.CampaignSender` (``calling_hours``, ``days``, ``wait``,
``holidays``, ``public_holidays``, ``tz``, ``valid_for``, ``valid_until``, ``contacts``,
``max_contacts``, ``prices`` and ``max_cost``), :meth:`~OperationsPanel.suppression` and
:meth:`~OperationsPanel.allowed` for :func:`~cmvoice_nb.campaign.plan_campaign`,
:meth:`~OperationsPanel.prices_path` for the estimate. Values are passed as typed (a decimal
comma read as a point): the library checks them and its messages name the controls. An uploaded
do-not-call list is read at once and its bytes are dropped from the widget state, so they never
end up in a saved notebook.
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
from ._campaign_rules import number_text, valid_for_placeholder
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
    app
        The campaign's App: an OTP campaign's validity window defaults to 10 minutes.
    style
        The ``description_width`` style of the app's controls.
    """

    def __init__(self, *, region: Callable[[], str | None], calling_hours: str | None = None,
                 days: str = "mon-fri", wait: bool = True, suppress: str | os.PathLike | None = None,
                 allowed_countries: str | None = None, prices: str | os.PathLike | None = None,
                 app: str = "notification", style: dict | None = None) -> None:
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
        self.public_holidays = W.Checkbox(value=False, description=_label("public_holidays"), indent=False,
                                          layout=W.Layout(width="12em"), tooltip=OPTIONS["public_holidays"].help)
        self.holidays = W.Text(value="", description=_label("holidays"), style=style,
                               placeholder="TXT of YYYY-MM-DD lines or CSV date[,country]",
                               layout=W.Layout(width="30em"), tooltip=OPTIONS["holidays"].help)
        self.tz = W.Text(value="", description=_label("tz"), style=style, placeholder="e.g. Europe/Amsterdam",
                         layout=W.Layout(width="22em"), tooltip=OPTIONS["tz"].help)
        self.valid_for = W.Text(value="", description=_label("valid_for"), style=style,
                                placeholder=valid_for_placeholder(app), layout=W.Layout(width="30em"),
                                tooltip=OPTIONS["valid_for"].help)
        self.valid_until = W.Text(value="", description=_label("valid_until"), style=style,
                                  placeholder="e.g. 2026-04-27T18:00+02:00", layout=W.Layout(width="26em"),
                                  tooltip=OPTIONS["valid_until"].help)
        self.contacts = W.Text(value="", description=_label("contacts"), style=style,
                               placeholder="SQLite path shared by campaigns", layout=W.Layout(width="30em"),
                               tooltip=OPTIONS["contacts"].help)
        self.max_contacts = W.Text(value="", description=_label("max_contacts"), style=style,
                                   placeholder="e.g. 1/7d", layout=W.Layout(width="16em"),
                                   tooltip=OPTIONS["max_contacts"].help)
        self.max_cost = W.Text(value="", description=_label("max_cost"), style=style, placeholder="e.g. 25.00",
                               layout=W.Layout(width="16em"), tooltip=OPTIONS["max_cost"].help)
        #: The do-not-call list read from the last upload, or None.
        self.uploaded_suppression: Any = None
        self.children = [
            W.HBox([self.calling_hours, self.days, self.wait_for_hours]),
            W.HBox([self.public_holidays, self.holidays, self.tz]),
            W.HBox([self.allowed_countries]),
            W.HBox([self.suppress, self.suppress_upload]),
            self.suppress_info,
            W.HBox([self.valid_for, self.valid_until]),
            W.HBox([self.contacts, self.max_contacts]),
            W.HBox([self.prices, self.max_cost]),
        ]

    @property
    def controls(self) -> list[W.Widget]:
        """The inputs (disabled together while the app works)."""
        return [self.calling_hours, self.days, self.wait_for_hours, self.public_holidays, self.holidays, self.tz,
                self.allowed_countries, self.suppress, self.suppress_upload, self.valid_for, self.valid_until,
                self.contacts, self.max_contacts, self.prices, self.max_cost]

    def set_app(self, app: str) -> None:
        """Say the validity default of *app* (OTP: 10 minutes) in the Valid for box."""
        self.valid_for.placeholder = valid_for_placeholder(app)

    def send_options(self) -> dict[str, Any]:
        """The keywords of :class:`~cmvoice_nb.campaign.CampaignSender` the panel stands for.

        Calling hours apply when the window, a holidays file or public holidays is given (then
        with their days and the wait); the other keywords only when their control is filled.
        """
        def text(widget: W.Text) -> str | None:
            return widget.value.strip() or None

        out: dict[str, Any] = {}
        hours, holidays, public = text(self.calling_hours), text(self.holidays), bool(self.public_holidays.value)
        if hours is not None or holidays is not None or public:
            out.update(calling_hours=hours, days=text(self.days) or "mon-fri", wait=bool(self.wait_for_hours.value),
                       holidays=holidays, public_holidays=public)
        given = {"tz": text(self.tz), "valid_until": text(self.valid_until), "contacts": text(self.contacts),
                 "max_contacts": text(self.max_contacts), "max_cost": number_text(text(self.max_cost))}
        out.update({k: v for k, v in given.items() if v is not None})
        out["valid_for"] = text(self.valid_for) or "auto"
        if "max_cost" in out:
            out["prices"] = self.prices_path()
        return out

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
