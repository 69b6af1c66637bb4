"""`cmvoice receive` as a real subprocess on 127.0.0.1, and the hostile clients that test it."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from .._wait import scaled


def post(url, body, *, content_type="application/json", method="POST", headers=None):
    """Send one request on a fresh connection; return (status, parsed JSON reply)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    hdrs = {"Content-Type": content_type} if content_type else {}
    hdrs.update(headers or {})
    try:
        conn.request(method, parts.path, body=data if method == "POST" else None, headers=hdrs)
        resp = conn.getresponse()
        raw = resp.read()
        try:
            return resp.status, (json.loads(raw) if raw else None)
        except ValueError:  # the server's own answers (413 over the body limit) are text
            return resp.status, raw.decode("latin-1")
    finally:
        conn.close()


def raw_request(url, head: str, body: bytes = b"") -> bytes:
    """Send bytes exactly as given on a fresh socket; return the status line."""
    parts = urllib.parse.urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head.replace("{path}", parts.path).encode("latin-1") + body)
        reply = b""
        while b"\r\n" not in reply:
            chunk = sock.recv(1024)
            if not chunk:
                break
            reply += chunk
    return reply.split(b"\r\n", 1)[0]


class Receiver:
    """A running ``cmvoice receive``: its process, URL, log and stderr (a file, readable any time)."""

    def __init__(self, tmp_path: Path, *args: str, script: str | None = None, env: dict | None = None,
                 preexec_fn=None, out: Path | None = None) -> None:
        self.log = out or tmp_path / "cb.jsonl"
        self.stderr_path = tmp_path / f"receiver-{time.monotonic_ns()}.err"
        command = [sys.executable, "-m", "cmvoice_nb"] if script is None else [sys.executable, "-c", script]
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [*command, "receive", "--out", str(self.log), "--quiet", *args],
            stdout=subprocess.PIPE, stderr=self._stderr, preexec_fn=preexec_fn,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
        )
        self.url = self.proc.stdout.readline().decode().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            self.proc.kill()
            raise AssertionError(f"no URL line; stderr: {self.stderr()}")
        parts = urllib.parse.urlsplit(self.url)
        self.port, self.path = parts.port, parts.path
        self.pid = self.proc.pid

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def post(self, item: dict, *, timeout: float = 20) -> int:
        """POST one callback on a fresh connection; the status, or the error's name."""
        req = urllib.request.Request(self.url, data=json.dumps(item).encode(),
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def health(self, *, timeout: float = 20) -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(self.url + "/health", timeout=timeout) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    def logged_ids(self) -> list[str]:
        if not self.log.exists():
            return []
        return [json.loads(line)["call-id"] for line in self.log.read_text(encoding="utf-8").splitlines()]

    def keep_alive(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)

    def stop(self, sig=signal.SIGINT, timeout: float = 60) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=scaled(timeout))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=scaled(30))
            raise
        finally:
            self._stderr.close()
            self.proc.stdout.close()
        return self.proc.returncode, self.stderr()


def post_on(conn: http.client.HTTPConnection, path: str, item: dict) -> int:
    conn.request("POST", path, body=json.dumps(item).encode(), headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    resp.read()
    return resp.status


def status_line(sock: socket.socket) -> bytes:
    """The first line of what the server answers on *sock* (b"" if it closed without a word)."""
    reply = b""
    try:
        while b"\r\n" not in reply:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    except OSError:
        pass
    return reply.split(b"\r\n", 1)[0]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def open_descriptors(pid: int) -> list[str]:
    """Where each of the process's descriptors points (Linux)."""
    targets = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            targets.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            pass
    return targets


def raise_own_open_file_limit(wanted: int) -> int:
    """Let this test process (and the receivers it starts) hold *wanted* descriptors; returns the soft limit."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))  # allowed for root (CI)
            return wanted
        except (ValueError, OSError):
            wanted = hard
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return wanted if soft == resource.RLIM_INFINITY else soft
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return wanted


def limit_open_files(n: int):
    """A preexec_fn giving the child an open-file limit of *n* (soft and hard: it cannot raise it)."""
    def apply():
        import resource

        resource.setrlimit(resource.RLIMIT_NOFILE, (n, n))

    return apply


def idle_connections(port: int, n: int) -> list[socket.socket]:
    """*n* TCP connections that never send a byte."""
    socks = []
    for _ in range(n):
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=30))
    return socks


def close_all(socks) -> None:
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


__all__ = ["Receiver", "post", "raw_request", "post_on", "status_line", "rss_kib", "open_descriptors",
           "raise_own_open_file_limit", "limit_open_files", "idle_connections", "close_all"]
