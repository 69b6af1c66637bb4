"""Do-not-call lists in the shapes operators keep them, and the allowed-countries rule."""
from __future__ import annotations

import re

import pandas as pd
import pytest

from cmvoice_nb.campaign.ops.suppress import (
    SuppressionList,
    check_allowed_country,
    parse_allowed_countries,
    read_suppression,
)
from cmvoice_nb.errors import CampaignError, SuppressionError

TARGET = "+31612345678"


@pytest.mark.parametrize("spelling", ["+31 6 1234 5678", "0031612345678", "+31 (0)6-1234 5678", 31612345678.0,
                                      "31612345678.0", 31612345678, "+31.6.12.34.56.78"])
def test_every_spelling_of_a_number_lands_on_its_e164_form(spelling):
    assert read_suppression([spelling]).numbers == frozenset({TARGET})


def test_national_numbers_need_the_region_and_are_refused_without_it():
    assert TARGET in read_suppression(["0612345678"], region="NL")
    with pytest.raises(SuppressionError, match=r"item 1: '0612345678': a national number: pass region="):
        read_suppression(["0612345678"])
    without = read_suppression(["0612345678"], allow_unreadable_suppress=True)
    assert len(without) == 0 and without.unreadable[0].line == 1
    assert "region" in without.unreadable[0].reason


def test_membership_accepts_any_spelling_and_the_list_behaves_like_a_set():
    dnc = read_suppression(["+31612345678", "+32470123456"], region="NL")
    assert "06 1234 5678" in dnc and "0031 6 12345678" in dnc and "+31612345679" not in dnc
    assert None not in dnc and ["x"] not in dnc
    assert len(dnc) == 2 and list(dnc) == ["+31612345678", "+32470123456"]
    assert dnc == {"+31612345678", "+32470123456"} and bool(dnc)
    assert not read_suppression([])


def test_a_text_file_with_comments_blank_lines_and_junk_reports_the_junk_by_line(tmp_path):
    path = tmp_path / "dnc.txt"
    path.write_text("# do not call, updated by legal\n"
                    "+31 6 1234 5678\n"
                    "\n"
                    "0031612345679   # asked twice\n"
                    "call me maybe\n"
                    "12345\n"
                    "+31612345678\n", encoding="utf-8")
    with pytest.raises(SuppressionError, match="2 of 5 entries are not phone numbers"):
        read_suppression(path)
    dnc = read_suppression(path, allow_unreadable_suppress=True)
    assert dnc.numbers == frozenset({"+31612345678", "+31612345679"})
    assert [(u.line, u.value) for u in dnc.unreadable] == [(5, "call me maybe"), (6, "12345")]
    assert dnc.entries == 5 and dnc.duplicates == 1
    assert repr(dnc) == "SuppressionList(2 numbers, 2 unreadable, 1 duplicate)"
    report = dnc.report()
    assert report.startswith(f"do-not-call list {path}: 2 numbers from 5 entries; 2 unreadable:")
    assert "line 5: 'call me maybe': contains letters" in report
    assert "line 6: '12345': too short to be a number" in report


def test_a_csv_export_uses_its_phone_column_whatever_else_it_holds(tmp_path):
    path = tmp_path / "dnc.csv"
    path.write_text("name;Phone;added\n"
                    "Ann;+31 6 1234 5678;2026-01-02\n"
                    "\"Bob; jr\";0612345679;2026-01-03\n"
                    "Eve;n/a;2026-01-04\n", encoding="utf-8")
    dnc = read_suppression(path, region="NL", allow_unreadable_suppress=True)
    assert dnc.numbers == frozenset({"+31612345678", "+31612345679"})
    assert [(u.line, u.value) for u in dnc.unreadable] == [(4, "n/a")]


