"""``cmvoice send``: files in as text, results out exactly, token from the environment, every exit code."""
import csv
import json
import os

import pandas as pd
import pytest

from cmvoice_nb.campaign import Journal
from cmvoice_nb.campaign.send import RESULT_COLUMNS
from cmvoice_nb.cli import main
from cmvoice_nb.simulator import SIMULATOR_TOKEN

from .._net import refusing_url
from ._lists import CALLER, notification_flags


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("Phone,first_name,code\n0612345610,Ann,0042\n+31612345710,Bob,0099\nnot-a-number,Cy,1234\n")
    return path


def args(csv_file, tmp_path, *extra, app="otp"):
    return ["send", str(csv_file), "--app", app, "--map", "callee=Phone", "--set", f"caller={CALLER}",
            "--set", "intro-prompt=Hello {first_name}", "--set", "intro-prompt-type=TTS", "--region", "NL",
            "--journal", str(tmp_path / "j.sqlite"), "-o", str(tmp_path / "out.csv"), "--rate", "500",
            "--no-progress", *extra]


def notification(path, tmp_path, *extra, journal="j.sqlite", out="out.csv"):
    return ["send", str(path), *notification_flags(), "--region", "NL", "--journal", str(tmp_path / journal),
            "-o", str(tmp_path / out), "--rate", "500", "--no-progress", *extra]


def read_out(tmp_path, name="out.csv"):
    return pd.read_csv(tmp_path / name, dtype=str, keep_default_na=False)


def people_csv(path, rows):
    path.write_text("callee,name\n" + "".join(f"{c},{n}\n" for c, n in rows))
    return path


# ------------------------------------------------------------------------- exit codes
def test_a_dry_run_validates_and_an_invalid_row_needs_attention_exit_1(csv_file, tmp_path, no_token_env, capsys):
    assert main(args(csv_file, tmp_path, "--dry-run")) == 1
    out = read_out(tmp_path)
    assert list(out.columns) == ["line", *RESULT_COLUMNS]  # the spreadsheet's line numbers
    assert list(out["line"]) == ["2", "3", "4"]
    assert list(out["status"]) == ["dry-run", "dry-run", "invalid"]
    assert list(out["callee"]) == ["+31612345610", "+31612345710", "not-a-number"]
    key = out["campaign_key"].iloc[0]
    assert list(out["instruction_id"]) == [f"people-{key}-31612345610-1", f"people-{key}-31612345710-1",
                                           f"people-{key}-not-a-number-1"]
    assert not (tmp_path / "j.sqlite").exists()
    err = capsys.readouterr().err
    assert "invalid: 1 row - fix the rows (or --map/--set) and run the same command again" in err
    assert "line 4 (" in err and "callee: not a phone number" in err


def test_every_row_valid_and_queued_exits_0_and_a_rerun_says_they_were_done(tmp_path, sim, token, capsys):
    path = people_csv(tmp_path / "people.csv", [("+31612345610", "Ann"), ("0612345710", "Bob")])
    argv = notification(path, tmp_path, "--base-url", sim.base_url)
    assert main(argv) == 0
    assert "2 rows: queued 2" in capsys.readouterr().err
    assert main(argv) == 0
    assert "2 row(s) were already done by an earlier run" in capsys.readouterr().err
    assert len(sim.requests) == 2


def test_every_row_invalid_exits_1(tmp_path, no_token_env):
    path = people_csv(tmp_path / "people.csv", [("nope", "Ann"), ("123", "Bob")])
    assert main(notification(path, tmp_path, "--dry-run")) == 1
    assert set(read_out(tmp_path)["status"]) == {"invalid"}


def test_a_send_keeps_leading_zeros_and_a_rerun_sends_nothing_again(csv_file, tmp_path, sim, token):
    assert main(args(csv_file, tmp_path, "--base-url", sim.base_url)) == 1  # one row is invalid
    bodies = [json.loads(b) for b in sim.requests["body"]]
    assert sorted(b["code"] for b in bodies) == ["0042", "0099"]
    assert {b["intro-prompt"] for b in bodies} == {"Hello Ann", "Hello Bob"}
    assert list(read_out(tmp_path)["status"]) == ["queued", "queued", "invalid"]
    assert main(args(csv_file, tmp_path, "--base-url", sim.base_url)) == 1
    assert len(sim.requests) == 2
    assert SIMULATOR_TOKEN not in (tmp_path / "out.csv").read_text()


