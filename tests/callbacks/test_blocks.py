"""Large logs are read in blocks: a block read gives the same frame and report as a one-pass read.

``readers._BLOCK_BYTES`` is set small here so that a few lines make many blocks.
"""
from __future__ import annotations

import contextlib
import gzip
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from cmvoice_nb.callbacks import load_callbacks, readers
from cmvoice_nb.callbacks._dedupe import text_hashes
from cmvoice_nb.callbacks.frame import CALL_COLUMNS
from cmvoice_nb.errors import CallbackError

from ._factory import PROVIDER_FAILED, callback, quiet_load

ONE_PASS = 1 << 40  # larger than any file here: the whole file is one block

# The provider's example callbacks, verbatim (seed: voice-api-apps.txt, the Notification, OTP and
# Request-DTMF apps' "callback" examples), plus the contract's failed call with "BYE"
# (API-CONTRACT.md, Callbacks; _factory.PROVIDER_FAILED).
SEED_NOTIFICATION = """{
    "type": "notification-finished",
    "call-id": "6d0f176e-00ac-4de2-a04d-b3f7c895adb0",
    "instruction-id": "aeba8cae-eadd-4b49-9350-8061893b3d66",
    "caller": "0031687654321",
    "callee": "0031612345678",
    "result": {
        "code": 10,
        "description": "Finished"
    },
    "started-on": "2018-02-09T11:00:31.752Z",
    "answered-on": "2018-02-09T11:00:37.972Z",
    "finished-on": "2018-02-09T11:00:48.112Z"
}"""
SEED_OTP = SEED_NOTIFICATION.replace("notification-finished", "otp-finished")
SEED_DTMF = """{
    "type": "dtmf-finished",
    "call-id": "6d0f176e-00ac-4de2-a04d-b3f7c895adb0",
    "instruction-id": "aeba8cae-eadd-4b49-9350-8061893b3d66",
    "caller": "0031687654321",
    "callee": "0031612345678",
    "result": {
        "code": 10,
        "description": "Finished"
    },
    "started-on": "2018-02-09T11:00:31.752Z",
    "answered-on": "2018-02-09T11:00:37.972Z",
    "finished-on": "2018-02-09T11:00:48.112Z",
    "digits": "1234"
}"""
DOCUMENTED = [json.loads(SEED_NOTIFICATION), json.loads(SEED_OTP), json.loads(SEED_DTMF), PROVIDER_FAILED]


@contextlib.contextmanager
def block_size(size: int):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(readers, "_BLOCK_BYTES", size)
        yield


def load(path, size: int):
    with block_size(size):
        return quiet_load(path)


def report_facts(calls: pd.DataFrame) -> dict:
    r = calls.attrs["load_report"]
    return {"records": r.records, "rows": r.rows, "bad": [(b.line, b.reason, b.text) for b in r.bad_lines],
            "duplicates": r.duplicates_removed, "conflicting": r.conflicting_call_ids,
            "timestamps": {k: v for k, v in r.unparsable_timestamps.items() if v},
            "invalid": {k: v for k, v in r.invalid_values.items() if v}}


def _extras_as_values(frame: pd.DataFrame) -> pd.DataFrame:
    # Lines read one by one (two objects glued on a line) are joined to the columnar reader's rows
    # by pandas.concat, whose result type for an undocumented key depends on which lines share a
    # block (float64 or object, NaN or None for a missing value). Their values are compared.
    out = frame.copy()
    for col in out.columns[len(CALL_COLUMNS):]:
        out[col] = out[col].astype(object).where(out[col].notna(), None)
    return out


def assert_same_load(path, size: int, *, extras_as_values: bool = False) -> pd.DataFrame:
    """The file read in blocks of *size* bytes equals the one-pass read, frame and report."""
    whole = load(path, ONE_PASS)
    blocks = load(path, size)
    if extras_as_values:
        pd.testing.assert_frame_equal(_extras_as_values(blocks), _extras_as_values(whole), check_like=True)
    else:
        pd.testing.assert_frame_equal(blocks, whole, check_like=True)
    assert report_facts(blocks) == report_facts(whole)
    return blocks


