"""The shared plumbing: errors in callbacks and threads land in the app's output area."""
from __future__ import annotations

import ipywidgets as W

from cmvoice_nb.widgets._common import App, clear, say, show


def _texts(out: W.Output) -> str:
    return "".join(o.get("text", "") for o in out.outputs)


def test_an_error_in_a_callback_is_shown_in_the_output_and_kept():
    app = App()
    button = W.Button()

    def broken(_b):
        raise ValueError("row 3, field callee: expected a phone number")

    button.on_click(app.guard(broken, action="validate"))
    button.click()  # must not raise
    assert isinstance(app.last_error, ValueError)
    assert "validate failed: ValueError: row 3, field callee" in _texts(app.out)
    assert "row 3" in app.status.value


def test_an_error_in_a_background_thread_is_shown_in_the_output():
    app = App()

    def work():
        raise RuntimeError("provider unreachable")

    app.in_thread(work, action="send").join(10)
    assert isinstance(app.last_error, RuntimeError)
    assert "send failed: RuntimeError: provider unreachable" in _texts(app.out)


def test_output_helpers_append_from_a_thread_and_clear():
    app = App()
    app.in_thread(lambda: (say(app.out, "hello"), show(app.out, W.HTML("x"))), action="print").join(10)
    assert "hello" in _texts(app.out)
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in app.out.outputs)
    clear(app.out)
    assert app.out.outputs == ()
