"""cmvoice_nb: run CM Voice API Apps campaigns from Jupyter notebooks.

Widgets live in :mod:`cmvoice_nb.widgets` (``AudioPrep``, ``SpellingSet``, ``Campaign``,
``CallbackDashboard``). The public names below are re-exported lazily: ``import cmvoice_nb`` imports
nothing heavy (no pandas, numpy, requests, widgets) until a name is used, and
does no I/O, env reading or thread start at import time. Sub-modules are attributes too:
``import cmvoice_nb as cm; cm.spec.fields_frame("otp")``.

Examples
--------
>>> import cmvoice_nb as cm
>>> cm.spec.APPS["notification"].endpoint
'Notification'
>>> cm.OTP.__name__, cm.errors.ValidationError.__name__
('OTP', 'ValidationError')
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports
from ._version import __version__ as __version__

# public name -> module (relative to this package) that defines it
_EXPORTS: dict[str, str] = {
    # errors
    "CMVoiceError": "errors",
    "ConfigurationError": "errors",
    "ValidationError": "errors",
    "NumberError": "errors",
    "APIError": "errors",
    "AuthenticationError": "errors",
    "InstructionRejected": "errors",
    "RateLimited": "errors",
    "ServerError": "errors",
    "TransportError": "errors",
    "ConnectError": "errors",
    "ReadTimeout": "errors",
    "ConnectionDropped": "errors",
    "AudioError": "errors",
    "SpellingSetError": "errors",
    "CampaignError": "errors",
    "JournalError": "errors",
    "JournalBusy": "errors",
    "SuppressionError": "errors",
    "CallbackError": "errors",
    # the contract
    "Notification": "instructions",
    "OTP": "instructions",
    "DTMF": "instructions",
    "Voice": "instructions",
    "Problem": "instructions",
    "instruction_from_json": "instructions",
    "normalize_number": "numbers",
    # client and simulator
    "VoiceClient": "client",
    "SendResult": "client",
    "CalleeResult": "client",
    "Simulator": "simulator",
    "SIMULATOR_TOKEN": "simulator",
    # audio preparation
    "convert_prompt": "audio",
    "check_prompt": "audio",
    "convert_folder": "audio",
    "check_folder": "audio",
    "PromptReport": "audio",
    "load_audio": "audio",
    "to_audio_segment": "audio",
    # OTP spelling sets
    "build_spelling_set": "spelling",
    "check_spelling_set": "spelling",
    "pack_spelling_set": "spelling",
    "preview_code": "spelling",
    "preview_audio": "spelling",
    # campaigns (importing them registers the df.cmvoice accessor)
    "plan_campaign": "campaign",
    "send_campaign": "campaign",
    "plan_followup": "campaign",
    "forecast": "campaign",
    "propose_columns": "campaign",
    "campaign_status": "campaign",
    "CampaignPlan": "campaign",
    "CampaignSender": "campaign",
    "Journal": "campaign",
    "RetryPolicy": "campaign",
    "TokenBucket": "campaign",
    "load_results": "campaign",
    # campaign results joined with callbacks
    "funnel": "campaign.funnel",
    "reach_by_wave": "campaign.funnel",
    "write_report": "campaign.report",
    "ab_report": "campaign.abtest",
    # call results
    "CallbackReceiver": "callbacks",
    "load_callbacks": "callbacks",
    "summarize": "callbacks",
    "dtmf_summary": "callbacks",
    "save_calls": "callbacks",
    "plot_outcomes": "callbacks",
    "plot_answer_rate_by_hour": "callbacks",
    "plot_ring_time": "callbacks",
    "plot_funnel": "callbacks",
    "opt_outs": "callbacks",
}

#: Sub-modules reachable as attributes before they are imported (``cm.spec``). Each costs
#: 5-40 ms to import (dataclasses, pandas...), which is why none is imported here.
_SUBMODULES = ("spec", "errors", "instructions", "numbers", "client", "audio", "spelling", "campaign",
               "callbacks", "widgets", "commands", "cli", "demo")

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS, submodules=_SUBMODULES)

if TYPE_CHECKING:  # what editors and type checkers see; at run time __getattr__ imports on first use
    from . import (
        audio as audio,
        callbacks as callbacks,
        campaign as campaign,
        cli as cli,
        client as client,
        commands as commands,
        demo as demo,
        errors as errors,
        instructions as instructions,
        numbers as numbers,
        spec as spec,
        spelling as spelling,
        widgets as widgets,
    )
    from .audio import (
        PromptReport as PromptReport,
        check_folder as check_folder,
        check_prompt as check_prompt,
        convert_folder as convert_folder,
        convert_prompt as convert_prompt,
        load_audio as load_audio,
        to_audio_segment as to_audio_segment,
    )
    from .callbacks import (
        CallbackReceiver as CallbackReceiver,
        dtmf_summary as dtmf_summary,
        load_callbacks as load_callbacks,
        opt_outs as opt_outs,
        plot_answer_rate_by_hour as plot_answer_rate_by_hour,
        plot_funnel as plot_funnel,
        plot_outcomes as plot_outcomes,
        plot_ring_time as plot_ring_time,
        save_calls as save_calls,
        summarize as summarize,
    )
    from .campaign import (
        CampaignPlan as CampaignPlan,
        CampaignSender as CampaignSender,
        Journal as Journal,
        RetryPolicy as RetryPolicy,
        TokenBucket as TokenBucket,
        campaign_status as campaign_status,
        forecast as forecast,
        load_results as load_results,
        plan_campaign as plan_campaign,
        plan_followup as plan_followup,
        propose_columns as propose_columns,
        send_campaign as send_campaign,
    )
    from .campaign.abtest import ab_report as ab_report
    from .campaign.funnel import funnel as funnel, reach_by_wave as reach_by_wave
    from .campaign.report import write_report as write_report
    from .client import CalleeResult as CalleeResult, SendResult as SendResult, VoiceClient as VoiceClient
    from .errors import (
        APIError as APIError,
        AudioError as AudioError,
        AuthenticationError as AuthenticationError,
        CallbackError as CallbackError,
        CampaignError as CampaignError,
        CMVoiceError as CMVoiceError,
        ConfigurationError as ConfigurationError,
        ConnectError as ConnectError,
        ConnectionDropped as ConnectionDropped,
        InstructionRejected as InstructionRejected,
        JournalBusy as JournalBusy,
        JournalError as JournalError,
        NumberError as NumberError,
        RateLimited as RateLimited,
        ReadTimeout as ReadTimeout,
        ServerError as ServerError,
        SpellingSetError as SpellingSetError,
        SuppressionError as SuppressionError,
        TransportError as TransportError,
        ValidationError as ValidationError,
    )
    from .instructions import (
        DTMF as DTMF,
        OTP as OTP,
        Notification as Notification,
        Problem as Problem,
        Voice as Voice,
        instruction_from_json as instruction_from_json,
    )
    from .numbers import normalize_number as normalize_number
    from .simulator import SIMULATOR_TOKEN as SIMULATOR_TOKEN, Simulator as Simulator
    from .spelling import (
        build_spelling_set as build_spelling_set,
        check_spelling_set as check_spelling_set,
        pack_spelling_set as pack_spelling_set,
        preview_audio as preview_audio,
        preview_code as preview_code,
    )

