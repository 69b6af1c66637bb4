"""Frame typing: the documented columns and types, derived columns, duplicates and the LoadReport."""
import copy

import pandas as pd
import pytest

from cmvoice_nb.callbacks.load import CALL_COLUMNS, CallbackWarning, load_callbacks

from ._factory import PROVIDER_FAILED, callback, quiet_load, sample, write_jsonl

# --- shape and types ---------------------------------------------------------------------------

def test_columns_are_exactly_the_documented_ones_in_order():
    calls = load_callbacks(sample())
    assert tuple(calls.columns) == CALL_COLUMNS


def test_columns_are_typed():
    calls = load_callbacks(sample())
    assert str(calls["result_code"].dtype) == "Int64"
    for col in ("started_on", "answered_on", "finished_on", "received_at"):
        assert str(calls[col].dtype) == "datetime64[ns, UTC]"
    assert calls["answered"].dtype == bool
    assert list(calls["outcome"].cat.categories) == ["Cancelled", "Finished", "Failed", "Rejected", "unknown"]


def test_text_columns_are_arrow_backed_and_the_few_valued_ones_categories():
    calls = load_callbacks(sample())
    for col in ("call_id", "instruction_id", "callee", "digits"):
        assert calls[col].dtype == pd.StringDtype("pyarrow"), col
    for col in ("type", "app", "caller", "result_description", "sip_disconnect_code", "sip_disconnect_reason"):
        dtype = calls[col].dtype
        assert isinstance(dtype, pd.CategoricalDtype), col
        assert dtype.categories.dtype == pd.StringDtype("pyarrow"), col
        assert list(dtype.categories) == sorted(dtype.categories), col  # sorts like the text it holds


def test_derived_columns_follow_the_result_codes_and_times():
    calls = load_callbacks(sample())
    assert calls["app"].tolist() == ["notification", "otp", "dtmf", "dtmf", "notification"]
    assert calls["outcome"].tolist() == ["Finished", "Cancelled", "Finished", "Rejected", "Failed"]
    assert calls["answered"].tolist() == [True, False, True, False, False]
    assert calls["ring_seconds"].tolist() == [4.0, 60.0, 2.0, 1.0, 0.5]
    assert calls.loc[0, "talk_seconds"] == 30.0
    assert pd.isna(calls.loc[1, "talk_seconds"])  # nobody listened: no talk time, not zero
    assert calls.loc[0, "total_seconds"] == 34.0


def test_unknown_result_code_gives_unknown_outcome_and_uses_answer_time():
    cb = callback(0, code=10)
    cb["result"] = {"code": 42, "description": "new"}
    calls = load_callbacks([cb])
    assert calls.loc[0, "outcome"] == "unknown"
    assert bool(calls.loc[0, "answered"]) is True  # answered-on is present


def test_result_text_is_ignored_in_favour_of_the_code():
    cb = callback(0, code=10)
    cb["result"]["description"] = "Finished successfully"
    assert load_callbacks([cb]).loc[0, "outcome"] == "Finished"


def test_sip_disconnect_fields_are_flattened():
    cb = callback(0, code=12)
    cb["result"].update({"sip-disconnect-code": 486, "sip-disconnect-reason": "Busy Here"})
    calls = load_callbacks([cb])
    assert calls.loc[0, "sip_disconnect_code"] == "486"  # a number sent where text is documented: kept as text
    assert calls.loc[0, "sip_disconnect_reason"] == "Busy Here"


def test_missing_keys_are_nulls_and_unknown_keys_are_kept_as_extra_columns():
    calls = load_callbacks([{"type": "otp-finished", "customGrouping3": "spring", "result": {"code": 9}}])
    assert calls.loc[0, "customGrouping3"] == "spring"
    assert pd.isna(calls.loc[0, "call_id"]) and pd.isna(calls.loc[0, "started_on"])
    assert list(calls.columns[: len(CALL_COLUMNS)]) == list(CALL_COLUMNS)


def test_digits_keep_their_leading_zeros():
    assert load_callbacks([callback(0, app="dtmf", digits="0007")]).loc[0, "digits"] == "0007"


def test_timestamps_are_utc_even_with_offsets():
    cb = callback(0)
    cb["started-on"] = "2024-03-01T10:00:00+01:00"
    calls = load_callbacks([cb])
    assert calls.loc[0, "started_on"] == pd.Timestamp("2024-03-01T09:00:00Z")


def test_input_dicts_are_not_modified():
    items = sample()
    before = copy.deepcopy(items)
    load_callbacks(items)
    assert items == before


