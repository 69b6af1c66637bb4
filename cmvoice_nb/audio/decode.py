"""Decode any audio input to the one in-memory representation: float64 + samplerate.

Order of decoders, cheapest and most in-process first:

1. WAV (every variant, A-law and µ-law included) with our own RIFF reader;
2. libsndfile through ``soundfile`` (FLAC, OGG/Vorbis, Opus, MP3, AIFF, ...);
3. PyAV, when installed, for what libsndfile cannot read (M4A/AAC from phones);
4. an ffmpeg executable: ``$FFMPEG``, then ``ffmpeg`` on PATH, then the binary
   shipped in the ``imageio-ffmpeg`` wheel, so a fresh pip install with no
   system packages still converts an M4A.

The binary is looked up when first needed, never at import.
"""
from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AudioError
from ._source import (
    DEFAULT_MAX_BYTES,
    describe,
    from_array,
    from_segment,
    given_length,
    is_audio_segment,
    read_regular_file,
    read_source_bytes,
    still_regular,
)
from .wavfile import (
    decode_wav_data,
    decode_wav_mono,
    looks_like_text,
    parse_wav,
    read_wav_samples,
    sniff_format,
    source_findings,
)

__all__ = ["load_audio", "load_mono", "find_ffmpeg", "read_source_bytes", "read_regular_file",
           "DEFAULT_MAX_DURATION_S", "DEFAULT_MAX_BYTES"]

log = logging.getLogger(__name__)

#: Longest input decoded by default (1 hour): longer is almost surely a mistake and
#: would need gigabytes of memory as float64.
DEFAULT_MAX_DURATION_S = 3600.0


def find_ffmpeg() -> str | None:
    """Return the ffmpeg executable to use, or None.

    ``$FFMPEG`` wins, then ``ffmpeg`` on PATH, then imageio-ffmpeg's bundled binary.
    """
    env = os.environ.get("FFMPEG")
    if env:
        return env
    on_path = shutil.which("ffmpeg")
    if on_path:
        return on_path
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except Exception:  # not installed, or no binary for this platform
        return None


def _check_length(frames: int, rate: int, max_duration_s: float | None, where: Any) -> None:
    if max_duration_s is not None and rate > 0 and frames / rate > max_duration_s:
        raise AudioError(
            f"audio is {frames / rate:.0f} s long, more than max_duration_s={max_duration_s:g} s; "
            "split it or raise the limit", path=where)


#: Frames decoded per step when the header does not say how long the audio is.
_BLOCK_FRAMES = 1 << 18


class _FrameBudget:
    """Count decoded frames and refuse the moment they pass *max_duration_s*.

    A header can hide the length (FLAC's STREAMINFO total samples 0, "unknown"; a stream
    without a duration) or understate it, so the limit is held on what the decoder really
    produces, block by block: nothing past the limit is ever kept, whatever the header says.
    """

    __slots__ = ("limit_s", "where", "note", "frames")

    #: What the refusal says when the header gave no length.
    HIDDEN = "its header does not give the length"

    def __init__(self, max_duration_s: float | None, where: Any, *, note: str = "") -> None:
        self.limit_s, self.where, self.note, self.frames = max_duration_s, where, note, 0

    def add(self, n: int, rate: int) -> None:
        self.frames += int(n)
        if self.limit_s is not None and rate > 0 and self.frames > self.limit_s * rate:
            why = f"{self.note}; " if self.note else ""
            raise AudioError(
                f"audio runs past max_duration_s={self.limit_s:g} s ({why}decoding stopped at the limit); "
                "split it or raise the limit", path=self.where)


def _shape(x: np.ndarray) -> np.ndarray:
    return x[:, 0] if x.ndim == 2 and x.shape[1] == 1 else x


