"""Client <-> simulator on loopback: every app, result code, fault and callback path."""
from __future__ import annotations

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from cmvoice_nb import spec
from cmvoice_nb.errors import (AuthenticationError, ConfigurationError, ConnectError, ConnectionDropped,
                               InstructionRejected, RateLimited, ReadTimeout, ServerError)
from cmvoice_nb.instructions import DTMF, OTP, Notification, Voice
from cmvoice_nb.simulator import SIMULATOR_TOKEN, Simulator

from .conftest import ANSWERS, CALLER, wav_bytes

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


# --------------------------------------------------------------------------------------- basics

def test_base_url_is_loopback_with_the_api_path(sim):
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/voiceapi/v2", sim.base_url)
    assert sim.client().base_url == sim.base_url


@pytest.mark.parametrize("make, app", [(notification, "notification"), (otp, "otp"), (dtmf, "dtmf")])
def test_each_app_is_queued_with_a_lowercase_uuid4_call_id(client, sim, make, app):
    result = client.send(make(instruction_id=f"{app}-1"))
    assert result.status == 200 and result.ok
    (call_id,) = result.call_ids
    assert UUID4.fullmatch(call_id)
    calls = sim.calls
    assert calls.loc[0, "call_id"] == call_id
    assert calls.loc[0, "app"] == app
    assert calls.loc[0, "instruction_id"] == f"{app}-1"
    assert sim.placed_count(f"{app}-1") == 1


def test_the_success_body_is_a_call_queued_array_echoing_the_instruction(sim):
    body = {"instruction-id": "x-1", "callee": ANSWERS, "caller": CALLER, "prompt": "hi", "prompt-type": "TTS"}
    response = post(sim, "Notification", body)
    assert response.status_code == 200
    (item,) = response.json()
    assert item["type"] == "call-queued" and item["success"] is True
    assert item["instruction-id"] == "x-1" and item["callee"] == ANSWERS and item["caller"] == CALLER
    assert response.headers["Content-Length"] == str(len(response.content))


def test_callees_get_one_queued_entry_each(client, sim):
    numbers = ["+31612345610", "+31612345611", "+31612345612"]
    result = client.send(Notification(callees=numbers, caller=CALLER, prompt="hi", prompt_type="TTS"))
    assert [r.callee for r in result.results] == numbers
    assert len(set(result.call_ids)) == 3
    assert sorted(sim.calls["callee"]) == numbers


# --------------------------------------------------------------------------------------- outcomes

@pytest.mark.parametrize("ending, code", [("09", 9), ("10", 10), ("11", 11), ("12", 12)])
def test_every_result_code_is_reachable_by_a_magic_number(client, sim, receiver, ending, code):
    callee = "+316123456" + ending
    call_id = client.send(notification(callee, instruction_id=f"magic-{ending}")).call_ids[0]
    assert sim.wait_idle(timeout=10)
    (cb,) = receiver.wait_for(1)
    assert cb["call-id"] == call_id
    assert cb["result"]["code"] == code
    assert cb["result"]["description"] == spec.RESULT_CODES[code].description
    assert cb["type"] == "notification-finished"
    if code == 10:
        assert ISO_MS_Z.fullmatch(cb["answered-on"])
    else:
        assert cb["answered-on"] is None
    if code in (11, 12):
        assert isinstance(cb["result"]["sip-disconnect-code"], int) and cb["result"]["sip-disconnect-reason"]
    else:
        assert "sip-disconnect-code" not in cb["result"]
    assert sim.calls.loc[0, "result_code"] == code


def test_probabilities_decide_ordinary_numbers_and_can_be_changed_at_runtime(client, sim):
    sim.set_behaviour(p_answer=0.0, p_rejected=1.0, p_failed=0.0)
    client.send(notification("+31612345678"))
    sim.set_behaviour(p_rejected=0.0, p_answer=1.0)
    sim.p_voicemail = 0.0
    client.send(notification("+31612345678"))
    assert list(sim.calls["result_code"]) == [12, 10]


def test_an_impossible_probability_is_refused(sim):
    with pytest.raises(ConfigurationError, match="p_answer"):
        sim.p_answer = 2.0
    assert sim.p_answer == 0.75


def test_the_same_seed_replays_the_same_calls(make_sim):
    runs = []
    for _ in range(2):
        s = make_sim(seed=5)
        with s.client() as c:
            for i in range(5):
                c.send(notification(f"+3161234{i:04d}5"))
        runs.append(s.calls[["call_id", "result_code", "ring_s", "talk_s"]])
    assert runs[0].equals(runs[1])
    other = make_sim(seed=6)
    other.client().send(notification("+31612340005"))
    assert other.calls.loc[0, "call_id"] != runs[0].loc[0, "call_id"]


# --------------------------------------------------------------------------------------- callbacks