def test_rows_with_an_unknown_outcome_exit_1_and_name_the_flag(csv_file, tmp_path, sim, token, capsys):
    sim.set_faults(rate_drop=1.0)
    assert main(args(csv_file, tmp_path, "--base-url", sim.base_url)) == 1
    assert list(read_out(tmp_path)["status"]) == ["unknown", "unknown", "invalid"]
    err = capsys.readouterr().err
    assert "unknown: 2 rows - the call may have been placed" in err and "--resend-unknown" in err


def test_a_refused_token_stops_at_once_with_its_reason(csv_file, tmp_path, sim, monkeypatch, capsys):
    monkeypatch.setenv("CM_PRODUCT_TOKEN", "wrong-token")
    assert main(args(csv_file, tmp_path, "--base-url", sim.base_url, "--concurrency", "1")) == 1
    out = read_out(tmp_path)
    assert set(out["status"]) == {"skipped", "invalid"}
    assert len(sim.requests) == 1  # stopped at the first refusal, not one failure per row
    err = capsys.readouterr().err
    assert "refused the product token (HTTP 401); check CM_PRODUCT_TOKEN" in err
    assert "wrong-token" not in (tmp_path / "out.csv").read_text() and "wrong-token" not in err


def test_a_wrong_base_url_stops_at_once_and_names_the_url(csv_file, tmp_path, sim, token, capsys):
    wrong = sim.base_url + "/nowhere"
    assert main(args(csv_file, tmp_path, "--base-url", wrong, "--concurrency", "1")) == 1
    assert len(sim.requests) == 1
    err = capsys.readouterr().err
    assert f"HTTP 404 from {wrong}/OTP" in err and "check --base-url" in err
    out = read_out(tmp_path)
    assert list(out["status"]) == ["skipped", "skipped", "invalid"]
    with Journal(tmp_path / "j.sqlite") as j:
        assert set(j.counts("people")) == {"pending"}  # nothing placed: the next run sends them


def test_a_provider_refusing_connections_stops_the_run_and_asks_for_a_later_run(csv_file, tmp_path, token, capsys):
    argv = args(csv_file, tmp_path, "--base-url", refusing_url("/voiceapi"), "--concurrency", "1",
                "--http-attempts", "2")
    assert main(argv) == 75  # nothing was placed: the same command later makes progress
    err = capsys.readouterr().err
    assert "could not connect to" in err and "(2 attempts refused)" in err
    assert "--max-attempts is deprecated" not in err
    assert list(read_out(tmp_path)["status"]) == ["failed", "skipped", "invalid"]


def test_without_a_token_in_the_environment_the_send_is_a_usage_error(csv_file, tmp_path, no_token_env, capsys):
    assert main(args(csv_file, tmp_path)) == 2
    assert "CM_PRODUCT_TOKEN" in capsys.readouterr().err


@pytest.mark.parametrize("extra, message", [
    (("--set", "caller"), "--set expects FIELD=VALUE"),
    (("--map", "callee"), "--map expects FIELD=VALUE"),
    (("--map", "callee=Phon"), "--map callee=Phon: no column 'Phon' in the input file; did you mean 'Phone'?"),
    (("--set", "intro-promt=x"),
     "--set intro-promt=…: 'intro-promt' is not a field of otp; did you mean 'intro-prompt'?"),
    (("--set", "outro-prompt=Bye {last_name}"), "{last_name}, which is not a column"),
    (("--rate", "0"), "--rate must be a positive number"),
    (("--burst", "0"), "--burst must be a whole number of 1 or more, got 0"),
    (("--callback-url", "https://a.example/cb", "--set", "callback-url=https://b.example/cb"),
     "give the callback URL once"),
])
def test_usage_errors_exit_2_and_speak_in_flags(csv_file, tmp_path, no_token_env, capsys, extra, message):
    assert main(args(csv_file, tmp_path, "--dry-run", *extra)) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()


