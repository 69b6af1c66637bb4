"""Importing the callbacks package stays cheap (its docstring examples run in tests/test_doctests.py)."""


def test_importing_the_package_imports_nothing_heavy():
    import subprocess
    import sys

    code = ("import sys, cmvoice_nb.callbacks; "
            "print(any(m in sys.modules for m in ('pandas', 'pyarrow', 'matplotlib')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False"
