"""A plan does not change once it is made: frozen rows, payloads from frozen columns, hashes computed once."""
from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Sequence

import pandas as pd
import pytest

from cmvoice_nb.campaign import CampaignPlan, plan_campaign
from cmvoice_nb.campaign.ops.suppress import apply_suppression
from cmvoice_nb.campaign.plan import RowPlan
from cmvoice_nb.campaign.plan._table import PlanRows
from cmvoice_nb.instructions import instruction_from_json
from cmvoice_nb.wire import encode_body, instruction_hash

from ._lists import notification_defaults

DEFAULTS = notification_defaults("Hallo {naam}")


def _plan(**options):
    # a ';' list's text cells, as read_table gives them: a repeated callee and an unreadable number
    frame = pd.DataFrame({"telefoon": ["06 1234 5610", "+31612345611", "0031 6 1234 5610", "12345"],
                          "naam": ["Anne", "Jörg", "Anne", "Bob"]}, dtype=object)
    return plan_campaign(frame, app="notification", name="lente", region="NL", campaign_key="aaaa0000",
                         columns={"callee": "telefoon"}, defaults=DEFAULTS, **options)


def test_a_planned_row_refuses_every_change_and_says_how_to_make_a_changed_copy():
    row = _plan().rows[0]
    for name, value in [("dropped", True), ("suppressed", "listed"), ("instruction_id", "x"), ("payload", b"{}"),
                        ("payload_hash", "0" * 64), ("instruction", None), ("problems", [])]:
        with pytest.raises(AttributeError, match=rf"row.replace\({name}=\.\.\.\)"):
            setattr(row, name, value)
    with pytest.raises(AttributeError):
        del row.callee
    assert row.frozen and not row.dropped and row.instruction_id == "lente-aaaa0000-31612345610-1"


def test_a_planned_rows_problems_are_a_tuple_nobody_can_add_to():
    plan = _plan()
    bad = plan.rows[3]
    assert isinstance(bad.problems, tuple) and [p.field for p in bad.problems] == ["callee"]
    with pytest.raises(AttributeError):
        bad.problems.append(bad.problems[0])
    assert plan.rows[0].problems == () and len(plan.problems) == 1


def test_the_plan_itself_refuses_changes_and_holds_its_rows_and_options_read_only():
    plan = _plan()
    with pytest.raises(AttributeError, match=r"plan.replace\(campaign_key=\.\.\.\)"):
        plan.campaign_key = "bbbb1111"
    with pytest.raises(TypeError):
        plan.options["region"] = "DE"
    with pytest.raises(TypeError):
        plan.rows[0] = plan.rows[1]
    assert isinstance(plan.rows, Sequence) and plan.rows[-1].position == 3 and plan.options["region"] == "NL"
    assert isinstance(plan.rows[1:3], tuple) and [r.position for r in plan.rows[1:3]] == [1, 2]
    with pytest.raises(ValueError):  # the plan's columns are read-only
        plan.rows.columns()["dropped"][0] = True
    assert not plan.rows[0].dropped


def test_duplicates_are_marked_before_the_rows_freeze():
    plan = _plan(drop_duplicates=True)
    assert [(r.duplicate_of, r.dropped) for r in plan.rows] == [(None, False), (None, False), (0, True), (None, False)]
    assert all(r.frozen for r in plan.rows)


def test_a_column_rows_payload_is_made_from_frozen_columns_and_its_hash_computed_once(monkeypatch):
    plan = _plan()
    assert plan.rows.explicit() == {}  # every row, the unreadable number too, is held in the columns
    row = plan.rows[1]
    assert row._group is plan.rows and row._payload is None  # a view: nothing per row built while planning
    blocks = []
    compute = PlanRows._hash_block
    monkeypatch.setattr(PlanRows, "_hash_block", lambda self, block: blocks.append(block) or compute(self, block))
    first, first_hash = row.payload, row.payload_hash
    assert row.payload is first and row.payload_hash is first_hash  # a view keeps what it was given
    again = plan.rows[1]  # a new view of the same row: the same bytes, made again; the kept hash
    assert again is not row and again.payload == first and again.payload_hash == first_hash
    assert [r.payload_hash for r in plan.rows] and blocks == [0]  # every row's hash: computed once, in one block
    wire = json.loads(first)
    assert first == encode_body(wire) and first_hash == instruction_hash(wire)
    assert wire["callee"] == "+31612345611" and wire["prompt"] == "Hallo Jörg"


