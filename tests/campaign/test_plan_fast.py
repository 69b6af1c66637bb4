"""The fast planner gives the same rows as the plain per-row path, on fuzzed frames.

:func:`plan_campaign` memoises its pure per-row steps (distinct numbers, distinct cells,
templates per distinct placeholder values). Hypothesis builds frames a spreadsheet user could
send: numbers in several spellings (valid, invalid, national without region, spreadsheet
floats), blanks and NaN, repeated callees, template columns with empty or unreadable values and
out-of-range numbers; the plan must equal the one the per-row path makes, row for row.
"""
from __future__ import annotations

import json
import math
from functools import partial
from unittest import mock

import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from cmvoice_nb.campaign.plan import _api as plan_module, plan_campaign  # noqa: E402

from ._lists import CALLER, notification_defaults  # noqa: E402

_DIGITS = ["612345610", "612345611", "201234567", "687654321"]
_SPELLINGS = [
    lambda d: f"+31{d}",
    lambda d: f"0{d[0]} {d[1:5]} {d[5:]}",
    lambda d: f"0031{d}",
    lambda d: float(f"31{d}"),  # a spreadsheet's float
    lambda d: f"+31 (0){d[0]}-{d[1:]}",
    lambda d: int(f"31{d}"),
    lambda d: f"31{d}.0",
]
_ODD_NUMBERS = ["12345", "+31 6 12ab", "", "   ", None, math.nan, 3.5, True, "+33 6 12 34 56 78",
                "+32 470 12 34 56", "0470123456", "+999 1234", "0.0", -0.0, "+31612345610;+31612345611"]

numbers = st.one_of(
    st.builds(lambda d, s: s(d), st.sampled_from(_DIGITS), st.sampled_from(_SPELLINGS)),
    st.sampled_from(_ODD_NUMBERS),
)
names = st.sampled_from(["Ann", "Bob", "", "  ", None, math.nan, 3.0, 2.5, -0.0, 0.0, "x" * 520, "{brace}", True])
dates = st.sampled_from(["2024-05-03", "2024-12-31", "not a date", "", None, math.nan, 20240503])
replays = st.sampled_from([None, math.nan, 0, 2, 3, 4, -1, 2.0, 2.5, "2", "two", "", True, "3.0"])
prompt_types = st.sampled_from([None, "TTS", "tts", "File", "Speech", "", 1, math.nan])


@st.composite
def frames(draw):
    n = draw(st.integers(min_value=1, max_value=25))
    data = {"phone": draw(st.lists(numbers, min_size=n, max_size=n)),
            "name": draw(st.lists(names, min_size=n, max_size=n)),
            "date": draw(st.lists(dates, min_size=n, max_size=n))}
    if draw(st.booleans()):
        data["max-replays"] = draw(st.lists(replays, min_size=n, max_size=n))
    if draw(st.booleans()):
        data["prompt-type"] = draw(st.lists(prompt_types, min_size=n, max_size=n))
    if draw(st.booleans()):
        data["voice.language"] = draw(st.lists(st.sampled_from(["nl-NL", "en-GB", "", None, 7]),
                                               min_size=n, max_size=n))
    frame = pd.DataFrame(data, dtype=object)
    if draw(st.booleans()):  # a repeated index label, as after a concat
        frame.index = [i % 3 for i in range(n)]
    return frame


def _row_view(plan):
    return [
        (r.position, r.label, r.instruction_id, r.callee, r.valid, r.content, r.occurrence, r.id_given,
         r.duplicate_of, r.dropped, r.suppressed,
         [(p.field, repr(p.value), p.message) for p in r.problems],
         r.payload, r.payload_hash)
        for r in plan.rows
    ]


def _both(frame, **options):
    fast = plan_campaign(frame, **options)
    # plan_campaign with its row planning swapped for the per-row path (same checks before and after)
    with mock.patch.object(plan_module, "_plan_rows", partial(plan_module._plan_rows, fast=False)):
        slow = plan_campaign(frame, **options)
    return fast, slow


