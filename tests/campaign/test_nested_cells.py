"""A nested Parquet cell (a list, a struct, a map, an array) is a problem of its row naming the field,
never text spoken or dialled as ``{'a': array([1, 2])}``. The Parquet files are written here."""
from __future__ import annotations

from functools import partial
from unittest import mock

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cmvoice_nb.campaign.inputs import cell_text, read_table
from cmvoice_nb.campaign.plan import _api as plan_module, plan_campaign

from ._lists import notification_defaults

DEFAULTS = notification_defaults(prompt=None)


@pytest.fixture
def nested_list(tmp_path):
    """Four people; their prompt, id, language and number columns hold every nested Parquet type."""
    table = pa.table({
        "callee": ["+31612345610", "+31612345611", "+31612345612", "+31612345613"],
        "greeting": pa.array([{"a": [1, 2]}, {"a": [3]}, {"a": []}, {"a": [4]}]),  # a struct of a list
        "tags": pa.array([["x", "y"], ["z"], [], ["w"]]),  # a list: numpy arrays in pandas
        "lang": pa.array([[("k", "nl-NL")], [], [("k", "en-GB")], []], type=pa.map_(pa.string(), pa.string())),
        "plain": ["Hello", "Hi", "Hey", "Yo"],
    })
    path = tmp_path / "people.parquet"
    pq.write_table(table, path)
    return path


def test_read_table_leaves_nested_cells_as_they_are_not_as_their_repr(nested_list):
    table = read_table(nested_list)
    first = table.iloc[0]
    assert first["tags"] == ["x", "y"] and isinstance(first["greeting"], dict) and first["plain"] == "Hello"
    struct = {"a": np.array([1, 2])}
    assert cell_text(struct) is struct and cell_text(np.array(["x", "y"])) == ["x", "y"]


@pytest.mark.parametrize("fast", [True, False], ids=["column-wise", "per-row"])
def test_a_nested_cell_is_a_problem_of_its_row_naming_the_field(nested_list, fast):
    table = read_table(nested_list)
    columns = {"prompt": "greeting", "instruction-id": "tags", "voice.language": "lang"}
    planner = partial(plan_module._plan_rows, fast=fast)
    with mock.patch.object(plan_module, "_plan_rows", planner):
        plan = plan_campaign(table, app="notification", name="c", columns=columns, defaults=DEFAULTS)
    problems = plan.problems
    first = table.index[0]  # Parquet rows are numbered as the planner names them
    by_field = {(row - first, field): message for row, field, message in problems[["row", "field", "message"]].values}
    assert by_field[(0, "prompt")] == "holds a nested value (dict): give one text value"
    assert by_field[(1, "instruction-id")] == "holds a nested value (list): give one text value"
    assert by_field[(2, "voice.language")] == "holds a nested value (list): give one text value"
    assert len(plan.instructions) == 0  # every row has a nested prompt
    assert not any("array(" in str(m) or "{'a'" in str(m) for m in problems["message"])


def test_a_parquet_list_of_numbers_fills_callees_and_a_list_of_lists_is_refused(tmp_path):
    table = pa.table({"numbers": pa.array([["+31612345620", "0612345621"], ["+31612345622"]]),
                      "plain": ["a", "b"]})
    pq.write_table(table, tmp_path / "p.parquet")
    frame = read_table(tmp_path / "p.parquet")
    frame.at[frame.index[1], "numbers"] = [np.array(["+31612345622"])]  # a list holding a list
    plan = plan_campaign(frame, app="dtmf", name="c", region="NL", columns={"callees": "numbers"},
                         defaults={**DEFAULTS, "prompt": "Press 1", "timeout": 5000, "min-digits": 1, "max-digits": 1,
                                   "max-attempts": 1})
    (instruction,) = plan.instructions
    assert instruction.callees == ["+31612345620", "+31612345621"]
    problem = plan.problems.to_dict("records")[0]
    assert problem["row"] == frame.index[1] and problem["field"] == "callees"
    assert problem["message"] == "holds a nested value (list): give one text value or several separated by ';'"


@pytest.mark.parametrize("cell", [{"+31612345620": 1}, {"+31612345620"}], ids=["struct", "set"])
def test_a_struct_or_set_never_fills_a_list_field(cell):
    from cmvoice_nb.campaign.plan._rows import cell_value
    from cmvoice_nb.spec import APPS

    with pytest.raises(ValueError, match="holds a nested value"):
        cell_value(APPS["dtmf"].field("callees"), cell)
