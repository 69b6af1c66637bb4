"""Fixtures for the spelling-set tests: recordings generated in code (tones, espeak-ng speech)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from cmvoice_nb.audio.wavfile import encode_wav

RATE = 8000


def tone(freq_hz: float, duration_s: float = 0.3, *, amplitude: float = 0.3, rate: int = RATE) -> np.ndarray:
    """A sine burst with 5 ms fades (no clicks)."""
    t = np.arange(int(duration_s * rate)) / rate
    x = amplitude * np.sin(2 * np.pi * freq_hz * t)
    fade = min(len(x) // 2, int(0.005 * rate))
    ramp = np.linspace(0.0, 1.0, fade)
    x[:fade] *= ramp
    x[len(x) - fade:] *= ramp[::-1]
    return x


def silence(duration_s: float, rate: int = RATE) -> np.ndarray:
    return np.zeros(int(duration_s * rate))


def sequence(freqs, *, gap_s: float = 0.5, tone_s: float = 0.3, rate: int = RATE, amplitudes=None) -> np.ndarray:
    """Tones separated by silence, like a person reading "zero ... one ... two"."""
    amplitudes = amplitudes or [0.3] * len(freqs)
    parts = [silence(gap_s, rate)]
    for f, a in zip(freqs, amplitudes):
        parts += [tone(f, tone_s, amplitude=a, rate=rate), silence(gap_s, rate)]
    return np.concatenate(parts)


def dominant_hz(x: np.ndarray, rate: int = RATE) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spectrum)])


def write_alaw(path: Path, x: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode_wav(x, target="alaw"))
    return path


def espeak(text: str, *, language: str = "en-gb", ssml: bool = False) -> tuple[np.ndarray, int]:
    cmd = [shutil.which("espeak-ng") or "espeak-ng", "-v", language, "--stdout"] + (["-m"] if ssml else []) + [text]
    out = subprocess.run(cmd, capture_output=True, check=True, timeout=30).stdout
    import io

    data, rate = sf.read(io.BytesIO(out), dtype="float64")
    return data, rate


@pytest.fixture
def messy_folder(tmp_path: Path) -> Path:
    """Per-character recordings with the names people use, in several formats and levels.

    chars "01ab7": zero.wav (44.1 kHz PCM, quiet), 1.flac (stereo 48 kHz, loud),
    A.wav (16 kHz, long leading silence), letter_b.ogg, 7.m4a (AAC via ffmpeg), plus notes.txt.
    """
    src = tmp_path / "recordings"
    src.mkdir()
    sf.write(src / "zero.wav", np.concatenate([silence(0.2, 44100), tone(300, 0.3, amplitude=0.05, rate=44100),
                                               silence(0.2, 44100)]), 44100, subtype="PCM_16")
    loud = np.concatenate([silence(0.1, 48000), tone(500, 0.4, amplitude=0.7, rate=48000), silence(0.1, 48000)])
    sf.write(src / "1.flac", np.stack([loud, loud * 0.9], axis=1), 48000)
    sf.write(src / "A.wav", np.concatenate([silence(1.5, 16000), tone(700, 0.3, amplitude=0.2, rate=16000),
                                            silence(0.3, 16000)]), 16000)
    sf.write(src / "letter_b.ogg", np.concatenate([silence(0.2, 22050), tone(900, 0.35, amplitude=0.3, rate=22050),
                                                   silence(0.2, 22050)]), 22050)
    wav7 = tmp_path / "seven_source.wav"
    sf.write(wav7, np.concatenate([silence(0.2, 44100), tone(1100, 0.3, amplitude=0.4, rate=44100),
                                   silence(0.2, 44100)]), 44100)
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(wav7),
                    "-c:a", "aac", "-b:a", "64k", str(src / "7.m4a")], check=True, timeout=60)
    (src / "notes.txt").write_text("take 2 was better\n")
    return src


@pytest.fixture
def good_set(tmp_path: Path) -> Path:
    """A compliant, levelled set for chars 0-3 and a-c under root/spelling/en-GB/."""
    root = tmp_path / "upload"
    for i, ch in enumerate("0123abc"):
        x = np.concatenate([silence(0.1), tone(300 + 100 * i, 0.4, amplitude=0.2), silence(0.1)])
        write_alaw(root / "spelling" / "en-GB" / f"{ch}.wav", x)
    return root
