"""Do-not-call files as operators export them, and lists too unreadable to trust (Python API).

Every file is written here byte for byte the way Excel, a CRM or a text editor saves it: a
``;`` CSV with BOM and CRLF from Dutch Excel, UTF-16 "Unicode text" with TABs, cp1252, numbers
Excel turned into ``3.16123E+10``, ``tel:`` URIs, comments, empty files.
"""
from __future__ import annotations

import codecs
import logging
import random

import pandas as pd
import pytest

from cmvoice_nb.campaign import plan_campaign, plan_followup, send_campaign
from cmvoice_nb.campaign.ops._suppress_reference import read_suppression_reference
from cmvoice_nb.campaign.ops.suppress import (
    UNREADABLE_LIMIT,
    apply_suppression,
    read_suppression,
    text_entries,
)
from cmvoice_nb.errors import CampaignError, SuppressionError

from ._lists import notification_defaults

NUMBERS = ["+31612345678", "+32470123456", "+4915123456789", "+447400123456"]
SPELLED = ["06-12345678", "+32 470 12 34 56", "0049 151 23456789", "+44 (0)7400 123456"]
NAMES = ["José", "Zoë", "Jürgen", "Siân"]
DEFAULTS = notification_defaults("Hallo")


def write_csv(path, rows, *, header="Telefoonnummer;Naam", sep=";", encoding="utf-8-sig", end="\r\n"):
    lines = ([header] if header is not None else []) + [sep.join(r) for r in rows]
    path.write_bytes((end.join(lines) + end).encode(encoding))
    return path


def people_rows():
    return list(zip(SPELLED, NAMES, strict=True))


# ------------------------------------------------------------------------------ files as exported
def test_a_dutch_excel_csv_with_bom_and_crlf_is_read_by_its_phone_column_with_file_line_numbers(tmp_path):
    path = write_csv(tmp_path / "afmeldingen.csv", people_rows())
    dnc = read_suppression(path, region="NL")
    assert dnc.numbers == frozenset(NUMBERS) and dnc.entries == 4 and not dnc.unreadable
    lines, values = text_entries(path.read_text(encoding="utf-8-sig"))
    assert lines.tolist() == [2, 3, 4, 5] and values.tolist() == SPELLED  # header = line 1


@pytest.mark.parametrize("encoding, sep", [("utf-16", "\t"), ("utf-16-be", "\t"), ("cp1252", ";"),
                                           ("utf-8", ","), ("utf-8-sig", "|")])
def test_every_encoding_and_separator_excel_writes_gives_the_same_list(tmp_path, encoding, sep):
    path = tmp_path / "dnc.txt"
    text = sep.join(["Telefoonnummer", "Naam"]) + "\r\n" + "".join(f"{p}{sep}{n}\r\n" for p, n in people_rows())
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    path.write_bytes(data)
    assert read_suppression(path, region="NL").numbers == frozenset(NUMBERS)


def test_a_csv_without_a_header_is_read_from_its_first_line(tmp_path):
    path = write_csv(tmp_path / "dnc.csv", people_rows(), header=None)
    dnc = read_suppression(path, region="NL")
    assert dnc.numbers == frozenset(NUMBERS) and dnc.entries == 4


def test_a_text_file_with_comments_tel_uris_and_a_header_word(tmp_path):
    path = tmp_path / "dnc.txt"
    path.write_bytes(b"# opt-outs, kept by legal\r\n"
                     b"Telefoonnummer\r\n"
                     b"tel:+31-6-1234-5678\r\n"
                     b"\r\n"
                     b"tel:+32470123456;ext=12   # via the switchboard\r\n"
                     b"TEL:0049-151-23456789\r\n"
                     b"tel:07400 123456;phone-context=+44\r\n"
                     b"\"+31 6 1234 5678\"\r\n")
    dnc = read_suppression(path, region="NL")
    assert dnc.numbers == frozenset(NUMBERS) and dnc.entries == 5 and dnc.duplicates == 1


def test_lone_cr_line_ends_count_as_lines(tmp_path):
    path = tmp_path / "dnc.txt"
    path.write_bytes(b"+31612345678\r+32470123456\rn/a\r")
    dnc = read_suppression(path, allow_unreadable_suppress=True)
    assert len(dnc) == 2 and [(u.line, u.value) for u in dnc.unreadable] == [(3, "n/a")]


