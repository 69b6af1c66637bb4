"""SpellingSet: build, check, preview and pack give exactly what the library gives."""
from __future__ import annotations

import zipfile

import numpy as np
import pytest

from cmvoice_nb.spelling import build_spelling_set, check_spelling_set, pack_spelling_set, preview_code
from cmvoice_nb.widgets import SpellingSet

from .._audio import tone_wav

CHARS = "0123ab"


@pytest.fixture()
def char_folder(tmp_path):
    folder = tmp_path / "takes"
    folder.mkdir()
    for i, ch in enumerate(CHARS):
        (folder / f"{ch.upper()}.wav").write_bytes(tone_wav(300 + 60 * i, duration_s=0.4, channels=1))
    return folder


def _app(tmp_path, source):
    app = SpellingSet(root=tmp_path / "widget", source=source, locale="en-GB")
    app.chars.value = CHARS
    return app


def test_build_click_writes_the_same_files_as_build_spelling_set(tmp_path, char_folder):
    app = _app(tmp_path, char_folder)
    app.build.click()
    app.join()
    build_spelling_set(char_folder, tmp_path / "direct", locale="en-GB", chars=CHARS, overwrite=True, progress=False)

    assert app.last_error is None
    for ch in CHARS:
        mine = tmp_path / "widget" / "spelling" / "en-GB" / f"{ch}.wav"
        theirs = tmp_path / "direct" / "spelling" / "en-GB" / f"{ch}.wav"
        assert mine.read_bytes() == theirs.read_bytes()
    expected = check_spelling_set(tmp_path / "direct", locale="en-GB", chars=CHARS)
    assert app.report.ok and app.report.ok == expected.ok
    assert app.report.frame.drop(columns="file").equals(expected.frame.drop(columns="file"))


def test_spell_it_plays_what_preview_code_returns(tmp_path, char_folder):
    app = _app(tmp_path, char_folder)
    app.build.click()
    app.join()
    app.code.value = "3a1"
    app.play.click()
    samples, rate = preview_code(tmp_path / "widget", "3a1", locale="en-GB")
    assert app.last_error is None
    assert app.preview[1] == rate and np.array_equal(app.preview[0], samples)
    assert len(app.player_box.children) == 1


def test_pack_click_zips_what_pack_spelling_set_zips(tmp_path, char_folder):
    app = _app(tmp_path, char_folder)
    app.build.click()
    app.join()
    app.zip_path.value = str(tmp_path / "mine.zip")
    app.pack.click()
    direct = pack_spelling_set(tmp_path / "widget", locale="en-GB", out=tmp_path / "direct.zip", chars=CHARS)
    assert app.packed == tmp_path / "mine.zip"
    assert sorted(zipfile.ZipFile(app.packed).namelist()) == sorted(zipfile.ZipFile(direct).namelist())


def test_a_code_the_set_cannot_spell_shows_the_error(tmp_path, char_folder):
    app = _app(tmp_path, char_folder)
    app.build.click()
    app.join()
    app.code.value = "12"  # Enter in "Try a code" spells it
    assert app.last_error is None and len(app.player_box.children) == 1
    app.code.value = "9z"
    assert app.last_error is not None
    assert "9" in app.status.value and "#cf222e" in app.status.value
    assert app.player_box.children == ()  # no player left from an earlier code


def test_building_without_a_source_says_what_is_missing(tmp_path):
    app = SpellingSet(root=tmp_path / "r")
    app.build.click()
    app.join()
    assert isinstance(app.last_error, ValueError)
    assert "source" in str(app.last_error)


def test_text_to_speech_source_builds_a_valid_set(tmp_path):
    app = SpellingSet(root=tmp_path / "tts", locale="en-GB")
    app.source_kind.value = "tts"
    app.chars.value = "12"
    app.build.click()
    app.join()
    assert app.last_error is None, app.last_error
    assert app.report.ok
    assert sorted(p.name for p in (tmp_path / "tts" / "spelling" / "en-GB").iterdir()) == ["1.wav", "2.wav"]


# -- issue 16: chips instead of a wall of players, TTS disables the path, a download link ---------------

def test_a_checked_set_is_a_grid_of_character_chips_with_one_shared_player(tmp_path, char_folder):
    app = _app(tmp_path, char_folder)
    app.build.click()
    app.join()
    assert list(app.chips) == list(CHARS)
    outputs = str(app.out.outputs)
    assert "<audio" not in outputs and "widget-view" not in outputs  # no player per character
    app.chips["a"].click()
    (label, player) = app.chip_player.children
    assert "a" in label.value and player.value[:4] == b"RIFF"


def test_the_source_path_is_disabled_for_text_to_speech():
    app = SpellingSet()
    app.source_kind.value = "tts"
    assert app.source.disabled
    app.source_kind.value = "folder"
    assert not app.source.disabled


def test_pack_offers_a_download_link_and_clears_an_old_error(tmp_path, char_folder):
    import base64

    app = _app(tmp_path, char_folder)
    app.build.click()
    app.join()
    app.code.value = "zz"
    assert app.last_error is not None
    app.pack.click()
    assert app.last_error is None and "packed" in app.status.value and "#cf222e" not in app.status.value
    href = app.download.value.split("href='", 1)[1].split("'", 1)[0]
    assert base64.b64decode(href.split(",", 1)[1]) == app.packed.read_bytes()
    assert f"download='{app.packed.name}'" in app.download.value


def test_enter_on_an_unchanged_code_spells_it_and_a_changed_code_is_spelled_once(tmp_path, char_folder, monkeypatch):
    app = _app(tmp_path, char_folder)
    app.build.click()
    app.join()
    calls = []
    app.play.on_click(lambda _b: calls.append(app.code.value))
    now = [1000.0]
    monkeypatch.setattr(app, "_clock", lambda: now[0])
    app.code.value = "12"
    now[0] += 0.4  # a later Enter, outside the window that joins a value change with its submit
    app.code._handle_string_msg(None, {"event": "submit"}, None)  # Enter, code unchanged
    assert calls == ["12", "12"] and len(app.player_box.children) == 1
    app.code.value = "13"  # Enter after an edit: the value change ...
    app.code._handle_string_msg(None, {"event": "submit"}, None)  # ... and the submit, spelled once
    assert calls == ["12", "12", "13"]
