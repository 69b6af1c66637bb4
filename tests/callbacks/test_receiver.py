import datetime as dt
import http.client
import json
import threading
import urllib.parse
import urllib.request

import pytest

from cmvoice_nb.callbacks import _logfile
from cmvoice_nb.callbacks.load import load_callbacks
from cmvoice_nb.callbacks.receiver import CallbackReceiver, CallbackTimeout
from cmvoice_nb.callbacks.wsgi import log_line

from .._wait import scaled
from ._factory import callback
from ._process import post, raw_request


def log_lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- the happy path ----------------------------------------------------------------------------

def test_url_is_loopback_with_a_free_port_and_a_random_secret_path(rx):
    parts = urllib.parse.urlsplit(rx.url)
    assert parts.scheme == "http" and parts.hostname == "127.0.0.1" and parts.port > 0
    assert len(parts.path.strip("/")) >= 16


def test_two_receivers_get_different_secrets():
    a, b = CallbackReceiver(), CallbackReceiver()
    assert a._secret != b._secret


def test_a_callback_is_stored_as_one_line_with_the_time_it_was_received(rx):
    before = dt.datetime.now(dt.timezone.utc)
    status, reply = post(rx.url, callback(0))
    assert status == 200 and reply["message"] == "ok"
    (line,) = log_lines(rx.out)
    assert line["call-id"] == callback(0)["call-id"]
    received = dt.datetime.fromisoformat(line["received-at"].replace("Z", "+00:00"))
    assert before - dt.timedelta(seconds=1) <= received <= dt.datetime.now(dt.timezone.utc)
    assert {k: v for k, v in line.items() if k != "received-at"} == callback(0)


def test_frame_and_count_show_what_arrived_so_far(rx):
    for i in range(3):
        post(rx.url, callback(i, app="dtmf", digits="007"))
    assert rx.count == 3
    frame = rx.frame()
    assert frame["digits"].tolist() == ["007"] * 3 and frame["received_at"].notna().all()


def test_the_log_loads_into_the_same_frame(rx):
    for i in range(4):
        post(rx.url, callback(i, code=9 + i))
    from_log = load_callbacks(rx.out)
    assert from_log["outcome"].tolist() == ["Cancelled", "Finished", "Failed", "Rejected"]
    assert from_log["call_id"].tolist() == rx.frame()["call_id"].tolist()


def test_wait_for_returns_once_enough_have_arrived(rx):
    threading.Timer(0.05, lambda: post(rx.url, callback(1))).start()
    assert rx.wait_for(1, timeout=scaled(10)) == 1


def test_wait_for_raises_a_timeout_error_when_too_few_arrive(rx):
    with pytest.raises(CallbackTimeout, match="only 0 of 2"):
        rx.wait_for(2, timeout=0.05)
    with pytest.raises(TimeoutError):
        rx.wait_for(2, timeout=0.01)


def test_in_memory_receiver_needs_no_file():
    with CallbackReceiver() as rx:
        post(rx.url, callback(0))
        assert rx.count == 1 and rx.path is None
        assert len(rx.frame()) == 1


def test_an_existing_log_is_appended_to_and_a_torn_last_line_is_closed(tmp_path):
    path = tmp_path / "cb.jsonl"
    path.write_text(json.dumps(callback(0)) + "\n" + '{"type": "otp-fin')  # crash mid-line
    with CallbackReceiver(path) as rx:
        post(rx.url, callback(1))
    lines = path.read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[2])["call-id"] == callback(1)["call-id"]
    calls = load_callbacks(path, warn=False)
    assert len(calls) == 2 and calls.attrs["load_report"].bad_line_numbers == [(str(path), 2)]


def test_daily_rotation_writes_a_dated_file_the_loader_reads_as_a_folder(tmp_path):
    with CallbackReceiver(tmp_path / "cb.jsonl", rotate_daily=True) as rx:
        post(rx.url, callback(0))
        today = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
        assert rx.path.name == f"cb-{today}.jsonl"
    assert (tmp_path / f"cb-{today}.jsonl").exists() and not (tmp_path / "cb.jsonl").exists()
    assert len(load_callbacks(tmp_path)) == 1


