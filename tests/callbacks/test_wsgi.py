"""The receiver's WSGI app, called the way any WSGI server calls it, and served by waitress."""
import io
import json
import urllib.request
from wsgiref.util import setup_testing_defaults

import pytest

from cmvoice_nb.callbacks import CallbackApp, _logfile, load_callbacks, wsgi_app
from cmvoice_nb.callbacks.receiver import serve_in_thread

from ._factory import callback

SECRET = "Xq3-test-secret"


def call(app, method="POST", path=f"/{SECRET}", body=b"", headers=None, content_length="auto"):
    """One request through the WSGI interface: (status code, headers, parsed body)."""
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.input": io.BytesIO(body)}
    setup_testing_defaults(environ)
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_TYPE"] = "application/json"
    if content_length == "auto":
        environ["CONTENT_LENGTH"] = str(len(body))
    elif content_length is not None:
        environ["CONTENT_LENGTH"] = content_length
    environ.update(headers or {})
    seen = {}

    def start_response(status, response_headers, exc_info=None):
        seen["status"], seen["headers"] = status, dict(response_headers)

    chunks = app(environ, start_response)
    raw = b"".join(chunks)
    assert int(seen["headers"]["Content-Length"]) == len(raw)
    return int(seen["status"].split()[0]), seen["headers"], json.loads(raw)


@pytest.fixture
def app(tmp_path):
    application = wsgi_app(tmp_path / "cb.jsonl", secret=SECRET)
    yield application
    application.close()


def test_a_callback_posted_through_the_wsgi_interface_is_stored(app):
    status, headers, reply = call(app, body=json.dumps(callback(3)).encode())
    assert (status, reply["message"]) == (200, "ok")
    assert headers["Content-Type"].startswith("application/json")
    (line,) = app.out.read_text().splitlines()
    assert json.loads(line)["call-id"] == callback(3)["call-id"] and app.count == 1


def test_the_app_needs_an_explicit_secret_and_a_log_unless_kept_in_memory(tmp_path):
    with pytest.raises(TypeError):
        wsgi_app(tmp_path / "cb.jsonl")  # secret is keyword-only and required
    with pytest.raises(ValueError, match="needs an out file"):
        wsgi_app(None, secret="x", keep_in_memory=False)
    assert wsgi_app(None, secret="x").keep_in_memory  # without a log, memory is the only place
    assert isinstance(wsgi_app(None, secret="x", keep_in_memory=True), CallbackApp)


@pytest.mark.parametrize("value", ["0_2", "+2", " 2", "2, 2", "٢", "-1", "2 ", "0x2"])
def test_content_length_is_strict_even_when_the_server_passes_it_through(app, value):
    status, _, reply = call(app, body=b"{}", content_length=value)
    assert status == 400 and "Content-Length" in reply["message"]
    assert app.count == 0


def test_no_content_length_is_411(app):
    assert call(app, body=b"{}", content_length=None)[0] == 411


