"""Templates are spoken in the row's voice language: month names, decimal signs and currencies by CLDR."""
from __future__ import annotations

import pytest

from cmvoice_nb.campaign.plan.templates import (
    TemplateError,
    placeholder_kind,
    render_template,
    template_placeholders,
    voice_locale,
)
from cmvoice_nb.campaign.plan.values import date_reader, number_reader

ROW = {"naam": "Anne", "datum": "2025-12-09 14:30", "zaterdag": "2025-12-13", "bedrag": "1250", "klein": "12.5"}


def say(template, language, row=ROW):
    return render_template(template, row, language=language).replace("\u00a0", " ").replace("\u202f", " ")


@pytest.mark.parametrize("template, nl, de, en", [
    ("{datum:%d %B %Y}", "09 december 2025", "09 Dezember 2025", "09 December 2025"),
    ("{datum:%-d %B}", "9 december", "9 Dezember", "9 December"),
    ("{datum:%#d %b}", "9 dec", "9 Dez.", "9 Dec"),
    ("{zaterdag:%A %-d %B}", "zaterdag 13 december", "Samstag 13 Dezember", "Saturday 13 December"),
    ("{datum:%H:%M}", "14:30", "14:30", "14:30"),
    ("{datum:date:long}", "9 december 2025", "9. Dezember 2025", "9 December 2025"),
    ("{datum:date:EEEE d MMMM}", "dinsdag 9 december", "Dienstag 9 Dezember", "Tuesday 9 December"),
    ("{bedrag:.2f}", "1250,00", "1250,00", "1250.00"),
    ("{bedrag:,.2f}", "1.250,00", "1.250,00", "1,250.00"),
    ("{bedrag:,d}", "1.250", "1.250", "1,250"),
    ("{bedrag:currency:EUR}", "€ 1.250,00", "1.250,00 €", "€1,250.00"),
    ("{bedrag:currency:EUR:name}", "1.250,00 euro", "1.250,00 Euro", "1,250.00 euros"),
    ("{klein:number}", "12,5", "12,5", "12.5"),
])
def test_each_placeholder_says_the_same_thing_in_each_language(template, nl, de, en):
    assert (say(template, "nl-NL"), say(template, "de-DE"), say(template, "en-GB")) == (nl, de, en)


def test_a_lone_month_uses_the_stand_alone_name_and_a_day_month_the_format_name():
    # Russian and Polish are where the two differ: "декабрь" alone, "9 декабря" with a day.
    assert say("{datum:%B}", "ru-RU") == "декабрь"
    assert say("{datum:%-d %B}", "ru-RU") == "9 декабря"


def test_amounts_round_half_up_as_on_an_invoice():
    assert render_template("{x:.2f}", {"x": "0,125"}, language="nl-NL") == "0,13"  # half-even would say 0,12
    assert render_template("{x:.0f}", {"x": "2.5"}) == "3"
    assert render_template("{x:currency:EUR}", {"x": "0.005"}, language="en-GB") == "€0.01"


def test_a_plain_placeholder_says_text_as_written_and_real_values_in_the_locale():
    import datetime as dt

    assert render_template("{x}", {"x": "12,50"}, language="en-GB") == "12,50"  # text: as written
    assert render_template("{x}", {"x": 12.5}, language="nl-NL") == "12,5"
    assert render_template("{x}", {"x": 3.0}, language="nl-NL") == "3"
    assert render_template("{x}", {"x": dt.date(2025, 12, 9)}, language="nl-NL") == "9 december 2025"
    with_time = render_template("{x}", {"x": dt.datetime(2025, 12, 9, 14, 30)}, language="en-GB")
    assert with_time.startswith("9 December 2025")


def test_a_cell_read_on_its_own_is_refused_when_it_reads_two_ways():
    with pytest.raises(TemplateError, match="day-first or month-first"):
        render_template("{d:%d %B}", {"d": "09-12-2025"})
    with pytest.raises(TemplateError, match="decimal comma or a decimal point"):
        render_template("{x:.2f}", {"x": "1,250"})
    assert render_template("{d:%d %B}", {"d": "13-12-2025"}) == "13 December"  # only one way to read it


def test_a_column_reader_decides_what_one_cell_cannot():
    readers = {("d", "date"): date_reader(["09-12-2025", "13-12-2025"], column="d"),
               ("x", "number"): number_reader(["1,250", "12,50"], column="x")}
    assert render_template("{d:%-d %B} {x:.2f}", {"d": "09-12-2025", "x": "1,250"}, language="nl-NL",
                           readers=readers) == "9 december 1,25"


def test_nested_values_and_empty_cells_are_problems_of_the_row():
    with pytest.raises(TemplateError, match="nested value"):
        render_template("{x}", {"x": {"a": [1, 2]}})
    with pytest.raises(TemplateError, match="empty in this row"):
        render_template("{x}", {"x": "  "})
    with pytest.raises(TemplateError, match="names no column"):
        render_template("{y}", {"x": "1"})


def test_specs_are_classified_and_impossible_ones_refused_once_per_template():
    assert [p.kind for p in template_placeholders("{a} {b:%d} {c:.1f} {d:>5} {e:date:short} {f:percent}")] == \
        ["text", "date", "number", "text", "date", "number"]
    assert placeholder_kind("%") == "number" and placeholder_kind(".1%") == "number"
    with pytest.raises(TemplateError, match="three-letter code"):
        template_placeholders("{x:currency}")
    with pytest.raises(TemplateError, match="nests a placeholder"):
        template_placeholders("{x:{y}}")


def test_a_language_without_a_cldr_locale_falls_back_to_its_language_then_english():
    assert str(voice_locale("nl-BE")) == "nl_BE"
    assert str(voice_locale("nl-XX")) == "nl"
    assert str(voice_locale("xx-XX")) == "en_GB"
    assert str(voice_locale(None)) == "en_GB"


def test_the_remembered_currency_pattern_says_what_babel_says_in_every_voice_language():
    import random
    from decimal import Decimal

    from babel.numbers import format_currency, get_currency_precision

    from cmvoice_nb.campaign.plan._formats import format_currency as remembered, half_up
    from cmvoice_nb.spec import voice_languages

    rnd = random.Random(7)
    for language in [*voice_languages(), "en-IN"]:
        locale = voice_locale(language)
        for code in ("EUR", "GBP", "JPY", "INR", "ISK", "BHD"):
            for _ in range(40):
                value = Decimal(rnd.randrange(-10**9, 10**9)) / Decimal(10 ** rnd.randrange(0, 5))
                expected = format_currency(half_up(value, get_currency_precision(code)), code, locale=locale)
                assert remembered(value, code, "", locale) == expected, (language, code, value)
