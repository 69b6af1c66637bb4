"""Opt-out by keypress: the receiver writes who pressed the key to a do-not-call list that --suppress reads.

The callbacks are the provider's documented DTMF example (seed, "dtmf-finished": callee
``0031612345678``, result 10 Finished) with the digits each case needs.
"""
from __future__ import annotations

import copy
import io
import json
import threading
import urllib.request

import pytest

from cmvoice_nb.callbacks import CallbackReceiver, OptOutList, load_callbacks, opt_outs, wsgi_app
from cmvoice_nb.callbacks.optout import opt_out_number
from cmvoice_nb.campaign.ops.suppress import read_suppression
from cmvoice_nb.errors import ConfigurationError

from .._wait import cmvoice, scaled

#: The provider's example of a DTMF callback (seed: "dtmf-finished"), as documented.
DOCUMENTED = {
    "type": "dtmf-finished",
    "call-id": "6d0f176e-00ac-4de2-a04d-b3f7c895adb0",
    "instruction-id": "aeba8cae-eadd-4b49-9350-8061893b3d66",
    "caller": "0031687654321",
    "callee": "0031612345678",
    "result": {"code": 10, "description": "Finished"},
    "started-on": "2018-02-09T11:00:31.752Z",
    "answered-on": "2018-02-09T11:00:37.972Z",
    "finished-on": "2018-02-09T11:00:48.112Z",
    "digits": "1234",
}


def example(digits="9", *, callee="0031612345678", iid="aeba8cae-eadd-4b49-9350-8061893b3d66", code=10, n=0):
    cb = copy.deepcopy(DOCUMENTED)
    cb.update({"digits": digits, "callee": callee, "instruction-id": iid,
               "call-id": f"{n:08d}-00ac-4de2-a04d-b3f7c895adb0"})
    cb["result"]["code"] = code
    return cb


def post(app, callback) -> str:
    body = json.dumps(callback).encode()
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/s", "CONTENT_LENGTH": str(len(body)),
               "CONTENT_TYPE": "application/json", "wsgi.input": io.BytesIO(body)}
    answer = []
    app(environ, lambda status, headers: answer.append(status))
    return answer[0]


def test_the_documented_example_is_no_opt_out_but_pressing_exactly_the_key_is():
    assert opt_out_number(DOCUMENTED, digit="9") is None  # "1234"
    assert opt_out_number(example("9"), digit="9") == "+31612345678"
    assert opt_out_number(example("99"), digit="9") is None
    assert opt_out_number(example("19"), digit="9") is None
    assert opt_out_number(example(""), digit="9") is None


@pytest.mark.parametrize("changes", [
    {"type": "otp-finished"}, {"type": "notification-finished"}, {"result": {"code": 9}}, {"result": {"code": 11}},
    {"result": None}, {"result": {"code": True}}, {"digits": 9}, {"callee": None}, {"callee": "anonymous"},
])
def test_only_a_finished_dtmf_call_with_the_key_as_text_opts_out(changes):
    assert opt_out_number({**example("9"), **changes}, digit="9") is None


def test_the_receiver_appends_each_opt_out_once_and_keeps_every_callback(tmp_path):
    dnc = tmp_path / "dnc.txt"
    app = wsgi_app(tmp_path / "cb.jsonl", secret="s", opt_out_digit="9", opt_out_list=dnc)
    assert dnc.read_text() == ""  # created empty at start: --suppress reads it before the first opt-out
    assert post(app, example("9", n=1)) == "200 OK"
    assert post(app, example("9", n=1)) == "200 OK"  # the provider delivers twice
    assert post(app, example("9", callee="+31612345679", n=2)) == "200 OK"
    assert post(app, example("1", callee="+31612345670", n=3)) == "200 OK"
    assert post(app, DOCUMENTED) == "200 OK"
    assert dnc.read_text() == "+31612345678\n+31612345679\n"
    assert app.opted_out == 2 and app.health()["opted_out"] == 2
    assert app.count == 5  # every callback is stored, opt-out or not


def test_a_restarted_receiver_writes_nobody_twice(tmp_path):
    dnc = tmp_path / "dnc.txt"
    wsgi_app(None, secret="s", opt_out_digit="9", opt_out_list=dnc)
    post(wsgi_app(None, secret="s", opt_out_digit="9", opt_out_list=dnc), example("9"))
    again = wsgi_app(None, secret="s", opt_out_digit="9", opt_out_list=dnc)
    post(again, example("9", callee="+31 6 1234 5678"))  # the same person, spelled otherwise
    assert dnc.read_text() == "+31612345678\n" and again.opted_out == 0


