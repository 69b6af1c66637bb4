"""Validating a set: every rule, the code-coverage check, stray files, consistency."""
from __future__ import annotations

import json

import pytest

from cmvoice_nb.spelling.check import check_spelling_set, classify_entry

from .._audio import padded, silence, tone, write_sf, write_telephony_wav


def _folder(root):
    return root / "spelling" / "en-GB"


def test_a_compliant_levelled_set_passes_with_one_row_per_expected_character(good_set):
    report = check_spelling_set(good_set, locale="en-GB", chars="0123abc")
    assert report.ok, report.problems
    assert list(report.frame.index) == list("0123abc")
    assert report.frame["present"].all() and report.frame["compliant"].all()
    assert report.missing == [] and report.stray == []
    assert report.provider_voice is True
    assert "OK" in report.summary


def test_without_codes_or_chars_the_whole_charset_is_required(good_set):
    report = check_spelling_set(good_set, locale="en-GB")
    assert len(report.frame) == 36
    assert report.missing == list("456789defghijklmnopqrstuvwxyz")
    assert not report.ok


def test_codes_are_lower_cased_and_only_their_characters_are_required(good_set):
    report = check_spelling_set(good_set, locale="en-GB", codes=["12AB", "c3"])
    assert report.ok, report.problems
    report = check_spelling_set(good_set, locale="en-GB", codes=["12AB", "9z"])
    assert report.missing == ["9", "z"]
    assert not report.ok
    assert any("9.wav" in p and "z.wav" in p for p in report.problems)
    assert bool(report.frame.loc["9", "required"]) and not bool(report.frame.loc["8", "required"])


def test_a_single_code_string_is_accepted(good_set):
    assert check_spelling_set(good_set, locale="en-GB", codes="0a").ok


def test_a_code_with_characters_no_file_can_read_is_a_problem(good_set):
    report = check_spelling_set(good_set, locale="en-GB", codes=["12-ab"])
    assert not report.ok
    assert any("'-'" in p for p in report.problems)


@pytest.mark.parametrize(
    "name, reason",
    [
        ("A.wav", "upper-case"),
        ("b.mp3", "not a WAV"),
        ("zero.wav", "rename it to '0.wav'"),
        ("notes.txt", "names no character"),
        ("hello.wav", "names no character"),
        ("c.WAV", "upper-case"),
    ],
)
def test_stray_files_are_reported_with_the_fix(good_set, name, reason):
    (_folder(good_set) / name).write_bytes(b"x")
    report = check_spelling_set(good_set, locale="en-GB", chars="0123abc")
    assert [s["name"] for s in report.stray] == [name]
    assert reason in report.stray[0]["reason"]
    assert not report.ok


def test_a_sub_folder_is_stray_and_a_hidden_file_is_only_a_warning(good_set):
    (_folder(good_set) / "old").mkdir()
    (_folder(good_set) / ".DS_Store").write_bytes(b"x")
    report = check_spelling_set(good_set, locale="en-GB", chars="0123abc")
    assert report.stray == [{"name": "old", "reason": classify_entry("old", is_dir=True)[1]}]
    assert any(".DS_Store" in w for w in report.warnings)


def test_an_upper_case_file_does_not_count_as_the_character(good_set):
    folder = _folder(good_set)
    (folder / "a.wav").rename(folder / "A.wav")
    report = check_spelling_set(good_set, locale="en-GB", chars="0123abc")
    assert report.missing == ["a"]
    assert report.stray[0]["name"] == "A.wav"


def test_a_non_compliant_file_carries_the_audio_checkers_problems(good_set):
    write_sf(_folder(good_set) / "b.wav", padded(tone(440, 0.4, samplerate=44100), 0.1, 0, 44100), 44100)
    report = check_spelling_set(good_set, locale="en-GB", chars="0123abc")
    row = report.frame.loc["b"]
    assert row["present"] and not row["compliant"] and not row["ok"]
    assert row["problems"]
    assert any(p.startswith("b.wav:") for p in report.problems)


def test_a_silent_file_is_a_problem_because_the_caller_hears_a_gap(good_set):
    write_telephony_wav(_folder(good_set) / "c.wav", silence(0.5))
    report = check_spelling_set(good_set, locale="en-GB", chars="0123abc")
    assert any("no audible speech" in p for p in report.frame.loc["c", "problems"])
    assert not report.ok


def test_a_large_loudness_spread_fails_and_a_moderate_one_warns(good_set):
    folder = _folder(good_set)
    write_telephony_wav(folder / "3.wav", padded(tone(600, 0.4, amplitude=0.2 * 10 ** (4 / 20)), 0.1))
    report = check_spelling_set(good_set, locale="en-GB", chars="0123abc")
    assert report.ok
    assert report.loudness_spread_db == pytest.approx(4, abs=0.5)
    assert any("loudness differs" in w for w in report.warnings)
    assert any("louder than the set's median" in w for w in report.frame.loc["3", "warnings"])
    write_telephony_wav(folder / "3.wav", padded(tone(600, 0.4, amplitude=0.8), 0.1))
    report = check_spelling_set(good_set, locale="en-GB", chars="0123abc")
    assert not report.ok
    assert any("loudness differs by 12" in p and "'3'" in p for p in report.problems)