_TEMPLATE_DEFAULTS = notification_defaults("Hello {name}, see you on {date:%d %B}",
                                           replay_prompt="Bye {name!s} {name:>4}")


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames(), region=st.sampled_from(["NL", None, "BE"]), style=st.sampled_from(["e164", "00"]),
       drop=st.booleans(), allowed=st.sampled_from([None, ("NL",), ("NL", "BE")]))
def test_fast_planner_gives_the_rows_the_per_row_path_gives(frame, region, style, drop, allowed):
    fast, slow = _both(frame, app="notification", name="fuzz", campaign_key="abcd1234", region=region,
                       number_style=style, drop_duplicates=drop, allowed_countries=allowed,
                       columns={"callee": "phone"}, defaults=_TEMPLATE_DEFAULTS)
    assert _row_view(fast) == _row_view(slow)
    pd.testing.assert_frame_equal(fast.problems, slow.problems)
    assert fast.summary().equals(slow.summary())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames())
def test_fast_planner_matches_on_a_dtmf_frame_with_ranges_and_a_callees_list(frame):
    frame = frame.assign(callees=frame["phone"],
                         digits=[(-1, 1, 5, 100, "5", None, 2.0)[i % 7] for i in range(len(frame))])
    fast, slow = _both(frame, app="dtmf", name="fuzz", campaign_key="abcd1234", region="NL",
                       columns={"callees": "callees", "max-digits": "digits"},
                       defaults={"caller": CALLER, "prompt": "Press {name}", "prompt-type": "TTS",
                                 "timeout": 500, "min-digits": 1})
    assert _row_view(fast) == _row_view(slow)


_LOCALE_DEFAULTS = notification_defaults("Beste {name}, op {datum:%A %-d %B} betaalt u {bedrag:,.2f} "
                                         "({bedrag:currency:EUR})")


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames(),
       countries=st.lists(st.sampled_from(["NL", "DE", "be", "België", "Duitsland", "Holand", "", None, 7, "UK"]),
                          min_size=25, max_size=25),
       amounts=st.lists(st.sampled_from(["12,50", "1.250,00", "7", "", None, "abc", 3.5, "12.50", "-€ 3,00"]),
                        min_size=25, max_size=25),
       days=st.lists(st.sampled_from(["09-12-2025", "13-12-2025", "2025-12-09", "31-02-2025", "", None, "45998"]),
                     min_size=25, max_size=25),
       national=st.lists(st.sampled_from(["030 2345678", "0470 12 34 56", "06 12345610",
                                          "+31612345611", "0151 23456789"]),
                         min_size=25, max_size=25),
       region=st.sampled_from(["NL", None]))
def test_per_row_countries_and_column_typed_templates_are_planned_as_the_per_row_path_plans_them(
        frame, countries, amounts, days, national, region):
    n = len(frame)
    frame = frame.assign(land=countries[:n], bedrag=amounts[:n], datum=days[:n],
                         phone=[p if i % 2 else national[i] for i, p in enumerate(frame["phone"])])
    fast, slow = _both(frame, app="notification", name="fuzz", campaign_key="abcd1234", region=region,
                       columns={"callee": "phone", "region": "land"}, defaults=_LOCALE_DEFAULTS, dayfirst=True,
                       decimal=",")
    assert _row_view(fast) == _row_view(slow)
    pd.testing.assert_frame_equal(fast.problems, slow.problems)


def test_a_row_s_country_reads_its_national_number_and_a_blank_one_uses_the_default_region():
    frame = pd.DataFrame({"phone": ["030 2345678", "030 2345678", "030 2345678", "030 2345678"],
                          "land": ["DE", "", "Holand", "NL"]})
    plan = plan_campaign(frame, app="notification", name="c", region="NL",
                         columns={"callee": "phone", "region": "land"},
                         defaults=notification_defaults("Hi"))
    assert [r.callee for r in plan.rows] == ["+49302345678", "+31302345678", "030 2345678", "+31302345678"]
    problems = plan.problems
    assert problems[["row", "field", "value"]].values.tolist() == [[2, "region", "Holand"],
                                                                  [2, "callee", "030 2345678"]]


