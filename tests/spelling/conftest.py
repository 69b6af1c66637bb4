"""Fixtures for the spelling-set tests: folders of per-character recordings made in code."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from .._audio import padded, tone, write_sf, write_telephony_wav
from .._wait import scaled


@pytest.fixture
def messy_folder(tmp_path: Path) -> Path:
    """Per-character recordings with the names people use, in several formats and levels.

    chars "01ab7": zero.wav (44.1 kHz PCM, quiet), 1.flac (stereo 48 kHz, loud),
    A.wav (16 kHz, long leading silence), letter_b.ogg, 7.m4a (AAC via ffmpeg), plus notes.txt.
    """
    src = tmp_path / "recordings"
    write_sf(src / "zero.wav", padded(tone(300, 0.3, amplitude=0.05, samplerate=44100), 0.2, samplerate=44100),
             44100, subtype="PCM_16")
    loud = padded(tone(500, 0.4, amplitude=0.7, samplerate=48000), 0.1, samplerate=48000)
    write_sf(src / "1.flac", np.stack([loud, loud * 0.9], axis=1), 48000)
    write_sf(src / "A.wav", padded(tone(700, 0.3, amplitude=0.2, samplerate=16000), 1.5, 0.3, 16000), 16000)
    write_sf(src / "letter_b.ogg", padded(tone(900, 0.35, amplitude=0.3, samplerate=22050), 0.2, samplerate=22050),
             22050)
    wav7 = write_sf(tmp_path / "seven_source.wav",
                    padded(tone(1100, 0.3, amplitude=0.4, samplerate=44100), 0.2, samplerate=44100), 44100)
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(wav7),
                    "-c:a", "aac", "-b:a", "64k", str(src / "7.m4a")], check=True, timeout=scaled(60))
    (src / "notes.txt").write_text("take 2 was better\n")
    return src


@pytest.fixture
def good_set(tmp_path: Path) -> Path:
    """A compliant, levelled set for chars 0-3 and a-c under root/spelling/en-GB/."""
    root = tmp_path / "upload"
    for i, ch in enumerate("0123abc"):
        write_telephony_wav(root / "spelling" / "en-GB" / f"{ch}.wav",
                            padded(tone(300 + 100 * i, 0.4, amplitude=0.2), 0.1))
    return root
