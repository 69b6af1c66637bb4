"""Call results: receive the provider's callbacks, load callback logs, analyse and plot them.

Data flows one way::

    provider / Simulator --POST--> wsgi_app (CallbackReceiver, cmvoice receive)
        --JSONL--> load_callbacks --> summarize, plots, report

This is the pure callback layer: it knows nothing of campaigns. Joining callbacks with a
campaign's results (the funnel, reach per wave, the campaign report) is
:mod:`cmvoice_nb.campaign.funnel`'s and :mod:`cmvoice_nb.campaign.report`'s.

Importing this package imports nothing heavy; each submodule pulls in pandas,
pyarrow or matplotlib only when it is imported itself.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

_EXPORTS = {
    "CallbackReceiver": "receiver",
    "CallbackTimeout": "receiver",
    "wsgi_app": "wsgi",
    "CallbackApp": "wsgi",
    "ReceiverOptions": "options",
    "opt_outs": "optout",
    "OptOutList": "optout",
    "load_callbacks": "load",
    "calls_frame": "load",
    "LoadReport": "load",
    "CallbackWarning": "load",
    "CALL_COLUMNS": "load",
    "save_calls": "load",
    "defuse_formulas": "load",
    "event_time": "frame",
    "summarize": "analysis",
    "dtmf_summary": "analysis",
    "dtmf_validator": "analysis",
    "DTMFSummary": "analysis",
    "AnalysisError": "analysis",
    "callback_wave": "analysis",
    "callee_country": "analysis",
    "with_group_keys": "analysis",
    "period_bounds": "analysis",
    "in_period": "analysis",
    "calls_in_period": "analysis",
    "aggregate_calls": "aggregate",
    "CallAggregate": "aggregate",
    "CallHistory": "aggregate",
    "query": "dataset",
    "plot_outcomes": "plots",
    "plot_answer_rate_by_hour": "plots",
    "plot_ring_time": "plots",
    "plot_funnel": "plots",
    "render_calls_report": "report",
    "write_calls_report": "report",
    "load_notes": "report",
    "table_html": "report",
    "figure_html": "report",
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # what editors and type checkers see; at run time __getattr__ imports on first use
    from .aggregate import (
        CallAggregate as CallAggregate,
        CallHistory as CallHistory,
        aggregate_calls as aggregate_calls,
    )
    from .analysis import (
        AnalysisError as AnalysisError,
        DTMFSummary as DTMFSummary,
        callback_wave as callback_wave,
        callee_country as callee_country,
        calls_in_period as calls_in_period,
        dtmf_summary as dtmf_summary,
        dtmf_validator as dtmf_validator,
        in_period as in_period,
        period_bounds as period_bounds,
        summarize as summarize,
        with_group_keys as with_group_keys,
    )
    from .dataset import query as query
    from .frame import event_time as event_time
    from .load import (
        CALL_COLUMNS as CALL_COLUMNS,
        CallbackWarning as CallbackWarning,
        LoadReport as LoadReport,
        calls_frame as calls_frame,
        defuse_formulas as defuse_formulas,
        load_callbacks as load_callbacks,
        save_calls as save_calls,
    )
    from .options import ReceiverOptions as ReceiverOptions
    from .optout import OptOutList as OptOutList, opt_outs as opt_outs
    from .plots import (
        plot_answer_rate_by_hour as plot_answer_rate_by_hour,
        plot_funnel as plot_funnel,
        plot_outcomes as plot_outcomes,
        plot_ring_time as plot_ring_time,
    )
    from .receiver import CallbackReceiver as CallbackReceiver, CallbackTimeout as CallbackTimeout
    from .report import (
        figure_html as figure_html,
        load_notes as load_notes,
        render_calls_report as render_calls_report,
        table_html as table_html,
        write_calls_report as write_calls_report,
    )
    from .wsgi import CallbackApp as CallbackApp, wsgi_app as wsgi_app
