"""VoiceClient against a scripted HTTP server on loopback: every status and transport failure."""
import http.server
import json
import logging
import socket
import threading

import pytest
import requests

from cmvoice_nb import (
    AuthenticationError,
    ConfigurationError,
    ConnectError,
    ConnectionDropped,
    InstructionRejected,
    Notification,
    RateLimited,
    ReadTimeout,
    ServerError,
    ValidationError,
    VoiceClient,
)
from cmvoice_nb.client import parse_retry_after

from ._net import refusing_url
from ._wait import scaled

TOKEN = "11111111-2222-4333-8444-555555555555"
GOOD = dict(callee="+31612345678", caller="+31201234567", prompt="Hello", prompt_type="TTS")


class Scripted(http.server.BaseHTTPRequestHandler):
    """Answers each POST with the server's next scripted action."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        action = self.server.script.pop(0)
        if action == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if action == "hang":  # read the instruction, then say nothing until the test is over
            self.server.release.wait(scaled(30))
            return
        status, payload, headers = action
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        for k, v in {"Content-Type": "application/json", "Content-Length": str(len(data)), **headers}.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    srv.daemon_threads = True
    srv.script, srv.seen, srv.release = [], [], threading.Event()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    srv.base_url = f"http://127.0.0.1:{srv.server_address[1]}/voiceapi/v2"
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()


def queued(callee="+31612345678", success=True, **extra):
    return {"type": "call-queued", "call-id": "6d0f176e-00ac-4de2-a04d-b3f7c895adb0", "caller": "+31201234567",
            "callee": callee, "success": success, **extra}


def test_send_posts_the_wire_json_with_the_token_header_to_the_app_endpoint(server):
    server.script.append((200, [queued()], {}))
    result = VoiceClient(TOKEN, base_url=server.base_url).send(Notification(**GOOD))
    seen = server.seen[0]
    assert seen["path"] == "/voiceapi/v2/Notification"
    assert seen["headers"]["X-CM-PRODUCTTOKEN"] == TOKEN
    assert seen["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert json.loads(seen["body"]) == Notification(**GOOD).to_json()
    assert result.ok and result.status == 200 and result.call_ids == ["6d0f176e-00ac-4de2-a04d-b3f7c895adb0"]


def test_a_single_object_answer_like_the_sdk_reads_is_accepted(server):
    server.script.append((200, queued(), {}))
    result = VoiceClient(TOKEN, base_url=server.base_url).send(Notification(**GOOD))
    assert result.ok and len(result.results) == 1


def test_per_callee_failures_are_reported_not_hidden(server):
    server.script.append((200, [queued(), queued("+31612345679", success=False, error="invalid callee")], {}))
    result = VoiceClient(TOKEN, base_url=server.base_url).send(
        Notification(**{**GOOD, "callee": None, "callees": ["+31612345678", "+31612345679"]}))
    assert not result.ok
    assert result.errors == ["+31612345679: invalid callee"]
    assert [r.success for r in result.results] == [True, False]


def test_an_invalid_instruction_is_refused_before_any_request(server):
    with pytest.raises(ValidationError) as info:
        VoiceClient(TOKEN, base_url=server.base_url).send(Notification(**{**GOOD, "prompt": None}))
    assert info.value.problems[0].field == "prompt"
    assert server.seen == []


@pytest.mark.parametrize("status,payload,headers,error,retry_safe,maybe_placed", [
    (400, {"message": "callee is invalid"}, {}, InstructionRejected, False, False),
    (401, {"message": "Unauthorized"}, {}, AuthenticationError, False, False),
    (403, {"message": "Forbidden"}, {}, AuthenticationError, False, False),
    (429, {"message": "slow down"}, {"Retry-After": "7"}, RateLimited, True, False),
    (503, b"Service Unavailable", {"Retry-After": "2"}, ServerError, True, False),
    (500, b"boom", {}, ServerError, False, True),
    (502, b"bad gateway", {}, ServerError, False, True),
])
def test_error_statuses_map_to_the_error_tree(server, status, payload, headers, error, retry_safe, maybe_placed):
    server.script.append((status, payload, headers))
    with pytest.raises(error) as info:
        VoiceClient(TOKEN, base_url=server.base_url).send(Notification(**GOOD))
    exc = info.value
    assert exc.status == status
    assert (exc.retry_safe, exc.may_have_been_placed) == (retry_safe, maybe_placed)
    assert TOKEN not in str(exc) and TOKEN not in repr(exc.__dict__)


def test_rate_limited_carries_retry_after_seconds(server):
    server.script.append((429, {"message": "slow down"}, {"Retry-After": "7"}))
    with pytest.raises(RateLimited) as info:
        VoiceClient(TOKEN, base_url=server.base_url).send(Notification(**GOOD))
    assert info.value.retry_after == 7.0
    assert "slow down" in str(info.value)


def test_400_message_from_the_provider_is_in_the_error(server):
    server.script.append((400, {"message": "min-digits must be set"}, {}))
    with pytest.raises(InstructionRejected, match="min-digits must be set"):
        VoiceClient(TOKEN, base_url=server.base_url).send(Notification(**GOOD))


def test_connection_dropped_after_sending_may_have_placed_the_call(server):
    server.script.append("drop")
    with pytest.raises(ConnectionDropped) as info:
        VoiceClient(TOKEN, base_url=server.base_url).send(Notification(**GOOD))
    assert info.value.may_have_been_placed and not info.value.retry_safe
    assert len(server.seen) == 1  # the server did read the instruction


def test_read_timeout_may_have_placed_the_call(server):
    server.script.append("hang")
    with pytest.raises(ReadTimeout) as info:
        VoiceClient(TOKEN, base_url=server.base_url, timeout=(1.0, 0.2)).send(Notification(**GOOD))
    assert info.value.may_have_been_placed


def test_connection_refused_is_safe_to_retry():
    with pytest.raises(ConnectError) as info:
        VoiceClient(TOKEN, base_url=refusing_url("/voiceapi/v2")).send(Notification(**GOOD))
    assert info.value.retry_safe and not info.value.may_have_been_placed


def test_token_comes_from_the_environment_when_not_given(monkeypatch, server):
    monkeypatch.setenv("CM_PRODUCT_TOKEN", TOKEN)
    monkeypatch.setenv("CMVOICE_BASE_URL", server.base_url)
    server.script.append((200, [queued()], {}))
    client = VoiceClient()
    assert client.base_url == server.base_url
    client.send(Notification(**GOOD))
    assert server.seen[0]["headers"]["X-CM-PRODUCTTOKEN"] == TOKEN


def test_missing_token_is_a_clear_configuration_error(no_token_env):
    with pytest.raises(ConfigurationError, match="CM_PRODUCT_TOKEN"):
        VoiceClient()


def test_default_base_url_is_the_contracts(no_token_env):
    assert VoiceClient(TOKEN).base_url == "https://api.cmtelecom.com/voiceapi/v2"
    assert VoiceClient(TOKEN, base_url="https://api.cm.com/voiceapi/v2/").base_url == "https://api.cm.com/voiceapi/v2"


@pytest.mark.parametrize("url", ["http://api.cmtelecom.com/voiceapi/v2", "http://10.0.0.5/v2", "ftp://x/y", "nonsense"])
def test_plain_http_is_refused_except_to_loopback(url):
    with pytest.raises(ConfigurationError):
        VoiceClient(TOKEN, base_url=url)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/voiceapi/v2", "http://localhost:1/v2", "http://[::1]:9/v2"])
def test_plain_http_to_loopback_is_allowed(url):
    assert VoiceClient(TOKEN, base_url=url).base_url == url


def test_token_never_shows_in_repr_str_or_logs(server, caplog):
    server.script.append((200, [queued()], {}))
    client = VoiceClient(TOKEN, base_url=server.base_url)
    with caplog.at_level(logging.DEBUG):
        client.send(Notification(**GOOD))
    assert TOKEN not in repr(client) and TOKEN not in str(client)
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(vars(client))


def test_an_injected_session_is_used_and_not_closed(server):
    session = requests.Session()
    calls = []
    session.hooks["response"].append(lambda r, *a, **k: calls.append(r.status_code))
    server.script.append((200, [queued()], {}))
    with VoiceClient(TOKEN, base_url=server.base_url, session=session) as client:
        client.send(Notification(**GOOD))
    assert calls == [200]
    assert session.adapters  # still usable: the client did not close a session it does not own


def test_infinite_timeouts_are_refused():
    with pytest.raises(ConfigurationError):
        VoiceClient(TOKEN, base_url="http://127.0.0.1:1/v2", timeout=float("inf"))


def test_retry_after_accepts_seconds_and_http_dates():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None


@pytest.mark.parametrize("depth", [500, 100_000])
def test_a_deeply_nested_error_body_is_still_a_readable_api_error(server, depth):
    server.script.append((400, b'{"message": ' + b"[" * depth + b"]" * depth + b"}", {}))
    with pytest.raises(InstructionRejected) as info:
        VoiceClient(TOKEN, base_url=server.base_url).send(Notification(**GOOD))
    assert info.value.status == 400 and len(str(info.value)) < 300


def test_send_payload_posts_the_given_bytes_unchanged_and_validates_nothing(server):
    # The campaign plan validated and encoded the payload; the client sends those exact bytes.
    body = b'{"callee": "+31612345678", "caller": "+31201234567", "prompt": "H\xc3\xa9", "prompt-type": "TTS"}'
    server.script.append((200, [queued()], {}))
    result = VoiceClient(TOKEN, base_url=server.base_url).send_payload("notification", body, instruction_id="c-1")
    assert server.seen[0]["body"] == body and server.seen[0]["path"] == "/voiceapi/v2/Notification"
    assert result.ok
    # Not validated again: a payload the contract would refuse still goes out as given.
    server.script.append((400, {"message": "caller is required"}, {}))
    with pytest.raises(InstructionRejected):
        VoiceClient(TOKEN, base_url=server.base_url).send_payload("otp", {"callee": "+31612345678"})
    assert json.loads(server.seen[1]["body"]) == {"callee": "+31612345678"}
