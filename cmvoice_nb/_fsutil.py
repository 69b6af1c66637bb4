"""Small file-system helpers shared by every writer in the package.

Every file cmvoice_nb writes goes through :func:`atomic_write_bytes` or
:func:`atomic_writer`: the data goes to a temporary name in the destination's
folder, is flushed and fsynced, then renamed over the target. A crash leaves
either the old file or the new one, never half of one.
"""
from __future__ import annotations

import contextlib
import functools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@functools.lru_cache(maxsize=1)
def _umask() -> int:
    # os.umask can only be read by setting it, which races with other threads; Linux shows it here.
    # Read once per process: batches write thousands of files and the umask does not change.
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def fsync_path(path: str | os.PathLike) -> bool:
    """fsync a file or a folder by path; False when it cannot be opened.

    A rename is only durable once the folder's entry is on disk too, so writers sync the folder.
    """
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
    return True


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike, mode: str = "wb", *, encoding: str | None = None,
                  durable: bool = True) -> Iterator[IO]:
    """Open a temporary file beside *path*; rename it onto *path* on success.

    On any exception the temporary file is removed and *path* is untouched. The new file gets
    the permissions of the file it replaces, or the usual ``0o666 & ~umask`` for a new one
    (``mkstemp`` alone would leave it readable by its owner only).

    Parameters
    ----------
    durable
        fsync the file and its folder before returning (survives a power cut). Batches of files
        that can be regenerated may pass False: the rename still makes each file all-or-nothing.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> with atomic_writer(p, "w", encoding="utf-8") as fh:
    ...     _ = fh.write("hello")
    >>> p.read_text()
    'hello'
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        try:
            perms = os.stat(target).st_mode & 0o777
        except OSError:
            perms = 0o666 & ~_umask()
        os.chmod(tmp, perms)
        with os.fdopen(fd, mode, encoding=encoding if "b" not in mode else None) as fh:
            yield fh
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.replace(tmp, target)
        if durable:
            fsync_path(target.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, durable: bool = True) -> Path:
    """Write *data* to *path* atomically and return the path (see :func:`atomic_writer`)."""
    with atomic_writer(path, "wb", durable=durable) as fh:
        fh.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, *, encoding: str = "utf-8") -> Path:
    """Write *text* to *path* atomically and return the path."""
    with atomic_writer(path, "w", encoding=encoding) as fh:
        fh.write(text)
    return Path(path)


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """True when *a* and *b* name the same existing file (guards against overwriting a source)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()
