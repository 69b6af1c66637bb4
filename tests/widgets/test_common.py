"""The shared plumbing: one action lifecycle, errors said once in plain words, thread-safe output."""
from __future__ import annotations

import threading

import ipywidgets as W

from cmvoice_nb.errors import CampaignError
from cmvoice_nb.widgets._common import App, clear, plain_error, say, show

from .._wait import scaled


def _texts(out: W.Output) -> str:
    return "".join(o.get("text", "") for o in out.outputs)


def test_an_error_in_a_callback_is_said_once_in_red_and_kept():
    app = App()
    button = W.Button()

    def broken(_b):
        raise ValueError("row 3, field callee: expected a phone number")

    button.on_click(app.guard(broken, action="validate"))
    button.click()  # must not raise
    assert isinstance(app.last_error, ValueError)
    assert "Validate failed: row 3, field callee" in app.status.value and "#cf222e" in app.status.value
    assert "ValueError" not in app.status.value  # plain words for the package's and value errors
    assert _texts(app.out) == ""  # not a second time in the output area


def test_an_error_in_a_background_thread_is_reported():
    app = App()

    def work():
        raise RuntimeError("provider unreachable")

    app.in_thread(work, action="send").join(scaled(10))
    assert isinstance(app.last_error, RuntimeError)
    assert "Send failed: RuntimeError: provider unreachable" in app.status.value


def test_a_file_error_names_the_file_not_bytes():
    exc = FileNotFoundError(2, "No such file or directory", "/data/prompts/welcome.wav")
    assert plain_error(exc) == "welcome.wav: no such file or directory"
    assert plain_error(CampaignError("defaults caller is missing")) == "defaults caller is missing"


def test_an_action_clears_the_last_result_disables_conflicting_controls_and_restores_them():
    app = App()
    other, already_off = W.Button(), W.Button(disabled=True)
    say(app.out, "old result")
    app.last_error = ValueError("old")
    seen = {}
    release = threading.Event()

    def work():
        seen["during"] = (other.disabled, app.status.value, _texts(app.out), app.last_error)
        release.wait(scaled(10))
        app.set_status("done")

    callback = app.action("convert", work, busy=[other, already_off], working="converting", background=True)
    callback()
    app.in_thread(lambda: None, action="noop").join(scaled(1))
    release.set()
    app.join(scaled(10))
    assert seen["during"][0] is True and "converting" in seen["during"][1]
    assert seen["during"][2] == "" and seen["during"][3] is None  # previous result and error cleared
    assert other.disabled is False and already_off.disabled is True  # each back to how it was
    assert app.working is False and "done" in app.status.value


def test_a_failed_action_restores_the_controls_and_shows_the_error():
    app = App()
    other = W.Button()

    def work():
        raise CampaignError("nothing valid to send")

    app.action("send", work, busy=[other])()
    assert other.disabled is False and app.working is False
    assert "Send failed: nothing valid to send" in app.status.value


def test_output_helpers_append_from_a_thread_and_clear():
    app = App()
    app.in_thread(lambda: (say(app.out, "hello"), show(app.out, W.HTML("x"))), action="print").join(scaled(10))
    assert "hello" in _texts(app.out)
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in app.out.outputs)
    clear(app.out)
    assert app.out.outputs == ()
