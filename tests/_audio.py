"""Audio made in code for every test folder: tones, silence, speech-like signals, WAV bytes, files.

Samples are float arrays in [-1, 1]. Bytes are made three ways, each for its own purpose:

- :func:`telephony_wav` is the package's own ``encode_wav`` (8 kHz A-law or 16-bit PCM): a
  prompt that already complies;
- :func:`sf_bytes` and :func:`tone_wav` go through soundfile: what a user brings (any rate,
  channels and format: WAV, WAVEX, FLAC, OGG, MP3);
- :func:`riff`, :func:`fmt_chunk`, :func:`extensible_fmt` and :func:`alaw_riff` assemble the
  header by hand: the exact layout a reader must cope with, independent of the package's writer.
"""
from __future__ import annotations

import io
import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np

from ._wait import scaled

#: The provider's sample rate.
RATE = 8000


# ------------------------------------------------------------------------------------ samples
def sine(freq_hz: float, duration_s: float, samplerate: int = RATE, *, amplitude: float = 0.5) -> np.ndarray:
    """A plain sine, starting at zero phase."""
    t = np.arange(int(round(duration_s * samplerate))) / samplerate
    return amplitude * np.sin(2 * np.pi * freq_hz * t)


def tone(freq_hz: float, duration_s: float = 0.3, *, amplitude: float = 0.3, samplerate: int = RATE) -> np.ndarray:
    """A sine burst with 5 ms fades in and out (no clicks), like one spoken character."""
    x = sine(freq_hz, duration_s, samplerate, amplitude=amplitude)
    fade = min(len(x) // 2, int(0.005 * samplerate))
    ramp = np.linspace(0.0, 1.0, fade)
    x[:fade] *= ramp
    x[len(x) - fade:] *= ramp[::-1]
    return x


def silence(duration_s: float, samplerate: int = RATE) -> np.ndarray:
    """Digital silence."""
    return np.zeros(int(round(duration_s * samplerate)))


def padded(x: np.ndarray, before_s: float, after_s: float | None = None, samplerate: int = RATE) -> np.ndarray:
    """*x* with silence before and after (*after_s* defaults to *before_s*), as a recording has."""
    after_s = before_s if after_s is None else after_s
    return np.concatenate([silence(before_s, samplerate), x, silence(after_s, samplerate)])


def sequence(freqs, *, gap_s: float = 0.5, tone_s: float = 0.3, samplerate: int = RATE,
             amplitudes=None) -> np.ndarray:
    """Tones separated by silence, like a person reading "zero ... one ... two"."""
    amplitudes = amplitudes or [0.3] * len(freqs)
    parts = [silence(gap_s, samplerate)]
    for f, a in zip(freqs, amplitudes, strict=True):
        parts += [tone(f, tone_s, amplitude=a, samplerate=samplerate), silence(gap_s, samplerate)]
    return np.concatenate(parts)


def speechlike(duration_s: float, samplerate: int = RATE, *, level: float = 0.3, seed: int = 1) -> np.ndarray:
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


def syllable(seed: int, samplerate: int = 16000) -> np.ndarray:
    """A 0.35-0.7 s "syllable" that differs by *seed*: voiced harmonics, or a hiss for every third seed."""
    rng = np.random.default_rng(seed)
    n = int(samplerate * rng.uniform(0.35, 0.7))
    t = np.arange(n) / samplerate
    if seed % 3 == 0:  # fricative-like ("s", "f"): most energy high up
        x = np.diff(rng.normal(size=n + 1)) * 0.5
    else:
        f0 = rng.uniform(90, 220)
        x = sum(np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6)) / k ** rng.uniform(0.6, 1.6)
                for k in range(1, 20) if f0 * k < samplerate / 2)
    env = np.sin(np.pi * np.arange(n) / n) ** rng.uniform(0.5, 2.0)
    x = x * env
    return 0.7 * x / np.max(np.abs(x))


def espeak(text: str, *, language: str = "en-gb", ssml: bool = False) -> tuple[np.ndarray, int]:
    """Real synthetic speech from espeak-ng: (samples, sample rate)."""
    import soundfile as sf

    cmd = [shutil.which("espeak-ng") or "espeak-ng", "-v", language, "--stdout"] + (["-m"] if ssml else []) + [text]
    out = subprocess.run(cmd, capture_output=True, check=True, timeout=scaled(30)).stdout
    data, rate = sf.read(io.BytesIO(out), dtype="float64")
    return data, rate


