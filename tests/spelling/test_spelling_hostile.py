"""Hostile and mistaken input to spelling sets: newline locales, symbolic links, unknown TTS
locales, partial sets, and loudness that listeners hear."""
from __future__ import annotations

import os
import shutil
import zipfile

import numpy as np
import pytest

from cmvoice_nb.audio.wavfile import read_wav_samples
from cmvoice_nb.cli import main
from cmvoice_nb.errors import SpellingSetError
from cmvoice_nb.spelling import _audio
from cmvoice_nb.spelling.build import SpellingBuildError, build_spelling_set
from cmvoice_nb.spelling.check import check_spelling_set
from cmvoice_nb.spelling.names import DEFAULT_CHARS, locale_problem, require_locale
from cmvoice_nb.spelling.pack import SpellingPackError, pack_spelling_set

from .._audio import padded, sequence, sine, syllable, tone, write_sf, write_telephony_wav

needs_symlinks = pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")


# --- locales name folders: matched in full -------------------------------------------------

@pytest.mark.parametrize("locale", ["en-GB\n", "en-GB\r\n", "\nen-GB", "en-GB ", "en-GB/../x", "en-GB\x00"])
def test_a_locale_with_anything_around_it_is_refused_and_no_folder_is_made(tmp_path, locale):
    assert locale_problem(locale) is not None
    with pytest.raises(SpellingSetError, match="xx-XX"):
        require_locale(locale)
    take = tmp_path / "take.wav"
    write_sf(take, sequence([300, 500]), 8000)
    with pytest.raises(SpellingSetError, match="xx-XX"):
        build_spelling_set(take, tmp_path / "root", locale=locale, chars="01", progress=False)
    assert not (tmp_path / "root").exists()


def test_a_newline_locale_suggests_the_clean_one_and_the_check_never_looks_it_up(tmp_path):
    (tmp_path / "spelling" / "en-GB\n").mkdir(parents=True)  # a folder made by the old bug
    write_telephony_wav(tmp_path / "spelling" / "en-GB\n" / "0.wav", padded(tone(400), 0.1))
    report = check_spelling_set(tmp_path, locale="en-GB\n", chars="0")
    assert not report.ok
    assert report.problems == ["locale 'en-GB\\n' is not of the form xx-XX (5 characters, e.g. 'en-GB'); "
                               "did you mean 'en-GB'?"]
    assert report.files == {} and report.rows == []


def test_the_cli_refuses_a_newline_locale_for_every_action(tmp_path, capsys):
    take = tmp_path / "take.wav"
    write_sf(take, sequence([300, 500]), 8000)
    assert main(["spelling", "build", str(take), "--locale", "en-GB\n", "-o", str(tmp_path / "r"),
                 "--chars", "01"]) == 1
    assert main(["spelling", "pack", str(tmp_path), "--locale", "en-GB\n", "-o", str(tmp_path / "x.zip")]) == 1
    assert main(["spelling", "preview", str(tmp_path), "--locale", "en-GB\n", "--code", "0",
                 "-o", str(tmp_path / "p.wav")]) == 1
    err = capsys.readouterr().err
    assert err.count("xx-XX") == 3
    assert not (tmp_path / "r").exists() and not (tmp_path / "x.zip").exists()


# --- pack: never a link, never a rejected file ----------------------------------------------

@needs_symlinks
def test_a_symlinked_character_is_a_problem_and_is_never_packed_even_with_force(good_set, tmp_path):
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    folder = good_set / "spelling" / "en-GB"
    os.symlink(secret, folder / "d.wav")
    report = check_spelling_set(good_set, locale="en-GB", chars="0123abcd")
    row = report.frame.loc["d"]
    assert not row["ok"] and "symbolic link" in row["problems"][0]
    assert not report.ok
    with pytest.raises(SpellingPackError, match="symbolic link"):
        pack_spelling_set(good_set, locale="en-GB", out=tmp_path / "x.zip", chars="0123abcd")
    out = pack_spelling_set(good_set, locale="en-GB", out=tmp_path / "x.zip", chars="0123abcd", force=True)
    with zipfile.ZipFile(out) as zf:
        assert "spelling/en-GB/d.wav" not in zf.namelist()
        assert all(b"root:" not in zf.read(n) for n in zf.namelist())
        assert len([n for n in zf.namelist() if n.endswith(".wav")]) == 7


@needs_symlinks
def test_a_link_to_a_real_recording_is_not_followed_either(good_set, tmp_path):
    folder = good_set / "spelling" / "en-GB"
    elsewhere = tmp_path / "elsewhere.wav"
    shutil.copy(folder / "a.wav", elsewhere)
    os.symlink(elsewhere, folder / "e.wav")
    out = pack_spelling_set(good_set, locale="en-GB", out=tmp_path / "x.zip", chars="0123abce", force=True)
    assert "spelling/en-GB/e.wav" not in zipfile.ZipFile(out).namelist()


