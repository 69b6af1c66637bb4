"""Building a set: from a folder, from one recording, from text-to-speech."""
from __future__ import annotations

import numpy as np
import pytest

from cmvoice_nb.audio.wavfile import parse_wav, read_wav_samples
from cmvoice_nb.errors import SpellingSetError
from cmvoice_nb.spelling import _audio
from cmvoice_nb.spelling.build import (
    SpellingBuildError,
    assign_segments,
    build_spelling_set,
    level_clips,
    trim_to_speech,
)

from .._audio import RATE, dominant_hz, espeak, padded, sequence, tone, write_sf


def _speech_loudness(path):
    # What listeners hear: ITU-R BS.1770 integrated loudness (the set is levelled by it).
    x, rate = read_wav_samples(path.read_bytes())
    return _audio.loudness_lufs(x, rate)


def _leading_silence_s(path):
    x, rate = read_wav_samples(path.read_bytes())
    start, _ = _audio.speech_bounds(x, rate, threshold_dbfs=-45)
    return start / rate


# --- pure steps -----------------------------------------------------------------------

def test_trimming_keeps_exactly_the_padding_around_the_speech_even_when_the_recording_is_tight():
    tight = tone(440, 0.3)  # no silence at all around it
    out = trim_to_speech(tight, RATE, padding_s=0.1)
    assert len(out) == pytest.approx(0.5 * RATE, abs=RATE * 0.02)
    assert np.all(out[:int(0.09 * RATE)] == 0)


def test_trimming_a_silent_clip_says_there_is_no_speech():
    with pytest.raises(SpellingSetError, match="no speech"):
        trim_to_speech(np.zeros(RATE), RATE)


def test_levelling_brings_quiet_and_loud_clips_to_the_same_bs1770_loudness_without_modifying_them():
    # 300 Hz and 2.5 kHz: K-weighting hears the high tone ~3 dB louder than its RMS says.
    quiet, loud = tone(300, 0.3, amplitude=0.02), tone(2500, 0.3, amplitude=0.6)
    before = quiet.copy()
    out, level = level_clips([quiet, loud], RATE, target_dbfs=-20)
    assert level == pytest.approx(-20)
    assert _audio.loudness_lufs(out[0], RATE) == pytest.approx(-20, abs=0.05)
    assert _audio.loudness_lufs(out[1], RATE) == pytest.approx(-20, abs=0.05)
    assert _audio.rms_dbfs(out[0]) - _audio.rms_dbfs(out[1]) > 2.0  # not equal RMS: equal loudness
    np.testing.assert_array_equal(quiet, before)


def test_levelling_holds_the_whole_set_back_when_one_clip_would_clip():
    spiky = np.zeros(2400)
    spiky[::200] = 0.9  # crest factor far above 19 dB
    out, level = level_clips([tone(300, 0.3, amplitude=0.1), spiky], RATE, target_dbfs=-20)
    assert level < -20
    assert _audio.peak_dbfs(out[1]) <= -1.0 + 1e-9
    assert _audio.loudness_lufs(out[0], RATE) == pytest.approx(level, abs=0.05)


def test_segments_are_paired_with_characters_in_order():
    assert assign_segments([(0, 10), (20, 30)], "ab", 10) == [("a", 0, 10), ("b", 20, 30)]


def test_a_segment_count_mismatch_is_refused_with_the_boundaries_in_seconds():
    with pytest.raises(SpellingBuildError) as info:
        assign_segments([(8000, 10400), (16000, 18400)], "abc", 8000)
    assert info.value.segments_s == [(1.0, 1.3), (2.0, 2.3)]
    assert "1.00-1.30 s" in str(info.value) and "lower min_silence_s" in str(info.value)


# --- route 1: a folder ------------------------------------------------------------------

def test_a_folder_of_messy_names_and_formats_becomes_lower_case_alaw_files(messy_folder, tmp_path):
    report = build_spelling_set(messy_folder, tmp_path / "out", locale="en-GB", chars="01ab7", progress=False)
    folder = tmp_path / "out" / "spelling" / "en-GB"
    assert sorted(p.name for p in folder.iterdir()) == ["0.wav", "1.wav", "7.wav", "a.wav", "b.wav"]
    for path in folder.iterdir():
        info = parse_wav(path.read_bytes())
        assert (info.codec, info.samplerate, info.channels, info.bits) == ("alaw", 8000, 1, 8)
    assert report.route == "folder"
    assert dict(zip(report.frame.index, report.frame["source"], strict=True)) == {
        "0": "zero.wav", "1": "1.flac", "a": "A.wav", "b": "letter_b.ogg", "7": "7.m4a"}
    assert any("notes.txt" in n for n in report.notes)


