"""The few audio-pipeline calls the spelling package makes, in one place.

Everything here delegates to :mod:`cmvoice_nb.audio` (decode, dsp, wavfile,
check); the imports happen inside the functions so that importing the
spelling package stays cheap. The loudness helpers are local: characters are
levelled by what a listener hears, ITU-R BS.1770 loudness (:func:`loudness_lufs`),
with the speech-only RMS (:func:`active_rms_dbfs`) kept as a secondary measure.
"""
from __future__ import annotations

import functools
import math
import os
import warnings
from typing import Any

import numpy as np

from .. import spec
from .._html import audio_player

RATE = spec.AUDIO_SAMPLERATE  # the provider's telephony rate (contract, "Custom audio")
#: Gating block of the BS.1770 meter. The standard's 0.4 s suits programmes; a spoken
#: character lasts 0.3-0.8 s, so 0.2 s blocks (75 % overlap, as the standard) give it
#: several blocks to gate on.
LOUDNESS_BLOCK_S = 0.2


def load_audio(src: Any) -> tuple[np.ndarray, int]:
    from ..audio.decode import load_audio as _load

    return _load(src)


def to_mono_8k(samples: np.ndarray, samplerate: int) -> np.ndarray:
    """Mono float64 at 8 kHz (soxr HQ through the audio pipeline); the input is not modified."""
    from ..audio.dsp import resample, to_mono

    mono = to_mono(np.asarray(samples, dtype=np.float64))
    if int(samplerate) != RATE:
        mono = resample(mono, int(samplerate), RATE)
    return np.asarray(mono, dtype=np.float64)


def split_on_silence(x: np.ndarray, samplerate: int, *, min_silence_s: float, threshold_dbfs: float,
                     min_segment_s: float) -> list[tuple[int, int]]:
    from ..audio.dsp import split_on_silence as _split

    return [(int(a), int(b)) for a, b in _split(x, samplerate, min_silence_s=min_silence_s,
                                                 threshold_dbfs=threshold_dbfs, min_segment_s=min_segment_s)]


def speech_bounds(x: np.ndarray, samplerate: int, *, threshold_dbfs: float) -> tuple[int, int]:
    from ..audio.dsp import speech_bounds as _bounds

    start, stop = _bounds(x, samplerate, threshold_dbfs=threshold_dbfs)
    return int(start), int(stop)


def encode_wav(samples_8k: np.ndarray, *, target: str) -> bytes:
    from ..audio.wavfile import encode_wav as _encode

    return _encode(samples_8k, target=target)


def read_wav_samples(data: bytes) -> tuple[np.ndarray, int]:
    from ..audio.wavfile import read_wav_samples as _read

    return _read(data)


def read_regular(path: str | os.PathLike) -> bytes:
    """A file's bytes, refusing FIFOs, devices and sockets before opening (never blocks)."""
    from ..audio.decode import read_regular_file

    return read_regular_file(path)


def check_prompt(path_or_bytes: Any, *, name: str | None = None) -> Any:
    from ..audio.check import check_prompt as _check

    return _check(path_or_bytes, name=name)


# --- local, pure loudness helpers ------------------------------------------------

def dbfs(value: float) -> float:
    """Amplitude → dBFS (full scale 1.0); -inf for zero."""
    return float(20.0 * np.log10(value)) if value > 0 else float("-inf")


def rms_dbfs(x: np.ndarray) -> float:
    """RMS level in dBFS (a full-scale square wave is 0 dBFS)."""
    x = np.asarray(x, dtype=np.float64)
    return dbfs(float(np.sqrt(np.mean(x * x)))) if x.size else float("-inf")


def peak_dbfs(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64)
    return dbfs(float(np.max(np.abs(x)))) if x.size else float("-inf")


def active_rms_dbfs(x: np.ndarray, samplerate: int, *, threshold_dbfs: float = -45.0) -> float:
    """RMS over the speech region only, so padding does not make short characters read quieter.

    A "7" with 0.1 s of silence on each side would otherwise measure ~2 dB
    below a longer "w" at the same speaking level.
    """
    start, stop = speech_bounds(x, samplerate, threshold_dbfs=threshold_dbfs)
    if stop <= start:
        return rms_dbfs(x)
    return rms_dbfs(x[start:stop])


@functools.lru_cache(maxsize=8)
def _meter(samplerate: int) -> Any:
    import pyloudnorm

    return pyloudnorm.Meter(int(samplerate), block_size=LOUDNESS_BLOCK_S)


def loudness_lufs(x: np.ndarray, samplerate: int) -> float:
    """ITU-R BS.1770 integrated loudness of mono *x* in LUFS (pyloudnorm, 0.2 s gating blocks).

    K-weighting models how loud speech sounds (high frequencies count more than in a plain
    RMS), and the gates leave out silence, so padding does not make a short character read
    quieter. A clip shorter than one block is measured as one block of its own length (it
    is padded with silence and the padding's share taken back out). Silence is ``-inf``.

    Examples
    --------
    >>> t = np.arange(8000) / 8000
    >>> round(loudness_lufs(0.1 * np.sin(2 * np.pi * 997 * t), 8000), 1)  # a -23 dBFS RMS sine
    -23.2
    >>> short = 0.1 * np.sin(2 * np.pi * 997 * t[:800])                   # 0.1 s: half a block
    >>> round(loudness_lufs(short, 8000), 1)
    -23.2
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        x = x.mean(axis=1)
    if x.size == 0 or not np.any(x):
        return float("-inf")
    block = int(round(LOUDNESS_BLOCK_S * samplerate))
    correction = 0.0
    if len(x) < block:
        correction = 10.0 * math.log10(block / len(x))
        x = np.concatenate([x, np.zeros(block - len(x))])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        value = float(_meter(int(samplerate)).integrated_loudness(x))
    return value + correction if math.isfinite(value) else float("-inf")


#: Most characters a report's single preview player spells.
PREVIEW_CHARS = 10


def preview_player(folder: Any, chars: Any, *, gap_s: float = 0.15) -> tuple[str, str]:
    """``(code, player)``: one ``<audio>`` player spelling *chars* (at most :data:`PREVIEW_CHARS`) from *folder*.

    *folder* is the set's ``spelling/<locale>`` folder. A report shows this one player instead
    of one per character (36 players make a notebook thousands of pixels tall); the characters
    are joined with *gap_s* of silence, as :func:`~cmvoice_nb.spelling.preview.preview_code`
    does. Characters whose file is a symbolic link or not a regular file are left out, so the
    player never embeds what a link points at; ``("", "")`` when nothing can be played.
    """
    from pathlib import Path

    try:
        folder = Path(folder)
        playable = [c for c in chars
                    if not (folder / f"{c}.wav").is_symlink() and (folder / f"{c}.wav").is_file()]
        code = "".join(playable[:PREVIEW_CHARS])
        if not code:
            return "", ""
        clips: dict[str, np.ndarray] = {}
        for c in dict.fromkeys(code):
            samples, rate = read_wav_samples(read_regular(folder / f"{c}.wav"))
            clips[c] = to_mono_8k(samples, rate)
        gap = np.zeros(int(round(gap_s * RATE)))
        parts = [part for i, c in enumerate(code) for part in ((gap, clips[c]) if i else (clips[c],))]
        # 16-bit PCM: browsers cannot play the set's A-law files.
        return code, audio_player(encode_wav(np.clip(np.concatenate(parts), -1.0, 1.0), target="pcm16"))
    except Exception:  # noqa: BLE001 - no player rather than a broken report
        return "", ""
