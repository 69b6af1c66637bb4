"""Packing a set for the Audio Prompt Manager, and previewing a code."""
from __future__ import annotations

import zipfile

import numpy as np
import pytest
from IPython.display import Audio

from cmvoice_nb.audio.wavfile import read_wav_samples
from cmvoice_nb.errors import SpellingSetError
from cmvoice_nb.spelling.pack import SpellingPackError, pack_spelling_set
from cmvoice_nb.spelling.preview import preview_audio, preview_code, preview_wav


def test_the_zip_holds_exactly_spelling_locale_char_wav(good_set, tmp_path):
    out = pack_spelling_set(good_set, locale="en-GB", out=tmp_path / "set.zip", chars="0123abc")
    with zipfile.ZipFile(out) as zf:
        names = zf.namelist()
        assert names == ["spelling/", "spelling/en-GB/"] + [f"spelling/en-GB/{c}.wav" for c in "0123abc"]
        assert zf.read("spelling/en-GB/a.wav") == (good_set / "spelling" / "en-GB" / "a.wav").read_bytes()
        assert zf.testzip() is None


def test_packing_is_reproducible_byte_for_byte(good_set, tmp_path):
    a = pack_spelling_set(good_set, locale="en-GB", out=tmp_path / "a.zip", chars="0123abc").read_bytes()
    b = pack_spelling_set(good_set, locale="en-GB", out=tmp_path / "b.zip", chars="0123abc").read_bytes()
    assert a == b


def test_a_failing_set_is_not_packed_unless_forced_and_strays_never_go_in(good_set, tmp_path):
    (good_set / "spelling" / "en-GB" / "Notes.txt").write_text("hi")
    with pytest.raises(SpellingPackError, match="refusing to pack") as info:
        pack_spelling_set(good_set, locale="en-GB", out=tmp_path / "set.zip", chars="0123abc")
    assert info.value.report.stray[0]["name"] == "Notes.txt"
    assert isinstance(info.value, SpellingSetError)
    assert not (tmp_path / "set.zip").exists()
    out = pack_spelling_set(good_set, locale="en-GB", out=tmp_path / "set.zip", chars="0123abc", force=True)
    assert all(n.endswith((".wav", "/")) for n in zipfile.ZipFile(out).namelist())


def test_packing_for_codes_only_needs_their_characters(good_set, tmp_path):
    with pytest.raises(SpellingPackError, match="missing|have no file"):
        pack_spelling_set(good_set, locale="en-GB", out=tmp_path / "x.zip")
    out = pack_spelling_set(good_set, locale="en-GB", out=tmp_path / "x.zip", codes=["0a"])
    assert len(zipfile.ZipFile(out).namelist()) == 2 + 7


def test_the_zip_is_never_written_inside_the_set(good_set):
    with pytest.raises(SpellingPackError, match="inside the set"):
        pack_spelling_set(good_set, locale="en-GB", out=good_set / "spelling" / "en-GB" / "set.zip", chars="0123abc")


def test_a_preview_reads_the_code_character_by_character_with_gaps(good_set):
    samples, rate = preview_code(good_set, "A0a", locale="en-GB", gap_s=0.2)
    folder = good_set / "spelling" / "en-GB"
    a, _ = read_wav_samples((folder / "a.wav").read_bytes())
    zero, _ = read_wav_samples((folder / "0.wav").read_bytes())
    assert rate == 8000
    assert len(samples) == 2 * len(a) + len(zero) + 2 * 1600
    np.testing.assert_allclose(samples[: len(a)], a)
    assert np.all(samples[len(a): len(a) + 1600] == 0)


def test_a_preview_names_every_character_it_cannot_read(good_set):
    with pytest.raises(SpellingSetError, match=r"'9', 'z', '-'"):
        preview_code(good_set, "09z-", locale="en-GB")


def test_the_preview_plays_in_a_notebook_and_saves_as_wav(good_set):
    assert isinstance(preview_audio(good_set, "0a", locale="en-GB"), Audio)
    x, rate = read_wav_samples(preview_wav(good_set, "0a", locale="en-GB"))
    assert rate == 8000 and len(x) > 8000 * 0.9
