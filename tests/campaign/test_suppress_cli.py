"""``--suppress`` through the real ``cmvoice`` command: files as exported, and lists too unreadable to trust.

The refusal is checked in a subprocess, as an operator runs it: exit status 2, the message on
stderr, and the simulator never asked for a call.
"""
from __future__ import annotations

import codecs
import random
import subprocess

import pandas as pd
import pytest

from cmvoice_nb.cli import main

from .._wait import cmvoice, scaled
from ._lists import notification_flags

ANN, BOB, CY = "+31612345610", "+31612345710", "+32470123410"


def people(tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(codecs.BOM_UTF8 + f"Telefoonnummer;Naam\r\n{ANN};Ann\r\n{BOB};Bob\r\n{CY};Cy\r\n".encode())
    return path


def send_args(tmp_path, base_url, *extra):
    return ["send", str(people(tmp_path)), *notification_flags("Hallo {Naam}"), "--map", "callee=Telefoonnummer",
            "--region", "NL", "--journal", str(tmp_path / "j.sqlite"), "-o", str(tmp_path / "out.csv"),
            "--rate", "500", "--no-progress", "--base-url", base_url, *extra]


def run_cli(argv):
    return subprocess.run(cmvoice(*argv), capture_output=True, text=True, timeout=scaled(120))


def junk_list(path, total=100, junk=2, listed=(BOB,)):
    """A list of *total* entries, *junk* of them not numbers (2 %), holding *listed*."""
    rnd = random.Random(3)
    lines = [f"06 1{rnd.randrange(10**6, 10**7)}" for _ in range(total - junk - len(listed))] + list(listed)
    for k in range(junk):
        lines.insert(5 + 20 * k, ["geen nummer", "3.16123E+10"][k % 2])
    path.write_text("Telefoonnummer\r\n" + "\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def test_a_list_with_2_percent_junk_exits_2_before_any_call(tmp_path, sim, token):
    dnc = junk_list(tmp_path / "afmeldingen.txt")
    proc = run_cli(send_args(tmp_path, sim.base_url, "--suppress", str(dnc)))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"cmvoice send: error: --suppress: {dnc}: 2 of 100 entries are not phone numbers "
                                  "(more than 1 %): the list cannot be trusted, so the campaign stops before any call.")
    assert "  line 7: 'geen nummer': contains letters" in proc.stderr
    assert "  line 27: '3.16123E+10': a spreadsheet turned the number into scientific notation" in proc.stderr
    assert "--allow-unreadable-suppress" in proc.stderr
    assert len(sim.requests) == 0
    assert not (tmp_path / "j.sqlite").exists() and not (tmp_path / "out.csv").exists()


def test_the_same_list_with_allow_unreadable_suppress_goes_on_and_holds_back_who_it_can(tmp_path, sim, token):
    dnc = junk_list(tmp_path / "afmeldingen.txt")
    proc = run_cli(send_args(tmp_path, sim.base_url, "--suppress", str(dnc), "--allow-unreadable-suppress"))
    assert proc.returncode == 0, proc.stderr
    assert f"do-not-call list {dnc}: 2 entries are not numbers (ignored)" in proc.stderr
    assert "3 rows: queued 2, suppressed 1" in proc.stderr
    assert sorted(sim.calls["callee"]) == [ANN, CY]
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert out["status"].tolist() == ["queued", "suppressed", "queued"]


def test_an_empty_list_goes_on_with_one_warning_line_naming_it(tmp_path, sim, token):
    empty = tmp_path / "optouts.csv"
    empty.write_bytes(codecs.BOM_UTF8 + b"Telefoonnummer;Naam\r\n")  # a fresh opt-out list: a header only
    proc = run_cli(send_args(tmp_path, sim.base_url, "--suppress", str(empty)))
    assert proc.returncode == 0, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "no entries" in line]
    assert warnings == [f"WARNING cmvoice_nb.campaign.ops.suppress: --suppress: {empty}: the do-not-call list has no "
                        "entries (an empty file or a header only): nobody is held back by it"]
    assert len(sim.calls) == 3


@pytest.mark.parametrize("encoding", ["utf-16", "cp1252"])
def test_a_unicode_text_or_western_export_holds_back_its_numbers(tmp_path, sim, token, capsys, encoding):
    dnc = tmp_path / "dnc.txt"
    sep = "\t" if encoding == "utf-16" else ";"
    dnc.write_bytes(f"Naam{sep}Telefoonnummer\r\nBéatrice{sep}06-12345710\r\nZoë{sep}tel:+32-470-12-34-10\r\n"
                    .encode(encoding))
    assert main(send_args(tmp_path, sim.base_url, "--suppress", str(dnc))) == 0
    assert "3 rows: queued 1, suppressed 2" in capsys.readouterr().err
    assert sim.calls["callee"].tolist() == [ANN]


def test_a_list_excel_turned_into_scientific_notation_exits_2_naming_the_lines(tmp_path, sim, token, capsys):
    dnc = tmp_path / "dnc.csv"
    dnc.write_bytes(codecs.BOM_UTF8 + b"Telefoonnummer;Naam\r\n3,16123E+10;Ann\r\n3,16124E+10;Bob\r\n")
    assert main(send_args(tmp_path, sim.base_url, "--suppress", str(dnc), "--dry-run")) == 2
    err = capsys.readouterr().err
    assert "none of its 2 entries is a phone number" in err and "line 2: '3,16123E+10'" in err
    assert "format the column as text" in err and len(sim.requests) == 0


def test_a_text_list_with_comments_and_tel_uris_holds_back_its_numbers(tmp_path, sim, token, capsys):
    dnc = tmp_path / "dnc.txt"
    dnc.write_bytes(b"# opt-outs, kept by legal\r\n"
                    b"tel:+31-6-1234-5710;ext=2   # asked twice\r\n"
                    b"\r\n"
                    b"tel:0470123410;phone-context=+32\r\n")
    assert main(send_args(tmp_path, sim.base_url, "--suppress", str(dnc))) == 0
    assert "3 rows: queued 1, suppressed 2" in capsys.readouterr().err
    assert sim.calls["callee"].tolist() == [ANN]


def test_cmvoice_followup_refuses_an_untrusted_list_and_names_the_flag_that_goes_on(tmp_path, no_token_env, capsys):
    journal = tmp_path / "j.sqlite"
    journal.write_bytes(b"")  # the list is judged before the journal is opened
    dnc = junk_list(tmp_path / "dnc.txt")
    code = main(["followup", "--journal", str(journal), "--callbacks", str(tmp_path), "--suppress", str(dnc),
                 "-o", str(tmp_path / "wave.csv"), "--dry-run"])
    err = capsys.readouterr().err
    assert code == 2 and "cmvoice followup: error: --suppress:" in err and "--allow-unreadable-suppress" in err