def test_every_character_from_a_folder_gets_the_same_loudness_and_the_same_padding(messy_folder, tmp_path):
    report = build_spelling_set(messy_folder, tmp_path / "out", locale="en-GB", chars="01ab7", progress=False)
    levels = [_speech_loudness(p) for p in report.files.values()]
    assert max(levels) - min(levels) < 0.6  # the sources differ by 23 dB
    assert all(_leading_silence_s(p) == pytest.approx(0.1, abs=0.03) for p in report.files.values())
    # "A.wav" had 1.5 s of silence before the speech: trimmed away.
    assert report.frame.loc["a", "duration_s"] < 0.6


def test_the_right_recording_lands_in_the_right_character(messy_folder, tmp_path):
    report = build_spelling_set(messy_folder, tmp_path / "out", locale="en-GB", chars="01ab7", progress=False)
    expected = {"0": 300, "1": 500, "a": 700, "b": 900, "7": 1100}
    for char, hz in expected.items():
        x, _ = read_wav_samples(report.files[char].read_bytes())
        assert dominant_hz(x) == pytest.approx(hz, abs=25)


def test_unmapped_and_conflicting_files_are_all_reported_and_nothing_is_written(messy_folder, tmp_path):
    (messy_folder / "take2.wav").write_bytes((messy_folder / "zero.wav").read_bytes())
    (messy_folder / "0.wav").write_bytes((messy_folder / "zero.wav").read_bytes())
    (messy_folder / "mystery.mp3").write_bytes(b"")
    with pytest.raises(SpellingBuildError) as info:
        build_spelling_set(messy_folder, tmp_path / "out", locale="en-GB", chars="01ab7c", progress=False)
    err = info.value
    assert err.unmapped == ["mystery.mp3", "take2.wav"]
    assert err.conflicts == {"0": ["0.wav", "zero.wav"]}
    assert err.missing == ["c"]
    assert isinstance(err, SpellingSetError) and isinstance(err, ValueError)
    assert not (tmp_path / "out").exists()


def test_a_mapping_resolves_names_the_tool_cannot_read(messy_folder, tmp_path):
    (messy_folder / "ay.wav").write_bytes((messy_folder / "A.wav").read_bytes())
    (messy_folder / "A.wav").unlink()
    report = build_spelling_set(messy_folder, tmp_path / "out", locale="en-GB", chars="01ab7",
                                mapping={"ay": "a"}, progress=False)
    assert report.frame.loc["a", "source"] == "ay.wav"


def test_an_undecodable_file_is_reported_with_its_name_along_with_every_other_failure(messy_folder, tmp_path):
    (messy_folder / "letter_b.ogg").write_bytes(b"not audio at all")
    (messy_folder / "zero.wav").write_bytes(np.zeros(100, dtype=np.int16).tobytes())
    with pytest.raises(SpellingBuildError) as info:
        build_spelling_set(messy_folder, tmp_path / "out", locale="en-GB", chars="01ab7", progress=False)
    assert set(info.value.failures) == {"b", "0"}
    assert "letter_b.ogg" in info.value.failures["b"]
    assert not (tmp_path / "out").exists()


def test_existing_files_are_kept_unless_overwrite_is_asked(messy_folder, tmp_path):
    out = tmp_path / "out"
    build_spelling_set(messy_folder, out, locale="en-GB", chars="01ab7", progress=False)
    before = (out / "spelling" / "en-GB" / "0.wav").read_bytes()
    with pytest.raises(SpellingBuildError, match="already exist") as info:
        build_spelling_set(messy_folder, out, locale="en-GB", chars="01ab7", progress=False)
    assert len(info.value.existing) == 5
    assert (out / "spelling" / "en-GB" / "0.wav").read_bytes() == before
    build_spelling_set(messy_folder, out, locale="en-GB", chars="01ab7", overwrite=True, progress=False)


