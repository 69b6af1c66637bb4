"""The digit-only parse gives what ``phonenumbers.parse`` gives, or steps aside.

:func:`cmvoice_nb.numbers._scalar._parse_digits` runs ``parse``'s own steps for ``+<digits>`` and
``<digits>`` with a region, skipping the text clean-up that cannot apply to them. Whenever it
answers, its answer must equal the library's on every field of the parsed number; when it
cannot be sure, it returns None and the library parses.
"""
from __future__ import annotations

import phonenumbers
import pytest
from phonenumbers import phonenumberutil as pu

from cmvoice_nb.numbers import normalize_number
from cmvoice_nb.numbers._scalar import _parse_digits, prepare, resolve

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import (  # noqa: E402
    given,
    settings,
    strategies as st,  # noqa: E402
)

REGIONS = sorted(pu.SUPPORTED_REGIONS)


def _library(candidate, region):
    try:
        return phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None


def _same(fast, slow):
    return slow is not None and fast == slow and (fast.italian_leading_zero, fast.number_of_leading_zeros) == (
        slow.italian_leading_zero, slow.number_of_leading_zeros)


def _example_spellings():
    """Every region's example numbers of every type, as a list would hold them."""
    for region in REGIONS:
        for kind in range(12):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            national = "".join(c for c in phonenumbers.format_number(
                example, phonenumbers.PhoneNumberFormat.NATIONAL) if c.isdigit())
            yield e164, None                  # +31612345678
            yield national, region            # 0612345678 with region NL
            yield e164[1:], region            # 31612345678: a spreadsheet dropped the +
            yield "00" + e164[1:], region     # the international prefix, for the library to parse
            yield national + "9", region      # one digit too many
            yield national[:-2], region       # two too few
            yield e164 + "1", None


def test_every_regions_example_numbers_parse_as_the_library_parses_them():
    answered = 0
    for candidate, region in _example_spellings():
        fast = _parse_digits(candidate, region)
        if fast is not None:
            answered += 1
            assert _same(fast, _library(candidate, region)), (candidate, region)
    assert answered > 5_000  # it answers for the common spellings, not only the odd ones


@settings(max_examples=400, deadline=None)
@given(digits=st.text("0123456789", min_size=1, max_size=19), region=st.sampled_from(REGIONS + [None]),
       plus=st.booleans())
def test_any_digit_string_parses_as_the_library_parses_it(digits, region, plus):
    candidate = ("+" + digits) if plus else digits
    fast = _parse_digits(candidate, region if not plus else None)
    if fast is not None:
        assert _same(fast, _library(candidate, region if not plus else None))


@pytest.mark.parametrize("candidate, region", [
    ("+31 6 12345678", None),      # not digits only: the library's own parse
    ("0612345678", None),          # no region and no +: not ours to guess
    ("+31612345678", "NL"),        # our candidates never pair + with a region
    ("+3", None),                  # too short after the +
    ("+999123456", None),          # no such country code
    ("0612345678", "XX"),          # no such region
    ("06１２345678", "NL"),         # full-width digits: the library normalises them
])
def test_text_the_fast_parse_cannot_vouch_for_is_left_to_the_library(candidate, region):
    assert _parse_digits(candidate, region) is None


def test_shared_verdicts_give_the_same_numbers_and_reasons_as_fresh_ones():
    verdicts: dict = {}
    spellings = ["+31612345678", "0612345678", "31612345678", "0031612345678", "+31 (0)6-12345678",
                 "+3161234567", "+32470123456", "0470123456", "12345", "+44 20 7946 0958"]
    for spelling in spellings * 2:
        for region in ("NL", "BE", None):
            try:
                tries = prepare(spelling, region)
            except Exception:  # noqa: BLE001 - not a number at all: nothing to share
                continue
            assert resolve(tries, "e164", verdicts) == resolve(tries, "e164")
    assert normalize_number("0612345678", region="NL") == "+31612345678"
