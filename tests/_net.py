"""Loopback addresses for tests: a free port, and a URL whose connections are refused."""
from __future__ import annotations

import socket


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def refusing_url(path: str = "") -> str:
    """A loopback URL nothing listens on: a request to it is refused before it is sent."""
    return f"http://127.0.0.1:{free_port()}{path}"