def write_lines(path, lines) -> list[int]:
    """Write lines (dicts serialised, str/bytes as given); return each line's byte offset."""
    raw = [x if isinstance(x, bytes) else (x if isinstance(x, str) else json.dumps(x)).encode() for x in lines]
    offsets = np.cumsum([0] + [len(r) + 1 for r in raw])[:-1].tolist()
    path.write_bytes(b"\n".join(raw) + b"\n")
    return offsets


# --- block boundaries ----------------------------------------------------------------------------

def test_a_torn_line_straddling_a_block_boundary_is_reported_with_its_line_number(tmp_path):
    good = [callback(i) for i in range(6)]
    torn = json.dumps(callback(99))[:70]
    offsets = write_lines(tmp_path / "cb.jsonl", good[:3] + [torn] + good[3:])
    size = offsets[3] + 30  # the nominal boundary falls inside the torn line (line 4)
    calls = assert_same_load(tmp_path / "cb.jsonl", size)
    assert [b.line for b in calls.attrs["load_report"].bad_lines] == [4]
    assert calls["instruction_id"].tolist() == [f"row-{i}" for i in range(6)]


def test_every_line_straddling_a_boundary_still_loads_in_order(tmp_path):
    write_lines(tmp_path / "cb.jsonl", [callback(i) for i in range(40)])
    calls = assert_same_load(tmp_path / "cb.jsonl", 97)  # a callback is ~400 bytes: every line straddles
    assert calls["instruction_id"].tolist() == [f"row-{i}" for i in range(40)]
    assert calls.attrs["load_report"].tolerant_lines == 0


def test_a_duplicate_delivered_blocks_later_is_removed_and_the_first_kept(tmp_path):
    first = callback(1, **{"received-at": "2024-03-01T09:02:00.000Z"})
    again = dict(first, **{"received-at": "2024-03-01T11:00:00.000Z"})
    write_lines(tmp_path / "cb.jsonl", [first] + [callback(i) for i in range(2, 30)] + [again])
    calls = assert_same_load(tmp_path / "cb.jsonl", 500)
    report = calls.attrs["load_report"]
    assert (report.records, report.rows, report.duplicates_removed) == (30, 29, 1)
    assert calls.loc[calls["instruction_id"] == "row-1", "received_at"].tolist() == [
        pd.Timestamp("2024-03-01T09:02:00Z")]


def test_differing_callbacks_for_one_call_in_different_blocks_are_counted_not_dropped(tmp_path):
    first = callback(1, code=10)
    other = dict(callback(1, code=11))
    write_lines(tmp_path / "cb.jsonl", [first] + [callback(i) for i in range(2, 20)] + [other])
    calls = assert_same_load(tmp_path / "cb.jsonl", 400)
    assert calls.attrs["load_report"].conflicting_call_ids == 1
    assert len(calls) == 20


def test_a_key_that_is_text_in_one_block_and_numbers_in_the_next_is_text_throughout(tmp_path):
    lines = [callback(i, code=11, result={"code": 11, "description": "Failed", "sip-disconnect-code": "BYE"},
                      customGrouping3=f"spring-{i}") for i in range(5)]
    lines += [callback(i, code=12, result={"code": 12, "description": "Call rejected", "sip-disconnect-code": 486},
                       customGrouping3=i) for i in range(5, 10)]
    lines += [callback(i, customGrouping3=None) for i in range(10, 12)]  # null throughout a block
    offsets = write_lines(tmp_path / "cb.jsonl", lines)
    calls = assert_same_load(tmp_path / "cb.jsonl", offsets[5] - 1)
    assert calls["sip_disconnect_code"].tolist()[:10] == ["BYE"] * 5 + ["486"] * 5
    assert calls["customGrouping3"].tolist() == [f"spring-{i}" for i in range(5)] + [str(i) for i in range(5, 10)] + [
        pd.NA, pd.NA]
    assert calls["customGrouping3"].dtype == pd.StringDtype("pyarrow")


