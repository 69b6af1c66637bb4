"""The callbacks package is the pure callback layer: cheap to import, and it never imports campaign."""
import subprocess
import sys
from pathlib import Path

import cmvoice_nb.callbacks

from .._wait import scaled
from ..test_imports import package_graph

PACKAGE = Path(cmvoice_nb.callbacks.__file__).parent


def test_importing_the_package_imports_nothing_heavy():
    code = ("import sys, cmvoice_nb.callbacks; "
            "print(any(m in sys.modules for m in ('pandas', 'pyarrow', 'matplotlib')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=scaled(60))
    assert out.stdout.strip() == "False"


def test_no_callbacks_module_imports_the_campaign_package():
    graph = package_graph()
    wrong = {name: sorted(t for t in targets if t == "cmvoice_nb.campaign" or t.startswith("cmvoice_nb.campaign."))
             for name, targets in graph.items() if name.startswith("cmvoice_nb.callbacks")}
    assert {name: targets for name, targets in wrong.items() if targets} == {}
    # the graph does see this package's own edges (an empty graph would pass vacuously)
    assert "cmvoice_nb.callbacks.frame" in graph["cmvoice_nb.callbacks.load"]


def test_summarizing_callbacks_loads_no_campaign_code_and_registers_no_accessor():
    code = ("import sys, pandas as pd, cmvoice_nb.callbacks as cb; "
            "cb.summarize([{'type': 'otp-finished', 'result': {'code': 10}}]); "
            "cb.dtmf_summary([]); cb.plot_outcomes([]); cb.render_calls_report([]); "
            "print(sorted(m for m in sys.modules if m.startswith('cmvoice_nb.campaign')), "
            "hasattr(pd.DataFrame, 'cmvoice'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=scaled(120),
                         env={"MPLBACKEND": "Agg", "PATH": "", **{k: v for k, v in __import__("os").environ.items()
                                                                 if k == "PYTHONPATH"}})
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[]", "False"]


def test_every_callbacks_module_is_at_most_600_lines():
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.glob("*.py")}
    assert {name: n for name, n in sizes.items() if n > 600} == {}
