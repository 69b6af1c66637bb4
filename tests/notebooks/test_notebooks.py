"""Every shipped notebook runs top to bottom in a fresh kernel (marked ``notebooks``), and the committed
files are clean."""
from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOK_NAMES = ("01_audio_preparation", "02_otp_spelling_set", "03_campaign", "04_callback_analysis")


@pytest.fixture(scope="module", params=NOTEBOOK_NAMES)
def executed(request, tmp_path_factory):
    """(name, executed notebook, its work dir): each notebook is executed once for the tests below."""
    name = request.param
    work = tmp_path_factory.mktemp(name)
    nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    old = os.environ.get("CMVOICE_NB_WORKDIR")
    # The kernel inherits this: the notebook writes into a temp dir, never into the repository.
    os.environ["CMVOICE_NB_WORKDIR"] = str(work)
    try:
        client = NotebookClient(nb, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
        client.execute()  # raises CellExecutionError naming the first cell that errors
    finally:
        if old is None:
            os.environ.pop("CMVOICE_NB_WORKDIR", None)
        else:
            os.environ["CMVOICE_NB_WORKDIR"] = old
    return name, nb, work


@pytest.mark.notebooks
def test_notebook_runs_top_to_bottom_without_error(executed):
    _name, nb, work = executed
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert errors == []
    assert all(c.execution_count for c in nb.cells if c.cell_type == "code")
    assert any(work.iterdir()), "the notebook should have written its work into CMVOICE_NB_WORKDIR"


@pytest.mark.notebooks
def test_notebook_displays_its_widget_app(executed):
    _name, nb, _work = executed
    mimes = {m for c in nb.cells if c.cell_type == "code" for o in c.outputs for m in o.get("data", {})}
    assert "application/vnd.jupyter.widget-view+json" in mimes


@pytest.mark.notebooks
def test_notebook_shows_tables(executed):
    _name, nb, _work = executed
    html = [o["data"]["text/html"] for c in nb.cells if c.cell_type == "code" for o in c.outputs
            if "text/html" in o.get("data", {})]
    assert any("<table" in h for h in html)


@pytest.mark.notebooks
def test_notebook_writes_nothing_into_the_repository(executed):
    assert not any(p.suffix in (".wav", ".sqlite", ".jsonl", ".zip") for p in NOTEBOOK_DIR.rglob("*"))


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_committed_notebook_has_no_outputs_and_no_widget_state(name):
    raw = json.loads((NOTEBOOK_DIR / f"{name}.ipynb").read_text(encoding="utf-8"))
    code = [c for c in raw["cells"] if c["cell_type"] == "code"]
    assert code, "a notebook without code teaches nothing"
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    assert "widgets" not in raw["metadata"]
    assert raw["metadata"]["kernelspec"]["name"] == "python3"


def test_committed_notebooks_match_their_generator():
    spec = importlib.util.spec_from_file_location("nb_build", NOTEBOOK_DIR / "_build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert set(module.NOTEBOOKS) == set(NOTEBOOK_NAMES)
    for name in NOTEBOOK_NAMES:
        assert (NOTEBOOK_DIR / f"{name}.ipynb").read_text(encoding="utf-8") == module.render(name), (
            f"{name}.ipynb is out of date: run python notebooks/_build.py")


def test_notebooks_read_no_product_token_and_start_only_loopback_servers():
    for name in NOTEBOOK_NAMES:
        text = (NOTEBOOK_DIR / f"{name}.ipynb").read_text(encoding="utf-8")
        assert "0.0.0.0" not in text
        assert "7e577e57" not in text  # the simulator's token is filled in by sim.client(), never typed


@pytest.mark.notebooks
@pytest.mark.parametrize("executed", ["03_campaign"], indirect=True)
def test_the_campaign_notebook_sends_a_follow_up_wave_and_shows_reach_per_wave(executed):
    _name, nb, _work = executed
    text = "\n".join(o.get("text", "") if o.output_type == "stream" else str(o.get("data", {}).get("text/plain", ""))
                     for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "follow-up wave 2" in text
    assert "wave 1: 8 called" in text and "wave 2: " in text and "answered after 2 attempts" in text
    html = "\n".join(o["data"]["text/html"] for c in nb.cells if c.cell_type == "code" for o in c.outputs
                     if "text/html" in o.get("data", {}))
    assert "Estimate: 4 calls" in html and "cost" in html
    assert "is on the do-not-call list" in html  # Bob, listed in the CSV's second column
    assert "Reach per wave" in html or "answered_cumulative" in html
