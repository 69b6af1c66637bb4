"""The campaign journal: one SQLite database (WAL) that makes sending resumable.

Every sendable row has one record keyed by ``(campaign, instruction_id)``. Its state
moves ``pending`` → ``sending`` → ``queued`` / ``rejected`` / ``failed`` / ``unknown``;
``sending`` is written and committed *before* the HTTP request leaves, so a process
killed mid-request (``kill -9``, a kernel restart) leaves ``sending`` behind, and the
next run turns it into ``unknown``: the call may have been placed, it is never resent
unless the user asks for it.

The journal stores a SHA-256 of the instruction's JSON (to notice a row edited after it
was sent), the callee, the provider's call ids and error text; never the product token.

Only one run may use a journal at a time: :meth:`Journal.lock` takes an OS lock on a
``<journal>.lock`` file beside it, released by the OS when the process dies.

Examples
--------
>>> import tempfile, os
>>> j = Journal(os.path.join(tempfile.mkdtemp(), "j.sqlite"))
>>> j.ensure_campaign("spring", app="notification")
>>> j.register("spring", [("spring-0", "0", "+31612345610", "abc")])
1
>>> j.get("spring", "spring-0").state
'pending'
>>> j.close()
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import logging
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterable, Iterator, NamedTuple

from ..errors import JournalError

__all__ = ["Journal", "JournalRow", "instruction_hash", "STATES", "FINAL_STATES"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
#: Every state a journal row can be in.
STATES = ("pending", "sending", "queued", "rejected", "failed", "unknown")
#: States a re-run does not send again (``unknown`` only with ``resend_unknown=True``).
FINAL_STATES = ("queued", "unknown")

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
    state           TEXT NOT NULL CHECK (state IN ('pending','sending','queued','rejected','failed','unknown')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    http_status     INTEGER,
    call_ids        TEXT,
    error           TEXT,
    sent_at         TEXT,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (campaign, instruction_id)
);
"""


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