def test_log_line_format_is_received_at_then_the_callback():
    line = log_line({"type": "otp-finished", "received-at": "spoofed"}, "2024-01-01T00:00:00.000Z")
    assert json.loads(line) == {"received-at": "2024-01-01T00:00:00.000Z", "type": "otp-finished"}
    assert line.endswith(b"\n") and line.count(b"\n") == 1


def test_stop_is_idempotent_and_a_stopped_receiver_refuses_connections(tmp_path):
    rx = CallbackReceiver(tmp_path / "cb.jsonl").start()
    url = rx.url
    rx.stop()
    rx.stop()
    with pytest.raises(OSError):
        post(url, callback(0))


def test_repr_hides_the_secret(rx):
    assert rx._secret not in repr(rx) and "<secret>" in repr(rx)
    assert rx._secret not in rx._repr_html_()


def test_request_logging_never_shows_the_secret(rx, caplog):
    caplog.set_level("DEBUG", logger="cmvoice_nb.callbacks")
    post(rx.url, callback(0))
    post(rx.url + "x", callback(0))
    assert caplog.records
    assert all(rx._secret not in r.getMessage() for r in caplog.records)


# --- rejections --------------------------------------------------------------------------------

def test_wrong_path_is_404_and_nothing_is_stored(rx):
    base = rx.url.rsplit("/", 1)[0]
    assert post(base + "/guess", callback(0))[0] == 404
    assert post(base + "/", callback(0))[0] == 404
    assert rx.count == 0 and not rx.out.exists()


def test_other_methods_are_405(rx):
    assert post(rx.url, b"", method="GET")[0] == 405


def test_other_content_types_are_415(rx):
    assert post(rx.url, callback(0), content_type="text/plain")[0] == 415
    assert post(rx.url, callback(0), content_type=None)[0] == 415
    assert rx.count == 0


def test_json_with_charset_is_accepted(rx):
    assert post(rx.url, callback(0), content_type="application/json; charset=utf-8")[0] == 200


def test_bodies_over_the_limit_are_413(tmp_path):
    with CallbackReceiver(tmp_path / "cb.jsonl", max_body_bytes=1000) as rx:
        big = callback(0, note="x" * 2000)
        assert post(rx.url, big)[0] == 413
        assert post(rx.url, callback(1))[0] == 200
        assert rx.count == 1 and rx.rejected == {413: 1}


def test_malformed_json_is_400_and_kept_in_quarantine(rx):
    status, _ = post(rx.url, b'{"type": "otp-finished", ')
    assert status == 400
    (entry,) = log_lines(rx.quarantine_path)
    assert entry["body"] == '{"type": "otp-finished", ' and "malformed JSON" in entry["reason"]
    assert rx.count == 0 and not rx.out.exists()


def test_json_that_is_not_an_object_is_400_and_quarantined(rx):
    assert post(rx.url, [callback(0)])[0] == 400
    assert "expected a JSON object" in log_lines(rx.quarantine_path)[0]["reason"]


def test_binary_garbage_is_quarantined_as_base64(rx):
    assert post(rx.url, b"\xff\xfe\x00junk")[0] == 400
    entry = log_lines(rx.quarantine_path)[0]
    assert entry["encoding"] == "base64"


def test_in_memory_receiver_quarantines_in_memory():
    with CallbackReceiver() as rx:
        post(rx.url, b"{nope")
        assert rx.quarantined[0]["body"] == "{nope"


