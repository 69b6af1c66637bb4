"""Lists as Dutch, German, Belgian and British operators export them: the right words to the right person.

Every file here is written byte for byte the way a spreadsheet or CRM exports it (``;`` separators,
a byte-order mark, CRLF line ends, cp1252, day-first dates, decimal commas, real Excel date and
number cells), then sent through ``cmvoice send`` and through Python, against the simulator.
"""
from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from cmvoice_nb.campaign import Journal, plan_campaign, send_campaign
from cmvoice_nb.campaign.inputs import read_table
from cmvoice_nb.cli import main
from cmvoice_nb.errors import CampaignError

from ._lists import notification_defaults, notification_flags

#: Dutch Excel, "CSV UTF-8 (puntkomma's)": BOM, ";" and CRLF; day-first dates, decimal commas, a
#: German and a Belgian customer with national numbers and a country column, one without country.
DUTCH_CRM = ("Klantnummer;Naam;Telefoon;Land;Datum;Bedrag\r\n"
             "10234;Anne de Vries;06 12345610;NL;09-12-2025;12,50\r\n"
             "10235;Jörg Müller;030 2345678;DE;13-12-2025;1.250,00\r\n"
             "10236;Els Peeters;0470 12 34 56;België;10-12-2025;7,00\r\n"
             "10237;Piet Jansen;020 1234567;;11-12-2025;99,95\r\n").encode("utf-8-sig")
PROMPT = "Beste {Naam}, uw afspraak is op {Datum:%-d %B %Y}. U betaalt {Bedrag:currency:EUR}."


def write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def send_args(path, tmp_path, *extra, prompt=PROMPT):
    return ["send", str(path), *notification_flags(prompt), "--map", "callee=Telefoon", "--set", "voice.language=nl-NL",
            "--region", "NL", "--journal", str(tmp_path / "j.sqlite"), "-o", str(tmp_path / "out.csv"),
            "--rate", "500", "--no-progress", *extra]