def instruction_hash(payload: dict) -> str:
    """SHA-256 of the canonical JSON of an instruction's wire dict.

    Examples
    --------
    >>> instruction_hash({"b": 1, "a": 2}) == instruction_hash({"a": 2, "b": 1})
    True
    """
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def utc_now_iso() -> str:
    """Current UTC time as ISO-8601 with milliseconds and a ``Z``."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Journal:
    """SQLite (WAL) ledger of one or more campaigns.

    Parameters
    ----------
    path
        The database file; created with its folder if missing.
    durable
        ``True`` (default) commits with ``synchronous=FULL``: a ``sending`` mark is on disk
        before the request leaves, even across a power loss. ``False`` uses ``NORMAL``, which
        still survives a killed process but not a power cut.

    Notes
    -----
    The object is safe to share between threads: one connection, guarded by a lock.
    """

    def __init__(self, path: str | os.PathLike, *, durable: bool = True) -> None:
        self.path = Path(path)
        self.durable = durable
        self._lock = threading.RLock()
        self._lock_fh: Any = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                str(self.path), timeout=30.0, isolation_level=None, check_same_thread=False
            )
            mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise JournalError(f"{self.path}: cannot switch the journal to WAL mode (got {mode!r})")
            self._conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._conn.execute("PRAGMA busy_timeout=30000")
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, SCHEMA_VERSION):
                raise JournalError(
                    f"{self.path}: journal schema version {version}, this cmvoice_nb reads version {SCHEMA_VERSION}"
                )
            self._conn.executescript(_SCHEMA)
            self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"{self.path}: not a usable campaign journal ({exc})") from exc

    # ----------------------------------------------------------- lifecycle
    def close(self) -> None:
        """Release the run lock and close the database."""
        self.unlock()
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None  # type: ignore[assignment]

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def lock(self) -> None:
        """Take the exclusive run lock, or raise :class:`JournalError` if another run holds it."""
        if self._lock_fh is not None:
            return
        lock_path = self.path.with_name(self.path.name + ".lock")
        fh = open(lock_path, "a+")  # noqa: SIM115 - held open for the whole run
        try:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # pragma: no cover - Windows: no cross-process guard
            pass
        except OSError as exc:
            fh.close()
            raise JournalError(
                f"{self.path}: another send is running on this journal (lock {lock_path} is held); "
                "wait for it or stop it first"
            ) from exc
        self._lock_fh = fh

    def unlock(self) -> None:
        """Release the run lock (no-op when not held)."""
        if self._lock_fh is not None:
            with contextlib.suppress(OSError):
                self._lock_fh.close()
            self._lock_fh = None

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise JournalError(f"{self.path}: journal is closed")
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    yield self._conn
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                raise JournalError(f"{self.path}: journal write failed ({exc})") from exc

    # ------------------------------------------------------------ campaign
    def ensure_campaign(self, name: str, *, app: str) -> None:
        """Record campaign *name* for *app*; raise :class:`JournalError` if it was another app."""
        with self._tx() as c:
            row = c.execute("SELECT app FROM campaigns WHERE name = ?", (name,)).fetchone()
            if row is None:
                c.execute("INSERT INTO campaigns VALUES (?, ?, ?)", (name, app, utc_now_iso()))
            elif row[0] != app:
                raise JournalError(
                    f"{self.path}: campaign {name!r} in this journal is a {row[0]!r} campaign, not {app!r}; "
                    "use another campaign name or journal"
                )

    def campaigns(self) -> dict[str, str]:
        """Campaign name → app, for every campaign in the journal."""
        with self._lock:
            return dict(self._conn.execute("SELECT name, app FROM campaigns ORDER BY name").fetchall())

    def register(self, campaign: str, rows: Iterable[tuple[str, str, str, str]]) -> int:
        """Add ``(instruction_id, row_label, callee, payload_hash)`` rows as ``pending``.

        Rows already in the journal are left untouched. Returns how many were added.
        """
        now = utc_now_iso()
        with self._tx() as c:
            before = c.total_changes
            c.executemany(
                "INSERT OR IGNORE INTO rows (campaign, instruction_id, row_label, callee, payload_hash, state, updated_at)"
                " VALUES (?, ?, ?, ?, ?, 'pending', ?)",
                [(campaign, iid, label, callee, h, now) for iid, label, callee, h in rows],
            )
            return c.total_changes - before

    def recover(self, campaign: str) -> list[str]:
        """Turn rows left in ``sending`` by a crashed run into ``unknown``; return their ids."""
        with self._tx() as c:
            ids = [r[0] for r in c.execute(
                "SELECT instruction_id FROM rows WHERE campaign = ? AND state = 'sending'", (campaign,)
            )]
            c.execute(
                "UPDATE rows SET state = 'unknown', updated_at = ?, error = ? WHERE campaign = ? AND state = 'sending'",
                (utc_now_iso(), "run ended while the request was in flight (crash or kill): the call may have been placed", campaign),
            )
        if ids:
            log.warning("campaign %r: %d row(s) were mid-request when a previous run ended; marked unknown", campaign, len(ids))
        return ids

    # ------------------------------------------------------------- per row
    def get(self, campaign: str, instruction_id: str) -> JournalRow | None:
        """The record of one row, or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM rows WHERE campaign = ? AND instruction_id = ?", (campaign, instruction_id)
            ).fetchone()
        return JournalRow(*row) if row else None

    def load(self, campaign: str) -> dict[str, JournalRow]:
        """Every record of *campaign*, keyed by instruction id."""
        with self._lock:
            rows = self._conn.execute("SELECT * FROM rows WHERE campaign = ?", (campaign,)).fetchall()
        return {r[1]: JournalRow(*r) for r in rows}

    def mark_sending(self, campaign: str, instruction_id: str, *, payload_hash: str, callee: str | None = None) -> JournalRow:
        """Commit ``sending`` (attempts + 1) before the request leaves; return the new record."""
        now = utc_now_iso()
        with self._tx() as c:
            cur = c.execute(
                "UPDATE rows SET state = 'sending', attempts = attempts + 1, payload_hash = ?,"
                " callee = COALESCE(?, callee), sent_at = ?, updated_at = ?, error = NULL, http_status = NULL"
                " WHERE campaign = ? AND instruction_id = ? AND state IN ('pending', 'rejected', 'failed', 'unknown')",
                (payload_hash, callee, now, now, campaign, instruction_id),
            )
            if cur.rowcount != 1:
                state = c.execute(
                    "SELECT state FROM rows WHERE campaign = ? AND instruction_id = ?", (campaign, instruction_id)
                ).fetchone()
                raise JournalError(
                    f"{self.path}: row {instruction_id!r} of campaign {campaign!r} cannot be sent from state "
                    f"{state[0] if state else 'missing'!r}"
                )
            row = c.execute(
                "SELECT * FROM rows WHERE campaign = ? AND instruction_id = ?", (campaign, instruction_id)
            ).fetchone()
        return JournalRow(*row)

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
                (state, http_status, call_ids, error, utc_now_iso(), campaign, instruction_id),
            )

    # ------------------------------------------------------------- reports
    def to_frame(self, campaign: str | None = None):
        """The journal as a DataFrame (one row per record), optionally for one campaign."""
        import pandas as pd

        with self._lock:
            if campaign is None:
                cur = self._conn.execute("SELECT * FROM rows ORDER BY campaign, instruction_id")
            else:
                cur = self._conn.execute(
                    "SELECT * FROM rows WHERE campaign = ? ORDER BY instruction_id", (campaign,)
                )
            rows = cur.fetchall()
        df = pd.DataFrame(rows, columns=list(JournalRow._fields))
        df["http_status"] = df["http_status"].astype("Int64")
        return df

    def counts(self, campaign: str) -> dict[str, int]:
        """State → number of rows, for *campaign*."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT state, COUNT(*) FROM rows WHERE campaign = ? GROUP BY state", (campaign,)
            ).fetchall()
        return dict(rows)

    def __repr__(self) -> str:
        return f"Journal({str(self.path)!r}, durable={self.durable})"