def test_a_callback_has_the_contracts_keys_and_timestamps(client, sim, receiver):
    client.send(notification(instruction_id="cb-1", prompt="one two three four five"))
    sim.wait_idle(timeout=10)
    (cb,) = receiver.wait_for(1)
    assert set(cb) == {"type", "call-id", "instruction-id", "caller", "callee", "result",
                       "started-on", "answered-on", "finished-on"}
    assert cb["instruction-id"] == "cb-1" and cb["callee"] == ANSWERS and cb["caller"] == CALLER
    for key in ("started-on", "answered-on", "finished-on"):
        assert ISO_MS_Z.fullmatch(cb[key])
    assert cb["started-on"] <= cb["answered-on"] <= cb["finished-on"]
    call = sim.calls.iloc[0]
    assert call["callback_status"] == "delivered" and call["callback_attempts"] == 1
    assert (call["finished_on"] - call["answered_on"]).total_seconds() == pytest.approx(2.0, abs=0.002)


def test_started_on_is_the_real_time_of_the_request(client, sim):
    client.send(notification())
    assert abs((sim.calls.loc[0, "started_on"] - sim.requests.loc[0, "time"]).total_seconds()) < 1e-6


def test_instruction_id_is_omitted_from_the_callback_when_none_was_given(client, sim, receiver):
    client.send(notification())
    sim.wait_idle(timeout=10)
    (cb,) = receiver.wait_for(1)
    assert "instruction-id" not in cb


def test_an_anonymous_caller_is_reported_as_anonymous(client, sim, receiver):
    client.send(notification(anonymous=True))
    sim.wait_idle(timeout=10)
    assert receiver.wait_for(1)[0]["caller"] == "anonymous"


def test_dtmf_callbacks_carry_the_digits_from_the_script(make_sim, receiver):
    sim = make_sim(callback_url=receiver.url, dtmf_script={ANSWERS: ["1#", "9999999#", "4321#"]})
    sim.client().send(dtmf())
    sim.wait_idle(timeout=10)
    (cb,) = receiver.wait_for(1)
    assert cb["type"] == "dtmf-finished" and cb["digits"] == "4321"
    assert sim.calls.loc[0, "dtmf_attempts"] == 3


def test_dtmf_script_is_judged_by_the_instructions_regex(make_sim, receiver):
    sim = make_sim(callback_url=receiver.url, dtmf_script={"0031612345610": ["456#", "123#"]})
    sim.client().send(dtmf(regex="[1-3]+"))
    sim.wait_idle(timeout=10)
    assert receiver.wait_for(1)[0]["digits"] == "123"


def test_dtmf_without_valid_input_reports_empty_digits(make_sim, receiver):
    sim = make_sim(callback_url=receiver.url, dtmf_script={ANSWERS: ["1#"]})
    sim.client().send(dtmf())
    sim.wait_idle(timeout=10)
    assert receiver.wait_for(1)[0]["digits"] == ""


def test_otp_callbacks_have_the_otp_type(client, sim, receiver):
    client.send(otp(max_replays=1, auto_replay=True))
    sim.wait_idle(timeout=10)
    assert receiver.wait_for(1)[0]["type"] == "otp-finished"
    assert sim.calls.loc[0, "replays"] == 1


def test_the_instructions_callback_url_wins_over_the_default(client, sim, receiver, make_receiver):
    own = make_receiver()
    client.send(notification(callback_url=own.url))
    sim.wait_idle(timeout=10)
    assert len(own.wait_for(1)) == 1 and receiver.bodies == []


def test_without_any_callback_url_nothing_is_posted(make_sim):
    sim = make_sim()
    sim.client().send(notification())
    assert sim.wait_idle(timeout=5)
    assert sim.calls.loc[0, "callback_status"] == "no-url" and len(sim.deliveries) == 0


def test_failed_callbacks_are_retried_and_every_attempt_is_recorded(make_sim, make_receiver):
    flaky = make_receiver(statuses=[500, 503])
    sim = make_sim(callback_url=flaky.url)
    sim.client().send(notification())
    assert sim.wait_idle(timeout=10)
    assert len(flaky.wait_for(1)) == 1
    deliveries = sim.deliveries
    assert list(deliveries["attempt"]) == [1, 2, 3]
    assert list(deliveries["status"]) == [500, 503, 200]
    assert list(deliveries["ok"]) == [False, False, True]
    call = sim.calls.iloc[0]
    assert call["callback_status"] == "delivered" and call["callback_attempts"] == 3


def test_callbacks_are_given_up_after_the_retries(make_sim, make_receiver):
    broken = make_receiver(statuses=[500] * 10)
    sim = make_sim(callback_url=broken.url, callback_retries=2)
    sim.client().send(notification())
    assert sim.wait_idle(timeout=10)
    call = sim.calls.iloc[0]
    assert call["callback_status"] == "failed" and call["callback_attempts"] == 3
    assert broken.hits == 3


def test_an_unreachable_callback_endpoint_is_recorded_as_failed(make_sim):
    with socket_that_refuses() as url:
        sim = make_sim(callback_url=url, callback_retries=1)
        sim.client().send(notification())
        assert sim.wait_idle(timeout=10)
    deliveries = sim.deliveries
    assert len(deliveries) == 2 and deliveries["status"].isna().all()
    assert deliveries["error"].str.contains("ConnectionError").all()
    assert sim.calls.loc[0, "callback_status"] == "failed"


