import json
import os
import signal
import subprocess
import sys
import urllib.request

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
            proc.wait(timeout=30)
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
            capture_output=True, text=True, timeout=60,
        )
    assert proc.returncode == 2
    assert "cannot listen" in proc.stderr
