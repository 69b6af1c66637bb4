"""A server that echoes the product token in its error messages: the token must appear nowhere.

The server is real (http.server on 127.0.0.1). It writes the token back the ways servers do:
plain, upper-cased, JSON-escaped in the raw body (which decodes to the plain token), escaped
twice (which decodes to ``\\u00..`` text), URL-encoded and without dashes, in 400, 401/403,
429 and 5xx answers, in JSON and in plain text, and in a 200 answer's per-callee error. The
checks decode every such form independently of the redaction code before looking.
"""
import html
import http.server
import json
import logging
import os
import re
import subprocess
import sys
import threading
import traceback
from urllib.parse import unquote

import pytest

from cmvoice_nb import Notification, VoiceClient
from cmvoice_nb.errors import APIError, CMVoiceError

from ._wait import scaled
from .campaign._lists import notification_defaults

# The provider's own example token (seed docs: "X-CM-PRODUCTTOKEN: 73c1e5af-8bc8-400d-8faa-7afcdf977515").
TOKEN = "73c1e5af-8bc8-400d-8faa-7afcdf977515"
GOOD = dict(callee="+31612345678", caller="+31201234567", prompt="Hello", prompt_type="TTS")


def json_escaped(text):
    return "".join(f"\\u{ord(c):04x}" for c in text)


def echo_message():
    """The raw JSON string content of a message echoing the token in six forms."""
    forms = [
        TOKEN,                                          # plain
        TOKEN.upper(),                                  # upper-cased
        json_escaped(TOKEN),                            # JSON-escaped: decodes to the plain token
        json_escaped(TOKEN.upper()).replace("\\", "\\\\"),  # escaped twice: decodes to \u00.. text
        "".join(f"%{ord(c):02X}" for c in TOKEN),       # URL-encoded
        TOKEN.replace("-", ""),                         # without dashes
    ]
    return "unknown product token " + " | ".join(forms)


def echo_body(status, kind):
    message = echo_message()
    if kind == "text":
        return f"<html><body><h1>{status}</h1><p>{message}</p></body></html>".encode(), "text/html"
    if status == 200:
        item = ('{"type": "call-queued", "call-id": "6d0f176e-00ac-4de2-a04d-b3f7c895adb0", '
                f'"callee": "+31612345678", "success": false, "error": "{message}"}}')
        return f"[{item}]".encode(), "application/json"
    body = (f'{{"message": "{message}", "detail": {{"token": "{json_escaped(TOKEN)}"}}, '
            f'"{TOKEN.upper()}": true}}')
    return body.encode(), "application/json"


class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status, kind = self.server.answer
        data, ctype = echo_body(status, kind)
        self.send_response(status, f"Token {TOKEN} refused")  # the reason phrase echoes it too
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        if status in (429, 503):
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def echo_server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    srv.daemon_threads = True
    srv.answer = (400, "json")
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    srv.base_url = f"http://127.0.0.1:{srv.server_address[1]}/voiceapi/v2"
    yield srv
    srv.shutdown()
    srv.server_close()


_CORE = TOKEN.replace("-", "").lower()