def test_a_repeated_invalid_number_reports_its_own_value_on_every_row():
    frame = pd.DataFrame({"phone": ["12345", "12345", 31612345610.0, "+31612345610"]})
    plan = plan_campaign(frame, app="notification", name="c", campaign_key="abcd1234", region="NL",
                         columns={"callee": "phone"},
                         defaults=notification_defaults("Hi"))
    problems = plan.problems
    assert problems["row"].tolist() == [0, 1]
    assert problems["message"].tolist() == ["not a phone number: too short to be a number"] * 2
    assert [r.callee for r in plan.rows[2:]] == ["+31612345610", "+31612345610"]
    assert plan.rows[3].duplicate_of == 2


def test_negative_zero_and_zero_are_not_confused_by_the_template_cache():
    frame = pd.DataFrame({"phone": ["+31612345610", "+31612345611"], "x": [0.0, -0.0]})
    plan = plan_campaign(frame, app="notification", name="c", campaign_key="abcd1234",
                         columns={"callee": "phone"},
                         defaults=notification_defaults("v={x:.1f}"))
    assert [i.prompt for i in plan.instructions] == ["v=0.0", "v=-0.0"]


# ---------------------------------------------------------------- the column-wise planner
def _typed(frame, kind):
    """*frame* with its columns in the dtypes pandas gives files read by other tools."""
    out = frame.copy()
    if kind == "string":
        return out.astype({c: "string" for c in out.columns if c != "phone"})
    if kind == "category":
        return out.astype({c: "category" for c in out.columns if c != "phone" and out[c].map(type).nunique() == 1})
    if kind == "numbers":
        digits = pd.Series([31612345610 + (i % 4) for i in range(len(out))], index=out.index)
        return out.assign(phone=digits.astype("int64"), name=digits.astype("float64") / 10)
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames(), kind=st.sampled_from(["string", "category", "numbers"]))
def test_columns_of_any_dtype_are_planned_as_the_per_row_path_plans_them(frame, kind):
    frame = _typed(frame, kind)
    fast, slow = _both(frame, app="notification", name="fuzz", campaign_key="abcd1234", region="NL",
                       columns={"callee": "phone"}, defaults=_TEMPLATE_DEFAULTS)
    assert _row_view(fast) == _row_view(slow)


def test_a_date_column_fills_its_template_as_the_per_row_path_does():
    frame = pd.DataFrame({"phone": ["+31612345610", "+31612345611", "+31612345612", "+31612345613"],
                          "when": pd.to_datetime(["2024-05-03 00:00", "2024-05-03 00:00", None, "2024-12-31 08:30"]),
                          "tz_when": pd.to_datetime(["2024-05-03"] * 4).tz_localize("Europe/Amsterdam"),
                          "count": pd.array([1, None, 3, 3], dtype="Int64")})
    fast, slow = _both(frame, app="notification", name="d", campaign_key="abcd1234", columns={"callee": "phone"},
                       defaults=notification_defaults("On {when:%d %B %H:%M} ({tz_when}) x{count}"))
    assert _row_view(fast) == _row_view(slow)
    assert fast.rows[0].instruction.prompt == "On 03 May 00:00 (3 May 2024) x1"  # a real date: the long date


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames(), codes=st.lists(st.sampled_from(["123456", "12a4", "ab!", "", None, 123456, "x" * 20]),
                                      min_size=25, max_size=25),
       ids=st.lists(st.sampled_from(["order-1", "order-2", "", None, "x" * 65, "ïd-ünicode", 7, 7.0, "order-1"]),
                    min_size=25, max_size=25))
def test_an_otp_list_with_its_own_code_and_id_per_row_matches_the_per_row_path(frame, codes, ids):
    frame = frame.assign(code=codes[: len(frame)], ref=ids[: len(frame)])
    fast, slow = _both(frame, app="otp", name="fuzz", campaign_key="abcd1234", region="NL",
                       columns={"callee": "phone", "code": "code", "instruction-id": "ref"},
                       defaults={"caller": CALLER, "code-type": "Custom", "voice": {"language": "nl-NL"}})
    assert _row_view(fast) == _row_view(slow)
    pd.testing.assert_frame_equal(fast.problems, slow.problems)


