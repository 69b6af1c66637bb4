"""Pure signal functions over float64 numpy arrays (mono unless said otherwise).

Nothing here touches a file; every function returns a new array and leaves its
input alone. Levels are in dBFS where 0 dBFS is a full-scale sample (|x| = 1).

Examples
--------
>>> import numpy as np
>>> sr = 8000
>>> t = np.arange(sr) / sr
>>> tone = 0.5 * np.sin(2 * np.pi * 440 * t)
>>> round(dbfs_peak(tone), 1), round(dbfs_rms(tone), 1)
(-6.0, -9.0)
>>> x = np.concatenate([np.zeros(sr), tone, np.zeros(sr)])
>>> speech_bounds(x, sr)
(8000, 16000)
"""
from __future__ import annotations

import numpy as np

from ..errors import AudioError

__all__ = [
    "to_mono",
    "resample",
    "dbfs_peak",
    "dbfs_rms",
    "frame_dbfs",
    "speech_bounds",
    "trim_silence",
    "normalize_rms",
    "split_on_silence",
]


def to_mono(x: np.ndarray) -> np.ndarray:
    """Average the channels of an (n, channels) array; 1-D input is returned as a copy.

    Examples
    --------
    >>> to_mono(np.array([[1.0, 0.0], [0.5, 0.5]])).tolist()
    [0.5, 0.5]
    """
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 1:
        return a.copy()
    if a.ndim != 2:
        raise AudioError(f"expected samples of shape (n,) or (n, channels), got {a.shape}")
    if a.shape[1] == 1:
        return a[:, 0].copy()
    # Summing column slices is several times faster than a.mean(axis=1) on (n, 2) arrays.
    out = a[:, 0].copy()
    for c in range(1, a.shape[1]):
        out += a[:, c]
    out *= 1.0 / a.shape[1]
    return out


def resample(x: np.ndarray, from_rate: int, to_rate: int = 8000) -> np.ndarray:
    """Resample with soxr's HQ filter (a real anti-aliasing low-pass).

    Unlike pydub's ``set_frame_rate`` (which aliases everything above the new
    Nyquist frequency back into the voice band), content above ``to_rate / 2``
    is suppressed by well over 100 dB.

    Examples
    --------
    >>> resample(np.zeros(44100), 44100).shape
    (8000,)
    """
    a = np.asarray(x, dtype=np.float64)
    if from_rate <= 0 or to_rate <= 0:
        raise AudioError(f"sample rates must be positive, got {from_rate} -> {to_rate}")
    if from_rate == to_rate:
        return a.copy()
    if len(a) == 0:
        return np.zeros((0,) + a.shape[1:])
    import soxr  # deferred: nothing heavy at package import

    return np.asarray(soxr.resample(a, from_rate, to_rate, quality="HQ"), dtype=np.float64)


def _db(v: float) -> float:
    return float(20.0 * np.log10(v)) if v > 0 else float("-inf")


def dbfs_peak(x: np.ndarray) -> float:
    """Peak level in dBFS (``-inf`` for digital silence or empty input)."""
    a = np.asarray(x, dtype=np.float64)
    # max and -min instead of max(abs(x)): no temporary array the size of the input.
    return _db(max(float(a.max()), -float(a.min()))) if a.size else float("-inf")


def dbfs_rms(x: np.ndarray) -> float:
    """RMS level in dBFS (a full-scale sine is -3.01 dBFS; ``-inf`` for silence)."""
    a = np.asarray(x, dtype=np.float64).ravel()
    # einsum sums the squares without a temporary array of them. Not np.dot: that is BLAS,
    # whose threads oversubscribe the cores when a batch already runs one process per core.
    return _db(float(np.sqrt(np.einsum("i,i->", a, a) / a.size))) if a.size else float("-inf")


def frame_dbfs(x: np.ndarray, samplerate: int, *, frame_s: float = 0.02) -> tuple[np.ndarray, int]:
    """RMS level of consecutive frames, in dBFS; returns ``(levels, frame_length)``.

    The last partial frame is measured over the samples it has.
    """
    a = np.asarray(x, dtype=np.float64)
    flen = max(1, int(round(frame_s * samplerate)))
    n = len(a)
    if n == 0:
        return np.zeros(0), flen
    nfull = n // flen
    sq = np.square(a)
    power = sq[: nfull * flen].reshape(nfull, flen).mean(axis=1) if nfull else np.zeros(0)
    if n % flen:
        power = np.append(power, sq[nfull * flen:].mean())
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(power), flen


