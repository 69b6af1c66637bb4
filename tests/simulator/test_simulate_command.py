"""``cmvoice simulate`` in a real subprocess: first line is the base URL; SIGINT/SIGTERM exit 0."""
from __future__ import annotations

import json
import re
import signal
import subprocess
import sys

import pytest
import requests

from cmvoice_nb.simulator import SIMULATOR_TOKEN

from .._wait import finish, scaled

BODY = {"instruction-id": "cli-1", "callee": "+31612345610", "caller": "+31201234567", "prompt": "hi",
        "prompt-type": "TTS"}


def start(*args):
    proc = subprocess.Popen([sys.executable, "-m", "cmvoice_nb", "simulate", "--port", "0", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline().strip()
    return proc, first


def send(url, token=SIMULATOR_TOKEN):
    return requests.post(f"{url}/Notification", data=json.dumps(BODY), timeout=10,
                         headers={"X-CM-PRODUCTTOKEN": token, "Content-Type": "application/json"})


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_the_first_line_is_the_base_url_and_a_signal_stops_it_cleanly(sig):
    proc, url = start("--seed", "3")
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/voiceapi/v2", url)
        response = send(url)
        assert response.status_code == 200 and response.json()[0]["success"] is True
        proc.send_signal(sig)
        out, err = finish(proc, timeout=20)
    finally:
        proc.kill() if proc.poll() is None else None
    assert proc.returncode == 0
    assert re.search(r"POST /voiceapi/v2/Notification 200 instruction=cli-1 calls=1", out)
    assert "stopped after 1 requests, 1 calls" in err


def test_a_given_token_is_the_only_one_accepted_and_never_printed():
    token = "0badc0de-1111-4222-8333-444455556666"
    proc, url = start("--token", token)
    try:
        assert send(url).status_code == 401
        assert send(url, token).status_code == 200
        proc.send_signal(signal.SIGTERM)
        out, err = finish(proc, timeout=20)
    finally:
        proc.kill() if proc.poll() is None else None
    assert proc.returncode == 0
    assert token not in out + err
    assert "401" in out


def test_faults_can_be_set_from_the_command_line():
    proc, url = start("--rate-429", "1")
    try:
        response = send(url)
        assert response.status_code == 429 and response.headers["Retry-After"] == "1"
        proc.send_signal(signal.SIGTERM)
        finish(proc, timeout=20)
    finally:
        proc.kill() if proc.poll() is None else None
    assert proc.returncode == 0


def test_a_port_in_use_is_a_clear_error():
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "cmvoice_nb", "simulate", "--port", str(port)],
                                capture_output=True, text=True, timeout=scaled(30))
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def read_banner(proc):
    """The lines after the base URL, up to the last paste line (cmd.exe's)."""
    lines = []
    while not (lines and "rem cmd.exe" in lines[-1]):
        line = proc.stdout.readline()
        assert line, "the simulator stopped before printing its paste lines"
        lines.append(line.rstrip("\n"))
    return lines


def test_it_prints_the_test_token_and_a_line_that_points_a_shell_at_it(monkeypatch):
    import shlex

    from cmvoice_nb import Notification, VoiceClient

    proc, url = start()
    try:
        banner = read_banner(proc)
        assert any(SIMULATOR_TOKEN in line and line.startswith("#") for line in banner)
        [export] = [line for line in banner if line.startswith("export ")]
        # Paste it as a POSIX shell would read it, into this process's environment.
        words = shlex.split(export)
        assert words[0] == "export"
        env = dict(w.split("=", 1) for w in words[1:])
        assert env == {"CM_PRODUCT_TOKEN": SIMULATOR_TOKEN, "CMVOICE_BASE_URL": url}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        with VoiceClient() as client:  # token and base URL from the pasted environment only
            result = client.send(Notification(callee="+31612345610", caller="+31201234567", prompt="hi",
                                              prompt_type="TTS"))
        assert result.ok
        [ps] = [line for line in banner if line.startswith("$env:")]
        assert dict(re.findall(r'\$env:(\w+)="([^"]*)"', ps)) == env
        [cmd] = [line for line in banner if line.startswith("set ")]
        assert dict(re.findall(r'set "(\w+)=([^"]*)"', cmd)) == env
        proc.send_signal(signal.SIGTERM)
        finish(proc, timeout=20)
    finally:
        proc.kill() if proc.poll() is None else None
    assert proc.returncode == 0


def test_with_a_given_token_the_paste_lines_set_the_base_url_only():
    token = "0badc0de-1111-4222-8333-444455556666"
    proc, url = start("--token", token)
    try:
        banner = read_banner(proc)
        proc.send_signal(signal.SIGTERM)
        out, err = finish(proc, timeout=20)
    finally:
        proc.kill() if proc.poll() is None else None
    assert f"export CMVOICE_BASE_URL={url}" in banner
    assert not any("CM_PRODUCT_TOKEN=" in line for line in banner)
    assert token not in "\n".join(banner) + out + err