def decoded(text):
    """*text* with JSON, URL and HTML escapes undone (repeatedly), lower-cased, dashes removed."""
    for _ in range(4):
        text = re.sub(r"\\+u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
        text = html.unescape(unquote(text))
    return text.lower().replace("-", "")


def assert_no_token(text, where):
    assert _CORE not in decoded(text), f"the token leaks in {where}"


def test_the_leak_check_itself_finds_every_echoed_form():
    for form in echo_message().split(" | "):
        # A JSON string holding the form, as it would sit in a file.
        assert _CORE in decoded(json.loads(f'"{form}"')) and _CORE in decoded(form)


# --- the client ----------------------------------------------------------------------------------

ANSWERS = [(400, "json"), (401, "json"), (403, "json"), (429, "json"), (500, "json"), (502, "text"),
           (503, "json"), (500, "text")]


@pytest.mark.parametrize("status,kind", ANSWERS)
def test_no_error_the_client_raises_carries_the_token(echo_server, caplog, status, kind):
    echo_server.answer = (status, kind)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(APIError) as info:
        VoiceClient(TOKEN, base_url=echo_server.base_url).send(Notification(**GOOD))
    exc = info.value
    assert exc.status == status
    assert_no_token(str(exc), "str(exc)")
    assert_no_token(repr(exc), "repr(exc)")
    assert_no_token(repr(exc.args), "exc.args")
    assert_no_token(repr(vars(exc)), "the exception's attributes")
    assert_no_token("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)), "the traceback")
    assert_no_token(caplog.text, "the log")
    # Still a readable error: the provider's words are there, the token replaced, on one short line.
    assert "unknown product token ***" in str(exc)
    assert "\n" not in str(exc) and len(str(exc)) < 300
    assert "unknown product token ***" in exc.body


@pytest.mark.parametrize("status,kind", [(401, "json"), (500, "text"), (503, "json")])
def test_sending_a_ready_payload_scrubs_errors_like_send_does(echo_server, caplog, status, kind):
    # The campaign sends the plan's bytes through send_payload: the same exit, the same scrubbing.
    from cmvoice_nb.wire import encode_body

    echo_server.answer = (status, kind)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(APIError) as info:
        VoiceClient(TOKEN, base_url=echo_server.base_url).send_payload(
            "notification", encode_body(Notification(**GOOD).to_json()), instruction_id="c-1")
    exc = info.value
    assert exc.status == status and "unknown product token ***" in str(exc)
    assert_no_token(str(exc) + repr(exc.args) + repr(vars(exc)), "the exception")
    assert_no_token("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)), "the traceback")
    assert_no_token(caplog.text, "the log")


def test_a_per_callee_error_in_a_200_answer_does_not_carry_the_token(echo_server):
    echo_server.answer = (200, "json")
    result = VoiceClient(TOKEN, base_url=echo_server.base_url).send(Notification(**GOOD))
    assert not result.ok
    assert result.errors[0].startswith("+31612345678: unknown product token ***")
    for where, text in {"errors": repr(result.errors), "results": repr(result.results),
                        "body": result.body, "repr": repr(result)}.items():
        assert_no_token(text, where)


# --- `cmvoice send` end to end --------------------------------------------------------------------

def run_send(tmp_path, base_url):
    people = tmp_path / "people.csv"
    people.write_text("callee,first_name\n+31612345601,Ann\n+31612345602,Bob\n+31612345603,Cy\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("CM_PRODUCT_TOKEN", "CMVOICE_BASE_URL")}
    env.update(CM_PRODUCT_TOKEN=TOKEN, CMVOICE_BASE_URL=base_url, PYTHONIOENCODING="utf-8")
    cmd = [sys.executable, "-m", "cmvoice_nb", "-v", "send", str(people), "--app", "notification",
           "--set", "caller=+31201234567", "--set", "prompt=Hello {first_name}", "--set", "prompt-type=TTS",
           "--journal", str(tmp_path / "journal.sqlite"), "-o", str(tmp_path / "results.csv"),
           "--max-attempts", "1", "--no-progress"]
    return subprocess.run(cmd, capture_output=True, text=True, encoding="utf-8", env=env, timeout=scaled(180),
                          cwd=tmp_path)


@pytest.mark.parametrize("status,kind", [(400, "json"), (401, "json"), (500, "json"), (502, "text"),
                                         (503, "json")])
def test_cmvoice_send_never_shows_or_stores_the_token(echo_server, tmp_path, status, kind):
    echo_server.answer = (status, kind)
    proc = run_send(tmp_path, echo_server.base_url)
    # No assertion on the exit status here: which statuses need attention is the campaign's call.
    assert_no_token(proc.stdout, "stdout")
    assert_no_token(proc.stderr, "stderr")
    written = sorted(p for p in tmp_path.iterdir() if p.name != "people.csv")
    assert any(p.name == "journal.sqlite" for p in written), proc.stderr
    texts = {}
    for path in written:  # the journal, its -wal/-shm companions and lock, the results file
        if path.is_file():
            texts[path.name] = path.read_bytes().decode("utf-8", "replace")
            assert_no_token(texts[path.name], path.name)
    # The operator still learns what the provider said, with the token blanked out.
    told = proc.stderr + texts.get("results.csv", "")
    assert "unknown product token ***" in told, proc.stderr


def test_the_leak_check_would_see_a_token_in_the_journal(tmp_path):
    # The same file check fails when the token is there in any form SQLite may hold it.
    import sqlite3

    path = tmp_path / "j.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("create table t (x text)")
        db.execute("insert into t values (?)", (json.dumps({"e": TOKEN.upper()}, ensure_ascii=True),))
    db.close()
    with pytest.raises(AssertionError, match="leaks"):
        assert_no_token(path.read_bytes().decode("utf-8", "replace"), "j.sqlite")


def test_an_unexpected_status_is_redacted_like_the_documented_ones(echo_server):
    echo_server.answer = (418, "json")
    with pytest.raises(CMVoiceError) as info:
        VoiceClient(TOKEN, base_url=echo_server.base_url).send(Notification(**GOOD))
    assert info.value.status == 418 and "unknown product token ***" in str(info.value)
    assert_no_token(repr(vars(info.value)), "the exception's attributes")


def test_a_validation_error_quoting_the_token_is_scrubbed_too(echo_server):
    # Someone pasted the token into a prompt; the File-prompt check quotes the value back.
    from cmvoice_nb.errors import ValidationError

    with pytest.raises(ValidationError) as info:
        VoiceClient(TOKEN, base_url=echo_server.base_url).send(
            Notification(callee="+31612345678", caller="+31201234567", prompt=f"my token is {TOKEN.upper()}"))
    assert "prompt-type=TTS" in str(info.value) and "***" in str(info.value)
    assert_no_token(str(info.value) + repr(info.value.args), "the validation error")
    assert_no_token(repr(vars(info.value)), "the validation error's problems")
    assert info.value.problems[0].field == "prompt"  # still Problems, only the value blanked


@pytest.mark.parametrize("status, kind", [(400, "json"), (200, "json")])
def test_a_campaign_senders_notebook_view_never_shows_the_token(echo_server, tmp_path, status, kind):
    import pandas as pd

    from cmvoice_nb import plan_campaign
    from cmvoice_nb.campaign.send import CampaignSender

    echo_server.answer = (status, kind)
    plan = plan_campaign(pd.DataFrame({"callee": ["+31612345610", "+31612345611"]}), app="notification",
                         name="leak", defaults=notification_defaults("Hi"))
    client = VoiceClient(TOKEN, base_url=echo_server.base_url, timeout=5)
    sender = CampaignSender(plan, client, journal=tmp_path / "j.sqlite", rate=50, progress=False)
    sender.start()
    sender.wait(scaled(30))
    page = sender._repr_html_()
    assert "cmvoice-table-box" in page and "Results (2 rows" in page
    assert_no_token(page, "CampaignSender._repr_html_()")
    assert_no_token(repr(sender), "repr(CampaignSender)")
