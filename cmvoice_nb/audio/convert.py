"""Convert any prompt to the provider's telephony WAV (8 kHz, mono, 8-bit G.711 A-law).

Pipeline: decode → mono downmix → soxr HQ resample to 8 kHz (a real
anti-aliasing filter; pydub's ``set_frame_rate`` folds everything above 4 kHz
back into the voice band) → optional silence trimming and level normalisation →
G.711 A-law → a clean WAV (fmt tag 6, fact chunk, no metadata).

Examples
--------
>>> import numpy as np
>>> t = np.arange(44100) / 44100
>>> stereo = np.column_stack([0.3 * np.sin(2 * np.pi * 440 * t)] * 2)
>>> report = convert_prompt((stereo, 44100))       # dst=None: nothing is written
>>> report.ok, report.codec, report.samplerate, report.channels, report.bits, report.duration_s
(True, 'alaw', 8000, 1, 8, 1.0)
>>> len(report.data)
8058
"""
from __future__ import annotations

import os
import stat
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .. import spec
from .._fsutil import atomic_write_bytes, same_file
from ..errors import AudioError
from . import dsp
from .check import PromptReport, check_prompt
from .decode import DEFAULT_MAX_BYTES, DEFAULT_MAX_DURATION_S, _load
from .wavfile import encode_wav, read_wav_samples

__all__ = ["prepare_samples", "convert_prompt", "to_audio_segment", "TARGETS"]

#: Output formats: the provider's preferred A-law, or 16-bit PCM (accepted by its newer docs).
TARGETS = tuple(spec.AUDIO_FORMATS)
TARGET_RATE = spec.AUDIO_SAMPLERATE
#: Trimming never treats as silence anything within this many dB of the loudest frame.
TRIM_RELATIVE_DB = 40.0


def prepare_samples(samples: np.ndarray, samplerate: int, *, normalize_dbfs: float | None = None,
                    trim: bool = False, trim_threshold_dbfs: float = -45.0, padding_s: float = 0.1,
                    peak_limit_dbfs: float = -1.0) -> np.ndarray:
    """Turn decoded audio into mono 8 kHz float64, ready to encode (pure; input untouched).

    Parameters
    ----------
    samples
        Shape (n,) or (n, channels), float in [-1, 1].
    samplerate
        Rate of *samples* in Hz.
    normalize_dbfs
        Bring the RMS of the (trimmed) audio to this level, peak kept at or below
        *peak_limit_dbfs*. ``None`` leaves the level alone.
    trim
        Cut leading/trailing silence quieter than *trim_threshold_dbfs* (or than 40 dB below
        the loudest frame, if that is lower: quiet recordings keep their speech), keeping
        *padding_s* seconds at each end.

    Examples
    --------
    >>> tone = 0.1 * np.sin(2 * np.pi * 300 * np.arange(1600) / 16000)
    >>> x = np.concatenate([np.zeros(16000), tone, np.zeros(16000)])
    >>> y = prepare_samples(x, 16000, trim=True, padding_s=0.1)
    >>> len(y)  # 0.1 s of sound plus 0.1 s padding each side, at 8 kHz
    2400
    """
    a = np.asarray(samples)
    if a.dtype == np.float32 and a.ndim == 1:
        # The fast path from load_mono: soxr's HQ filter runs in single precision whatever
        # the input type, so float32 in costs nothing in quality and a third of the time.
        x = _resample32(a, int(samplerate)).astype(np.float64)
    else:
        x = dsp.resample(dsp.to_mono(a), int(samplerate), TARGET_RATE)
    if trim:
        # A quiet recording can sit entirely below an absolute threshold; never let the
        # threshold come closer than 40 dB to the loudest 20 ms frame, or trimming eats speech.
        levels, _ = dsp.frame_dbfs(x, TARGET_RATE)
        loudest = float(np.max(levels)) if len(levels) else float("-inf")
        threshold = (min(trim_threshold_dbfs, loudest - TRIM_RELATIVE_DB) if np.isfinite(loudest)
                     else trim_threshold_dbfs)
        x = dsp.trim_silence(x, TARGET_RATE, threshold_dbfs=threshold, padding_s=padding_s)
    if normalize_dbfs is not None:
        x = dsp.normalize_rms(x, target_dbfs=float(normalize_dbfs), peak_limit_dbfs=peak_limit_dbfs)
    return x


