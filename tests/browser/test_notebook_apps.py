"""Each shipped notebook in JupyterLab, in headless Chromium: run all, the app renders, a click works.

Screenshots of every app go to build/screenshots/; the README's come from test_app_states.py.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ._lab import cell_errors, open_notebook, run_all_cells

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 60_000


def _run_notebook(page, lab, name):
    open_notebook(page, lab, f"notebooks/{name}.ipynb")
    cells = run_all_cells(page)
    assert not cell_errors(cells), cell_errors(cells)
    assert all(c["count"] for c in cells), "every code cell should have run"


def _app(page, css):
    app = page.locator(f".cmvoice-app.{css}")
    app.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert app.locator(".widget-button").count() >= 2
    return app


def _status(app):
    # The status line is the app's first direct widget-html after the controls: match by its text.
    return app.locator(".widget-html")


def test_audio_app_converts_a_folder_and_an_uploaded_file(lab, page, screenshots, tmp_path):
    _run_notebook(page, lab, "01_audio_preparation")
    app = _app(page, "cmvoice-audio-prep")

    app.locator(".widget-button", has_text="Convert folder").click()
    _status(app).filter(has_text=re.compile(r"\d+ files, \d+ compliant")).first.wait_for(timeout=TIMEOUT_MS)
    # The status line and the table are two messages from the kernel: wait for the table to render
    # too (on a busy machine it lands a moment after the status).
    app.locator(".jp-OutputArea-output table").first.wait_for(state="attached", timeout=TIMEOUT_MS)

    src = lab.root_dir / "sample_audio" / "hello_44k_stereo.wav"
    # ipywidgets' FileUpload opens a detached <input type=file>: answer its file chooser.
    with page.expect_file_chooser(timeout=TIMEOUT_MS) as chooser:
        app.locator(".widget-upload").click()
    chooser.value.set_files(str(src))
    page.wait_for_function("() => [...document.querySelectorAll('.cmvoice-audio-prep .widget-upload')]"
                           ".some(b => b.textContent.includes('(1)'))", timeout=TIMEOUT_MS)
    app.locator(".widget-button", has_text="Convert uploads").click()
    _status(app).filter(has_text="1 converted").first.wait_for(timeout=TIMEOUT_MS)
    app.locator("audio").nth(1).wait_for(state="attached", timeout=TIMEOUT_MS)  # before and after players
    # The upload was cleared from the widget (its counter is back to 0).
    page.wait_for_function("() => [...document.querySelectorAll('.cmvoice-audio-prep .widget-upload')]"
                           ".every(b => b.textContent.includes('(0)'))", timeout=TIMEOUT_MS)
    app.screenshot(path=str(screenshots / "audio_prep.png"))


def test_spelling_app_spells_a_code(lab, page, screenshots):
    _run_notebook(page, lab, "02_otp_spelling_set")
    app = _app(page, "cmvoice-spelling-set")
    app.locator(".widget-button", has_text="Build").click()
    _status(app).filter(has_text="en-GB: OK").first.wait_for(timeout=TIMEOUT_MS)
    app.locator(".widget-button", has_text="Spell it").click()
    _status(app).filter(has_text="'48213'").first.wait_for(timeout=TIMEOUT_MS)
    assert app.locator(".widget-audio, audio").count() >= 1
    app.screenshot(path=str(screenshots / "spelling_set.png"))


def test_campaign_app_validates_and_sends_in_the_background(lab, page, screenshots):
    _run_notebook(page, lab, "03_campaign")
    app = _app(page, "cmvoice-campaign")
    # No token in the test environment: the simulator is the selected target.
    assert app.locator(".widget-toggle-button.mod-active", has_text="Simulator").count() == 1
    assert app.locator("input[type=password]").input_value() == ""

    app.locator(".widget-button", has_text="Validate").click()
    _status(app).filter(has_text=re.compile(r"\d+ of 8 rows valid")).first.wait_for(timeout=TIMEOUT_MS)
    app.locator(".widget-button", has_text="Send").click()
    # The list has rows to fix: the run ends "needs you", with its own headline (the CLI's exit 1).
    _status(app).filter(has_text=re.compile(r"Needs you: .*calls placed")).first.wait_for(timeout=TIMEOUT_MS)
    assert "queued" in app.inner_text()
    app.screenshot(path=str(screenshots / "campaign.png"))


def test_dashboard_filters_refresh_the_summary(lab, page, screenshots):
    _run_notebook(page, lab, "04_callback_analysis")
    app = _app(page, "cmvoice-callback-dashboard")
    _status(app).filter(has_text=re.compile(r"(\d+) of \1 calls shown")).first.wait_for(timeout=TIMEOUT_MS)
    # The plots are drawn when their tab is shown (three figures cost more than the counting).
    app.locator(".lm-TabBar-tab, .p-TabBar-tab", has_text="Plots").click()
    app.locator(".widget-gridbox img").first.wait_for(timeout=TIMEOUT_MS)
    expect(app.locator(".widget-gridbox img")).to_have_count(3)
    app.locator(".lm-TabBar-tab, .p-TabBar-tab", has_text="Summary").click()

    app.locator(".widget-dropdown", has_text="Outcome").locator("select").select_option("Finished")
    shown = _status(app).filter(has_text=re.compile(r"\d+ of \d+ calls shown; answer rate 100%"))
    shown.first.wait_for(timeout=TIMEOUT_MS)
    app.screenshot(path=str(screenshots / "callback_dashboard.png"))