def flat(text: str) -> str:
    """CLDR's no-break spaces as plain ones, for comparing with what a person reads."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def bodies(sim):
    return {b["callee"]: b for b in (json.loads(x) for x in sim.requests["body"])}


# ------------------------------------------------------------------------------ the Dutch CRM
def test_a_dutch_crm_export_calls_each_person_in_their_own_country_with_their_own_date_and_amount(
        tmp_path, sim, token, capsys):
    path = write(tmp_path, "klanten.csv", DUTCH_CRM)
    code = main(send_args(path, tmp_path, "--map", "region=Land", "--map", "id=Klantnummer", "--keep", "Naam",
                          "--base-url", sim.base_url))
    assert code == 0, capsys.readouterr().err
    sent = bodies(sim)
    assert set(sent) == {"+31612345610", "+49302345678", "+32470123456", "+31201234567"}  # never +31302345678
    assert flat(sent["+31612345610"]["prompt"]) == \
        "Beste Anne de Vries, uw afspraak is op 9 december 2025. U betaalt € 12,50."  # not 12 September, not 1250
    assert flat(sent["+49302345678"]["prompt"]) == \
        "Beste Jörg Müller, uw afspraak is op 13 december 2025. U betaalt € 1.250,00."
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert list(out["line"]) == ["2", "3", "4", "5"]
    assert list(out["Klantnummer"]) == ["10234", "10235", "10236", "10237"]
    assert list(out["Naam"])[1] == "Jörg Müller"
    with Journal(tmp_path / "j.sqlite") as journal:
        kept = journal.kept("klanten")
    assert sorted(kept["Klantnummer"]) == ["10234", "10235", "10236", "10237"]
    assert set(kept["Naam"]) == {"Anne de Vries", "Jörg Müller", "Els Peeters", "Piet Jansen"}


def test_the_dry_run_shows_what_the_first_rows_will_hear_with_their_spreadsheet_line_and_id(tmp_path, capsys,
                                                                                          no_token_env):
    path = write(tmp_path, "klanten.csv", DUTCH_CRM)
    code = main(send_args(path, tmp_path, "--map", "region=Land", "--map", "id=Klantnummer", "--dry-run"))
    out, _err = capsys.readouterr()
    assert code == 0
    preview = [flat(line) for line in out.splitlines() if line.startswith("  line ")]
    assert preview == [
        "  line 2 (Klantnummer 10234)  +31612345610  nl-NL  prompt: Beste Anne de Vries, uw afspraak is op "
        "9 december 2025. U betaalt € 12,50.",
        "  line 3 (Klantnummer 10235)  +49302345678  nl-NL  prompt: Beste Jörg Müller, uw afspraak is op "
        "13 december 2025. U betaalt € 1.250,00.",
        "  line 4 (Klantnummer 10236)  +32470123456  nl-NL  prompt: Beste Els Peeters, uw afspraak is op "
        "10 december 2025. U betaalt € 7,00.",
    ]
    assert main(send_args(path, tmp_path, "--map", "region=Land", "--dry-run", "--preview", "1")) == 0
    assert len([line for line in capsys.readouterr().out.splitlines() if line.startswith("  line ")]) == 1


def test_the_same_list_in_python_plans_the_same_calls_and_previews_them(tmp_path):
    df = read_table(write(tmp_path, "klanten.csv", DUTCH_CRM))
    assert df.index.name == "line" and list(df.index) == [2, 3, 4, 5]
    plan = plan_campaign(df, app="notification", name="klanten", region="NL",
                         columns={"callee": "Telefoon", "region": "Land", "id": "Klantnummer"}, keep=["Naam"],
                         defaults=notification_defaults(PROMPT, voice={"language": "nl-NL"}))
    assert [r.callee for r in plan.rows] == ["+31612345610", "+49302345678", "+32470123456", "+31201234567"]
    preview = plan.preview(2)
    assert list(preview.columns) == ["row", "instruction_id", "callee", "language", "field", "text", "problems",
                                     "shown_for"]
    assert list(preview["row"]) == ["line 2 (Klantnummer 10234)", "line 3 (Klantnummer 10235)"]
    assert flat(preview["text"].iloc[1]).endswith("13 december 2025. U betaalt € 1.250,00.")
    assert list(plan.kept.columns) == ["Klantnummer", "Naam"]
    results = send_campaign(plan, None, journal=tmp_path / "j.sqlite", dry_run=True, progress=False)
    assert list(results["Klantnummer"]) == ["10234", "10235", "10236", "10237"]
    assert results.index.name == "line"


def test_an_unmapped_country_column_is_named_once_with_the_flag_that_maps_it(tmp_path, capsys, no_token_env):
    path = write(tmp_path, "klanten.csv", DUTCH_CRM)
    assert main(send_args(path, tmp_path, "--dry-run")) == 1  # the Belgian mobile is no Dutch number
    out, err = capsys.readouterr()
    notes = [line for line in err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1
    assert "'Land'" in notes[0] and "--map region=Land" in notes[0] and "read as NL" in notes[0]
    assert "+31302345678" in out  # as documented without the mapping: the note is the warning


def test_a_sales_area_column_is_never_taken_for_countries(tmp_path):
    df = pd.DataFrame({"Telefoon": ["0612345610"], "Regio": ["Noord"], "Naam": ["Anne"]})
    plan = plan_campaign(df, app="notification", name="c", region="NL", columns={"callee": "Telefoon"},
                         defaults=notification_defaults("Hallo {Naam}"))
    assert plan.notes == ()


def test_an_unknown_country_makes_only_its_row_invalid_naming_the_value(tmp_path, capsys, no_token_env):
    data = DUTCH_CRM.decode("utf-8-sig").replace(";België;", ";Belgie-Lux;").encode("utf-8-sig")
    path = write(tmp_path, "klanten.csv", data)
    assert main(send_args(path, tmp_path, "--map", "region=Land", "--map", "id=Klantnummer", "--dry-run")) == 1
    err = capsys.readouterr().err
    assert "line 4 (Klantnummer 10236)" in err and "'Belgie-Lux' is not a country" in err
    out = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert list(out["status"]) == ["dry-run", "dry-run", "invalid", "dry-run"]


# ----------------------------------------------------------------------- dates the list cannot decide
AMBIGUOUS = ("Telefoon;Naam;Datum\r\n06 12345610;Anne;09-12-2025\r\n06 12345611;Bob;01-02-2026\r\n").encode("utf-8-sig")


def test_a_date_column_that_reads_both_ways_stops_before_any_call_naming_the_column_and_flags(
        tmp_path, sim, token, capsys):
    path = write(tmp_path, "lijst.csv", AMBIGUOUS)
    prompt = "Hallo {Naam}, op {Datum:%-d %B}"
    assert main(send_args(path, tmp_path, "--base-url", sim.base_url, prompt=prompt)) == 2
    err = capsys.readouterr().err
    assert "column 'Datum'" in err and "--dayfirst or --monthfirst" in err and "--date-format" in err
    assert len(sim.requests) == 0
    assert main(send_args(path, tmp_path, "--base-url", sim.base_url, "--dayfirst", prompt=prompt)) == 0
    assert sorted(b["prompt"] for b in bodies(sim).values()) == ["Hallo Anne, op 9 december",
                                                                 "Hallo Bob, op 1 februari"]


def test_monthfirst_and_a_date_format_per_column_read_the_list_as_told(tmp_path, no_token_env, capsys):
    path = write(tmp_path, "lijst.csv", AMBIGUOUS)
    prompt = "{Datum:%-d %B}"
    assert main(send_args(path, tmp_path, "--dry-run", "--monthfirst", prompt=prompt)) == 0
    assert "prompt: 12 september" in capsys.readouterr().out
    assert main(send_args(path, tmp_path, "--dry-run", "--date-format", "Datum=%d-%m-%Y", prompt=prompt)) == 0
    assert "prompt: 9 december" in capsys.readouterr().out
    assert main(send_args(path, tmp_path, "--dry-run", "--date-format", "Datum", prompt=prompt)) == 2
    assert "--date-format" in capsys.readouterr().err


# -------------------------------------------------------------------------- amounts
def test_an_amount_column_of_only_thousands_stops_until_the_decimal_sign_is_given(tmp_path, no_token_env, capsys):
    path = write(tmp_path, "lijst.csv", b"Telefoon;Bedrag\r\n0612345610;1,250\r\n0612345611;2,500\r\n")
    prompt = "U betaalt {Bedrag:.2f} euro"
    assert main(send_args(path, tmp_path, "--dry-run", prompt=prompt)) == 2
    assert "column 'Bedrag'" in capsys.readouterr().err
    assert main(send_args(path, tmp_path, "--dry-run", "--decimal", ",", prompt=prompt)) == 0
    assert "U betaalt 1,25 euro" in capsys.readouterr().out
    assert main(send_args(path, tmp_path, "--dry-run", "--decimal", ".", prompt=prompt)) == 0
    assert "U betaalt 1250,00 euro" in capsys.readouterr().out  # the Dutch voice says it with a comma


# ------------------------------------------------------------------- German, Belgian, British
def test_a_german_cp1252_export_with_dotted_dates_speaks_german_months(tmp_path, no_token_env, capsys):
    data = ("Telefon;Name;Termin;Betrag\r\n0151 23456789;Jörg;13.12.2025;1.250,00\r\n"
            "030 2345678;Grete;09.12.2025;12,50\r\n").encode("cp1252")
    path = write(tmp_path, "kunden.csv", data)
    prompt = "Hallo {Name}, Ihr Termin ist am {Termin:date:long}: {Betrag:,.2f} Euro"
    code = main(["send", str(path), *notification_flags(prompt), "--map", "callee=Telefon", "--region", "DE",
                 "--set", "voice.language=de-DE", "--journal", str(tmp_path / "j.sqlite"),
                 "-o", str(tmp_path / "out.csv"), "--dry-run", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert "+4915123456789  de-DE  prompt: Hallo Jörg, Ihr Termin ist am 13. Dezember 2025: 1.250,00 Euro" in out
    assert "+49302345678  de-DE  prompt: Hallo Grete, Ihr Termin ist am 9. Dezember 2025: 12,50 Euro" in out


def test_a_british_list_reads_day_first_dates_and_decimal_points(tmp_path, no_token_env, capsys):
    data = b"phone,name,due,amount\n07400 123456,Ann,09/12/2025,\"1,250.00\"\n07400 123457,Bob,25/12/2025,12.50\n"
    path = write(tmp_path, "customers.csv", data)
    prompt = "Dear {name}, {amount:currency:GBP} is due on {due:%A %-d %B}."
    code = main(["send", str(path), *notification_flags(prompt), "--map", "callee=phone", "--region", "GB",
                 "--set", "voice.language=en-GB", "--journal", str(tmp_path / "j.sqlite"),
                 "-o", str(tmp_path / "out.csv"), "--dry-run", "--no-progress"])
    out = capsys.readouterr().out
    assert code == 0
    assert "+447400123456  en-GB  prompt: Dear Ann, £1,250.00 is due on Tuesday 9 December." in out
    assert "+447400123457  en-GB  prompt: Dear Bob, £12.50 is due on Thursday 25 December." in out


def test_a_per_row_voice_speaks_each_row_in_its_own_language_and_the_preview_shows_each_voice(tmp_path):
    df = pd.DataFrame({"tel": ["+31612345610", "+31612345611", "+32470123456", "+491701234567"],
                       "taal": ["nl-NL", "nl-NL", "fr-FR", "de-DE"], "datum": ["2025-12-13"] * 4})
    plan = plan_campaign(df, app="notification", name="c", columns={"callee": "tel", "voice.language": "taal"},
                         defaults=notification_defaults("{datum:%A %-d %B}"))
    assert [i.prompt for i in plan.instructions] == ["zaterdag 13 december", "zaterdag 13 december",
                                                     "samedi 13 décembre", "Samstag 13 Dezember"]
    preview = plan.preview(1)
    assert list(preview["language"]) == ["nl-NL", "fr-FR", "de-DE"]
    assert list(preview["shown_for"]) == ["first rows", "another voice or template", "another voice or template"]


def test_an_excel_workbook_with_real_date_and_number_cells_needs_no_decision(tmp_path, no_token_env, capsys):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Telefoon", "Naam", "Datum", "Bedrag"])
    sheet.append(["0612345610", "Anne", dt.datetime(2025, 12, 9), 12.5])
    sheet.append([None, None, None, None])  # an empty row in the middle still counts as a line
    sheet.append(["0612345611", "Bob", dt.datetime(2025, 12, 1), 1.125])
    book.save(tmp_path / "lijst.xlsx")
    df = read_table(tmp_path / "lijst.xlsx")
    assert list(df.index) == [2, 4]
    assert main(send_args(tmp_path / "lijst.xlsx", tmp_path, "--dry-run",
                          prompt="{Naam}: {Datum:%-d %B} {Bedrag:.3f}")) == 0
    out = capsys.readouterr().out
    assert "line 2  +31612345610  nl-NL  prompt: Anne: 9 december 12,500" in out
    assert "line 4  +31612345611  nl-NL  prompt: Bob: 1 december 1,125" in out  # a stored number: never 1125


def test_an_excel_serial_date_in_a_csv_is_read_as_a_date():
    df = pd.DataFrame({"callee": ["+31612345610"], "datum": ["45998"]})
    plan = plan_campaign(df, app="notification", name="c",
                         defaults=notification_defaults("{datum:%-d %B %Y}", **{"voice.language": "nl-NL"}))
    assert plan.instructions.iloc[0].prompt == "7 december 2025"


def test_python_says_which_keyword_decides_and_refuses_an_unknown_kept_column():
    df = pd.DataFrame({"callee": ["+31612345610"], "datum": ["09-12-2025"], "bedrag": ["1,250"]})
    defaults = notification_defaults("{datum:%d %B}")
    with pytest.raises(CampaignError, match="dayfirst=True or dayfirst=False"):
        plan_campaign(df, app="notification", name="c", defaults=defaults)
    with pytest.raises(CampaignError, match="decimal=',' or decimal='.'"):
        plan_campaign(df, app="notification", name="c", defaults={**defaults, "prompt": "{bedrag:.2f}"})
    with pytest.raises(CampaignError, match="keep= 'Klant': no such column"):
        plan_campaign(df, app="notification", name="c", defaults=defaults, dayfirst=True, keep=["Klant"])
    plan = plan_campaign(df, app="notification", name="c", defaults=defaults, date_format={"datum": "%d-%m-%Y"})
    assert plan.instructions.iloc[0].prompt == "09 December"


def test_a_utf16_unicode_text_export_with_a_number_excel_mangled_is_read_and_that_row_named(
        tmp_path, no_token_env, capsys):
    # Excel's "Unicode text": UTF-16 LE with a byte-order mark, TAB-separated, CRLF.
    text = ("Telefoon\tNaam\tDatum\r\n06 12345610\tAnne\t09-12-2025\r\n3,16123E+10\tBob\t13-12-2025\r\n")
    path = write(tmp_path, "lijst.txt", b"\xff\xfe" + text.encode("utf-16-le"))
    assert main(send_args(path, tmp_path, "--dry-run", prompt="Hallo {Naam}, op {Datum:%-d %B}")) == 1
    out, err = capsys.readouterr()
    assert "line 2  +31612345610  nl-NL  prompt: Hallo Anne, op 9 december" in out
    assert "line 3 (" in err and "scientific notation" in err
    df = read_table(path)
    assert list(df.columns) == ["Telefoon", "Naam", "Datum"] and df.loc[3, "Telefoon"] == "3,16123E+10"
