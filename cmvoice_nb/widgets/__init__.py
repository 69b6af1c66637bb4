"""ipywidgets front-ends over the public API: one app per job, wiring only.

* :class:`AudioPrep` — convert and check prompt recordings.
* :class:`SpellingSet` — build, check, preview and pack an OTP spelling set.
* :class:`Campaign` — map a DataFrame, validate, dry-run and send (stoppable) with a progress bar.
* :class:`CallbackDashboard` — receive or load callbacks; filters, summary, plots and funnel.
* :func:`table` — any DataFrame or Series in the apps' table style (readable cells, failures first).

Each app is an ``ipywidgets.VBox``: display it as the last expression of a cell. Its
controls are attributes (``app.convert_folder.click()``), errors in callbacks show in
its ``out`` area and in ``app.last_error``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "AudioPrep": "audio",
    "SpellingSet": "spelling",
    "Campaign": "campaign",
    "CallbackDashboard": "dashboard",
    "filter_calls": "dashboard",
    "table": "_common",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # ipywidgets loads on first use; editors see the names here
    from ._common import table as table
    from .audio import AudioPrep as AudioPrep
    from .campaign import Campaign as Campaign
    from .dashboard import CallbackDashboard as CallbackDashboard, filter_calls as filter_calls
    from .spelling import SpellingSet as SpellingSet
