"""An A/B plan keeps its rows as columns and gives exactly the rows taking each from its variant's plan gives.

``plan_campaign(..., variants=..., holdout=...)`` plans the list once per variant and makes row *i*
from its person's variant's plan. The rows stay columns (each row's variant a small code); the
per-row combination (``plan_with_variants(..., reference=True)``) is what they are checked
against, on fuzzed frames: different and repeated people, invalid numbers, variants that replace
a column or make a row invalid, a holdout, a do-not-call list, and the per-row planner underneath.
"""
from __future__ import annotations

import math
import pickle
from functools import partial
from unittest import mock

import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from cmvoice_nb.campaign import Journal, plan_campaign  # noqa: E402
from cmvoice_nb.campaign.plan import _api as plan_module, _variants, assign, content_key  # noqa: E402
from cmvoice_nb.campaign.plan._abrows import assign_many, combine_rows, people_of  # noqa: E402

from ._lists import notification_defaults  # noqa: E402
from .test_plan_fast import frames  # noqa: E402

_DEFAULTS = notification_defaults("Hello {name}, see you on {date:%d %B}", replay_prompt="Bye {name!s}")

#: Designs a campaign operator could give: texts per variant, a variant replacing a column of the list
#: (language, replays), one whose prompt is too long (its rows invalid), JSON-escaped text, a voice.
DESIGNS = [
    {"A": {}, "B": {"prompt": "Goedemiddag {name}"}},
    {"A": {"prompt": "Hallo {name}"}, "B": {"prompt": "Hi \"{name}\" \\ {date:%d %B}", "voice.gender": "Male"},
     "C": {"prompt": "Plain text for everyone"}},
    {"A": {"voice.language": "de-DE"}, "B": {"max-replays": 2}},
    {"A": {}, "B": {"prompt": "x" * 600}},
    {"A": {"prompt": "{name}"}, "B": {"replay-prompt": "Tot ziens {name:>4}", "prompt-type": "TTS"}},
    {"A": {"prompt": "Only one variant {name}"}},
]


def _ab(frame, *, reference: bool, per_row_planning: bool, **options):
    """The A/B plan of *frame*: rows as columns, or (*reference*) taken one by one from the variants' plans."""
    patches = [mock.patch.object(plan_module, "plan_with_variants",
                                 partial(_variants.plan_with_variants, reference=reference))]
    if per_row_planning:
        patches.append(mock.patch.object(plan_module, "_plan_rows", partial(plan_module._plan_rows, fast=False)))
    with patches[0]:
        if len(patches) == 1:
            return plan_campaign(frame, **options)
        with patches[1]:
            return plan_campaign(frame, **options)


def _everything(plan, *, frames: bool = True) -> dict:
    """All a consumer reads of an A/B plan: every row's facts and bytes, the journal's rows, the frames."""
    rows = [(r.position, r.label, r.instruction_id, r.callee, r.valid, r.sendable, r.content, r.occurrence,
             r.id_given, r.duplicate_of, r.dropped, r.suppressed, r.variant, r.wave, r.base_id, r.ended,
             [(p.field, repr(p.value), p.message) for p in r.problems], r.problem_count,
             r.payload, r.payload_hash, r.wire(), r.callee_list(), r.prompt_files())
            for r in plan.rows]
    found = {
        "rows": rows,
        "registration": list(plan.rows.registration()),
        "variants stored": _variant_pairs(plan),
        "some registered": list(plan.rows.registration([r.position for r in plan.rows if r.sendable][::2])),
        "summary": plan.summary().to_dict(),
        "ids": plan.instruction_ids.tolist(),
        "options": dict(plan.options),
        "notes": plan.notes,
        "repr": repr(plan),
        "preview rows": plan.preview_rows,
    }
    if not frames:
        return found
    return {
        **found,
        "problems": plan.problems.to_dict("split"),
        "duplicates": plan.duplicates.to_dict("split"),
        "suppressed": plan.suppressed.to_dict("split"),
        "frame": plan.to_frame().to_dict("split"),
        "variant dtype": str(plan.to_frame()["variant"].dtype) if "variant" in plan.to_frame() else None,
        "preview": plan.preview(2).to_dict("split"),
    }


def _variant_pairs(plan) -> list:
    """What the sender stores of each row's variant: from the columns when the rows have them."""
    rows = plan.rows
    pairs = rows.variant_pairs() if hasattr(rows, "variant_pairs") else \
        ((r.base_id or r.instruction_id, r.variant) for r in rows)
    return [(i, v) for i, v in pairs if v is not None]