def test_empty_input_gives_an_empty_frame_with_all_columns():
    calls = load_callbacks([])
    assert len(calls) == 0 and tuple(calls.columns) == CALL_COLUMNS


def test_dataframe_input_is_retyped():
    raw = pd.DataFrame({"type": ["otp-finished"], "result_code": ["10"], "digits": ["01"]})
    calls = load_callbacks(raw)
    assert calls.loc[0, "result_code"] == 10 and calls.loc[0, "app"] == "otp"


# --- duplicates, and values that do not fit their column -------------------------------------

def test_exact_duplicates_are_removed_and_counted_whatever_their_arrival_time(tmp_path):
    first = dict({"received-at": "2024-03-01T09:00:01.000Z"}, **callback(0))
    again = dict({"received-at": "2024-03-01T09:00:09.000Z"}, **callback(0))
    path = write_jsonl(tmp_path / "cb.jsonl", [first, callback(1), again])
    calls = load_callbacks(path)
    assert len(calls) == 2
    assert calls.attrs["load_report"].duplicates_removed == 1
    assert calls.loc[0, "received_at"] == pd.Timestamp("2024-03-01T09:00:01Z")  # first delivery kept


def test_duplicates_can_be_kept_on_request():
    assert len(load_callbacks([callback(0), callback(0)], dedupe=False)) == 2


def test_differing_callbacks_for_one_call_are_kept_and_flagged():
    a = callback(0, code=10)
    b = callback(0, code=11)
    with pytest.warns(CallbackWarning, match="differing callbacks"):
        calls = load_callbacks([a, b])
    assert len(calls) == 2
    assert calls.attrs["load_report"].conflicting_call_ids == 1


def test_unparsable_timestamps_stay_null_with_a_warning():
    cb = callback(1)
    cb["started-on"] = "yesterday at noon"
    with pytest.warns(CallbackWarning, match="unparsable timestamp"):
        calls = load_callbacks([callback(0), cb])
    assert pd.isna(calls.loc[1, "started_on"]) and pd.notna(calls.loc[1, "finished_on"])
    assert calls.attrs["load_report"].unparsable_timestamps == {"started_on": 1}


def test_non_numeric_result_code_is_null_and_reported():
    cb = callback(0)
    cb["result"]["code"] = "ten"
    calls = quiet_load([cb])
    assert pd.isna(calls.loc[0, "result_code"]) and calls.loc[0, "outcome"] == "unknown"
    assert calls.attrs["load_report"].invalid_values == {"result_code": 1}


def test_string_result_code_is_accepted():
    cb = callback(0)
    cb["result"]["code"] = "12"
    assert load_callbacks([cb]).loc[0, "outcome"] == "Rejected"


def test_null_answered_on_is_fine():
    cb = callback(0, code=9)
    cb["answered-on"] = None
    calls = load_callbacks([cb])
    assert pd.isna(calls.loc[0, "answered_on"]) and calls.loc[0, "ring_seconds"] == 5.0


def test_report_has_a_readable_repr_and_html():
    calls = quiet_load([callback(0), callback(0)])
    report = calls.attrs["load_report"]
    assert "duplicates_removed=1" in repr(report)
    page = report._repr_html_()
    assert "cmvoice-table-box" in page and ">duplicates removed<" in page


def test_the_reports_html_lists_bad_lines_in_the_shared_style_with_their_reason(tmp_path):
    log = tmp_path / "cb.jsonl"
    log.write_text('{"type": "otp-finished", "call-id": "a", "result": {"code": 10}}\n{not json\n'
                   '<img src=x onerror=alert(1)>\n', encoding="utf-8")
    report = quiet_load(log).attrs["load_report"]
    page = report._repr_html_()
    assert page.count("<div class='cmvoice-table-box'>") == 2 and "Bad lines" in page
    assert "<img" not in page and "&lt;img" not in page  # the line's text is not shown, only where and why
    assert "2 bad line(s) skipped" in page and "/cb.jsonl</td>" in page


# --- callbacks as the provider really sends them (issue 11) --------------------------------------

def test_the_providers_example_values_are_kept_with_their_documented_types(tmp_path):
    calls = load_callbacks(write_jsonl(tmp_path / "cb.jsonl", [PROVIDER_FAILED]))
    row = calls.iloc[0]
    assert row["sip_disconnect_code"] == "BYE" and row["sip_disconnect_reason"] == ""
    assert row["caller"] == "anonymous" and pd.isna(row["answered_on"])
    assert row["started_on"] == pd.Timestamp("2018-02-09T11:00:31Z")
    assert row["finished_on"] == pd.Timestamp("2018-02-09T11:00:48.112Z")
    assert row["outcome"] == "Failed" and calls.attrs["load_report"].ok
