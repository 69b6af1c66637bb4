"""Call results: receive the provider's callbacks, load callback logs, analyse and plot them.

Data flows one way::

    provider / Simulator --POST--> CallbackReceiver --JSONL--> load_callbacks --> summarize, funnel, plots, report

Importing this package imports nothing heavy; each submodule pulls in pandas,
pyarrow or matplotlib only when it is imported itself.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "CallbackReceiver": "receiver",
    "CallbackTimeout": "receiver",
    "load_callbacks": "load",
    "LoadReport": "load",
    "CallbackWarning": "load",
    "CALL_COLUMNS": "load",
    "save_calls": "load",
    "summarize": "analysis",
    "dtmf_summary": "analysis",
    "DTMFSummary": "analysis",
    "funnel": "analysis",
    "Funnel": "analysis",
    "load_results": "analysis",
    "plot_outcomes": "plots",
    "plot_answer_rate_by_hour": "plots",
    "plot_ring_time": "plots",
    "plot_funnel": "plots",
    "write_report": "report",
    "render_report": "report",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