def _decode_soundfile(data: bytes, path: Path | None, max_duration_s: float | None,
                      where: Any, *, mono: bool = False,
                      findings: list[str] | None = None) -> tuple[np.ndarray, int, int]:
    import soundfile as sf

    # A real path is much faster than a BytesIO, which libsndfile reads through Python callbacks.
    with sf.SoundFile(str(path) if path is not None else io.BytesIO(data)) as fh:
        rate = int(fh.samplerate)
        # libsndfile says 0 or SF_COUNT_MAX when the header does not give the length.
        declared = fh.frames if 0 < fh.frames < 2**62 else 0
        if declared:
            _check_length(declared, rate, max_duration_s, where)
            # float32 decodes faster; every codec here has less than 24 bits of precision anyway.
            # At most the declared frames are read, so a header that understates stays in bounds.
            x = fh.read(declared, dtype="float32", always_2d=True)
            if mono:
                x = _mono32(x)
        else:
            x = _read_blocks(fh, rate, _FrameBudget(max_duration_s, where, note=_FrameBudget.HIDDEN), mono=mono)
        if findings is not None and declared and len(x) < declared * 0.99 and rate:
            # The container's header (FLAC STREAMINFO, AIFF COMM, ...) promised more than is there.
            findings.append(f"source is truncated: only {len(x) / rate:.1f} s of the declared "
                            f"{declared / rate:.1f} s will play (the file ends early: an interrupted "
                            "download or copy?)")
        if mono:
            return x, rate, fh.channels
        return _shape(x.astype(np.float64)), rate, fh.channels


def _read_blocks(fh: Any, rate: int, budget: _FrameBudget, *, mono: bool) -> np.ndarray:
    """Decode an open ``SoundFile`` of unknown length in blocks, held to *budget*.

    Mono output is averaged block by block, so a many-channel source never needs its full
    multichannel copy in memory.
    """
    parts: list[np.ndarray] = []
    while True:
        block = fh.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)
        if not len(block):
            break
        budget.add(len(block), rate)
        parts.append(_mono32(block) if mono else block)
    if not parts:
        return np.zeros(0, np.float32) if mono else np.zeros((0, fh.channels), np.float32)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _mono32(x: np.ndarray) -> np.ndarray:
    """Average the columns of an (n, channels) array into a new float32 vector."""
    out = x[:, 0].astype(np.float32)  # always a copy
    for c in range(1, x.shape[1]):
        out += x[:, c]
    if x.shape[1] > 1:
        out *= np.float32(1.0 / x.shape[1])
    return out


def _until_error(frames: Any, errors: list[Exception]) -> Any:
    """Yield decoded frames until the decoder fails; keep the failure (a damaged or cut file)."""
    try:
        yield from frames
    except Exception as exc:  # noqa: BLE001 - PyAV raises its own error types
        errors.append(exc)


def _within(frames: Any, budget: _FrameBudget, rate: int) -> Any:
    """Yield decoded PyAV frames while *budget* allows; raise as soon as it is exceeded."""
    for frame in frames:
        budget.add(frame.samples, int(frame.sample_rate or rate))
        yield frame