def test_rows_of_different_people_share_one_group_and_hold_no_object_per_row():
    frame = pd.DataFrame({"phone": [f"+3161234{i:04d}" for i in range(200)], "name": [f"Ann {i}" for i in range(200)]})
    plan = plan_campaign(frame, app="notification", name="c", campaign_key="abcd1234", columns={"callee": "phone"},
                         defaults=notification_defaults("Hi {name}"))
    assert plan.rows.explicit() == {}  # every row held in the columns
    assert set(plan.rows.columns()["group"].tolist()) == {0}  # one instruction built and validated for all
    row = plan.rows[3]
    assert row._instruction is None  # a view: its instruction is built when asked for
    assert row.instruction.callee == "+31612340003" and row.instruction.prompt == "Hi Ann 3"
    assert row.payload == json.dumps(row.instruction.to_json(), ensure_ascii=False).encode()
    assert row.callee_list() == ["+31612340003"]


def test_a_prompt_holding_the_planners_placeholder_characters_is_still_sent_as_written():
    odd = "Hi \ue000cmvoice number\ue001 and \ue000cmvoice id\ue001"
    frame = pd.DataFrame({"phone": ["+31612345610", "+31612345611"]})
    fast, slow = _both(frame, app="notification", name="c", campaign_key="abcd1234", columns={"callee": "phone"},
                       defaults=notification_defaults(odd))
    assert _row_view(fast) == _row_view(slow)
    assert json.loads(fast.rows[1].payload)["prompt"] == odd


@pytest.mark.filterwarnings("ignore:DataFrame columns are not unique")
def test_a_frame_with_a_repeated_column_name_is_planned_row_by_row():
    frame = pd.DataFrame([["+31612345610", "Ann", "x"], ["0612345611", "Bob", "y"]], columns=["phone", "name", "name"])
    fast, slow = _both(frame, app="notification", name="c", campaign_key="abcd1234", region="NL",
                       columns={"callee": "phone"},
                       defaults=notification_defaults("Hi"))
    assert _row_view(fast) == _row_view(slow)


def test_rekeying_a_column_wise_plan_gives_the_per_row_plans_rekeyed_rows():
    frame = pd.DataFrame({"phone": ["+31612345610", "0612345611", "+31612345610", "bad"], "name": ["A", "B", "C", "D"],
                          "date": ["2024-05-03"] * 4})
    fast, slow = _both(frame, app="notification", name="c", campaign_key="abcd1234", region="NL",
                       columns={"callee": "phone"}, defaults=_TEMPLATE_DEFAULTS)
    assert _row_view(fast.rekey("ffff0000")) == _row_view(slow.rekey("ffff0000"))
    assert fast.rekey("ffff0000").rows[0].instruction.instruction_id == "c-ffff0000-31612345610-1"


def test_numpy_scalars_held_in_an_object_column_are_read_as_python_values():
    import numpy as np

    frame = pd.DataFrame({"phone": pd.Series([np.float64(31612345610.0), np.int64(31612345611), "0612345612",
                                              np.float64(31612345610.0), np.float64(0.5)], dtype=object),
                          "name": pd.Series([np.float64(2.0), 2.0, np.int64(2), True, np.bool_(True)], dtype=object),
                          "date": ["2024-05-03"] * 5})
    fast, slow = _both(frame, app="notification", name="c", campaign_key="abcd1234", region="NL",
                       columns={"callee": "phone"}, defaults=_TEMPLATE_DEFAULTS)
    assert _row_view(fast) == _row_view(slow)


def test_cells_share_a_code_only_when_the_planner_cannot_tell_them_apart():
    import numpy as np

    from cmvoice_nb.campaign.plan._cells import codes as _codes

    mixed = pd.Series([1.0, math.nan, 1.0, "1.0", 1, True, -0.0, 0.0, None, pd.NA, None, "1.0"], dtype=object)
    codes = _codes(mixed).tolist()
    assert codes[0] == codes[2] and codes[3] == codes[11] and codes[8] == codes[10]
    assert len({codes[i] for i in (0, 1, 3, 4, 5, 6, 7, 8, 9)}) == 9  # 1.0, nan, "1.0", 1, True, -0.0, 0.0, None, NA
    text_with_gaps = pd.Series(["a", None, "a", None], dtype="string")
    assert _codes(text_with_gaps).tolist() == [0, 1, 0, 1]
    assert _codes(pd.Series([0.0, -0.0, 0.0])).tolist() == [0, 1, 0]
    assert _codes(pd.Series(pd.to_datetime(["2024-01-01", None, "2024-01-01"]))).tolist() == [0, 1, 0]
    assert _codes(pd.Series(np.array([3, 3, 4], dtype=np.int64))).tolist() == [0, 0, 1]