def test_a_source_file_is_never_overwritten_even_with_overwrite(tmp_path):
    folder = tmp_path / "spelling" / "en-GB"
    folder.mkdir(parents=True)
    for ch, hz in zip("01", (400, 600), strict=True):
        write_sf(folder / f"{ch}.wav", padded(tone(hz, 0.3, samplerate=44100), 0.5, 0, 44100), 44100)
    original = (folder / "0.wav").read_bytes()
    with pytest.raises(SpellingBuildError, match="source"):
        build_spelling_set(folder, tmp_path, locale="en-GB", chars="01", overwrite=True, progress=False)
    assert (folder / "0.wav").read_bytes() == original


def test_a_malformed_locale_or_target_is_refused_before_anything_happens(messy_folder, tmp_path):
    with pytest.raises(SpellingSetError, match="did you mean 'en-GB'"):
        build_spelling_set(messy_folder, tmp_path, locale="en-gb", progress=False)
    with pytest.raises(SpellingSetError, match="target"):
        build_spelling_set(messy_folder, tmp_path, locale="en-GB", target="mp3", progress=False)


# --- route 2: one recording -------------------------------------------------------------

def test_one_recording_of_the_sequence_is_split_and_assigned_in_order(tmp_path):
    freqs = [300, 450, 600, 750, 900]
    take = sequence(freqs, amplitudes=[0.05, 0.5, 0.2, 0.1, 0.3])
    report = build_spelling_set((take, RATE), tmp_path, locale="nl-NL", chars="0123a", progress=False)
    assert report.route == "recording"
    for char, hz in zip("0123a", freqs, strict=True):
        x, _ = read_wav_samples(report.files[char].read_bytes())
        assert dominant_hz(x) == pytest.approx(hz, abs=20)
    levels = [_speech_loudness(p) for p in report.files.values()]
    assert max(levels) - min(levels) < 0.6


def test_one_recording_file_on_disk_at_44k_works_too(tmp_path):
    path = tmp_path / "take.flac"
    write_sf(path, sequence([300, 600, 900], samplerate=44100), 44100)
    report = build_spelling_set(path, tmp_path / "out", locale="en-GB", chars="xyz", progress=False)
    assert sorted(report.files) == ["x", "y", "z"]
    assert report.frame.loc["x", "source"].startswith("take.flac ")


def test_a_recording_with_the_wrong_number_of_pauses_is_refused_with_segment_boundaries(tmp_path):
    take = sequence([300, 600, 900], gap_s=0.5)
    with pytest.raises(SpellingBuildError) as info:
        build_spelling_set((take, RATE), tmp_path, locale="en-GB", chars="0123", progress=False)
    segments = info.value.segments_s
    assert len(segments) == 3
    assert segments[0][0] == pytest.approx(0.5, abs=0.03) and segments[0][1] == pytest.approx(0.8, abs=0.03)
    assert "found 3 segment(s) for 4 character(s)" in str(info.value)
    assert not (tmp_path / "spelling").exists()


def test_pauses_shorter_than_min_silence_merge_characters_and_a_smaller_min_silence_splits_them(tmp_path):
    take = sequence([300, 600, 900], gap_s=0.2)
    with pytest.raises(SpellingBuildError):
        build_spelling_set((take, RATE), tmp_path, locale="en-GB", chars="abc", progress=False)
    report = build_spelling_set((take, RATE), tmp_path, locale="en-GB", chars="abc", min_silence_s=0.1,
                                progress=False)
    assert len(report.rows) == 3


def test_a_bare_array_needs_its_samplerate(tmp_path):
    take = sequence([300, 600])
    with pytest.raises(SpellingSetError, match="samplerate"):
        build_spelling_set(take, tmp_path, locale="en-GB", chars="ab", progress=False)
    report = build_spelling_set(take, tmp_path, locale="en-GB", chars="ab", samplerate=RATE, progress=False)
    assert len(report.rows) == 2


def test_a_spoken_sequence_from_espeak_is_split_into_its_digits(tmp_path):
    text = " ".join(f'{w} <break time="700ms"/>' for w in ("zero", "one", "two", "three"))
    samples, rate = espeak(f"<speak>{text}</speak>", ssml=True)
    report = build_spelling_set((samples, rate), tmp_path, locale="en-GB", chars="0123",
                                min_silence_s=0.35, progress=False)
    assert sorted(report.files) == ["0", "1", "2", "3"]
    assert all(0.2 < d < 1.2 for d in report.frame["duration_s"])


def test_a_missing_recording_path_is_a_clear_error(tmp_path):
    with pytest.raises(SpellingSetError, match="no such file"):
        build_spelling_set(tmp_path / "nope.wav", tmp_path, locale="en-GB", progress=False)


