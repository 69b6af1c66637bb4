"""Simultaneous calls: ``max_live_calls`` keeps at most N calls alive at once, apart from requests and calls per second.

The simulator models each call's ringing and talk time and posts its callback when the call ends
(its duration divided by its speed); the receiver here notes when each callback arrives. A call is
alive from its request until its callback arrived: the intervals are measured here, from the
requests the simulator received and the callbacks the receiver logged, not from the sender.
"""
import json
import subprocess
import threading
import time

import pandas as pd
import pytest

from cmvoice_nb.campaign import RetryPolicy, SendOptions, send_campaign
from cmvoice_nb.campaign.send.live import CALL_MARGIN_S, LiveCalls, longest_call_s
from cmvoice_nb.errors import CampaignError

from .._wait import cmvoice, wait_until
from ._lists import answering, notification_defaults, notification_flags, people

pytestmark = pytest.mark.simulator(speed=25.0)
FAST = dict(rate=1000.0, burst=50, concurrency=8, progress=False, retry=RetryPolicy(max_attempts=2, backoff_s=0.001))


def most_alive(spans):
    """The most intervals ``(start, end)`` that overlap at any instant."""
    edges = sorted([(s, 1) for s, _e in spans] + [(e, -1) for _s, e in spans], key=lambda x: (x[0], x[1]))
    alive = peak = 0
    for _t, step in edges:
        alive += step
        peak = max(peak, alive)
    return peak


class Timed:
    """Forwards payloads to the simulator, noting when each request left."""

    def __init__(self, client):
        self.client, self.left, self.lock = client, {}, threading.Lock()

    def send_payload(self, app, payload, *, instruction_id=None):
        with self.lock:
            self.left[instruction_id] = time.monotonic()
        return self.client.send_payload(app, payload, instruction_id=instruction_id)


def spans_of(timed, arrived):
    return [(timed.left[i], arrived[i]) for i in timed.left]


def run(sim, receiver, tmp_path, **options):
    arrived = {}
    receiver.on_callback = lambda record: arrived.setdefault(record.get("instruction-id"), time.monotonic())
    timed = Timed(sim.client())
    res = send_campaign(people(*answering(12)), timed, journal=tmp_path / "j.sqlite", app="notification", name="live",
                        defaults=notification_defaults(callback_url=receiver.url), **FAST, **options)
    wait_until(lambda: len(arrived) >= 12, timeout=60, what="the 12 callbacks")
    return res, spans_of(timed, arrived)


def test_without_a_cap_the_calls_overlap_freely(sim, receiver, tmp_path):
    res, spans = run(sim, receiver, tmp_path)
    assert res["status"].tolist() == ["queued"] * 12
    assert most_alive(spans) > 3


def test_with_max_live_calls_3_never_more_than_3_calls_are_alive_at_once(sim, receiver, tmp_path):
    res, spans = run(sim, receiver, tmp_path, max_live_calls=3, callbacks=receiver)
    assert res["status"].tolist() == ["queued"] * 12
    assert most_alive(spans) == 3
    assert sim.calls["instruction_id"].value_counts().max() == 1


def test_a_call_whose_callback_never_comes_frees_its_line_after_its_longest_duration():
    from types import SimpleNamespace

    now = [0.0]
    lines = LiveCalls(1, plan=SimpleNamespace(app="notification"), clock=lambda: now[0])
    wire = {"callee": "+31612345610", "caller": "+31201234567", "prompt": "one two three four five",
            "prompt-type": "TTS", "max-ringing-timeout": 30}
    row = SimpleNamespace(instruction_id="a", payload=json.dumps(wire).encode())
    other = SimpleNamespace(instruction_id="b", payload=row.payload)
    stop = threading.Event()
    assert lines.acquire(row, stop) and lines.count == 1
    stop.set()
    assert not lines.acquire(other, stop)  # the line is busy: a stopped run gives up
    now[0] = longest_call_s(wire, "notification") - 0.1
    assert lines.count == 1
    now[0] += 0.2
    assert lines.count == 0 and lines.acquire(other, threading.Event())
    assert longest_call_s(wire, "notification") == 30 + 2.0 + CALL_MARGIN_S


def test_a_request_that_placed_nothing_frees_its_line_at_once():
    from types import SimpleNamespace

    lines = LiveCalls(1, plan=SimpleNamespace(app="notification"))
    row = SimpleNamespace(instruction_id="a", payload=None)
    assert lines.acquire(row, threading.Event())
    lines.placed(row, "failed")
    assert lines.count == 0


@pytest.mark.parametrize("value", [0, -1, "many", True])
def test_max_live_calls_must_be_a_whole_number_of_1_or_more(value):
    with pytest.raises(CampaignError, match=r"^max_live_calls= must be a whole number of 1 or more"):
        SendOptions(max_live_calls=value)


def test_the_command_line_caps_live_calls_reading_the_receivers_log(sim, receiver, tmp_path, token):
    csv = tmp_path / "list.csv"
    people(*answering(10)).to_csv(csv, index=False, sep=";", encoding="utf-8-sig")
    out = subprocess.run(cmvoice("send", csv, *notification_flags(), "--set", f"callback-url={receiver.url}",
                                 "--journal", tmp_path / "j.sqlite", "-o", tmp_path / "r.csv", "--base-url",
                                 sim.base_url, "--no-progress", "--rate", "1000", "--concurrency", "8",
                                 "--max-live-calls", "2", "--callbacks", receiver.path),
                         capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    receiver.wait_for(10, timeout=60)
    arrived = {r["instruction-id"]: pd.Timestamp(r["received-at"]) for r in receiver.records()}
    calls = sim.calls.set_index("instruction_id")
    # The simulator's call start is when it received the request (its clock is the wall clock).
    spans = [(pd.Timestamp(calls.loc[i, "started_on"]), arrived[i]) for i in calls.index]
    assert most_alive(spans) <= 2
    assert len(calls) == 10
