"""``cmvoice_nb.sandbox`` (the old name) still works for one release, and says it is deprecated."""
from __future__ import annotations

import importlib
import subprocess
import sys
import warnings

import pytest

import cmvoice_nb.simulator as simulator


@pytest.fixture
def fresh_sandbox(monkeypatch):
    # Import it anew each time: the warning is emitted when the module is first imported.
    monkeypatch.delitem(sys.modules, "cmvoice_nb.sandbox", raising=False)
    return lambda: importlib.import_module("cmvoice_nb.sandbox")


def test_importing_the_old_name_warns_that_it_is_deprecated(fresh_sandbox):
    with pytest.warns(DeprecationWarning, match=r"cmvoice_nb\.sandbox is deprecated.*cmvoice_nb\.simulator"):
        fresh_sandbox()


def test_the_old_name_exports_the_very_same_objects(fresh_sandbox):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        sandbox = fresh_sandbox()
    assert sorted(sandbox.__all__) == sorted(simulator.__all__)
    for name in simulator.__all__:
        assert getattr(sandbox, name) is getattr(simulator, name), name


def test_old_style_code_runs_a_simulator_unchanged(fresh_sandbox):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from cmvoice_nb.sandbox import SIMULATOR_TOKEN, Simulator
    with Simulator(seed=1) as sim:
        assert sim.token == SIMULATOR_TOKEN and sim.base_url.endswith("/voiceapi/v2")


def test_the_warning_is_an_error_under_python_dash_w_error():
    code = "import cmvoice_nb.sandbox"
    proc = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", code],
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "DeprecationWarning" in proc.stderr and "cmvoice_nb.simulator" in proc.stderr


def test_the_package_itself_never_imports_the_old_name():
    code = ("import sys, warnings; warnings.simplefilter('error', DeprecationWarning); "
            "import cmvoice_nb as cm, cmvoice_nb.simulator, cmvoice_nb.demo, cmvoice_nb.commands.simulate; "
            "cm.Simulator; print('cmvoice_nb.sandbox' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