def test_an_extra_key_null_in_one_block_and_numbers_in_another_keeps_one_numeric_type(tmp_path):
    lines = [callback(i, attempt=None) for i in range(4)] + [callback(i, attempt=i) for i in range(4, 8)]
    lines += [callback(i, attempt=i + 0.5) for i in range(8, 10)]  # integers and fractions: floats
    offsets = write_lines(tmp_path / "cb.jsonl", lines)
    calls = assert_same_load(tmp_path / "cb.jsonl", offsets[4] - 1)
    assert calls["attempt"].dtype == "float64"
    assert calls["attempt"].tolist()[4:] == [4.0, 5.0, 6.0, 7.0, 8.5, 9.5]


def test_a_2_mib_line_longer_than_a_block_is_read_whole(tmp_path):
    huge = callback(2, note="x" * (2 << 20))  # read by json.loads (over 1 MiB), in a block of its own
    torn = json.dumps(callback(4, note="y" * (2 << 20)))[: (2 << 20)]
    write_lines(tmp_path / "cb.jsonl", [callback(1), huge, callback(3), torn, callback(5)])
    calls = assert_same_load(tmp_path / "cb.jsonl", 4096)
    assert calls["instruction_id"].tolist() == ["row-1", "row-2", "row-3", "row-5"]
    assert calls.loc[1, "note"] == "x" * (2 << 20)
    report = calls.attrs["load_report"]
    assert [b.line for b in report.bad_lines] == [4]
    assert report.tolerant_lines == 2  # the two huge lines; none of the others


def test_hostile_lines_are_reported_with_their_line_numbers_in_every_block(tmp_path):
    hostile = [
        b'{"type": "otp-finished", "call-id": "\xff\xfe"}',  # not UTF-8
        '{"a": ' * 3000 + "1" + "}" * 3000,  # deep nesting
        '{"type": "otp-finished", "caller": "\\ud800"}',  # a lone surrogate
        "[1, 2]",
        "garbage",
    ]
    lines = []
    for i, h in enumerate(hostile):
        lines += [callback(2 * i), h]
    lines.append(callback(98))
    write_lines(tmp_path / "cb.jsonl", lines)
    calls = assert_same_load(tmp_path / "cb.jsonl", 300)
    assert [b.line for b in calls.attrs["load_report"].bad_lines] == [2, 4, 6, 8, 10]
    assert len(calls) == 6


def test_glued_objects_and_blank_lines_across_blocks(tmp_path):
    glued = json.dumps(callback(5)) + json.dumps(callback(6))
    write_lines(tmp_path / "cb.jsonl", [callback(1), "", "   ", callback(2), glued, "\r", callback(7)])
    calls = assert_same_load(tmp_path / "cb.jsonl", 200)
    assert calls["instruction_id"].tolist() == ["row-1", "row-2", "row-5", "row-6", "row-7"]


def test_a_log_without_a_final_newline_keeps_its_last_line(tmp_path):
    path = tmp_path / "cb.jsonl"
    path.write_text("\n".join(json.dumps(callback(i)) for i in range(5)), encoding="utf-8")
    calls = assert_same_load(path, 333)
    assert len(calls) == 5


def test_a_gzipped_log_is_read_in_blocks(tmp_path):
    path = tmp_path / "cb.jsonl.gz"
    path.write_bytes(gzip.compress(("\n".join(json.dumps(callback(i)) for i in range(30)) + "\n").encode()))
    calls = assert_same_load(path, 1000)
    assert len(calls) == 30


