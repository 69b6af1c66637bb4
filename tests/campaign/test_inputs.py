"""Text files as operators save them: Excel's CSV flavours, UTF-16 "Unicode text", cp1252, CRLF and CR."""
from __future__ import annotations

import codecs
import re

import pandas as pd
import pytest

from cmvoice_nb.campaign.inputs import decode_text, read_table, sniff_separator, unify_line_ends
from cmvoice_nb.cli import main
from cmvoice_nb.errors import CampaignError

ROWS = [("0612345610", "José"), ("+31 6 1234 5711", "Zoë")]


def dutch_excel_csv(path, rows=ROWS):
    """Excel (nl-NL), "CSV UTF-8": a byte-order mark, ';' between cells, CRLF."""
    text = "Telefoonnummer;Naam\r\n" + "".join(f"{p};{n}\r\n" for p, n in rows)
    path.write_bytes(codecs.BOM_UTF8 + text.encode("utf-8"))
    return path


def unicode_text(path, rows=ROWS, *, big_endian=False):
    """Excel's "Unicode text": UTF-16 with a byte-order mark, TAB between cells, CRLF."""
    text = "Telefoonnummer\tNaam\r\n" + "".join(f"{p}\t{n}\r\n" for p, n in rows)
    bom, codec = (codecs.BOM_UTF16_BE, "utf-16-be") if big_endian else (codecs.BOM_UTF16_LE, "utf-16-le")
    path.write_bytes(bom + text.encode(codec))
    return path


def western_csv(path, rows=ROWS):
    """Excel's "CSV (comma delimited)" on a Western-European Windows: cp1252, ';' in nl-NL."""
    text = "Telefoonnummer;Naam\r\n" + "".join(f"{p};{n}\r\n" for p, n in rows)
    path.write_bytes(text.encode("cp1252"))
    return path


EXPECTED = pd.DataFrame({"Telefoonnummer": [p for p, _ in ROWS], "Naam": [n for _, n in ROWS]})


# ------------------------------------------------------------------------------ read_table
@pytest.mark.parametrize("write", [dutch_excel_csv, unicode_text, western_csv,
                                   lambda p: unicode_text(p, big_endian=True)],
                         ids=["utf8-bom-semicolon-crlf", "utf16le-tabs", "cp1252", "utf16be-tabs"])
def test_every_excel_export_reads_as_the_same_text_table(tmp_path, write):
    df = read_table(write(tmp_path / "people.csv"))
    assert df.to_dict("list") == EXPECTED.to_dict("list")


def test_lone_cr_and_crlf_line_ends_read_like_lf(tmp_path):
    for end in ("\r", "\r\n", "\n"):
        path = tmp_path / "people.csv"
        path.write_bytes(("Telefoonnummer;Naam" + end + "0612345610;Ann" + end + "0612345611;Bob").encode())
        assert read_table(path)["Naam"].tolist() == ["Ann", "Bob"]


def test_an_explicit_encoding_wins_over_the_guess(tmp_path):
    path = tmp_path / "prices.csv"
    path.write_bytes("item;prijs\r\nkoffie;\x80 2,50\r\n".encode("latin-1"))
    assert read_table(path)["prijs"].tolist() == ["€ 2,50"]                       # cp1252 guessed
    assert read_table(path, encoding="latin-1")["prijs"].tolist() == ["\x80 2,50"]  # as told


def test_a_utf16_file_named_with_another_encoding_is_called_utf16_not_cp1252(tmp_path):
    path = unicode_text(tmp_path / "people.txt")
    for wrong in ("utf-8", "cp1252", "latin-1"):
        with pytest.raises(CampaignError) as info:
            read_table(path, encoding=wrong)
        message = info.value.say("cli")
        assert str(path) in message and "the file is UTF-16" in message and f"not {wrong}" in message
        assert "leave out --encoding" in message and "cp1252" not in message.replace(f"not {wrong}", "")
    assert read_table(path, encoding="utf-16").to_dict("list") == EXPECTED.to_dict("list")
    with pytest.raises(CampaignError, match=r"the file is UTF-8 \(it starts with a UTF-8 byte-order mark\), "
                                            r"not cp1252"):
        read_table(dutch_excel_csv(tmp_path / "people.csv"), encoding="cp1252")


