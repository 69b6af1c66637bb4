"""Call results: receive the provider's callbacks, load callback logs, analyse and plot them.

Data flows one way::

    provider / Simulator --POST--> wsgi_app (CallbackReceiver, cmvoice receive) --JSONL--> load_callbacks --> summarize, funnel, plots, report

Importing this package imports nothing heavy; each submodule pulls in pandas,
pyarrow or matplotlib only when it is imported itself.
"""
from __future__ import annotations

from .._lazy import lazy_exports

_EXPORTS = {
    "CallbackReceiver": "receiver",
    "CallbackTimeout": "receiver",
    "wsgi_app": "wsgi",
    "CallbackApp": "wsgi",
    "load_callbacks": "load",
    "LoadReport": "load",
    "CallbackWarning": "load",
    "CALL_COLUMNS": "load",
    "save_calls": "load",
    "defuse_formulas": "load",
    "summarize": "analysis",
    "aggregate_calls": "aggregate",
    "CallAggregate": "aggregate",
    "CallHistory": "aggregate",
    "query": "dataset",
    "dtmf_summary": "analysis",
    "DTMFSummary": "analysis",
    "funnel": "analysis",
    "scope_results": "analysis",
    "reach_by_wave": "analysis",
    "Funnel": "analysis",
    "load_results": "analysis",
    "plot_outcomes": "plots",
    "plot_answer_rate_by_hour": "plots",
    "plot_ring_time": "plots",
    "plot_funnel": "plots",
    "write_report": "report",
    "render_report": "report",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)
