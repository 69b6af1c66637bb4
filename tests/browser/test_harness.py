"""The harness itself: JupyterLab on loopback renders an ipywidgets Button and a click reaches the kernel."""
from __future__ import annotations

import nbformat
import pytest

from ._lab import cell_errors, open_notebook, run_all_cells

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_widget_button_renders_and_its_click_changes_a_label(lab, page, screenshots):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(
        "import ipywidgets as w\n"
        "label = w.Label('not clicked')\n"
        "button = w.Button(description='Press me')\n"
        "def on_click(_):\n"
        "    label.value = 'clicked'\n"
        "button.on_click(on_click)\n"
        "w.VBox([button, label])"
    )]
    nbformat.write(nb, lab.root_dir / "harness_probe.ipynb")

    open_notebook(page, lab, "harness_probe.ipynb")
    cells = run_all_cells(page)
    assert not cell_errors(cells)
    page.wait_for_selector(".jupyter-widgets .widget-button", timeout=30_000)
    assert page.locator(".widget-label", has_text="not clicked").count() == 1

    page.locator(".widget-button", has_text="Press me").click()
    page.wait_for_selector(".widget-label:text-is('clicked')", timeout=30_000)
    page.screenshot(path=str(screenshots / "harness_probe.png"))
