"""Bulk work without the cyclic garbage collector walking the process's objects again and again.

Python's cyclic collector runs whenever enough new container objects have been made since its
last run, and each of its full runs walks *every* tracked object of the process. Bulk work
(loading a million callbacks, planning a million rows) makes many objects, none of them in a
reference cycle: the collector then walks whatever else the process holds (a notebook's frames,
earlier results) many times over, so the same load is slower in a busy process than in a fresh
one. :func:`paused_gc` switches the collector off for such a block (reference counting goes on,
so memory is freed as usual) and restores its state afterwards, however the block ends.
"""
from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["paused_gc"]


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the block; restore its state afterwards.

    Nested blocks are fine: only the outermost one that found the collector on switches it back on.

    Examples
    --------
    >>> import gc
    >>> with paused_gc():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
