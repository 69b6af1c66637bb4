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

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

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

__getattr__, __dir__, __all__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # numpy and the audio pipeline load on first use; editors see the names here
    from .build import (
        SpellingBuildError as SpellingBuildError,
        SpellingBuildReport as SpellingBuildReport,
        build_spelling_set as build_spelling_set,
    )
    from .check import SpellingCheckReport as SpellingCheckReport, check_spelling_set as check_spelling_set
    from .names import DEFAULT_CHARS as DEFAULT_CHARS, assign_files as assign_files, char_for_name as char_for_name
    from .pack import SpellingPackError as SpellingPackError, pack_spelling_set as pack_spelling_set
    from .preview import preview_audio as preview_audio, preview_code as preview_code, preview_wav as preview_wav
