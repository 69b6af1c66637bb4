"""RIFF/WAVE reading and writing without ``wave`` (which cannot open A-law).

:func:`parse_wav` walks the chunk list itself, so it copes with what real
files contain: ``LIST``/``id3 `` metadata before the data (ffmpeg, pydub, DAWs),
odd-sized chunks with their pad byte, sizes that lie, and truncated downloads.
:func:`encode_wav` writes the one clean layout the provider wants.

Examples
--------
>>> import numpy as np
>>> data = encode_wav(np.zeros(800))
>>> info = parse_wav(data)
>>> (info.codec, info.samplerate, info.channels, info.bits, info.duration_s)
('alaw', 8000, 1, 8, 0.1)
>>> [c.id for c in info.chunks]
['fmt ', 'fact', 'data']
"""
from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .. import spec
from ..errors import AudioError
from .codec import alaw_decode, alaw_encode, float_to_pcm16, ulaw_decode

if TYPE_CHECKING:
    import mmap

__all__ = ["WavInfo", "Chunk", "parse_wav", "source_findings", "encode_wav", "read_wav_samples",
           "decode_wav_mono", "sniff_format",
           "wav_duration_s"]

#: WAVE format tags this module knows by name.
FORMAT_TAGS = {
    0x0001: "pcm",
    0x0002: "adpcm",
    0x0003: "float",
    0x0006: "alaw",
    0x0007: "ulaw",
    0x0011: "ima-adpcm",
    0x0031: "gsm610",
    0x0055: "mp3",
    0xFFFE: "extensible",
}

#: Chunk sizes that mean "unknown" (written by streaming tools that cannot seek back).
UNKNOWN_SIZES = (0, 0xFFFFFFFF)
#: Chunks kept in :attr:`WavInfo.chunks` beyond fmt/fact/data; the rest are only counted.
MAX_LISTED_CHUNKS = 64
_KNOWN_CHUNKS = (b"fmt ", b"fact", b"data")

# KSDATAFORMAT_SUBTYPE_* GUIDs end with this; the first two bytes are the format tag.
_GUID_TAIL = bytes.fromhex("000000001000800000aa00389b71")


@dataclass(frozen=True)
class Chunk:
    """One RIFF chunk: its four-character id, the offset of its payload and its declared size."""

    id: str
    offset: int
    size: int


@dataclass
class WavInfo:
    """What a WAV header says, and how it squares with the bytes actually present.

    Attributes
    ----------
    format_tag
        The ``fmt `` tag (1 PCM, 3 float, 6 A-law, 7 µ-law, 0xFFFE extensible, ...).
    subformat_tag
        For extensible headers, the tag inside the sub-format GUID; else equal to ``format_tag``.
    codec
        ``"alaw"``, ``"ulaw"``, ``"pcm"``, ``"float"``, ... of the effective sub-format.
    extensible
        True when the header uses ``WAVE_FORMAT_EXTENSIBLE``.
    data_offset, data_size
        Where the sample data starts and how many bytes of it are really present.
    declared_data_size
        The size the ``data`` chunk header claims.
    truncated
        True when the file ends before the declared data (or a chunk) does.
    size_unknown
        True when the RIFF or data size is ``0xFFFFFFFF`` / ``0`` (a stream's placeholder
        for "unknown"): the data was then read to the end of the file.
    chunks, chunk_count
        The chunks walked (the first 64 plus fmt/fact/data; the others only counted) and
        how many there were.
    """

    riff_size: int = 0
    file_size: int = 0
    chunks: list[Chunk] = field(default_factory=list)
    format_tag: int | None = None
    subformat_tag: int | None = None
    channels: int | None = None
    samplerate: int | None = None
    byte_rate: int | None = None
    block_align: int | None = None
    bits: int | None = None
    valid_bits: int | None = None
    channel_mask: int | None = None
    fact_samples: int | None = None
    data_offset: int | None = None
    data_size: int = 0
    declared_data_size: int = 0
    truncated: bool = False
    size_unknown: bool = False
    chunk_count: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def extensible(self) -> bool:
        return self.format_tag == 0xFFFE

    @property
    def codec(self) -> str | None:
        tag = self.subformat_tag if self.subformat_tag is not None else self.format_tag
        if tag is None:
            return None
        if self.extensible and self.subformat_tag is None:
            return "extensible"
        return FORMAT_TAGS.get(tag, f"tag 0x{tag:04x}")

    @property
    def frames(self) -> int:
        """Whole sample frames present in the data chunk."""
        if not self.block_align:
            return 0
        return self.data_size // self.block_align

    @property
    def duration_s(self) -> float:
        """Duration of the data present, in seconds."""
        if not self.samplerate:
            return 0.0
        return self.frames / self.samplerate

    @property
    def chunk_ids(self) -> list[str]:
        return [c.id for c in self.chunks]


