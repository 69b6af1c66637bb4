"""The journal's database connection: opening a file as a journal, the run lock, and transactions.

:class:`JournalConnection` is the base of :class:`~cmvoice_nb.campaign.Journal`: it checks the
path, opens the SQLite database in WAL mode, creates or upgrades its schema (``_schema``), and
gives the other parts of the journal one guarded connection (``_connection()``) and one way to
write (``_tx()``: ``BEGIN IMMEDIATE`` … ``COMMIT``, SQLite's errors turned into
:class:`~cmvoice_nb.errors.JournalError`).
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from ...errors import JournalBusy, JournalError
from ._schema import READABLE_VERSIONS, SCHEMA_VERSION, create_or_upgrade

__all__ = ["JournalConnection", "OPEN_TIMEOUT_S", "WAL_SIZE_LIMIT", "check_file", "is_locked", "is_readonly"]

#: Seconds to wait for a journal another process holds before saying so (a running send
#: holds it for its whole run, so waiting longer would only delay the message).
OPEN_TIMEOUT_S = 1.0
#: Bytes of ``-wal`` file kept after a checkpoint (SQLite truncates it to this size).
WAL_SIZE_LIMIT = 64 * 2**20

_Self = TypeVar("_Self", bound="JournalConnection")


#: SQLite's primary result codes for "another connection holds a lock", and for "read-only".
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY = 5, 6, 8


def is_readonly(exc: BaseException) -> bool:
    """True when SQLite refused to write: the file or its folder is read-only."""
    code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
    if code is not None:
        return bool(code & 0xFF == SQLITE_READONLY)
    return "readonly" in str(exc).lower() or "read-only" in str(exc).lower()


def check_file(path: Path, real: Path) -> None:
    """Refuse, naming *path*, what cannot be a journal file; create its folder when missing.

    SQLite would report a directory, a FIFO or a device only as "unable to open" or "disk I/O
    error" (and a FIFO must never be opened for reading: nothing may be written to it).
    """
    import stat

    shown = f"{path}" if path == real else f"{path} (= {real})"
    try:
        mode = real.stat().st_mode
    except FileNotFoundError:
        try:
            real.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(f"{shown}: cannot create the journal's folder ({exc.strerror or exc})") from exc
        return
    except OSError as exc:
        raise JournalError(f"{shown}: cannot use this path for a journal ({exc.strerror or exc})") from exc
    if not stat.S_ISREG(mode):
        kind = ("a directory" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
                else "a socket" if stat.S_ISSOCK(mode) else "a device or other special file")
        raise JournalError(f"{shown}: is {kind}, not a journal file; give the path of a journal file "
                           "(it is created when missing)")


def is_locked(exc: BaseException) -> bool:
    """True when SQLite refused because another connection holds a lock on the journal."""
    code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
    if code is not None:
        return code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)
    # Python 3.10 reports the lock only through the message text ("database is locked").
    return "locked" in str(exc).lower() or "busy" in str(exc).lower()


class JournalConnection:
    """One journal file's SQLite connection, guarded by a lock; see :class:`~cmvoice_nb.campaign.Journal`.

    Parameters
    ----------
    path
        The database file; created with its folder if missing (symlinks resolved).
    durable
        ``synchronous=FULL`` when True, ``NORMAL`` when False.
    """

    def __init__(self, path: str | os.PathLike[str], *, durable: bool = True) -> None:
        self.path = Path(path)
        self.real_path = Path(os.path.realpath(self.path))
        self.durable = durable
        self._lock = threading.RLock()
        self._locked = False
        self._conn: sqlite3.Connection | None = None
        check_file(self.path, self.real_path)
        try:
            self._conn = sqlite3.connect(
                str(self.real_path), timeout=OPEN_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise JournalError(f"{self.path}: cannot switch the journal to WAL mode (got {mode!r})")
            self._conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            # A million-row registration grows the -wal file to the size of the rows; once they are
            # checkpointed into the database, give that space back instead of keeping it for ever.
            self._conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in READABLE_VERSIONS:
                raise JournalError(
                    f"{self.path}: journal schema version {version}, this cmvoice_nb reads version {SCHEMA_VERSION}"
                )
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                create_or_upgrade(self._conn, version)
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("PRAGMA busy_timeout=30000")
            self.campaign_key: str = self._conn.execute(
                "SELECT value FROM meta WHERE key = 'campaign_key'"
            ).fetchone()[0]
        except sqlite3.DatabaseError as exc:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if is_locked(exc):
                raise JournalBusy(self._busy_message()) from exc
            if is_readonly(exc):
                raise JournalError(f"{self.path}: the journal cannot be written ({exc}); a campaign writes its "
                                   "journal: check the file's and its folder's permissions") from exc
            raise JournalError(f"{self.path}: not a usable campaign journal ({exc})") from exc
        except BaseException:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            raise

    def _busy_message(self, *, locking: bool = False) -> str:
        shown = f"{self.path}" if self.path == self.real_path else f"{self.path} (= {self.real_path})"
        if locking:
            return (f"{shown}: another send is running on this journal, or another program still has it open "
                    "(a Journal left open in a notebook, an SQLite browser); wait for the send or close the other "
                    "connection first (one journal, one run at a time)")
        return (f"{shown}: another send is running on this journal; wait for it to finish or stop it first "
                "(one journal, one run at a time)")

    # ----------------------------------------------------------- lifecycle
    def close(self) -> None:
        """Release the run lock and close the database."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()  # closing also releases an exclusive lock
                self._conn = None
            self._locked = False

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def locked(self) -> bool:
        """True while this object holds the run lock."""
        return self._locked

    def lock(self) -> None:
        """Take the exclusive run lock, or raise :class:`JournalError` if another run holds it.

        SQLite's ``EXCLUSIVE`` locking mode keeps the database's write lock for as long as
        this connection lives (or until :meth:`unlock`), on the file itself: every name of
        the file (symlink, relative path) meets it, and the OS frees it if the process dies.
        """
        with self._lock:
            if self._locked:
                return
            conn = self._connection()
            try:
                conn.execute(f"PRAGMA busy_timeout={int(OPEN_TIMEOUT_S * 1000)}")
                conn.execute("PRAGMA locking_mode=EXCLUSIVE")
                conn.execute("BEGIN EXCLUSIVE")
                conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                with contextlib.suppress(sqlite3.DatabaseError):
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    conn.execute("PRAGMA locking_mode=NORMAL")
                if is_locked(exc):
                    raise JournalBusy(self._busy_message(locking=True)) from exc
                raise JournalError(f"{self.path}: cannot lock the journal ({exc})") from exc
            finally:
                with contextlib.suppress(sqlite3.DatabaseError):
                    conn.execute("PRAGMA busy_timeout=30000")
            self._locked = True

    def unlock(self) -> None:
        """Release the run lock (no-op when not held)."""
        with self._lock:
            if not self._locked or self._conn is None:
                self._locked = False
                return
            with contextlib.suppress(sqlite3.DatabaseError):
                self._conn.execute("PRAGMA locking_mode=NORMAL")
                # The exclusive lock is dropped at the next access in NORMAL mode.
                self._conn.execute("SELECT COUNT(*) FROM meta").fetchone()
            self._locked = False

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise JournalError(f"{self.path}: journal is closed")
        return self._conn

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                if is_locked(exc):
                    raise JournalBusy(self._busy_message()) from exc
                raise JournalError(f"{self.path}: journal write failed ({exc})") from exc
            except UnicodeEncodeError as exc:  # a lone surrogate cannot be stored as UTF-8 text
                raise JournalError(f"{self.path}: text that is not valid Unicode cannot be written to the "
                                   f"journal ({exc}); nothing of this write was kept") from exc

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r}, durable={self.durable})"
