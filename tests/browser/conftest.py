"""Fixtures for the browser tests: a JupyterLab on loopback and a headless Debian Chromium.

Locally these tests skip when /usr/bin/chromium is absent; in CI (``CI=true``) a missing
Chromium is a failure, because ``.ci/run`` installs it.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .._wait import scaled
from ._lab import CHROMIUM, CHROMIUM_ARGS, LabServer, new_page

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "build" / "screenshots"


def _require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{CHROMIUM} is missing but CI=true: .ci/run must install Debian's chromium")
    pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install chromium); "
                "skipped locally, required in CI")


@pytest.fixture(scope="session")
def browser():
    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    # Playwright's assertions wait 5 s by default: a widget that re-renders on a loaded 2-core
    # machine can take longer. Every expect() waits as long as the rest of the suite's waits do.
    expect.set_options(timeout=scaled(20) * 1000)
    with sync_playwright() as pw:
        # Debian's chromium, never Playwright's own download (no network here).
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture()
def page(browser):
    with new_page(browser, viewport={"width": 1280, "height": 1800}) as pg:
        yield pg


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory) -> Path:
    """A throw-away copy of notebooks/ and sample_audio/ so runs never write into the repo."""
    root = tmp_path_factory.mktemp("labroot")
    shutil.copytree(REPO / "notebooks", root / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "_build.py", "__pycache__"))
    if (REPO / "sample_audio").exists():
        shutil.copytree(REPO / "sample_audio", root / "sample_audio")
    return root


@pytest.fixture(scope="session")
def lab(lab_root, tmp_path_factory):
    _require_chromium()
    with LabServer(lab_root, tmp_path_factory.mktemp("labstate")) as server:
        yield server


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