def test_a_gzipped_log_cut_short_keeps_its_complete_lines_and_reports_the_break(tmp_path):
    path = tmp_path / "cb.jsonl.gz"
    whole = gzip.compress(("\n".join(json.dumps(callback(i)) for i in range(400)) + "\n").encode())
    path.write_bytes(whole[: len(whole) * 2 // 3])
    with block_size(2000):
        calls = quiet_load(path)
    report = calls.attrs["load_report"]
    assert 0 < len(calls) < 400
    assert calls["instruction_id"].tolist() == [f"row-{i}" for i in range(len(calls))]
    (bad,) = report.bad_lines
    assert "gzip" in bad.reason and bad.line > len(calls)


def test_a_read_error_after_the_first_block_names_the_file_and_where_it_stopped(tmp_path, monkeypatch):
    path = tmp_path / "cb.jsonl"
    write_lines(path, [callback(i) for i in range(20)])
    real_fill, reads = readers._Blocks._fill, []

    def failing_fill(self, block, filled):
        reads.append(filled)
        if len(reads) > 1:
            raise OSError(5, "Input/output error")  # the share went away
        return real_fill(self, block, filled)

    monkeypatch.setattr(readers._Blocks, "_fill", failing_fill)
    with block_size(1000), pytest.raises(CallbackError, match=r"cb\.jsonl: cannot read past line [1-9]"):
        quiet_load(path)


def test_the_providers_documented_examples_load_alike_in_blocks_and_in_one_pass(tmp_path):
    lines = [*DOCUMENTED, *DOCUMENTED]  # the seed's examples share a call id: the repeats are duplicates
    write_lines(tmp_path / "cb.jsonl", lines)
    calls = assert_same_load(tmp_path / "cb.jsonl", 64)
    assert calls["type"].tolist() == ["notification-finished", "otp-finished", "dtmf-finished", "notification-finished"]
    assert calls["digits"].tolist() == [pd.NA, pd.NA, "1234", pd.NA]
    assert calls["sip_disconnect_code"].tolist() == [pd.NA, pd.NA, pd.NA, "BYE"]
    assert calls["caller"].tolist() == ["0031687654321"] * 3 + ["anonymous"]
    assert calls.attrs["load_report"].duplicates_removed == 4


def test_blocks_keep_the_dtypes_and_unify_the_categories(tmp_path):
    lines = [callback(i, app="otp") for i in range(5)] + [callback(i, app="dtmf", code=12) for i in range(5, 10)]
    offsets = write_lines(tmp_path / "cb.jsonl", lines)
    calls = assert_same_load(tmp_path / "cb.jsonl", offsets[5] - 1)
    assert list(calls["type"].cat.categories) == ["dtmf-finished", "otp-finished"]
    assert list(calls["app"].cat.categories) == ["dtmf", "otp"]
    assert list(calls["result_description"].cat.categories) == ["Call rejected", "Finished"]
    assert calls["call_id"].dtype == pd.StringDtype("pyarrow")


# --- fuzzed logs: blocks and one pass agree ------------------------------------------------------

_SIP = st.sampled_from([None, "BYE", 486, 503, "", "486"])
_EXTRA = st.one_of(st.none(), st.integers(-5, 5), st.sampled_from(["a", "", "7"]), st.just(1.5))


@st.composite
def _line(draw):
    kind = draw(st.sampled_from(["doc", "doc", "doc", "cb", "cb", "torn", "blank", "bad-utf8", "garbage", "glued"]))
    if kind == "doc":
        rec = json.loads(json.dumps(draw(st.sampled_from(DOCUMENTED))))
        rec["call-id"] = f"c-{draw(st.integers(0, 6))}"
    elif kind in ("cb", "torn", "glued"):
        rec = callback(draw(st.integers(0, 6)), app=draw(st.sampled_from(["notification", "otp", "dtmf"])),
                       code=draw(st.sampled_from([9, 10, 11, 12])))
    elif kind == "blank":
        return draw(st.sampled_from(["", "  ", "\r"]))
    elif kind == "bad-utf8":
        return b'{"type": "otp-finished", "call-id": "\xc3\x28"}'
    else:
        return draw(st.sampled_from(["x", "{", "[]", '{"a": 1', "null"]))
    sip = draw(_SIP)
    if sip is not None:
        rec["result"]["sip-disconnect-code"] = sip
    extra = draw(st.sampled_from(["absent", "set"]))
    if extra == "set" and kind != "glued":  # a glued line's values are read one by one: kept as sent
        rec["customGrouping3"] = draw(_EXTRA)
    if draw(st.booleans()):
        rec["received-at"] = f"2024-03-01T10:{draw(st.integers(0, 59)):02d}:00Z"
    text = json.dumps(rec)
    if kind == "torn":
        return text[: draw(st.integers(1, len(text) - 1))]
    if kind == "glued":
        return text + json.dumps(callback(7))
    return text


def test_a_key_null_in_every_line_of_one_piece_keeps_the_type_it_has_in_the_rest_of_its_block(tmp_path):
    # Found by the fuzz test below. The glued last line splits the second block into pieces read
    # one by one; in one piece customGrouping3 is null on every line (Arrow's null type), in
    # another it holds 1.5: joined, the column must stay numbers, so that the blocks are
    # reconciled with the text of the first block ("a") as one pass reads the file.
    def doc(**extra):
        return {**DOCUMENTED[0], "call-id": "c-0", **extra}

    def at(minute):
        return {"received-at": f"2024-03-01T10:{minute:02d}:00Z"}

    bad_utf8 = b'{"type": "otp-finished", "call-id": "\xc3\x28"}'
    bye = callback(0, **at(25))
    bye["result"]["sip-disconnect-code"] = "BYE"
    lines = ["", doc(), doc(customGrouping3="a", **at(23)), doc(), bad_utf8, doc(customGrouping3=None), doc(),
             doc(**at(47)), doc(**at(43)), doc(), doc(customGrouping3=None), doc(), doc(**at(37)),
             doc(customGrouping3=1.5, **at(0)), bad_utf8, doc(), "", "", doc(customGrouping3=None, **at(20)),
             doc(customGrouping3=None, **at(20)), "{", '{"type": "notification-finished", "call-id":', bad_utf8,
             "[]", "", callback(0, app="otp", code=9), "[]", json.dumps(bye) + json.dumps(callback(7))]
    write_lines(tmp_path / "cb.jsonl", lines)
    calls = assert_same_load(tmp_path / "cb.jsonl", 4000, extras_as_values=True)
    assert calls["customGrouping3"].dropna().tolist() == ["a", "1.5"]


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_line(), min_size=1, max_size=40), size=st.sampled_from([1, 64, 300, 1000, 4000]))
def test_fuzzed_logs_load_alike_in_blocks_and_in_one_pass(tmp_path, lines, size):
    path = tmp_path / "fuzz.jsonl"
    write_lines(path, lines)
    glued = any(isinstance(x, str) and "}{" in x for x in lines)
    assert_same_load(path, size, extras_as_values=glued)