def speech_bounds(x: np.ndarray, samplerate: int, *, threshold_dbfs: float = -45.0,
                  frame_s: float = 0.02) -> tuple[int, int]:
    """Sample indices ``(start, stop)`` of the region between the first and last loud frame.

    A frame is loud when its RMS is above *threshold_dbfs*. All-silent input gives ``(0, 0)``.

    Examples
    --------
    >>> x = np.concatenate([np.zeros(800), np.full(480, 0.1), np.zeros(800)])
    >>> speech_bounds(x, 8000)  # 20 ms frames of 160 samples
    (800, 1280)
    """
    levels, flen = frame_dbfs(x, samplerate, frame_s=frame_s)
    loud = np.flatnonzero(levels > threshold_dbfs)
    if loud.size == 0:
        return 0, 0
    return int(loud[0] * flen), int(min(len(x), (loud[-1] + 1) * flen))


def trim_silence(x: np.ndarray, samplerate: int, *, threshold_dbfs: float = -45.0,
                 padding_s: float = 0.1) -> np.ndarray:
    """Cut leading and trailing silence, keeping *padding_s* seconds at each end.

    All-silent input is returned unchanged (a copy): trimming it to nothing would
    hide the problem instead of reporting it.

    Examples
    --------
    >>> x = np.concatenate([np.zeros(8000), np.full(800, 0.1), np.zeros(8000)])
    >>> len(trim_silence(x, 8000, padding_s=0.1))
    2400
    """
    a = np.asarray(x, dtype=np.float64)
    start, stop = speech_bounds(a, samplerate, threshold_dbfs=threshold_dbfs)
    if stop <= start:
        return a.copy()
    pad = int(round(padding_s * samplerate))
    return a[max(0, start - pad): min(len(a), stop + pad)].copy()


def normalize_rms(x: np.ndarray, *, target_dbfs: float = -20.0, peak_limit_dbfs: float = -1.0) -> np.ndarray:
    """Scale *x* so its RMS is *target_dbfs*, but never let the peak exceed *peak_limit_dbfs*.

    When the peak limit wins, the RMS ends below the target (no compression or
    clipping is applied). Silence is returned unchanged.

    Examples
    --------
    >>> t = np.arange(8000) / 8000
    >>> y = normalize_rms(0.01 * np.sin(2 * np.pi * 300 * t), target_dbfs=-20.0)
    >>> round(dbfs_rms(y), 2)
    -20.0
    """
    a = np.asarray(x, dtype=np.float64)
    rms = dbfs_rms(a)
    peak = dbfs_peak(a)
    if not np.isfinite(rms):
        return a.copy()
    gain_db = min(target_dbfs - rms, peak_limit_dbfs - peak)
    return a * (10.0 ** (gain_db / 20.0))


def split_on_silence(x: np.ndarray, samplerate: int, *, min_silence_s: float = 0.3,
                     threshold_dbfs: float = -45.0, min_segment_s: float = 0.08,
                     frame_s: float = 0.01) -> list[tuple[int, int]]:
    """Find the loud segments separated by at least *min_silence_s* of silence.

    Returns ``[(start, stop), ...]`` sample indices; segments shorter than
    *min_segment_s* (clicks) are dropped.

    Examples
    --------
    >>> sr = 8000
    >>> beep = np.full(sr // 5, 0.2)
    >>> x = np.concatenate([np.zeros(sr), beep, np.zeros(sr), beep, np.zeros(sr // 10)])
    >>> split_on_silence(x, sr)
    [(8000, 9600), (17600, 19200)]
    """
    levels, flen = frame_dbfs(x, samplerate, frame_s=frame_s)
    loud = levels > threshold_dbfs
    if not loud.any():
        return []
    idx = np.flatnonzero(loud)
    min_gap_frames = max(1, int(round(min_silence_s * samplerate / flen)))
    # A new segment starts wherever the gap to the previous loud frame is long enough.
    gaps = np.diff(idx) - 1
    breaks = np.flatnonzero(gaps >= min_gap_frames)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    stops = np.concatenate([idx[breaks], [idx[-1]]]) + 1
    n = len(np.asarray(x))
    out = []
    for s, e in zip(starts, stops, strict=True):
        s_i, e_i = int(s * flen), int(min(n, e * flen))
        if (e_i - s_i) >= min_segment_s * samplerate:
            out.append((s_i, e_i))
    return out