def test_numbers_in_flags_take_a_decimal_comma(csv_file, tmp_path, no_token_env, capsys):
    # A Dutch or German operator types 0,1 and 2,5; the flag means what a point would.
    prices = tmp_path / "prices.csv"
    prices.write_text("country,price_per_minute\nNL,0.06\n")
    assert main(args(csv_file, tmp_path, "--dry-run", "--rate", "2,5", "--holdout", "0,1", "--max-cost", "25,50",
                     "--prices", str(prices))) in (0, 1)
    err = capsys.readouterr().err
    assert "not a number" not in err and "holdout" in err and "budget 25.50" in err


@pytest.mark.parametrize("flag, value", [("--max-cost", "1.234,56"), ("--holdout", "nan"), ("--rate", "inf")])
def test_a_number_that_is_not_one_stops_argparse_naming_the_flag(csv_file, tmp_path, no_token_env, capsys, flag, value):
    with pytest.raises(SystemExit) as stopped:
        main(args(csv_file, tmp_path, "--dry-run", flag, value))
    assert stopped.value.code == 2
    assert f"argument {flag}: {value!r} is not a number: write it with one decimal sign" in capsys.readouterr().err


@pytest.mark.skipif(os.devnull != "/dev/null", reason="POSIX devices")
def test_results_to_a_device_are_refused_before_any_call(csv_file, tmp_path, no_token_env, capsys):
    # The results are renamed over their target at the end: over /dev/null (as root) that replaced
    # the device. A link stands in for it, so that a failing guard replaces only the link.
    link = tmp_path / "devnull.csv"
    link.symlink_to(os.devnull)
    argv = args(csv_file, tmp_path, "--dry-run")
    argv[argv.index("-o") + 1] = str(link)
    assert main(argv) == 2
    assert "-o " in (err := capsys.readouterr().err) and "devnull.csv: is a device, not a regular file" in err
    assert link.is_symlink()


def test_an_unreadable_input_is_a_usage_error(tmp_path, no_token_env, capsys):
    assert main(notification(tmp_path / "missing.csv", tmp_path, "--dry-run")) == 2
    assert "missing.csv: no such file" in capsys.readouterr().err
    assert main(notification(tmp_path, tmp_path, "--dry-run")) == 2  # a folder
    assert "not a regular file" in capsys.readouterr().err
    if hasattr(os, "mkfifo"):  # POSIX only: a FIFO would block a naive reader for ever
        os.mkfifo(tmp_path / "pipe.csv")
        assert main(notification(tmp_path / "pipe.csv", tmp_path, "--dry-run")) == 2
        assert "not a regular file" in capsys.readouterr().err
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert main(notification(empty, tmp_path, "--dry-run")) == 2
    assert "the file is empty" in capsys.readouterr().err
    garbage = tmp_path / "garbage.xlsx"
    garbage.write_bytes(b"PK\x03\x04 not really a workbook")
    assert main(notification(garbage, tmp_path, "--dry-run")) == 2
    assert "cannot read as a spreadsheet" in capsys.readouterr().err
    odd = tmp_path / "latin.csv"  # Excel's Western-European CSV: detected, and a named encoding works too
    odd.write_bytes("callee,name\n+31612345610,Jos\xe9\n".encode("cp1252"))
    assert main(notification(odd, tmp_path, "--dry-run")) == 0
    assert main(notification(odd, tmp_path, "--dry-run", "--encoding", "cp1252")) == 0
    from cmvoice_nb.campaign.inputs import read_table

    assert read_table(odd)["name"].tolist() == read_table(odd, encoding="cp1252")["name"].tolist() == ["José"]
    capsys.readouterr()
    broken = tmp_path / "broken.csv"  # 0x81 is a byte neither UTF-8 nor Windows-1252 has
    broken.write_bytes(b"callee,name\n+31612345610,Ann\n+31612345611,B\x81b\n")
    assert main(notification(broken, tmp_path, "--dry-run")) == 2
    err = capsys.readouterr().err
    assert "line 3 is neither UTF-8 nor Windows-1252 (byte 0x81)" in err and "--encoding" in err


def test_a_journal_that_is_a_folder_or_the_input_is_a_usage_error(tmp_path, no_token_env, capsys):
    path = people_csv(tmp_path / "people.csv", [("+31612345610", "Ann")])
    (tmp_path / "j.sqlite").mkdir()
    assert main(notification(path, tmp_path, "--dry-run")) == 2
    assert "is not a regular file" in capsys.readouterr().err
    argv = notification(path, tmp_path, "--dry-run")
    argv[argv.index("--journal") + 1] = str(path)
    assert main(argv) == 2
    assert "--journal must be its own file" in capsys.readouterr().err


