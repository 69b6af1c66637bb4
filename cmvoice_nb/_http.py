"""Helpers shared by the package's two HTTP servers (the simulator and the callback receiver)."""
from __future__ import annotations

import json
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any


def send_json(handler: BaseHTTPRequestHandler, status: int, payload: Any, *,
              headers: Mapping[str, str] | None = None, close: bool = False,
              content_type: str = "application/json; charset=utf-8") -> None:
    """Answer the current request with *payload* as JSON.

    Always sends ``Content-Length`` (HTTP/1.1 keep-alive needs it); ``close=True`` ends the
    connection after the answer (used for errors where the rest of the stream cannot be trusted).
    A HEAD request gets the headers only.
    """
    data = json.dumps(payload).encode("utf-8")
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    for key, value in (headers or {}).items():
        handler.send_header(key, value)
    if close:
        handler.send_header("Connection", "close")
        handler.close_connection = True
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(data)
