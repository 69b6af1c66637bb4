"""The Simulator front over loopback: every app and result code, callback contents, timing, records."""
from __future__ import annotations

import json
import re

import pytest
import requests

from cmvoice_nb import spec
from cmvoice_nb.errors import ConfigurationError
from cmvoice_nb.instructions import Notification
from cmvoice_nb.simulator import Simulator

from .._audio import alaw_riff
from .._wait import scaled
from ._calls import ANSWERS, CALLER, ISO_MS_Z, UUID4, dtmf, notification, otp, post

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
    assert sim.wait_idle(timeout=scaled(10))
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
    sim.wait_idle(timeout=scaled(10))
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
    sim.wait_idle(timeout=scaled(10))
    (cb,) = receiver.wait_for(1)
    assert "instruction-id" not in cb


def test_an_anonymous_caller_is_reported_as_anonymous(client, sim, receiver):
    client.send(notification(anonymous=True))
    sim.wait_idle(timeout=scaled(10))
    assert receiver.wait_for(1)[0]["caller"] == "anonymous"


def test_dtmf_callbacks_carry_the_digits_from_the_script(make_sim, receiver):
    sim = make_sim(callback_url=receiver.url, dtmf_script={ANSWERS: ["1#", "9999999#", "4321#"]})
    sim.client().send(dtmf())
    sim.wait_idle(timeout=scaled(10))
    (cb,) = receiver.wait_for(1)
    assert cb["type"] == "dtmf-finished" and cb["digits"] == "4321"
    assert sim.calls.loc[0, "dtmf_attempts"] == 3


def test_dtmf_script_is_judged_by_the_instructions_regex(make_sim, receiver):
    sim = make_sim(callback_url=receiver.url, dtmf_script={"0031612345610": ["456#", "123#"]})
    sim.client().send(dtmf(regex="[1-3]+"))
    sim.wait_idle(timeout=scaled(10))
    assert receiver.wait_for(1)[0]["digits"] == "123"


def test_dtmf_without_valid_input_reports_empty_digits(make_sim, receiver):
    sim = make_sim(callback_url=receiver.url, dtmf_script={ANSWERS: ["1#"]})
    sim.client().send(dtmf())
    sim.wait_idle(timeout=scaled(10))
    assert receiver.wait_for(1)[0]["digits"] == ""


def test_otp_callbacks_have_the_otp_type(client, sim, receiver):
    client.send(otp(max_replays=1, auto_replay=True))
    sim.wait_idle(timeout=scaled(10))
    assert receiver.wait_for(1)[0]["type"] == "otp-finished"
    assert sim.calls.loc[0, "replays"] == 1


# --------------------------------------------------------------------------------------- timing

def test_a_file_prompt_lasts_as_long_as_the_wav_under_audio_root(make_sim, tmp_path):
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "welcome.wav").write_bytes(alaw_riff(1.5))
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
    (tmp_path / "secret.wav").write_bytes(alaw_riff(2.5))
    sim = make_sim(audio_root=root)
    sim.client().send(notification(prompt="../secret.wav", prompt_type="File"))
    assert sim.calls.loc[0, "talk_s"] == pytest.approx(sim.default_file_s)


# --------------------------------------------------------------------------------------- load and lifecycle

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


def test_clear_forgets_the_records_but_keeps_serving(client, sim):
    client.send(notification())
    sim.wait_idle(timeout=scaled(10))
    sim.clear()
    assert len(sim.requests) == len(sim.calls) == len(sim.deliveries) == 0
    assert client.send(notification()).ok and sim.placed_count() == 1


def test_dtmf_script_numbers_from_a_spreadsheet_are_read_as_text(make_sim):
    script = {ANSWERS: [12345]}
    sim = make_sim(dtmf_script=script)
    sim.client().send(dtmf())
    assert sim.calls.loc[0, "digits"] == "12345"
    assert script == {ANSWERS: [12345]}  # the caller's dict is not modified
