"""The provider's TTS voice catalogue: which languages and genders have how many voices.

The table is the provider's (the seed's table of the Voice API Apps documentation). An
instruction's ``voice`` (:data:`cmvoice_nb.spec.VOICE_FIELDS`) is checked against it
(:mod:`cmvoice_nb.instructions`, ``check_voice_catalogue``), a text-to-speech spelling set is
built only for a language it has, and the planner reads country names in its languages.
:mod:`cmvoice_nb.spec` re-exports every name here, as part of the contract.

Examples
--------
>>> from cmvoice_nb.voices import VOICES, voice_count
>>> len(VOICES), voice_count("nl-NL", "Male")
(40, 1)
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["VoiceEntry", "VOICES", "voice_count", "voice_languages", "has_voice_language"]


@dataclass(frozen=True)
class VoiceEntry:
    """One row of the provider's TTS table: ``count`` voices of ``gender`` for ``language``."""

    language: str
    language_name: str
    gender: str
    count: int


VOICES: tuple[VoiceEntry, ...] = tuple(
    VoiceEntry(lang, title, gender, count)
    for title, lang, gender, count in (
        ("Welsh English", "cy-GB", "Female", 1),
        ("Danish", "da-DK", "Female", 1),
        ("Danish", "da-DK", "Male", 1),
        ("German", "de-DE", "Female", 2),
        ("German", "de-DE", "Male", 1),
        ("Australian English", "en-AU", "Female", 1),
        ("Australian English", "en-AU", "Male", 1),
        ("UK English", "en-GB", "Female", 2),
        ("UK English", "en-GB", "Male", 2),
        ("Indian English", "en-IN", "Female", 1),
        ("US English", "en-US", "Female", 5),
        ("US English", "en-US", "Male", 2),
        ("Spanish", "es-ES", "Female", 1),
        ("Spanish", "es-ES", "Male", 1),
        ("Spanish English", "es-US", "Female", 1),
        ("Spanish English", "es-US", "Male", 1),
        ("Canadian French", "fr-CA", "Female", 1),
        ("French", "fr-FR", "Female", 1),
        ("French", "fr-FR", "Male", 1),
        ("Icelandic", "is-IS", "Female", 1),
        ("Icelandic", "is-IS", "Male", 1),
        ("Italian", "it-IT", "Female", 1),
        ("Italian", "it-IT", "Male", 1),
        ("Japanese", "ja-JP", "Female", 1),
        ("Japanese", "ja-JP", "Male", 1),
        ("Korean", "ko-KR", "Female", 1),
        ("Norwegian Bokmal", "nb-NO", "Female", 1),
        ("Dutch", "nl-NL", "Female", 1),
        ("Dutch", "nl-NL", "Male", 1),
        ("Polish", "pl-PL", "Female", 2),
        ("Polish", "pl-PL", "Male", 2),
        ("Brazilian Portuguese", "pt-BR", "Female", 1),
        ("Brazilian Portuguese", "pt-BR", "Male", 1),
        ("Portuguese", "pt-PT", "Female", 1),
        ("Portuguese", "pt-PT", "Male", 1),
        ("Romanian", "ro-RO", "Female", 1),
        ("Russian", "ru-RU", "Female", 1),
        ("Russian", "ru-RU", "Male", 1),
        ("Swedish", "sv-SE", "Female", 1),
        ("Turkish", "tr-TR", "Female", 1),
    )
)


def voice_count(language: str, gender: str) -> int:
    """How many voices the catalogue has for *language* and *gender* (0 when none).

    Examples
    --------
    >>> voice_count("en-US", "Female")
    5
    >>> voice_count("ko-KR", "Male")
    0
    """
    return next((v.count for v in VOICES if v.language == language and v.gender == gender), 0)


def voice_languages() -> tuple[str, ...]:
    """Languages the catalogue offers a TTS voice for, in table (alphabetical) order.

    Examples
    --------
    >>> voice_languages()[:3]
    ('cy-GB', 'da-DK', 'de-DE')
    >>> len(voice_languages())
    24
    """
    return tuple(dict.fromkeys(v.language for v in VOICES))


def has_voice_language(language: str) -> bool:
    """True when the catalogue has a voice for *language*, compared case-insensitively.

    Examples
    --------
    >>> has_voice_language("nl-NL"), has_voice_language("EN-gb"), has_voice_language("xx-XX")
    (True, True, False)
    """
    wanted = str(language).lower()
    return any(lang.lower() == wanted for lang in voice_languages())
