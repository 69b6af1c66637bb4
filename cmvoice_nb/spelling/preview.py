"""Hear a code the way the OTP call reads it: the character files one after another.

The provider reads a ``Custom`` code "one character at a time" from
``/spelling/<locale>/<char>.wav``; :func:`preview_code` concatenates the same
files with a short gap so a user can listen before sending.
"""
from __future__ import annotations

import os

import numpy as np

from ..errors import SpellingSetError
from . import _audio
from .check import resolve_folder
from .names import DEFAULT_CHARS, require_locale


def join_with_gaps(clips: list[np.ndarray], samplerate: int, *, gap_s: float = 0.15) -> np.ndarray:
    """Concatenate *clips* with *gap_s* of silence between them (pure).

    Examples
    --------
    >>> import numpy as np
    >>> len(join_with_gaps([np.ones(10), np.ones(10)], 100, gap_s=0.05))
    25
    """
    gap = np.zeros(int(round(gap_s * samplerate)))
    parts: list[np.ndarray] = []
    for i, clip in enumerate(clips):
        if i:
            parts.append(gap)
        parts.append(np.asarray(clip, dtype=np.float64))
    return np.concatenate(parts) if parts else np.zeros(0)


def preview_code(
    root: str | os.PathLike, code: str, *, locale: str, gap_s: float = 0.15
) -> tuple[np.ndarray, int]:
    """Return ``(samples, 8000)``: *code* read from the set's files, with *gap_s* between characters.

    The code is lower-cased first (the provider's files are lower case).

    Raises
    ------
    SpellingSetError
        Listing every character of *code* that has no file (or cannot be spelled).

    Examples
    --------
    >>> import tempfile
    >>> preview_code(tempfile.mkdtemp(), "42", locale="en-GB")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cmvoice_nb.errors.SpellingSetError: cannot preview '42': no file for '4', '2' in ...
    """
    locale = require_locale(locale)
    folder = resolve_folder(root, locale)
    text = str(code).lower()
    if not text:
        raise SpellingSetError("code is empty")
    missing = [c for c in dict.fromkeys(text) if c not in DEFAULT_CHARS or not (folder / f"{c}.wav").is_file()]
    if missing:
        raise SpellingSetError(
            f"cannot preview {code!r}: no file for {', '.join(repr(c) for c in missing)} in {folder}"
        )
    cache: dict[str, np.ndarray] = {}
    for c in dict.fromkeys(text):
        samples, rate = _audio.read_wav_samples(_audio.read_regular(folder / f"{c}.wav"))
        cache[c] = _audio.to_mono_8k(samples, rate)
    return join_with_gaps([cache[c] for c in text], _audio.RATE, gap_s=gap_s), _audio.RATE


def preview_audio(root: str | os.PathLike, code: str, *, locale: str, gap_s: float = 0.15):
    """An ``IPython.display.Audio`` player of :func:`preview_code` (display it in a notebook)."""
    from IPython.display import Audio

    samples, rate = preview_code(root, code, locale=locale, gap_s=gap_s)
    # normalize=False: play the set at its real level, as the caller will hear it.
    return Audio(np.clip(samples, -1.0, 1.0), rate=rate, normalize=False)


def preview_wav(root: str | os.PathLike, code: str, *, locale: str, gap_s: float = 0.15) -> bytes:
    """The preview as 16-bit PCM WAV bytes (for saving or a custom player)."""
    samples, _ = preview_code(root, code, locale=locale, gap_s=gap_s)
    return _audio.encode_wav(samples, target="pcm16")


__all__ = ["join_with_gaps", "preview_audio", "preview_code", "preview_wav"]
