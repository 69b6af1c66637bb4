"""The public edges: exporting a loaded frame (save_calls) and defusing spreadsheet formulas."""
import pandas as pd
import pytest

from cmvoice_nb.callbacks.load import load_callbacks, save_calls
from cmvoice_nb.errors import CallbackError

from ._factory import callback, sample

# --- exports ---------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_exports_round_trip(tmp_path, suffix):
    items = sample()
    items[0]["customGrouping3"] = "spring"
    calls = load_callbacks(items)
    out = save_calls(calls, tmp_path / f"calls.{suffix}")
    again = load_callbacks(out)
    if suffix == "csv":
        # CSV cannot tell an empty string from a missing value: empty digits come back null.
        assert pd.isna(again.loc[3, "digits"]) and calls.loc[3, "digits"] == ""
        calls = calls.assign(digits=calls["digits"].replace("", pd.NA))
    pd.testing.assert_frame_equal(again, calls, check_dtype=False)
    assert again["digits"].tolist()[2] == "0042"


def test_export_refuses_to_overwrite_its_source(tmp_path):
    path = tmp_path / "calls.csv"
    save_calls(load_callbacks(sample()), path)
    calls = load_callbacks(path)
    with pytest.raises(CallbackError, match="refusing to overwrite"):
        save_calls(calls, path)


# --- spreadsheet-safe export -------------------------------------------------------------------

def risky_calls():
    cb = callback(0, note="=HYPERLINK(\"http://x\",\"click\")")
    cb["instruction-id"] = "@SUM(A1)"
    cb["caller"] = "-1+1"
    return load_callbacks([cb, callback(1)])


def test_a_plain_csv_export_keeps_text_exactly_as_it_arrived(tmp_path):
    out = save_calls(risky_calls(), tmp_path / "calls.csv")
    again = load_callbacks(out)
    assert again.loc[0, "note"].startswith("=HYPERLINK") and again.loc[0, "callee"] == "0031612345678"
    assert again.loc[0, "instruction_id"] == "@SUM(A1)"


def test_a_spreadsheet_safe_export_defuses_every_formula_cell(tmp_path):
    import csv

    out = save_calls(risky_calls(), tmp_path / "calls.csv", spreadsheet_safe=True)
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows[0]["note"].startswith("'=HYPERLINK") and rows[0]["instruction_id"] == "'@SUM(A1)"
    assert rows[0]["caller"] == "'-1+1" and rows[1]["caller"] == "0031201234567"
    cells = [v for row in rows for k, v in row.items() if k not in ("result_code", "ring_seconds", "talk_seconds",
                                                                   "total_seconds")]
    assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in cells)
    assert rows[0]["result_code"] == "10"  # numbers untouched


def test_defusing_leaves_the_input_frame_alone():
    from cmvoice_nb.callbacks import defuse_formulas

    calls = risky_calls()
    before = calls.copy()
    defuse_formulas(calls)
    pd.testing.assert_frame_equal(calls, before)
