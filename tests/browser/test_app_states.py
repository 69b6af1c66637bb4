"""Every app in every state (initial, working, done, error) in JupyterLab at 1400×900, as an operator sees it.

Each test writes a small notebook that builds one app (its action held by a wrapper in the
notebook until the test has photographed the "working" state and writes the release file), clicks
through the states
in headless Chromium, takes a screenshot of each into build/screenshots/states/ and checks, in
every state, that no control's label is cut off (``scrollWidth`` against ``clientWidth``) and no
table column is narrower than its header.
"""
from __future__ import annotations

import re

import nbformat
import pytest
from playwright.sync_api import expect

from ._lab import cell_errors, open_notebook, run_all_cells

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TIMEOUT_MS = 90_000
VIEWPORT = {"width": 1400, "height": 900}
HOLD_S = 120  # the longest the notebook's wrapper holds an action; the test releases it much sooner

# Labels that ipywidgets cuts with an ellipsis when too narrow, and our own fixed-width HTML labels.
_TRUNCATED_JS = """(root) => {
  const sel = '.widget-label, .widget-label-basic, .widget-button, .widget-toggle-button, ' +
              '.cmvoice-field .widget-html, .cmvoice-file-row .widget-html';
  const out = [];
  for (const el of root.querySelectorAll(sel)) {
    if (!el.offsetParent || !el.textContent.trim()) continue;   // hidden or empty
    if (el.scrollWidth > el.clientWidth + 1) {
      out.push(`${el.className.split(' ')[0]} "${el.textContent.trim().slice(0, 40)}" ` +
               `(${el.scrollWidth} > ${el.clientWidth})`);
    }
  }
  return out;
}"""

# A column is too narrow when its width is less than the width of its header's text.
_NARROW_COLUMNS_JS = """(root) => {
  const out = [];
  for (const table of root.querySelectorAll('table')) {
    if (!table.offsetParent) continue;
    for (const th of table.querySelectorAll('thead th')) {
      const text = th.textContent.trim();
      if (!text) continue;
      const range = document.createRange();
      range.selectNodeContents(th);
      const textWidth = range.getBoundingClientRect().width;
      const style = getComputedStyle(th);
      const inner = th.getBoundingClientRect().width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      const lines = Math.round(range.getClientRects().length);
      if (inner + 1 < textWidth || lines > 1) out.push(`"${text}" (${inner.toFixed(0)} < ${textWidth.toFixed(0)})`);
    }
  }
  return out;
}"""


@pytest.fixture()
def wide_page(browser):
    context = browser.new_context(viewport=VIEWPORT)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


def _write_notebook(lab, name: str, source: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source)]
    rel = f"notebooks/_states_{name}.ipynb"
    nbformat.write(nb, lab.root_dir / rel)
    return rel


def _open_app(page, lab, name, source, css):
    rel = _write_notebook(lab, name, source)
    open_notebook(page, lab, rel)
    cells = run_all_cells(page)
    assert not cell_errors(cells), cell_errors(cells)
    app = page.locator(f".cmvoice-app.{css}")
    app.wait_for(state="visible", timeout=TIMEOUT_MS)
    return app


def _status(app, text):
    pattern = text if isinstance(text, re.Pattern) else re.compile(re.escape(text))
    app.locator(".cmvoice-status").filter(has_text=pattern).first.wait_for(timeout=TIMEOUT_MS)


def _release(lab, name: str) -> None:
    """Let the held action of the notebook whose WORK folder is build/states/<name> go on."""
    (lab.root_dir / "build" / "states" / name / "release").touch()


def _snap(app, screenshots, name, state, *, focus=".cmvoice-status"):
    """Check the labels and tables, then photograph the 1400×900 window with *focus* in view."""
    folder = screenshots / "states"
    folder.mkdir(parents=True, exist_ok=True)
    app.page.wait_for_timeout(300)  # let the last widget update paint
    truncated = app.evaluate(_TRUNCATED_JS)
    narrow = app.evaluate(_NARROW_COLUMNS_JS)
    if state == "initial":
        app.locator("h3").first.scroll_into_view_if_needed()
    else:
        app.locator(focus).first.evaluate("el => el.scrollIntoView({block: 'center'})")
    app.page.wait_for_timeout(200)
    app.page.screenshot(path=str(folder / f"{name}_{state}.png"))
    # The app's visible part alone, without JupyterLab around it (what the README shows).
    box = app.bounding_box()
    panel = app.page.locator(".jp-NotebookPanel-notebook, .jp-Notebook").first.bounding_box()
    top = max(box["y"], panel["y"])
    bottom = min(box["y"] + box["height"], panel["y"] + panel["height"])
    if bottom - top > 20:
        app.page.screenshot(path=str(folder / f"{name}_{state}_app.png"),
                            clip={"x": box["x"], "y": top, "width": box["width"], "height": bottom - top})
    assert truncated == [], f"{name} {state}: labels cut off: {truncated}"
    assert narrow == [], f"{name} {state}: columns narrower than their header: {narrow}"