# --- route 3: text-to-speech ------------------------------------------------------------

def test_tts_builds_a_starter_set_in_the_locales_language(tmp_path):
    en = build_spelling_set("tts", tmp_path / "en", locale="en-GB", chars="07ab", progress=False)
    nl = build_spelling_set("tts", tmp_path / "nl", locale="nl-NL", chars="07ab", progress=False)
    assert sorted(en.files) == ["0", "7", "a", "b"]
    assert "en-gb" in en.frame.loc["7", "source"] and " nl " in nl.frame.loc["7", "source"]
    # "seven" and "zeven" are different words.
    assert en.files["7"].read_bytes() != nl.files["7"].read_bytes()
    levels = [_speech_loudness(p) for p in en.files.values()]
    assert max(levels) - min(levels) < 1.0
    for path in en.files.values():
        assert parse_wav(path.read_bytes()).codec == "alaw"


def test_tts_no_longer_falls_back_to_english_for_a_locale_it_cannot_speak(tmp_path):
    with pytest.raises(SpellingSetError, match="no voice for qq-QQ"):
        build_spelling_set("tts", tmp_path, locale="qq-QQ", chars="1", progress=False)
    assert not (tmp_path / "spelling").exists()


def test_a_missing_tts_engine_says_how_to_install_it(tmp_path):
    with pytest.raises(SpellingSetError, match="apt install espeak-ng"):
        build_spelling_set("tts", tmp_path, locale="en-GB", engine="no-such-tts-engine", progress=False)


def test_any_callable_can_serve_as_the_engine(tmp_path):
    seen = []

    def engine(char, locale):
        seen.append((char, locale))
        return padded(tone(300 + 50 * len(seen), 0.3), 0.2, 0), RATE

    report = build_spelling_set("tts", tmp_path, locale="de-DE", chars="xy", engine=engine, progress=False)
    assert seen == [("x", "de-DE"), ("y", "de-DE")]
    assert sorted(report.files) == ["x", "y"]


def test_the_report_shows_source_to_target_in_the_shared_table_and_one_player_spelling_the_set(tmp_path):
    import base64
    import re

    report = build_spelling_set((sequence([300, 600]), RATE), tmp_path, locale="en-GB", chars="ab", progress=False)
    html = report._repr_html_()
    assert "<div class='cmvoice-table-box'>" in html and ">a.wav<" in html and ">b.wav<" in html
    assert html.count("<audio") == 1 and "Listen to <code>ab</code>" in html
    # The one player plays both characters, as 16-bit PCM a browser can decode.
    b64 = re.search(r"data:audio/wav;base64,([A-Za-z0-9+/=]+)", html).group(1)
    x, rate = read_wav_samples(base64.b64decode(b64))
    assert rate == RATE and len(x) > sum(len(read_wav_samples(p.read_bytes())[0]) for p in report.files.values())
    assert "en-GB" in repr(report)
    assert list(report.frame.columns) == ["char", "source", "target", "duration_s", "loudness_dbfs", "loudness_lufs",
                                         "gain_db"]
    assert report.check().ok


def test_a_recording_given_as_wav_bytes_or_a_pydub_segment_is_split_too(tmp_path):
    from pydub import AudioSegment

    from cmvoice_nb.audio.wavfile import encode_wav

    data = encode_wav(sequence([300, 700]), target="pcm16")
    report = build_spelling_set(data, tmp_path / "a", locale="en-GB", chars="ab", progress=False)
    assert sorted(report.files) == ["a", "b"]
    segment = AudioSegment(data=(sequence([300, 700]) * 32767).astype("int16").tobytes(),
                           sample_width=2, frame_rate=RATE, channels=1)
    report = build_spelling_set(segment, tmp_path / "b", locale="en-GB", chars="ab", progress=False)
    x, _ = read_wav_samples(report.files["b"].read_bytes())
    assert dominant_hz(x) == pytest.approx(700, abs=20)


def test_the_source_recordings_are_left_untouched(messy_folder, tmp_path):
    before = {p.name: p.read_bytes() for p in messy_folder.iterdir()}
    build_spelling_set(messy_folder, tmp_path / "out", locale="en-GB", chars="01ab7", progress=False)
    assert {p.name: p.read_bytes() for p in messy_folder.iterdir()} == before