def test_a_csv_without_a_named_column_picks_the_column_that_looks_like_numbers(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("id,who,contact\n1,Ann,+31612345678\n2,Bob,+32470123456\n", encoding="utf-8")
    assert read_suppression(path).numbers == frozenset({"+31612345678", "+32470123456"})
    headless = tmp_path / "headless.csv"
    headless.write_text("Ann,+31612345678\nBob,+32470123456\n", encoding="utf-8")
    assert len(read_suppression(headless)) == 2


def test_a_csv_with_no_number_column_at_all_is_an_error_naming_the_option(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("first,last\nAnn,Smith\n", encoding="utf-8")
    with pytest.raises(CampaignError) as info:
        read_suppression(path)
    assert re.match(r"^--suppress: .*no column of phone numbers", info.value.say("cli"))


def test_a_list_saved_by_excel_in_cp1252_still_reads(tmp_path):
    path = tmp_path / "dnc.txt"
    path.write_bytes("# liste für Müller\n+31612345678\n".encode("cp1252"))
    assert read_suppression(path).numbers == frozenset({TARGET})


def test_missing_files_folders_and_wrong_types_are_clear_errors(tmp_path):
    with pytest.raises(CampaignError, match=r"^suppress=: .*no such file"):
        read_suppression(tmp_path / "nope.txt")
    with pytest.raises(CampaignError, match="not a regular file"):
        read_suppression(tmp_path)
    with pytest.raises(CampaignError, match="iterable of numbers"):
        read_suppression(42)


def test_a_file_of_comments_only_is_an_empty_list(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("# nobody yet\n", encoding="utf-8")
    dnc = read_suppression(path)
    assert len(dnc) == 0 and dnc.empty


def test_spreadsheet_floats_nan_and_hostile_values_from_a_dataframe_column():
    df = pd.DataFrame({"name": ["a", "b", "c", "d"],
                       "Mobile": [31612345678.0, float("nan"), "\udcff+3161", 3.5]})
    dnc = read_suppression(df, allow_unreadable_suppress=True)
    assert dnc.numbers == frozenset({TARGET})
    assert [u.line for u in dnc.unreadable] == [2, 3, 4]
    assert read_suppression(df["Mobile"], allow_unreadable_suppress=True).numbers == frozenset({TARGET})
    with pytest.raises(SuppressionError, match="3 of 4 entries"):
        read_suppression(df)


def test_a_suppression_list_passes_through_and_none_is_empty():
    dnc = read_suppression([TARGET])
    assert read_suppression(dnc) is dnc
    assert isinstance(read_suppression(None), SuppressionList) and len(read_suppression(None)) == 0


# ------------------------------------------------------------------ countries

def test_country_of_a_number():
    from cmvoice_nb.numbers import country_of

    assert country_of("+31612345678") == "NL"
    assert country_of("+32 470 12 34 56") == "BE"
    assert country_of("+12125550123") == "US"
    assert country_of("+14165551234") == "CA"
    assert country_of("nonsense") is None and country_of(None) is None


def test_a_french_number_is_not_allowed_in_a_dutch_and_belgian_campaign():
    assert check_allowed_country("+33612345678", ("NL", "BE")) == "country FR not allowed (allowed: BE, NL)"
    assert check_allowed_country("+31612345678", ("NL", "BE")) is None
    assert check_allowed_country("+32470123456", "nl,be") is None
    assert check_allowed_country("junk", ("NL",)) == "country unknown, not allowed (allowed: NL)"
    assert check_allowed_country("+33612345678", None) is None


def test_allowed_countries_are_checked_as_iso_codes():
    assert parse_allowed_countries(" nl ; BE ") == frozenset({"NL", "BE"})
    assert parse_allowed_countries("") is None and parse_allowed_countries(None) is None
    with pytest.raises(CampaignError, match="^allowed_countries=: 'XX' is not a two-letter ISO country code"):
        parse_allowed_countries(["NL", "XX"])
    with pytest.raises(CampaignError) as info:
        parse_allowed_countries("Holland")
    assert info.value.say("cli").startswith("--allow-countries: 'Holland'")
