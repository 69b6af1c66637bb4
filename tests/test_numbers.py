"""Phone-number normalisation: the shapes users really paste, and clear reasons for bad ones."""
import math

import pytest

from cmvoice_nb import NumberError, normalize_number
from cmvoice_nb.numbers import country_of, try_normalize


@pytest.mark.parametrize("raw,region,expected", [
    ("+31612345678", None, "+31612345678"),
    ("+31 6 1234 5678", None, "+31612345678"),
    ("+31-6-1234-5678", None, "+31612345678"),
    ("+31 (0)6 12345678", None, "+31612345678"),
    ("(+31) 612.345.678", None, "+31612345678"),
    ("0031612345678", None, "+31612345678"),
    ("00 31 6 12345678", None, "+31612345678"),
    ("06 12345678", "NL", "+31612345678"),
    ("06-12345678", "nl", "+31612345678"),
    ("020 7946 0958", "GB", "+442079460958"),
])
def test_common_shapes_normalise_to_e164(raw, region, expected):
    assert normalize_number(raw, region=region) == expected


def test_spreadsheet_floats_and_ints_become_numbers():
    assert normalize_number(31612345678.0) == "+31612345678"
    assert normalize_number(31612345678) == "+31612345678"
    assert normalize_number("31612345678.0") == "+31612345678"


def test_digits_that_lost_their_plus_are_read_as_international():
    assert normalize_number("31612345678") == "+31612345678"
    assert normalize_number("31612345678", region="NL") == "+31612345678"


def test_00_style_output():
    assert normalize_number("+31612345678", style="00") == "0031612345678"


def test_unknown_style_is_a_value_error():
    with pytest.raises(ValueError, match="style"):
        normalize_number("+31612345678", style="dots")


@pytest.mark.parametrize("raw,reason", [
    ("", "empty"),
    (None, "empty"),
    (math.nan, "empty"),
    ("0612345678", "pass region="),
    ("12345", "too short"),
    ("+999123456", "country code"),
    ("+31 6 1234", "not a valid number"),
    ("call me", "letters"),
    (3.5, "decimals"),
    (True, "boolean"),
])
def test_invalid_numbers_give_a_clear_reason(raw, reason):
    with pytest.raises(NumberError) as info:
        normalize_number(raw)
    assert reason in info.value.reason
    assert isinstance(info.value, ValueError)


def test_try_normalize_returns_reason_instead_of_raising():
    assert try_normalize("+31612345678") == ("+31612345678", None)
    number, reason = try_normalize("12")
    assert number is None and reason


def test_country_of_reads_the_country_in_any_spelling_and_none_for_no_country():
    assert country_of("+31612345678") == "NL"
    assert country_of("0044 20 7946 0958") == "GB"
    assert country_of("+800 1234 5678") is None  # non-geographic
    assert country_of(None) is None and country_of("0612345678") is None  # national: no country by itself


# ----------------------------------------------------------------- what spreadsheets and CRMs export
@pytest.mark.parametrize("raw", ["tel:+31612345678", "tel:+31-6-1234-5678", "TEL:+31.6.12.34.56.78",
                                 " tel: +31 6 1234 5678 ", "tel:+31612345678;ext=12",
                                 "tel:+31-6-1234-5678;isub=abc;ext=9", "tel:0612345678;phone-context=+31",
                                 "tel:+31612345678;phone-context=+44"])
def test_tel_uris_are_read_and_their_parameters_dropped(raw):
    assert normalize_number(raw) == "+31612345678"


def test_a_local_tel_uri_without_a_global_context_needs_the_region():
    assert normalize_number("tel:06-1234-5678;phone-context=example.com", region="NL") == "+31612345678"
    with pytest.raises(NumberError, match="pass region="):
        normalize_number("tel:06-1234-5678;phone-context=example.com")


def test_a_semicolon_outside_a_tel_uri_is_not_a_parameter():
    # In a callee list ";" separates numbers: only a cell that starts with tel: has parameters.
    with pytest.raises(NumberError):
        normalize_number("+31612345678;+31612345679")
    assert try_normalize("tel:+31612345678;ext=1")[0] == "+31612345678"


@pytest.mark.parametrize("raw", ["3.16123E+10", "3,16123E+10", "3.16123e10", "3E+10", " 3,16123E+10 ",
                                 "+3.16123E+10", "4.47400123E+11"])
def test_spreadsheet_scientific_notation_is_refused_because_digits_are_lost(raw):
    with pytest.raises(NumberError) as info:
        normalize_number(raw, region="NL")
    reason = info.value.reason
    assert "spreadsheet" in reason and "scientific notation" in reason and "digits are lost" in reason
    assert "format the column as text" in reason and "export" in reason and "letters" not in reason


def test_text_with_an_e_that_is_not_a_number_still_contains_letters():
    assert try_normalize("+31 6 1234 5678 ext")[1] == "contains letters"
    assert try_normalize("E+10")[1] == "contains letters"