def _decode_pyav(data: bytes, path: Path | None, max_duration_s: float | None, where: Any, *,
                 mono: bool = False, findings: list[str] | None = None) -> tuple[np.ndarray, int, int]:
    import av  # optional accelerator: decodes M4A/AAC in process

    src = str(path) if path is not None else io.BytesIO(data)
    try:
        container = av.open(src, mode="r")
    except Exception as exc:
        raise AudioError(f"cannot be decoded: {exc}", path=where) from exc
    with container:
        if not container.streams.audio:
            raise AudioError("contains no audio stream", path=where)
        stream = container.streams.audio[0]
        rate = int(stream.codec_context.sample_rate or stream.rate or 0)
        if stream.duration is not None and stream.time_base is not None and rate:
            _check_length(int(float(stream.duration * stream.time_base) * rate), rate, max_duration_s, where)
        scale = {"s16": 32768.0, "s32": 2147483648.0, "flt": 1.0, "dbl": 1.0}
        dtypes = {"s16": "<i2", "s32": "<i4", "flt": "<f4", "dbl": "<f8"}
        parts: list[np.ndarray] = []
        nch = 1
        errors: list[Exception] = []
        # The stream's duration may be missing or wrong: the limit is held on the decoded frames.
        hidden = _FrameBudget.HIDDEN if stream.duration is None else "it is longer than its header says"
        frames = _within(_until_error(container.decode(stream), errors),
                         _FrameBudget(max_duration_s, where, note=hidden), rate)
        if mono:
            parts, nch = _pyav_mono_frames(frames)
        for frame in () if mono else frames:
            name = frame.format.name
            base = name.rstrip("p")
            nch = len(frame.layout.channels)
            if base not in dtypes:
                arr = frame.to_ndarray().astype(np.float64)  # rare formats (u8): the generic path
                arr = arr.T if frame.format.is_planar else arr.reshape(-1, nch)
                if base == "u8":
                    arr = (arr - 128.0) / 128.0
                parts.append(arr)
                continue
            n = frame.samples
            if frame.format.is_planar:
                # Reading the planes directly avoids PyAV's per-frame vstack.
                arr = np.empty((n, nch), dtype=dtypes[base])
                for c, plane in enumerate(frame.planes[:nch]):
                    arr[:, c] = np.frombuffer(plane, dtype=dtypes[base], count=n)
            else:
                arr = np.frombuffer(frame.planes[0], dtype=dtypes[base], count=n * nch).reshape(n, nch)
            parts.append(arr if scale[base] == 1.0 else arr.astype(np.float64) / scale[base])
        if not parts:
            if errors:
                raise AudioError(f"cannot be decoded: {errors[0]}", path=where)
            raise AudioError("contains no decodable audio (zero length)", path=where)
        x = np.concatenate(parts)
        if errors and findings is not None and rate:
            declared = (float(stream.duration * stream.time_base)
                        if stream.duration is not None and stream.time_base is not None else None)
            of = f" of the declared {declared:.1f} s" if declared else ""
            findings.append(f"source is truncated or damaged: only {len(x) / rate:.1f} s{of} will play "
                            f"(decoding stopped: {errors[0]})")
        if not mono:
            x = x.astype(np.float64, copy=False)
        elif nch > 1:
            x *= np.float32(1.0 / nch)  # frames of one stream share their layout
        if stream.duration is not None and stream.time_base is not None:
            # AAC decoders emit the encoder's end padding too; the container knows the true length.
            x = x[: int(round(float(stream.duration * stream.time_base) * rate))]
        return _shape(x), rate, nch


def _pyav_mono_frames(frames: Any) -> tuple[list[np.ndarray], int]:
    """Mono float32 pieces of decoded PyAV frames (the per-frame Python work kept minimal).

    FFmpeg's AAC, MP3 and Vorbis decoders all emit planar float (``fltp``): each piece is the
    sum of the planes read in place; the caller divides by the channel count once, after
    joining them, instead of once per frame.
    """
    parts: list[np.ndarray] = []
    nch = 0
    f32 = np.float32
    for frame in frames:
        n = frame.samples
        if frame.format.name == "fltp":
            planes = frame.planes
            nch = len(planes)
            a = np.frombuffer(planes[0], f32, n)
            a = a + np.frombuffer(planes[1], f32, n) if nch > 1 else a.copy()
            for plane in planes[2:]:
                a += np.frombuffer(plane, f32, n)
            parts.append(a)
            continue
        # Anything else (s16, flt, s32p, u8, ...): PyAV's generic conversion, per frame.
        arr = frame.to_ndarray()
        nch = len(frame.layout.channels)
        arr = arr if frame.format.is_planar else arr.reshape(-1, nch).T
        base = frame.format.name.rstrip("p")
        scale = {"s16": 1 / 32768.0, "s32": 1 / 2147483648.0, "u8": 1 / 128.0}.get(base, 1.0)
        if base == "u8":
            arr = arr.astype(f32) - 128.0
        parts.append(np.multiply(arr.sum(axis=0, dtype=np.float64), scale).astype(f32))
    return parts, max(nch, 1)