class socket_that_refuses:
    """A loopback URL whose port is closed (bound, then released)."""

    def __enter__(self):
        import socket

        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        return f"http://127.0.0.1:{self.port}/cb"

    def __exit__(self, *exc):
        return False


def test_wait_idle_times_out_while_a_real_time_call_is_still_ringing(make_sim, receiver):
    sim = make_sim(speed=1.0, callback_url=receiver.url)
    sim.client().send(notification("+31612345609"))  # rings 60 s in real time
    assert sim.wait_idle(timeout=0.05) is False
    assert sim.pending_callbacks == 1
    sim.close()
    assert sim.calls.loc[0, "callback_status"] == "cancelled"
    assert receiver.bodies == []


# --------------------------------------------------------------------------------------- timing

def test_a_file_prompt_lasts_as_long_as_the_wav_under_audio_root(make_sim, tmp_path):
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "welcome.wav").write_bytes(wav_bytes(1.5))
    sim = make_sim(audio_root=tmp_path)
    c = sim.client()
    c.send(notification(prompt="prompts/welcome.wav", prompt_type="File"))
    c.send(notification(prompt="prompts/missing.wav", prompt_type="File"))
    talk = list(sim.calls["talk_s"])
    assert talk[0] == pytest.approx(1.5)
    assert talk[1] == pytest.approx(sim.default_file_s)


def test_a_prompt_path_cannot_escape_the_audio_root(make_sim, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.wav").write_bytes(wav_bytes(2.5))
    sim = make_sim(audio_root=root)
    sim.client().send(notification(prompt="../secret.wav", prompt_type="File"))
    assert sim.calls.loc[0, "talk_s"] == pytest.approx(sim.default_file_s)


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
    sim.wait_idle(timeout=10)
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


# --------------------------------------------------------------------------------------- load and lifecycle

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


def test_the_simulator_is_a_context_manager():
    with Simulator() as sim:
        url = sim.base_url
        assert sim.client().send(notification()).ok
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{url}/Notification", timeout=1)


def test_repr_and_html_show_the_url_and_counts(client, sim):
    client.send(notification())
    assert sim.base_url in repr(sim) and "calls=1" in repr(sim)
    assert sim.base_url in sim._repr_html_() and "Finished 1" in sim._repr_html_()


def test_request_log_lists_what_was_received(client, sim):
    client.send(notification(instruction_id="log-1"))
    row = sim.requests.iloc[0]
    assert row["method"] == "POST" and row["path"] == "/voiceapi/v2/Notification"
    assert row["app"] == "notification" and row["status"] == 200 and row["instruction_id"] == "log-1"
    assert row["callees"] == ANSWERS and json.loads(row["body"])["instruction-id"] == "log-1"


def test_non_loopback_hosts_are_allowed_only_explicitly_and_bad_speeds_refused():
    with pytest.raises(ConfigurationError, match="speed"):
        Simulator(speed=0)
    with pytest.raises(ConfigurationError, match="token"):
        Simulator(token="")


def test_wait_idle_also_waits_for_a_request_the_client_gave_up_on(make_sim, receiver):
    sim = make_sim(callback_url=receiver.url, faults={"latency_s": 0.5})
    with sim.client(timeout=(2.0, 0.1)) as c:
        with pytest.raises(ReadTimeout):
            c.send(notification(instruction_id="late-1"))
    assert sim.wait_idle(timeout=10)
    assert sim.placed_count("late-1") == 1  # the call was placed after the client stopped waiting
    assert receiver.wait_for(1)[0]["instruction-id"] == "late-1"


def test_a_chunked_request_body_is_read(sim):
    body = json.dumps({"callee": ANSWERS, "caller": CALLER, "prompt": "hi", "prompt-type": "TTS"}).encode()
    chunks = iter([body[:10], body[10:]])  # an iterator makes requests send Transfer-Encoding: chunked
    response = requests.post(f"{sim.base_url}/Notification", data=chunks, timeout=10,
                             headers={"X-CM-PRODUCTTOKEN": SIMULATOR_TOKEN, "Content-Type": "application/json"})
    assert response.status_code == 200 and sim.placed_count() == 1


def test_clear_forgets_the_records_but_keeps_serving(client, sim):
    client.send(notification())
    sim.wait_idle(timeout=10)
    sim.clear()
    assert len(sim.requests) == len(sim.calls) == len(sim.deliveries) == 0
    assert client.send(notification()).ok and sim.placed_count() == 1


def test_dtmf_script_numbers_from_a_spreadsheet_are_read_as_text(make_sim):
    script = {ANSWERS: [12345]}
    sim = make_sim(dtmf_script=script)
    sim.client().send(dtmf())
    assert sim.calls.loc[0, "digits"] == "12345"
    assert script == {ANSWERS: [12345]}  # the caller's dict is not modified