def test_the_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit) as info:
        main(["send", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert "exit status (the first that matches wins):" in text
    for line in ("  2   usage, or input that cannot be trusted", "  75  run the same command again later",
                 "  1   you must act", "  0   every row is final"):
        assert line in text
    assert "SIGTERM and SIGHUP stop a run exactly as Ctrl-C does" in text and "Ctrl-Break" in text
    assert "--allow-repeat" in text and "--resend-changed" in text and "--callback-url" in text


def test_the_results_file_may_not_be_the_input_file(csv_file, tmp_path, capsys):
    argv = args(csv_file, tmp_path, "--dry-run")
    argv[argv.index("-o") + 1] = str(csv_file)
    before = csv_file.read_text()
    assert main(argv) == 2
    assert csv_file.read_text() == before
    assert "is the input file" in capsys.readouterr().err


def test_duplicates_left_out_on_purpose_do_not_make_the_exit_status_fail(tmp_path, sim, token):
    path = people_csv(tmp_path / "dups.csv", [("+31612345610", "A"), ("0612345610", "B")])
    assert main(notification(path, tmp_path, "--drop-duplicates", "--base-url", sim.base_url)) == 0
    out = read_out(tmp_path)
    assert list(out["status"]) == ["queued", "dropped"] and "duplicate callee" in out.loc[1, "error"]
    assert len(sim.requests) == 1


def test_a_repeated_callee_is_called_once_and_reported_already_called(tmp_path, sim, token, capsys):
    path = people_csv(tmp_path / "dups.csv", [("+31612345610", "A"), ("0612345610", "B")])
    assert main(notification(path, tmp_path, "--base-url", sim.base_url)) == 1
    out = read_out(tmp_path)
    assert list(out["status"]) == ["queued", "already-called"]
    assert out.loc[1, "call_ids"] == out.loc[0, "call_ids"] and out.loc[0, "instruction_id"] in out.loc[1, "error"]
    assert "--allow-repeat calls them again" in capsys.readouterr().err
    assert main(notification(path, tmp_path, "--base-url", sim.base_url, "--allow-repeat")) == 0
    assert sim.placed_count() == 2  # asked for explicitly


# ------------------------------------------------------------------------------ inputs
def test_a_semicolon_csv_with_a_bom_is_read_as_text(tmp_path, no_token_env):
    path = tmp_path / "people.csv"
    path.write_bytes("\ufeffcallee;name;code\n0612345610;Ann;0042\n".encode("utf-8"))
    assert main(notification(path, tmp_path, "--dry-run")) == 0
    out = read_out(tmp_path)
    assert list(out["status"]) == ["dry-run"] and list(out["callee"]) == ["+31612345610"]


def test_a_forced_separator_wins_over_the_sniffer(tmp_path, no_token_env):
    path = tmp_path / "people.txt"
    path.write_text("callee|name\n0612345610|Ann, Jr\n")
    assert main(notification(path, tmp_path, "--dry-run", "--sep", "|")) == 0


def _sheet_frame():
    # As a spreadsheet holds them: a phone number typed as a number, a code kept as text.
    return pd.DataFrame({"callee": [31612345610, 31612345710], "name": ["Ann", "Bob"], "code": ["0042", "0099"]})


@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
def test_spreadsheets_are_read_as_text_without_floats(tmp_path, no_token_env, suffix):
    path = tmp_path / f"people{suffix}"
    with pd.ExcelWriter(path, engine="openpyxl" if suffix == ".xlsx" else "odf") as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="notes", index=False)
        _sheet_frame().to_excel(writer, sheet_name="people", index=False)
    argv = ["send", str(path), "--app", "otp", "--set", f"caller={CALLER}", "--sheet", "people",
            "--journal", str(tmp_path / "j"), "-o", str(tmp_path / "out.csv"), "--dry-run", "--no-progress"]
    assert main(argv) == 0
    out = read_out(tmp_path)
    assert list(out["callee"]) == ["+31612345610", "+31612345710"]
    argv[argv.index("--sheet") + 1] = "peple"
    assert main(argv) == 2


def test_a_missing_sheet_names_the_sheets(tmp_path, no_token_env, capsys):
    path = tmp_path / "people.xlsx"
    _sheet_frame().to_excel(path, sheet_name="people", index=False)
    argv = ["send", str(path), "--app", "otp", "--set", f"caller={CALLER}", "--sheet", "peple",
            "--journal", str(tmp_path / "j"), "-o", str(tmp_path / "out.csv"), "--dry-run"]
    assert main(argv) == 2
    assert "no sheet 'peple'; did you mean 'people'? sheets: people (choose with --sheet)" in capsys.readouterr().err


def test_parquet_numbers_and_codes_arrive_as_written(tmp_path, no_token_env):
    from cmvoice_nb.campaign.inputs import read_table

    path = tmp_path / "people.parquet"
    df = _sheet_frame().assign(score=[1.5, None], count=[3.0, 4.0])
    df.to_parquet(path)
    table = read_table(path)
    assert table.to_dict("list") == {"callee": ["31612345610", "31612345710"], "name": ["Ann", "Bob"],
                                     "code": ["0042", "0099"], "score": ["1.5", ""], "count": ["3", "4"]}
    argv = ["send", str(path), "--app", "otp", "--set", f"caller={CALLER}", "--journal", str(tmp_path / "j"),
            "-o", str(tmp_path / "out.csv"), "--dry-run"]
    assert main(argv) == 0
    assert list(read_out(tmp_path)["callee"]) == ["+31612345610", "+31612345710"]


def test_callback_url_flag_reaches_every_instruction(tmp_path, sim, token):
    path = people_csv(tmp_path / "people.csv", [("+31612345610", "Ann")])
    assert main(notification(path, tmp_path, "--base-url", sim.base_url,
                             "--callback-url", "http://127.0.0.1:9/cb")) == 0
    assert json.loads(sim.requests["body"].iloc[0])["callback-url"] == "http://127.0.0.1:9/cb"


# ------------------------------------------------------------------------------ results
def test_the_results_file_keeps_every_value_exactly(tmp_path, sim, token):
    path = people_csv(tmp_path / "people.csv", [("0612345610", "Ann"), ("bad", "Bob"), ("+31612345710", "Cy")])
    main(notification(path, tmp_path, "--base-url", sim.base_url))
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with Journal(tmp_path / "j.sqlite") as j:
        key = j.campaign_key
    assert [r["callee"] for r in rows] == ["+31612345610", "bad", "+31612345710"]
    assert [r["http_status"] for r in rows] == ["200", "", "200"]  # never 200.0
    assert [r["attempts"] for r in rows] == ["1", "0", "1"]
    assert [r["input_position"] for r in rows] == ["0", "1", "2"]
    assert {r["campaign_key"] for r in rows} == {key}
    assert all(r["sent_at"].endswith("Z") for r in rows if r["status"] == "queued")


def test_results_for_spreadsheets_keep_the_plus_and_whole_numbers(tmp_path, sim, token):
    import openpyxl

    path = people_csv(tmp_path / "people.csv", [("0612345610", "Ann"), ("bad", "Bob")])
    main(notification(path, tmp_path, "--base-url", sim.base_url, out="out.xlsx"))
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    first = dict(zip(header, rows[1], strict=True))
    assert header == ("line", *RESULT_COLUMNS)  # the list's own line numbers
    assert first["callee"] == "+31612345610" and sheet.cell(2, header.index("callee") + 1).number_format == "@"
    assert first["http_status"] == 200 and first["attempts"] == 1 and first["input_position"] == 0
    assert first["sent_at"].endswith("Z") and first["status"] == "queued"
    assert dict(zip(header, rows[2], strict=True))["http_status"] is None


@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
def test_without_python_calamine_the_classic_readers_give_the_same_text(tmp_path, monkeypatch, suffix):
    import importlib.util

    from cmvoice_nb.campaign import inputs

    path = tmp_path / f"people{suffix}"
    _sheet_frame().to_excel(path, index=False, engine="openpyxl" if suffix == ".xlsx" else "odf")
    with_calamine = inputs.read_table(path)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "python_calamine" else real(name, *a))
    assert inputs._excel_engine(suffix) == ("openpyxl" if suffix == ".xlsx" else "odf")
    pd.testing.assert_frame_equal(inputs.read_table(path), with_calamine)
    assert with_calamine["callee"].tolist() == ["31612345610", "31612345710"]