def _button(app, text):
    return app.locator(".widget-button", has_text=re.compile(rf"^\s*{re.escape(text)}\s*$")).first


AUDIO = f'''import os, time
from pathlib import Path
import cmvoice_nb.audio as audio
from cmvoice_nb.widgets import AudioPrep

WORK = Path("../build/states/audio"); WORK.mkdir(parents=True, exist_ok=True)
_convert_folder = audio.convert_folder
RELEASE = WORK / "release"; RELEASE.unlink(missing_ok=True)
def _slow(*args, **kwargs):  # holds the action until the test has photographed its "working" state
    deadline = time.monotonic() + {HOLD_S}
    while not RELEASE.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return _convert_folder(*args, **kwargs)
audio.convert_folder = _slow
app = AudioPrep(audio_root=WORK / "prompts", source_dir="../sample_audio")
app'''


def test_audio_prep_in_every_state(lab, wide_page, screenshots):
    app = _open_app(wide_page, lab, "audio", AUDIO, "cmvoice-audio-prep")
    _snap(app, screenshots, "audio_prep", "initial")
    _button(app, "Convert folder").click()
    _status(app, "converting the folder")
    expect(_button(app, "Check saved files")).to_be_disabled()
    expect(_button(app, "Convert folder")).to_be_disabled()
    _snap(app, screenshots, "audio_prep", "working")
    _release(lab, "audio")
    _status(app, re.compile(r"\d+ files, \d+ compliant"))
    expect(_button(app, "Convert folder")).to_be_enabled()
    _snap(app, screenshots, "audio_prep", "done")
    folder = app.locator(".widget-text", has_text="Source folder").locator("input")
    folder.fill("../sample_audio/no-such-folder")
    folder.press("Tab")
    _button(app, "Convert folder").click()
    _status(app, "Convert folder failed")
    expect(app.locator("table")).to_have_count(0)  # the previous result is gone
    _snap(app, screenshots, "audio_prep", "error")


SPELLING = f'''import time
from pathlib import Path
import cmvoice_nb.spelling as spelling
from cmvoice_nb.widgets import SpellingSet

WORK = Path("../build/states/spelling"); WORK.mkdir(parents=True, exist_ok=True)
_build = spelling.build_spelling_set
RELEASE = WORK / "release"; RELEASE.unlink(missing_ok=True)
def _slow(*args, **kwargs):  # holds the action until the test has photographed its "working" state
    deadline = time.monotonic() + {HOLD_S}
    while not RELEASE.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return _build(*args, **kwargs)
spelling.build_spelling_set = _slow
app = SpellingSet(root=WORK / "upload", source="../sample_audio/spelling_en", locale="en-GB")
app'''


def test_spelling_set_in_every_state(lab, wide_page, screenshots):
    app = _open_app(wide_page, lab, "spelling", SPELLING, "cmvoice-spelling-set")
    _snap(app, screenshots, "spelling_set", "initial")
    _button(app, "Build").click()
    _status(app, "building the set")
    expect(_button(app, "Spell it")).to_be_disabled()
    _snap(app, screenshots, "spelling_set", "working")
    _release(lab, "spelling")
    _status(app, "en-GB: OK")
    expect(app.locator(".cmvoice-chip").nth(35)).to_be_attached()  # 36 characters at least
    expect(app.locator("audio")).to_have_count(0)
    code = app.locator(".widget-text", has_text="Try a code").locator("input")
    code.fill("48213")
    code.press("Enter")  # Enter spells
    _status(app, "'48213'")
    expect(app.locator("audio")).to_have_count(1)
    _button(app, "Pack zip").click()
    _status(app, "packed")
    expect(app.locator("a[download]")).to_have_count(1)
    _snap(app, screenshots, "spelling_set", "done")
    code.fill("48!13")
    code.press("Enter")
    _status(app, "Preview failed")
    expect(app.locator(".widget-box audio")).to_have_count(0)  # the previous code's player is gone
    _snap(app, screenshots, "spelling_set", "error")


CAMPAIGN = '''from pathlib import Path
import pandas as pd
from cmvoice_nb.simulator import Simulator, SIMULATOR_TOKEN
from cmvoice_nb.widgets import Campaign

WORK = Path("../build/states/campaign"); WORK.mkdir(parents=True, exist_ok=True)
sim = Simulator(seed=7)
people = pd.DataFrame({
    "first_name": ["Ann", "Bob", "Cem", "Dora", "Eve", "Finn", "Gus", "Hal"],
    "phone": ["+31 6 1234 5610", "0612345611", "31612345612.0", "+31612345609",
              "06-1234-5613", "+31 6 12 34 56 78", "not a number", "+32 470 12 34 56"],
})
# rate=1 keeps the send going long enough to see it working and to press Stop.
app = Campaign(people, name="states", simulator=sim, journal_dir=WORK, token=SIMULATOR_TOKEN,
               columns={"callee": "phone"}, rate=1,
               defaults={"caller": "+31201234567", "prompt": "Hello {first_name}", "prompt-type": "TTS"})
app.base_url.value = sim.base_url  # "the real API" here is a loopback stand-in: nothing leaves the machine
app'''


