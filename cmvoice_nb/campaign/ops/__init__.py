"""The operator's rules around a campaign: when a callee may be rung, who must never be, and what it costs.

Public modules, each imported by name (``from cmvoice_nb.campaign.ops.hours import
parse_calling_hours``): :mod:`~cmvoice_nb.campaign.ops.hours` (calling windows in the callee's
local time, with :mod:`~cmvoice_nb.campaign.ops.holidays`), :mod:`~cmvoice_nb.campaign.ops.schedule`
(those windows applied to a running send, with a clock tests can drive),
:mod:`~cmvoice_nb.campaign.ops.suppress` (do-not-call lists and allowed countries),
:mod:`~cmvoice_nb.campaign.ops.validity` (until when a row may still be placed) and
:mod:`~cmvoice_nb.campaign.ops.estimate` (calls, talk minutes and cost before sending). They
read a plan's rows and payloads and never send, write a journal or read a clock of their own.

Examples
--------
>>> from cmvoice_nb.campaign import ops
>>> ops.hours.parse_calling_hours("09:00-17:00", days="mon-fri")
CallingHours('09:00-17:00', days='mon-fri', holidays=none)
"""
from __future__ import annotations

from ..._lazy import lazy_exports

#: The public modules, reachable as attributes of the package before anyone imported them.
_MODULES = ("estimate", "holidays", "hours", "schedule", "suppress", "validity")

__getattr__, __dir__, _ = lazy_exports(__name__, {}, submodules=_MODULES)
__all__ = list(_MODULES)
