"""Shared fixtures. Everything runs on loopback; nothing here touches the internet."""
import os

import pytest

# Tests must never pick up a real account from the developer's shell.
os.environ.pop("CM_PRODUCT_TOKEN", None)
os.environ.pop("CMVOICE_BASE_URL", None)
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_configure(config):
    config.addinivalue_line("markers", "simulator(**options): the Simulator options of a folder's `sim` fixture "
                                       "(seed=, speed=, faults=...)")


@pytest.fixture
def no_token_env(monkeypatch):
    """A clean environment without a product token or base URL."""
    monkeypatch.delenv("CM_PRODUCT_TOKEN", raising=False)
    monkeypatch.delenv("CMVOICE_BASE_URL", raising=False)