def _resample32(x: np.ndarray, samplerate: int) -> np.ndarray:
    """Mono float32 in, float32 at 8 kHz out: soxr's own output type, with no widening copy."""
    if samplerate <= 0:
        raise AudioError(f"sample rates must be positive, got {samplerate} -> {TARGET_RATE}")
    if samplerate == TARGET_RATE or len(x) == 0:
        return x
    import soxr

    return soxr.resample(x, samplerate, TARGET_RATE, quality="HQ")


def _prepare(samples: np.ndarray, samplerate: int, **options: Any) -> np.ndarray:
    # Without trimming or normalising, the float32 samples from load_mono go straight to the
    # encoder: encode_wav gives the same bytes for them as for their float64 copy (exact
    # scaling and rounding), so that copy is skipped. Otherwise: prepare_samples.
    if (samples.dtype == np.float32 and samples.ndim == 1 and not options["trim"]
            and options["normalize_dbfs"] is None):
        return _resample32(samples, int(samplerate))
    return prepare_samples(samples, samplerate, **options)


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except (OSError, ValueError):
        return None


def _source_label(src: Any) -> str | None:
    if isinstance(src, (str, os.PathLike)):
        return str(src)
    name = getattr(src, "name", None)
    return name if isinstance(name, str) else None


def convert_prompt(src: Any, dst: str | os.PathLike | None = None, *, target: str = "alaw",
                   normalize_dbfs: float | None = None, trim: bool = False,
                   trim_threshold_dbfs: float = -45.0, padding_s: float = 0.1,
                   overwrite: bool = True, max_duration_s: float | None = DEFAULT_MAX_DURATION_S,
                   durable: bool = True, strict: bool = False,
                   max_bytes: int | None = DEFAULT_MAX_BYTES, name: str | None = None) -> PromptReport:
    """Convert *src* to a telephony WAV and return the report of the result.

    Parameters
    ----------
    src
        A path, ``bytes``, binary file object, ``(array, samplerate)`` pair or pydub ``AudioSegment``.
    dst
        Where to write. An existing folder gets ``<src stem>.wav`` inside it. ``None``
        writes nothing; the encoded file is in ``report.data`` either way.
    target
        ``"alaw"`` (default; the provider's preferred format) or ``"pcm16"``.
    normalize_dbfs, trim, trim_threshold_dbfs, padding_s
        See :func:`prepare_samples`.
    overwrite
        When False, an existing *dst* raises :class:`~cmvoice_nb.errors.AudioError`.
        The source itself is never overwritten.
    max_duration_s
        Refuse inputs longer than this.
    max_bytes
        Refuse input files larger than this (``None``: no limit). Only regular files are
        read, whatever the limit: FIFOs, devices and sockets are refused before opening.
    strict
        Refuse a damaged source (truncated, sizes marked unknown, ...) instead of converting
        what is there. Without it such a source converts, and the report's ``warnings``
        start with what the listener will hear, e.g. ``"source is truncated: only 2.0 s of
        the declared 4.0 s will play ..."``.
    name
        What to call in-memory input (``bytes``, a file object without a name) in errors and
        in the report's ``source``: the uploaded file's name, so messages never say ``<bytes>``.
        A folder *dst* then gets ``<name stem>.wav``.
    durable
        fsync the written file and its folder before returning. Either way the file is
        written under a temporary name and renamed, so it is all-or-nothing; batches pass
        False and sync once at the end (see :func:`~cmvoice_nb.audio.batch.convert_folder`).

    Returns
    -------
    PromptReport
        The check of the written file (``path`` is *dst*), with ``data`` holding its bytes.

    Raises
    ------
    AudioError
        The input cannot be decoded (or, with *strict*, is damaged), or *dst* is the source or
        exists with ``overwrite=False``.
    """
    if target not in TARGETS:
        raise AudioError(f"unknown target {target!r}: expected one of {', '.join(TARGETS)}")
    label = _source_label(src) if not name or isinstance(src, (str, os.PathLike)) else str(name)
    out_path: Path | None = None
    if dst is not None:
        out_path = Path(dst)
        st = _stat(out_path)
        if st is not None and stat.S_ISDIR(st.st_mode):
            stem = Path(label).stem if label else "prompt"
            out_path = out_path / f"{stem}.wav"
            st = _stat(out_path)
        # Only an existing destination can be the source or be refused (one stat for a new
        # file, where same_file would resolve both paths: a tenth of a millisecond a file).
        if st is not None:
            if label is not None and isinstance(src, (str, os.PathLike)) and same_file(src, out_path):
                raise AudioError("refusing to overwrite the source file; choose another destination", path=out_path)
            if not overwrite:
                raise AudioError("destination exists and overwrite=False", path=out_path)
    findings: list[str] = []
    samples, rate, source_channels = _load(src, max_duration_s=max_duration_s, mono=True, max_bytes=max_bytes,
                                           findings=findings, name=label)
    if findings and strict:
        raise AudioError("; ".join(findings) + " — refused with strict=True (--strict). Fix: re-export or "
                         "re-download the source, or convert without strict to keep what is there", path=label)
    y = _prepare(samples, rate, normalize_dbfs=normalize_dbfs, trim=trim,
                 trim_threshold_dbfs=trim_threshold_dbfs, padding_s=padding_s)
    if len(y) == 0:
        raise AudioError("contains no audio after conversion (zero length)", path=label)
    data = encode_wav(y, target=target)
    report = check_prompt(data, name=out_path.name if out_path is not None else None)
    # The check above sees only the clean output; what is wrong with the source, and so with
    # what the listener will hear, comes first.
    report.warnings[:0] = findings
    over = max(float(y.max()), -float(y.min()))
    if over > 1.0:
        # Float sources (and resampler overshoot on hot recordings) can exceed full scale.
        report.warnings.append(
            f"the audio peaks at {20 * np.log10(over):+.1f} dBFS, above full scale, and was clipped. "
            "Fix: convert with normalize_dbfs=-20.")
    report.data = data
    report.source = label
    report.source_samplerate = int(rate)
    report.source_channels = source_channels
    report.source_duration_s = len(samples) / rate
    if out_path is not None:
        try:
            atomic_write_bytes(out_path, data, durable=durable)
        except OSError as exc:
            raise AudioError(f"cannot be written: {exc.strerror or exc}", path=out_path) from exc
        report.path = out_path
    return report


