"""Callback delivery: which URL, retries with backoff, giving up, and waiting until idle."""
from __future__ import annotations

import pytest

from cmvoice_nb.errors import ReadTimeout

from .._net import refusing_url
from .._wait import scaled
from ._calls import notification


def test_the_instructions_callback_url_wins_over_the_default(client, sim, receiver, make_receiver):
    own = make_receiver()
    client.send(notification(callback_url=own.url))
    sim.wait_idle(timeout=scaled(10))
    assert len(own.wait_for(1)) == 1 and receiver.bodies == []


def test_without_any_callback_url_nothing_is_posted(make_sim):
    sim = make_sim()
    sim.client().send(notification())
    assert sim.wait_idle(timeout=scaled(5))
    assert sim.calls.loc[0, "callback_status"] == "no-url" and len(sim.deliveries) == 0


def test_failed_callbacks_are_retried_and_every_attempt_is_recorded(make_sim, make_receiver):
    flaky = make_receiver(statuses=[500, 503])
    sim = make_sim(callback_url=flaky.url)
    sim.client().send(notification())
    assert sim.wait_idle(timeout=scaled(10))
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
    assert sim.wait_idle(timeout=scaled(10))
    call = sim.calls.iloc[0]
    assert call["callback_status"] == "failed" and call["callback_attempts"] == 3
    assert broken.hits == 3


def test_an_unreachable_callback_endpoint_is_recorded_as_failed(make_sim):
    sim = make_sim(callback_url=refusing_url("/cb"), callback_retries=1)
    sim.client().send(notification())
    assert sim.wait_idle(timeout=scaled(10))
    deliveries = sim.deliveries
    assert len(deliveries) == 2 and deliveries["status"].isna().all()
    assert deliveries["error"].str.contains("ConnectionError").all()
    assert sim.calls.loc[0, "callback_status"] == "failed"


def test_wait_idle_times_out_while_a_real_time_call_is_still_ringing(make_sim, receiver):
    sim = make_sim(speed=1.0, callback_url=receiver.url)
    sim.client().send(notification("+31612345609"))  # rings 60 s in real time
    assert sim.wait_idle(timeout=0.05) is False
    assert sim.pending_callbacks == 1
    sim.close()
    assert sim.calls.loc[0, "callback_status"] == "cancelled"
    assert receiver.bodies == []


def test_wait_idle_also_waits_for_a_request_the_client_gave_up_on(make_sim, receiver):
    sim = make_sim(callback_url=receiver.url, faults={"latency_s": 0.5})
    with sim.client(timeout=(2.0, 0.1)) as c:
        with pytest.raises(ReadTimeout):
            c.send(notification(instruction_id="late-1"))
    assert sim.wait_idle(timeout=scaled(10))
    assert sim.placed_count("late-1") == 1  # the call was placed after the client stopped waiting
    assert receiver.wait_for(1)[0]["instruction-id"] == "late-1"
