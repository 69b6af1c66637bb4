import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from cmvoice_nb.callbacks import load_callbacks

from .._wait import scaled
from ._factory import callback


def test_receive_prints_the_url_first_stores_callbacks_and_stops_on_interrupt(tmp_path):
    out = tmp_path / "cb.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "cmvoice_nb", "receive", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and len(url.rsplit("/", 1)[1]) >= 16
        req = urllib.request.Request(url, data=json.dumps(callback(7)).encode(),
                                     headers={"Content-Type": "application/json"})
        assert urllib.request.urlopen(req, timeout=10).status == 200
        line = proc.stdout.readline()
        assert "notification-finished" in line and "result=10" in line
        assert json.loads(out.read_text().splitlines()[0])["call-id"] == callback(7)["call-id"]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=scaled(30))
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0
    assert "stopped after 1 callbacks" in proc.stderr.read()


def test_receive_reports_a_port_in_use(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "cmvoice_nb", "receive", "--out", str(tmp_path / "cb.jsonl"), "--port", str(port)],
            capture_output=True, text=True, timeout=scaled(60),
        )
    assert proc.returncode == 2
    assert "cannot listen" in proc.stderr


def start_receiver(tmp_path, *extra, preexec_fn=None):
    """`cmvoice receive` as a subprocess; returns (process, callback URL)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "cmvoice_nb", "receive", "--out", str(tmp_path / "cb.jsonl"), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=preexec_fn,
    )
    url = proc.stdout.readline().decode().strip()
    assert url.startswith("http://127.0.0.1:"), url
    return proc, url


def stop(proc, timeout=30):
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=scaled(timeout))
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    return proc.returncode, err.decode("utf-8", "replace")


def post_all(url, items):
    """POST each callback on one keep-alive connection; return the statuses."""
    import http.client
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20)
    statuses = []
    for item in items:
        conn.request("POST", parts.path, body=json.dumps(item).encode(), headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        resp.read()
        statuses.append(resp.status)
    conn.close()
    return statuses


@pytest.mark.slow
def test_an_unread_stdout_pipe_never_stops_acknowledgements(tmp_path):
    # One console line per callback is ~110 bytes: 2,000 of them overflow a 64 KiB pipe many times.
    proc, url = start_receiver(tmp_path)
    try:
        statuses = post_all(url, [callback(i) for i in range(2000)])  # stdout is never read again
        assert statuses == [200] * 2000
    finally:
        code, err = stop(proc)
    assert code == 0 and "Traceback" not in err
    assert "stopped after 2000 callbacks" in err
    lines = (tmp_path / "cb.jsonl").read_text().splitlines()
    assert len({json.loads(x)["call-id"] for x in lines}) == 2000


def _limit_file_size(limit):
    def apply():
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        # Writes past the limit then fail with EFBIG instead of killing the process (SIGXFSZ).
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    return apply


posix_only = pytest.mark.skipif(os.name != "posix", reason="RLIMIT_FSIZE and SIGXFSZ exist on POSIX only")


@posix_only
def test_a_full_disk_refuses_with_503_keeps_refused_callbacks_out_and_recovers(tmp_path):
    proc, url = start_receiver(tmp_path, preexec_fn=_limit_file_size(20_000))
    log = tmp_path / "cb.jsonl"
    items = [callback(i) for i in range(80)]
    try:
        statuses = post_all(url, items)
        acked = [cb["call-id"] for cb, s in zip(items, statuses, strict=True) if s == 200]
        refused = [cb for cb, s in zip(items, statuses, strict=True) if s != 200]
        assert set(statuses) == {200, 503} and statuses.index(503) == len(acked)  # full from then on
        with pytest.raises(urllib.error.HTTPError) as failing:
            urllib.request.urlopen(url + "/health", timeout=10)
        assert failing.value.code == 503 and json.loads(failing.value.read())["status"] == "failing"
        # Every acknowledged callback is on disk; no refused one is, and no line is torn.
        stored = [json.loads(x)["call-id"] for x in log.read_text().splitlines()]
        assert stored == acked
        # The operator makes room (here: moves the full log aside); the provider retries.
        log.rename(tmp_path / "cb-full.jsonl")
        assert post_all(url, refused) == [200] * len(refused)
        with urllib.request.urlopen(url + "/health", timeout=10) as resp:
            assert json.loads(resp.read())["status"] == "ok"
    finally:
        code, err = stop(proc)
    assert code == 0 and "Traceback" not in err
    calls = load_callbacks([tmp_path / "cb-full.jsonl", log])
    assert sorted(calls["call_id"]) == sorted(cb["call-id"] for cb in items)  # each exactly once
    assert calls.attrs["load_report"].ok and calls.attrs["load_report"].duplicates_removed == 0


@posix_only
def test_stopping_while_the_disk_is_full_exits_cleanly_with_a_message(tmp_path):
    proc, url = start_receiver(tmp_path, preexec_fn=_limit_file_size(5_000))
    try:
        statuses = post_all(url, [callback(i) for i in range(30)])
        assert statuses[-1] == 503
    finally:
        code, err = stop(proc)
    assert code == 0, err
    assert "Traceback" not in err
    assert "refused with 503" in err and "File too large" in err


def test_cmvoice_receive_as_shipped_refuses_a_sloppy_content_length(tmp_path):
    import socket
    import urllib.parse

    proc, url = start_receiver(tmp_path)
    parts = urllib.parse.urlsplit(url)
    answers = []
    try:
        for header in ("Content-Length: 0_2", "Content-Length: 2\r\nContent-Length: 2",
                       "Content-Length: 2\r\nContent-Length: 3", "Content-Length: +2"):
            with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
                sock.sendall(f"POST {parts.path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                             f"{header}\r\n\r\n{{}}".encode())
                answers.append(sock.recv(64).split(b"\r\n", 1)[0])
        assert post_all(url, [callback(1)]) == [200]  # and it still serves
    finally:
        code, _ = stop(proc)
    assert answers == [b"HTTP/1.1 400 Bad Request"] * 4
    assert code == 0 and len((tmp_path / "cb.jsonl").read_text().splitlines()) == 1


def test_receive_refuses_to_start_when_the_log_folder_cannot_be_created(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log folder should be")
    proc = subprocess.run(
        [sys.executable, "-m", "cmvoice_nb", "receive", "--out", str(blocker / "logs" / "cb.jsonl")],
        capture_output=True, text=True, timeout=scaled(60),
    )
    assert proc.returncode == 2 and "cannot create" in proc.stderr and proc.stdout == ""
