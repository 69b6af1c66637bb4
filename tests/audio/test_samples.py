"""The shipped sample_audio folder: small, varied, and what the notebooks expect."""
from pathlib import Path

import pytest

from cmvoice_nb.audio.check import check_prompt
from cmvoice_nb.audio.convert import convert_prompt

SAMPLES = Path(__file__).resolve().parents[2] / "sample_audio"


def test_the_sample_folder_stays_small():
    total = sum(p.stat().st_size for p in SAMPLES.rglob("*") if p.is_file())
    assert total < 1.5e6


def test_the_compliant_sample_passes_and_the_studio_export_does_not():
    assert check_prompt(SAMPLES / "welcome.wav").ok
    bad = check_prompt(SAMPLES / "hello_44k_stereo.wav")
    assert not bad.ok and bad.samplerate == 44100 and bad.channels == 2


@pytest.mark.parametrize("name", ["goodbye.m4a", "code_intro.mp3", "outro.flac", "thanks.ogg",
                                  "press_one_ulaw.wav", "quiet_padded.wav", "hello_44k_stereo.wav"])
def test_every_sample_converts_to_a_compliant_prompt(name):
    report = convert_prompt(SAMPLES / name, trim=True, normalize_dbfs=-20)
    assert report.ok, report.problems
    assert report.duration_s > 0.3


def test_the_spelling_recordings_cover_every_character_once():
    files = [p for p in (SAMPLES / "spelling_en").iterdir() if p.is_file()]
    assert len(files) == 36
    suffixes = {p.suffix.lower() for p in files}
    assert {".wav", ".mp3", ".flac", ".ogg", ".m4a"} <= suffixes
