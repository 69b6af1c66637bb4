"""How many connections the callback server may hold: a pure plan, and the few calls that read and raise the limit.

:func:`plan_connections` fits the connections asked for under the process's open-file limit
(``RLIMIT_NOFILE``, less :data:`RESERVED_DESCRIPTORS`) and under what the socket watcher can watch
(``poll()``, or ``select()`` where it is the only choice); :func:`plan_for_this_process` applies
it here, raising the soft limit toward the hard one when needed.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["ConnectionPlan", "plan_connections", "plan_for_this_process", "RESERVED_DESCRIPTORS", "SELECT_LIMIT",
           "SELECT_LIMIT_POSIX"]

#: Descriptors kept free for everything that is not a connection: standard streams, the listening
#: socket and the loop's wake-up pipe, the log and quarantine files, modules being imported, and
#: whatever else shares the process (a notebook's kernel sockets, a campaign's journal).
RESERVED_DESCRIPTORS = 64
#: How many sockets ``select()`` watches where it is the only choice: Python on Windows is built
#: with FD_SETSIZE 512; elsewhere descriptor numbers must stay below 1024.
SELECT_LIMIT = {"nt": 512}
SELECT_LIMIT_POSIX = 1024


@dataclass(frozen=True)
class ConnectionPlan:
    """How many connections the server holds, and why.

    Attributes
    ----------
    connection_limit
        Connections held open at once.
    open_file_limit
        The soft ``RLIMIT_NOFILE`` the plan needs (``None``: the platform has none).
    watcher
        ``"poll"`` or ``"select"``.
    note
        One line for the startup message.
    """

    connection_limit: int
    open_file_limit: int | None
    watcher: str
    note: str


def plan_connections(requested: int, *, soft: int | None, hard: int | None, in_use: int, has_poll: bool,
                     platform: str = os.name) -> ConnectionPlan:
    """Fit *requested* connections under the open-file limit and the socket watcher's own limit.

    Pure. *soft* and *hard* are ``RLIMIT_NOFILE`` (``None`` where there is none; *hard* ``None``
    also means unlimited), *in_use* the descriptors already open. The soft limit is raised toward
    the hard one when the connection limit needs it; :data:`RESERVED_DESCRIPTORS` stay free.

    Examples
    --------
    >>> plan_connections(1000, soft=1024, hard=1024, in_use=10, has_poll=True).connection_limit
    950
    >>> p = plan_connections(1000, soft=1024, hard=65536, in_use=10, has_poll=True)
    >>> p.connection_limit, p.open_file_limit, p.watcher
    (1000, 1074, 'poll')
    >>> plan_connections(1000, soft=None, hard=None, in_use=10, has_poll=False, platform="nt").note
    'up to 500 connections (select(): Windows watches at most 512 sockets; 1000 asked)'
    """
    limit = int(requested)
    target = soft
    if soft is not None:
        needed = limit + in_use + RESERVED_DESCRIPTORS
        raised = soft if needed <= soft else (needed if hard is None else max(soft, min(needed, hard)))
        target = raised
        limit = min(limit, raised - in_use - RESERVED_DESCRIPTORS)
    if has_poll:
        watcher, why = "poll", ""
    else:
        watcher = "select"
        cap = SELECT_LIMIT.get(platform)
        if cap is not None:
            # The listening socket and the loop's wake-up socket are watched too; keep a margin.
            limit = min(limit, cap - 12)
            why = f"select(): Windows watches at most {cap} sockets"
        else:
            limit = min(limit, SELECT_LIMIT_POSIX - in_use - RESERVED_DESCRIPTORS)
            why = f"select(): descriptors must stay below {SELECT_LIMIT_POSIX}"
    limit = max(1, limit)
    if watcher == "poll":
        why = "poll" + (f"; open-file limit {target}" if target is not None else "")
    if limit < requested:
        why += f"; {requested} asked"
    return ConnectionPlan(limit, target, watcher, f"up to {limit} connections ({why})")


def _open_file_limit() -> tuple[int | None, int | None]:
    """``RLIMIT_NOFILE`` as (soft, hard); ``None`` for unlimited, (None, None) where there is none."""
    try:
        import resource
    except ImportError:  # Windows
        return None, None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    infinity = resource.RLIM_INFINITY
    return (None if soft == infinity else soft), (None if hard == infinity else hard)


def _set_open_file_limit(soft: int) -> bool:
    """Raise the soft ``RLIMIT_NOFILE`` to *soft*; False when the system does not allow it."""
    try:
        import resource

        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    except (ImportError, ValueError, OSError):  # macOS refuses more than kern.maxfilesperproc
        return False
    return True


def _descriptors_in_use() -> int:
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            return len(os.listdir(folder))
        except OSError:
            continue
    return 16


def _has_poll() -> bool:
    import select

    return hasattr(select, "poll")


def plan_for_this_process(requested: int) -> ConnectionPlan:
    """:func:`plan_connections` for this process, raising its soft open-file limit when needed."""
    soft, hard = _open_file_limit()
    in_use = _descriptors_in_use()
    plan = plan_connections(requested, soft=soft, hard=hard, in_use=in_use, has_poll=_has_poll())
    if soft is not None and plan.open_file_limit is not None and plan.open_file_limit > soft:
        if not _set_open_file_limit(plan.open_file_limit):
            plan = plan_connections(requested, soft=soft, hard=soft, in_use=in_use, has_poll=_has_poll())
    return plan
