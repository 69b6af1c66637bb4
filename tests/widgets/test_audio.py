"""AudioPrep: clicks give exactly what the library gives on the same inputs; uploads are cleared."""
from __future__ import annotations

from cmvoice_nb.audio import check_folder, convert_folder, convert_prompt
from cmvoice_nb.widgets import AudioPrep

from .conftest import tone_wav, upload_entry

COLUMNS = ["source", "status", "ok", "problems", "warnings"]


def test_convert_folder_click_equals_convert_folder(recordings, tmp_path):
    app = AudioPrep(audio_root=tmp_path / "by_widget", source_dir=recordings)
    app.convert_folder.click()
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

    direct = convert_prompt(data, tmp_path / "direct.wav", **app.options())
    report = app.reports["Hello There.wav"]
    assert app.last_error is None
    assert report.ok and report.problems == direct.problems
    assert (tmp_path / "prompts" / "Hello There.wav").read_bytes() == (tmp_path / "direct.wav").read_bytes()
    assert app.upload.value == ()  # the recording's bytes are gone from the widget state
    assert "1 converted" in app.status.value


def test_a_bad_upload_is_reported_and_the_others_still_convert(tmp_path):
    app = AudioPrep(audio_root=tmp_path / "prompts")
    app.upload.value = (upload_entry("notes.wav", b"this is not audio"), upload_entry("ok.wav", tone_wav()))
    app.convert_uploads.click()
    errors = "".join(o.get("text", "") for o in app.out.outputs if o.get("name") == "stderr")
    assert "notes.wav" in errors
    assert list(app.reports) == ["ok.wav"]
    assert (tmp_path / "prompts" / "ok.wav").exists()
    assert app.upload.value == ()


def test_an_upload_name_cannot_write_outside_the_save_folder(tmp_path):
    app = AudioPrep(audio_root=tmp_path / "prompts")
    app.upload.value = (upload_entry("../../escape.wav", tone_wav()),)
    app.convert_uploads.click()
    assert (tmp_path / "prompts" / "escape.wav").exists()
    assert not (tmp_path.parent / "escape.wav").exists()


def test_check_click_equals_check_folder(recordings, tmp_path):
    app = AudioPrep(audio_root=recordings)
    app.check_root.click()
    expected = check_folder(recordings, workers=1, progress=False)
    assert app.table[["source", "ok", "problems"]].equals(expected[["source", "ok", "problems"]])
    assert not app.table["ok"].any()  # 44.1 kHz stereo PCM is not what the provider plays


def test_convert_folder_without_a_folder_asks_for_one():
    app = AudioPrep()
    app.convert_folder.click()
    assert app.last_error is None and "Type the folder" in app.status.value
