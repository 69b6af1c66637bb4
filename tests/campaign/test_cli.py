"""``cmvoice send``: CSV in as text, results CSV out, token from the environment, resumable."""
import json

import pandas as pd
import pytest

from cmvoice_nb.campaign.send import RESULT_COLUMNS
from cmvoice_nb.cli import main
from cmvoice_nb.sandbox import SIMULATOR_TOKEN, Simulator


@pytest.fixture
def sim():
    with Simulator(seed=5) as s:
        yield s


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("Phone,first_name,code\n0612345610,Ann,0042\n+31612345710,Bob,0099\nnot-a-number,Cy,1234\n")
    return path


def args(csv_file, tmp_path, *extra, app="otp"):
    return ["send", str(csv_file), "--app", app, "--map", "callee=Phone", "--set", "caller=+31201234567",
            "--set", "intro-prompt=Hello {first_name}", "--set", "intro-prompt-type=TTS", "--region", "NL",
            "--journal", str(tmp_path / "j.sqlite"), "-o", str(tmp_path / "out.csv"), "--rate", "500",
            "--no-progress", *extra]


def test_a_dry_run_validates_and_writes_results_without_a_token(csv_file, tmp_path, no_token_env, capsys):
    assert main(args(csv_file, tmp_path, "--dry-run")) == 0
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert list(out.columns) == ["row", *RESULT_COLUMNS]
    assert list(out["status"]) == ["dry-run", "dry-run", "invalid"]
    assert list(out["callee"]) == ["+31612345610", "+31612345710", "not-a-number"]
    assert list(out["instruction_id"]) == ["people-0", "people-1", "people-2"]
    assert not (tmp_path / "j.sqlite").exists()
    assert "row 2: callee: not a phone number" in capsys.readouterr().err


def test_a_send_keeps_leading_zeros_and_a_rerun_resumes_without_sending_again(csv_file, tmp_path, sim, monkeypatch):
    monkeypatch.setenv("CM_PRODUCT_TOKEN", SIMULATOR_TOKEN)
    assert main(args(csv_file, tmp_path, "--base-url", sim.base_url)) == 0
    bodies = [json.loads(b) for b in sim.requests["body"]]
    assert sorted(b["code"] for b in bodies) == ["0042", "0099"]
    assert {b["intro-prompt"] for b in bodies} == {"Hello Ann", "Hello Bob"}
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert list(out["status"]) == ["queued", "queued", "invalid"]
    assert main(args(csv_file, tmp_path, "--base-url", sim.base_url)) == 0
    assert len(sim.requests) == 2
    assert SIMULATOR_TOKEN not in (tmp_path / "out.csv").read_text()


def test_rows_with_an_unknown_outcome_give_exit_status_1(csv_file, tmp_path, sim, monkeypatch, capsys):
    monkeypatch.setenv("CM_PRODUCT_TOKEN", SIMULATOR_TOKEN)
    sim.set_faults(rate_drop=1.0)
    assert main(args(csv_file, tmp_path, "--base-url", sim.base_url)) == 1
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert list(out["status"]) == ["unknown", "unknown", "invalid"]
    assert "may have been placed" in capsys.readouterr().err


def test_a_refused_token_stops_with_exit_1_and_writes_results(csv_file, tmp_path, sim, monkeypatch):
    monkeypatch.setenv("CM_PRODUCT_TOKEN", "wrong-token")
    assert main(args(csv_file, tmp_path, "--base-url", sim.base_url)) == 1
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert set(out["status"]) == {"skipped", "invalid"}
    assert "wrong-token" not in (tmp_path / "out.csv").read_text()


def test_without_a_token_in_the_environment_the_send_is_refused(csv_file, tmp_path, no_token_env, capsys):
    assert main(args(csv_file, tmp_path)) == 2
    assert "CM_PRODUCT_TOKEN" in capsys.readouterr().err


def test_the_results_file_may_not_be_the_input_file(csv_file, tmp_path, capsys):
    argv = args(csv_file, tmp_path, "--dry-run")
    argv[argv.index("-o") + 1] = str(csv_file)
    before = csv_file.read_text()
    assert main(argv) == 2
    assert csv_file.read_text() == before
    assert "is the input file" in capsys.readouterr().err


def test_a_template_naming_a_missing_column_is_a_usage_error(csv_file, tmp_path, capsys):
    argv = args(csv_file, tmp_path, "--dry-run", "--set", "outro-prompt=Bye {last_name}")
    assert main(argv) == 2
    assert "{last_name}" in capsys.readouterr().err


def test_a_malformed_set_option_is_a_usage_error(csv_file, tmp_path):
    with pytest.raises(SystemExit, match="FIELD=VALUE"):
        main(args(csv_file, tmp_path, "--dry-run", "--set", "caller"))


def test_duplicates_left_out_on_purpose_do_not_make_the_exit_status_fail(tmp_path, sim, monkeypatch):
    monkeypatch.setenv("CM_PRODUCT_TOKEN", SIMULATOR_TOKEN)
    path = tmp_path / "dups.csv"
    path.write_text("callee,name\n+31612345610,A\n0612345610,B\n")
    argv = ["send", str(path), "--app", "notification", "--set", "caller=+31201234567", "--set", "prompt=Hi",
            "--set", "prompt-type=TTS", "--region", "NL", "--drop-duplicates", "--journal", str(tmp_path / "j"),
            "-o", str(tmp_path / "o.csv"), "--base-url", sim.base_url, "--no-progress"]
    assert main(argv) == 0
    out = pd.read_csv(tmp_path / "o.csv", dtype=str, keep_default_na=False)
    assert list(out["status"]) == ["queued", "skipped"] and "duplicate callee" in out.loc[1, "error"]
    assert len(sim.requests) == 1