def _import_pydub():
    with warnings.catch_warnings():
        # pydub warns at import when no ffmpeg is on PATH; we never need it to.
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.simplefilter("ignore", DeprecationWarning)  # audioop on 3.11/3.12
        from pydub import AudioSegment
    return AudioSegment


def to_audio_segment(src_or_report: Any, **options: Any):
    """Return a pydub ``AudioSegment`` of the telephony version of a prompt.

    Given a :class:`PromptReport` (from :func:`convert_prompt`), its audio is
    used as is; anything else is converted first (``options`` as for
    :func:`convert_prompt`). pydub cannot hold A-law, so the segment carries the
    decoded 16-bit samples at 8 kHz: exactly what a caller hears.

    Examples
    --------
    >>> import numpy as np
    >>> seg = to_audio_segment((np.zeros(16000), 16000))
    >>> seg.frame_rate, seg.channels, seg.sample_width, len(seg)
    (8000, 1, 2, 1000)
    """
    AudioSegment = _import_pydub()
    if isinstance(src_or_report, PromptReport):
        data = src_or_report.data
        if data is None:
            if src_or_report.path is None:
                raise AudioError("report carries no audio (neither data nor path)")
            data = Path(src_or_report.path).read_bytes()
    else:
        data = convert_prompt(src_or_report, None, **options).data
        assert data is not None  # without a target path the converted bytes are returned
    x, rate = read_wav_samples(data)
    from .codec import float_to_pcm16

    pcm = float_to_pcm16(x if x.ndim == 1 else x.mean(axis=1))
    return AudioSegment(data=pcm.astype("<i2").tobytes(), sample_width=2, frame_rate=rate, channels=1)
