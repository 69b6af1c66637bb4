"""The column map proposed from a list's names and contents (what the Campaign app offers on upload)."""
from __future__ import annotations

import pandas as pd
import pytest

from cmvoice_nb.campaign import plan_campaign, propose_columns
from cmvoice_nb.campaign.inputs import read_table

from ._lists import notification_defaults


@pytest.mark.parametrize("header", ["Telefoon", "Tel", "Mobile", "GSM", "Handynummer", "Téléphone portable",
                                    "Kolom 3"])
def test_a_column_of_phone_numbers_is_the_callee_whatever_its_header(header):
    df = pd.DataFrame({"Naam": ["Ann", "Bob", "Cem"], header: ["06 1234 5610", "+31612345611", "0031612345612"]})
    assert propose_columns(df, "notification")["callee"] == header


def test_a_header_naming_phones_wins_over_another_column_of_numbers():
    df = pd.DataFrame({"Klantnummer": ["0612345610", "0612345611"], "Mobiel": ["0612345620", "0612345621"]})
    assert propose_columns(df, "notification")["callee"] == "Mobiel"


def test_the_caller_column_is_never_proposed_as_the_callee():
    df = pd.DataFrame({"Afzender": ["+31201234567"] * 2, "Nummer": ["0612345610", "0612345611"]})
    assert propose_columns(df, "notification") == {"callee": "Nummer"}


def test_a_column_named_callee_maps_itself_and_no_other_column_is_guessed():
    df = pd.DataFrame({"callee": ["0612345610"], "Tel": ["0612345611"]})
    assert propose_columns(df, "notification") == {"callee": "callee"}


def test_numbers_a_spreadsheet_turned_scientific_still_mark_the_phone_column():
    df = pd.DataFrame({"Telefoon": ["3.16123E+10", "3,16123E+10", "0612345610"], "Bedrag": ["12,50", "3", "4"]})
    assert propose_columns(df, "notification")["callee"] == "Telefoon"


def test_ids_postcodes_and_amounts_are_not_phone_numbers():
    df = pd.DataFrame({"Klant": ["1001", "1002"], "Postcode": ["1234AB", "5678CD"], "Bedrag": ["12,50", "7"]})
    assert propose_columns(df, "notification") == {}


def test_a_column_of_countries_is_proposed_as_each_rows_region_in_any_language():
    df = pd.DataFrame({"Tel": ["0612345610", "0470123456", "01512345678"], "Land": ["Nederland", "België", "DE"],
                       "Regio": ["Noord", "Zuid", "Oost"]})
    assert propose_columns(df, "notification") == {"callee": "Tel", "region": "Land"}


def test_a_semicolon_csv_with_telefoon_plans_with_the_proposal(tmp_path):
    path = tmp_path / "klanten.csv"
    path.write_bytes("\ufeffNaam;Telefoon;Land\r\nAnn;06 1234 5610;NL\r\nBob;0470 12 34 56;BE\r\n"
                     "Cem;3,16123E+10;NL\r\n".encode("utf-8"))
    df = read_table(path)
    columns = propose_columns(df, "notification")
    assert columns == {"callee": "Telefoon", "region": "Land"}
    plan = plan_campaign(df, app="notification", name="k", columns=columns, defaults=notification_defaults("Hoi"))
    assert [r.callee for r in plan.rows if r.valid] == ["+31612345610", "+32470123456"]
    problems = plan.problem_frame()
    assert problems["row"].tolist() == [4]  # the spreadsheet's line, as the operator's file shows it
    assert "scientific notation" in problems["message"].item()