def _decode_ffmpeg(data: bytes, path: Path | None, max_duration_s: float | None, where: Any) -> tuple[np.ndarray, int]:
    exe = find_ffmpeg()
    if exe is None:
        raise AudioError("needs ffmpeg to decode (install imageio-ffmpeg or set $FFMPEG)", path=where)
    tmp = None
    try:
        if path is None:
            # MP4 keeps its index (moov) at the end of phone recordings, so ffmpeg needs a
            # seekable file rather than a pipe.
            fd, tmp = tempfile.mkstemp(suffix=".bin")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            inp = tmp
        else:
            inp = str(path)
        # -t bounds what ffmpeg writes (and so what is held here) whatever the input's header
        # says: one second past the limit is enough to know it was exceeded.
        limit = [] if max_duration_s is None else ["-t", f"{float(max_duration_s) + 1:.3f}"]
        cmd = [exe, "-hide_banner", "-loglevel", "error", "-nostdin", "-i", inp, "-vn", *limit,
               "-c:a", "pcm_f32le", "-f", "wav", "-rf64", "never", "pipe:1"]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=600)
        except OSError as exc:
            raise AudioError(f"cannot run ffmpeg {exe!r}: {exc}", path=where) from exc
        if proc.returncode != 0 or len(proc.stdout) < 44:
            msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            reason = msg[-1] if msg else f"ffmpeg exit status {proc.returncode}"
            raise AudioError(f"cannot be decoded: {reason}", path=where)
        x, rate = read_wav_samples(proc.stdout)
        _FrameBudget(max_duration_s, where).add(len(x), rate)
        return x, rate
    finally:
        if tmp:
            os.unlink(tmp)


def load_audio(src: Any, *, max_duration_s: float | None = DEFAULT_MAX_DURATION_S,
               max_bytes: int | None = DEFAULT_MAX_BYTES) -> tuple[np.ndarray, int]:
    """Decode *src* to float64 samples in [-1, 1] and its sample rate.

    Parameters
    ----------
    src
        A path, ``bytes``, a binary file object, a ``(numpy array, samplerate)``
        pair (integer arrays are scaled by their type's range) or a pydub
        ``AudioSegment``.
    max_duration_s
        Refuse inputs longer than this (``None``: no limit).
    max_bytes
        Refuse input files larger than this (``None``: no limit). Whatever the limit,
        only regular files are read: a FIFO, a device (``/dev/zero`` behind a symbolic
        link) or a socket is refused before it is opened.

    Returns
    -------
    (samples, samplerate)
        ``samples`` has shape (n,) for mono, (n, channels) otherwise; always a new array.

    Raises
    ------
    AudioError
        With the path and the specific reason: not found, empty, text, unsupported, truncated, ...

    Examples
    --------
    >>> import numpy as np
    >>> x, sr = load_audio((np.array([0, 16384, -32768], dtype=np.int16), 8000))
    >>> x.tolist(), sr
    ([0.0, 0.5, -1.0], 8000)
    """
    x, rate, _ = _load(src, max_duration_s=max_duration_s, mono=False, max_bytes=max_bytes)
    return x, rate


def load_mono(src: Any, *, max_duration_s: float | None = DEFAULT_MAX_DURATION_S,
              max_bytes: int | None = DEFAULT_MAX_BYTES) -> tuple[np.ndarray, int, int]:
    """Decode *src* straight to mono ``float32``: the conversion fast path.

    Same inputs, decoders and errors as :func:`load_audio`, but channels are averaged
    while decoding, in single precision, so no float64 copy of the multichannel audio
    is ever made. ``float32`` holds every 24-bit sample exactly and soxr's HQ filter
    computes in single precision anyway, so the converted result is the same.

    Returns
    -------
    (samples, samplerate, channels)
        1-D ``float32`` samples (always a new array), their rate, and how many channels
        the source had.

    Examples
    --------
    >>> import numpy as np
    >>> x, sr, ch = load_mono((np.array([[0.5, 0.25], [-1.0, 0.0]]), 16000))
    >>> x.tolist(), x.dtype.name, sr, ch
    ([0.375, -0.5], 'float32', 16000, 2)
    """
    return _load(src, max_duration_s=max_duration_s, mono=True, max_bytes=max_bytes)


def _as_mono32(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float32) if x.ndim == 1 else _mono32(x)