def _assert_same(columns, reference, *, frames: bool = True) -> None:
    mine, theirs = _everything(columns, frames=frames), _everything(reference, frames=frames)
    for key in theirs:
        assert mine[key] == theirs[key], key


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames(), design=st.sampled_from(DESIGNS), holdout=st.sampled_from([None, 0.0, 0.3, 0.9]),
       seed=st.integers(0, 5), region=st.sampled_from(["NL", None]), drop=st.booleans(),
       suppress=st.sampled_from([None, ["+31612345610"], ["0612345611", "+31687654321"]]),
       per_row_planning=st.booleans())
def test_an_ab_plan_held_as_columns_equals_the_rows_taken_one_by_one(frame, design, holdout, seed, region, drop,
                                                                     suppress, per_row_planning):
    options = dict(app="notification", name="fuzz", campaign_key="abcd1234", region=region, drop_duplicates=drop,
                   columns={"callee": "phone"}, defaults=_DEFAULTS, variants=design, holdout=holdout, seed=seed,
                   suppress=suppress, allow_unreadable_suppress=True)
    columns = _ab(frame, reference=False, per_row_planning=per_row_planning, **options)
    reference = _ab(frame, reference=True, per_row_planning=per_row_planning, **options)
    _assert_same(columns, reference)
    _assert_same(columns.rekey("ffff0000"), reference.rekey("ffff0000"))  # what send_campaign does first
    _assert_same(pickle.loads(pickle.dumps(columns)), reference)


def _people(n: int, *, repeat: int = 1) -> pd.DataFrame:
    numbers = [f"+3161234{i % (n // repeat or 1):04d}" for i in range(n)]
    return pd.DataFrame({"phone": numbers, "name": [f"P{i}" for i in range(n)],
                         "date": ["2024-05-03"] * n}, dtype=object)


def _options(**more) -> dict:
    return {"app": "notification", "name": "ab", "campaign_key": "abcd1234", "columns": {"callee": "phone"},
            "defaults": _DEFAULTS, "variants": DESIGNS[1], "holdout": 0.1, "seed": 7, **more}


def test_a_list_of_different_people_keeps_every_row_in_the_columns_with_a_variant_code():
    plan = plan_campaign(_people(3000), **_options())
    assert plan.rows.explicit() == {}  # no object held per row
    codes, names = plan.rows._variant
    assert names == ("A", "B", "C", "holdout") and codes.dtype.itemsize <= 4 and not codes.flags.writeable
    counts = plan.to_frame()["variant"].value_counts()
    assert set(counts.index) == {"A", "B", "C", "holdout"} and int(plan.summary()["holdout"]) == counts["holdout"]
    row = plan.rows[5]
    assert row._instruction is None and row.variant == names[codes[5]]
    assert row.instruction.prompt == {"A": "Hallo P5", "B": 'Hi "P5" \\ 03 May', "C": "Plain text for everyone",
                                      "holdout": "Hallo P5"}[row.variant]
    _assert_same(plan, _ab(_people(3000), reference=True, per_row_planning=False, **_options()))


def test_the_variants_stored_come_from_the_columns_as_each_row_says_them():
    plan = plan_campaign(_people(500, repeat=2), **_options(suppress=["+31612340007"]))
    one_by_one = [(r.base_id or r.instruction_id, r.variant) for r in plan.rows]
    assert list(plan.rows.variant_pairs()) == one_by_one and len(one_by_one) == 500
    assert all(v is not None for _, v in one_by_one)
    plain = plan_campaign(_people(50), **{**_options(), "variants": None, "holdout": None})
    assert list(plain.rows.variant_pairs()) == []  # no test: nothing to store, and no row looked at


def test_a_repeated_person_gets_one_variant_on_every_row():
    plan = plan_campaign(_people(600, repeat=3), **_options())
    frame = plan.to_frame()
    assert (frame.groupby("callee")["variant"].nunique() == 1).all()
    assert int(plan.summary()["duplicates"]) == 400


def test_the_journal_registers_and_keeps_the_same_rows_and_variants_from_the_columns(tmp_path):
    df = _people(400, repeat=2)
    stored = []
    for reference in (False, True):
        plan = _ab(df, reference=reference, per_row_planning=False, **_options(suppress=["+31612340007"]))
        with Journal(tmp_path / f"{reference}.sqlite") as j:
            # as send_campaign registers new rows and keeps each person's variant
            j.ensure_campaign(plan.name, app=plan.app)
            count = j.register(plan.name, plan.rows.registration())
            j.assign_variants(plan.name, ((r.base_id or r.instruction_id, r.variant) for r in plan.rows))
            table = j.to_frame(plan.name)
            table = table.drop(columns=[c for c in table.columns if c.endswith("_at")])
            stored.append((count, j.variants(plan.name), table.to_dict("split")))
    assert stored[0] == stored[1]
    assert stored[0][0] == int(plan.summary()["to_send"])


