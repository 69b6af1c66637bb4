import copy
import gzip
import json
import warnings

import pandas as pd
import pytest

from cmvoice_nb.callbacks.load import CALL_COLUMNS, CallbackWarning, load_callbacks, save_calls
from cmvoice_nb.errors import CallbackError

from ._factory import callback, write_jsonl


def quiet_load(source, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CallbackWarning)
        return load_callbacks(source, **kw)


def sample():
    return [
        callback(0, app="notification", code=10, ring_s=4, talk_s=30),
        callback(1, app="otp", code=9, ring_s=60),
        callback(2, app="dtmf", code=10, digits="0042", ring_s=2, talk_s=10),
        callback(3, app="dtmf", code=12, ring_s=1),
        callback(4, app="notification", code=11, ring_s=0.5),
    ]


# --- shape and types ---------------------------------------------------------------------------

def test_columns_are_exactly_the_documented_ones_in_order():
    calls = load_callbacks(sample())
    assert tuple(calls.columns) == CALL_COLUMNS


def test_columns_are_typed():
    calls = load_callbacks(sample())
    assert str(calls["result_code"].dtype) == "Int64"
    assert isinstance(calls["sip_disconnect_code"].dtype, pd.StringDtype)  # alphanumeric (contract)
    for col in ("started_on", "answered_on", "finished_on", "received_at"):
        assert str(calls[col].dtype) == "datetime64[ns, UTC]"
    assert isinstance(calls["digits"].dtype, pd.StringDtype)
    assert calls["answered"].dtype == bool
    assert list(calls["outcome"].cat.categories) == ["Cancelled", "Finished", "Failed", "Rejected", "unknown"]


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


# --- sources -----------------------------------------------------------------------------------

def test_jsonl_file_loads_like_the_list_of_dicts(tmp_path):
    path = write_jsonl(tmp_path / "cb.jsonl", sample())
    from_file = load_callbacks(path)
    from_list = load_callbacks(sample())
    pd.testing.assert_frame_equal(from_file, from_list)


def test_receiver_log_lines_carry_received_at(tmp_path):
    items = [dict({"received-at": "2024-03-01T09:05:00.000Z"}, **callback(0))]
    calls = load_callbacks(write_jsonl(tmp_path / "cb.jsonl", items))
    assert calls.loc[0, "received_at"] == pd.Timestamp("2024-03-01T09:05:00Z")


def test_folder_of_daily_logs_is_read_in_name_order_and_quarantine_is_skipped(tmp_path):
    write_jsonl(tmp_path / "cb-2024-03-02.jsonl", [callback(2)])
    write_jsonl(tmp_path / "cb-2024-03-01.jsonl", [callback(1)])
    (tmp_path / "cb.quarantine.jsonl").write_text('{"reason": "malformed", "body": "{"}\n')
    (tmp_path / "notes.txt").write_text("not a log")
    calls = load_callbacks(tmp_path)
    assert calls["instruction_id"].tolist() == ["row-1", "row-2"]
    assert len(calls.attrs["load_report"].sources) == 2


def test_glob_pattern_selects_files(tmp_path):
    write_jsonl(tmp_path / "a-1.jsonl", [callback(1)])
    write_jsonl(tmp_path / "a-2.jsonl", [callback(2)])
    write_jsonl(tmp_path / "b-3.jsonl", [callback(3)])
    calls = load_callbacks(str(tmp_path / "a-*.jsonl"))
    assert calls["instruction_id"].tolist() == ["row-1", "row-2"]


def test_json_array_file(tmp_path):
    path = tmp_path / "cb.json"
    path.write_text(json.dumps(sample(), indent=2))
    assert len(load_callbacks(path)) == 5


def test_single_pretty_printed_object_file(tmp_path):
    path = tmp_path / "one.json"
    path.write_text(json.dumps(callback(0), indent=2))
    assert load_callbacks(path)["call_id"].tolist() == [callback(0)["call-id"]]


