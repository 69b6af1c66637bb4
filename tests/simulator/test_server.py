"""The simulator over HTTP: tokens, validation answers, injected faults, connections and shutdown."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from cmvoice_nb.errors import (
    AuthenticationError,
    ConfigurationError,
    ConnectError,
    ConnectionDropped,
    InstructionRejected,
    RateLimited,
    ReadTimeout,
    ServerError,
)
from cmvoice_nb.instructions import Voice
from cmvoice_nb.simulator import SIMULATOR_TOKEN, Simulator

from .._wait import scaled
from ._calls import ANSWERS, CALLER, notification, post

# --------------------------------------------------------------------------------------- auth

def test_another_token_is_refused_with_401(sim):
    from cmvoice_nb.client import VoiceClient

    with VoiceClient("11111111-2222-4333-8444-555555555555", base_url=sim.base_url) as other:
        with pytest.raises(AuthenticationError) as info:
            other.send(notification())
    assert info.value.status == 401
    assert "11111111-2222" not in str(info.value)
    assert sim.placed_count() == 0


def test_a_missing_token_is_refused_with_a_message(sim):
    response = post(sim, "Notification", {"callee": ANSWERS}, token=None)
    assert response.status_code == 401 and "X-CM-PRODUCTTOKEN" in response.json()["message"]


def test_a_custom_token_is_the_only_one_accepted(make_sim):
    sim = make_sim(token="aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee")
    assert sim.client().send(notification()).ok
    with pytest.raises(AuthenticationError):
        from cmvoice_nb.client import VoiceClient

        VoiceClient(SIMULATOR_TOKEN, base_url=sim.base_url).send(notification())


def test_the_token_never_appears_in_repr_frames_or_logs(make_sim, caplog):
    import logging

    token = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    caplog.set_level(logging.DEBUG, logger="cmvoice_nb")
    sim = make_sim(token=token)
    # A careless user puts the token in the body too: it is scrubbed from the record.
    sim.client().send(notification(instruction_id=token))
    post(sim, "Notification", {}, token=token.upper())
    everything = repr(sim) + sim._repr_html_() + sim.requests.to_csv() + sim.calls.to_csv() + caplog.text
    assert token not in everything.lower()


# --------------------------------------------------------------------------------------- validation

def test_an_invalid_instruction_gets_400_naming_the_field(client, sim):
    with pytest.raises(InstructionRejected) as info:
        client.send_json("dtmf", {"callee": ANSWERS, "caller": CALLER, "min-digits": 7, "max-digits": 5,
                                  "max-attempts": 3}, validate=False)
    assert info.value.status == 400 and "min-digits" in info.value.message
    assert sim.placed_count() == 0
    assert sim.requests.loc[0, "status"] == 400


def test_every_problem_is_named_in_one_400(sim):
    body = {"callee": ANSWERS, "caller": CALLER, "prompt": "x" * 501, "prompt-type": "Video", "max-replays": 9}
    response = post(sim, "Notification", body)
    assert response.status_code == 400
    fields = {p["field"] for p in response.json()["problems"]}
    assert {"prompt", "prompt-type", "max-replays"} <= fields
    for field in ("prompt", "prompt-type", "max-replays"):
        assert field in response.json()["message"]


def test_voicemail_response_on_dtmf_is_refused(sim):
    body = {"callee": ANSWERS, "caller": CALLER, "min-digits": 1, "max-digits": 4, "max-attempts": 2,
            "voicemail-response": "Stop"}
    response = post(sim, "DTMF", body)
    assert response.status_code == 400 and "voicemail-response" in response.json()["message"]


def test_a_body_that_is_not_json_gets_400(sim):
    response = post(sim, "OTP", None, raw=b"{not json")
    assert response.status_code == 400 and "JSON" in response.json()["message"]


def test_a_json_array_body_gets_400(sim):
    response = post(sim, "OTP", [1, 2])
    assert response.status_code == 400 and "object" in response.json()["message"]


def test_sdk_style_bodies_with_integer_enums_nulls_and_extra_keys_are_accepted(sim):
    # What the official .NET SDK writes: integer enums, nulls for unset fields, a full voice object.
    voice = {"language": "nl-NL", "gender": 0, "number": 1, "volume": 0, "premium": False}
    shared = {"instruction-id": None, "callees": None, "caller": CALLER, "anonymous": False,
              "disable-callees-validation": False, "voice": voice, "callback-url": "", "customGrouping3": "x"}
    notification_body = {**shared, "callee": ANSWERS, "prompt": "Hallo", "prompt-type": 1,
                         "voicemail-response": 2, "replay-prompt": None}
    otp_body = {**shared, "callee": ANSWERS, "code": "12ab", "code-type": 2, "intro-prompt": "Hoi",
                "intro-prompt-type": 1, "voicemail-response": 0, "max-replays": 2, "auto-replay": False}
    dtmf_body = {**shared, "callee": None, "callees": [ANSWERS], "prompt": "Code?", "prompt-type": 1,
                 "min-digits": 2, "max-digits": 5, "max-attempts": 3, "timeout": 5000, "terminators": "#",
                 "regex": None, "voicemail-response": None}
    for endpoint, body in (("Notification", notification_body), ("OTP", otp_body), ("DTMF", dtmf_body)):
        response = post(sim, endpoint, body)
        assert response.status_code == 200, (endpoint, response.text)
        assert response.json()[0]["success"] is True
    assert sim.placed_count() == 3


def test_a_partial_voice_gets_defaults(client, sim):
    assert client.send(notification(voice=Voice(language="nl-NL"))).ok


def test_disable_callees_validation_skips_bad_callees_instead_of_refusing(sim):
    body = {"callees": [ANSWERS, "12345"], "caller": CALLER, "prompt": "hi", "prompt-type": "TTS",
            "disable-callees-validation": True}
    response = post(sim, "Notification", body)
    assert response.status_code == 200
    good, bad = response.json()
    assert good["success"] is True and good["callee"] == ANSWERS
    assert bad["success"] is False and bad["callee"] == "12345" and "callees" in bad["error"]
    assert sim.placed_count() == 1


def test_without_disable_callees_validation_a_bad_callee_refuses_everything(sim):
    body = {"callees": [ANSWERS, "12345"], "caller": CALLER, "prompt": "hi", "prompt-type": "TTS"}
    response = post(sim, "Notification", body)
    assert response.status_code == 400 and "callees" in response.json()["message"]
    assert sim.placed_count() == 0



@pytest.mark.parametrize("off", ["false", 0])
def test_disable_callees_validation_written_as_false_text_or_zero_still_refuses(sim, off):
    # The instruction reads "false" and 0 as False: the simulator obeys that reading, not the raw JSON.
    body = {"callees": [ANSWERS, "12345"], "caller": CALLER, "prompt": "hi", "prompt-type": "TTS",
            "disable-callees-validation": off}
    response = post(sim, "Notification", body)
    assert response.status_code == 400 and "callees" in response.json()["message"]
    assert sim.placed_count() == 0

def test_unknown_paths_are_404_and_other_methods_405(sim):
    assert post(sim, "Sms", {}).status_code == 404
    response = requests.get(f"{sim.base_url}/Notification", timeout=10)
    assert response.status_code == 405 and response.headers["Allow"] == "POST"
    assert post(sim, "notification", {}).status_code == 404  # the endpoints' casing is exact


# --------------------------------------------------------------------------------------- faults

def test_a_429_carries_retry_after_and_places_nothing(client, sim):
    sim.set_faults(rate_429=1.0, retry_after_s=2)
    with pytest.raises(RateLimited) as info:
        client.send(notification(instruction_id="r-1"))
    assert info.value.retry_after == 2 and info.value.retry_safe
    assert sim.placed_count("r-1") == 0
    assert sim.requests.loc[0, "fault"] == "429"


@pytest.mark.parametrize("status, retry_safe", [(503, True), (500, False)])
def test_a_5xx_reaches_the_client_as_server_error(client, sim, status, retry_safe):
    sim.set_faults(rate_5xx=1.0, status_5xx=status)
    with pytest.raises(ServerError) as info:
        client.send(notification(instruction_id="s-1"))
    assert info.value.status == status and info.value.retry_safe is retry_safe
    assert sim.placed_count("s-1") == 0


def test_a_dropped_connection_still_places_the_call(client, sim, receiver):
    sim.set_faults(rate_drop=1.0)
    with pytest.raises(ConnectionDropped) as info:
        client.send(notification(instruction_id="d-1"))
    assert info.value.may_have_been_placed
    assert sim.placed_count("d-1") == 1
    assert sim.calls.loc[0, "response"] == "dropped"
    request = sim.requests.iloc[0]
    assert request["fault"] == "drop" and request["status"] is pd_na()
    sim.wait_idle(timeout=scaled(10))
    assert receiver.wait_for(1)[0]["instruction-id"] == "d-1"  # the callback tells the truth later
    sim.set_faults(rate_drop=0.0)
    assert client.send(notification(instruction_id="d-2")).ok  # the client recovers on a new connection


def pd_na():
    import pandas as pd

    return pd.NA


def test_latency_longer_than_the_read_timeout_is_a_read_timeout(sim):
    sim.set_faults(latency_s=1.0)
    with sim.client(timeout=(2.0, 0.2)) as c:
        with pytest.raises(ReadTimeout) as info:
            c.send(notification())
    assert info.value.may_have_been_placed


def test_latency_is_recorded_and_the_request_still_succeeds(client, sim):
    sim.set_faults(latency_s=0.05)
    assert client.send(notification()).ok
    assert sim.requests.loc[0, "latency_s"] == 0.05


def test_faults_follow_the_seed(make_sim):
    patterns = []
    for _ in range(2):
        s = make_sim(seed=9, faults={"rate_429": 0.5})
        with s.client() as c:
            for _ in range(12):
                try:
                    c.send(notification())
                except RateLimited:
                    pass
        patterns.append(list(s.requests["status"]))
    assert patterns[0] == patterns[1]
    assert set(patterns[0]) == {200, 429}


def test_impossible_fault_settings_are_refused(sim):
    with pytest.raises(ConfigurationError):
        sim.set_faults(rate_429=1.5)
    with pytest.raises(ConfigurationError):
        sim.set_faults(rate_429=0.6, rate_drop=0.6)
    with pytest.raises(ConfigurationError):
        sim.set_faults(status_5xx=404)
    assert sim.faults["rate_429"] == 0.0


# --------------------------------------------------------------------------------------- connections and lifecycle

def test_concurrent_clients_on_keep_alive_connections_are_all_answered(sim):
    def worker(n):
        with sim.client() as c:
            return [c.send(notification(instruction_id=f"w{n}-{i}")).status for i in range(20)]

    with ThreadPoolExecutor(8) as pool:
        statuses = [s for batch in pool.map(worker, range(8)) for s in batch]
    assert statuses == [200] * 160
    assert sim.placed_count() == 160
    assert sim.calls["call_id"].is_unique


def test_closing_stops_the_server(make_sim):
    sim = make_sim()
    client = sim.client(timeout=(1.0, 1.0))
    assert client.send(notification()).ok
    sim.close()
    sim.close()  # idempotent
    assert sim.closed
    with pytest.raises(ConnectError):
        client.send(notification())


def test_a_chunked_request_body_is_read(sim):
    body = json.dumps({"callee": ANSWERS, "caller": CALLER, "prompt": "hi", "prompt-type": "TTS"}).encode()
    chunks = iter([body[:10], body[10:]])  # an iterator makes requests send Transfer-Encoding: chunked
    response = requests.post(f"{sim.base_url}/Notification", data=chunks, timeout=10,
                             headers={"X-CM-PRODUCTTOKEN": SIMULATOR_TOKEN, "Content-Type": "application/json"})
    assert response.status_code == 200 and sim.placed_count() == 1


def test_non_loopback_hosts_are_allowed_only_explicitly_and_bad_speeds_refused():
    with pytest.raises(ConfigurationError, match="speed"):
        Simulator(speed=0)
    with pytest.raises(ConfigurationError, match="token"):
        Simulator(token="")
