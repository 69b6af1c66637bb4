"""The package root: honest exports, and nothing happens at import time."""
import json
import subprocess
import sys

import cmvoice_nb


import importlib

import pytest


@pytest.mark.parametrize("package", ["cmvoice_nb", "cmvoice_nb.audio", "cmvoice_nb.spelling", "cmvoice_nb.campaign",
                                     "cmvoice_nb.callbacks", "cmvoice_nb.widgets"])
def test_every_name_in___all___resolves(package):
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []


def test_importing_the_package_loads_no_heavy_module_and_starts_no_thread():
    code = (
        "import sys, threading, json; import cmvoice_nb; "
        "print(json.dumps({'mods': [m for m in ('pandas', 'numpy', 'requests', 'ipywidgets', 'soundfile') "
        "if m in sys.modules], 'threads': threading.active_count()}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(out) == {"mods": [], "threads": 1}


def test_unknown_attribute_is_an_attribute_error():
    try:
        cmvoice_nb.does_not_exist
    except AttributeError as exc:
        assert "does_not_exist" in str(exc)
    else:
        raise AssertionError("no AttributeError")


def test_cli_prints_help_and_version():
    out = subprocess.run([sys.executable, "-m", "cmvoice_nb", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and cmvoice_nb.__version__ in out.stdout


def test_cli_lists_every_command_group():
    out = subprocess.run([sys.executable, "-m", "cmvoice_nb", "--help"], capture_output=True, text=True)
    for command in ("simulate", "audio", "spelling", "send", "receive", "report"):
        assert command in out.stdout


def test_cli_without_a_command_prints_help_and_exits_2():
    out = subprocess.run([sys.executable, "-m", "cmvoice_nb"], capture_output=True, text=True)
    assert out.returncode == 2 and "COMMAND" in out.stdout
