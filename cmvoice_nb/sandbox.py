"""Deprecated alias of :mod:`cmvoice_nb.simulator` (the simulator's old module name).

Kept for one release: ``from cmvoice_nb.sandbox import Simulator`` still works and
warns; import from :mod:`cmvoice_nb.simulator` instead.
"""
from __future__ import annotations

import warnings

from . import simulator as _simulator
from .simulator import *  # noqa: F401,F403 - the same public names, re-exported

warnings.warn("cmvoice_nb.sandbox is deprecated and will be removed in the next release: "
              "import from cmvoice_nb.simulator instead", DeprecationWarning, stacklevel=2)

__all__ = list(_simulator.__all__)
