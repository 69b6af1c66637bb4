"""Dates, amounts and countries are read per column, the way the operator's spreadsheet writes them."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings, strategies as st

from cmvoice_nb.campaign.plan.values import (
    ColumnError,
    date_reader,
    excel_serial_date,
    looks_like_countries,
    number_reader,
    read_country,
)


# ---------------------------------------------------------------------------------------- dates
def test_one_day_above_twelve_decides_day_first_for_every_row_of_the_column():
    read = date_reader(["09-12-2025", "13-12-2025", "01-02-2025"], column="datum")
    assert read.dayfirst is True
    assert read("09-12-2025").date() == dt.date(2025, 12, 9)  # not 12 September
    assert read("01-02-2025").date() == dt.date(2025, 2, 1)


def test_one_second_number_above_twelve_decides_month_first():
    read = date_reader(["12/09/2025", "12/13/2025"], column="date")
    assert read.dayfirst is False
    assert read("12/09/2025").date() == dt.date(2025, 12, 9)


def test_a_column_where_every_date_reads_both_ways_is_refused_naming_the_column_and_the_options():
    with pytest.raises(ColumnError) as caught:
        date_reader(["09-12-2025", "01-02-2025", None, ""], column="datum")
    message = str(caught.value)
    assert "'datum'" in message and "'09-12-2025'" in message
    assert message.endswith("say which with dayfirst=True or dayfirst=False, or give date_format=")


def test_the_options_name_the_front_end_s_own_flags():
    with pytest.raises(ColumnError) as caught:
        date_reader(["09-12-2025"], column="datum", options=("--dayfirst or --monthfirst", "--date-format"))
    assert str(caught.value).endswith("say which with --dayfirst or --monthfirst, or give --date-format")


def test_a_plan_names_the_date_options_as_each_front_end_spells_them():
    import pandas as pd

    from cmvoice_nb.campaign import plan_campaign
    from cmvoice_nb.errors import CampaignError

    df = pd.DataFrame({"callee": ["+31612345678"], "datum": ["03-04-2026"]})
    with pytest.raises(CampaignError) as caught:
        plan_campaign(df, app="notification", name="c", defaults={"prompt": "Op {datum:%-d %B}", "prompt-type": "TTS"})
    assert caught.value.say("cli").endswith("say which with --dayfirst or --monthfirst, or give --date-format")
    assert caught.value.say("widget").endswith("say which with the Dates choice, or give date_format=")
    df = pd.DataFrame({"callee": ["+31612345678"], "bedrag": ["1,250"]})
    with pytest.raises(CampaignError) as caught:
        plan_campaign(df, app="notification", name="c", defaults={"prompt": "{bedrag:.2f}", "prompt-type": "TTS"})
    assert caught.value.say("cli").endswith("say which with --decimal , or --decimal .")
    assert caught.value.say("widget").endswith("say which with the Decimal sign choice")


def test_a_column_with_both_orders_is_refused_with_an_example_of_each():
    with pytest.raises(ColumnError) as caught:
        date_reader(["13-12-2025", "12-13-2025"], column="datum")
    assert "'13-12-2025'" in str(caught.value) and "'12-13-2025'" in str(caught.value)


def test_when_the_operator_says_day_first_a_row_that_does_not_fit_is_a_problem_of_that_row_only():
    read = date_reader(["13-12-2025", "12-13-2025"], column="datum", dayfirst=True)
    assert read("13-12-2025").date() == dt.date(2025, 12, 13)
    with pytest.raises(ValueError, match="13 is not a month"):
        read("12-13-2025")


def test_iso_dates_real_datetimes_excel_serials_and_month_names_need_no_decision():
    read = date_reader(["2025-12-09", "45998", "9 december 2025", "13. Dezember 2025", "December 9, 2025"],
                       column="d")
    assert read.dayfirst is None
    assert read("2025-12-09T14:30:00").hour == 14
    assert read("2025-12-09T14:30:00+01:00").utcoffset() == dt.timedelta(hours=1)
    assert read("45998").date() == dt.date(2025, 12, 7)
    assert read(45998.5) == dt.datetime(2025, 12, 7, 12, 0)
    assert read("9 december 2025").date() == read("13. Dezember 2025").date() - dt.timedelta(days=4)
    assert read("3 mrt 2025").month == 3 and read("3 Mär 2025").month == 3 and read("3 mars 2025").month == 3
    assert read(dt.date(2025, 12, 9)) == dt.datetime(2025, 12, 9)
    import pandas as pd

    assert read(pd.Timestamp("2025-12-09 08:00", tz="Europe/Amsterdam")).hour == 8


def test_a_date_that_does_not_exist_or_cannot_be_read_says_so():
    read = date_reader(["31-12-2025"], column="d")
    with pytest.raises(ValueError, match="not a real date"):
        read("31-02-2025")
    with pytest.raises(ValueError, match="cannot read 'volgende week' as a date"):
        read("volgende week")
    with pytest.raises(ValueError, match="not a month name"):
        read("9 brumaire 2025")


def test_a_strptime_pattern_reads_every_cell_and_names_the_cells_it_cannot():
    read = date_reader(["09.12.2025"], column="d", date_format="%d.%m.%Y")
    assert read("09.12.2025").date() == dt.date(2025, 12, 9)
    with pytest.raises(ValueError, match="does not match the date format"):
        read("2025-12-09")


def test_excel_serials_start_on_30_december_1899():
    assert excel_serial_date(1) == dt.datetime(1899, 12, 31)
    assert excel_serial_date(61) == dt.datetime(1900, 3, 1)
    with pytest.raises(ValueError):
        excel_serial_date(0)


@settings(max_examples=200, deadline=None)
@given(day=st.dates(min_value=dt.date(1970, 1, 1), max_value=dt.date(2068, 12, 31)),
       order=st.sampled_from(["%d-%m-%Y", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%y"]))
def test_any_day_first_date_reads_back_as_itself_once_its_column_is_decided(day, order):
    text = day.strftime(order)
    read = date_reader([text, "13-01-2000"], column="d")
    assert read(text).date() == day


# -------------------------------------------------------------------------------------- numbers
@pytest.mark.parametrize("cells, sign", [
    (["12,50", "7"], ","), (["1.250,00"], ","), (["1.250.000"], ","), (["0,125"], ","), (["1 250,125"], ","),
    (["12.50"], "."), (["1,250.00"], "."), (["1,250,000"], "."), (["€ 12,50", "-€ 3,00", "12,50 EUR"], ","),
])
def test_the_decimal_sign_is_decided_from_the_values_that_can_only_be_read_one_way(cells, sign):
    assert number_reader(cells, column="bedrag").decimal == sign


def test_decimal_commas_keep_every_digit():
    read = number_reader(["12,50", "1.250,00", "-€ 1.250,05"], column="bedrag")
    assert read("12,50") == Decimal("12.50")
    assert read("1.250,00") == Decimal("1250.00")
    assert read("-€ 1.250,05") == Decimal("-1250.05")
    assert read("1 250,5") == Decimal("1250.5") and read("1\u202f250,5") == Decimal("1250.5")


def test_a_column_of_only_thousands_like_1_250_is_refused_until_the_operator_says():
    with pytest.raises(ColumnError) as caught:
        number_reader(["1,250", "2,500", ""], column="bedrag")
    assert "'bedrag'" in str(caught.value)
    assert str(caught.value).endswith("say which with decimal=',' or decimal='.'")
    assert number_reader(["1,250"], column="bedrag", decimal=",")("1,250") == Decimal("1.250")
    assert number_reader(["1,250"], column="bedrag", decimal=".")("1,250") == Decimal("1250")


def test_a_column_mixing_both_signs_is_refused_and_with_a_sign_given_the_misfit_rows_are_problems():
    with pytest.raises(ColumnError, match="some numbers use a decimal comma"):
        number_reader(["12,50", "1,250.00"], column="bedrag")
    read = number_reader(["12,50", "12.50"], column="bedrag", decimal=",")
    assert read("12,50") == Decimal("12.50")
    with pytest.raises(ValueError, match="not grouped in threes"):
        read("12.50")  # never silently 1250


def test_spreadsheet_numbers_and_python_numbers_are_exact():
    read = number_reader([], column="n")
    assert read(12.5) == Decimal("12.5") and read(3) == Decimal(3) and read(Decimal("1.10")) == Decimal("1.10")
    for bad in (True, float("nan"), "twelve", "12,50,00", "1.2.3,4.5"):
        with pytest.raises(ValueError):
            read(bad)


@settings(max_examples=300, deadline=None)
@given(amount=st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
       style=st.sampled_from(["nl", "en", "plain-nl", "fr"]))
def test_any_amount_written_in_a_locale_reads_back_as_itself(amount, style):
    whole, _, cents = f"{amount:.2f}".partition(".")
    grouped = f"{int(whole):,}"
    text = {"nl": grouped.replace(",", ".") + "," + cents, "en": grouped + "." + cents,
            "plain-nl": whole + "," + cents, "fr": grouped.replace(",", "\u202f") + "," + cents}[style]
    sign = "." if style == "en" else ","
    assert number_reader([text], column="x", decimal=sign)(text) == amount


# ------------------------------------------------------------------------------------ countries
@pytest.mark.parametrize("written, code", [
    ("DE", "DE"), (" de ", "DE"), ("Duitsland", "DE"), ("Deutschland", "DE"), ("Germany", "DE"), ("Allemagne", "DE"),
    ("België", "BE"), ("belgie", "BE"), ("Belgique", "BE"), ("Nederland", "NL"), ("UK", "GB"),
    ("Verenigd Koninkrijk", "GB"),
])
def test_countries_are_read_from_codes_and_names_in_english_and_the_voice_languages(written, code):
    assert read_country(written) == code


def test_an_unknown_country_names_the_value():
    with pytest.raises(ValueError, match="'Holand' is not a country"):
        read_country("Holand")


def test_a_column_of_countries_is_recognised_and_a_sales_area_is_not():
    assert looks_like_countries(["NL", "DE", "BE", "", None, "NL"])
    assert looks_like_countries(["Nederland", "Duitsland"])
    assert not looks_like_countries(["Noord", "Zuid", "Oost"])
    assert not looks_like_countries(["NL", "EN"])  # languages, not countries
    assert not looks_like_countries([])


@settings(max_examples=400, deadline=None)
@given(text=st.text(alphabet="0123456789.,  '€-+E", min_size=1, max_size=14),
       sign=st.sampled_from([",", ".", None]))
def test_the_quick_reading_of_common_spellings_equals_the_full_reading(text, sign):
    quick = number_reader([], column="x", decimal=sign)
    full = number_reader([], column="x", decimal=sign)
    full._plain = __import__("re").compile(r"(?!)")  # never matches: every cell the long way

    def outcome(read):
        try:
            return read(text)
        except ValueError:
            return "refused"

    assert outcome(quick) == outcome(full)


@settings(max_examples=200, deadline=None)
@given(cells=st.lists(st.text(alphabet="0123456789.,  €-", min_size=1, max_size=10), min_size=1, max_size=30))
def test_the_column_decision_by_shape_equals_judging_every_value(cells):
    from cmvoice_nb.campaign.plan.values import _NUMBER, _decimal_vote, _sign_and_body

    def every_value():
        votes = set()
        for cell in cells:
            body = _sign_and_body(cell)[1]
            if _NUMBER.fullmatch(body):
                votes.add(_decimal_vote(body))
        votes.discard(None)
        if "," in votes and "." in votes:
            return "conflict"
        return "," if "," in votes else "." if "." in votes else "?" if "?" in votes else None

    try:
        decided = number_reader(cells, column="x").decimal
    except ColumnError as exc:
        decided = "conflict" if "some numbers use" in str(exc) else "?"
    assert decided == every_value()
