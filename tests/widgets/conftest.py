"""Fixtures for the widget tests: sample recordings made in code, a simulator, a callback log."""
from __future__ import annotations

import pytest

from cmvoice_nb.callbacks import CallbackReceiver
from cmvoice_nb.simulator import Simulator

from .._audio import tone_wav
from .._wait import scaled
from ..campaign._lists import notification_defaults


@pytest.fixture()
def recordings(tmp_path):
    """A folder of three recordings at the wrong rate and channel count."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    for i, name in enumerate(("welcome.wav", "goodbye.wav", "menu.wav")):
        (folder / name).write_bytes(tone_wav(300 + 100 * i))
    return folder


@pytest.fixture()
def simulator():
    with Simulator(seed=3) as sim:
        yield sim


@pytest.fixture(scope="module")
def callback_log(tmp_path_factory):
    """(log path, campaign results): a small Notification campaign sent to the simulator."""
    import pandas as pd

    from cmvoice_nb.campaign import send_campaign

    out = tmp_path_factory.mktemp("callbacks")
    log = out / "callbacks.jsonl"
    people = pd.DataFrame({"callee": [f"+3161234{i:02d}{e}" for i, e in
                                      enumerate(["10", "10", "09", "11", "12", "10", "10", "09"])]})
    with Simulator(seed=5) as sim, CallbackReceiver(log) as rx:
        results = send_campaign(people, sim.client(), journal=out / "j.sqlite", app="notification", name="dash",
                                defaults=notification_defaults("Hi", callback_url=rx.url), rate=50, burst=20,
                                progress=False)
        sim.wait_idle(scaled(30))
        rx.wait_for(len(people), timeout=scaled(30))
    return log, results
