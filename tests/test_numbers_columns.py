"""A column of numbers at once: ``normalize_numbers`` gives exactly what ``try_normalize`` gives each value.

The column path decides most numbers itself, from phonenumbers' metadata applied column-wise;
whatever it decides must be the library's own answer, number and reason alike. These tests
run both paths on every region's example numbers in the spellings lists hold, on random digit
strings and on junk, and check that the column path really decides (so the comparison is
not a comparison of the slow path with itself).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import phonenumbers
import pyarrow as pa
import pytest
from hypothesis import given, settings, strategies as st
from phonenumbers import phonenumberutil as pu

from cmvoice_nb.numbers import normalize_numbers, try_normalize
from cmvoice_nb.numbers._columns import _column_verdicts
from cmvoice_nb.numbers._rules import INVALID, VALID

REGIONS = sorted(pu.SUPPORTED_REGIONS)


def _spellings():
    """(value, region) pairs: every region's example numbers as operators' lists hold them."""
    for region in REGIONS:
        for kind in range(12):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            national = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
            international = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
            digits = "".join(c for c in national if c.isdigit())
            cc = str(example.country_code)
            yield from [
                (e164, None), (e164, region),                        # +31612345678
                (international, None),                               # +31 6 12345678
                ("00" + e164[1:], None),                             # 0031612345678
                (e164[1:], None), (e164[1:], region),                # a spreadsheet dropped the +
                (national, region), (digits, region),                # 06 12345678 / 0612345678 with NL
                (" " + national + "\t", region),                     # padding from a fixed-width export
                (f"({digits[:3]}) {digits[3:]}", region),            # brackets
                (digits.replace("", "-")[1:-1], region),             # 0-6-1-2-... dashes everywhere
                (".".join([digits[:3], digits[3:6], digits[6:]]), region),
                ("tel:" + international.replace(" ", "-"), None),    # tel:+31-6-12345678
                ("TEL:" + e164, None),
                (f"+{cc} (0){e164[1 + len(cc):]}", None),            # +31 (0)612345678
                (f"+{cc}0{digits}", None),                           # the trunk zero kept after the code
                (e164[1:] + ".0", None),                             # 31612345678.0 as text
                (float(e164[1:]), None), (int(e164[1:]), region),    # spreadsheet cells
                (digits + "9", region), (digits[:-2], region),       # one digit too many, two too few
                (e164 + "1", None), (e164[:-1], None),
                (digits, None),                                      # national without a region
                (cc + digits, region),                               # code + trunk digits
                (e164[1:], "NL"), (digits, "NL"), (digits, "GB"), (digits, "US"), (digits, "gb"),
                ("011 " + e164[1:], "US"), ("8~10" + e164[1:], "RU"),  # another region's international prefix
            ]


def _compare(values, regions, style="e164"):
    numbers, reasons = normalize_numbers(values, region=regions, style=style)
    scalar = regions if isinstance(regions, (list, tuple)) else [regions] * len(values)
    expected = [try_normalize(v, region=r, style=style) for v, r in zip(values, scalar, strict=True)]
    got = list(zip(numbers.tolist(), reasons.tolist(), strict=True))
    wrong = [(v, r, g, e) for v, r, g, e in zip(values, scalar, got, expected, strict=True) if g != e]
    assert not wrong, wrong[:10]
    return got


@pytest.mark.slow
def test_every_regions_example_numbers_in_every_spelling_read_as_normalize_number_reads_them():
    pairs = list(_spellings())
    values, regions = [v for v, _ in pairs], [r for _, r in pairs]
    got = _compare(values, regions)
    assert sum(number is not None for number, _ in got) > 20_000  # most spellings are numbers
    # The column path decided most of them itself (it did not hand everything to the library).
    texts = [(v, r or "") for v, r in pairs if isinstance(v, str)]
    status, e164, reason = _column_verdicts(pa.array([v for v, _ in texts], type=pa.large_string()),
                                            np.array([r for _, r in texts], dtype=object))
    assert (status == VALID).sum() > 15_000 and (status == INVALID).sum() > 5_000
    for (value, region), s, number, why in zip(texts, status, e164, reason, strict=True):
        if s == VALID:
            assert (number, None) == try_normalize(value, region=region or None)
        elif s == INVALID:
            assert (None, why) == try_normalize(value, region=region or None)


def _near_examples(seed: int = 20):
    """Digit strings near every region's example numbers: the same first digits, random tails.

    They reach the rules the example numbers alone do not: numbers whose own digits start like
    the national prefix (Russia's 8xx area codes), lengths one off, tails no pattern allows.
    """
    import random

    rnd = random.Random(seed)
    for region in REGIONS:
        for kind in (0, 1):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            nsn, cc = pu.national_significant_number(example), example.country_code
            metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
            prefixes = [""] + (metadata.national_prefix_for_parsing or "").split("|")[:2]
            for _ in range(12):
                keep = rnd.randrange(1, min(4, len(nsn)) + 1)
                digits = nsn[:keep] + "".join(rnd.choice("0123456789")
                                              for _ in range(len(nsn) - keep + rnd.choice((-1, 0, 0, 1))))
                prefix = rnd.choice(prefixes) if prefixes[-1].isdigit() else ""
                yield from [(f"+{cc}{prefix}{digits}", None), (f"{prefix}{digits}", region), (f"{cc}{digits}", region)]
                # a number whose own first digits are the national prefix, written without "+"
                own = prefix + "".join(rnd.choice("0123456789") for _ in range(len(nsn) - len(prefix)))
                yield from [(f"+{cc}{own}", None), (f"{cc}{own}", region), (own, region)]


@pytest.mark.slow
def test_numbers_near_every_regions_examples_read_as_normalize_number_reads_them():
    pairs = list(_near_examples())
    _compare([v for v, _ in pairs], [r for _, r in pairs])


@pytest.mark.slow
@pytest.mark.parametrize("region", ["NL", "de", None])
@pytest.mark.parametrize("style", ["e164", "00"])
def test_one_region_for_the_whole_column_and_both_styles(region, style):
    values = [v for v, _ in _spellings() if not isinstance(v, str) or "1" in v][::3]
    _compare(values, region, style=style)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text("0123456789", min_size=1, max_size=18),
                          st.sampled_from(["", "+", "00", "0", "tel:", "+31 ", "+44 (0)", " "]),
                          st.sampled_from(["", " ", "-", ".", "/", "()"]),
                          st.sampled_from(REGIONS[::7] + ["NL", "BE", "DE", "GB", "US", "nl", None, ""])),
                min_size=1, max_size=40))
def test_random_digit_strings_in_random_spellings_read_as_normalize_number_reads_them(items):
    values, regions = [], []
    for digits, prefix, sep, region in items:
        cut = len(digits) // 2
        values.append(prefix + digits[:cut] + sep + digits[cut:])
        regions.append(region)
    _compare(values, regions)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=20), st.text("+0123456789 -()./[]tel:;eE,#\t\u00a0\u2013", max_size=24),
                          st.integers(), st.floats(allow_nan=True), st.none(), st.booleans(), st.binary(max_size=12)),
                min_size=1, max_size=30),
       st.sampled_from(["NL", "GB", None]))
def test_junk_reads_as_normalize_number_reads_it(values, region):
    _compare(values, region)


def test_per_row_regions_read_each_national_number_in_its_own_country():
    numbers, reasons = normalize_numbers(["030 2345678", "030 2345678", "030 2345678", "0470 12 34 56"],
                                         region=["DE", "NL", None, "BE"])
    assert numbers.tolist() == ["+49302345678", "+31302345678", None, "+32470123456"]
    assert "pass region=" in reasons[2]
    # a missing code (NaN from a DataFrame column) means no region, as region=None does
    assert normalize_numbers(pd.Series(["0612345678"]), region=pd.Series([math.nan]))[0].tolist() == [None]
    with pytest.raises(ValueError, match="2 codes for 1 numbers"):
        normalize_numbers(["0612345678"], region=["NL", "BE"])


def test_a_spreadsheets_scientific_notation_is_refused_with_its_reason_in_a_column_too():
    numbers, reasons = normalize_numbers(["3.16123E+10", "3,16123E+10", "3.16123e10", "3E+10", "+31612345678"])
    assert numbers.tolist() == [None, None, None, None, "+31612345678"]
    assert all("scientific notation" in r and "digits are lost" in r and "as text" in r for r in reasons[:4])


def test_repeats_are_read_once_and_every_row_gets_its_answer():
    values = ["+31 6 1234 5678", "0612345678", "n/a"] * 1000
    numbers, reasons = normalize_numbers(values, region="NL")
    assert set(numbers[:2000:3].tolist()) == {"+31612345678"} and numbers[1] == "+31612345678"
    assert numbers[2::3].tolist() == [None] * 1000 and set(reasons[2::3].tolist()) == {"contains letters"}


def test_any_container_of_cells_is_a_column():
    expected = ["+31612345678", None]
    assert normalize_numbers(pd.Series(["+31612345678", None]))[0].tolist() == expected
    assert normalize_numbers(pd.Series(["+31612345678", None], dtype="string"))[0].tolist() == expected
    assert normalize_numbers(pa.array(["+31612345678", None]))[0].tolist() == expected
    assert normalize_numbers(np.array(["+31612345678", "x"]))[0].tolist() == expected
    assert normalize_numbers(iter(["+31612345678", ""]))[0].tolist() == expected
    assert normalize_numbers([])[0].tolist() == []
    # a cell holding a list stays one (unreadable) cell; a lone surrogate from a broken file too
    numbers, reasons = normalize_numbers([["+31612345678"], "\udcff+31612345678", "+31612345678"])
    assert numbers.tolist() == [None, None, "+31612345678"]
    assert reasons[0] == "expected text, got list" and reasons[1] == try_normalize("\udcff+31612345678")[1]
    # bytes are not text, whatever pyarrow would make of them; each kind of missing keeps its reason
    _compare([b"+31612345678", "+31612345678", None, math.nan, pd.NA, pd.NaT], None)
    with pytest.raises(TypeError, match="not one text"):
        normalize_numbers("+31612345678")
    with pytest.raises(ValueError, match="style"):
        normalize_numbers(["+31612345678"], style="dots")