def test_numbers_excel_turned_into_scientific_notation_stop_the_list_and_name_their_lines(tmp_path):
    rows = [("3,16123E+10", "José"), ("3,24701E+10", "Zoë"), ("+31612345679", "Ann")]
    path = write_csv(tmp_path / "export.csv", rows)
    with pytest.raises(SuppressionError) as info:
        read_suppression(path, region="NL")
    message = str(info.value)
    assert message.startswith(f"suppress=: {path}: 2 of 3 entries are not phone numbers (more than 1 %)")
    assert "line 2: '3,16123E+10': a spreadsheet turned the number into scientific notation" in message
    assert "line 3: '3,24701E+10'" in message and "allow_unreadable_suppress=True" in message
    err = info.value
    assert isinstance(err, CampaignError) and err.entries == 3 and [u.line for u in err.unreadable] == [2, 3]
    dnc = read_suppression(path, region="NL", allow_unreadable_suppress=True)
    assert dnc.numbers == frozenset({"+31612345679"}) and "digits are lost" in dnc.unreadable[0].reason


def test_a_one_column_list_of_scientific_notation_is_one_column_and_none_of_it_readable(tmp_path):
    path = write_csv(tmp_path / "nummers.csv", [("3,16123E+10",), ("3,16124E+10",)], header="Telefoonnummer")
    with pytest.raises(SuppressionError, match=r"none of its 2 entries is a phone number.*\n  line 2: '3,16123E\+10'"):
        read_suppression(path)


def test_a_cp1252_file_with_accents_in_names_reads(tmp_path):
    path = write_csv(tmp_path / "dnc.csv", people_rows(), encoding="cp1252")
    assert "é".encode("cp1252") in path.read_bytes()
    assert read_suppression(path, region="NL").numbers == frozenset(NUMBERS)


def test_rows_left_empty_at_the_end_of_a_spreadsheet_are_not_entries_but_a_missing_number_is(tmp_path):
    path = write_csv(tmp_path / "dnc.csv", people_rows() + [(";",), (";",)])
    assert read_suppression(path, region="NL").entries == 4
    blank = write_csv(tmp_path / "blank.csv", people_rows() * 15 + [("", "Eve")])
    with pytest.raises(SuppressionError, match=r"(?s)1 of 61 entries is not a phone number.*line 62: '': empty"):
        read_suppression(blank, region="NL")


def test_ragged_rows_and_a_separator_inside_quotes_keep_their_lines(tmp_path):
    path = tmp_path / "dnc.csv"
    path.write_text('naam,telefoon\n"Bakker, J.",+31612345678\nZoë,+32470123456,extra\nAnn\n', encoding="utf-8")
    dnc = read_suppression(path, allow_unreadable_suppress=True)
    assert dnc.numbers == frozenset(NUMBERS[:2]) and [(u.line, u.reason) for u in dnc.unreadable] == [(4, "empty")]


# ------------------------------------------------------------------------------ empty lists
@pytest.mark.parametrize("content", [b"", codecs.BOM_UTF8, b"Telefoonnummer;Naam\r\n", b"\r\n\r\n  \r\n",
                                     codecs.BOM_UTF16_LE + "Telefoonnummer\tNaam\r\n".encode("utf-16-le"),
                                     b"# nobody yet\n"],
                         ids=["0-bytes", "bom-only", "header-only", "blank-lines", "utf16-header-only", "comment"])
def test_a_list_with_no_entries_is_allowed_with_a_warning_naming_it(tmp_path, caplog, content):
    path = tmp_path / "optouts.csv"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="cmvoice_nb.campaign.ops.suppress"):
        dnc = read_suppression(path)
    assert dnc.empty and len(dnc) == 0 and dnc.entries == 0
    assert [r.getMessage() for r in caplog.records] == [
        f"suppress=: {path}: the do-not-call list has no entries (an empty file or a header only): "
        "nobody is held back by it"]


def test_an_empty_python_list_is_empty_too_and_none_is_no_list(caplog):
    with caplog.at_level(logging.WARNING, logger="cmvoice_nb.campaign.ops.suppress"):
        assert read_suppression([]).empty
        assert read_suppression(None).empty
    assert len(caplog.records) == 1 and "suppress=: the do-not-call list has no entries" in caplog.text


