"""What a decoder reads: files (regular ones only, size-limited), bytes, binary file objects, arrays, AudioSegments.

:func:`read_regular_file` refuses anything that could block or never end (a FIFO, a device, a
socket) before it opens it, and holds every read to *max_bytes*; :func:`read_source_bytes` does
the same for bytes and file objects. In-memory samples (a ``(numpy array, samplerate)`` pair or
a pydub ``AudioSegment``) are turned into the one representation, float64 in [-1, 1].
:mod:`.decode` is the public entry point.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AudioError

__all__ = ["read_regular_file", "read_source_bytes", "still_regular", "describe", "from_array", "from_segment",
           "given_length", "is_audio_segment", "DEFAULT_MAX_BYTES"]

#: Largest input file read by default (500 MB): generous for any prompt, and it keeps a
#: mistaken multi-gigabyte file (or an endless one) from exhausting memory.
DEFAULT_MAX_BYTES = 500_000_000


def describe(src: Any, name: str | None = None) -> str:
    # The caller's name for in-memory data (an upload's file name) beats "<bytes>".
    if name:
        return str(name)
    if isinstance(src, (str, os.PathLike)):
        return str(src)
    name = getattr(src, "name", None)
    return str(name) if isinstance(name, str) else "<bytes>"


def _special_kind(mode: int) -> str | None:
    """What a non-regular file is, in words (None for a regular file)."""
    if stat.S_ISREG(mode):
        return None
    for test, what in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return what
    return "not a regular file"


def _size_text(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n:,} bytes"


def read_regular_file(path: str | os.PathLike, *, max_bytes: int | None = DEFAULT_MAX_BYTES) -> bytes:
    """Read a regular file whole, refusing anything that could block or never end.

    ``os.stat`` (which follows symbolic links) comes first, before any ``open``: a FIFO,
    a device (``x.wav -> /dev/zero``), a socket or a directory is refused with a reason,
    and so is a file larger than *max_bytes*. The file is then opened without blocking
    (``O_NONBLOCK`` where the platform has it) and checked again through the open
    descriptor, so one swapped in between the two is refused too; at most
    ``max_bytes + 1`` bytes are ever read.

    Raises
    ------
    AudioError
        With the path and the reason (not found, special file, too large, unreadable).
    """
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise AudioError("file not found" + (" (a dangling symbolic link)" if os.path.islink(p) else ""),
                         path=p) from None
    except PermissionError:
        raise AudioError("permission denied: the file cannot be read", path=p) from None
    except (OSError, ValueError) as exc:
        raise AudioError(f"cannot be read: {getattr(exc, 'strerror', None) or exc}", path=p) from None
    _require_regular(st, p, max_bytes)
    flags = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(p, flags)
    except IsADirectoryError:
        raise AudioError("is a directory, not an audio file", path=p) from None
    except PermissionError:
        raise AudioError("permission denied: the file cannot be read", path=p) from None
    except OSError as exc:
        raise AudioError(f"cannot be read: {exc.strerror or exc}", path=p) from exc
    try:
        st = os.fstat(fd)
        _require_regular(st, p, max_bytes)  # the same check on what was really opened
        limit = None if max_bytes is None else int(max_bytes) + 1
        with os.fdopen(fd, "rb", closefd=True) as fh:
            fd = -1
            # Ask for the size fstat gave (+1 to see growth): read(limit) would allocate the whole
            # limit up front (500 MB of address space, ~0.2 ms a file in mmap/munmap).
            want = st.st_size + 1 if limit is None else min(limit, st.st_size + 1)
            data = fh.read(want)
            if len(data) == want and (limit is None or want < limit):  # it grew: the rest, bounded
                data += fh.read() if limit is None else fh.read(limit - want)
    except OSError as exc:
        raise AudioError(f"cannot be read: {exc.strerror or exc}", path=p) from exc
    finally:
        if fd >= 0:
            os.close(fd)
    if max_bytes is not None and len(data) > max_bytes:  # it grew after the stat
        raise AudioError(_too_large(len(data), max_bytes), path=p)
    return data


def _too_large(size: int, max_bytes: int) -> str:
    return (f"file is {_size_text(size)}, more than max_bytes={max_bytes:,} ({_size_text(max_bytes)}); "
            "a prompt is far smaller. Fix: split it, or raise max_bytes (--max-bytes) if it is really meant")


def _require_regular(st: os.stat_result, path: Path, max_bytes: int | None) -> None:
    kind = _special_kind(st.st_mode)
    if kind == "a directory":
        raise AudioError("is a directory, not an audio file", path=path)
    if kind is not None:
        raise AudioError(f"is {kind}, not a regular file; only regular files are read as audio "
                         "(reading it could block or never end). Fix: copy the recording into a real file",
                         path=path)
    if max_bytes is not None and st.st_size > max_bytes:
        raise AudioError(_too_large(st.st_size, max_bytes), path=path)


def still_regular(path: Path, size: int) -> Path | None:
    """*path* when it is still the regular file of *size* bytes just read, else None.

    The compressed-format decoders reopen the path (a real path is much faster for them than
    bytes in memory); if it was swapped for a FIFO or a device since it was read, they get
    the bytes instead, so the swap cannot make them block.
    """
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return path if stat.S_ISREG(st.st_mode) and st.st_size == size else None


def read_source_bytes(src: Any, *, max_bytes: int | None = DEFAULT_MAX_BYTES,
                      name: str | None = None) -> tuple[bytes, Path | None]:
    """Read a path, bytes-like or binary file object into bytes; return ``(data, path_or_None)``.

    Paths go through :func:`read_regular_file` (regular files only, at most *max_bytes*);
    in-memory inputs and file objects are held to *max_bytes* too. *name* is what an error
    about in-memory data calls it (the uploaded file's name).
    """
    if isinstance(src, (bytes, bytearray, memoryview)):
        data = bytes(src)
        if max_bytes is not None and len(data) > max_bytes:
            raise AudioError(_too_large(len(data), max_bytes), path=name or None)
        return data, None
    if isinstance(src, (str, os.PathLike)):
        path = Path(src)
        return read_regular_file(path, max_bytes=max_bytes), path
    if hasattr(src, "read"):
        data = src.read() if max_bytes is None else src.read(int(max_bytes) + 1)
        if isinstance(data, str):
            raise AudioError("file object is open in text mode; open it with 'rb'", path=describe(src, name))
        if max_bytes is not None and len(data) > max_bytes:
            raise AudioError(_too_large(len(data), max_bytes), path=describe(src, name))
        own = getattr(src, "name", None)
        return bytes(data), Path(own) if isinstance(own, str) else None
    raise AudioError(
        f"unsupported input type {type(src).__name__}: expected a path, bytes, a binary file, "
        "a (numpy array, samplerate) pair or a pydub AudioSegment"
    )


def from_array(src: tuple) -> tuple[np.ndarray, int]:
    if len(src) != 2:
        raise AudioError("an in-memory input must be a (samples, samplerate) pair")
    arr, rate = src
    try:
        rate = int(rate)
    except (TypeError, ValueError):
        raise AudioError(f"samplerate must be an integer, got {rate!r}") from None
    if rate <= 0:
        raise AudioError(f"samplerate must be positive, got {rate}")
    a = np.asarray(arr)
    if a.ndim not in (1, 2):
        raise AudioError(f"samples must have shape (n,) or (n, channels), got {a.shape}")
    if a.ndim == 2 and a.shape[1] > a.shape[0] and a.shape[1] > 16:
        raise AudioError(f"samples look transposed: shape {a.shape}; expected (n, channels)")
    if np.issubdtype(a.dtype, np.integer):
        info = np.iinfo(a.dtype)
        if info.min == 0:  # unsigned: 8-bit WAV style, centred on the midpoint
            mid = (int(info.max) + 1) / 2
            out = (a.astype(np.float64) - mid) / mid
        else:
            out = a.astype(np.float64) / float(-int(info.min))
    elif np.issubdtype(a.dtype, np.floating):
        out = a.astype(np.float64)  # always a copy: the caller's array is never modified
        if not np.all(np.isfinite(out)):
            raise AudioError("samples contain NaN or infinity")
    else:
        raise AudioError(f"unsupported sample dtype {a.dtype}")
    return out, rate


def from_segment(seg: Any) -> tuple[np.ndarray, int]:
    width = seg.sample_width
    dtype = {1: np.int8, 2: np.int16, 4: np.int32}.get(width)
    raw = seg.raw_data
    if dtype is None:  # 24-bit: widen to int32
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        a = ((b[:, 0] << 8) | (b[:, 1] << 16) | (b[:, 2] << 24)).astype(np.float64) / 2147483648.0
    elif width == 1:
        # pydub keeps 8-bit data as WAV stores it: unsigned.
        a = (np.frombuffer(raw, np.uint8).astype(np.float64) - 128.0) / 128.0
    else:
        a = np.frombuffer(raw, dtype).astype(np.float64) / float(-np.iinfo(dtype).min)
    if seg.channels > 1:
        a = a.reshape(-1, seg.channels)
    return a, int(seg.frame_rate)


def given_length(src: Any) -> tuple[int, int]:
    """``(frames, samplerate)`` of an in-memory input, without converting it; ``(0, 0)`` when unclear."""
    try:
        if isinstance(src, tuple):
            shape = np.shape(src[0]) if len(src) == 2 else ()
            return (int(shape[0]), int(src[1])) if shape else (0, 0)
        frame_bytes = int(src.sample_width) * int(src.channels)
        return len(src.raw_data) // frame_bytes if frame_bytes > 0 else 0, int(src.frame_rate)
    except (TypeError, ValueError, AttributeError):
        return 0, 0  # the conversion says what is wrong with it


def is_audio_segment(src: Any) -> bool:
    return type(src).__name__ == "AudioSegment" and hasattr(src, "raw_data") and hasattr(src, "frame_rate")