def test_bytes_no_encoding_reads_are_an_error_naming_file_line_and_byte(tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(b"Telefoonnummer;Naam\r\n0612345610;Ann\r\n0612345611;B\x81b\r\n")
    with pytest.raises(CampaignError, match=r"people.csv: line 3 is neither UTF-8 nor Windows-1252 \(byte 0x81\); "
                                            r"save the file as UTF-8 .* or name its encoding with encoding="):
        read_table(path)


def test_a_file_mixing_utf8_and_cp1252_is_refused_not_garbled(tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes("Naam\nZoë\n".encode() + "José\n".encode("cp1252"))
    with pytest.raises(CampaignError, match=r"line 3 is not valid UTF-8 \(byte 0xe9\) while earlier lines are"):
        read_table(path)


# ------------------------------------------------------------------------------ decode_text
def test_decode_text_names_what_it_used():
    assert decode_text(b"a;b\n") == ("a;b\n", "utf-8")
    assert decode_text(codecs.BOM_UTF8 + b"a;b\n") == ("a;b\n", "utf-8-sig")
    assert decode_text(codecs.BOM_UTF16_BE + "a\tb\n".encode("utf-16-be")) == ("a\tb\n", "utf-16-be")
    assert decode_text(codecs.BOM_UTF32_LE + "a\n".encode("utf-32-le")) == ("a\n", "utf-32-le")
    assert decode_text("Müller\n".encode("cp1252")) == ("Müller\n", "cp1252")
    assert decode_text(codecs.BOM_UTF8 + b"a\n", encoding="utf-8") == ("a\n", "utf-8")
    assert decode_text(b"") == ("", "utf-8")


def test_utf16_without_a_byte_order_mark_is_recognised_by_its_zero_bytes():
    text = "Telefoonnummer\tNaam\r\n0612345610\tJosé\r\n"
    assert decode_text(text.encode("utf-16-le")) == (text, "utf-16-le")
    assert decode_text(text.encode("utf-16-be")) == (text, "utf-16-be")


def test_decoding_errors_name_the_line_in_the_files_own_encoding():
    damaged = codecs.BOM_UTF16_LE + "a\r\nb\r\nc".encode("utf-16-le") + b"\x00\xdc"  # a lone low surrogate
    with pytest.raises(CampaignError, match=r"^x.txt: line 3 is not valid UTF-16 .*damaged"):
        decode_text(damaged, name="x.txt")
    with pytest.raises(CampaignError, match=r"^x.txt: line 2 is not valid UTF-8 .*byte-order mark but is damaged"):
        decode_text(codecs.BOM_UTF8 + b"a\n\xff\n", name="x.txt")
    with pytest.raises(CampaignError) as info:
        decode_text("a\r\né\n".encode(), encoding="ascii", name="x.txt")
    assert re.match(r"^x.txt: line 2 is not valid ascii \(byte 0xc3\); leave out --encoding", info.value.say("cli"))
    with pytest.raises(CampaignError) as info:
        decode_text(b"a", encoding="klingon", name="x.txt")
    assert re.search(r"unknown encoding 'klingon' \(--encoding takes e.g. utf-8", info.value.say("cli"))
    with pytest.raises(CampaignError) as info:  # no option to name: no hint to use one
        decode_text(b"\x81", name="dnc.txt", option=None)
    assert "encoding=" not in str(info.value) and "--encoding" not in str(info.value)


def test_line_ends_are_unified():
    assert unify_line_ends("a\r\nb\rc\nd") == "a\nb\nc\nd"
    assert unify_line_ends("a\n") == "a\n"


def test_the_decimal_comma_of_scientific_notation_is_not_a_separator():
    assert sniff_separator("Telefoonnummer\n3,16123E+10\n3,16124E+10\n") == ","  # one column: the default
    assert sniff_separator("Telefoonnummer;Naam\n3,16123E+10;Jan\n3,16124E+10;Piet\n") == ";"
    assert sniff_separator("3,16123E+10;Jan\n3,16124E+10;Piet\n") == ";"


# ------------------------------------------------------------------------------ through the CLI
def _send(path, tmp_path, *extra):
    return ["send", str(path), "--app", "notification", "--map", "callee=Telefoonnummer",
            "--set", "caller=+31201234567", "--set", "prompt=Hallo {Naam}", "--set", "prompt-type=TTS",
            "--region", "NL", "--journal", str(tmp_path / "j.sqlite"), "-o", str(tmp_path / "out.csv"),
            "--dry-run", "--no-progress", *extra]


@pytest.mark.parametrize("write", [dutch_excel_csv, unicode_text, western_csv], ids=["utf8", "utf16", "cp1252"])
def test_cmvoice_send_reads_every_excel_export(tmp_path, no_token_env, write):
    assert main(_send(write(tmp_path / "people.csv"), tmp_path)) == 0
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert out["callee"].tolist() == ["+31612345610", "+31612345711"]
    assert out["status"].tolist() == ["dry-run", "dry-run"]


def test_cmvoice_send_with_a_wrong_encoding_for_a_utf16_file_exits_2_naming_utf16(tmp_path, no_token_env, capsys):
    assert main(_send(unicode_text(tmp_path / "people.txt"), tmp_path, "--encoding", "cp1252")) == 2
    err = capsys.readouterr().err
    assert "the file is UTF-16" in err and "leave out --encoding" in err and not (tmp_path / "out.csv").exists()