def test_duration_outliers_and_long_silences_are_warnings(good_set):
    folder = _folder(good_set)
    write_telephony_wav(folder / "a.wav", padded(tone(500, 1.6, amplitude=0.2), 0.8, 0.1))
    report = check_spelling_set(good_set, locale="en-GB", chars="0123abc")
    warnings = report.frame.loc["a", "warnings"]
    assert any("before the speech" in w for w in warnings)
    assert any("against the set's median" in w for w in warnings)
    assert any("duration outliers" in w and "a (" in w for w in report.warnings)
    assert report.ok  # warnings alone do not fail a set


def test_a_malformed_locale_is_a_problem(good_set):
    report = check_spelling_set(good_set, locale="EN-GB", chars="0")
    assert any("xx-XX" in p for p in report.problems)


def test_a_locale_without_a_provider_voice_is_a_warning(tmp_path):
    write_telephony_wav(tmp_path / "spelling" / "xx-YY" / "0.wav", padded(tone(400), 0.1))
    report = check_spelling_set(tmp_path, locale="xx-YY", chars="0")
    assert report.ok
    assert report.provider_voice is False
    assert any("no TTS voice for xx-YY" in w for w in report.warnings)


def test_a_missing_folder_is_a_problem_that_points_at_a_near_miss(tmp_path):
    (tmp_path / "spelling" / "en-gb").mkdir(parents=True)
    report = check_spelling_set(tmp_path, locale="en-GB", chars="0")
    assert any("found 'en-gb'" in p for p in report.problems)
    assert report.missing == ["0"]


def test_the_locale_folder_itself_or_the_spelling_folder_can_be_given(good_set):
    assert check_spelling_set(_folder(good_set), locale="en-GB", chars="0123abc").ok
    assert check_spelling_set(good_set / "spelling", locale="en-GB", chars="0123abc").ok


def test_the_json_form_has_ok_missing_problems_and_one_entry_per_character(good_set):
    report = check_spelling_set(good_set, locale="en-GB", codes=["9"])
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is False and data["missing"] == ["9"] and data["problems"]
    assert len(data["characters"]) == 36
    nine = next(c for c in data["characters"] if c["char"] == "9")
    assert nine["present"] is False and nine["duration_s"] is None


def test_the_html_view_is_a_compact_table_with_failures_first_and_at_most_one_player(good_set):
    html = check_spelling_set(good_set, locale="en-GB", chars="0123abcd")._repr_html_()
    assert html.count("<audio") == 1 and "Listen to <code>0123abc</code>" in html
    assert "missing: d.wav" in html and "<div class='cmvoice-table-box'>" in html
    table = html[html.index("cmvoice-table-box'>"):]
    assert table.index(">missing<") < table.index(">ok<")  # the missing character comes first
    assert "SpellingCheckReport" in repr(check_spelling_set(good_set, locale="en-GB", chars="0"))


def test_a_full_set_of_36_characters_shows_one_player_spelling_the_first_code(tmp_path):
    root = tmp_path / "upload"
    for i, ch in enumerate("0123456789abcdefghijklmnopqrstuvwxyz"):
        write_telephony_wav(root / "spelling" / "en-GB" / f"{ch}.wav",
                   padded(tone(300 + 10 * i, 0.3, amplitude=0.2), 0.1))
    report = check_spelling_set(root, locale="en-GB", codes=["4X2x"])
    html = report._repr_html_()
    assert html.count("<audio") == 1 and "Listen to <code>4x2x</code>" in html
    assert html.count("<tr>") <= 40  # one table row per character, no player rows


def test_the_frame_has_the_documented_columns_and_sorts_by_char(good_set):
    frame = check_spelling_set(good_set, locale="en-GB", chars="ba").frame
    for col in ("char", "file", "present", "compliant", "problems", "duration_s", "rms_dbfs", "warnings"):
        assert col in frame.columns
    # b and a were asked for; the other character files present are checked as well.
    assert list(frame["char"])[:2] == ["b", "a"]
    assert list(frame.sort_values("char")["char"]) == list("0123abc")
    assert not frame.loc["0", "required"]
    assert frame.loc["a", "file"].endswith("a.wav")


def test_a_bad_character_file_outside_the_asked_chars_still_fails_because_it_would_be_uploaded(good_set):
    write_sf(_folder(good_set) / "z.wav", tone(440, 0.4, samplerate=44100), 44100)
    report = check_spelling_set(good_set, locale="en-GB", chars="ab")
    assert not report.ok
    assert not report.frame.loc["z", "required"] and not report.frame.loc["z", "compliant"]