def sniff_format(data: bytes) -> str | None:
    """Name the container of *data* from its magic bytes, or None.

    Examples
    --------
    >>> sniff_format(b"fLaC" + bytes(40))
    'FLAC'
    >>> sniff_format(b"hello, world") is None
    True
    """
    head = bytes(data[:64])
    if head[:4] in (b"RIFF", b"RIFX", b"RF64") and head[8:12] == b"WAVE":
        return {b"RIFF": "WAV", b"RIFX": "WAV (big-endian RIFX)", b"RF64": "RF64"}[head[:4]]
    if head[:4] == b"fLaC":
        return "FLAC"
    if head[:4] == b"OggS":
        return "OGG"
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0 and (head[1] & 0x06) != 0):
        return "MP3"
    if head[4:8] == b"ftyp":
        return "MP4/M4A"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "AIFF"
    if head[:4] == b"\x1aE\xdf\xa3":
        return "Matroska/WebM"
    if head[:6] == b"#!AMR\n":
        return "AMR"
    if head[:4] == b".snd":
        return "AU"
    if head[:4] == b"caff":
        return "CAF"
    if head[:2] == b"PK":
        return "ZIP archive"
    if head[:5] == b"%PDF-":
        return "PDF"
    return None


def looks_like_text(data: bytes) -> bool:
    """True when the first bytes are printable text (a text file renamed ``.wav``)."""
    head = bytes(data[:512])
    if not head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable >= 0.95 * len(text)


def parse_wav(data: bytes | mmap.mmap) -> WavInfo:
    """Walk the RIFF chunks of a WAV file held in memory.

    Parameters
    ----------
    data
        The whole file (or as much of it as exists).

    Returns
    -------
    WavInfo
        The ``fmt `` fields, the chunk list, where the data is and whether the file is truncated.

    Raises
    ------
    AudioError
        When *data* is not a RIFF/WAVE file at all, or has no usable ``fmt `` chunk.

    Examples
    --------
    >>> parse_wav(b"not a wav")
    Traceback (most recent call last):
    ...
    cmvoice_nb.errors.AudioError: not a WAV file (no RIFF/WAVE header)
    """
    mv = memoryview(data)
    n = len(mv)
    if n < 12 or bytes(mv[0:4]) not in (b"RIFF", b"RIFX", b"RF64") or bytes(mv[8:12]) != b"WAVE":
        raise AudioError("not a WAV file (no RIFF/WAVE header)")
    if bytes(mv[0:4]) != b"RIFF":
        raise AudioError(f"{bytes(mv[0:4]).decode()} WAV variant is not supported (only little-endian RIFF)")
    info = WavInfo(riff_size=struct.unpack_from("<I", mv, 4)[0], file_size=n)
    if info.riff_size in UNKNOWN_SIZES:
        # Streaming writers (ffmpeg to a pipe, sox -t wav -) cannot seek back to fill it in.
        info.size_unknown = True
        info.notes.append(f"RIFF size is 0x{info.riff_size:08X} (unknown): read to the end of the file")
    elif info.riff_size + 8 > n:
        info.truncated = True
        info.notes.append(f"RIFF header declares {info.riff_size + 8} bytes but the file has {n}")
    elif info.riff_size + 8 < n:
        info.notes.append(f"{n - info.riff_size - 8} bytes after the end of the RIFF chunk")
    pos = 12
    end = n
    unpack = struct.Struct("<4sI").unpack_from
    # One pass, constant memory: only the first MAX_LISTED_CHUNKS chunks are kept in the list
    # (a file of a million empty chunks would otherwise cost a million objects).
    while pos + 8 <= end:
        raw_id, size = unpack(mv, pos)
        payload = pos + 8
        info.chunk_count += 1
        if raw_id in _KNOWN_CHUNKS or len(info.chunks) < MAX_LISTED_CHUNKS:
            cid = raw_id.decode("latin-1")
            info.chunks.append(Chunk(cid, payload, size))
        if raw_id == b"data" and info.data_offset is None:
            rest = end - payload
            if size == 0xFFFFFFFF or (size == 0 and rest > 0 and not _looks_like_chunk(mv, payload)):
                # "Unknown" (a stream's placeholder): the audio runs to the end of the file.
                info.size_unknown = True
                info.notes.append(f"data chunk size is 0x{size:08X} (unknown): read to the end of the file")
                size = rest
            info.data_offset = payload
            info.declared_data_size = size
            info.data_size = min(size, rest)
            if size > rest:
                info.truncated = True
                info.notes.append(f"data chunk declares {size} bytes but only {rest} are present")
        elif raw_id == b"fmt ":
            _parse_fmt(info, mv[payload:payload + min(size, end - payload)])
        elif raw_id == b"fact" and min(size, end - payload) >= 4:
            info.fact_samples = struct.unpack_from("<I", mv, payload)[0]
        if payload + size > end:
            if raw_id != b"data":
                info.truncated = True
                info.notes.append(f"chunk {raw_id.decode('latin-1')!r} runs past the end of the file")
            break
        pos = payload + size + (size & 1)  # chunks are word-aligned: odd sizes carry a pad byte
    if info.format_tag is None:
        raise AudioError("WAV file has no fmt chunk" + (" (file is truncated)" if info.truncated else ""))
    return info


