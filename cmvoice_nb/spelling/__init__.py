"""OTP spelling sets: build, validate, package and preview ``/spelling/<locale>/<char>.wav``.

An OTP call with ``code-type: Custom`` reads the code one character at a time
from the customer's own recordings (contract, "Custom audio"). This package
builds such sets from a folder of recordings, one recording of the whole
sequence, or text-to-speech; checks them; zips them for upload; and plays a
code the way the call would.

Examples
--------
>>> from cmvoice_nb.spelling import build_spelling_set, check_spelling_set  # doctest: +SKIP
>>> build_spelling_set("recordings/", "upload", locale="en-GB")            # doctest: +SKIP
>>> check_spelling_set("upload", locale="en-GB", codes=["48213"]).ok       # doctest: +SKIP
True
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "build_spelling_set": "build",
    "SpellingBuildReport": "build",
    "SpellingBuildError": "build",
    "check_spelling_set": "check",
    "SpellingCheckReport": "check",
    "pack_spelling_set": "pack",
    "SpellingPackError": "pack",
    "preview_code": "preview",
    "preview_audio": "preview",
    "preview_wav": "preview",
    "char_for_name": "names",
    "assign_files": "names",
    "DEFAULT_CHARS": "names",
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
