"""Lazy re-exports for package ``__init__`` modules.

``import cmvoice_nb`` (or a sub-package) must stay cheap and side-effect free: no pandas,
numpy, requests or widgets until a name is actually used. Each package lists
``name -> submodule`` and gets a module ``__getattr__``/``__dir__`` from :func:`lazy_exports`.
Type checkers and editors do not run ``__getattr__``: each package also imports its public
names under ``if TYPE_CHECKING:`` so they see every one.
"""
from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str], *,
                 submodules: Iterable[str] = ()) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """Return ``(__getattr__, __dir__, __all__)`` for *package* re-exporting *exports* lazily.

    Parameters
    ----------
    package
        The package's ``__name__``.
    exports
        Public name -> sub-module (relative to *package*) that defines it.
    submodules
        Sub-modules reachable as attributes before anyone imported them (``cm.spec`` after
        ``import cmvoice_nb as cm``); listed by ``dir()`` but not in ``__all__``.

    Examples
    --------
    >>> import cmvoice_nb as cm
    >>> cm.spec.APPS["otp"].endpoint
    'OTP'
    >>> "spec" in dir(cm), "spec" in cm.__all__
    (True, False)
    """
    names = sorted(exports)
    modules = frozenset(submodules)
    clash = modules & set(exports)
    if clash:
        raise ValueError(f"{package}: {sorted(clash)} are both exported names and sub-modules")

    def __getattr__(name: str) -> Any:
        if name in modules:
            # import_module also binds the sub-module on the package, so this runs once per name.
            return importlib.import_module(f".{name}", package)
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f".{module}", package), name)
        sys.modules[package].__dict__[name] = value  # cache: later lookups skip __getattr__
        return value

    def __dir__() -> list[str]:
        return sorted(set(sys.modules[package].__dict__) | set(names) | modules)

    return __getattr__, __dir__, names
