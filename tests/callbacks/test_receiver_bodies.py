"""Bodies: the server refuses what the app would refuse, before reading it; nothing reaches a temporary file."""
import json
import os
import socket
import urllib.parse

import pytest

from cmvoice_nb.callbacks.receiver import CallbackReceiver

from .._wait import wait_until
from ._factory import callback
from ._process import Receiver, close_all, open_descriptors, post, raw_request, rss_kib, status_line

linux_only = pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads /proc/<pid>")

MB = 1_000_000


def padded(size: int) -> bytes:
    """A valid callback of exactly *size* bytes (JSON allows trailing spaces)."""
    body = json.dumps(callback(0)).encode()
    return body + b" " * (size - len(body))


# --- the limit, to the byte ------------------------------------------------------------------------------

def test_a_body_of_exactly_max_body_bytes_is_stored_and_one_byte_more_is_refused_by_the_server(tmp_path):
    with CallbackReceiver(tmp_path / "cb.jsonl", max_body_bytes=1000) as rx:
        assert post(rx.url, padded(1000))[0] == 200
        status, reply = post(rx.url, padded(1001))
        assert status == 413 and "exceeds max_body" in reply  # waitress's own answer: the app never saw it
        assert rx.count == 1 and rx.rejected == {413: 1}


def test_a_chunked_body_within_the_limit_is_stored_and_one_past_it_is_refused(tmp_path):
    with CallbackReceiver(tmp_path / "cb.jsonl", max_body_bytes=1000) as rx:
        head = ("POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        small = padded(600)
        assert raw_request(rx.url, head, b"258\r\n" + small + b"\r\n0\r\n\r\n").startswith(b"HTTP/1.1 200")
        chunks = b"".join(b"100\r\n" + b" " * 256 + b"\r\n" for _ in range(8))  # 2 KiB in 256-byte chunks
        assert raw_request(rx.url, head, chunks + b"0\r\n\r\n").startswith(b"HTTP/1.1 413")
        assert rx.count == 1


def test_headers_larger_than_the_header_limit_are_refused(rx):
    status = raw_request(rx.url, "GET {path}/health HTTP/1.1\r\nHost: x\r\nX-Pad: " + "a" * 20_000 + "\r\n\r\n")
    assert status.split(b" ", 1)[1].startswith(b"431")  # waitress answers as HTTP/1.0 once it gave up parsing
    assert post(rx.url, callback(0))[0] == 200


def test_a_huge_declared_body_to_any_path_is_refused_from_its_headers(rx):
    for path in ("{path}", "/wrong"):
        status = raw_request(rx.url, f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                     f"Content-Length: {8 * MB}\r\n\r\n")  # no body sent at all
        assert status.startswith(b"HTTP/1.1 413")


# --- the real command: 60 stalled 8 MB bodies -----------------------------------------------------------------

def _stalled_post(port: int, path: str, *, send: int) -> socket.socket:
    """Declare an 8 MB body, send *send* bytes of it, then stall with the connection open."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {8 * MB}\r\n\r\n".encode())
    try:
        sock.sendall(b"x" * send)
    except OSError:
        pass  # refused and closed while we were still sending: the point
    return sock


def _chunked_post(port: int, path: str, *, chunks: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n".encode())
    try:
        for _ in range(chunks):
            sock.sendall(b"10000\r\n" + b"x" * 0x10000 + b"\r\n")  # 64 KiB chunks, never a last one
    except OSError:
        pass
    return sock


def _spooled(pid: int, tmpdir) -> list[str]:
    """Descriptors of the process pointing into *tmpdir* (unnamed O_TMPFILE files show up there too)."""
    return [t for t in open_descriptors(pid) if t.startswith(str(tmpdir))]


@pytest.mark.slow
@linux_only
def test_sixty_stalled_8mb_bodies_to_a_wrong_path_use_no_temporary_disk_and_little_memory(tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    rx = Receiver(tmp_path, env={"TMPDIR": str(tmpdir)})
    socks = []
    try:
        assert rx.post(callback(0)) == 200
        before = rss_kib(rx.pid)
        socks = [_stalled_post(rx.port, "/not-the-secret", send=1 << 20) for _ in range(60)]
        assert rx.health()[0] == 200  # the server has seen them all (one loop, in order)
        assert _spooled(rx.pid, tmpdir) == [] and list(tmpdir.iterdir()) == []
        grown_kib = rss_kib(rx.pid) - before
        assert grown_kib < 32 * 1024, f"RSS grew by {grown_kib} KiB"
        answers = [status_line(s) for s in socks]
        assert answers == [b"HTTP/1.1 413 Request Entity Too Large"] * 60
        assert _spooled(rx.pid, tmpdir) == [] and rss_kib(rx.pid) - before < 32 * 1024
        chunked = [_chunked_post(rx.port, p, chunks=40) for p in ("/not-the-secret", rx.path) * 5]
        socks += chunked
        assert [status_line(s) for s in chunked] == [b"HTTP/1.1 413 Request Entity Too Large"] * 10
        assert _spooled(rx.pid, tmpdir) == [] and list(tmpdir.iterdir()) == []
        assert rx.post(callback(1)) == 200  # and it still serves
        status, report = rx.health()
        assert report["server"]["refused"] == {"413": 70}
    finally:
        close_all(socks)
        code, err = rx.stop()
    assert code == 0 and "Traceback" not in err
    assert rx.logged_ids() == [callback(0)["call-id"], callback(1)["call-id"]]
    assert "413: 70" in err


@pytest.mark.slow
@linux_only
def test_sixty_connections_each_sending_a_body_just_within_the_limit_slowly_stay_in_memory(tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    rx = Receiver(tmp_path, env={"TMPDIR": str(tmpdir)})
    limit = 64 * 1024
    socks = []
    try:
        before = rss_kib(rx.pid)
        for _ in range(60):
            sock = socket.create_connection(("127.0.0.1", rx.port), timeout=10)
            sock.sendall(f"POST /not-the-secret HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {limit}\r\n\r\n".encode() + b"x" * (limit - 1))  # one byte short
            socks.append(sock)
        wait_until(lambda: rx.health()[1]["server"]["connections"] >= 60, timeout=60, what="60 held connections")
        assert _spooled(rx.pid, tmpdir) == [] and list(tmpdir.iterdir()) == []
        grown_kib = rss_kib(rx.pid) - before
        assert grown_kib < 60 * 64 + 32 * 1024, f"RSS grew by {grown_kib} KiB"
        for sock in socks:
            sock.sendall(b"x")  # the last byte: each is answered 404, without the secret
        assert [status_line(s) for s in socks] == [b"HTTP/1.1 404 Not Found"] * 60
    finally:
        close_all(socks)
        code, err = rx.stop()
    assert code == 0 and "Traceback" not in err


def test_wrong_path_bodies_within_the_limit_are_read_and_answered_404_on_a_kept_connection(rx):
    parts = urllib.parse.urlsplit(rx.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        body = b"x" * 5000
        for _ in range(2):  # the second request on the same connection is parsed cleanly
            sock.sendall(b"POST /guess HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            reply = b""
            while b"}" not in reply:
                reply += sock.recv(4096)
            assert reply.startswith(b"HTTP/1.1 404")


# --- nothing spooled: a chunked body that crosses the limit within one read ---------------------------------

@pytest.fixture
def temporary_files(monkeypatch):
    """Every ``tempfile.TemporaryFile`` the process opens from now on (waitress spools with it)."""
    import tempfile

    opened = []
    real = tempfile.TemporaryFile

    def spy(*args, **kwargs):
        opened.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryFile", spy)
    return opened


@pytest.mark.parametrize("path", ["{path}", "/not-the-secret"])
def test_a_chunked_body_crossing_the_limit_within_one_read_is_refused_without_a_temporary_file(
        tmp_path, temporary_files, path):
    # The server reads 8 KiB at a time and checks the limit once a read is buffered: the read that
    # crosses the limit lands up to 8 KiB past it, and must still be held in memory.
    limit = 20_000
    with CallbackReceiver(tmp_path / "cb.jsonl", max_body_bytes=limit) as rx:
        head = (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
        chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n0\r\n\r\n"  # one 64 KiB chunk
        assert raw_request(rx.url, head, chunk).startswith(b"HTTP/1.1 413")
        assert post(rx.url, padded(limit))[0] == 200  # and a body at the limit still is stored
        wait_until(lambda: rx.health()["server"]["connections"] == 0, what="the connections closed")
    assert temporary_files == []