def test_gzipped_jsonl(tmp_path):
    path = tmp_path / "cb.jsonl.gz"
    path.write_bytes(gzip.compress(("\n".join(json.dumps(c) for c in sample()) + "\n").encode()))
    assert len(load_callbacks(path)) == 5


def test_csv_export_with_wire_or_flattened_names(tmp_path):
    path = tmp_path / "portal.csv"
    path.write_text(
        "call-id,instruction-id,type,callee,result.code,result.description,started-on,finished-on,digits\n"
        "a,row-1,dtmf-finished,0031612345678,10,Finished,2024-03-01T09:00:00Z,2024-03-01T09:00:30Z,0012\n"
        "b,row-2,otp-finished,0031612345679,9,Cancelled,2024-03-01T09:01:00Z,2024-03-01T09:02:00Z,\n"
    )
    calls = load_callbacks(path)
    assert calls["digits"].tolist()[0] == "0012"
    assert calls["result_code"].tolist() == [10, 9]
    assert calls["callee"].tolist() == ["0031612345678", "0031612345679"]
    assert calls["outcome"].tolist() == ["Finished", "Cancelled"]


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


def test_mixed_list_of_paths_and_dicts(tmp_path):
    path = write_jsonl(tmp_path / "cb.jsonl", [callback(1)])
    calls = load_callbacks([path, callback(2)])
    assert calls["instruction_id"].tolist() == ["row-1", "row-2"]


def test_dataframe_input_is_retyped():
    raw = pd.DataFrame({"type": ["otp-finished"], "result_code": ["10"], "digits": ["01"]})
    calls = load_callbacks(raw)
    assert calls.loc[0, "result_code"] == 10 and calls.loc[0, "app"] == "otp"


def test_missing_file_raises_callback_error(tmp_path):
    with pytest.raises(CallbackError, match="no such file"):
        load_callbacks(tmp_path / "nope.jsonl")


def test_glob_without_match_raises(tmp_path):
    with pytest.raises(CallbackError, match="no file matches"):
        load_callbacks(str(tmp_path / "*.jsonl"))


# --- tolerance ---------------------------------------------------------------------------------

def test_bad_lines_are_skipped_and_reported_with_line_numbers(tmp_path):
    lines = [callback(0), '{"type": "otp-fin', callback(1), "", "garbage", "[1, 2]", callback(2)]
    path = write_jsonl(tmp_path / "cb.jsonl", lines)
    with pytest.warns(CallbackWarning, match="3 bad line"):
        calls = load_callbacks(path)
    report = calls.attrs["load_report"]
    assert calls["instruction_id"].tolist() == ["row-0", "row-1", "row-2"]
    assert [line for _, line in report.bad_line_numbers] == [2, 5, 6]
    assert report.bad_line_count == 3 and not report.ok


def test_a_bad_line_that_looks_like_an_object_is_found_by_the_careful_path(tmp_path):
    # Braces at both ends pass the quick scan; pyarrow refuses the block and the line is isolated.
    lines = [callback(i) for i in range(50)]
    lines.insert(20, '{"type": "otp-finished", "call-id": }')
    path = write_jsonl(tmp_path / "cb.jsonl", lines)
    calls = quiet_load(path)
    report = calls.attrs["load_report"]
    assert len(calls) == 50
    assert report.bad_line_numbers == [(str(path), 21)]
    assert calls["instruction_id"].tolist() == [f"row-{i}" for i in range(50)]


def test_a_line_with_a_number_where_text_is_expected_is_kept(tmp_path):
    odd = callback(1, app="dtmf")
    odd["digits"] = 42
    path = write_jsonl(tmp_path / "cb.jsonl", [callback(0), odd, callback(2)])
    calls = load_callbacks(path)
    assert calls["digits"].tolist()[1] == "42"
    assert calls["instruction_id"].tolist() == ["row-0", "row-1", "row-2"]


def test_many_bad_lines_never_stop_the_load(tmp_path):
    lines = []
    for i in range(300):
        lines.append(callback(i))
        lines.append('{"broken": ' if i % 2 else "{not json}")
    path = write_jsonl(tmp_path / "cb.jsonl", lines)
    calls = quiet_load(path)
    assert len(calls) == 300
    assert calls.attrs["load_report"].bad_line_count == 300


