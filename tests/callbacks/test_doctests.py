"""The docstring examples of the callbacks package run as written."""
import doctest
import importlib

import pytest

MODULES = ["load", "receiver", "wsgi", "analysis", "plots", "report"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(f"cmvoice_nb.callbacks.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_importing_the_package_imports_nothing_heavy():
    import subprocess
    import sys

    code = ("import sys, cmvoice_nb.callbacks; "
            "print(any(m in sys.modules for m in ('pandas', 'pyarrow', 'matplotlib')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False"
