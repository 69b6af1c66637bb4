import numpy as np
import pandas as pd
import pytest

from cmvoice_nb.audio.batch import check_folder, convert_folder
from cmvoice_nb.audio.wavfile import encode_wav, parse_wav
from cmvoice_nb.errors import AudioError

from .._audio import sf_bytes, sine, speechlike


@pytest.fixture
def messy_tree(tmp_path, m4a_bytes):
    src = tmp_path / "prompts"
    (src / "en" / "otp").mkdir(parents=True)
    (src / "nl").mkdir()
    (src / "en" / "Welcome.wav").write_bytes(sf_bytes(np.column_stack([speechlike(0.5, 44100)] * 2), 44100,
                                                     format="WAV"))
    (src / "en" / "otp" / "code.flac").write_bytes(sf_bytes(speechlike(0.5, 16000), 16000, format="FLAC"))
    (src / "nl" / "phone.m4a").write_bytes(m4a_bytes)
    (src / "nl" / "agency.mp3").write_bytes(sf_bytes(speechlike(0.5, 44100), 44100, format="MP3"))
    (src / "nl" / "empty.ogg").write_bytes(b"")
    (src / "nl" / "notes.wav").write_text("call script v2\n")
    (src / "nl" / "README.txt").write_text("not picked up: not an audio suffix")
    (src / ".hidden.wav").write_bytes(b"ignored")
    return src


def test_convert_folder_mirrors_the_tree_and_reports_every_file(messy_tree, tmp_path):
    out = tmp_path / "out"
    df = convert_folder(messy_tree, out, progress=False)
    assert isinstance(df, pd.DataFrame)
    by = df.set_index("source")
    assert sorted(by.index) == ["en/Welcome.wav", "en/otp/code.flac", "nl/agency.mp3", "nl/empty.ogg",
                                "nl/notes.wav", "nl/phone.m4a"]
    for good in ("en/Welcome.wav", "en/otp/code.flac", "nl/agency.mp3", "nl/phone.m4a"):
        assert by.loc[good, "status"] == "converted" and by.loc[good, "ok"], by.loc[good].to_dict()
    assert (out / "en" / "otp" / "code.wav").exists() and (out / "nl" / "phone.wav").exists()
    assert parse_wav((out / "en" / "Welcome.wav").read_bytes()).codec == "alaw"
    assert by.loc["nl/empty.ogg", "status"] == "failed" and "empty" in by.loc["nl/empty.ogg", "error"]
    assert "text file" in by.loc["nl/notes.wav", "error"]
    assert not (out / "nl" / "notes.wav").exists() and not (out / "nl" / "empty.wav").exists()
    assert not list(out.rglob("*.tmp"))
    assert by.loc["en/Welcome.wav", "source_samplerate"] == 44100


def test_the_batch_uses_worker_processes_and_gives_the_same_result_as_one(messy_tree, tmp_path):
    a = convert_folder(messy_tree, tmp_path / "a", workers=2, progress=False)
    b = convert_folder(messy_tree, tmp_path / "b", workers=1, progress=False)
    assert a[["source", "status", "ok", "error"]].equals(b[["source", "status", "ok", "error"]])
    for p in (tmp_path / "a").rglob("*.wav"):
        assert p.read_bytes() == (tmp_path / "b" / p.relative_to(tmp_path / "a")).read_bytes()


def test_two_sources_for_one_target_are_both_reported_not_overwritten(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "hello.mp3").write_bytes(sf_bytes(sine(440, 0.3, 44100), 44100, format="MP3"))
    (src / "hello.flac").write_bytes(sf_bytes(sine(880, 0.3, 44100), 44100, format="FLAC"))
    df = convert_folder(src, tmp_path / "out", progress=False).set_index("source")
    assert df.loc["hello.flac", "status"] == "converted"
    assert df.loc["hello.mp3", "status"] == "failed" and "would also be written" in df.loc["hello.mp3", "error"]


def test_an_output_folder_inside_the_source_is_not_converted_again(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.flac").write_bytes(sf_bytes(sine(440, 0.3, 16000), 16000, format="FLAC"))
    convert_folder(src, src / "out", progress=False)
    df = convert_folder(src, src / "out", progress=False)
    assert df["source"].tolist() == ["a.flac"]


def test_a_missing_source_folder_is_an_error(tmp_path):
    with pytest.raises(AudioError, match="is not a folder"):
        convert_folder(tmp_path / "nope", tmp_path / "out")


def test_check_folder_has_one_row_per_file_with_measurements(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "good.wav").write_bytes(encode_wav(speechlike(1.0, 8000)))
    (tmp_path / "sub" / "studio.wav").write_bytes(sf_bytes(sine(440, 0.5, 44100), 44100, format="WAV"))
    (tmp_path / "sub" / "broken.wav").write_bytes(encode_wav(speechlike(1.0, 8000))[:3000])
    df = check_folder(tmp_path, progress=False, workers=2).set_index("source")
    assert bool(df.loc["good.wav", "ok"]) and df.loc["good.wav", "codec"] == "alaw"
    assert df.loc["good.wav", "duration_s"] == pytest.approx(1.0)
    assert not df.loc["sub/studio.wav", "ok"]
    assert any("44100 Hz" in p for p in df.loc["sub/studio.wav", "problems"])
    assert any("truncated" in p for p in df.loc["sub/broken.wav", "problems"])


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_batches_work_with_every_process_start_method(tmp_path, monkeypatch, method):
    import cmvoice_nb.audio.batch as batch

    monkeypatch.setattr(batch, "START_METHOD", method)
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        (src / f"p{i}.flac").write_bytes(sf_bytes(sine(300 + 100 * i, 0.3, 16000), 16000, format="FLAC"))
    df = convert_folder(src, tmp_path / "out", workers=2, progress=False)
    assert df["ok"].all() and len(list((tmp_path / "out").glob("*.wav"))) == 3
