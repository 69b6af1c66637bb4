import json

import numpy as np

from cmvoice_nb.audio.wavfile import encode_wav
from cmvoice_nb.cli import main

from .._audio import sf_bytes, speechlike


def run(capsys, *argv):
    code = main(list(argv))
    return code, capsys.readouterr().out


def test_convert_of_good_files_exits_0_and_writes_them(tmp_path, capsys):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.flac").write_bytes(sf_bytes(speechlike(0.5, 16000), 16000, format="FLAC"))
    single = tmp_path / "b.mp3"
    single.write_bytes(sf_bytes(speechlike(0.5, 44100), 44100, format="MP3"))
    code, out = run(capsys, "audio", "convert", str(src), str(single), "-o", str(tmp_path / "out"))
    assert code == 0, out
    assert (tmp_path / "out" / "a.wav").exists() and (tmp_path / "out" / "b.wav").exists()
    assert "2 file(s) converted, 2 ok" in out


def test_convert_with_a_bad_file_exits_1_and_json_has_one_object_per_file(tmp_path, capsys):
    good = tmp_path / "good.flac"
    good.write_bytes(sf_bytes(speechlike(0.5, 16000), 16000, format="FLAC"))
    bad = tmp_path / "bad.wav"
    bad.write_text("oops")
    code, out = run(capsys, "audio", "convert", str(good), str(bad), str(tmp_path / "missing.ogg"),
                    "-o", str(tmp_path / "out"), "--target", "pcm16", "--json")
    assert code == 1
    rows = json.loads(out)
    assert [r["source"] for r in rows] == [str(good), str(bad), str(tmp_path / "missing.ogg")]
    assert [r["ok"] for r in rows] == [True, False, False]
    assert all({"source", "target", "ok", "problems", "warnings"} <= set(r) for r in rows)
    assert rows[0]["target"] == str(tmp_path / "out" / "good.wav")
    assert "file not found" in rows[2]["error"]


def test_check_exits_0_for_compliant_files(tmp_path, capsys):
    (tmp_path / "ok.wav").write_bytes(encode_wav(speechlike(1.0, 8000)))
    code, out = run(capsys, "audio", "check", str(tmp_path))
    assert code == 0 and "OK" in out


def test_check_exits_1_and_explains_non_compliant_files(tmp_path, capsys):
    p = tmp_path / "studio.wav"
    p.write_bytes(sf_bytes(np.column_stack([speechlike(0.5, 44100)] * 2), 44100, format="WAV"))
    code, out = run(capsys, "audio", "check", str(p), "--json")
    assert code == 1
    (row,) = json.loads(out)
    assert row["source"] == str(p) and row["ok"] is False
    assert any("44100 Hz" in x for x in row["problems"]) and any("mono" in x for x in row["problems"])
    assert isinstance(row["warnings"], list)


def test_check_strict_alaw_rejects_pcm16(tmp_path, capsys):
    p = tmp_path / "p.wav"
    p.write_bytes(encode_wav(speechlike(1.0, 8000), target="pcm16"))
    assert run(capsys, "audio", "check", str(p))[0] == 0
    assert run(capsys, "audio", "check", "--strict-alaw", str(p))[0] == 1
