"""A quick starter set from the text-to-speech engine on this machine (espeak-ng).

Nothing is probed at import time: the engine binary is looked up and its
language list queried (``espeak-ng --voices``) when a set is built.

Examples
--------
>>> voices = ("Pty Language Age/Gender VoiceName File Other Languages\\n"
...           " 2  en-gb  --/M  English  gmw/en  (en 2)\\n 5  nl  --/M  Dutch  gmw/nl\\n")
>>> espeak_language("en-GB", parse_espeak_voices(voices))
'en-gb'
>>> espeak_language("nl-NL", parse_espeak_voices(voices))
'nl'
>>> espeak_language("xx-XX", parse_espeak_voices(voices)) is None
True
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable

import numpy as np

from ..errors import SpellingSetError

logger = logging.getLogger(__name__)

#: Seconds one engine call may take before we give up on it.
TIMEOUT_S = 30.0

Engine = Callable[[str, str], "tuple[np.ndarray, int]"]


def parse_espeak_voices(text: str) -> list[str]:
    """Language codes listed by ``espeak-ng --voices`` (main and "other languages" columns), lower case.

    Examples
    --------
    >>> parse_espeak_voices(" 5  es-419  --/M  Spanish  roa/es-419  (es-mx 6)(es 6)\\n")
    ['es-419', 'es-mx', 'es']
    """
    codes: list[str] = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 2 or not parts[0].isdigit():
            continue  # the header, blank lines
        found = [parts[1].lower()]
        # "(en 2)(en-gb 3)" — the other languages this voice serves, with priorities.
        found += [m.lower() for m in re.findall(r"\(([A-Za-z0-9-]+)\s+\d+\)", line)]
        for code in found:
            if code not in codes:
                codes.append(code)
    return codes


def espeak_language(locale: str, available: Iterable[str]) -> str | None:
    """The engine language for a provider locale (``en-GB`` → ``en-gb``, ``nl-NL`` → ``nl``), or None.

    Tries the full locale, then the bare language, then any regional variant of
    the language (``es-US`` → ``es`` → ``es-419``).
    """
    codes = [c.lower() for c in available]
    full = locale.lower()
    base = full.split("-")[0]
    for candidate in (full, base):
        if candidate in codes:
            return candidate
    for code in codes:
        if code.startswith(base + "-"):
            return code
    return None


def find_engine(engine: str = "espeak-ng") -> str:
    """Absolute path of the engine binary (looked up on PATH now, not at import)."""
    path = engine if os.sep in engine else shutil.which(engine)
    if not path or not os.path.exists(path):
        raise SpellingSetError(
            f"text-to-speech engine {engine!r} not found — install it (Debian/Ubuntu: "
            "'apt install espeak-ng', macOS: 'brew install espeak-ng') or build from recordings instead"
        )
    return path


def espeak_voices(binary: str) -> list[str]:
    """Ask the engine which languages it speaks."""
    try:
        out = subprocess.run([binary, "--voices"], capture_output=True, text=True, timeout=TIMEOUT_S, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise SpellingSetError(f"cannot list the voices of {binary}: {exc}") from exc
    return parse_espeak_voices(out.stdout)


#: An engine voice name as given by a user: a language code, optionally with an espeak
#: variant (``en``, ``en-gb``, ``en+f3``). Matched in full: it is passed to a program.
VOICE_RE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*(?:\+[A-Za-z0-9_-]{1,16})?")


def espeak_engine(locale: str, *, engine: str = "espeak-ng", speed_wpm: int = 140,
                  voice: str | None = None) -> tuple[Engine, str, list[str]]:
    """Return ``(speak, language, notes)``: a callable ``speak(char, locale) -> (samples, rate)``.

    The engine's language for *locale* is used, or the *voice* given. When the engine
    has no language for *locale* and no *voice* is given, the build is refused: a set
    spoken in another language than its folder says must be asked for, never a fallback.

    Raises
    ------
    SpellingSetError
        No engine language for *locale* and no *voice*; or a *voice* the engine does not have.
    """
    from ._audio import read_wav_samples

    binary = find_engine(engine)
    available = espeak_voices(binary)
    notes: list[str] = []
    name = os.path.basename(binary)
    if voice is not None:
        if not isinstance(voice, str) or not VOICE_RE.fullmatch(voice):
            raise SpellingSetError(f"voice {voice!r} is not a voice name (e.g. 'en', 'en-gb', 'nl', 'en+f3')")
        base = voice.split("+", 1)[0]
        if espeak_language(base, available) is None:
            raise SpellingSetError(f"{name} has no voice {voice!r}; see '{name} --voices' for the ones it has")
        language = voice
        notes.append(f"spoken with {name} voice {voice!r} (chosen with voice=) for {locale}")
    else:
        found = espeak_language(locale, available)
        if found is None:
            raise SpellingSetError(
                f"{name} has no voice for {locale}, so a text-to-speech set would not be in the language of "
                f"spelling/{locale}/; pass the voice to use (voice='en' / --voice en; '{name} --voices' lists "
                "them) or build from recordings")
        language = found

    def speak(char: str, _locale: str = locale) -> tuple[np.ndarray, int]:
        # A single character is read as its name ("b" → "bee", "7" → "seven"/"zeven").
        cmd = [binary, "-v", language, "-s", str(int(speed_wpm)), "--stdout", char]
        try:
            out = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT_S, check=True)
        except (OSError, subprocess.SubprocessError) as exc:
            raise SpellingSetError(f"{name} failed to speak {char!r}: {exc}") from exc
        return read_wav_samples(out.stdout)

    return speak, language, notes


__all__ = ["espeak_engine", "espeak_language", "espeak_voices", "find_engine", "parse_espeak_voices"]