def dominant_hz(x: np.ndarray, samplerate: int = RATE) -> float:
    """The frequency with the most energy in *x* (to tell which tone a file holds)."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / samplerate)[np.argmax(spectrum)])


# -------------------------------------------------------------------------------------- bytes
def telephony_wav(x: np.ndarray, *, target: str = "alaw") -> bytes:
    """*x* (already at 8 kHz) as the package writes a compliant prompt: A-law, or ``target="pcm16"``."""
    from cmvoice_nb.audio.wavfile import encode_wav

    return encode_wav(x, target=target)


def sf_bytes(x: np.ndarray, samplerate: int, *, format: str = "WAV", subtype: str | None = None) -> bytes:
    """*x* (1-D, or frames × channels) in any format soundfile writes, as a user's file holds it."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, x, samplerate, format=format, subtype=subtype)
    return buf.getvalue()


def tone_wav(freq_hz: float = 440.0, *, duration_s: float = 0.6, samplerate: int = 44100, channels: int = 2) -> bytes:
    """A 16-bit PCM WAV of a sine with 0.2 s of silence around it: what a user records."""
    mono = padded(sine(freq_hz, duration_s, samplerate, amplitude=0.3), 0.2, samplerate=samplerate)
    data = np.stack([mono] * channels, axis=1) if channels > 1 else mono
    return sf_bytes(data, samplerate, format="WAV", subtype="PCM_16")


def riff(chunks: list[tuple[bytes, bytes]], *, riff_size: int | None = None) -> bytes:
    """Assemble a RIFF/WAVE file from (id, payload) chunks, adding pad bytes for odd sizes."""
    body = b"WAVE"
    for cid, payload in chunks:
        body += cid + struct.pack("<I", len(payload)) + payload + (b"\x00" if len(payload) & 1 else b"")
    size = len(body) if riff_size is None else riff_size
    return b"RIFF" + struct.pack("<I", size) + body


def fmt_chunk(tag: int, channels: int, samplerate: int, bits: int, *, byte_rate: int | None = None,
              block_align: int | None = None, extra: bytes | None = None) -> bytes:
    """The payload of a ``fmt `` chunk; *extra* (with its size field) makes it 18 bytes or more."""
    align = block_align if block_align is not None else channels * ((bits + 7) // 8)
    rate = byte_rate if byte_rate is not None else samplerate * align
    payload = struct.pack("<HHIIHH", tag, channels, samplerate, rate, align, bits)
    if extra is not None:
        payload += struct.pack("<H", len(extra)) + extra
    return payload


def extensible_fmt(sub_tag: int, channels: int, samplerate: int, bits: int) -> bytes:
    """A WAVE_FORMAT_EXTENSIBLE ``fmt `` payload whose sub-format GUID carries *sub_tag*."""
    guid = struct.pack("<H", sub_tag) + bytes.fromhex("000000001000800000aa00389b71")
    extra = struct.pack("<HI", bits, 0x4 if channels == 1 else 0x3) + guid
    return fmt_chunk(0xFFFE, channels, samplerate, bits, extra=extra)


def alaw_riff(duration_s: float, *, samplerate: int = RATE, list_chunk: bool = True) -> bytes:
    """An A-law WAV of *duration_s* of silence assembled by hand: an 18-byte ``fmt ``, a ``LIST``
    chunk before the data like ffmpeg writes (unless *list_chunk* is false), ``fact``, ``data``."""
    n = int(round(duration_s * samplerate))
    chunks = [(b"fmt ", fmt_chunk(6, 1, samplerate, 8, extra=b""))]
    if list_chunk:
        chunks.append((b"LIST", b"INFOISFT\x05\x00\x00\x00test\x00\x00"))
    chunks += [(b"fact", struct.pack("<I", n)), (b"data", bytes([0xD5]) * n)]
    return riff(chunks)


# -------------------------------------------------------------------------------------- files
def write_file(path: Path, data: bytes) -> Path:
    """Write *data* to *path*, making its folders; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_telephony_wav(path: Path, x: np.ndarray, *, target: str = "alaw") -> Path:
    """*x* (at 8 kHz) written as the package writes a compliant prompt."""
    return write_file(path, telephony_wav(x, target=target))


def write_sf(path: Path, x: np.ndarray, samplerate: int, *, subtype: str | None = None) -> Path:
    """*x* written by soundfile in the format the suffix names (``.wav``, ``.flac``, ``.ogg``...)."""
    import soundfile as sf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, x, samplerate, subtype=subtype)
    return path
