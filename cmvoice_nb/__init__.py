"""cmvoice_nb: run CM Voice API Apps campaigns from Jupyter notebooks.

The public names below are re-exported lazily: ``import cmvoice_nb`` imports
nothing heavy (no pandas, numpy, requests, widgets) until a name is used, and
does no I/O, env reading or thread start at import time.
"""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

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
    "Simulator": "sandbox",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cmvoice_nb' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