# --- the call id hash behind duplicate detection -------------------------------------------------

def test_call_id_hashes_match_for_equal_text_across_chunks_offsets_and_widths():
    left = pa.array(["6d0f176e-00ac", "", None, "abd", "x" * 5000])
    right = pa.array(["pad", "6d0f176e-00ac", "x" * 5000, "", "abc"], type=pa.large_string()).slice(1)
    hashes, valid = text_hashes(pa.chunked_array([left, right.cast(pa.string())]))
    assert valid.tolist() == [True, True, False, True, True, True, True, True, True]
    assert hashes[0] == hashes[5] and hashes[4] == hashes[6] and hashes[1] == hashes[7]
    assert len({hashes[0], hashes[1], hashes[3], hashes[4], hashes[8]}) == 5
    alone, _ = text_hashes(right)
    assert alone.tolist() == hashes[5:].tolist()


@pytest.mark.parametrize("width", [3, 8, 36])
def test_call_id_hashes_of_equal_width_ids_match_across_chunks(width):
    ids = [f"{i:0{width}d}"[-width:] for i in range(300)]
    left = pa.array(ids[:200] + [None, ""])
    right = pa.array(["z" * width] + ids[100:], type=pa.large_string()).slice(1)  # an offset into its buffer
    hashes, valid = text_hashes(pa.chunked_array([left, right.cast(pa.string())]))
    assert valid.tolist() == [True] * 200 + [False, True] + [True] * 200
    assert hashes[100:200].tolist() == hashes[202:302].tolist()
    assert len(set(hashes[:200].tolist()) | set(hashes[302:].tolist())) == 300  # 300 distinct ids, no collision


def test_a_record_nested_thousands_of_levels_deep_is_a_bad_record_not_a_crash():
    # Python 3.13's json reads 3,000 levels; walking such a value recursively would not
    deep: dict = {"leaf": 1}
    for _ in range(3_000):
        deep = {"a": deep}
    good = callback(1)
    good = json.loads(good) if isinstance(good, str) else good
    calls = load_callbacks([good, dict(good, **{"call-id": "x-2", "extra": deep})], warn=False)
    report = calls.attrs["load_report"]
    assert len(calls) == 1 and [b.reason.split(": ", 1)[-1] for b in report.bad_lines] == ["nested too deeply"]
