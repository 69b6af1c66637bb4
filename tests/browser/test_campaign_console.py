"""The Campaign app as an operator uses it in JupyterLab (Chromium, 1400×900), against the simulator on loopback.

An edit after the confirmation was typed sends nothing; a finished campaign offers nothing; an
all-invalid and an empty list never end green; a ``;`` CSV with ``Telefoon`` uploaded in the app is
mapped and planned; the form is locked during a send that shows its rate and time left; the
results are filtered and downloaded. The confirmation and the send in progress are photographed
into build/screenshots/console/ (the docs' screenshots are copied from there).
"""
from __future__ import annotations

import re

import nbformat
import pytest
from playwright.sync_api import expect

from ._lab import cell_errors, new_page, open_notebook, run_all_cells

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 90_000
VIEWPORT = {"width": 1400, "height": 900}

HEAD = '''from pathlib import Path
import ipywidgets as W
import pandas as pd
from cmvoice_nb.simulator import Simulator, SIMULATOR_TOKEN
from cmvoice_nb.widgets import Campaign

WORK = Path("../build/console/{name}"); WORK.mkdir(parents=True, exist_ok=True)
for old in WORK.glob("*"):
    old.unlink()
sim = Simulator(seed=7)
defaults = {{"caller": "+31201234567", "prompt": "Hello {{Naam}}", "prompt-type": "TTS"}}
people = pd.DataFrame({{"Naam": [f"P{{i}}" for i in range({rows})],
                       "Telefoon": [f"+3161234{{i:04d}}" for i in range({rows})]}})
'''


@pytest.fixture()
def wide_page(browser):
    with new_page(browser, viewport=VIEWPORT, accept_downloads=True) as pg:
        yield pg


@pytest.fixture(scope="module")
def shots(screenshots):
    folder = screenshots / "console"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _open(page, lab, name: str, source: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source)]
    rel = f"notebooks/_console_{name}.ipynb"
    nbformat.write(nb, lab.root_dir / rel)
    open_notebook(page, lab, rel)
    page.evaluate("() => window.jupyterapp.shell.collapseLeft()")  # the notebook's full width, as in the docs
    cells = run_all_cells(page)
    assert not cell_errors(cells), cell_errors(cells)
    apps = page.locator(".cmvoice-app.cmvoice-campaign")
    apps.first.wait_for(state="visible", timeout=TIMEOUT_MS)
    return apps


def _status(app, text):
    pattern = text if isinstance(text, re.Pattern) else re.compile(re.escape(text))
    app.locator(".cmvoice-status").filter(has_text=pattern).first.wait_for(timeout=TIMEOUT_MS)


def _button(scope, text):
    return scope.locator(".widget-button", has_text=re.compile(rf"^\s*{re.escape(text)}\s*$")).first


def _text_input(app, label):
    return app.locator(".widget-text").filter(
        has=app.page.locator(".widget-label", has_text=re.compile(rf"^{re.escape(label)}$"))).locator("input").first


def _field_select(app, key):
    return app.locator(".cmvoice-field", has_text=re.compile(rf"^\s*{re.escape(key)} \*")).locator("select").first