@needs_symlinks
def test_a_symlinked_locale_folder_is_never_packed_through(good_set, tmp_path):
    real = good_set / "spelling" / "en-GB"
    other = tmp_path / "other"
    other.mkdir()
    (other / "spelling").mkdir()
    os.symlink(real, other / "spelling" / "en-GB")
    with pytest.raises(SpellingPackError, match="symbolic link"):
        pack_spelling_set(other, locale="en-GB", out=tmp_path / "x.zip", chars="0123abc", force=True)
    assert not (tmp_path / "x.zip").exists()


def test_a_text_file_named_like_a_character_is_rejected_and_left_out_with_force(good_set, tmp_path):
    (good_set / "spelling" / "en-GB" / "z.wav").write_text("not audio at all")
    with pytest.raises(SpellingPackError):
        pack_spelling_set(good_set, locale="en-GB", out=tmp_path / "x.zip", chars="0123abc")
    out = pack_spelling_set(good_set, locale="en-GB", out=tmp_path / "x.zip", chars="0123abc", force=True)
    assert "spelling/en-GB/z.wav" not in zipfile.ZipFile(out).namelist()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_like_a_character_is_reported_without_blocking(good_set, tmp_path):
    os.mkfifo(good_set / "spelling" / "en-GB" / "f.wav")
    report = check_spelling_set(good_set, locale="en-GB", chars="0123abcf")
    assert any("FIFO" in p for p in report.frame.loc["f", "problems"])
    out = pack_spelling_set(good_set, locale="en-GB", out=tmp_path / "x.zip", chars="0123abcf", force=True)
    assert "spelling/en-GB/f.wav" not in zipfile.ZipFile(out).namelist()


def test_a_digits_only_set_is_refused_with_the_chars_hint_not_force(tmp_path, capsys):
    root = tmp_path / "upload"
    for d in "0123456789":
        write_telephony_wav(root / "spelling" / "en-GB" / f"{d}.wav",
                   padded(tone(300 + 50 * int(d), 0.4, amplitude=0.2), 0.1))
    with pytest.raises(SpellingPackError) as info:
        pack_spelling_set(root, locale="en-GB", out=tmp_path / "x.zip")
    message = str(info.value)
    assert "--chars 0123456789" in message and "--force" not in message
    assert main(["spelling", "pack", str(root), "--locale", "en-GB", "-o", str(tmp_path / "x.zip")]) == 1
    err = capsys.readouterr().err
    assert "--chars 0123456789" in err and "--force" not in err
    # Following the hint works.
    assert main(["spelling", "pack", str(root), "--locale", "en-GB", "-o", str(tmp_path / "x.zip"),
                 "--chars", "0123456789"]) == 0


def test_other_refusals_still_name_force(good_set, tmp_path):
    (good_set / "spelling" / "en-GB" / "Notes.txt").write_text("hi")
    with pytest.raises(SpellingPackError, match="--force"):
        pack_spelling_set(good_set, locale="en-GB", out=tmp_path / "x.zip", chars="0123abc")


# --- TTS: no silent English -----------------------------------------------------------------

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


@needs_espeak
def test_a_tts_build_for_a_locale_without_a_voice_is_refused_unless_a_voice_is_given(tmp_path, capsys):
    with pytest.raises(SpellingBuildError, match="no voice for xx-XX.*--voice"):
        build_spelling_set("tts", tmp_path / "r", locale="xx-XX", chars="1", progress=False)
    assert not (tmp_path / "r").exists()
    assert main(["spelling", "build", "tts", "--locale", "xx-XX", "-o", str(tmp_path / "r"), "--chars", "1"]) == 1
    assert "--voice" in capsys.readouterr().err
    report = build_spelling_set("tts", tmp_path / "r", locale="xx-XX", chars="1", voice="en", progress=False)
    assert sorted(report.files) == ["1"] and any("'en'" in n for n in report.notes)


@needs_espeak
def test_a_catalogue_locale_the_engine_cannot_speak_is_refused_too(tmp_path, monkeypatch):
    import cmvoice_nb.spelling.tts as tts

    monkeypatch.setattr(tts, "espeak_voices", lambda binary: ["en", "en-gb"])  # an engine without Dutch
    with pytest.raises(SpellingSetError, match="espeak-ng has no voice for nl-NL"):
        build_spelling_set("tts", tmp_path, locale="nl-NL", chars="1", progress=False)


@needs_espeak
def test_an_unknown_or_malformed_voice_is_refused(tmp_path):
    with pytest.raises(SpellingSetError, match="has no voice 'qq'"):
        build_spelling_set("tts", tmp_path, locale="xx-XX", chars="1", voice="qq", progress=False)
    with pytest.raises(SpellingSetError, match="not a voice name"):
        build_spelling_set("tts", tmp_path, locale="xx-XX", chars="1", voice="en; rm -rf /", progress=False)