# ------------------------------------------------------------------------------ the 1 % rule
def junk_list(path, total=100, junk=2):
    rnd = random.Random(7)
    lines = [f"+3161{rnd.randrange(10**6, 10**7)}" for _ in range(total - junk)]
    for k in range(junk):
        lines.insert(10 + 30 * k, ["n/a", "onbekend", "12345"][k % 3])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_list_more_than_one_percent_unreadable_is_refused_and_one_percent_is_not(tmp_path):
    assert UNREADABLE_LIMIT == 0.01
    ok = read_suppression(junk_list(tmp_path / "ok.txt", 200, 2))  # exactly 1 %
    assert len(ok.unreadable) == 2 and not ok.empty
    with pytest.raises(SuppressionError) as info:
        read_suppression(junk_list(tmp_path / "bad.txt", 100, 2))  # 2 %
    message = str(info.value)
    assert "2 of 100 entries are not phone numbers (more than 1 %)" in message
    assert "line 11: 'n/a': contains letters" in message and "line 41: 'onbekend': contains letters" in message
    assert "go on with the 98 numbers that could be read" in message


def test_refusing_applies_to_every_entry_point_before_any_call(tmp_path, sim):
    dnc = junk_list(tmp_path / "bad.txt", 100, 2)
    people = pd.DataFrame({"callee": ["+31612345610", "+31612345611"]})
    with pytest.raises(SuppressionError):
        plan_campaign(people, app="notification", name="c", defaults=DEFAULTS, suppress=dnc)
    plan = plan_campaign(people, app="notification", name="c", defaults=DEFAULTS)
    with pytest.raises(SuppressionError):
        apply_suppression(plan, dnc)
    with pytest.raises(SuppressionError):
        send_campaign(people, sim.client(), journal=tmp_path / "j.sqlite", app="notification", name="c",
                      defaults=DEFAULTS, suppress=dnc, progress=False)
    with pytest.raises(SuppressionError):
        send_campaign(plan, sim.client(), journal=tmp_path / "j.sqlite", suppress=dnc, progress=False)
    assert len(sim.requests) == 0 and not (tmp_path / "j.sqlite").exists()
    with pytest.raises(SuppressionError):
        plan_followup(tmp_path / "j.sqlite", [], suppress=dnc)


def test_allow_unreadable_suppress_goes_on_with_the_numbers_that_could_be_read(tmp_path, sim):
    dnc = junk_list(tmp_path / "bad.txt", 100, 2)
    listed = read_suppression(dnc, allow_unreadable_suppress=True)
    someone = sorted(listed)[0]
    people = pd.DataFrame({"callee": ["+31612345610", someone]})
    plan = plan_campaign(people, app="notification", name="c", defaults=DEFAULTS, suppress=dnc,
                         allow_unreadable_suppress=True)
    assert [bool(r.suppressed) for r in plan.rows] == [False, True] and plan.options["suppress_unreadable"] == 2
    res = send_campaign(plan_campaign(people, app="notification", name="c", defaults=DEFAULTS), sim.client(),
                        journal=tmp_path / "j.sqlite", suppress=dnc, allow_unreadable_suppress=True,
                        progress=False, rate=500)
    assert res["status"].tolist() == ["queued", "suppressed"]
    assert sim.calls["callee"].tolist() == ["+31612345610"]


# ------------------------------------------------------------------------------ as the old reader read
def test_the_reader_finds_what_the_per_entry_reader_found_in_a_plain_list(tmp_path):
    rnd = random.Random(20)
    rows = []
    for _ in range(3000):
        d = rnd.randrange(10**7, 10**8)
        rows.append(rnd.choice([f"+31 6 {d}", f"06-{d}", f"0031 6{d}", f"tel:+316{d}", f"316{d}.0", "n/a", ""]))
    path = tmp_path / "dnc.csv"
    path.write_text("phone,note\n" + "".join(f"{r},x\n" for r in rows), encoding="utf-8")
    new = read_suppression(path, region="NL", allow_unreadable_suppress=True)
    old = read_suppression_reference(path, region="NL")
    assert new.numbers == old.numbers and new.entries == old.entries == 3000
    assert new.unreadable == old.unreadable and len(new.unreadable) > 100


def test_a_data_frame_and_a_series_are_read_column_wise_with_their_positions():
    df = pd.DataFrame({"Naam": NAMES + ["Eve"], "GSM": SPELLED + ["3.16123E+10"]})
    with pytest.raises(SuppressionError, match=r"1 of 5 entries is not a phone number.*\n  item 5: '3.16123E\+10'"):
        read_suppression(df, region="NL")
    dnc = read_suppression(df, region="NL", allow_unreadable_suppress=True)
    assert dnc.numbers == frozenset(NUMBERS)
    assert read_suppression(df["GSM"].iloc[:4], region="NL").numbers == frozenset(NUMBERS)
