"""``cmvoice spelling build|check|pack|preview``."""
from __future__ import annotations

import json
import zipfile

from cmvoice_nb.cli import main

from .._audio import sequence, write_sf


def test_build_check_pack_from_one_recording(tmp_path, capsys):
    take = tmp_path / "take.wav"
    write_sf(take, sequence([300, 500, 700, 900]), 8000)
    root = tmp_path / "upload"
    assert main(["spelling", "build", str(take), "--locale", "en-GB", "-o", str(root), "--chars", "01ab"]) == 0
    assert "built 4 characters" in capsys.readouterr().out
    assert main(["spelling", "check", str(root), "--locale", "en-GB", "--code", "10BA", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["missing"] == [] and len(data["characters"]) == 36
    zip_path = tmp_path / "set.zip"
    assert main(["spelling", "pack", str(root), "--locale", "en-GB", "-o", str(zip_path), "--code", "01ab"]) == 0
    assert "spelling/en-GB/b.wav" in zipfile.ZipFile(zip_path).namelist()
    assert main(["spelling", "preview", str(root), "--locale", "en-GB", "--code", "b0",
                 "-o", str(tmp_path / "p.wav")]) == 0
    assert (tmp_path / "p.wav").stat().st_size > 1000


def test_check_exits_1_on_any_problem_and_lists_it(tmp_path, capsys):
    assert main(["spelling", "check", str(tmp_path), "--locale", "en-GB", "--code", "42"]) == 1
    out = capsys.readouterr().out
    assert "problem:" in out and "4.wav" in out


def test_build_refusals_exit_1_with_the_reason_on_stderr(tmp_path, capsys):
    take = tmp_path / "take.wav"
    write_sf(take, sequence([300, 500]), 8000)
    assert main(["spelling", "build", str(take), "--locale", "en-GB", "-o", str(tmp_path), "--chars", "abc"]) == 1
    assert "found 2 segment(s) for 3" in capsys.readouterr().err


def test_build_from_a_folder_with_a_mapping_and_json(tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    for name, hz in (("ay.wav", 300), ("zero.wav", 600)):
        write_sf(src / name, sequence([hz]), 8000)
    code = main(["spelling", "build", str(src), "--locale", "nl-NL", "-o", str(tmp_path / "out"),
                 "--chars", "0a", "--map", "ay.wav=a", "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["char"] for c in data["characters"]] == ["0", "a"]


def test_pack_refuses_a_failing_set(tmp_path, capsys):
    assert main(["spelling", "pack", str(tmp_path), "--locale", "en-GB", "-o", str(tmp_path / "x.zip")]) == 1
    assert "refusing to pack" in capsys.readouterr().err
    assert not (tmp_path / "x.zip").exists()