def test_text_that_is_not_valid_unicode_is_a_problem_of_its_row_not_a_crash():
    # a lone surrogate, as a damaged file or a broken escape leaves: it could never be sent as UTF-8
    frame = pd.DataFrame({"phone": ["+31612345610", "+31612345611", "+31612345612"],
                          "ref": ["ok-1", "bad-\ud800", "ok-3"], "name": ["Ann", "Bob", "Cas\udc00"]}, dtype=object)
    fast, slow = _both(frame, app="notification", name="c", campaign_key="abcd1234",
                       columns={"callee": "phone", "instruction-id": "ref"},
                       defaults=notification_defaults("Hi {name}"))
    assert _row_view(fast) == _row_view(slow)
    assert [r.valid for r in fast.rows] == [True, False, False]
    assert list(fast.problems["field"]) == ["instruction-id", "prompt"]
    assert all("not valid Unicode" in m for m in fast.problems["message"])
    assert fast.rows[0].payload.decode().startswith('{"instruction-id": "ok-1"')


# ---------------------------------------------------------------- lists of different people
_FIRST = ["Anne", "Jörg", "Émile", "Zoë", "O'Neill", 'Dirk "DJ"', "back\\slash", "  Bram  ", "Ann\nMarie", "", "   ",
          None, math.nan, "x" * 490, "Ø", "\u00a0Eva", "Kees\u3000", "\x1cLot", 2.5, 7]
_SPELL = [lambda d: f"+31{d}", lambda d: f"0{d[0]} {d[1:5]} {d[5:]}", lambda d: f"0031{d}", lambda d: f"06-{d[1:]}",
          lambda d: f"+31 (0){d[0]} {d[1:]}", lambda d: f" +31{d}\t", lambda d: f"\n0{d}"]
_COUNTRIES = ["NL", "DE", "BE", "", None, "Duitsland", "Holand", "nl"]
_DATES = ["09-12-2025", "13-12-2025", "31-02-2025", "", None, "2025-12-09", "zondag"]
_TEMPLATES = ["Beste {naam}", " Beste {naam}, op {datum:%-d %B} betaalt u {bedrag:currency:EUR}. ",
              "{naam}", "{naam} {naam}", "Hallo {naam},\n{bedrag:,.2f} \"euro\"", "{bedrag:.2f} voor {naam}{naam}",
              "{datum:date:long}: {naam!r}", "Dag {naam:>12}!", "{naam}\t"]


@st.composite
def people(draw):
    """A list where every row is a different person: own number (several spellings, per-row country), name, amount."""
    n = draw(st.integers(min_value=1, max_value=40))
    rows = []
    for i in range(n):
        digits = f"6{20_000_000 + i * 7919 % 10_000_000:08d}"
        kind = draw(st.integers(min_value=0, max_value=99))
        if kind == 0:
            phone = draw(st.sampled_from(["12345", "+31 6 12ab", "", None, "+999 1234", "3.16123E+10"]))
        elif kind == 1:  # a German or Belgian national number, read in the row's own country
            phone = draw(st.sampled_from(["030 2345678", "0470 12 34 56", "0151 23456789"]))
        else:
            phone = draw(st.sampled_from(_SPELL))(digits)
        name = draw(st.sampled_from(_FIRST))
        name = name if not isinstance(name, str) or not name.strip() or draw(st.booleans()) else f"{name} {i}"
        cents = draw(st.integers(min_value=0, max_value=250_000_00))
        amount = draw(st.sampled_from([f"{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d}", "abc", "",
                                       f"{cents // 100},{cents % 100:02d}"]))
        rows.append({"telefoon": phone, "naam": name, "bedrag": amount, "datum": draw(st.sampled_from(_DATES)),
                     "land": draw(st.sampled_from(_COUNTRIES)),
                     "taal": draw(st.sampled_from(["nl-NL", "de-DE", "en-GB", "fr-FR", "", "xx"]))})
    frame = pd.DataFrame(rows)
    if draw(st.booleans()):
        frame = frame.astype(object)
    if draw(st.booleans()):  # some rows bring their own text
        frame["tekst"] = [draw(st.sampled_from([None, "", "Eigen tekst", " spaties ", "x" * 501, 3.0, 7]))
                          for _ in range(n)]
    if draw(st.booleans()):
        frame["ref"] = [draw(st.sampled_from([None, f"klant-{i}", " k ", "x" * 65, "dup"])) for i in range(n)]
    return frame


