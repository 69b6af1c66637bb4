"""The headless demo (``make demo``) runs every step against the simulator and reports real numbers."""
from __future__ import annotations

import pytest

from cmvoice_nb.demo import main, run_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return out, run_demo(out, execute_notebooks=False)


@pytest.mark.slow
def test_demo_passes_every_step(demo):
    _out, summary = demo
    assert summary.ok, str(summary)
    assert [step for step, _ in summary.lines] == ["audio", "spelling", "campaign", "callbacks", "report",
                                                   "followup"]


@pytest.mark.slow
def test_demo_converts_every_sample_prompt_to_a_compliant_file(demo):
    out, summary = demo
    from cmvoice_nb.audio import check_folder

    table = check_folder(out / "prompts", workers=1, progress=False)
    assert summary.facts["audio_converted"] == summary.facts["audio_files"] == len(table)
    assert summary.facts["audio_compliant"] == int(table["ok"].sum()) == len(table)


@pytest.mark.slow
def test_demo_spelling_set_is_valid_and_packed(demo):
    out, summary = demo
    from cmvoice_nb.spelling import check_spelling_set

    assert summary.facts["spelling_ok"] is True
    assert check_spelling_set(out / "upload", locale="en-GB").ok
    assert (out / "spelling-en-GB.zip").stat().st_size > 0


@pytest.mark.slow
def test_demo_receives_one_callback_per_call_and_reports_the_answer_rate(demo):
    out, summary = demo
    from cmvoice_nb.callbacks import load_callbacks, summarize

    calls = load_callbacks(out / "callbacks" / "callbacks.jsonl", warn=False)
    assert summary.facts["callbacks"] == summary.facts["calls_sent"] == summary.facts["calls_placed_now"]
    assert len(calls) == summary.facts["callbacks"] + summary.facts["followup_placed"]  # the wave's too
    first_wave = calls[~calls["instruction_id"].str.endswith("-w2")]
    assert summary.facts["answer_rate"] == pytest.approx(float(summarize(first_wave)["answer_rate"].iloc[0]))
    assert (out / "results.csv").exists() and (out / "campaign.sqlite").exists()
    assert "<html" in (out / "report.html").read_text(encoding="utf-8").lower()
    assert "reached 18 of 28 people (64% of people)" in str(summary)  # a rate that says what it is over


@pytest.mark.slow
def test_the_demo_follows_up_exactly_the_cancelled_and_failed_calls(demo):
    out, summary = demo
    from cmvoice_nb.callbacks import load_callbacks

    calls = load_callbacks(out / "callbacks" / "callbacks.jsonl", warn=False)
    wave1 = calls[~calls["instruction_id"].str.endswith("-w2")]
    wave2 = calls[calls["instruction_id"].str.endswith("-w2")]
    unanswered = set(wave1.loc[wave1["outcome"].isin(["Cancelled", "Failed"]), "callee"])
    assert len(wave2) == summary.facts["followup_placed"] == len(unanswered) > 0
    assert set(wave2["callee"]) == unanswered and wave2["callee"].is_unique
    reach = summary.facts["reach"]
    assert reach[1]["answered_cumulative"] == int(wave1["answered"].sum())
    assert reach[2]["answered_cumulative"] == int(calls["answered"].sum())
    assert "after 2 attempts" in str(summary)


@pytest.mark.slow
def test_running_the_demo_again_resumes_and_sends_nothing_twice(demo):
    out, first = demo
    again = run_demo(out, execute_notebooks=False)
    assert again.ok, str(again)
    assert again.facts["calls_placed_now"] == 0
    assert again.facts["followup_placed"] == 0  # each person had their two attempts
    assert again.facts["callbacks"] == first.facts["callbacks"] + first.facts["followup_placed"]
    # Over people, every wave: nothing new was sent, so the headline cannot drop (over calls it would).
    assert again.facts["people"] == first.facts["people"]
    assert again.facts["people_reached"] >= first.facts["people_reached"]
    assert again.facts["answer_rate"] < first.facts["answer_rate"]  # the rate over calls, which does drop


@pytest.mark.slow
def test_demo_command_prints_the_summary_and_exits_zero(tmp_path, capsys):
    assert main(["--out", str(tmp_path), "--no-notebooks"]) == 0
    printed = capsys.readouterr().out
    assert "compliant" in printed and "% of people)" in printed and "all steps passed" in printed


def test_without_nbclient_the_notebook_step_is_skipped_with_a_note(tmp_path, monkeypatch):
    import sys

    from cmvoice_nb.demo import DemoSummary, step_notebooks

    monkeypatch.setitem(sys.modules, "nbclient", None)  # what a plain `make demo` install may lack
    summary = DemoSummary(out=tmp_path)
    step_notebooks(tmp_path / "notebooks", tmp_path, summary)
    assert summary.ok
    [(step, text)] = summary.lines
    assert step == "notebooks" and text.startswith("skipped: nbclient is not installed")
    assert not (tmp_path / "notebooks").exists()


@pytest.mark.notebooks
def test_the_notebook_step_runs_its_kernels_encrypted_and_says_nothing_about_alt_text(tmp_path, capfd, caplog):
    import nbformat

    from cmvoice_nb.demo import NOTEBOOKS, DemoSummary, step_notebooks

    plot = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()"
    folder = tmp_path / "nbs"
    folder.mkdir()
    for name in NOTEBOOKS:
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%matplotlib inline\n" + plot)])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, folder / f"{name}.ipynb")
    summary = DemoSummary(out=tmp_path)
    step_notebooks(folder, tmp_path, summary)
    assert summary.ok, summary.lines
    html = (tmp_path / "notebooks" / f"{NOTEBOOKS[0]}.html").read_text(encoding="utf-8")
    assert "<img" in html and 'alt="' in html  # nbconvert still gives the plot its generic alt text
    said = capfd.readouterr().err + caplog.text
    assert "Alternative text" not in said
    assert "without encryption" not in said  # the kernels' transport is encrypted, even on loopback
