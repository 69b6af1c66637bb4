"""Nobody without the secret can take the receiver down: descriptors, connection limits, timeouts, a dead loop."""
import json
import os
import socket
import struct
import threading
import time
import urllib.parse

import pytest

from cmvoice_nb.callbacks import _server, receiver as receiver_module
from cmvoice_nb.callbacks.receiver import CallbackReceiver, plan_connections

from .._wait import scaled, wait_until
from ._factory import callback
from ._process import (
    Receiver,
    close_all,
    idle_connections,
    limit_open_files,
    open_descriptors,
    post,
    raise_own_open_file_limit,
    status_line,
)

posix_only = pytest.mark.skipif(os.name != "posix", reason="RLIMIT_NOFILE and /proc exist on POSIX (Linux) only")
linux_only = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads /proc/<pid>")


# --- the plan: connections fit under the open-file limit and the socket watcher's ---------------------

def test_the_connection_limit_leaves_descriptors_for_the_log_under_a_fixed_open_file_limit():
    plan = plan_connections(1000, soft=1024, hard=1024, in_use=10, has_poll=True)
    assert plan.connection_limit == 1024 - 10 - receiver_module.RESERVED_DESCRIPTORS
    assert plan.open_file_limit == 1024 and "poll" in plan.note and "1000 asked" in plan.note


def test_the_soft_open_file_limit_is_raised_toward_the_hard_one_only_as_far_as_needed():
    plan = plan_connections(3000, soft=1024, hard=1_048_576, in_use=20, has_poll=True)
    assert plan.connection_limit == 3000 and plan.open_file_limit == 3000 + 20 + receiver_module.RESERVED_DESCRIPTORS
    capped = plan_connections(3000, soft=1024, hard=2048, in_use=20, has_poll=True)
    assert capped.open_file_limit == 2048
    assert capped.connection_limit == 2048 - 20 - receiver_module.RESERVED_DESCRIPTORS
    unlimited = plan_connections(3000, soft=256, hard=None, in_use=20, has_poll=True)  # macOS: hard is infinity
    assert unlimited.connection_limit == 3000


def test_a_soft_limit_above_what_is_needed_is_left_alone():
    plan = plan_connections(1000, soft=20_000, hard=20_000, in_use=10, has_poll=True)
    assert (plan.connection_limit, plan.open_file_limit) == (1000, 20_000)


def test_on_windows_select_keeps_the_limit_under_its_512_sockets_and_says_so():
    plan = plan_connections(1000, soft=None, hard=None, in_use=10, has_poll=False, platform="nt")
    assert plan.watcher == "select" and plan.connection_limit < 512 - 2
    assert "select(): Windows watches at most 512 sockets" in plan.note


def test_without_poll_elsewhere_descriptor_numbers_stay_below_1024():
    plan = plan_connections(5000, soft=65536, hard=65536, in_use=30, has_poll=False, platform="posix")
    assert plan.connection_limit + 30 + receiver_module.RESERVED_DESCRIPTORS <= 1024


def test_a_tiny_open_file_limit_still_allows_one_connection():
    assert plan_connections(1000, soft=40, hard=40, in_use=30, has_poll=True).connection_limit == 1


# --- in process: timeouts and room at the limit ---------------------------------------------------------

def _connect(rx):
    parts = urllib.parse.urlsplit(rx.url)
    return socket.create_connection((parts.hostname, parts.port), timeout=30)


def _closed_by_server(sock) -> bool:
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def test_an_idle_connection_is_closed_after_the_idle_timeout(tmp_path):
    with CallbackReceiver(tmp_path / "cb.jsonl", idle_timeout_s=1) as rx:
        sock = _connect(rx)
        sock.settimeout(20)
        assert _closed_by_server(sock)  # recv returns when the server closes it
        sock.close()
        assert post(rx.url, callback(0))[0] == 200


def test_a_request_trickling_in_is_closed_after_the_request_timeout(tmp_path):
    with CallbackReceiver(tmp_path / "cb.jsonl", request_timeout_s=1, idle_timeout_s=120) as rx:
        sock = _connect(rx)
        sock.settimeout(0.2)
        closed = False
        deadline = time.monotonic() + 30
        head = f"POST {urllib.parse.urlsplit(rx.url).path} HTTP/1.1\r\nHost: x\r\nX-Slow: ".encode()
        sock.sendall(head)
        while not closed and time.monotonic() < deadline:
            try:
                sock.sendall(b"a")  # one byte at a time: never idle, never complete
            except OSError:
                closed = True
                break
            closed = _closed_by_server(sock)
        sock.close()
        assert closed
        assert rx.health()["server"]["timed_out"] >= 1


