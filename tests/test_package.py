"""The package root: honest exports, and nothing happens at import time."""
import importlib
import json
import subprocess
import sys

import pytest

import cmvoice_nb


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
        _ = cmvoice_nb.does_not_exist
    except AttributeError as exc:
        assert "does_not_exist" in str(exc)
    else:
        raise AssertionError("no AttributeError")


def test_cli_prints_help_and_version():
    out = subprocess.run([sys.executable, "-m", "cmvoice_nb", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and cmvoice_nb.__version__ in out.stdout


def test_cli_lists_every_command_group():
    out = subprocess.run([sys.executable, "-m", "cmvoice_nb", "--help"], capture_output=True, text=True)
    for command in ("simulate", "audio", "spelling", "send", "followup", "receive", "report"):
        assert command in out.stdout


def test_cli_without_a_command_prints_help_and_exits_2():
    out = subprocess.run([sys.executable, "-m", "cmvoice_nb"], capture_output=True, text=True)
    assert out.returncode == 2 and "COMMAND" in out.stdout


def test_the_readme_spec_example_works_right_after_import_cmvoice_nb():
    # README: import cmvoice_nb as cm; cm.spec.fields_frame("otp") (was an AttributeError)
    code = ("import cmvoice_nb as cm; frame = cm.spec.fields_frame('otp'); "
            "print(int(frame.loc[frame.key == 'code', 'max_length'].item()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "64"


@pytest.mark.parametrize("name", ["spec", "errors", "instructions", "audio", "spelling", "widgets"])
def test_submodules_are_attributes_of_the_package_before_anyone_imports_them(name):
    code = f"import cmvoice_nb as cm, sys; m = cm.{name}; print(m.__name__, m is sys.modules[m.__name__])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == [f"cmvoice_nb.{name}", "True"], out.stderr


def test_a_submodule_attribute_is_listed_by_dir_but_not_star_exported():
    assert "spec" in dir(cmvoice_nb) and "campaign" in dir(cmvoice_nb)
    assert "spec" not in cmvoice_nb.__all__


def _type_checking_imports(path):
    """The ``from .module import name`` statements of a module's ``if TYPE_CHECKING:`` block."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for stmt in node.body:
                if isinstance(stmt, ast.ImportFrom) and stmt.module:  # "from . import x" lists modules
                    yield stmt


def _type_checking_names(path):
    return {alias.asname or alias.name for stmt in _type_checking_imports(path) for alias in stmt.names}


@pytest.mark.parametrize("package", ["cmvoice_nb", "cmvoice_nb.audio", "cmvoice_nb.spelling", "cmvoice_nb.widgets"])
def test_type_checkers_see_every_lazily_exported_name(package):
    # The lazy __getattr__ is invisible to editors and mypy; the TYPE_CHECKING block is what
    # they read, so it must list exactly the public names.
    from pathlib import Path

    module = importlib.import_module(package)
    assert _type_checking_names(Path(module.__file__)) == set(module.__all__)


def test_each_type_checking_import_names_the_module_the_lazy_table_points_at():
    from pathlib import Path

    for package in ("cmvoice_nb", "cmvoice_nb.audio", "cmvoice_nb.spelling", "cmvoice_nb.widgets"):
        module = importlib.import_module(package)
        for stmt in _type_checking_imports(Path(module.__file__)):
            for alias in stmt.names:
                assert module._EXPORTS[alias.name] == stmt.module, (package, alias.name)


def test_the_changelogs_newest_version_is_the_packages_version():
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "CHANGELOG.md").read_text(encoding="utf-8")
    versions = re.findall(r"^## \[(\d+\.\d+\.\d+[^\]]*)\]", text, re.M)
    assert versions and versions[0] == cmvoice_nb.__version__