@pytest.mark.slow
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(frame=people(), prompt=st.sampled_from(_TEMPLATES), replay=st.sampled_from([None] + _TEMPLATES),
       language=st.sampled_from(["nl-NL", "de-DE", None]), region=st.sampled_from(["NL", None]),
       style=st.sampled_from(["e164", "00"]), drop=st.booleans(), allowed=st.sampled_from([None, ("NL", "DE")]))
def test_a_list_of_different_people_is_planned_column_wise_as_the_per_row_path_plans_it(
        frame, prompt, replay, language, region, style, drop, allowed):
    columns = {"callee": "telefoon", "region": "land", "voice.language": "taal"}
    if "tekst" in frame.columns:
        columns["prompt"] = "tekst"
    if "ref" in frame.columns:
        columns["instruction-id"] = "ref"
    defaults = {"caller": "+31201234567", "prompt": prompt, "prompt-type": "TTS"}
    if replay is not None:
        defaults["replay-prompt"] = replay
    if language is not None:
        defaults["voice"] = {"language": language}
    fast, slow = _both(frame, app="notification", name="mensen", campaign_key="abcd1234", region=region,
                       number_style=style, drop_duplicates=drop, allowed_countries=allowed, columns=columns,
                       defaults=defaults, dayfirst=True, decimal=",")
    assert _row_view(fast) == _row_view(slow)
    pd.testing.assert_frame_equal(fast.problems, slow.problems)
    assert fast.summary().equals(slow.summary())
    assert list(fast.rows.registration()) == list(slow.rows.registration())
    assert _row_view(fast.rekey("ffff0000")) == _row_view(slow.rekey("ffff0000"))


def test_a_distinct_list_in_one_voice_is_held_in_columns_but_its_invalid_rows_say_why():
    frame = pd.DataFrame({"telefoon": [f"06-{12345000 + i}" for i in range(99)] + ["12345"],
                          "naam": [f"Klant {i}" for i in range(100)]})
    plan = plan_campaign(frame, app="notification", name="c", campaign_key="abcd1234", region="NL",
                         columns={"callee": "telefoon"},
                         defaults={"caller": "+31201234567", "prompt": "Beste {naam}", "prompt-type": "TTS"})
    assert plan.rows.explicit() == {} and plan.summary()["invalid"] == 1
    assert plan.problems[["row", "field", "value", "message"]].values.tolist() == [
        [99, "callee", "12345", "not a phone number: too short to be a number"]]
    assert plan.rows[99].callee == "12345" and plan.rows[99].instruction.callee is None


def test_the_planners_whitespace_is_pythons_for_every_character():
    import sys

    import pyarrow as pa

    from cmvoice_nb.campaign.plan._cells import blank_mask, stripped_mask

    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    texts = pa.array(chars, type=pa.large_string())
    assert blank_mask(texts).tolist() == [c.isspace() for c in chars]
    padded = pa.array([f"a{c}" for c in chars] + [f"{c}a" for c in chars], type=pa.large_string())
    assert stripped_mask(padded).tolist() == [t.strip() == t for t in padded.to_pylist()]


_LOCALE_TEMPLATES = ["Beste {naam}, op {datum:%A %-d %B %Y} betaalt u {bedrag:currency:EUR}.",
                     "{naam}: {bedrag:,.2f} op {datum:date:full}", "{datum:datetime:short} {bedrag:.0f} {naam}",
                     "{bedrag:number} / {bedrag:percent} / {bedrag:currency:GBP:name}", "{datum:%d.%m.%y} {naam:>30}",
                     "{bedrag:currency:JPY} {bedrag:,.3f} {datum:date:short}", "{naam}, {bedrag:currency:EUR}"]
