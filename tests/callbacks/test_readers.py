"""Reading callbacks from files, folders, globs, exports and lists, and surviving hostile lines."""
import gzip
import json
import os

import pandas as pd
import pytest

from cmvoice_nb.callbacks.load import CallbackWarning, load_callbacks
from cmvoice_nb.errors import CallbackError

from ._factory import PROVIDER_FAILED, callback, quiet_load, sample, write_jsonl

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


def test_mixed_list_of_paths_and_dicts(tmp_path):
    path = write_jsonl(tmp_path / "cb.jsonl", [callback(1)])
    calls = load_callbacks([path, callback(2)])
    assert calls["instruction_id"].tolist() == ["row-1", "row-2"]


def test_missing_file_raises_callback_error(tmp_path):
    with pytest.raises(CallbackError, match="no such file"):
        load_callbacks(tmp_path / "nope.jsonl")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX named pipes")
def test_a_named_pipe_is_refused_instead_of_blocking_the_load(tmp_path):
    pipe = tmp_path / "callbacks.jsonl"
    os.mkfifo(pipe)  # opening it to read would wait for a writer for ever
    with pytest.raises(CallbackError, match="callbacks.jsonl: not a regular file"):
        load_callbacks(pipe)


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
