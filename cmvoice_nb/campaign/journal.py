"""The campaign journal: one SQLite database (WAL) that makes sending resumable.

Every sendable row has one record keyed by ``(campaign, instruction_id)``. Its state
moves ``pending`` → ``sending`` → ``queued`` / ``rejected`` / ``failed`` / ``unknown``;
``sending`` is written and committed *before* the HTTP request leaves, so a process
killed mid-request (``kill -9``, a kernel restart) leaves ``sending`` behind, and the
next run turns it into ``unknown``: the call may have been placed, it is never resent
unless the user asks for it.

Rows that are not sent in a run on purpose are put aside with :meth:`Journal.hold`: ``deferred``
(outside their calling hours; a later run sends them) or ``suppressed`` (on a do-not-call list;
never sent). Every calling-hours wait is recorded, with its reason and expected opening, in
the ``waits`` table (:meth:`Journal.waits`). Journals written before these states existed are
widened in place when opened (their ``CHECK`` is rebuilt; no record changes).

The journal stores a SHA-256 of the instruction's JSON (to notice a row edited after it
was sent), the JSON itself as the bytes that were sent (so a follow-up wave can send it
again, see :func:`~cmvoice_nb.campaign.plan_followup`), the callee, the provider's call ids
and error text; never the product token.

**Waves.** Every record is one *attempt*: wave 1 is the campaign as planned, wave *n* a
follow-up. A record's ``base_id`` names the row it belongs to (the wave-1 instruction id)
and its ``wave`` the attempt; the pair is unique, so one row is called at most once per
wave. A follow-up attempt may call a callee whose earlier attempt of the *same row* ended
(a callback said so: the earlier record's ``outcome``); any other call that may exist
still blocks it. Journals written before waves (schema 2) get ``wave = 1`` and no stored
payload: those rows cannot be followed up, and :func:`plan_followup` says so.

**Resuming big campaigns.** :meth:`Journal.statuses` (what a re-run needs of every record, as
compact tuples) and :meth:`Journal.live_callees` (the numbers with a call that may exist, read
through ``rows_live``) are what :func:`~cmvoice_nb.campaign.send_campaign` reads before its
first call; :meth:`Journal.load` and :meth:`Journal.called_numbers` still give whole records.
:func:`~cmvoice_nb.campaign.send_campaign` stores a row's payload when it is sent
(:meth:`Journal.mark_sending`), not when it is registered: a follow-up wave only ever resends
what was sent. Schema 4 (the ``rows_live`` index; single callees no longer copied into
``callees``) is added in place to older journals; cmvoice_nb versions that read schema 3 refuse
a schema-4 journal, since their guard would not see the callees indexed the new way.

**Campaign key.** A new journal draws a random *campaign key* (8 hex digits) when it is
created and keeps it for ever (:attr:`Journal.campaign_key`). Default instruction ids
contain it, so two campaigns with the same name on different journals never share an id,
and every run of a campaign on the same journal derives the same ids.

**People, not positions.** Every number a row dials is indexed: a row's single callee by the
partial index ``rows_live`` (only records whose call may exist are in it, so registering a
million pending rows costs it nothing), the numbers of a multi-callee row (and, in journals
written before schema 4, every row's) by the table ``callees``.
:meth:`Journal.mark_sending` refuses, in the same transaction that marks the row, a row
whose callee already has a call ``sending``, ``queued`` or ``unknown`` anywhere in this
journal, unless the caller passes ``allow_repeat=True``; and it never lets an ``unknown``
row go out again unless ``resend_unknown=True``.

**One run at a time, whatever path names the file.** :meth:`Journal.lock` switches the
connection to SQLite's ``EXCLUSIVE`` locking mode and takes the write lock: SQLite locks
the database file itself (its inode on POSIX, the file handle on Windows), so a symlink, a
relative path or a second name for the same file meets the same lock. The OS releases it
when the process dies. While a run holds it, other processes cannot open the journal at
all; they get a :class:`JournalError` saying a send is running. Taking the lock needs every
other connection to the file closed (SQLite's rule for exclusive mode in WAL): a ``Journal``
left open in a notebook makes a send refuse to start, with a message that says so.

Examples
--------
>>> import tempfile, os
>>> j = Journal(os.path.join(tempfile.mkdtemp(), "j.sqlite"))
>>> j.ensure_campaign("spring", app="notification")
>>> len(j.campaign_key)
8
>>> j.register("spring", [("spring-k-31612345610-1", "0", "+31612345610", "abc")])
1
>>> j.get("spring", "spring-k-31612345610-1").state
'pending'
>>> j.close()
"""
from __future__ import annotations

import contextlib
import itertools
import json
import logging
import operator
import os
import re
import secrets
import sqlite3
import threading
from pathlib import Path
from typing import Any, Container, Iterable, Iterator, Mapping, NamedTuple

from ..errors import JournalError, is_valid_unicode
from ..messages import say
from ..wire import DELIVERY_FIELDS, callee_numbers, instruction_hash, legacy_instruction_hash
from ..spec import iso_utc
from .vocabulary import CALLED_STATES, JOURNAL_STATES