def test_rekey_makes_a_new_plan_with_new_rows_and_leaves_the_old_one_as_it_was():
    plan = _plan()
    old = [(r.instruction_id, r.payload, r.payload_hash) for r in plan.rows]
    again = plan.rekey("bbbb1111")
    assert [(r.instruction_id, r.payload, r.payload_hash) for r in plan.rows] == old
    assert again.rows[0] is not plan.rows[0] and all(r.frozen for r in again.rows)
    assert again.rows[1].instruction_id == "lente-bbbb1111-31612345611-1"
    assert json.loads(again.rows[1].payload)["instruction-id"] == "lente-bbbb1111-31612345611-1"
    assert again.rows[1].payload_hash != plan.rows[1].payload_hash
    assert again.campaign_key == "bbbb1111" and plan.campaign_key == "aaaa0000"


def test_suppression_makes_a_new_plan_and_the_planned_rows_stay_unsuppressed():
    plan = _plan()
    held = apply_suppression(plan, ["0612345611"], region="NL")
    assert [r.suppressed is not None for r in held.rows] == [False, True, False, False]
    assert [r.suppressed for r in plan.rows] == [None] * 4 and "suppress" not in plan.options
    assert all(r.frozen for r in held.rows) and held.rows[1].payload == plan.rows[1].payload


def test_replace_changes_only_the_copy_and_a_new_id_gives_the_payload_the_new_id():
    plan = _plan()
    row = plan.rows[0]
    renamed = row.replace(instruction_id="eigen-1")
    assert renamed.frozen and row.instruction_id == "lente-aaaa0000-31612345610-1"
    assert json.loads(renamed.payload)["instruction-id"] == "eigen-1"
    assert renamed.instruction.instruction_id == "eigen-1" and row.instruction.instruction_id != "eigen-1"
    with pytest.raises(TypeError, match="no attribute colour"):
        row.replace(colour="red")
    with pytest.raises(TypeError, match="no attribute colour"):
        plan.replace(colour="red")


def test_a_copied_row_is_open_and_the_plan_that_takes_it_freezes_it():
    plan = _plan()
    copied = copy.copy(plan.rows[0])
    copied.suppressed = "listed"
    copied.problems.append(plan.rows[3].problems[0])
    assert not copied.frozen and plan.rows[0].problems == () and plan.rows[0].suppressed is None
    newer = plan.replace(rows=(copied,) + plan.rows[1:])
    assert newer.rows[0] is copied and copied.frozen and not copied.valid and copied.payload is None


def test_a_row_made_with_its_own_payload_keeps_those_bytes_when_its_plan_freezes_it():
    wire = {"instruction-id": "w-2", "callee": "+31612345610", "caller": "+31201234567", "prompt": "Hi",
            "prompt-type": "TTS"}
    row = RowPlan(0, 0, "w-2", "+31612345610", instruction_from_json("notification", wire), id_given=True, wave=2)
    stored = (b'{"instruction-id":"w-2","callee":"+31612345610","caller":"+31201234567","prompt":"Hi",'
              b'"prompt-type":"TTS"}')
    row.payload, row.payload_hash = stored, instruction_hash(wire)
    plan = CampaignPlan(name="w", app="notification", index=pd.RangeIndex(1), rows=[row])
    assert plan.rows[0] is row and row.frozen and row.payload is stored


def test_a_frozen_row_survives_pickle_and_deepcopy_frozen_and_equal():
    row = _plan().rows[1]
    _ = row.payload  # filled and kept
    for again in (pickle.loads(pickle.dumps(row)), copy.deepcopy(row)):
        assert again.frozen and again == row and again.payload == row.payload
        with pytest.raises(AttributeError):
            again.dropped = True


def test_a_plan_survives_pickle_and_deepcopy_as_a_plan_that_does_not_change():
    plan = _plan(drop_duplicates=True)
    for again in (pickle.loads(pickle.dumps(plan)), copy.deepcopy(plan)):
        assert again.summary().equals(plan.summary()) and again.options == plan.options
        assert [r.payload for r in again.rows] == [r.payload for r in plan.rows]
        assert [r.payload_hash for r in again.rows] == [r.payload_hash for r in plan.rows]
        with pytest.raises(ValueError):  # its columns are as read-only as the original's
            again.rows.columns()["dropped"][0] = True
        with pytest.raises(AttributeError):
            again.name = "other"