def _load(src: Any, *, max_duration_s: float | None, mono: bool, max_bytes: int | None = DEFAULT_MAX_BYTES,
          findings: list[str] | None = None, name: str | None = None) -> tuple[np.ndarray, int, int]:
    """The decoder behind :func:`load_audio` and :func:`load_mono`.

    *findings*, when given, collects what is wrong with the source that decoding
    works around (a truncated file, sizes marked unknown, ...), in words for a listener.
    *name* is what errors call in-memory data (default ``<bytes>``).
    """
    if isinstance(src, tuple) or is_audio_segment(src):
        # Judge the length before the float copy (8 bytes a sample) is made.
        _check_length(*given_length(src), max_duration_s, None)
        x, rate = from_array(src) if isinstance(src, tuple) else from_segment(src)
        _check_length(len(x), rate, max_duration_s, None)
        channels = 1 if x.ndim == 1 else int(x.shape[1])
        return (_as_mono32(x) if mono else x), rate, channels
    data, path = read_source_bytes(src, max_bytes=max_bytes, name=name)
    where = path if path is not None else describe(src, name)
    if not data:
        raise AudioError("file is empty (0 bytes)", path=where)
    kind = sniff_format(data)
    if kind is None and data[:4] == b"RIFF":
        raise AudioError(f"truncated WAV file: only {len(data)} bytes, the header is incomplete", path=where)
    if kind == "WAV":
        try:
            info = parse_wav(data)
            if info.samplerate and info.block_align:
                # Judge the length by the header, before decoding anything.
                _check_length(info.frames, int(info.samplerate), max_duration_s, where)
            x = decode_wav_mono(info, data) if mono else _shape(decode_wav_data(info, data))
        except AudioError as exc:
            if exc.path is not None:
                raise
            raise AudioError(str(exc), path=where) from None
        if findings is not None:
            findings.extend(source_findings(info))
        assert info.samplerate is not None and info.channels is not None  # parse_wav refuses a file without them
        rate = int(info.samplerate)
        if len(x) == 0:
            raise AudioError("WAV file contains no audio (zero-length data chunk)", path=where)
        if x.dtype.kind == "f" and not np.isfinite(x).all():
            raise AudioError("contains NaN or infinite samples (a damaged float WAV)", path=where)
        _check_length(len(x), rate, max_duration_s, where)
        return x, rate, int(info.channels)
    if kind is None and looks_like_text(data):
        raise AudioError("is a text file, not audio", path=where)
    if kind in ("ZIP archive", "PDF"):
        raise AudioError(f"is a {kind}, not audio", path=where)
    if path is not None:
        path = still_regular(path, len(data))
    errors = []
    try:
        x, rate, channels = _decode_soundfile(data, path, max_duration_s, where, mono=mono, findings=findings)
        if len(x) == 0:
            raise AudioError("contains no audio (zero length)", path=where)
        return x, rate, channels
    except AudioError:
        raise
    except Exception as exc:  # libsndfile cannot read it: try the ffmpeg family
        errors.append(f"libsndfile: {exc}")
    try:
        import av  # noqa: F401
    except ImportError:
        pass
    else:
        try:
            return _decode_pyav(data, path, max_duration_s, where, mono=mono, findings=findings)
        except AudioError as exc:
            if "max_duration_s" in str(exc):
                raise
            errors.append(str(exc))
    try:
        x, rate = _decode_ffmpeg(data, path, max_duration_s, where)
        channels = 1 if x.ndim == 1 else int(x.shape[1])
        return (_as_mono32(x) if mono else x), rate, channels
    except AudioError as exc:
        if "max_duration_s" in str(exc) or "zero length" in str(exc):
            raise
        log.debug("decoders failed for %s: %s; %s", where, errors, exc)
        if kind:
            reason = str(exc.args[0]).rsplit(": ", 1)[-1]
            raise AudioError(f"damaged or unsupported {kind} file: {reason}", path=where) from None
        raise AudioError("unsupported format: neither libsndfile nor ffmpeg recognises this file as audio",
                         path=where) from None