__all__ = ["Journal", "JournalRow", "RowStatus", "LiveCall", "STATES"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 4
#: Every state a journal row can be in (:data:`cmvoice_nb.spec.STATUS` owns the vocabulary;
#: ``CALLED_STATES``, where a call may exist, is what the callee guard refuses to call again).
STATES = JOURNAL_STATES
#: Seconds to wait for a journal another process holds before saying so (a running send
#: holds it for its whole run, so waiting longer would only delay the message).
OPEN_TIMEOUT_S = 1.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (
    name        TEXT PRIMARY KEY,
    app         TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rows (
    campaign        TEXT NOT NULL,
    instruction_id  TEXT NOT NULL,
    row_label       TEXT,
    callee          TEXT,
    payload_hash    TEXT,
    state           TEXT NOT NULL CHECK (state = 'pending' OR state IN ({states})),
    attempts        INTEGER NOT NULL DEFAULT 0,
    http_status     INTEGER,
    call_ids        TEXT,
    error           TEXT,
    sent_at         TEXT,
    updated_at      TEXT NOT NULL,
    wave            INTEGER NOT NULL DEFAULT 1,
    base_id         TEXT,
    outcome         TEXT,
    finished_on     TEXT,
    payload         BLOB,
    PRIMARY KEY (campaign, instruction_id)
);
CREATE TABLE IF NOT EXISTS meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS callees (
    number          TEXT NOT NULL,
    campaign        TEXT NOT NULL,
    instruction_id  TEXT NOT NULL,
    PRIMARY KEY (campaign, instruction_id, number)
);
CREATE INDEX IF NOT EXISTS callees_by_number ON callees (number);
CREATE UNIQUE INDEX IF NOT EXISTS rows_one_per_wave ON rows (campaign, COALESCE(base_id, instruction_id), wave);
CREATE INDEX IF NOT EXISTS rows_live ON rows (callee) WHERE {live};
""".replace("{states}", ",".join(f"'{s}'" for s in JOURNAL_STATES)).replace(
    "{live}", "(" + " OR ".join(f"state = '{s}'" for s in CALLED_STATES) + ")")
#: Columns added by schema 3 (waves), in table order: what a version-2 journal gains.
_WAVE_COLUMNS = (("wave", "INTEGER NOT NULL DEFAULT 1"), ("base_id", "TEXT"), ("outcome", "TEXT"),
                 ("finished_on", "TEXT"), ("payload", "BLOB"))
#: SQL list of the states in which a call may exist (the people guard).
_CALLED_SQL = "(" + ", ".join(f"'{s}'" for s in CALLED_STATES) + ")"
#: The same condition as ``rows_live``'s, spelled exactly as in its definition: SQLite uses a
#: partial index only for a query holding that very term. An OR chain, not ``IN (...)``: SQLite
#: evaluates a partial index's condition on every inserted row, and an IN list costs ~1.8 s per
#: million rows of a bulk registration where the OR chain costs nothing measurable.
_LIVE_SQL = "(" + " OR ".join(f"state = '{s}'" for s in CALLED_STATES) + ")"


#: Calling-hours waits: one record each time a row waited for (or was deferred to) its window.
#: Its own table, added when missing, so journals of every schema version get it.
#: ``kept``: the operator's own columns of each row (``keep=``), a JSON object per row id (its
#: wave-1 id), with the values of the latest run that planned the row; also added when missing.
_WAITS_SCHEMA = """
CREATE TABLE IF NOT EXISTS waits (
    campaign        TEXT NOT NULL,
    instruction_id  TEXT NOT NULL,
    at              TEXT NOT NULL,
    until           TEXT,
    reason          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS waits_by_row ON waits (campaign, instruction_id);
CREATE TABLE IF NOT EXISTS kept (
    campaign  TEXT NOT NULL,
    row_id    TEXT NOT NULL,
    columns   TEXT NOT NULL,
    PRIMARY KEY (campaign, row_id)
)
"""
#: Bytes of ``-wal`` file kept after a checkpoint (SQLite truncates it to this size).
WAL_SIZE_LIMIT = 64 * 2**20
#: Batches of at least this many rows are registered with the secondary indexes dropped and
#: rebuilt after the insert (measured in ``bench/journal.py``: faster from about this size on).
BULK_ROWS = 20_000
#: Rows read and written at a time when a campaign's first rows are registered (memory: a
#: million-row list is never a million tuples at once).
REGISTER_CHUNK = 50_000
#: The secondary indexes a bulk registration rebuilds, and their definitions (as in ``_SCHEMA``).
_BULK_INDEXES = ("callees_by_number", "rows_one_per_wave")
_BULK_INDEX_SQL = tuple(s.strip() for s in _SCHEMA.split(";")
                        if s.strip().startswith("CREATE") and any(f" {name} " in s for name in _BULK_INDEXES))
#: The state CHECK, in both spellings: ``state IN (...)`` (schema <= 3) and ``state = 'pending' OR
#: state IN (...)`` (schema 4: a pending row, what a registration writes, passes without the IN
#: list, which SQLite re-evaluates on every row of an ``executemany``, ~40 % of a bulk insert).
_CHECK_RE = re.compile(r"CHECK\s*\(\s*(?:state\s*=\s*'pending'\s+OR\s+)?state\s+IN\s*\(([^)]*)\)\s*\)",
                       re.IGNORECASE)


def _migrate_holds(conn: sqlite3.Connection) -> None:
    """Bring an older journal up to the spec's states and add the ``waits`` table (inside a transaction).

    Additive and idempotent, whatever the schema version: SQLite cannot change a ``CHECK``, so
    when the ``rows`` table's state list lacks a state of :data:`JOURNAL_STATES` (``deferred``,
    ``suppressed`` came later) the table is rebuilt from its own stored definition with the
    list widened (old states kept), every record copied, and its indexes recreated.
    """
    for statement in filter(str.strip, _WAITS_SCHEMA.split(";")):
        conn.execute(statement)
    found = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'rows'").fetchone()
    match = _CHECK_RE.search(found[0]) if found and found[0] else None
    if match is None:
        return
    have = [s.strip().strip("'\"") for s in match.group(1).split(",") if s.strip()]
    if set(JOURNAL_STATES) <= set(have):
        return
    states = ",".join(f"'{s}'" for s in dict.fromkeys([*JOURNAL_STATES, *have]))
    create = found[0][:match.start()] + f"CHECK (state = 'pending' OR state IN ({states}))" + found[0][match.end():]
    create = re.sub(r"^\s*CREATE\s+TABLE\s+[\"'`\[]?rows[\"'`\]]?", "CREATE TABLE rows__widened", create,
                    flags=re.IGNORECASE)
    indexes = [r[0] for r in conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'rows' AND sql IS NOT NULL")]
    conn.execute(create)
    conn.execute("INSERT INTO rows__widened SELECT * FROM rows")
    conn.execute("DROP TABLE rows")
    conn.execute("ALTER TABLE rows__widened RENAME TO rows")
    for sql in indexes:
        conn.execute(sql)
    log.info("journal: state list widened to %s", states)


def _table_numbers(callee: str | None) -> list[str]:
    """The numbers of a ``callee`` cell that go into the ``callees`` table.

    None when the cell is one clean number: ``rows_live`` indexes that cell itself (the common
    case, and what keeps a million-row registration from writing a million index rows).
    """
    if not callee or (";" not in callee and callee == callee.strip()):
        return []
    return callee_numbers(callee)


#: SQLite's primary result codes for "another connection holds a lock", and for "read-only".
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 5, 6, 8


def _is_readonly(exc: BaseException) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
    if code is not None:
        return code & 0xFF == _SQLITE_READONLY
    return "readonly" in str(exc).lower() or "read-only" in str(exc).lower()


def _check_file(path: Path, real: Path) -> None:
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


def _is_locked(exc: BaseException) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
    if code is not None:
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    # Python 3.10 reports the lock only through the message text ("database is locked").
    return "locked" in str(exc).lower() or "busy" in str(exc).lower()


class JournalRow(NamedTuple):
    """One journal record (a row of the ``rows`` table)."""

    campaign: str
    instruction_id: str
    row_label: str | None
    callee: str | None
    payload_hash: str | None
    state: str
    attempts: int
    http_status: int | None
    call_ids: str | None
    error: str | None
    sent_at: str | None
    updated_at: str
    #: The attempt: 1 for the campaign as planned, 2... for follow-up waves.
    wave: int = 1
    #: The row this attempt belongs to: its wave-1 instruction id (None in pre-wave journals).
    base_id: str | None = None
    #: How the call ended, by its callback, once a follow-up recorded it (``Cancelled``...).
    outcome: str | None = None
    #: When the call ended (ISO 8601 UTC), recorded with :attr:`outcome`.
    finished_on: str | None = None

    @property
    def row_id(self) -> str:
        """The row this attempt belongs to (``base_id``, or the id itself in an old journal)."""
        return self.base_id or self.instruction_id


class RowStatus(NamedTuple):
    """What a re-run of a campaign needs of one journal record (see :meth:`Journal.statuses`)."""

    state: str
    #: The record's payload hash, only where a call may exist (None otherwise).
    payload_hash: str | None
    attempts: int
    http_status: int | None
    call_ids: str | None
    #: The record's error, except for ``pending`` and ``deferred`` records (None for them).
    error: str | None
    sent_at: str | None


class LiveCall(NamedTuple):
    """A call that may exist: a ``sending``, ``queued`` or ``unknown`` record (see :meth:`Journal.live_callees`)."""

    campaign: str
    instruction_id: str
    state: str
    call_ids: str | None
    wave: int
    #: The row the attempt belongs to (its wave-1 instruction id).
    row_id: str
    outcome: str | None


#: One shared string per state name (a million records need not hold a million copies of "queued").
_STATE_NAMES = {s: s for s in JOURNAL_STATES}

#: Position of each column in a ``SELECT`` of :data:`_FIELDS` (the stored payload is read apart).
_COLUMN = {name: i for i, name in enumerate(JournalRow._fields)}
_FIELDS = ", ".join(JournalRow._fields)
_R_FIELDS = ", ".join(f"r.{f}" for f in JournalRow._fields)




def _drop_bulk_indexes(c: sqlite3.Connection) -> None:
    """Drop the secondary indexes a bulk insert rebuilds afterwards (filling, then indexing, is cheaper)."""
    for name in _BULK_INDEXES:
        c.execute(f"DROP INDEX IF EXISTS {name}")


def _build_bulk_indexes(c: sqlite3.Connection) -> None:
    """Create the indexes :func:`_drop_bulk_indexes` dropped, as the schema defines them."""
    for statement in _BULK_INDEX_SQL:
        c.execute(statement)


def _rehash_records(conn: sqlite3.Connection) -> int:
    """Schema 4: turn the stored whole-wire hashes into identity hashes, from each record's stored payload.

    Only records whose payload has a delivery field need it (elsewhere both hashes are equal),
    and only when the stored hash is the one of that payload (a record sent again with new
    content holds the hash and payload of what left last: still consistent). Records without a
    payload keep their hash; :func:`same_instruction` accepts it while the URL is unchanged.
    """
    probe = " OR ".join("instr(payload, CAST(? AS BLOB)) > 0" for _ in DELIVERY_FIELDS)
    found = conn.execute(
        f"SELECT campaign, instruction_id, payload_hash, payload FROM rows WHERE payload IS NOT NULL AND ({probe})",
        tuple(f'"{f}"' for f in DELIVERY_FIELDS)).fetchall()
    updates = []
    for campaign, iid, stored, payload in found:
        try:
            wire = json.loads(bytes(payload))
        except (ValueError, TypeError):
            continue
        if isinstance(wire, dict) and stored == legacy_instruction_hash(wire):
            updates.append((instruction_hash(wire), campaign, iid))
    conn.executemany("UPDATE rows SET payload_hash = ? WHERE campaign = ? AND instruction_id = ?", updates)
    return len(updates)


class Journal:
    """SQLite (WAL) ledger of one or more campaigns.

    Parameters
    ----------
    path
        The database file; created with its folder if missing. Symlinks are resolved: the
        database, its ``-wal`` file and its lock are those of the real file.
    durable
        ``True`` (default) commits with ``synchronous=FULL``: a ``sending`` mark is on disk
        before the request leaves, even across a power loss. ``False`` uses ``NORMAL``, which
        still survives a killed process but not a power cut.

    Attributes
    ----------
    real_path
        The file the database really is (symlinks resolved): what the run lock is about.
    campaign_key
        The random key this journal drew when it was created; part of every derived id.

    Raises
    ------
    JournalError
        The file is not a journal, has a newer schema, or a running send holds it.

    Notes
    -----
    The object is safe to share between threads: one connection, guarded by a lock.
    """

    def __init__(self, path: str | os.PathLike, *, durable: bool = True) -> None:
        self.path = Path(path)
        self.real_path = Path(os.path.realpath(self.path))
        self.durable = durable
        self._lock = threading.RLock()
        self._locked = False
        self._conn: sqlite3.Connection | None = None
        _check_file(self.path, self.real_path)
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
            if version not in (0, 1, 2, 3, SCHEMA_VERSION):
                raise JournalError(
                    f"{self.path}: journal schema version {version}, this cmvoice_nb reads version {SCHEMA_VERSION}"
                )
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                if version in (1, 2):  # before waves: every record is wave 1, with no stored payload
                    have = {r[1] for r in self._conn.execute("PRAGMA table_info(rows)")}
                    for column, decl in _WAVE_COLUMNS:
                        if column not in have:
                            self._conn.execute(f"ALTER TABLE rows ADD COLUMN {column} {decl}")
                # One statement at a time: executescript() would COMMIT the open transaction.
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    self._conn.execute(statement)
                if version == 1:  # journals written before the callee index: fill it once
                    for campaign, iid, callee in self._conn.execute(
                        "SELECT campaign, instruction_id, callee FROM rows"
                    ).fetchall():
                        self._conn.executemany(
                            "INSERT OR IGNORE INTO callees VALUES (?, ?, ?)",
                            [(n, campaign, iid) for n in callee_numbers(callee)],
                        )
                _migrate_holds(self._conn)
                if version in (1, 2, 3):
                    _rehash_records(self._conn)
                # The campaign key is drawn once, when the journal is created (or first
                # opened by a version that knows keys), and never changes afterwards.
                self._conn.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('campaign_key', ?)", (secrets.token_hex(4),)
                )
                self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
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
            if _is_locked(exc):
                raise JournalError(self._busy_message()) from exc
            if _is_readonly(exc):
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

    def __enter__(self) -> "Journal":
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
                if _is_locked(exc):
                    raise JournalError(self._busy_message(locking=True)) from exc
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
                if _is_locked(exc):
                    raise JournalError(self._busy_message()) from exc
                raise JournalError(f"{self.path}: journal write failed ({exc})") from exc
            except UnicodeEncodeError as exc:  # a lone surrogate cannot be stored as UTF-8 text
                raise JournalError(f"{self.path}: text that is not valid Unicode cannot be written to the "
                                   f"journal ({exc}); nothing of this write was kept") from exc

    # ------------------------------------------------------------ campaign
    def ensure_campaign(self, name: str, *, app: str) -> None:
        """Record campaign *name* for *app*; raise :class:`JournalError` if it was another app."""
        with self._tx() as c:
            row = c.execute("SELECT app FROM campaigns WHERE name = ?", (name,)).fetchone()
            if row is None:
                c.execute("INSERT INTO campaigns VALUES (?, ?, ?)", (name, app, iso_utc()))
            elif row[0] != app:
                raise JournalError(
                    f"{self.path}: campaign {name!r} in this journal is a {row[0]!r} campaign, not {app!r}; "
                    "use another campaign name or journal"
                )

    def campaigns(self) -> dict[str, str]:
        """Campaign name → app, for every campaign in the journal."""
        with self._lock:
            return dict(self._connection().execute("SELECT name, app FROM campaigns ORDER BY name").fetchall())

    def register(self, campaign: str, rows: Iterable[tuple]) -> int:
        """Add rows as ``pending``: ``(instruction_id, row_label, callee, payload_hash[, payload[, wave[, base_id]]])``.

        *payload* is the instruction's JSON as the bytes that will be sent (kept so a follow-up
        wave can send it again); *wave* defaults to 1 and *base_id* (the row's wave-1 id) to
        the instruction id. Rows already in the journal are left untouched. Returns how many
        were added.

        *rows* may be any iterable. The batch is one transaction: after a crash it is either all
        in the journal or not at all. The first registration of a campaign (the big one: a whole
        list) is read and written :data:`REGISTER_CHUNK` rows at a time, so a million rows never
        sit in memory as a million tuples; rows given in instruction-id order (as
        ``send_campaign`` gives them) then fill every index at its end.
        """
        now = iso_utc()  # one stamp for the batch: one transaction, one moment
        tuples = (self._row_tuple(campaign, now, item) for item in rows)
        with self._tx() as c:
            if c.execute("SELECT 1 FROM rows WHERE campaign = ? LIMIT 1", (campaign,)).fetchone() is not None:
                full = list(tuples)  # a campaign with records: checked against them as one batch
                if not full:
                    return 0
                return self._insert_batch(c, campaign, full)
            return self._insert_fresh(c, campaign, tuples)

    @staticmethod
    def _row_tuple(campaign: str, now: str, item: tuple) -> tuple:
        if len(item) == 7:  # send_campaign's shape: no padding per row of a million
            iid, label, callee, h, payload, wave, base = item
        else:
            iid, label, callee, h, payload, wave, base = (tuple(item) + (None, None, None))[:7]
        return (campaign, iid, label, callee, h, now, int(wave or 1), base or iid,
                None if payload is None else bytes(payload))

    def _insert_batch(self, c: sqlite3.Connection, campaign: str, full: list) -> int:
        """Insert one batch of row tuples for a campaign that has records (checked as a whole)."""
        try:
            self._refuse_second_attempt(c, campaign, full)
        except UnicodeEncodeError as exc:
            raise self._unicode_error(campaign, full) from exc
        bulk = len(full) >= BULK_ROWS
        if bulk:
            # Filling a table and then indexing it is cheaper than keeping two secondary
            # B-trees sorted row by row. The unique (row, wave) index goes too, so what it
            # would have ignored is dropped here first: the first attempt of a (row, wave)
            # in the batch wins, as INSERT OR IGNORE with the index in place does.
            seen: set = set()
            kept = []
            for r in full:
                if (r[7], r[6]) not in seen:
                    seen.add((r[7], r[6]))
                    kept.append(r)
            # In key order, every primary-key B-tree (rows, callees) grows at its end instead of
            # being split all over: a shuffled list inserts several times faster sorted. Stable, so
            # the first of two equal ids still wins as before; nothing reads rows in rowid order.
            kept.sort(key=operator.itemgetter(1))
            full = kept
            _drop_bulk_indexes(c)
        added = self._write(c, campaign, full)
        if bulk:
            _build_bulk_indexes(c)
        return added

    def _insert_fresh(self, c: sqlite3.Connection, campaign: str, tuples: Iterator[tuple]) -> int:
        """Insert the first rows of a campaign, :data:`REGISTER_CHUNK` at a time (nothing to check them against).

        Within the batch the first attempt of a (row, wave) wins, as INSERT OR IGNORE with the
        unique index in place would decide: a row that is its own base (every row of a wave-1
        list) can only clash through its id, which the primary key settles; other rows are
        remembered by (base, wave), and looked up by id among the rows already written.
        """
        chunk = list(itertools.islice(tuples, max(REGISTER_CHUNK, BULK_ROWS)))
        if not chunk:
            return 0
        bulk = len(chunk) >= BULK_ROWS
        if bulk:
            _drop_bulk_indexes(c)
        bases: set = set()  # (base, wave) of the rows written that are not their own base
        added = 0
        while chunk:
            kept, here = [], {}
            for r in chunk:
                iid, wave, base = r[1], r[6], r[7]
                if base == iid:
                    if (iid, wave) in bases:
                        continue  # a later row would be a second attempt of a (row, wave) in the batch
                    here.setdefault(iid, wave)
                else:
                    if (base, wave) in bases or here.get(base) == wave or c.execute(
                            "SELECT 1 FROM rows WHERE campaign = ? AND instruction_id = ? AND wave = ?",
                            (campaign, base, wave)).fetchone():
                        continue
                    bases.add((base, wave))
                kept.append(r)
            if bulk:
                kept.sort(key=operator.itemgetter(1))  # stable: the first of two equal ids wins
            added += self._write(c, campaign, kept)
            chunk = list(itertools.islice(tuples, REGISTER_CHUNK))
        if bulk:
            _build_bulk_indexes(c)
        return added

    def _write(self, c: sqlite3.Connection, campaign: str, full: list) -> int:
        """INSERT OR IGNORE the row tuples, and the callees of multi-callee cells; how many rows were new."""
        before = c.total_changes
        try:
            c.executemany(
                "INSERT OR IGNORE INTO rows (campaign, instruction_id, row_label, callee, payload_hash, state,"
                " updated_at, wave, base_id, payload) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)",
                full,
            )
        except UnicodeEncodeError as exc:
            raise self._unicode_error(campaign, full) from exc
        added = c.total_changes - before
        # Only multi-callee cells (rare) go into the callees table; the test is inlined
        # because it runs once per row of a million-row list.
        c.executemany(
            "INSERT OR IGNORE INTO callees VALUES (?, ?, ?)",
            [(n, campaign, r[1]) for r in full if r[3] and (";" in r[3] or r[3] != r[3].strip())
             for n in _table_numbers(r[3])],
        )
        return added

    def _unicode_error(self, campaign: str, full: list) -> JournalError:
        """The error for a batch holding text that is not valid Unicode, naming its rows and fields."""
        names = ("instruction_id", "row_label", "callee", "payload_hash", "base_id")
        bad = []
        for r in full:
            fields = [name for name, value in zip(names, (r[1], r[2], r[3], r[4], r[7]))
                      if isinstance(value, str) and not is_valid_unicode(value)]
            if fields:
                bad.append(f"{ascii(r[1])} ({', '.join(fields)})")
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        return JournalError(f"{self.path}: campaign {campaign!r}: {len(bad)} row(s) hold text that is not valid "
                            f"Unicode (a lone surrogate?): {'; '.join(bad[:5])}{more}; nothing of this batch was "
                            "registered")

    def _refuse_second_attempt(self, c: sqlite3.Connection, campaign: str, full: list) -> None:
        """Raise if a batch row would be a second attempt of a (row, wave) the journal already holds.

        INSERT OR IGNORE would silently hide such a row: one attempt per row per wave. A campaign
        with no record yet (the first registration of a big list) cannot conflict; otherwise the
        batch's keys go through a temporary table and one indexed join, not one query per row.
        """
        if c.execute("SELECT 1 FROM rows WHERE campaign = ? LIMIT 1", (campaign,)).fetchone() is None:
            return
        c.execute("CREATE TEMP TABLE IF NOT EXISTS register_keys (iid TEXT, base TEXT, wave INTEGER)")
        c.execute("DELETE FROM temp.register_keys")
        try:
            c.executemany("INSERT INTO temp.register_keys VALUES (?, ?, ?)", ((r[1], r[7], r[6]) for r in full))
            other = c.execute(
                "SELECT k.iid, k.base, k.wave, r.instruction_id FROM temp.register_keys k JOIN rows r"
                " ON r.campaign = ? AND COALESCE(r.base_id, r.instruction_id) = k.base AND r.wave = k.wave"
                " AND r.instruction_id <> k.iid LIMIT 1", (campaign,)).fetchone()
        finally:
            c.execute("DELETE FROM temp.register_keys")
        if other is not None:
            iid, base, wave, earlier = other
            raise JournalError(f"{self.path}: campaign {campaign!r} row {base!r} already has an attempt in "
                               f"wave {wave} ({earlier!r}); {iid!r} would call them twice in this wave")

    def payloads(self, campaign: str) -> dict[str, bytes | None]:
        """Instruction id → the JSON bytes sent for it (None for rows of a pre-wave journal)."""
        with self._lock:
            rows = self._connection().execute(
                "SELECT instruction_id, payload FROM rows WHERE campaign = ?", (campaign,)).fetchall()
        return {iid: None if p is None else bytes(p) for iid, p in rows}

    def recover(self, campaign: str) -> list[str]:
        """Turn rows left in ``sending`` by a crashed run into ``unknown``; return their ids."""
        with self._tx() as c:
            # The live condition lets SQLite read the few live records through rows_live instead of
            # scanning every record of a big campaign.
            where = f"WHERE {_LIVE_SQL} AND state = 'sending' AND +campaign = ?"
            ids = [r[0] for r in c.execute(f"SELECT instruction_id FROM rows {where}", (campaign,))]
            if ids:
                c.execute(
                    f"UPDATE rows SET state = 'unknown', updated_at = ?, error = ? {where}",
                    (iso_utc(), "run ended while the request was in flight (crash or kill): the call may have been placed",
                     campaign),
                )
        if ids:
            log.warning("campaign %r: %d row(s) were mid-request when a previous run ended; marked unknown", campaign, len(ids))
        return ids

    # ------------------------------------------------------------- per row
    def get(self, campaign: str, instruction_id: str) -> JournalRow | None:
        """The record of one row, or None."""
        with self._lock:
            row = self._connection().execute(
                f"SELECT {_FIELDS} FROM rows WHERE campaign = ? AND instruction_id = ?", (campaign, instruction_id)
            ).fetchone()
        return JournalRow(*row) if row else None

    def load(self, campaign: str) -> dict[str, JournalRow]:
        """Every record of *campaign*, keyed by instruction id."""
        with self._lock:
            rows = self._connection().execute(f"SELECT {_FIELDS} FROM rows WHERE campaign = ?", (campaign,)).fetchall()
        return {r[1]: JournalRow(*r) for r in rows}

    def called_numbers(self) -> dict[str, list[JournalRow]]:
        """Number → the records (any campaign, earliest first) whose call to it may exist.

        "May exist" means the record is ``sending``, ``queued`` or ``unknown``: these are the
        people the journal's guard refuses to call again.
        """
        with self._lock:
            rows = self._connection().execute(
                f"SELECT {_FIELDS} FROM rows WHERE {_LIVE_SQL} ORDER BY COALESCE(sent_at, updated_at)"
            ).fetchall()
        out: dict[str, list[JournalRow]] = {}
        for rec in rows:
            record = JournalRow(*rec)
            # The callees table holds exactly the numbers of each record's callee cell.
            for number in callee_numbers(record.callee):
                out.setdefault(number, []).append(record)
        return out

    def statuses(self, campaign: str) -> dict[str, RowStatus]:
        """Instruction id → what a re-run needs of the record (:class:`RowStatus`), for *campaign*.

        The lean counterpart of :meth:`load` for big campaigns: no label, callee, payload or
        wave columns are read, the cursor is consumed as it goes (no list of every record
        first), state names are shared, and records with nothing of their own (never attempted,
        no call id) share one tuple. ``payload_hash`` is given only for records whose call may
        exist (``queued``, ``unknown``, ``sending``: where a changed row matters) and ``error``
        not for ``pending`` or ``deferred`` records (their hold reasons); both are None otherwise.
        """
        shared: dict[tuple, RowStatus] = {}
        out: dict[str, RowStatus] = {}
        with self._lock:
            cur = self._connection().execute(
                f"SELECT instruction_id, state, CASE WHEN state IN {_CALLED_SQL} THEN payload_hash END, attempts,"
                " http_status, call_ids, CASE WHEN state IN ('pending', 'deferred') THEN NULL ELSE error END, sent_at"
                " FROM rows WHERE campaign = ?", (campaign,))
            while batch := cur.fetchmany(10_000):
                for iid, state, h, attempts, status, call_ids, error, sent_at in batch:
                    rec = RowStatus(_STATE_NAMES.get(state, state), h, attempts, status, call_ids, error, sent_at)
                    if h is None and call_ids is None and error is None and sent_at is None:
                        rec = shared.setdefault(rec, rec)
                    out[iid] = rec
        return out

    def live_callees(self, numbers: Container[str] | None = None) -> dict[str, list[LiveCall]]:
        """Number → the calls to it that may exist (any campaign, earliest first), as :class:`LiveCall`.

        The lean counterpart of :meth:`called_numbers`: only the records ``sending``, ``queued``
        or ``unknown`` are read (through the ``rows_live`` index), and with *numbers* only those
        numbers are kept (a re-run passes the numbers of the rows it may still send).
        """
        out: dict[str, list[LiveCall]] = {}
        names: dict[str, str] = {}
        with self._lock:
            cur = self._connection().execute(
                "SELECT campaign, instruction_id, state, call_ids, wave, base_id, outcome, callee FROM rows"
                f" WHERE {_LIVE_SQL} ORDER BY COALESCE(sent_at, updated_at)")
            while batch := cur.fetchmany(10_000):
                for campaign, iid, state, call_ids, wave, base_id, outcome, callee in batch:
                    wanted = [n for n in callee_numbers(callee) if numbers is None or n in numbers]
                    if not wanted:
                        continue
                    call = LiveCall(names.setdefault(campaign, campaign), iid, _STATE_NAMES.get(state, state), call_ids,
                                    wave, base_id or iid, outcome)
                    for number in wanted:
                        out.setdefault(number, []).append(call)
        return out

    def _earlier_call(self, c: sqlite3.Connection, numbers: list[str], campaign: str, instruction_id: str,
                      base_id: str | None = None, wave: int = 1):
        if not numbers:
            return None
        marks = ",".join("?" * len(numbers))
        # An earlier attempt of the same row whose call ended (its outcome is recorded) does not
        # block this wave's attempt; every other call that may exist does.
        others = (" AND NOT (r.campaign = ? AND r.instruction_id = ?)"
                  " AND NOT (r.campaign = ? AND COALESCE(r.base_id, r.instruction_id) = ? AND r.wave < ?"
                  " AND r.outcome IS NOT NULL)")
        args = (campaign, instruction_id, campaign, base_id or instruction_id, int(wave))
        # A single callee is found through rows_live, a multi-callee row's numbers (and every
        # number of a journal written before schema 4) through the callees table.
        row = c.execute(
            f"SELECT {_FIELDS} FROM (SELECT {_R_FIELDS} FROM rows r"
            f" WHERE r.callee IN ({marks}) AND {_LIVE_SQL}{others}"
            f" UNION SELECT {_R_FIELDS} FROM callees c JOIN rows r"
            " ON r.campaign = c.campaign AND r.instruction_id = c.instruction_id"
            f" WHERE c.number IN ({marks}) AND r.state IN {_CALLED_SQL}{others})"
            " ORDER BY COALESCE(sent_at, updated_at) LIMIT 1",
            (*numbers, *args, *numbers, *args),
        ).fetchone()
        return JournalRow(*row) if row else None

    def record_outcomes(self, campaign: str, outcomes: Iterable[tuple[str, str, str | None]]) -> None:
        """Record how calls ended: ``(instruction_id, outcome, finished_on)`` from their callbacks.

        Only a record whose call may exist (``queued``/``unknown``) takes an outcome; it is what
        lets the next wave of the same row call that callee again.
        """
        items = [(o, f, campaign, iid) for iid, o, f in outcomes if o]
        with self._tx() as c:
            c.executemany(
                f"UPDATE rows SET outcome = ?, finished_on = ? WHERE campaign = ? AND instruction_id = ?"
                f" AND state IN {_CALLED_SQL}", items)

    def mark_sending(
        self,
        campaign: str,
        instruction_id: str,
        *,
        payload_hash: str | None = None,
        callee: str | None = None,
        resend_unknown: bool = False,
        resend_queued: bool = False,
        allow_repeat: bool = False,
        ended: Iterable[tuple[str, str, str | None]] = (),
        payload: bytes | None = None,
    ) -> JournalRow:
        """Commit ``sending`` (attempts + 1) before the request leaves; return the new record.

        A row may leave from ``pending``, ``rejected`` or ``failed``; from ``unknown`` only with
        *resend_unknown*, from ``queued`` only with *resend_queued* (a changed row sent again on
        purpose). Unless *allow_repeat*, a row whose callee already has a call ``sending``,
        ``queued`` or ``unknown`` under another record of this journal is refused.

        *ended* lists earlier attempts of the same row whose call ended, as
        ``(instruction_id, outcome, finished_on)`` from their callbacks: they are recorded (see
        :meth:`record_outcomes`) in the same transaction, so they do not block a follow-up wave.

        *payload_hash* and *callee* are written only when given and different from what the
        row holds (:meth:`register` wrote them for a new row; a corrected row sends new ones).

        Raises
        ------
        JournalError
            The row cannot leave from its state, or its callee was already called; in the
            second case the exception's ``earlier`` attribute is that call's :class:`JournalRow`.
        """
        states = ["pending", "rejected", "failed", "deferred"]
        if resend_unknown:
            states.append("unknown")
        if resend_queued:
            states.append("queued")
        now = iso_utc()
        with self._tx() as c:
            current = c.execute(
                f"SELECT {_FIELDS} FROM rows WHERE campaign = ? AND instruction_id = ?", (campaign, instruction_id)
            ).fetchone()
            if current is None or current[5] not in states:
                raise JournalError(
                    f"{self.path}: row {instruction_id!r} of campaign {campaign!r} cannot be sent from state "
                    f"{current[5] if current else 'missing'!r}"
                    + (" (resend_unknown=True sends it again)" if current and current[5] == "unknown" else "")
                )
            numbers = callee_numbers(callee if callee is not None else current[3])
            c.executemany(
                f"UPDATE rows SET outcome = ?, finished_on = ? WHERE campaign = ? AND instruction_id = ?"
                f" AND state IN {_CALLED_SQL}",
                [(o, f, campaign, iid) for iid, o, f in ended if o])
            if not allow_repeat:
                earlier = self._earlier_call(c, numbers, campaign, instruction_id,
                                             current[_COLUMN["base_id"]], current[_COLUMN["wave"]])
                if earlier is not None:
                    err = JournalError(
                        f"{self.path}: {', '.join(numbers)} already has a call ({earlier.state}) as "
                        f"{earlier.instruction_id!r} of campaign {earlier.campaign!r}; not called again "
                        "(allow_repeat=True calls them again)"
                    )
                    err.earlier = earlier  # type: ignore[attr-defined]
                    raise err
            changes = {"payload_hash": payload_hash, "callee": callee}
            changes = {k: v for k, v in changes.items() if v is not None and v != current[_COLUMN[k]]}
            stored = {} if payload is None else {"payload": bytes(payload)}  # the bytes that leave now
            c.execute(
                "UPDATE rows SET state = 'sending', attempts = attempts + 1, sent_at = ?, updated_at = ?,"
                " error = NULL, http_status = NULL" + "".join(f", {k} = ?" for k in (*changes, *stored))
                + " WHERE campaign = ? AND instruction_id = ?",
                (now, now, *changes.values(), *stored.values(), campaign, instruction_id),
            )
            if "callee" in changes:  # a corrected row dials other numbers now
                c.execute("DELETE FROM callees WHERE campaign = ? AND instruction_id = ?", (campaign, instruction_id))
                c.executemany("INSERT OR IGNORE INTO callees VALUES (?, ?, ?)",
                              [(n, campaign, instruction_id) for n in _table_numbers(changes["callee"])])
        return JournalRow(*current)._replace(
            state="sending", attempts=current[6] + 1, payload_hash=changes.get("payload_hash", current[4]),
            callee=changes.get("callee", current[3]), sent_at=now, updated_at=now, error=None,
            http_status=None)

    def mark_done(
        self,
        campaign: str,
        instruction_id: str,
        state: str,
        *,
        http_status: int | None = None,
        call_ids: str | None = None,
        error: str | None = None,
    ) -> None:
        """Record the outcome of a request (``queued``, ``rejected``, ``failed``, ``unknown`` or ``pending``)."""
        if state not in STATES or state == "sending":
            raise ValueError(f"state must be one of {STATES[:1] + STATES[2:]}, got {state!r}")
        with self._tx() as c:
            c.execute(
                "UPDATE rows SET state = ?, http_status = ?, call_ids = ?, error = ?, updated_at = ?"
                " WHERE campaign = ? AND instruction_id = ?",
                (state, http_status, call_ids, say(error) if error else error, iso_utc(), campaign, instruction_id),
            )

    # ------------------------------------------------- calling hours, do-not-call
    #: States :meth:`hold` may move a row from: nothing was called (a called row keeps its state).
    HOLDABLE_STATES = ("pending", "deferred", "suppressed", "failed", "rejected")

    def hold(self, campaign: str, rows: Iterable[tuple[str, str | None, str | None, str | None, str | None]],
             state: str) -> int:
        """Put rows that are not being sent in *state* (``deferred``, ``suppressed`` or ``pending``), with a reason.

        *rows* are ``(instruction_id, row_label, callee, payload_hash, reason)``; a row new to the
        journal is added (its callees indexed), one the journal holds moves only from a state in
        which nothing was called (:attr:`HOLDABLE_STATES`), and its ``error`` becomes *reason*.
        Returns how many records were written. One transaction for all rows.
        """
        if state not in ("deferred", "suppressed", "pending"):
            raise ValueError(f"hold() puts rows in deferred, suppressed or pending, not {state!r}")
        rows = list(rows)
        now = iso_utc()
        allowed = ",".join(f"'{s}'" for s in self.HOLDABLE_STATES)
        with self._tx() as c:
            c.executemany(
                "INSERT OR IGNORE INTO rows (campaign, instruction_id, row_label, callee, payload_hash, state, updated_at)"
                " VALUES (?, ?, ?, ?, ?, 'pending', ?)",
                [(campaign, iid, label, callee, h, now) for iid, label, callee, h, _r in rows])
            c.executemany("INSERT OR IGNORE INTO callees VALUES (?, ?, ?)",
                          [(n, campaign, iid) for iid, _l, callee, _h, _r in rows for n in _table_numbers(callee)])
            middle = c.total_changes
            c.executemany(
                f"UPDATE rows SET state = ?, error = ?, updated_at = ? WHERE campaign = ? AND instruction_id = ?"
                f" AND state IN ({allowed})",
                [(state, say(reason) if reason else reason, now, campaign, iid) for iid, _l, _c, _h, reason in rows])
            return c.total_changes - middle

    def keep(self, campaign: str, rows: Iterable[tuple[str, Mapping[str, Any]]]) -> int:
        """Store the operator's own columns of rows: ``(row_id, {column: value})`` each (``keep=``).

        The row id is the row's wave-1 instruction id. Values are stored as text (missing ones as
        null); a row stored before gets the new values (the operator may have corrected a name).
        One transaction. Returns how many rows were written.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> with Journal(pathlib.Path(tempfile.mkdtemp()) / "j.sqlite") as j:
        ...     _ = j.keep("spring", [("spring-1", {"Klantnummer": "10234", "Naam": "Anne"})])
        ...     j.kept("spring").loc["spring-1", "Klantnummer"]
        '10234'
        """
        def text(value: Any) -> Any:
            if value is None or (isinstance(value, float) and value != value):
                return None
            return value if isinstance(value, str) else str(value)

        items = [(campaign, str(row_id), json.dumps({str(k): text(v) for k, v in values.items()},
                                                    ensure_ascii=False))
                 for row_id, values in rows]
        if not items:
            return 0
        with self._tx() as c:
            try:
                c.executemany("INSERT OR REPLACE INTO kept VALUES (?, ?, ?)", items)
            except UnicodeEncodeError:
                raise JournalError(f"{self.path}: campaign {campaign!r}: a kept column holds text that is not valid "
                                   "Unicode (a lone surrogate?); nothing of it was stored") from None
        return len(items)

    def kept(self, campaign: str):
        """The operator's own columns stored with *campaign*'s rows (see :meth:`keep`), indexed by row id."""
        import pandas as pd

        with self._lock:
            rows = self._connection().execute(
                "SELECT row_id, columns FROM kept WHERE campaign = ? ORDER BY rowid", (campaign,)).fetchall()
        frame = pd.DataFrame.from_records([json.loads(data) for _, data in rows],
                                          index=pd.Index([r for r, _ in rows], name="row_id", dtype=object))
        return frame.astype(object).where(frame.notna(), None) if len(frame.columns) else frame

    def record_waits(self, campaign: str, waits: Iterable[tuple[str, str, Any]], *, at: Any = None) -> int:
        """Record why rows waited: ``(instruction_id, reason, until)`` each (*until* None: no opening known).

        *at* and *until* are datetimes (the sender's injected clock) or ISO text; default: now.
        """
        def text(value: Any) -> str | None:
            if value is None or isinstance(value, str):
                return value
            return iso_utc(value.to_pydatetime() if hasattr(value, "to_pydatetime") else value)

        waits = list(waits)
        stamp = text(at) or iso_utc()
        with self._tx() as c:
            c.executemany("INSERT INTO waits VALUES (?, ?, ?, ?, ?)",
                          [(campaign, iid, stamp, text(until), say(reason)) for iid, reason, until in waits])
        return len(waits)

    def waits(self, campaign: str | None = None):
        """Every recorded wait (``campaign``, ``instruction_id``, ``at``, ``until``, ``reason``) as a DataFrame."""
        import pandas as pd

        with self._lock:
            sql = "SELECT campaign, instruction_id, at, until, reason FROM waits"
            cur = self._connection().execute(sql + (" WHERE campaign = ?" if campaign else "") + " ORDER BY rowid",
                                             (campaign,) if campaign else ())
            rows = cur.fetchall()
        return pd.DataFrame(rows, columns=["campaign", "instruction_id", "at", "until", "reason"])

    # ------------------------------------------------------------- reports
    def to_frame(self, campaign: str | None = None):
        """The journal as a DataFrame (one row per record), optionally for one campaign."""
        import pandas as pd

        with self._lock:
            if campaign is None:
                cur = self._connection().execute(f"SELECT {_FIELDS} FROM rows ORDER BY campaign, instruction_id")
            else:
                cur = self._connection().execute(
                    f"SELECT {_FIELDS} FROM rows WHERE campaign = ? ORDER BY instruction_id", (campaign,)
                )
            rows = cur.fetchall()
        df = pd.DataFrame(rows, columns=list(JournalRow._fields))
        df["http_status"] = df["http_status"].astype("Int64")
        return df

    def counts(self, campaign: str) -> dict[str, int]:
        """State → number of rows, for *campaign*."""
        with self._lock:
            rows = self._connection().execute(
                "SELECT state, COUNT(*) FROM rows WHERE campaign = ? GROUP BY state", (campaign,)
            ).fetchall()
        return dict(rows)

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r}, durable={self.durable})"
