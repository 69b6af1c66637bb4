"""Lazy re-exports for package ``__init__`` modules.

``import cmvoice_nb`` (or a sub-package) must stay cheap and side-effect free: no pandas,
numpy, requests or widgets until a name is actually used. Each package lists
``name -> submodule`` and gets a module ``__getattr__``/``__dir__`` from :func:`lazy_exports`.
"""
from __future__ import annotations

import importlib
import sys
from typing import Any, Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """Return ``(__getattr__, __dir__, __all__)`` for *package* re-exporting *exports* lazily.

    Parameters
    ----------
    package
        The package's ``__name__``.
    exports
        Public name -> sub-module (relative to *package*) that defines it.
    """
    names = sorted(exports)

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", package), name)
        sys.modules[package].__dict__[name] = value  # cache: later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(sys.modules[package].__dict__) | set(names))

    return __getattr__, __dir__, names
