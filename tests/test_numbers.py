"""Phone-number normalisation: the shapes users really paste, and clear reasons for bad ones."""
import math

import pytest

from cmvoice_nb import NumberError, normalize_number
from cmvoice_nb.numbers import number_region, try_normalize


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


def test_number_region_reads_the_country():
    assert number_region("+31612345678") == "NL"
    assert number_region("0044 20 7946 0958".replace(" ", "")) == "GB"
    assert number_region(None) is None
