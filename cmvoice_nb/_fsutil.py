"""Small file-system helpers shared by every writer in the package.

Every file cmvoice_nb writes goes through :func:`atomic_write_bytes` or
:func:`atomic_writer`: the data goes to a temporary name in the destination's
folder, is flushed and fsynced, then renamed over the target. A crash leaves
either the old file or the new one, never half of one.
"""
from __future__ import annotations

import contextlib
import errno
import functools
import os
import stat
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


class NotARegularFile(OSError):
    """A write's target exists and is a device, a pipe, a socket or a folder: renaming over it would replace it."""

    def __str__(self) -> str:
        return f"{self.filename}: {self.strerror}"


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_target(path: str | os.PathLike) -> None:
    """Raise :class:`NotARegularFile` when *path* exists (links followed) and is not a regular file.

    Every write renames a new file over its target; over ``/dev/null`` (a process running as root
    may), a named pipe or a socket, that would replace the special file with a regular one.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> check_target(os.path.join(folder, "new.csv"))  # nothing there yet: fine
    >>> check_target(folder)
    Traceback (most recent call last):
    ...
    cmvoice_nb._fsutil.NotARegularFile: ...: is a folder, not a regular file: the file would be written beside it ...
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # missing (the usual case) or unreadable: the write itself says what is wrong
    if not stat.S_ISREG(mode):
        what = _kind(mode)
        raise NotARegularFile(errno.EINVAL, f"is {what}, not a regular file: the file would be written beside it "
                                            "and renamed over it, replacing it; give the path of a file",
                              os.fspath(path))


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike, mode: str = "wb", *, encoding: str | None = None,
                  durable: bool = True) -> Iterator[IO]:
    """Open a temporary file beside *path*; rename it onto *path* on success.

    On any exception the temporary file is removed and *path* is untouched; a *path* that is a
    device, a pipe, a socket or a folder is refused first (:func:`check_target`). The new file gets
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
    check_target(target)
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
