"""The callback log on disk: one JSON Lines record per callback, appended, fsynced, rotation-safe.

:class:`LogWriter` appends over a raw file descriptor (no user-space buffer), fsyncs before the
caller acknowledges, truncates a failed append away, and follows logrotate: see its docstring.
:func:`append_fsynced` appends one line to a file opened for that line alone (the quarantine).
"""
from __future__ import annotations

import errno
import json
import os
from pathlib import Path

__all__ = ["LogWriter", "log_line", "append_fsynced"]

#: A record is written at most this often when its log keeps being renamed under it.
_WRITE_ATTEMPTS = 3
_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation

# Indirection so tests can fail or observe the fsync that precedes every acknowledgement.
_fsync = os.fsync


def log_line(callback: dict, received_at: str) -> bytes:
    """Return the JSONL line stored for *callback*: ``received-at`` first, then the callback as sent.

    Pure, so the format is testable without a server. Raises ``UnicodeEncodeError`` for a
    callback holding a lone surrogate, which UTF-8 cannot store.

    Examples
    --------
    >>> log_line({"type": "otp-finished"}, "2026-01-01T00:00:00.000Z")
    b'{"received-at": "2026-01-01T00:00:00.000Z", "type": "otp-finished"}\\n'
    """
    record = {"received-at": received_at}
    record.update((k, v) for k, v in callback.items() if k != "received-at")
    return (json.dumps(record, ensure_ascii=False, separators=(", ", ": ")) + "\n").encode("utf-8")


class LogWriter:
    """Append-only JSONL writer over a raw file descriptor; callers hold the app's lock.

    No user-space buffer: a failed write cannot linger and reach the file with a later flush.
    A failed write or fsync truncates the file back to where the record started.

    Rotation-safe: before each append, and again after it, the log's path must still name the
    open file (same device and inode). When it does not (logrotate renamed it, someone removed
    it), the log is opened anew under its name. A record whose file was renamed while it was being
    written is written again under the name: the renamed copy may be compressed and deleted before
    the record reached it, and the loader drops the duplicate when both survive.
    """

    def __init__(self, out: Path, *, rotate_daily: bool) -> None:
        self.base = out
        self.rotate_daily = rotate_daily
        self._fd: int | None = None
        self._day: str | None = None
        self.path: Path | None = None
        # The folder is created once; after that a missing folder is an error, not something to
        # recreate (it may be a volume that is no longer mounted).
        self._folder_made = False
        # (device, inode, length) of a file whose truncation failed: retried before the next write.
        self._undo: tuple[int, int, int] | None = None
        # Whether stat() and fstat() agree on the file just opened: where a file system reports no
        # usable identity, only the log's disappearance is noticed (and a record is never rewritten
        # because of an identity that cannot be compared).
        self._identity_works = True

    def path_for(self, day: str) -> Path:
        if not self.rotate_daily:
            return self.base
        name = self.base.name
        for suffix in (".jsonl", ".ndjson", ".json", ".log"):
            if name.endswith(suffix):
                return self.base.with_name(f"{name[: -len(suffix)]}-{day}{suffix}")
        return self.base.with_name(f"{name}-{day}")

    def _open(self, day: str) -> None:
        path = self.path_for(day)
        if not self._folder_made:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._folder_made = True
        elif not path.parent.is_dir():
            raise FileNotFoundError(errno.ENOENT, f"the log folder {path.parent} is gone (it is not recreated: "
                                                  "it may be a volume that is no longer mounted)")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | _O_BINARY, 0o644)
        try:
            st = os.fstat(fd)
            size = st.st_size
            if self._undo is not None and self._undo[:2] == (st.st_dev, st.st_ino) and size > self._undo[2]:
                os.ftruncate(fd, self._undo[2])
                size = self._undo[2]
            self._undo = None
            # A crash may have left half a line: start on a fresh line so the next record stays parseable.
            if size > 0:
                with open(path, "rb") as check:
                    check.seek(size - 1)
                    if check.read(1) != b"\n":
                        os.write(fd, b"\n")
                        _fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd, self._day, self.path = fd, day, path
        self._identity_works = True
        self._identity_works = self.names_open_file()

    def names_open_file(self) -> bool:
        """True when the log's path still names the open file (not renamed, removed or replaced)."""
        if self._fd is None or self.path is None:
            return False
        try:
            named = os.stat(self.path)
            mine = os.fstat(self._fd)
        except OSError:
            return False
        if not self._identity_works or not (named.st_ino and mine.st_ino):
            return True  # it exists under the name; which file it is cannot be told here
        return (named.st_dev, named.st_ino) == (mine.st_dev, mine.st_ino)

    def _ensure_open(self, day: str) -> None:
        if self._fd is not None and ((self.rotate_daily and day != self._day) or not self.names_open_file()):
            self.close()
        if self._fd is None:
            self._open(day)

    def write(self, data: bytes, day: str) -> None:
        """Append *data* and fsync it, or raise ``OSError`` with the file as it was before."""
        for _ in range(_WRITE_ATTEMPTS):
            self._ensure_open(day)
            fd = self._fd
            assert fd is not None  # _ensure_open opened it (or raised)
            start = os.fstat(fd).st_size
            try:
                view = memoryview(data)
                while view:
                    written = os.write(fd, view)
                    if written <= 0:
                        raise OSError("short write")
                    view = view[written:]
                _fsync(fd)
            except OSError:
                self._roll_back(fd, start)
                raise
            if self.names_open_file():
                return
            self.close()  # renamed or removed while we wrote: write it again under the log's name
        raise OSError(errno.EAGAIN, f"the log was renamed during each of {_WRITE_ATTEMPTS} attempts to write a record")

    def reopen(self, day: str) -> None:
        """Close the log and open it again under its name now (created if it was moved away)."""
        self.close()
        self._open(day)

    def probe(self, day: str) -> str | None:
        """Why the log cannot be written now (``None``: it can); reopens a log that was moved away."""
        try:
            self._ensure_open(day)
        except OSError as exc:
            return f"cannot open the log {self.path_for(day).name}: {exc.strerror or exc}"
        folder = self.path_for(day).parent
        if not os.access(folder, os.W_OK | os.X_OK):
            return f"cannot create files in the log folder {folder} (a rotated log could not be recreated)"
        return None

    def _roll_back(self, fd: int, start: int) -> None:
        try:
            st = os.fstat(fd)
            self._undo = (st.st_dev, st.st_ino, start)
            os.ftruncate(fd, start)
            _fsync(fd)
            self._undo = None
        except OSError:
            pass  # retried when the file is reopened
        # Reopen on the next write: the operator may free space or move the full log aside.
        self.close()

    def close(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                os.close(fd)
            except OSError:
                pass


def append_fsynced(path: Path, data: bytes) -> None:
    """Append *data* to *path* (created, with its folder, if missing) and fsync it; raises ``OSError``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | _O_BINARY, 0o644)
    try:
        os.write(fd, data)
        _fsync(fd)
    finally:
        os.close(fd)
