"""AudioPrep: clicks give exactly what the library gives on the same inputs; uploads are cleared."""
from __future__ import annotations

import ipywidgets as W

from cmvoice_nb.audio import check_folder, convert_folder, convert_prompt
from cmvoice_nb.widgets import AudioPrep

from .._audio import tone_wav
from .._wait import scaled
from ._uploads import upload_entry

COLUMNS = ["source", "status", "ok", "problems", "warnings"]


def test_convert_folder_click_equals_convert_folder(recordings, tmp_path):
    app = AudioPrep(audio_root=tmp_path / "by_widget", source_dir=recordings)
    app.convert_folder.click()
    app.join()
    expected = convert_folder(recordings, tmp_path / "direct", workers=1, progress=False, **app.options())

    assert app.last_error is None
    assert app.table[COLUMNS].equals(expected[COLUMNS])
    for name in ("welcome.wav", "goodbye.wav", "menu.wav"):
        assert (tmp_path / "by_widget" / name).read_bytes() == (tmp_path / "direct" / name).read_bytes()
    assert "3 files, 3 compliant" in app.status.value


def test_options_follow_the_controls():
    app = AudioPrep()
    app.normalize.value = False
    app.target.value = "pcm16"
    app.trim.value = False
    opts = app.options()
    assert opts["normalize_dbfs"] is None and opts["target"] == "pcm16" and opts["trim"] is False


def test_converting_uploads_equals_convert_prompt_and_clears_the_upload(tmp_path):
    data = tone_wav(500)
    app = AudioPrep(audio_root=tmp_path / "prompts")
    app.upload.value = (upload_entry("Hello There.wav", data),)
    app.convert_uploads.click()
    app.join()

    direct = convert_prompt(data, tmp_path / "direct.wav", **app.options())
    report = app.reports["Hello There.wav"]
    assert app.last_error is None
    assert report.ok and report.problems == direct.problems
    assert report.source == "Hello There.wav"  # the upload's name, not <bytes>
    assert (tmp_path / "prompts" / "Hello There.wav").read_bytes() == (tmp_path / "direct.wav").read_bytes()
    assert app.upload.value == ()  # the recording's bytes are gone from the widget state
    assert "1 converted" in app.status.value


def test_a_bad_upload_is_reported_and_the_others_still_convert(tmp_path):
    app = AudioPrep(audio_root=tmp_path / "prompts")
    app.upload.value = (upload_entry("notes.wav", b"this is not audio"), upload_entry("ok.wav", tone_wav()))
    app.convert_uploads.click()
    app.join()
    assert "1 failed (notes.wav)" in app.status.value
    rows = [o["data"]["text/plain"] for o in app.out.outputs]
    assert len(rows) == 2  # one compact row per file, nothing else
    assert "<bytes>" not in app.status.value and "<bytes>" not in str(rows)
    assert app.reports["ok.wav"].source == "ok.wav"
    assert list(app.reports) == ["ok.wav"]
    assert (tmp_path / "prompts" / "ok.wav").exists()
    assert app.upload.value == ()


def test_an_upload_name_cannot_write_outside_the_save_folder(tmp_path):
    app = AudioPrep(audio_root=tmp_path / "prompts")
    app.upload.value = (upload_entry("../../escape.wav", tone_wav()),)
    app.convert_uploads.click()
    app.join()
    assert (tmp_path / "prompts" / "escape.wav").exists()
    assert not (tmp_path.parent / "escape.wav").exists()


def test_check_click_equals_check_folder(recordings, tmp_path):
    app = AudioPrep(audio_root=recordings)
    app.check_root.click()
    app.join()
    expected = check_folder(recordings, workers=1, progress=False)
    assert app.table[["source", "ok", "problems"]].equals(expected[["source", "ok", "problems"]])
    assert not app.table["ok"].any()  # 44.1 kHz stereo PCM is not what the provider plays


def test_convert_folder_without_a_folder_asks_for_one():
    app = AudioPrep()
    app.convert_folder.click()
    app.join()
    assert app.last_error is None and "Type the folder" in app.status.value


# -- issue 16: one row per file, the file's name in errors, a clean slate per action --------------------

def test_each_upload_is_one_compact_row_with_a_badge_and_two_players(tmp_path):
    app = AudioPrep(audio_root=tmp_path / "prompts")
    app.upload.value = (upload_entry("welcome.wav", tone_wav(400)),)
    app.convert_uploads.click()
    app.join()
    (box,) = app.file_rows
    assert len(app.out.outputs) == 1  # the row only: no report table, no third player
    players = [c for c in box.children if isinstance(c, W.Audio)]
    assert len(players) == 2 and "OK" in box.children[1].value and "welcome.wav" in box.children[0].value


def test_a_new_action_clears_the_previous_result_and_error(recordings, tmp_path):
    app = AudioPrep(audio_root=tmp_path / "out", source_dir=tmp_path / "missing")
    app.convert_folder.click()
    app.join()
    assert app.last_error is not None and "missing" in app.status.value
    app.folder.value = str(recordings)
    app.convert_folder.click()
    app.join()
    assert app.last_error is None and "3 files, 3 compliant" in app.status.value
    assert len(app.out.outputs) == 1  # only this run's table


def test_buttons_are_disabled_while_converting(recordings, tmp_path, monkeypatch):
    import threading

    import cmvoice_nb.audio as audio

    started, release = threading.Event(), threading.Event()
    real = audio.convert_folder

    def slow(*args, **kwargs):
        started.set()
        release.wait(scaled(10))
        return real(*args, **kwargs)

    monkeypatch.setattr(audio, "convert_folder", slow)
    app = AudioPrep(audio_root=tmp_path / "out", source_dir=recordings)
    app.convert_folder.click()
    assert started.wait(scaled(10))
    assert app.convert_folder.disabled and app.convert_uploads.disabled and app.check_root.disabled
    assert app.target.disabled and "converting the folder" in app.status.value
    release.set()
    app.join()
    assert not (app.convert_folder.disabled or app.convert_uploads.disabled or app.check_root.disabled)
