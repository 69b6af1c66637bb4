"""The column-wise planner's quick amounts and decimal votes equal the per-value readings they stand for."""
from __future__ import annotations

import decimal

import pyarrow as pa
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import (  # noqa: E402
    given,
    settings,
    strategies as st,  # noqa: E402
)

from cmvoice_nb.campaign.plan._amounts import decimal_votes, quick_amount  # noqa: E402
from cmvoice_nb.campaign.plan._formats import format_number  # noqa: E402
from cmvoice_nb.campaign.plan.templates import voice_locale  # noqa: E402
from cmvoice_nb.campaign.plan.values import ColumnError, NumberReader, number_reader  # noqa: E402

_SPECS = ["currency:EUR", "currency:eur", "currency:JPY", "currency:KWD", "currency:GBP", ".2f", ",.2f", ".0f",
          ",.0f", ".3f", "currency:EUR:name", "number", ",d"]
_LANGUAGES = ["nl-NL", "de-DE", "en-GB", "fr-FR", "de-CH", "pl-PL", "hi-IN", "is-IS"]


def _written(units: int, cents: str, sign: str | None, grouped: bool) -> str:
    """An amount as a spreadsheet writes it with decimal sign *sign* (grouping by the other sign)."""
    group = {",": ".", ".": ",", None: ""}[sign]
    whole = f"{units:,}".replace(",", group) if grouped and sign else str(units)
    return whole + (f"{sign}{cents}" if sign and cents else "")


@settings(max_examples=300, deadline=None)
@given(units=st.one_of(st.integers(0, 999), st.integers(0, 10 ** 15)), cents=st.text("0123456789", max_size=13),
       sign=st.sampled_from([",", ".", None]), grouped=st.booleans(), spec=st.sampled_from(_SPECS),
       language=st.sampled_from(_LANGUAGES), odd=st.sampled_from(["", " ", "-", "€ ", "+", "0"]))
def test_a_plainly_written_amount_is_formatted_quickly_as_the_long_way_formats_it(
        units, cents, sign, grouped, spec, language, odd):
    text = odd + _written(units, cents, sign, grouped) if odd != "0" else "0" + _written(units, cents, sign, grouped)
    locale = voice_locale(language)
    quick = quick_amount(spec, sign, locale)
    if quick is None:
        assert spec in ("currency:EUR:name", "number", ",d") or spec.startswith("currency:")
        return
    got = quick(text)
    if got is None:
        return  # not a plain amount: the planner formats it the long way
    assert got == format_number(NumberReader("bedrag", decimal=sign)(text), spec, locale)


def test_a_half_cent_rounds_up_as_on_an_invoice_and_large_amounts_are_left_to_the_long_way():
    nl = voice_locale("nl-NL")
    quick = quick_amount("currency:EUR", ",", nl)
    assert quick("12,345") == quick_amount("currency:EUR", ",", nl)("12,345") == "€\xa012,35"
    assert quick("0,004") == "€\xa00,00" and quick("1.250.000,995") == "€\xa01.250.001,00"
    assert quick("1" * 16) is None and quick("-12,50") is None and quick("12,50 EUR") is None
    assert quick_amount(".2f", ".", voice_locale("en-GB"))("1,250.5") == "1250.50"


_SHAPES = ["12,50", "1.250,00", "1.250.000", "1,250", "1.250", "0,125", "0.125", "1250,125", "12.5", "1,250.00",
           "1,250,000", "7", "01,250", "00.125", ",250", ".250", "12,", "1 250,50", "-€ 3,00", "€1.250,00", "", "  ",
           "abc", "1.25.0", "1,2,3", "12.345,678", "3,5", "0,5", "12345,678"]


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.sampled_from(_SHAPES) | st.from_regex(r"[0-9][0-9.,]{0,9}", fullmatch=True),
                       max_size=12, unique=True))
def test_a_columns_decimal_sign_is_told_from_arrow_texts_as_from_the_values_one_by_one(values):
    def decide(cells):
        try:
            return number_reader(cells, column="bedrag").decimal
        except ColumnError as exc:
            return str(exc)

    assert decide(pa.array(values + [None], type=pa.large_string())) == decide(values + [None])


def test_decimal_votes_know_the_common_shapes_and_leave_the_rest():
    votes = decimal_votes(pa.array(["12,50", "1.250,00", "1,250", "1250", "€ 12,50", None], type=pa.large_string()))
    assert votes == [",", ",", "?", None, False, False]
    assert decimal.Decimal("1250.00") == NumberReader("b", decimal=",")("1.250,00")
