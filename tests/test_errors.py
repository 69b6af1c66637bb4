"""The error tree's shared text helpers: redact a token in every form a server may echo it, keep messages short."""
import json
from urllib.parse import quote

import pytest
import requests

from cmvoice_nb.errors import (
    MESSAGE_LIMIT,
    APIError,
    ConnectError,
    ValidationError,
    redact,
    redact_json,
    scrub_exception,
    shorten,
)
from cmvoice_nb.instructions import Problem

# The provider's own example token (seed docs, "X-CM-PRODUCTTOKEN: 73c1e5af-8bc8-400d-8faa-7afcdf977515").
TOKEN = "73c1e5af-8bc8-400d-8faa-7afcdf977515"


def json_escaped(text, every=1):
    """Every *every*-th character written as a JSON \\u escape, as a server's encoder may."""
    return "".join(f"\\u{ord(c):04x}" if i % every == 0 else c for i, c in enumerate(text))


ECHOES = {
    "plain": TOKEN,
    "upper-cased": TOKEN.upper(),
    "without dashes": TOKEN.replace("-", ""),
    "upper-cased without dashes": TOKEN.replace("-", "").upper(),
    "JSON-escaped, every character": json_escaped(TOKEN),
    "JSON-escaped, upper-case hex": json_escaped(TOKEN).replace("\\u", "\\U").upper().replace("\\U", "\\u"),
    "JSON-escaped, every other character": json_escaped(TOKEN, every=2),
    "JSON-escaped twice": json.dumps(json_escaped(TOKEN))[1:-1],
    "URL-encoded, every character": "".join(f"%{ord(c):02X}" for c in TOKEN),
    "URL-encoded, dashes only": quote(TOKEN, safe="").replace("-", "%2D"),
    "HTML character references": "".join(f"&#{ord(c)};" for c in TOKEN),
    "Python escapes": "".join(f"\\x{ord(c):02x}" for c in TOKEN),
}


@pytest.mark.parametrize("form", list(ECHOES))
def test_redact_removes_the_token_in_every_echoed_form(form):
    text = f'unknown product token "{ECHOES[form]}" (check your account)'
    assert redact(text, TOKEN) == 'unknown product token "***" (check your account)'


def test_redact_works_for_a_token_given_without_dashes_and_echoed_with_them():
    assert redact(f"bad token {TOKEN.upper()}", TOKEN.replace("-", "")) == "bad token ***"


def test_redact_leaves_text_without_the_token_alone():
    text = "callee +31612345678 is invalid; 73c1e5af is only a prefix"
    assert redact(text, TOKEN) == text
    assert redact("", TOKEN) == "" and redact(None, TOKEN) is None and redact("x", "") == "x"


def test_redact_handles_regex_characters_and_non_ascii_secrets():
    secret = "a.b*c(€)"
    assert redact("x a.b*c(€) y aXb*c(€) z", secret) == "x *** y aXb*c(€) z"
    assert redact("x " + quote(secret, safe="") + " y", secret) == "x *** y"
    assert redact("x " + json.dumps(secret)[1:-1] + " y", secret) == "x *** y"


def test_redact_json_redacts_strings_and_keys_at_any_depth_without_touching_the_input():
    body = {"message": f"token {TOKEN.upper()} refused", TOKEN: [1, None, {"deep": [TOKEN]}]}
    before = json.loads(json.dumps(body))
    assert redact_json(body, TOKEN) == {"message": "token *** refused", "***": [1, None, {"deep": ["***"]}]}
    assert body == before


def test_shorten_keeps_short_text_and_cuts_long_text_saying_how_much():
    assert shorten("HTTP 400:\n  bad   callee") == "HTTP 400: bad callee"
    long = "why " * 200  # 799 characters on one line once the trailing space goes
    cut = shorten(long)
    assert cut.startswith("why why") and cut.endswith("... (+599 characters)")
    assert len(cut) == MESSAGE_LIMIT - 1 + len("... (+599 characters)")  # the space cut at 200 is dropped


def test_api_error_text_is_one_short_line_while_the_body_is_kept_whole():
    message = "first line\n" + "x" * 5000
    exc = APIError(502, message, body=message)
    assert "\n" not in str(exc) and len(str(exc)) < MESSAGE_LIMIT + 40
    assert exc.body == message and exc.message == message


def test_validation_errors_cut_long_echoed_values():
    exc = ValidationError([Problem("prompt", "y" * 800, "is 800 characters long; at most 500 allowed")])
    assert len(str(exc)) < 300 and "(+" in str(exc)


def test_scrub_exception_cleans_args_attributes_causes_and_request_headers():
    request = requests.Request("POST", "http://127.0.0.1:9/voiceapi/v2/OTP",
                               headers={"X-CM-PRODUCTTOKEN": TOKEN}).prepare()
    cause = requests.exceptions.ConnectionError(f"refused for {TOKEN.upper()}", request=request)
    try:
        try:
            raise cause
        except requests.exceptions.ConnectionError as inner:
            raise ConnectError(f"could not connect ({TOKEN})") from inner
    except ConnectError as exc:
        err = exc
    err.extra = {"echo": [TOKEN]}
    assert scrub_exception(err, TOKEN) is err
    assert str(err) == "could not connect (***)"
    assert err.extra == {"echo": ["***"]}
    assert str(err.__cause__) == "refused for ***"
    assert err.__cause__.request.headers["X-CM-PRODUCTTOKEN"] == "***"


def test_redact_json_keeps_named_tuples_such_as_problems():
    [problem] = redact_json([Problem("prompt", f"token {TOKEN}", "why")], TOKEN)
    assert isinstance(problem, Problem) and problem == Problem("prompt", "token ***", "why")


def test_redact_stays_linear_on_a_hostile_run_of_escape_characters():
    # A body of a million backslashes (or "&#x0000…") once took quadratic time: the token hides behind them.
    body = "\\" * 1_000_000 + json_escaped(TOKEN) + "&#x" + "0" * 100_000
    out = redact(body, TOKEN)
    assert out.endswith("***&#x" + "0" * 100_000) and TOKEN not in out