def test_a_hand_edited_list_is_appended_to_on_a_line_of_its_own(tmp_path):
    dnc = tmp_path / "dnc.txt"
    # BOM, CRLF, no final newline
    dnc.write_bytes(b"\xef\xbb\xbf# do not call\r\n0612345670  # asked by phone\r\n+31612345671")
    listed = OptOutList(dnc)
    assert "+31612345671" in listed and len(listed) == 1  # a national number without a region is not read
    assert listed.add("0031612345678") and not listed.add("+31612345671")
    numbers = read_suppression(dnc, region="NL")
    assert {"+31612345670", "+31612345671", "+31612345678"} == set(numbers)


@pytest.mark.parametrize("codec, bom", [("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"),
                                        ("utf-16-le", b""), ("cp1252", b"")])
def test_a_list_saved_by_excel_is_appended_to_in_its_own_encoding(tmp_path, codec, bom):
    # Excel's "Unicode text" is UTF-16 with CRLF; a UTF-8 line added to it would be unreadable, so
    # the person who pressed 9 would be called by the next campaign.
    dnc = tmp_path / "dnc.txt"
    dnc.write_bytes(bom + "nummer\tnaam\r\n+31612345670\tJosé\r\n".encode(codec))
    listed = OptOutList(dnc)
    assert "+31612345670" in listed and not listed.add("0031612345670")
    assert listed.add("+31612345678")
    data = dnc.read_bytes()
    assert data == bom + "nummer\tnaam\r\n+31612345670\tJosé\r\n+31612345678\t\r\n".encode(codec)
    assert set(read_suppression(dnc, region="NL")) == {"+31612345670", "+31612345678"}
    assert len(OptOutList(dnc)) == 2  # a restarted receiver reads what it wrote


@pytest.mark.parametrize("header, row, added", [
    ("naam;telefoon;klant", "Jan;+31612345670;17", ";+31612345678;"),
    ("telefoon,naam", "+31612345670,Jan", "+31612345678,"),
    ("Name\tMobile", "Jan\t0031612345670", "\t+31612345678"),
])
def test_a_csv_list_gets_the_number_in_its_number_column(tmp_path, header, row, added):
    # A bare number appended to "naam;telefoon" would land in the name column: --suppress would
    # then find an empty number on that line and stop the next campaign.
    dnc = tmp_path / "dnc.csv"
    dnc.write_bytes(f"{header}\r\n{row}\r\n".encode())
    listed = OptOutList(dnc)
    assert "+31612345670" in listed and not listed.add("+31 6 1234 5670")
    assert listed.add("+31612345678")
    assert dnc.read_bytes() == f"{header}\r\n{row}\r\n{added}\r\n".encode()
    assert set(read_suppression(dnc, region="NL")) == {"+31612345670", "+31612345678"}


def test_an_opt_out_list_that_is_not_text_stops_the_receiver_naming_it(tmp_path):
    dnc = tmp_path / "dnc.txt"
    dnc.write_bytes("+31612345670  # José\n".encode() + b"+3161234\x815671\n")  # UTF-8, then not
    with pytest.raises(ConfigurationError, match="opt-out list .*dnc.txt: line 2 is not valid UTF-8"):
        OptOutList(dnc)
    assert dnc.read_bytes().endswith(b"\x815671\n")  # nothing appended to a file it could not read


def test_concurrent_receiver_threads_write_each_number_once(tmp_path):
    dnc = tmp_path / "dnc.txt"
    app = wsgi_app(tmp_path / "cb.jsonl", secret="s", opt_out_digit="9", opt_out_list=dnc)
    people = [f"+316123456{i:02d}" for i in range(40)]
    start = threading.Barrier(8)

    def worker(k):
        start.wait()
        for n, callee in enumerate(people):
            assert post(app, example("9", callee=callee, n=k * 100 + n)) == "200 OK"

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(scaled(60))
    lines = dnc.read_text().splitlines()
    assert sorted(lines) == sorted(people) and app.count == 8 * 40


def test_the_instruction_prefixes_limit_the_key_to_their_campaigns(tmp_path):
    dnc = tmp_path / "dnc.txt"
    app = wsgi_app(None, secret="s", opt_out_digit="9", opt_out_list=dnc, opt_out_instructions="survey-, poll-")
    post(app, example("9", iid="survey-k1-31612345678-1"))
    post(app, example("9", callee="+31612345679", iid="quiz-k1-31612345679-1"))  # 9 means "the ninth answer" there
    post(app, example("9", callee="+31612345670", iid="poll-k2-31612345670-1-w2"))
    assert dnc.read_text().splitlines() == ["+31612345678", "+31612345670"]


def test_an_opt_out_that_cannot_be_written_is_refused_with_503_and_not_logged(tmp_path):
    dnc = tmp_path / "dnc.txt"
    app = wsgi_app(tmp_path / "cb.jsonl", secret="s", opt_out_digit="9", opt_out_list=dnc)
    dnc.unlink()
    dnc.mkdir()  # the list's name is now a folder: nothing can be appended
    assert post(app, example("9")).startswith("503")
    assert app.count == 0 and "opt-out list" in app.health()["last_error"]
    dnc.rmdir()
    assert post(app, example("9")) == "200 OK"  # the provider's retry goes through
    assert dnc.read_text() == "+31612345678\n" and app.count == 1