def test_at_the_limit_idle_connections_make_room_for_a_callback(tmp_path):
    with CallbackReceiver(tmp_path / "cb.jsonl", connection_limit=5) as rx:
        socks = [_connect(rx) for _ in range(12)]
        try:
            assert post(rx.url, callback(1))[0] == 200
            assert rx.health()["server"]["closed_to_make_room"] >= 1
        finally:
            close_all(socks)
    assert rx.count == 1


def test_at_the_limit_requests_stuck_half_way_make_room_too(tmp_path):
    with CallbackReceiver(tmp_path / "cb.jsonl", connection_limit=4, request_timeout_s=600) as rx:
        path = urllib.parse.urlsplit(rx.url).path
        socks = []
        for _ in range(8):
            s = _connect(rx)
            s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n".encode())
            socks.append(s)
        try:
            assert post(rx.url, callback(2))[0] == 200
        finally:
            close_all(socks)


# --- the serving loop: never a silent zombie ----------------------------------------------------------------

def _failing_poll(monkeypatch, trip: threading.Event, *, block: threading.Event | None = None):
    from waitress import wasyncore

    real = wasyncore.poll2

    def poll2(timeout, map):
        if trip.is_set():
            if block is not None:
                block.wait(scaled(30))
            else:
                raise RuntimeError("injected loop failure")
        return real(timeout, map)

    monkeypatch.setattr(wasyncore, "poll2", poll2)
    monkeypatch.setattr(wasyncore, "poll", poll2)


def test_a_dead_serving_loop_is_reported_to_on_failure_and_to_health(tmp_path, monkeypatch):
    trip, heard = threading.Event(), []
    _failing_poll(monkeypatch, trip)
    rx = CallbackReceiver(tmp_path / "cb.jsonl", on_failure=heard.append).start()
    try:
        assert post(rx.url, callback(0))[0] == 200
        trip.set()
        wait_until(lambda: heard, timeout=30, what="on_failure")
        assert heard == ["RuntimeError: injected loop failure"] and rx.failure == heard[0] and not rx.running
        report = rx.health()
        assert report["status"] == "failing"
        assert report["problems"] == ["the serving loop stopped: RuntimeError: injected loop failure"]
        assert "failed" in repr(rx)
    finally:
        rx.stop()


def test_a_stuck_serving_loop_is_reported(tmp_path, monkeypatch):
    trip, release = threading.Event(), threading.Event()
    _failing_poll(monkeypatch, trip, block=release)
    monkeypatch.setattr(_server, "LOOP_STALL_S", 0.5)
    rx = CallbackReceiver(tmp_path / "cb.jsonl").start()
    try:
        trip.set()
        problem = wait_until(lambda: rx.server_problem, timeout=30, what="a stall report")
        assert "has not come round" in problem and rx.health()["status"] == "failing"
    finally:
        release.set()
        trip.clear()
        rx.stop()


def test_without_a_hook_a_dead_loop_is_logged_as_an_error(tmp_path, monkeypatch, caplog):
    trip = threading.Event()
    _failing_poll(monkeypatch, trip)
    caplog.set_level("ERROR", logger="cmvoice_nb.callbacks")
    rx = CallbackReceiver(tmp_path / "cb.jsonl").start()
    try:
        trip.set()
        wait_until(lambda: rx.failure, timeout=30, what="the failure")
        # (the failure is recorded before it is logged, from the loop's own thread)
        wait_until(lambda: any("serving loop stopped" in r.getMessage() for r in caplog.records), timeout=30,
                   what="the error logged")
    finally:
        rx.stop()


# --- the real command in a subprocess ---------------------------------------------------------------------

@pytest.mark.slow
@posix_only
@linux_only
def test_1200_idle_connections_past_descriptor_1024_never_stop_callbacks(tmp_path):
    raise_own_open_file_limit(4096)
    rx = Receiver(tmp_path, "--connection-limit", "1500")
    socks = []
    try:
        assert rx.post(callback(0)) == 200
        socks = idle_connections(rx.port, 1200)
        # The child really holds them: its descriptor numbers go past select()'s 1,024.
        wait_until(lambda: len(open_descriptors(rx.pid)) > 1200, timeout=60, what="1200 accepted connections")
        assert rx.post(callback(1)) == 200  # during
        status, report = rx.health()
        assert status == 200 and report["server"]["connections"] >= 1200
        assert report["server"]["watcher"] == "poll"
        close_all(socks)
        socks = []
        wait_until(lambda: rx.health()[1]["server"]["connections"] < 10, timeout=60, what="connections closed")
        assert rx.post(callback(2)) == 200  # after
        assert rx.logged_ids() == [callback(i)["call-id"] for i in range(3)]
    finally:
        close_all(socks)
        code, err = rx.stop()
    assert code == 0, err
    assert "Traceback" not in err and "up to 1500 connections (poll" in err