def test_a_post_without_content_length_is_411(rx):
    status = raw_request(rx.url, "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                 "Connection: close\r\n\r\n", b"{}")
    assert status.startswith(b"HTTP/1.1 411") and rx.count == 0


def test_a_chunked_post_is_buffered_by_the_server_and_stored(rx):
    body = json.dumps(callback(0)).encode()
    status = raw_request(rx.url, "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                 "Transfer-Encoding: chunked\r\n\r\n",
                         f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 200")
    assert log_lines(rx.out)[0]["call-id"] == callback(0)["call-id"]


@pytest.mark.parametrize("header", [
    "Content-Length: 0_2",            # int() would accept the underscore
    "Content-Length: +2",
    "Content-Length: 2 2",
    "Content-Length: 0x2",
    "Content-Length: -2",
    "Content-Length: \u0662",        # an Arabic-Indic digit, which int() also accepts
    "Content-Length: 2\r\nContent-Length: 2",
    "Content-Length: 2\r\nContent-Length: 3",
    "Content-Length: 2, 2",
])
def test_content_length_must_be_exactly_one_run_of_digits(rx, header):
    header = header.encode().decode("unicode_escape").encode("utf-8").decode("latin-1")
    status = raw_request(rx.url, "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                 f"{header}\r\nConnection: close\r\n\r\n", b"{}")
    assert status.startswith(b"HTTP/1.1 400"), status
    assert rx.count == 0 and not rx.out.exists()


def test_secret_must_be_one_path_segment():
    with pytest.raises(ValueError):
        CallbackReceiver(secret="a/b")


def test_an_empty_secret_listens_on_the_root(tmp_path):
    with CallbackReceiver(secret="") as rx:
        assert rx.url.endswith("/")
        assert post(rx.url, callback(0))[0] == 200


# --- concurrency and durability ------------------------------------------------------------------

@pytest.mark.slow
def test_thousands_of_concurrent_posts_are_all_stored_once_and_never_interleaved(rx):
    threads, per_thread = 8, 250
    statuses = []
    lock = threading.Lock()

    def worker(t):
        parts = urllib.parse.urlsplit(rx.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        mine = []
        for k in range(per_thread):
            i = t * per_thread + k
            body = json.dumps(callback(i, note="z" * (i % 97))).encode()
            conn.request("POST", parts.path, body=body, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            resp.read()
            mine.append(resp.status)
        conn.close()
        with lock:
            statuses.extend(mine)

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join(timeout=scaled(120))
    total = threads * per_thread
    assert statuses.count(200) == total
    lines = rx.out.read_bytes().split(b"\n")
    assert lines[-1] == b""
    records = [json.loads(line) for line in lines[:-1]]  # every line is whole JSON
    assert len(records) == total
    ids = [r["call-id"] for r in records]
    assert len(set(ids)) == total
    assert all(r["note"] == "z" * (int(r["call-id"][-12:]) % 97) for r in records)
    assert rx.count == total


def test_every_callback_is_fsynced_before_it_is_acknowledged(rx, monkeypatch):
    synced: set[str] = set()
    real_fsync = _logfile._fsync

    def recording_fsync(fd):
        real_fsync(fd)
        # What is on disk at this point may be acknowledged; record it.
        for line in rx.out.read_text(encoding="utf-8").splitlines():
            synced.add(json.loads(line)["call-id"])

    monkeypatch.setattr(_logfile, "_fsync", recording_fsync)
    failures = []

    def worker(t):
        for k in range(25):
            cb = callback(t * 100 + k)
            status, _ = post(rx.url, cb)
            # The moment the 200 arrives, the line must already have been fsynced.
            if status != 200 or cb["call-id"] not in synced:
                failures.append((status, cb["call-id"]))

    pool = [threading.Thread(target=worker, args=(t,)) for t in range(6)]
    for th in pool:
        th.start()
    for th in pool:
        th.join(timeout=scaled(60))
    assert failures == []
    assert len(synced) == 150


def test_a_failing_disk_is_not_acknowledged(rx, monkeypatch):
    def broken(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_logfile, "_fsync", broken)
    status, _ = post(rx.url, callback(0))
    assert status == 503  # the provider retries
    assert rx.count == 0 and rx.refused == 1


def test_a_receiver_that_keeps_nothing_in_memory_reads_its_log_for_the_frame(tmp_path):
    seen = []
    with CallbackReceiver(tmp_path / "cb.jsonl", keep_in_memory=False, rotate_daily=True,
                          on_callback=seen.append) as rx:
        for i in range(3):
            post(rx.url, callback(i))
        assert rx.count == 3 and rx.records() == []
        assert rx.frame()["instruction_id"].tolist() == ["row-0", "row-1", "row-2"]
    assert [r["call-id"] for r in seen] == [callback(i)["call-id"] for i in range(3)]


def test_keeping_nothing_needs_a_log_file():
    with pytest.raises(ValueError, match="needs an out file"):
        CallbackReceiver(keep_in_memory=False)


def test_a_failing_on_callback_hook_does_not_fail_the_post(rx):
    rx.on_callback = lambda rec: 1 / 0
    assert post(rx.url, callback(0))[0] == 200 and rx.count == 1


# --- a receiver you can leave running for a season (issue 11) ------------------------------------

@pytest.mark.slow
def test_a_burst_of_3000_posts_from_64_clients_on_fresh_connections_is_stored_exactly_once(rx):
    clients, total = 64, 3000
    parts = urllib.parse.urlsplit(rx.url)
    outcomes = []
    lock = threading.Lock()

    def client(c):
        mine = []
        for i in range(c, total, clients):
            body = json.dumps(callback(i)).encode()
            try:
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
                conn.request("POST", parts.path, body=body, headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                mine.append(resp.status)
                conn.close()
            except OSError as exc:  # a reset or refused connection
                mine.append(type(exc).__name__)
        with lock:
            outcomes.extend(mine)

    pool = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for th in pool:
        th.start()
    for th in pool:
        th.join(timeout=scaled(240))
    assert not any(th.is_alive() for th in pool)
    assert [o for o in outcomes if o != 200] == []  # 0 reset, 0 refused
    ids = [json.loads(line)["call-id"] for line in rx.out.read_text().splitlines()]
    assert len(ids) == total and len(set(ids)) == total  # 0 lost, 0 duplicated
    assert rx.count == total


def test_a_blocked_display_hook_never_delays_an_acknowledgement(tmp_path):
    release = threading.Event()
    shown = []

    def stuck(record):  # like print() into a pipe nobody reads
        release.wait(scaled(30))
        shown.append(record["call-id"])

    with CallbackReceiver(tmp_path / "cb.jsonl", on_callback=stuck, display_queue=10) as rx:
        for i in range(40):
            assert post(rx.url, callback(i))[0] == 200
        assert rx.count == 40
        assert rx.display_dropped >= 40 - 10 - 1  # the queue holds 10, the hook holds 1
        release.set()
    assert len(log_lines(rx.out)) == 40  # every callback stored, whatever the display dropped
    assert shown and len(shown) + rx.display_dropped == 40


@pytest.mark.parametrize("body, reason", [
    (b'{"type": "otp-finished", "x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", "nested too deeply"),
    (b'{"type": "otp-finished", "note": "\\ud800"}', "lone surrogate"),
    (b'{"type": "otp-finished", "note": "\xed\xa0\x80"}', "UTF-8"),
])
def test_bodies_that_break_the_parser_are_answered_400_and_quarantined_over_http(tmp_path, body, reason):
    with CallbackReceiver(tmp_path / "cb.jsonl", max_body_bytes=1 << 20) as rx:
        status, reply = post(rx.url, body)
        assert status == 400 and reason in reply["message"]
        assert post(rx.url, callback(0))[0] == 200  # and the receiver carries on
    assert reason in log_lines(rx.quarantine_path)[0]["reason"]
    assert len(log_lines(rx.out)) == 1


def test_the_health_url_answers_a_monitor(rx):
    post(rx.url, callback(0))
    with urllib.request.urlopen(rx.health_url, timeout=10) as resp:
        report = json.loads(resp.read())
    assert report["status"] == "ok" and report["callbacks"] == 1 and report["disk_free_bytes"] > 0


def test_a_stopped_receiver_can_be_started_again_and_keeps_appending(tmp_path):
    seen = []
    rx = CallbackReceiver(tmp_path / "cb.jsonl", on_callback=seen.append).start()
    post(rx.url, callback(0))
    rx.stop()
    rx.start()
    try:
        assert post(rx.url, callback(1))[0] == 200
    finally:
        rx.stop()
    assert [r["call-id"] for r in log_lines(rx.out)] == [callback(0)["call-id"], callback(1)["call-id"]]
    assert len(seen) == 2