def _looks_like_chunk(mv: memoryview, pos: int) -> bool:
    """True when a chunk header (four printable ASCII characters and a size) starts at *pos*."""
    if pos + 8 > len(mv):
        return False
    return all(0x20 <= b < 0x7F for b in bytes(mv[pos:pos + 4]))


def _seconds(nbytes: int, info: WavInfo) -> float | None:
    if not info.block_align or not info.samplerate:
        return None
    return (nbytes // info.block_align) / info.samplerate


def source_findings(info: WavInfo) -> list[str]:
    """What a listener will notice about a WAV source, in words: truncation, unknown sizes, cut chunks.

    These describe the *input*; converting cannot repair them, so
    :func:`~cmvoice_nb.audio.convert.convert_prompt` carries them into its report.

    Examples
    --------
    >>> import numpy as np
    >>> whole = encode_wav(np.zeros(32000), target="pcm16")   # 4 s
    >>> source_findings(parse_wav(whole[: len(whole) // 2]))
    ['source is truncated: only 2.0 s of the declared 4.0 s will play (the file ends early: an interrupted ...']
    """
    out: list[str] = []
    if info.data_offset is not None and info.declared_data_size > info.data_size:
        have, declared = _seconds(info.data_size, info), _seconds(info.declared_data_size, info)
        if have is not None and declared is not None:
            out.append(f"source is truncated: only {have:.1f} s of the declared {declared:.1f} s will play "
                       "(the file ends early: an interrupted download or copy?)")
        else:
            out.append(f"source is truncated: only {info.data_size} of the declared {info.declared_data_size} "
                       "bytes of audio are present")
    elif info.truncated and info.data_offset is not None:
        out.append("source file is cut short after its audio (a chunk runs past the end of the file); "
                   "the audio itself is complete")
    if info.size_unknown:
        have = _seconds(info.data_size, info)
        length = f" ({have:.1f} s)" if have is not None else ""
        out.append("source WAV header does not state its length (size 0xFFFFFFFF or 0, as streaming tools "
                   f"write it): the audio was read to the end of the file{length}")
    for note in info.notes:
        if "after the end of the RIFF chunk" in note:
            out.append(f"source has {note}; they were ignored (audio appended after a stale header is lost)")
    return out


def _parse_fmt(info: WavInfo, fmt: memoryview) -> None:
    if len(fmt) < 16:
        info.notes.append(f"fmt chunk is {len(fmt)} bytes, shorter than the 16 required")
        return
    (info.format_tag, info.channels, info.samplerate, info.byte_rate,
     info.block_align, info.bits) = struct.unpack_from("<HHIIHH", fmt, 0)
    info.subformat_tag = info.format_tag
    if info.format_tag == 0xFFFE:
        if len(fmt) >= 40:
            info.valid_bits, info.channel_mask = struct.unpack_from("<HI", fmt, 18)
            guid = bytes(fmt[24:40])
            info.subformat_tag = struct.unpack_from("<H", guid, 0)[0] if guid[2:] == _GUID_TAIL else None
        else:
            info.subformat_tag = None
            info.notes.append("extensible fmt chunk is shorter than 40 bytes")


def encode_wav(samples_8k: np.ndarray, *, target: str = spec.AUDIO_FORMAT.target,
               samplerate: int = spec.AUDIO_SAMPLERATE) -> bytes:
    """Encode mono float samples as a clean telephony WAV.

    Parameters
    ----------
    samples_8k
        1-D float array in [-1, 1] (values outside are clipped), already at *samplerate*;
        float32 or float64 (anything else is converted to float64).
    target
        ``"alaw"``: G.711 A-law, fmt tag 6, 1 channel, 8 bits, byte rate = samplerate,
        block align 1, with the ``fact`` chunk the RIFF spec requires for non-PCM
        data. ``"pcm16"``: 16-bit linear PCM (the provider's newer docs accept it).
        No metadata chunks either way.
    samplerate
        Rate written in the header; 8000 for the provider.

    Examples
    --------
    >>> import numpy as np
    >>> len(encode_wav(np.zeros(8000)))  # 12 RIFF + 26 fmt + 12 fact + 8 data header + 8000
    8058
    >>> len(encode_wav(np.zeros(8000), target="pcm16"))
    16044
    """
    x = np.asarray(samples_8k)
    if x.dtype != np.float32:  # float32 (the conversion fast path) encodes as is, identically
        x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise AudioError(f"encode_wav expects mono samples (1-D), got shape {x.shape}")
    pcm = float_to_pcm16(x)
    if target == "alaw":
        payload = alaw_encode(pcm).tobytes()
        fmt = struct.pack("<HHIIHHH", 6, 1, samplerate, samplerate, 1, 8, 0)
        extra = b"fact" + struct.pack("<II", 4, len(payload))
    elif target == "pcm16":
        payload = pcm.astype("<i2", copy=False).tobytes()
        fmt = struct.pack("<HHIIHH", 1, 1, samplerate, samplerate * 2, 2, 16)
        extra = b""
    else:
        raise AudioError(f"unknown target {target!r}: expected 'alaw' or 'pcm16'")
    pad = b"\x00" if len(payload) & 1 else b""
    body = (b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra
            + b"data" + struct.pack("<I", len(payload)) + payload + pad)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def decode_wav_data(info: WavInfo, data: bytes) -> np.ndarray:
    """Decode the sample data described by *info* to float64, shape (frames, channels)."""
    tag = info.subformat_tag
    ch = info.channels or 0
    bits = info.bits or 0
    if ch < 1:
        raise AudioError("WAV header declares 0 channels")
    if not info.samplerate:
        raise AudioError("WAV header declares a sample rate of 0 Hz")
    if info.data_offset is None:
        raise AudioError("WAV file has no data chunk" + (" (file is truncated)" if info.truncated else ""))
    if tag == 1 and info.extensible and info.valid_bits and info.valid_bits != bits:
        pass  # samples are left-justified in the container: decoding by container width is right
    width = {1: (bits + 7) // 8, 3: bits // 8, 6: 1, 7: 1}.get(tag or -1)
    if width is None or (tag == 1 and width not in (1, 2, 3, 4)) or (tag == 3 and bits not in (32, 64)):
        raise AudioError(f"unsupported WAV codec {info.codec!r} ({bits} bit)")
    frame_bytes = width * ch
    nframes = info.data_size // frame_bytes
    raw = np.frombuffer(data, dtype=np.uint8, count=nframes * frame_bytes, offset=info.data_offset)
    if tag == 6:
        out = alaw_decode(raw).astype(np.float64) / 32768.0
    elif tag == 7:
        out = ulaw_decode(raw).astype(np.float64) / 32768.0
    elif tag == 3:
        out = raw.view("<f4" if bits == 32 else "<f8").astype(np.float64)
    elif width == 1:
        out = (raw.astype(np.float64) - 128.0) / 128.0  # 8-bit WAV PCM is unsigned
    elif width == 2:
        out = raw.view("<i2").astype(np.float64) / 32768.0
    elif width == 3:
        out = _int24_to_int32(data, info.data_offset, nframes * ch) * (1.0 / 2147483648.0)
    else:
        out = raw.view("<i4").astype(np.float64) / 2147483648.0
    return out.reshape(-1, ch)


def _int24_to_int32(data: bytes, offset: int, count: int) -> np.ndarray:
    """Widen *count* little-endian 24-bit samples at *offset* of *data* to int32 scaled by 256.

    Each sample is read as the 32-bit word that ends with its three bytes (a stride-3
    view starting one byte early: the data never starts at byte 0 of a WAV), and the
    borrowed low byte is masked off. The sign comes for free, and the whole job is one
    pass: about 8x faster than copying byte columns into a wider array.
    """
    if count == 0:
        return np.zeros(0, dtype=np.int32)
    words = np.ndarray((count,), dtype="<i4", buffer=data, offset=offset - 1, strides=(3,))
    return np.bitwise_and(words, np.int32(-256))


def decode_wav_mono(info: WavInfo, data: bytes) -> np.ndarray:
    """Decode the sample data described by *info* straight to mono ``float32``.

    The conversion fast path: channels are averaged while still in the narrow type, and no
    float64 copy of the multichannel data is ever made. ``float32`` holds every 24-bit PCM
    value exactly, and soxr's HQ filter computes in single precision anyway, so nothing
    downstream loses precision. Same errors as :func:`decode_wav_data`.

    Examples
    --------
    >>> import numpy as np
    >>> wav = encode_wav(np.full(4, 0.5), target="pcm16")
    >>> decode_wav_mono(parse_wav(wav), wav).tolist()
    [0.5, 0.5, 0.5, 0.5]
    """
    tag = info.subformat_tag
    ch = info.channels or 0
    bits = info.bits or 0
    if tag not in (1, 3, 6, 7) or ch < 1 or not info.samplerate or info.data_offset is None:
        return _mono32(decode_wav_data(info, data))  # rare layouts, and every error message
    width = {1: (bits + 7) // 8, 3: bits // 8, 6: 1, 7: 1}[tag]
    if (tag == 1 and width not in (1, 2, 3, 4)) or (tag == 3 and bits not in (32, 64)):
        return _mono32(decode_wav_data(info, data))
    nframes = info.data_size // (width * ch)
    raw = np.frombuffer(data, dtype=np.uint8, count=nframes * width * ch, offset=info.data_offset)
    if tag == 6:
        v, scale = alaw_decode(raw), 1.0 / 32768.0
    elif tag == 7:
        v, scale = ulaw_decode(raw), 1.0 / 32768.0
    elif tag == 3:
        v, scale = raw.view("<f4" if bits == 32 else "<f8"), 1.0
    elif width == 1:
        v, scale = raw.view(np.int8) ^ np.int8(-128), 1.0 / 128.0  # unsigned: flip the top bit
    elif width == 2:
        v, scale = raw.view("<i2"), 1.0 / 32768.0
    elif width == 3:
        v, scale = _int24_to_int32(data, info.data_offset, nframes * ch), 1.0 / 2147483648.0
    else:
        v, scale = raw.view("<i4"), 1.0 / 2147483648.0
    if ch == 1:
        return np.multiply(v, scale, dtype=np.float32)
    v = v.reshape(-1, ch)
    out = v[:, 0].astype(np.float32)
    for c in range(1, ch):
        out += v[:, c]
    out *= np.float32(scale / ch)
    return out


def _mono32(x: np.ndarray) -> np.ndarray:
    out = x[:, 0].astype(np.float32)
    for c in range(1, x.shape[1]):
        out += x[:, c]
    if x.shape[1] > 1:
        out *= np.float32(1.0 / x.shape[1])
    return out


def read_wav_samples(data: bytes) -> tuple[np.ndarray, int]:
    """Decode any WAV variant held in memory to float64.

    Handles PCM 8/16/24/32-bit, 32/64-bit float, A-law, µ-law and their
    extensible forms; a truncated file yields the whole frames present.

    Returns
    -------
    (samples, samplerate)
        ``samples`` has shape (n,) for mono and (n, channels) otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> x, sr = read_wav_samples(encode_wav(np.full(4, 0.5), target="pcm16"))
    >>> x.tolist(), sr
    ([0.5, 0.5, 0.5, 0.5], 8000)
    """
    info = parse_wav(data)
    out = decode_wav_data(info, data)
    if out.shape[1] == 1:
        out = out[:, 0]
    assert info.samplerate is not None  # parse_wav refuses a file without it
    return out, int(info.samplerate)


def wav_duration_s(path: str | os.PathLike) -> float | None:
    """Duration of a WAV file (any codec: data bytes / byte rate), or None when unreadable.

    The chunks are walked by the package's one RIFF reader,
    :func:`parse_wav`, over a memory map: only the header
    pages are read, however large the file.

    Examples
    --------
    >>> import struct, tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.wav"
    >>> fmt = struct.pack("<HHIIHH", 6, 1, 8000, 8000, 1, 8)     # A-law, 8 kHz, mono
    >>> _ = p.write_bytes(b"RIFF" + struct.pack("<I", 4 + 8 + 16 + 8 + 4000) + b"WAVE"
    ...                   + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", 4000) + bytes(4000))
    >>> wav_duration_s(p)
    0.5
    """
    import mmap

    try:
        with open(path, "rb") as fh:
            try:
                view = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError:  # an empty file cannot be mapped (and is no WAV)
                return None
            with view:
                try:
                    info = parse_wav(view)
                except AudioError:
                    return None
    except OSError:
        return None
    return info.data_size / info.byte_rate if info.data_offset is not None and info.byte_rate else None