def test_crlf_line_endings_are_fine(tmp_path):
    path = tmp_path / "cb.jsonl"
    path.write_bytes(b"".join(json.dumps(c).encode() + b"\r\n" for c in sample()))
    calls = load_callbacks(path)
    assert len(calls) == 5 and calls.attrs["load_report"].ok


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
    assert "<table>" in report._repr_html_()


def test_a_byte_order_mark_and_whitespace_only_lines_are_harmless(tmp_path):
    path = tmp_path / "cb.jsonl"
    body = "\n".join(json.dumps(c) for c in sample()[:2]) + "\n   \n" + json.dumps(sample()[2]) + "\n"
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    calls = load_callbacks(path)
    assert len(calls) == 3 and calls.attrs["load_report"].ok


def test_the_careful_path_gives_the_same_frame_as_the_fast_one(tmp_path):
    items = sample()
    clean = load_callbacks(write_jsonl(tmp_path / "clean.jsonl", items))
    messy = quiet_load(write_jsonl(tmp_path / "messy.jsonl", items[:2] + ['{"x": }'] + items[2:]))
    pd.testing.assert_frame_equal(clean, messy)


@pytest.mark.parametrize("many_bad", [False, True])
def test_two_objects_glued_on_one_line_are_both_kept(tmp_path, many_bad):
    # A lost newline glues two complete callbacks together: neither is lost, whichever path reads it.
    glued = json.dumps(callback(1)) + json.dumps(callback(2))
    noise = ["not json"] * (1200 if many_bad else 1)
    path = write_jsonl(tmp_path / "cb.jsonl", [callback(0), *noise, glued, callback(3)])
    calls = quiet_load(path)
    assert calls["instruction_id"].tolist() == ["row-0", "row-1", "row-2", "row-3"]
    assert calls.attrs["load_report"].bad_line_count == len(noise)


# --- callbacks as the provider really sends them (issue 11) --------------------------------------

# The provider's documented example values (API-CONTRACT.md, "Callbacks"; the seed's example
# callback): sip-disconnect-code is alphanumeric and the example sends "BYE", the reason may be
# empty, answered-on is null when nobody answered, times come with and without milliseconds,
# and the caller may be "anonymous".
PROVIDER_FAILED = {
    "type": "notification-finished",
    "call-id": "6d0f176e-00ac-4de2-a04d-b3f7c895adb0",
    "instruction-id": "aeba8cae-eadd-4b49-9350-8061893b3d66",
    "caller": "anonymous",
    "callee": "0031612345678",
    "result": {"code": 11, "description": "Failed", "sip-disconnect-code": "BYE", "sip-disconnect-reason": ""},
    "started-on": "2018-02-09T11:00:31Z",
    "answered-on": None,
    "finished-on": "2018-02-09T11:00:48.112Z",
}


def provider_log(n):
    """*n* callbacks: the simulator's numeric SIP codes, with the provider's "BYE" one line in 97."""
    items = []
    for i in range(n):
        if i % 97 == 5:
            items.append(dict(PROVIDER_FAILED, **{"call-id": f"6d0f176e-00ac-4de2-a04d-{i:012d}"}))
        else:
            cb = callback(i, code=12 if i % 5 == 0 else 10)
            if i % 5 == 0:
                cb["result"].update({"sip-disconnect-code": 486, "sip-disconnect-reason": "Busy Here"})
            items.append(cb)
    return items


def test_the_providers_example_values_are_kept_with_their_documented_types(tmp_path):
    calls = load_callbacks(write_jsonl(tmp_path / "cb.jsonl", [PROVIDER_FAILED]))
    row = calls.iloc[0]
    assert row["sip_disconnect_code"] == "BYE" and row["sip_disconnect_reason"] == ""
    assert row["caller"] == "anonymous" and pd.isna(row["answered_on"])
    assert row["started_on"] == pd.Timestamp("2018-02-09T11:00:31Z")
    assert row["finished_on"] == pd.Timestamp("2018-02-09T11:00:48.112Z")
    assert row["outcome"] == "Failed" and calls.attrs["load_report"].ok


