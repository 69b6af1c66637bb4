"""Fixtures the campaign tests share: the simulator and a callback receiver on loopback, the
product token in the environment, and an open journal.

A module or a test picks its simulator with ``pytest.mark.simulator(...)``, whose keyword
arguments go to :class:`~cmvoice_nb.simulator.Simulator` (``seed=``, ``speed=``, ``faults=``...);
without the mark it is seed 3 at the simulator's default speed. Plain helpers (the people on a
list, a Notification's defaults, the ``cmvoice send`` flags) are in ``_lists.py``.
"""
from __future__ import annotations

import pytest

from cmvoice_nb.callbacks import CallbackReceiver
from cmvoice_nb.campaign import Journal
from cmvoice_nb.simulator import SIMULATOR_TOKEN, Simulator


@pytest.fixture
def sim(request):
    """A simulator on loopback, closed after the test."""
    marker = request.node.get_closest_marker("simulator")
    options = {"seed": 3, **(marker.kwargs if marker else {})}
    with Simulator(**options) as simulator:
        yield simulator


@pytest.fixture
def token(monkeypatch):
    """The simulator's product token in ``CM_PRODUCT_TOKEN``, as an operator's shell holds it."""
    monkeypatch.setenv("CM_PRODUCT_TOKEN", SIMULATOR_TOKEN)


@pytest.fixture
def receiver(tmp_path):
    """A callback receiver on loopback writing ``callbacks.jsonl`` in the test's folder."""
    rx = CallbackReceiver(tmp_path / "callbacks.jsonl").start()
    yield rx
    rx.stop()


@pytest.fixture
def journal(tmp_path):
    """An open journal ``j.sqlite`` holding the Notification campaign ``c``, closed after the test."""
    j = Journal(tmp_path / "j.sqlite")
    j.ensure_campaign("c", app="notification")
    yield j
    j.close()
