"""What the simulator tests send and where its callbacks land: instructions, raw requests and a
tiny callback endpoint, all on loopback."""
from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from cmvoice_nb import spec
from cmvoice_nb.instructions import DTMF, OTP, Notification
from cmvoice_nb.simulator import SIMULATOR_TOKEN

CALLER = "+31201234567"
ANSWERS = "+31612345610"  # magic ending 10: always answered by a person


class CallbackReceiver:
    """A tiny HTTP endpoint that stores every JSON body POSTed to it.

    ``statuses`` are answered in order (one per request), then 200 for ever.
    """

    def __init__(self, statuses=()) -> None:
        self.statuses = list(statuses)
        self.bodies: list[dict] = []
        self.hits = 0
        self._lock = threading.Lock()
        self._cv = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._cv:
                    receiver.hits += 1
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    if status == 200:
                        receiver.bodies.append(json.loads(data))
                    receiver._cv.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/callbacks"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def wait_for(self, n: int, timeout: float = 10.0) -> list[dict]:
        """Wait until *n* bodies arrived; return them."""
        with self._cv:
            self._cv.wait_for(lambda: len(self.bodies) >= n, timeout)
            return list(self.bodies)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


UUID4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
ISO_MS_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def notification(callee=ANSWERS, **kw):
    kw.setdefault("prompt", "Your parcel arrives today")
    kw.setdefault("prompt_type", "TTS")
    return Notification(callee=callee, caller=CALLER, **kw)


def otp(callee=ANSWERS, **kw):
    return OTP(callee=callee, caller=CALLER, code="123abc", code_type="TTS", intro_prompt="Hello",
               intro_prompt_type="TTS", **kw)


def dtmf(callee=ANSWERS, **kw):
    return DTMF(callee=callee, caller=CALLER, prompt="Enter your code", prompt_type="TTS",
                min_digits=2, max_digits=5, max_attempts=3, **kw)


def post(sim, app_endpoint, body, *, token=SIMULATOR_TOKEN, raw=None):
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers[spec.TOKEN_HEADER] = token
    return requests.post(f"{sim.base_url}/{app_endpoint}", data=raw if raw is not None else json.dumps(body),
                         headers=headers, timeout=10)