@pytest.mark.parametrize("options, message", [
    ({"opt_out_digit": "9"}, "opt_out_digit= needs opt_out_list="),
    ({"opt_out_list": "dnc.txt"}, "opt_out_list= needs opt_out_digit="),
    ({"opt_out_digit": "99", "opt_out_list": "dnc.txt"}, "must be one keypad key (0-9, * or #), got '99'"),
    ({"opt_out_digit": "", "opt_out_list": "dnc.txt"}, "must be one keypad key"),
])
def test_a_bad_opt_out_option_is_named(tmp_path, options, message):
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        wsgi_app(None, secret="s", **{k: (tmp_path / v if k == "opt_out_list" else v) for k, v in options.items()})


def test_opt_outs_gives_the_receivers_numbers_from_loaded_callbacks(tmp_path):
    dnc = tmp_path / "dnc.txt"
    log = tmp_path / "cb.jsonl"
    app = wsgi_app(log, secret="s", opt_out_digit="9", opt_out_list=dnc)
    for n, (digits, callee) in enumerate([("9", "0031612345678"), ("1", "0031612345679"), ("9", "0031612345670"),
                                          ("9", "0031612345678")]):
        post(app, example(digits, callee=callee, n=n))
    app.close()
    assert opt_outs(load_callbacks(log), digit="9") == dnc.read_text().splitlines() == ["+31612345678",
                                                                                       "+31612345670"]
    assert opt_outs(load_callbacks(log), digit="9", instructions="survey-") == []
    assert opt_outs(load_callbacks([]), digit="9") == []
    # Callbacks missing their code, callee or digits (a log with torn or foreign lines) are no opt-outs.
    partial = load_callbacks([{"type": "dtmf-finished", "call-id": "x1", "callee": "0031612345671", "digits": "9"},
                              {"type": "dtmf-finished", "call-id": "x2", "result": {"code": 10}, "digits": "9"},
                              {"type": "dtmf-finished", "call-id": "x3", "callee": "0031612345672",
                               "result": {"code": 10}}])
    assert opt_outs(partial, digit="9") == []


def test_the_receiver_over_http_writes_the_list(tmp_path):
    dnc = tmp_path / "dnc.txt"
    with CallbackReceiver(tmp_path / "cb.jsonl", opt_out_digit="9", opt_out_list=dnc) as rx:
        req = urllib.request.Request(rx.url, data=json.dumps(example("9")).encode(),
                                     headers={"Content-Type": "application/json"})
        assert urllib.request.urlopen(req, timeout=10).status == 200
        assert rx.opted_out == 1
    assert read_suppression(dnc) == {"+31612345678"}


def test_cmvoice_receive_writes_the_opt_out_list(tmp_path):
    import os
    import signal
    import subprocess

    dnc = tmp_path / "dnc.txt"
    proc = subprocess.Popen(cmvoice("receive", "--out", tmp_path / "cb.jsonl", "--opt-out-digit", "9",
                                    "--opt-out-list", dnc, "--opt-out-instructions", "aeba8cae-"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        for cb in (DOCUMENTED, example("9"), example("9", iid="other-1")):
            req = urllib.request.Request(url, data=json.dumps(cb).encode(),
                                         headers={"Content-Type": "application/json"})
            assert urllib.request.urlopen(req, timeout=10).status == 200
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=scaled(30))
    assert proc.returncode == 0
    assert dnc.read_text() == "+31612345678\n"
    assert f"who presses 9 in a finished DTMF call of aeba8cae-* is appended to {dnc} (0 listed now)" in err
    assert f"stopped after 3 callbacks (rejected: none); 1 opt-out(s) added to {dnc}" in err


def test_cmvoice_receive_refuses_a_key_without_a_list(tmp_path):
    import subprocess

    proc = subprocess.run(cmvoice("receive", "--out", tmp_path / "cb.jsonl", "--opt-out-digit", "9"),
                          capture_output=True, text=True, timeout=scaled(60))
    assert proc.returncode == 2
    assert "--opt-out-digit needs --opt-out-list" in proc.stderr


def test_opt_outs_without_a_key_is_refused_rather_than_counting_calls_with_no_digits():
    # A finished DTMF call with no digits pressed is not an opt-out, whatever None could be taken to mean.
    silent = load_callbacks([{"type": "dtmf-finished", "call-id": "x", "callee": "0031612345671",
                              "result": {"code": 10}}])
    with pytest.raises(ConfigurationError, match=r"digit= must be one keypad key .*got None"):
        opt_outs(silent, digit=None)
