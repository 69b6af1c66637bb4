"""Fixtures the callback tests share: a receiver on loopback."""
import matplotlib
import pytest

from cmvoice_nb.callbacks.receiver import CallbackReceiver

matplotlib.use("Agg")


@pytest.fixture
def rx(tmp_path):
    """A callback receiver on loopback with its defaults, writing ``cb.jsonl`` in the test's folder."""
    with CallbackReceiver(tmp_path / "cb.jsonl") as receiver:
        yield receiver