def test_text_and_numeric_sip_codes_mixed_in_one_log_stay_on_the_columnar_path(tmp_path):
    items = provider_log(3000)
    calls = load_callbacks(write_jsonl(tmp_path / "cb.jsonl", items))
    report = calls.attrs["load_report"]
    assert report.ok and report.tolerant_lines == 0  # no line was read one by one
    assert len(calls) == 3000
    codes = calls["sip_disconnect_code"]
    assert (codes[calls["call_id"].str.startswith("6d0f176e")] == "BYE").all()
    assert set(codes.dropna()) == {"BYE", "486"}
    assert calls["instruction_id"].tolist()[:3] == ["row-0", "row-1", "row-2"]  # file order kept
    # Whatever path a line takes, the frame equals the one built from the dicts themselves.
    pd.testing.assert_frame_equal(calls, load_callbacks(items))


def test_a_string_code_in_a_numeric_column_is_converted_per_column(tmp_path):
    items = [callback(i) for i in range(200)]
    items[50]["result"]["code"] = "12"
    items[120]["digits"] = 42  # a number where text is documented
    calls = load_callbacks(write_jsonl(tmp_path / "cb.jsonl", items))
    assert calls.attrs["load_report"].tolerant_lines == 0
    assert calls.loc[50, "result_code"] == 12 and calls.loc[50, "outcome"] == "Rejected"
    assert calls.loc[120, "digits"] == "42"


def test_an_unknown_key_that_changes_kind_is_kept_as_text(tmp_path):
    items = [callback(i, customGrouping3=(i if i % 2 else f"g{i}")) for i in range(100)]
    calls = load_callbacks(write_jsonl(tmp_path / "cb.jsonl", items))
    assert calls.attrs["load_report"].tolerant_lines == 0
    assert calls["customGrouping3"].astype(str).tolist()[:4] == ["g0", "1", "g2", "3"]


def test_an_object_where_text_is_expected_is_kept_as_json_text(tmp_path):
    items = [callback(i) for i in range(100)]
    items[7]["caller"] = {"number": "0031201234567"}
    items[8]["result"]["sip-disconnect-code"] = True
    calls = load_callbacks(write_jsonl(tmp_path / "cb.jsonl", items))
    assert json.loads(calls.loc[7, "caller"]) == {"number": "0031201234567"}
    assert calls.loc[8, "sip_disconnect_code"] == "true"
    assert len(calls) == 100 and calls.attrs["load_report"].bad_line_count == 0


def deep(depth):
    return '{"type": "otp-finished", "x": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize("depth", [10_000, 100_000])
def test_a_line_nested_deeper_than_any_parser_can_go_is_a_bad_line_not_a_crash(tmp_path, depth):
    path = write_jsonl(tmp_path / "cb.jsonl", [callback(0), deep(depth), callback(1)])
    calls = quiet_load(path)
    report = calls.attrs["load_report"]
    assert calls["instruction_id"].tolist() == ["row-0", "row-1"]
    (bad,) = report.bad_lines
    assert bad.line == 2 and "nested too deeply" in bad.reason


def test_moderate_nesting_that_json_can_read_is_kept(tmp_path):
    path = write_jsonl(tmp_path / "cb.jsonl", [callback(0), dict(callback(1), x=json.loads(deep(200))["x"])])
    calls = load_callbacks(path)
    assert len(calls) == 2 and calls.attrs["load_report"].ok