def _snap(page, locator, path):
    locator.evaluate("el => el.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(300)
    page.screenshot(path=str(path))


CONFIRM = HEAD.format(name="confirm", rows=4) + '''
app = Campaign(people, name="spring", simulator=sim, journal_dir=WORK, token=SIMULATOR_TOKEN, defaults=defaults)
app.base_url.value = sim.base_url  # "the real API" here is a loopback stand-in: nothing leaves the machine
edit = W.Button(description="Edit the name from code", layout=W.Layout(width="16em"))
edit.on_click(lambda _b: setattr(app.name, "value", "spring-2"))
count = W.Button(description="Count calls")
placed = W.HTML()
count.on_click(lambda _b: setattr(placed, "value", f"placed {sim.placed_count()}"))
W.VBox([app, W.HBox([edit, count, placed])])'''


def test_an_edit_after_the_confirmation_was_typed_sends_nothing(lab, wide_page, shots):
    app = _open(wide_page, lab, "confirm", CONFIRM).first
    app.locator(".widget-toggle-button", has_text="CM Voice API").click()
    app.locator(".cmvoice-target-provider").wait_for(timeout=TIMEOUT_MS)
    _button(app, "Send (real)").click()
    confirm = app.locator(".cmvoice-confirm")
    confirm.filter(has_text="Callback URL").wait_for(timeout=TIMEOUT_MS)
    assert "Calls" in confirm.inner_text() and "4 now" in confirm.inner_text()
    # Every input is locked while the confirmation is open.
    expect(_text_input(app, "Campaign")).to_be_disabled()
    expect(_field_select(app, "callee")).to_be_disabled()
    expect(app.locator(".widget-upload", has_text=re.compile("Load list"))).to_be_disabled()
    expect(_button(app, "Validate")).to_be_disabled()
    _text_input(app, "Campaign name").fill("spring")
    expect(_button(confirm, "Place 4 real calls")).to_be_enabled()
    _snap(wide_page, confirm, shots / "campaign_confirm.png")

    _button(wide_page, "Edit the name from code").click()  # an edit arriving from another cell
    _status(app, "it was withdrawn, nothing was sent")
    expect(confirm).to_be_hidden()
    expect(_text_input(app, "Campaign")).to_be_enabled()
    _button(wide_page, "Count calls").click()
    wide_page.locator(".widget-html", has_text="placed 0").wait_for(timeout=TIMEOUT_MS)


ENDS = HEAD.format(name="ends", rows=3) + '''
done = Campaign(people, name="done", simulator=sim, journal_dir=WORK, defaults=defaults, rate=50)
invalid = Campaign(pd.DataFrame({"Naam": ["A", "B"], "Telefoon": ["not a number", "3.16123E+10"]}), name="bad",
                   simulator=sim,
                   journal_dir=WORK, defaults=defaults, columns={"callee": "Telefoon"})
empty = Campaign(pd.DataFrame({"Naam": [], "Telefoon": []}), name="empty", simulator=sim, journal_dir=WORK,
                 defaults=defaults, columns={"callee": "Telefoon"})
W.VBox([done, invalid, empty])'''


def test_a_finished_campaign_offers_nothing_and_invalid_or_empty_lists_never_end_green(lab, wide_page):
    apps = _open(wide_page, lab, "ends", ENDS)
    done, invalid, empty = apps.nth(0), apps.nth(1), apps.nth(2)
    _button(done, "Send").click()
    _status(done, "Finished: 3 calls placed")
    expect(done.locator(".progress-bar-success")).to_have_count(1)
    # Every row is settled: a second Send is not offered, and says why.
    expect(_button(done, "Send")).to_be_disabled()
    assert "nothing left to send" in (_button(done, "Send").get_attribute("title") or "")

    for app, headline in ((invalid, "Needs you: invalid 2"), (empty, "Nothing to send: the list is empty")):
        app.scroll_into_view_if_needed()
        _button(app, "Send").click()
        _status(app, headline)
        expect(app.locator(".progress-bar-success")).to_have_count(0)
        assert "#1a7f37" not in app.locator(".cmvoice-status").first.inner_html()  # not green
        expect(_button(app, "Send")).to_be_disabled()
    assert "scientific notation" in invalid.inner_text()


UPLOAD = HEAD.format(name="upload", rows=0) + '''
app = Campaign(name="klanten", simulator=sim, journal_dir=WORK, defaults=defaults, rate=50)
app'''

SEMICOLON_LIST = ("\ufeffNaam;Telefoon;Land;Klantnummer\r\nAnn;06 1234 5610;NL;K-1\r\nBob;0470 12 34 56;BE;K-2\r\n"
                  "Cem;3,16123E+10;NL;K-3\r\n").encode("utf-8")


def test_an_uploaded_semicolon_csv_with_telefoon_is_mapped_and_planned(lab, wide_page):
    app = _open(wide_page, lab, "upload", UPLOAD).first
    # ipywidgets' FileUpload opens a detached <input type=file>: answer its file chooser.
    with wide_page.expect_file_chooser(timeout=TIMEOUT_MS) as chooser:
        app.locator(".widget-upload", has_text=re.compile("Load list")).click()
    chooser.value.set_files({"name": "klanten.csv", "mimeType": "text/csv", "buffer": SEMICOLON_LIST})
    _status(app, "loaded klanten.csv")
    assert "Telefoon → callee" in app.inner_text()
    selected = "s => s.options[s.selectedIndex].text"
    assert _field_select(app, "callee").evaluate(selected) == "Telefoon"
    _button(app, "Validate").click()
    _status(app, "2 of 3 rows valid")
    # The problem is named by the line the operator's file shows, and for what it is.
    problems = app.locator("table", has_text="lines 4").first
    problems.wait_for(timeout=TIMEOUT_MS)
    assert "scientific notation" in problems.inner_text() and "letters" not in problems.inner_text()


SENDING = HEAD.format(name="sending", rows=40) + '''
people.loc[38:, "Telefoon"] = ["not a number", "12"]
app = Campaign(people, name="busy", simulator=sim, journal_dir=WORK, defaults=defaults, rate=2)
app'''


def test_the_form_is_locked_while_sending_with_rate_and_time_left_then_results_filter_and_download(
        lab, wide_page, shots):
    app = _open(wide_page, lab, "sending", SENDING).first
    _button(app, "Send").click()
    _status(app, "sending to the simulator")
    for control in (_text_input(app, "Campaign"), _field_select(app, "callee"),
                    app.locator(".widget-upload", has_text=re.compile("Load list")),
                    _button(app, "Validate"), _button(app, "Dry run")):
        expect(control).to_be_disabled()
    expect(_button(app, "Stop")).to_be_enabled()
    pace = app.locator(".cmvoice-pace")
    pace.filter(has_text=re.compile(r"\d+\.\d calls/s \(set 2/s\) · time left about \d+")).wait_for(
        timeout=TIMEOUT_MS)
    _snap(wide_page, app.locator(".cmvoice-pace"), shots / "campaign_sending.png")
    _button(app, "Stop").click()
    _status(app, "Stopped by you")
    expect(_text_input(app, "Campaign")).to_be_enabled()

    results = app.locator(".cmvoice-results")
    results.wait_for(timeout=TIMEOUT_MS)
    assert re.search(r"rows 1–40 of 40", results.inner_text())
    assert "HTTP status" in results.inner_text() and "http_status" not in results.inner_text()
    show = results.locator("select").first
    show.select_option(label="invalid (2)")
    results.filter(has_text="rows 1–2 of 2").wait_for(timeout=TIMEOUT_MS)
    statuses = results.locator("table tbody tr")
    expect(statuses).to_have_count(2)
    link = results.locator("a[download='busy-results.csv']")
    expect(results.locator("a[download='busy-results.xlsx']")).to_have_count(1)
    with wide_page.expect_download() as info:
        link.click()
    text = open(info.value.path(), encoding="utf-8").read()
    assert text.startswith("row,") and text.count("\n") == 41 and "invalid" in text
