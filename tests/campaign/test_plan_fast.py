"""The fast planner gives the same rows as the plain per-row path, on fuzzed frames (issue 15).

:func:`plan_campaign` memoises its pure per-row steps (distinct numbers, distinct cells,
templates per distinct placeholder values). Hypothesis builds frames a spreadsheet user could
send: numbers in several spellings (valid, invalid, national without region, spreadsheet
floats), blanks and NaN, repeated callees, template columns with empty or unreadable values and
out-of-range numbers; the plan must equal the one the per-row path makes, row for row.
"""
from __future__ import annotations

import math
from functools import partial
from unittest import mock

import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cmvoice_nb.campaign import plan as plan_module  # noqa: E402
from cmvoice_nb.campaign.plan import plan_campaign  # noqa: E402

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
        data["voice.language"] = draw(st.lists(st.sampled_from(["nl-NL", "en-GB", "", None, 7]), min_size=n, max_size=n))
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


_TEMPLATE_DEFAULTS = {"caller": "+31201234567", "prompt": "Hello {name}, see you on {date:%d %B}",
                      "prompt-type": "TTS", "replay-prompt": "Bye {name!s} {name:>4}"}


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
    frame = frame.assign(callees=frame["phone"], digits=[(-1, 1, 5, 100, "5", None, 2.0)[i % 7] for i in range(len(frame))])
    fast, slow = _both(frame, app="dtmf", name="fuzz", campaign_key="abcd1234", region="NL",
                       columns={"callees": "callees", "max-digits": "digits"},
                       defaults={"caller": "+31201234567", "prompt": "Press {name}", "prompt-type": "TTS",
                                 "timeout": 500, "min-digits": 1})
    assert _row_view(fast) == _row_view(slow)


def test_a_repeated_invalid_number_reports_its_own_value_on_every_row():
    frame = pd.DataFrame({"phone": ["12345", "12345", 31612345610.0, "+31612345610"]})
    plan = plan_campaign(frame, app="notification", name="c", campaign_key="abcd1234", region="NL",
                         columns={"callee": "phone"},
                         defaults={"caller": "+31201234567", "prompt": "Hi", "prompt-type": "TTS"})
    problems = plan.problems
    assert problems["row"].tolist() == [0, 1]
    assert problems["message"].tolist() == ["not a phone number: too short to be a number"] * 2
    assert [r.callee for r in plan.rows[2:]] == ["+31612345610", "+31612345610"]
    assert plan.rows[3].duplicate_of == 2


def test_negative_zero_and_zero_are_not_confused_by_the_template_cache():
    frame = pd.DataFrame({"phone": ["+31612345610", "+31612345611"], "x": [0.0, -0.0]})
    plan = plan_campaign(frame, app="notification", name="c", campaign_key="abcd1234",
                         columns={"callee": "phone"},
                         defaults={"caller": "+31201234567", "prompt": "v={x:.1f}", "prompt-type": "TTS"})
    assert [i.prompt for i in plan.instructions] == ["v=0.0", "v=-0.0"]
