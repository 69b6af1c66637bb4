"""Fixtures for the simulator tests: a simulator and a local callback endpoint, both on loopback."""
from __future__ import annotations

import pytest

from cmvoice_nb.simulator import Simulator

from ._calls import CallbackReceiver


@pytest.fixture
def receiver():
    r = CallbackReceiver()
    yield r
    r.close()


@pytest.fixture
def make_receiver():
    made = []

    def make(statuses=()):
        r = CallbackReceiver(statuses)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


@pytest.fixture
def make_sim():
    """Factory for simulators (closed after the test); fast clock by default."""
    made = []

    def make(**kwargs):
        kwargs.setdefault("speed", 10_000.0)
        sim = Simulator(**kwargs)
        made.append(sim)
        return sim

    yield make
    for sim in made:
        sim.close()


@pytest.fixture
def sim(make_sim, receiver):
    """A simulator whose default callback URL is the test's receiver."""
    return make_sim(seed=0, callback_url=receiver.url)


@pytest.fixture
def client(sim):
    c = sim.client()
    yield c
    c.close()
