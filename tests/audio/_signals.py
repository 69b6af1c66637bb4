"""Fixtures built in code: tones, speech-like signals and hand-made WAV headers."""
from __future__ import annotations

import io
import struct

import numpy as np
import soundfile as sf


def sine(freq_hz: float, duration_s: float, samplerate: int, *, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(duration_s * samplerate))) / samplerate
    return amplitude * np.sin(2 * np.pi * freq_hz * t)


def speechlike(duration_s: float, samplerate: int, *, level: float = 0.3, seed: int = 1) -> np.ndarray:
    """Voiced-speech stand-in: 120 Hz harmonics shaped by formants, syllabic 4 Hz envelope."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(duration_s * samplerate))) / samplerate
    x = np.zeros_like(t)
    for k in range(1, 28):
        f = 120.0 * k
        if f >= min(3600.0, samplerate / 2 - 100):
            break
        gain = sum(np.exp(-((f - fc) / bw) ** 2) for fc, bw in ((500, 250), (1500, 400), (2500, 500))) + 0.05
        x += gain * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
    env = 0.55 + 0.45 * np.sin(2 * np.pi * 4.0 * t)
    x *= env
    return level * x / np.max(np.abs(x))


def sf_bytes(x: np.ndarray, samplerate: int, *, format: str, subtype: str | None = None) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, x, samplerate, format=format, subtype=subtype)
    return buf.getvalue()


def riff(chunks: list[tuple[bytes, bytes]], *, riff_size: int | None = None) -> bytes:
    """Assemble a RIFF/WAVE file from (id, payload) chunks, adding pad bytes for odd sizes."""
    body = b"WAVE"
    for cid, payload in chunks:
        body += cid + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) & 1 else b"")
    size = len(body) if riff_size is None else riff_size
    return b"RIFF" + struct.pack("<I", size) + body


def fmt_chunk(tag: int, channels: int, samplerate: int, bits: int, *, byte_rate: int | None = None,
              block_align: int | None = None, extra: bytes | None = None) -> bytes:
    align = block_align if block_align is not None else channels * ((bits + 7) // 8)
    rate = byte_rate if byte_rate is not None else samplerate * align
    payload = struct.pack("<HHIIHH", tag, channels, samplerate, rate, align, bits)
    if extra is not None:
        payload += struct.pack("<H", len(extra)) + extra
    return payload


def extensible_fmt(sub_tag: int, channels: int, samplerate: int, bits: int) -> bytes:
    guid = struct.pack("<H", sub_tag) + bytes.fromhex("000000001000800000aa00389b71")
    extra = struct.pack("<HI", bits, 0x4 if channels == 1 else 0x3) + guid
    return fmt_chunk(0xFFFE, channels, samplerate, bits, extra=extra)