def test_campaign_in_every_state(lab, wide_page, screenshots):
    app = _open_app(wide_page, lab, "campaign", CAMPAIGN, "cmvoice-campaign")
    assert app.locator(".cmvoice-target-simulator").count() == 1  # a token given, still the simulator
    _snap(app, screenshots, "campaign", "initial")
    _button(app, "Send").click()
    _status(app, "sending to the simulator")
    expect(_button(app, "Validate")).to_be_disabled()
    expect(_button(app, "Stop")).to_be_enabled()
    _snap(app, screenshots, "campaign", "working")
    _button(app, "Stop").click()
    _status(app, "Stopped by you")
    assert "not sent — stopped" in app.inner_text()
    _snap(app, screenshots, "campaign", "done")

    # The real API: red banner with its URL, then a confirmation before anything is sent.
    app.locator(".widget-toggle-button", has_text="CM Voice API").click()
    app.locator(".cmvoice-target-provider").wait_for(timeout=TIMEOUT_MS)
    assert "127.0.0.1" in app.locator(".cmvoice-target-provider").inner_text()  # the base URL is shown
    _button(app, "Send (real)").click()
    app.locator(".cmvoice-confirm").filter(has_text="Countries").wait_for(timeout=TIMEOUT_MS)
    expect(app.locator(".cmvoice-confirm .widget-button").first).to_be_disabled()
    _snap(app, screenshots, "campaign", "confirm", focus=".cmvoice-confirm")
    app.locator(".widget-button", has_text="Cancel").click()

    app.locator(".widget-toggle-button", has_text="Simulator").click()
    prompt = app.locator(".cmvoice-field", has_text="prompt *").locator("textarea").first
    prompt.fill("Hello {surname}")
    prompt.press("Tab")
    _button(app, "Validate").click()
    _status(app, "Validate failed")
    _snap(app, screenshots, "campaign", "error")


DASHBOARD = f'''import time
from pathlib import Path
import pandas as pd
import cmvoice_nb.callbacks as callbacks
from cmvoice_nb.campaign import results_to_csv, send_campaign
from cmvoice_nb.simulator import Simulator
from cmvoice_nb.widgets import CallbackDashboard

WORK = Path("../build/states/dashboard"); WORK.mkdir(parents=True, exist_ok=True)
with Simulator(seed=42) as sim, callbacks.CallbackReceiver(WORK / "callbacks.jsonl") as rx:
    people = pd.DataFrame({{"callee": [f"+3162{{n:07d}}" for n in range(1000000, 1000040)]}})
    results = send_campaign(people, sim.client(), journal=WORK / "j.sqlite", app="notification", name="states",
                            defaults={{"caller": "+31201234567", "prompt": "Hi", "prompt-type": "TTS",
                                      "callback-url": rx.url}}, rate=50, burst=50, progress=False)
    sim.wait_idle(30)
    rx.wait_for(sim.placed_count(), timeout=60)
results_to_csv(results, WORK / "results.csv")
_load = callbacks.load_callbacks
RELEASE = WORK / "release"; RELEASE.unlink(missing_ok=True)
def _slow(*args, **kwargs):  # holds the action until the test has photographed its "working" state
    deadline = time.monotonic() + {HOLD_S}
    while not RELEASE.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return _load(*args, **kwargs)
callbacks.load_callbacks = _slow
dashboard = CallbackDashboard(log=WORK / "callbacks.jsonl", results=WORK / "results.csv")
dashboard'''


def test_callback_dashboard_in_every_state(lab, wide_page, screenshots):
    app = _open_app(wide_page, lab, "dashboard", DASHBOARD, "cmvoice-callback-dashboard")
    _snap(app, screenshots, "callback_dashboard", "initial")
    _button(app, "Load log").click()
    _status(app, "loading the log")
    expect(_button(app, "Refresh")).to_be_disabled()
    _snap(app, screenshots, "callback_dashboard", "working")
    _release(lab, "dashboard")
    _status(app, re.compile(r"(\d+) of \1 calls shown"))
    _snap(app, screenshots, "callback_dashboard", "done")
    app.locator(".lm-TabBar-tab, .p-TabBar-tab", has_text="Plots").click()
    app.locator(".widget-gridbox img").first.wait_for(timeout=TIMEOUT_MS)
    expect(app.locator(".widget-gridbox img")).to_have_count(3)
    _snap(app, screenshots, "callback_dashboard", "plots")
    app.locator(".lm-TabBar-tab, .p-TabBar-tab", has_text="Funnel").click()
    app.locator("table", has_text="callback received").first.wait_for(timeout=TIMEOUT_MS)
    _snap(app, screenshots, "callback_dashboard", "funnel")
    log = app.locator(".widget-text", has_text="Callback log").locator("input")
    log.fill("no-such-log.jsonl")
    log.press("Tab")
    _button(app, "Load log").click()
    _status(app, "Load failed")
    _snap(app, screenshots, "callback_dashboard", "error")