@pytest.mark.parametrize("body, reason", [
    (b"[" * 10_000 + b"]" * 10_000, "nested too deeply"),
    (b'{"type": "otp-finished", "x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", "nested too deeply"),
    (b'{"type": "otp-finished", "note": "\\ud800"}', "lone surrogate"),
    (b'{"type": "otp-finished", "note": "\\udc00\\ud800"}', "lone surrogate"),
    (b'{"type": "otp-finished", "note": "\xed\xa0\x80"}', "UTF-8"),  # a surrogate encoded as bytes
    (b'{"type": "otp-finished", "note": "\xff"}', "UTF-8"),
    (b"", "empty body"),
    (b'{"type": ', "malformed JSON"),
    (b'"just a string"', "expected a JSON object"),
])
def test_every_malformed_body_gets_a_400_and_a_quarantine_entry(tmp_path, body, reason):
    app = wsgi_app(tmp_path / "cb.jsonl", secret=SECRET, max_body_bytes=1 << 20)
    status, _, reply = call(app, body=body)
    assert status == 400 and reason in reply["message"]
    (entry,) = [json.loads(x) for x in app.quarantine_path.read_text(encoding="utf-8").splitlines()]
    assert reason in entry["reason"]
    utf8 = entry["encoding"] == "utf-8"
    kept = entry["body"].encode("utf-8") if utf8 else __import__("base64").b64decode(entry["body"])
    assert kept == body
    assert app.count == 0 and not app.out.exists()
    # The quarantine file itself stays loadable text for the loader (it skips it in folders).
    assert app.quarantine_path.read_bytes().decode("utf-8")


def test_a_valid_surrogate_pair_is_stored(app):
    status, _, _ = call(app, body=b'{"type": "otp-finished", "note": "\\ud83d\\ude00"}')
    assert status == 200
    assert load_callbacks(app.out)["note"].tolist() == ["\U0001F600"]


def test_health_answers_counts_last_write_and_disk_space_without_the_secret(app):
    call(app, body=json.dumps(callback(0)).encode())
    call(app, body=b"{nope")
    status, headers, report = call(app, method="GET", path=f"/{SECRET}/health", content_length=None)
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert report["status"] == "ok" and report["callbacks"] == 1 and report["quarantined"] == 1
    assert report["rejected"] == {"400": 1}
    assert report["last_write"].endswith("Z") and report["disk_free_bytes"] > 0
    assert SECRET not in json.dumps(report)


def test_health_needs_the_secret_path(app):
    assert call(app, method="GET", path="/health", content_length=None)[0] == 404


def test_a_storage_error_is_503_and_the_log_is_rolled_back(app, monkeypatch):
    call(app, body=json.dumps(callback(0)).encode())
    good = app.out.read_bytes()

    def broken(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(_logfile, "_fsync", broken)
    status, headers, _ = call(app, body=json.dumps(callback(1)).encode())
    assert status == 503 and headers["Retry-After"] == "60"
    assert app.out.read_bytes() == good  # the refused callback was written, then taken back
    assert call(app, method="GET", path=f"/{SECRET}/health", content_length=None)[0] == 503
    monkeypatch.setattr(_logfile, "_fsync", __import__("os").fsync)
    assert call(app, body=json.dumps(callback(2)).encode())[0] == 200
    ids = [json.loads(x)["call-id"] for x in app.out.read_text().splitlines()]
    assert ids == [callback(0)["call-id"], callback(2)["call-id"]]  # never callback(1)
    assert app.health()["status"] == "ok" and app.refused == 1


def test_storage_errors_are_logged_at_most_once_a_minute(app, monkeypatch, caplog):
    monkeypatch.setattr(_logfile, "_fsync", lambda fd: (_ for _ in ()).throw(OSError(28, "No space left")))
    caplog.set_level("ERROR", logger="cmvoice_nb.callbacks")
    for i in range(20):
        assert call(app, body=json.dumps(callback(i)).encode())[0] == 503
    assert len([r for r in caplog.records if "cannot store" in r.getMessage()]) == 1


def test_the_app_under_waitress_speaks_http(tmp_path):
    app = wsgi_app(tmp_path / "cb.jsonl", secret=SECRET)
    server = serve_in_thread(app, host="127.0.0.1", port=0)
    try:
        url = f"http://127.0.0.1:{server.port}/{SECRET}"
        req = urllib.request.Request(url, data=json.dumps(callback(1)).encode(),
                                     headers={"Content-Type": "application/json"})
        assert urllib.request.urlopen(req, timeout=10).status == 200
        with urllib.request.urlopen(url + "/health", timeout=10) as resp:
            assert json.loads(resp.read())["callbacks"] == 1
    finally:
        server.stop(in_flight=lambda: app.in_flight)
        app.close()
    assert load_callbacks(tmp_path / "cb.jsonl")["instruction_id"].tolist() == ["row-1"]


def test_health_fails_when_the_log_file_system_has_less_room_than_one_body(app, monkeypatch):
    import collections
    import shutil

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 1000, 1000))
    status, _, report = call(app, method="GET", path=f"/{SECRET}/health", content_length=None)
    assert status == 503 and report["problems"] == ["disk full: 1000 bytes free on the log's file system"]


def test_health_reports_the_server_running_the_app_and_its_problem(app):
    app.server_report = lambda: {"problem": "the serving loop stopped: MemoryError", "connections": 3}
    status, _, report = call(app, method="GET", path=f"/{SECRET}/health", content_length=None)
    assert status == 503 and report["problems"] == ["the serving loop stopped: MemoryError"]
    assert report["server"] == {"connections": 3}


def test_a_wrong_path_body_over_the_limit_is_left_unread_under_any_server(app):
    stream = io.BytesIO(b"x" * (app.max_body_bytes + 1))
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/guess", "CONTENT_LENGTH": str(app.max_body_bytes + 1),
               "CONTENT_TYPE": "application/json", "wsgi.input": stream}
    app(environ, lambda status, headers: None)
    assert stream.tell() == 0  # not read into memory for nothing


def test_where_the_file_system_gives_no_usable_file_identity_each_record_is_written_once(app, monkeypatch):
    import os

    real_fstat = os.fstat

    def other_identity(fd):  # fstat() and stat() disagree on every file, as some network file systems do
        st = real_fstat(fd)
        return os.stat_result((st.st_mode, st.st_ino + 1, *tuple(st)[2:]))

    monkeypatch.setattr(os, "fstat", other_identity)
    for i in range(3):
        assert call(app, body=json.dumps(callback(i)).encode())[0] == 200
    assert [json.loads(x)["call-id"] for x in app.out.read_text().splitlines()] == [callback(i)["call-id"]
                                                                                    for i in range(3)]