def test_plans_that_do_not_call_the_same_rows_are_not_combined_column_wise():
    first = plan_campaign(_people(10), **_options(variants=None, holdout=None))
    other = plan_campaign(_people(10).iloc[::-1].reset_index(drop=True), **_options(variants=None, holdout=None))
    import numpy as np

    zeros = np.zeros(10, dtype=np.int32)
    assert combine_rows([first.rows, other.rows], zeros, zeros, ("A", "holdout")) is None
    assert combine_rows([first.rows, first.rows], zeros, zeros, ("A", "holdout")) is not None


def test_a_person_written_in_a_cell_that_is_not_valid_unicode_is_assigned_from_its_own_callee():
    frame = pd.DataFrame({"phone": ["+31612340001", "bad\ud800number", "+31612340001", math.nan],
                          "name": ["a", "b", "c", "d"], "date": ["2024-05-03"] * 4}, dtype=object)
    columns = _ab(frame, reference=False, per_row_planning=False, **_options(holdout=0.5))
    reference = _ab(frame, reference=True, per_row_planning=False, **_options(holdout=0.5))
    # (the frames cannot hold that text: to_frame() and problems fail alike on both)
    _assert_same(columns, reference, frames=False)
    assert columns.rows[1].callee == "bad\ud800number" and not columns.rows[1].valid


@pytest.mark.parametrize("names", [("A",), ("A", "B"), ("A", "B", "C"), ("één", "B", "C", "D", "E", "F", "G")])
@pytest.mark.parametrize("holdout", [0.0, 0.1, 0.5, 0.999])
@pytest.mark.parametrize("seed", [7, -3, "voorjaar", "zeeën\ud800"])
def test_the_variants_of_many_people_are_the_ones_assign_gives_each(names, holdout, seed):
    people = [f"316{i:08d}" for i in range(0, 20_000_000, 997)] + ["none", "abc_def", "ïd", "\ud800x", ""]
    assert assign_many(people, names, holdout=holdout, seed=seed).tolist() == \
        [(names + ("holdout",)).index(assign(p, names, holdout=holdout, seed=seed)) for p in people]


def test_a_64_bit_hash_becomes_the_same_float_in_numpy_as_in_python():
    import numpy as np

    edges = [0, 1, 2**53 - 1, 2**53, 2**53 + 1, 2**53 + 2, 2**53 + 3, 2**63 - 1, 2**63, 2**63 + 1, 2**63 + 1023,
             2**63 + 1024, 2**63 + 1025, 2**63 + 3 * 1024, 2**64 - 1025, 2**64 - 1024, 2**64 - 1]
    rnd = np.random.default_rng(3).integers(0, 2**64 - 1, size=20_000, dtype=np.uint64, endpoint=True).tolist()
    for values in (edges, rnd):
        as_numpy = np.array(values, dtype=np.uint64).astype(">u8").astype(np.float64) / 2.0 ** 64
        assert as_numpy.tolist() == [v / 2.0 ** 64 for v in values]


@settings(max_examples=200, deadline=None)
@given(callees=st.lists(st.one_of(st.sampled_from(["", "00", "0", "000", "+", "+0012", "0031612345610", "12345",
                                                   "+31612345610;+31612345611", " 123", "٣١٢", "+31 6 12ab"]),
                                  st.text(alphabet="+0123456789 ;-()./a٣", max_size=12)), max_size=30))
def test_every_rows_person_read_column_wise_is_its_content_key(callees):
    import numpy as np

    from cmvoice_nb.campaign.plan._group import text_array
    from cmvoice_nb.campaign.plan._table import PlanRows

    n = len(callees)
    rows = PlanRows(index=pd.RangeIndex(n), group=np.zeros(n, dtype=np.int32), groups=(), ids=text_array(callees),
                    callees=text_array(callees), contents=text_array(callees), occurrence=np.ones(n, dtype=np.int64),
                    given=np.zeros(n, dtype=bool))
    assert people_of(rows).to_pylist() == [content_key(c) for c in callees]


def test_when_the_variants_plans_disagree_the_rows_are_taken_one_by_one_and_come_out_the_same():
    df = _people(300, repeat=3)
    columns = plan_campaign(df, **_options())
    with mock.patch.object(_variants, "combine_rows", lambda *args: None):  # as for plans that do not agree
        one_by_one = plan_campaign(df, **_options())
    assert len(one_by_one.rows.explicit()) == 300 and columns.rows.explicit() == {}
    _assert_same(columns, one_by_one)
