"""The package is typed for its users: ``py.typed`` ships, and every public name is an explicit re-export.

The lazy packages export their names through ``__getattr__``; type checkers see them in the
``if TYPE_CHECKING:`` block. A type checker run with ``--strict`` (``no_implicit_reexport``) only
treats ``from .m import X as X`` there as the package's own name, so each public name is written so.
"""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "cmvoice_nb"
LAZY = ["cmvoice_nb", "cmvoice_nb.audio", "cmvoice_nb.callbacks", "cmvoice_nb.spelling", "cmvoice_nb.widgets"]


def _type_checking_reexports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and all(alias.asname == alias.name for alias in node.names):
            names |= {alias.name for alias in node.names}
    return names


@pytest.mark.parametrize("package", LAZY)
def test_every_public_name_of_a_lazy_package_is_an_explicit_re_export(package):
    path = PACKAGE.parent.joinpath(*package.split("."), "__init__.py")
    public = set(importlib.import_module(package).__all__)
    assert sorted(public - _type_checking_reexports(path)) == []


def test_the_package_says_it_is_typed():
    assert (PACKAGE / "py.typed").is_file()
    pyproject = (PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert 'cmvoice_nb = ["py.typed"]' in pyproject  # shipped as package data in the wheel