_WRITTEN_DATES = {"dmy": "%d-%m-%Y", "mdy": "%m/%d/%Y", "iso": "%Y-%m-%d", "dots": "%d.%m.%Y"}


@st.composite
def dated_people(draw):
    """``(frame, options)``: different people with a date and an amount each, as one spreadsheet writes them.

    The options say the column's date order and decimal sign (or leave them to be told from the
    column), most often as the column is written, sometimes not (its rows then do not fit).
    """
    import datetime as dt

    n = draw(st.integers(min_value=1, max_value=30))
    order = draw(st.sampled_from(sorted(_WRITTEN_DATES)))
    sign = draw(st.sampled_from([",", "."]))
    group = "." if sign == "," else ","
    rows = []
    for i in range(n):
        day = draw(st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 12, 31)))
        written = day.strftime(_WRITTEN_DATES[order])
        cents = draw(st.integers(min_value=0, max_value=10 ** 11))
        whole = f"{cents // 100:,}".replace(",", group) if draw(st.booleans()) else str(cents // 100)
        amount = whole + (f"{sign}{cents % 100:02d}" if draw(st.booleans()) else "")
        odd = draw(st.integers(min_value=0, max_value=29))
        if odd == 0:
            amount = draw(st.sampled_from(["abc", "", None, f"-{amount}", f"€ {amount}", "1,250", "0,125", "12.5"]))
        elif odd == 1:
            written = draw(st.sampled_from(["", None, "31-02-2025", "zondag", "2025-12-09", "45998"]))
        rows.append({"telefoon": draw(st.sampled_from(_SPELL))(f"6{30_000_000 + i * 7919 % 10_000_000:08d}"),
                     "naam": f"{draw(st.sampled_from(['Anne', 'Jörg', 'Zoë', 'O’Neill']))} {i}",
                     "datum": written, "bedrag": amount,
                     "taal": draw(st.sampled_from(["nl-NL", "de-DE", "en-GB", "fr-FR", "pl-PL", ""]))})
    frame = pd.DataFrame(rows)
    if draw(st.booleans()):
        frame = frame.astype(object)
    said = draw(st.integers(min_value=0, max_value=5))  # 0-2: told from the column; 3-4: as written; 5: not
    options = {"dayfirst": None, "decimal": None, "date_format": None}
    if said in (3, 4):
        options["decimal"] = sign
        if draw(st.booleans()):
            options["date_format"] = _WRITTEN_DATES[order]
        elif order != "iso":
            options["dayfirst"] = order != "mdy"
    elif said == 5:
        options.update(decimal=group, dayfirst=order == "mdy", date_format=draw(st.sampled_from([None, "%d-%m-%Y"])))
    return frame, options


@pytest.mark.slow
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=dated_people(), prompt=st.sampled_from(_LOCALE_TEMPLATES))
def test_different_people_with_locale_dates_and_amounts_are_planned_as_the_per_row_path_plans_them(case, prompt):
    from cmvoice_nb.errors import CampaignError

    frame, said = case
    options = dict(app="notification", name="mensen", campaign_key="abcd1234", region="NL",
                   columns={"callee": "telefoon", "voice.language": "taal"},
                   defaults={"caller": "+31201234567", "prompt": prompt, "prompt-type": "TTS"}, **said)
    try:
        fast = plan_campaign(frame, **options)
    except CampaignError as exc:  # a column that cannot be decided: refused alike by both paths
        with mock.patch.object(plan_module, "_plan_rows", partial(plan_module._plan_rows, fast=False)):
            with pytest.raises(CampaignError) as refused:
                plan_campaign(frame, **options)
        assert str(refused.value) == str(exc)
        return
    with mock.patch.object(plan_module, "_plan_rows", partial(plan_module._plan_rows, fast=False)):
        slow = plan_campaign(frame, **options)
    assert _row_view(fast) == _row_view(slow)
    pd.testing.assert_frame_equal(fast.problems, slow.problems)
    assert list(fast.rows.registration()) == list(slow.rows.registration())