def test_a_lone_surrogate_is_a_bad_line_and_a_valid_pair_is_kept(tmp_path):
    lone = json.dumps(callback(1))[:-1] + ', "note": "\\ud800"}'
    pair = json.dumps(callback(2))[:-1] + ', "note": "\\ud83d\\ude00"}'
    path = write_jsonl(tmp_path / "cb.jsonl", [callback(0), lone, pair, callback(3)])
    calls = quiet_load(path)
    assert calls["instruction_id"].tolist() == ["row-0", "row-2", "row-3"]
    assert calls.loc[1, "note"] == "\U0001F600"
    (bad,) = calls.attrs["load_report"].bad_lines
    assert bad.line == 2 and "lone surrogate" in bad.reason


def test_invalid_utf8_and_encoded_surrogates_are_bad_lines(tmp_path):
    path = tmp_path / "cb.jsonl"
    good = [json.dumps(callback(i), ensure_ascii=False).encode() for i in range(3)]
    accented = json.dumps(callback(3, note="Café"), ensure_ascii=False).encode()
    path.write_bytes(b"\n".join([good[0], b'{"type": "otp-finished", "x": "\xff\xfe"}', good[1],
                                 b'{"type": "otp-finished", "x": "\xed\xa0\x80"}', accented, good[2]]) + b"\n")
    calls = quiet_load(path)
    report = calls.attrs["load_report"]
    assert calls["instruction_id"].tolist() == ["row-0", "row-1", "row-3", "row-2"]
    assert calls.loc[2, "note"] == "Café"
    assert [b.line for b in report.bad_lines] == [2, 4]
    assert all("UTF-8" in b.reason for b in report.bad_lines)


def test_a_huge_line_goes_to_the_tolerant_path_and_is_kept(tmp_path):
    big = callback(1, note="x" * (2 << 20))
    path = write_jsonl(tmp_path / "cb.jsonl", [callback(0), big, callback(2)])
    calls = load_callbacks(path)
    assert calls["instruction_id"].tolist() == ["row-0", "row-1", "row-2"]
    assert calls.attrs["load_report"].tolerant_lines == 1 and len(calls.loc[1, "note"]) == 2 << 20


def test_dicts_with_a_lone_surrogate_are_listed_as_bad_records():
    calls = quiet_load([callback(0), callback(1, note="\ud800"), callback(2)])
    assert calls["instruction_id"].tolist() == ["row-0", "row-2"]
    assert "lone surrogate" in calls.attrs["load_report"].bad_lines[0].reason


def test_a_json_array_file_nested_too_deeply_is_reported(tmp_path):
    path = tmp_path / "cb.json"
    path.write_text("[" * 10_000 + "]" * 10_000)
    calls = quiet_load(path)
    assert len(calls) == 0 and "nested too deeply" in calls.attrs["load_report"].bad_lines[0].reason


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


def test_a_lone_surrogate_in_an_unknown_key_of_a_dict_is_a_bad_record_too():
    calls = quiet_load([callback(0, extra="\udfff"), callback(1)])
    assert calls["instruction_id"].tolist() == ["row-1"]
    assert calls.attrs["load_report"].bad_line_count == 1


def test_a_json_array_file_with_an_encoded_surrogate_lists_that_item(tmp_path):
    path = tmp_path / "cb.json"
    path.write_bytes(b"[" + json.dumps(callback(0)).encode() + b', {"type": "otp-finished", "note": "\xed\xa0\x80"}]')
    calls = quiet_load(path)
    assert len(calls) == 1 and "lone surrogate" in calls.attrs["load_report"].bad_lines[0].reason


def test_text_sip_codes_that_appear_only_late_in_a_big_log_are_still_kept_on_the_columnar_path(tmp_path):
    # The head of the file (the first MiB) shows only numbers; the first "BYE" comes much later.
    items = provider_log(6000)
    for i, cb in enumerate(items[:5000]):
        if cb["call-id"].startswith("6d0f176e"):
            items[i] = callback(i)
    path = write_jsonl(tmp_path / "cb.jsonl", items)
    assert path.stat().st_size > 2 << 20
    calls = load_callbacks(path)
    assert calls.attrs["load_report"].tolerant_lines == 0
    assert (calls.loc[5000:, "sip_disconnect_code"].dropna() == "BYE").any()
    pd.testing.assert_frame_equal(calls, load_callbacks(items))
