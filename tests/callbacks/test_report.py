"""The callbacks' HTML report (render_calls_report, write_calls_report) and ``cmvoice report`` without results."""
import json
import re
import subprocess
import sys

import pytest

from cmvoice_nb.callbacks import load_callbacks, render_calls_report, write_calls_report
from cmvoice_nb.cli import main
from cmvoice_nb.errors import CallbackError

from .._wait import scaled
from ._factory import callback, write_jsonl


def items():
    return [callback(i, app=("notification", "otp", "dtmf")[i % 3], code=9 + i % 4, digits="0042" if i % 2 else "")
            for i in range(12)]


def test_report_is_self_contained_html_with_embedded_plots(tmp_path):
    out = write_calls_report(load_callbacks(items()), html_path=tmp_path / "r.html", title="Spring <campaign>")
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "Spring &lt;campaign&gt;" in html  # titles are escaped
    assert len(re.findall(r'<img alt="plot" src="data:image/png;base64,', html)) >= 4
    assert not re.search(r'(src|href)="(https?:)?//', html)  # nothing fetched from elsewhere
    assert "DTMF input" in html and "By app" in html


def test_report_mentions_skipped_lines_and_duplicates(tmp_path):
    path = write_jsonl(tmp_path / "cb.jsonl", [callback(0), "{broken", callback(0)])
    html = render_calls_report(load_callbacks(path, warn=False))
    assert "1 bad line(s) skipped" in html and "1 duplicate callback(s) removed" in html


def test_report_refuses_to_overwrite_a_source(tmp_path):
    path = write_jsonl(tmp_path / "cb.json", items())
    with pytest.raises(CallbackError, match="refusing"):
        write_calls_report(load_callbacks(path), html_path=path)
    assert json.loads(path.read_text().splitlines()[0])["type"] == "notification-finished"


def test_report_command_reads_several_sources_and_globs(tmp_path, capsys):
    write_jsonl(tmp_path / "a-1.jsonl", items()[:6])
    write_jsonl(tmp_path / "a-2.jsonl", items()[6:])
    code = main(["report", str(tmp_path / "a-*.jsonl"), "--html", str(tmp_path / "r.html")])
    assert code == 0 and capsys.readouterr().out.startswith("12 callbacks")


def test_report_command_fails_cleanly_on_a_missing_file(tmp_path, capsys):
    code = main(["report", str(tmp_path / "missing.jsonl"), "--html", str(tmp_path / "r.html")])
    assert code == 1
    assert "no such file" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_report_command_fails_when_nothing_loads(tmp_path, capsys):
    log = tmp_path / "cb.jsonl"
    log.write_text("{broken\n")
    assert main(["report", str(log), "--html", str(tmp_path / "r.html")]) == 1
    err = capsys.readouterr().err
    assert "1 bad line(s) skipped" in err and "no callbacks" in err


def test_report_command_runs_as_a_module(tmp_path):
    log = write_jsonl(tmp_path / "cb.jsonl", items())
    proc = subprocess.run([sys.executable, "-m", "cmvoice_nb", "report", str(log), "--html", str(tmp_path / "r.html")],
                          capture_output=True, text=True, timeout=scaled(120), env={"MPLBACKEND": "Agg", "PATH": ""})
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "r.html").exists()