def test_a_voice_for_a_non_tts_build_is_refused(tmp_path):
    take = tmp_path / "take.wav"
    write_sf(take, sequence([300, 500]), 8000)
    with pytest.raises(SpellingSetError, match="only applies to a text-to-speech"):
        build_spelling_set(take, tmp_path / "r", locale="en-GB", chars="01", voice="en", progress=False)


# --- loudness that listeners hear -----------------------------------------------------------

def _bs1770(path) -> float:
    import pyloudnorm

    x, rate = read_wav_samples(path.read_bytes())
    return float(pyloudnorm.Meter(rate, block_size=0.2).integrated_loudness(x))


def test_a_set_from_recordings_22_db_apart_is_within_1_5_lu_as_bs1770_measures_it(tmp_path):
    src = tmp_path / "recordings"
    src.mkdir()
    gains = np.linspace(0.0, -22.0, len(DEFAULT_CHARS))
    np.random.default_rng(3).shuffle(gains)
    noise = np.random.default_rng(4)
    for i, (ch, gain) in enumerate(zip(DEFAULT_CHARS, gains, strict=True)):
        x = syllable(i) * 10 ** (gain / 20)
        x = padded(x, 0.2, samplerate=16000)
        x = x + noise.normal(0, 10 ** (-75 / 20), len(x))
        write_sf(src / f"{ch}.wav", x, 16000, subtype="PCM_16")
    before = [_bs1770(src / f"{ch}.wav") for ch in DEFAULT_CHARS]
    assert max(before) - min(before) > 20  # the recordings really are far apart
    report = build_spelling_set(src, tmp_path / "upload", locale="en-GB", progress=False)
    after = [_bs1770(p) for p in report.files.values()]
    assert len(after) == 36
    assert max(after) - min(after) <= 1.5
    check = check_spelling_set(tmp_path / "upload", locale="en-GB")
    assert check.ok and check.loudness_spread_db <= 1.5
    assert all(v is not None for v in check.frame["loudness_lufs"])
    assert check.frame["loudness_lufs"].mean() == pytest.approx(report.level_lufs, abs=0.5)


def test_loudness_of_a_clip_shorter_than_one_block_is_measured_not_refused():
    short = sine(997, 0.05, amplitude=0.1)  # 50 ms: a quarter of a 0.2 s block
    long = sine(997, 1.0, amplitude=0.1)
    assert _audio.loudness_lufs(short, 8000) == pytest.approx(_audio.loudness_lufs(long, 8000), abs=0.3)
    assert _audio.loudness_lufs(np.zeros(100), 8000) == float("-inf")
    assert _audio.loudness_lufs(np.array([]), 8000) == float("-inf")


def test_the_check_fails_a_set_whose_characters_sound_far_apart(good_set):
    # Same RMS, different loudness: a 3 kHz tone sounds louder than a 300 Hz one (K-weighting).
    folder = good_set / "spelling" / "en-GB"
    write_telephony_wav(folder / "0.wav", padded(tone(3000, 0.4, amplitude=0.2), 0.1))
    write_telephony_wav(folder / "1.wav", padded(tone(3000, 0.4, amplitude=0.45), 0.1))
    report = check_spelling_set(good_set, locale="en-GB", chars="0123abc")
    assert report.loudness_spread_db > 6
    assert any("LU across the set" in p and "LUFS" in p for p in report.problems)


@needs_symlinks
def test_the_notebook_table_never_embeds_what_a_link_points_at(good_set, tmp_path):
    import base64

    secret = tmp_path / "secret.txt"
    secret.write_text("TOKEN=hunter2")
    os.symlink(secret, good_set / "spelling" / "en-GB" / "d.wav")
    html = check_spelling_set(good_set, locale="en-GB", chars="0123abcd")._repr_html_()
    assert base64.b64encode(b"TOKEN=hunter2").decode() not in html and "hunter2" not in html
    assert html.count("<audio") == 1  # one preview of the real recordings, the link left out
    assert "Listen to <code>0123abc</code>" in html


def test_build_refusals_name_the_flag_that_fixes_them(tmp_path):
    src = tmp_path / "digits"
    src.mkdir()
    for d in "01":
        write_sf(src / f"{d}.wav", sequence([300 + 100 * int(d)]), 8000)
    write_sf(src / "ay.wav", sequence([700]), 8000)
    with pytest.raises(SpellingBuildError) as info:
        build_spelling_set(src, tmp_path / "out", locale="en-GB", progress=False)
    message = str(info.value)
    assert "(--chars)" in message and "(--map NAME=CHAR)" in message and "--force" not in message