@pytest.mark.slow
@posix_only
@linux_only
def test_with_an_open_file_limit_of_1024_the_receiver_keeps_answering_1100_idle_connections(tmp_path):
    raise_own_open_file_limit(4096)
    rx = Receiver(tmp_path, preexec_fn=limit_open_files(1024))
    socks = []
    try:
        socks = idle_connections(rx.port, 1100)  # more than the child may open
        assert rx.post(callback(0)) == 200  # the oldest idle connections make room
        status, report = rx.health()
        assert status == 200
        limit = report["server"]["connection_limit"]
        assert limit < 1024 - 32 and report["server"]["closed_to_make_room"] >= 1
        assert len(open_descriptors(rx.pid)) < 1024
        assert rx.post(callback(1)) == 200
        close_all(socks)
        socks = []
        assert rx.post(callback(2)) == 200
        assert rx.logged_ids() == [callback(i)["call-id"] for i in range(3)]
    finally:
        close_all(socks)
        code, err = rx.stop()
    assert code == 0, err
    assert "Traceback" not in err
    # One throttled line about the limit at most, not one per connection.
    assert len([line for line in err.splitlines() if "limit" in line and "WARNING" in line]) <= 2, err
    assert "up to" in err and "1000 asked" in err


INJECT = """
import os, sys
from waitress import wasyncore
from cmvoice_nb import cli

log = sys.argv[sys.argv.index("--out") + 1]
real = wasyncore.poll2

def poll2(timeout, map):
    # Dies once a callback is stored and its connection is gone (its answer was sent).
    served = os.path.exists(log) and os.path.getsize(log) > 0
    if served and not any(type(d).__name__ == "Channel" for d in list(map.values())):
        raise MemoryError("injected: the serving loop dies")
    return real(timeout, map)

wasyncore.poll2 = wasyncore.poll = poll2
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_when_the_serving_loop_dies_the_command_exits_non_zero_with_one_clear_line(tmp_path):
    rx = Receiver(tmp_path, script=INJECT)
    try:
        assert rx.post(callback(0)) == 200
        wait_until(lambda: rx.proc.poll() is not None, timeout=60, what="the process to exit")
    finally:
        code, err = rx.stop()
    assert code == 1
    lines = [line for line in err.splitlines() if not line.startswith("cmvoice receive: appending")]
    assert lines == ["cmvoice receive: the server stopped serving (MemoryError: injected: the serving loop dies) "
                     "after 1 callbacks; exiting with status 1 so that a supervisor restarts it"]
    assert rx.logged_ids() == [callback(0)["call-id"]]


@pytest.mark.slow
def test_health_fails_with_a_reason_when_the_log_folder_is_removed_and_recovers_when_it_is_back(tmp_path):
    folder = tmp_path / "logs"
    rx = Receiver(tmp_path, out=folder / "cb.jsonl")
    try:
        assert rx.post(callback(0)) == 200
        assert rx.health()[0] == 200
        for p in folder.iterdir():
            p.unlink()
        folder.rmdir()  # a volume unmounted, a cleanup gone wrong: root cannot write there either
        status, report = rx.health()
        assert status == 503 and report["status"] == "failing"
        assert "is gone" in report["problems"][0] and str(folder) in report["problems"][0]
        assert rx.post(callback(1)) == 503  # never a 200 into a deleted file
        assert not folder.exists()  # not recreated behind the operator's back
        folder.mkdir()
        assert rx.post(callback(1)) == 200  # the provider's retry
        assert rx.health()[0] == 200
        assert rx.logged_ids() == [callback(1)["call-id"]]
    finally:
        code, err = rx.stop()
    assert code == 0 and "Traceback" not in err
    assert "1 callback(s) refused with 503" in err
    assert json.loads((folder / "cb.jsonl").read_text())["call-id"] == callback(1)["call-id"]


def test_a_connection_closed_before_it_is_served_does_not_disturb_the_server(rx):
    for _ in range(50):
        s = _connect(rx)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()  # a reset, before or while it is accepted
    sock = _connect(rx)
    sock.sendall(f"GET {urllib.parse.urlsplit(rx.url).path}/health HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert status_line(sock) == b"HTTP/1.1 200 OK"
    sock.close()
