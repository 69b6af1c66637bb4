"""The journal's SQL: its tables and indexes, the schema version, and the in-place upgrade of older journals.

Schema 4 is what this module creates. A journal of schema 1, 2 or 3 is upgraded in place
when opened (:func:`create_or_upgrade`), inside the opening transaction:

* schema 1 and 2 (no waves) gain the wave columns; every record is wave 1, with no stored
  payload;
* schema 1 (no ``callees`` table) has the callees of every record indexed once;
* a ``rows`` table whose state ``CHECK`` lacks a state of :data:`JOURNAL_STATES` (``budget``,
  for one written before budgets) is rebuilt with the list widened (:func:`migrate_holds`), and
  the ``waits``, ``kept``, ``costs`` and ``runs`` tables are added when missing;
* schema 1 to 3 hold whole-wire payload hashes: they become identity hashes
  (:func:`rehash_records`).
"""
from __future__ import annotations

import json
import logging
import re
import secrets
import sqlite3

from ...wire import DELIVERY_FIELDS, callee_numbers, instruction_hash, legacy_instruction_hash
from ..vocabulary import CALLED_STATES, JOURNAL_STATES

__all__ = ["SCHEMA_VERSION", "READABLE_VERSIONS", "SCHEMA", "WAITS_SCHEMA", "WAVE_COLUMNS", "CALLED_SQL",
           "LIVE_SQL", "BULK_INDEXES", "BULK_INDEX_SQL", "create_or_upgrade", "migrate_holds", "rehash_records",
           "table_numbers", "drop_bulk_indexes", "build_bulk_indexes"]

# The journal's one logger, whichever of its modules writes.
log = logging.getLogger(__package__)

SCHEMA_VERSION = 4
#: The schema versions this cmvoice_nb opens (0: a new, empty file); older ones are upgraded.
READABLE_VERSIONS = (0, 1, 2, 3, SCHEMA_VERSION)

SCHEMA = """
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
#: Columns of the wave schema (3), in table order: what a version-1 or -2 journal gains.
WAVE_COLUMNS = (("wave", "INTEGER NOT NULL DEFAULT 1"), ("base_id", "TEXT"), ("outcome", "TEXT"),
                ("finished_on", "TEXT"), ("payload", "BLOB"))
#: SQL list of the states in which a call may exist (the people guard).
CALLED_SQL = "(" + ", ".join(f"'{s}'" for s in CALLED_STATES) + ")"
#: The same condition as ``rows_live``'s, spelled exactly as in its definition: SQLite uses a
#: partial index only for a query holding that very term. An OR chain, not ``IN (...)``: SQLite
#: evaluates a partial index's condition on every inserted row, and an IN list costs ~1.8 s per
#: million rows of a bulk registration where the OR chain costs nothing measurable.
LIVE_SQL = "(" + " OR ".join(f"state = '{s}'" for s in CALLED_STATES) + ")"


#: Calling-hours waits: one record each time a row waited for (or was deferred to) its window.
#: Its own table, added when missing, so journals of every schema version get it.
#: ``kept``: the operator's own columns of each row (``keep=``), a JSON object per row id (its
#: wave-1 id), with the values of the latest run that planned the row; also added when missing.
#: ``costs``: each attempt's upper-bound cost, written with its ``sending`` mark when the run has a
#: budget; the campaign's cost so far is the sum over the attempts whose call may exist.
#: ``runs``: one record per finished run (not a dry run): its wave, when, its counts and exit status.
#: ``variants``: each person's A/B variant (or ``holdout``) by row id (its wave-1 id), so every wave
#: and report reads the assignment the first run made.
WAITS_SCHEMA = """
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
);
CREATE TABLE IF NOT EXISTS costs (
    campaign        TEXT NOT NULL,
    instruction_id  TEXT NOT NULL,
    cost            REAL NOT NULL,
    PRIMARY KEY (campaign, instruction_id)
);
CREATE TABLE IF NOT EXISTS variants (
    campaign  TEXT NOT NULL,
    row_id    TEXT NOT NULL,
    variant   TEXT NOT NULL,
    PRIMARY KEY (campaign, row_id)
);
CREATE TABLE IF NOT EXISTS runs (
    campaign    TEXT NOT NULL,
    wave        INTEGER,
    started_at  TEXT NOT NULL,
    ended_at    TEXT NOT NULL,
    counts      TEXT NOT NULL,
    exit        INTEGER
)
"""
#: The secondary indexes a bulk registration rebuilds, and their definitions (as in :data:`SCHEMA`).
BULK_INDEXES = ("callees_by_number", "rows_one_per_wave")
BULK_INDEX_SQL = tuple(s.strip() for s in SCHEMA.split(";")
                       if s.strip().startswith("CREATE") and any(f" {name} " in s for name in BULK_INDEXES))
#: The state CHECK, in both spellings: ``state IN (...)`` (schema <= 3) and ``state = 'pending' OR
#: state IN (...)`` (schema 4: a pending row, what a registration writes, passes without the IN
#: list, which SQLite re-evaluates on every row of an ``executemany``, ~40 % of a bulk insert).
_CHECK_RE = re.compile(r"CHECK\s*\(\s*(?:state\s*=\s*'pending'\s+OR\s+)?state\s+IN\s*\(([^)]*)\)\s*\)",
                       re.IGNORECASE)


def create_or_upgrade(conn: sqlite3.Connection, version: int) -> None:
    """Create the schema, or bring a journal of *version* up to :data:`SCHEMA_VERSION` (inside a transaction).

    The campaign key is drawn here when the journal has none (a new journal, or one written
    before keys existed) and never changes afterwards.
    """
    if version in (1, 2):  # no waves: every record is wave 1, with no stored payload
        have = {r[1] for r in conn.execute("PRAGMA table_info(rows)")}
        for column, decl in WAVE_COLUMNS:
            if column not in have:
                conn.execute(f"ALTER TABLE rows ADD COLUMN {column} {decl}")
    # One statement at a time: executescript() would COMMIT the open transaction.
    for statement in filter(str.strip, SCHEMA.split(";")):
        conn.execute(statement)
    if version == 1:  # no callee index in schema 1: fill it once
        for campaign, iid, callee in conn.execute("SELECT campaign, instruction_id, callee FROM rows").fetchall():
            conn.executemany(
                "INSERT OR IGNORE INTO callees VALUES (?, ?, ?)",
                [(n, campaign, iid) for n in callee_numbers(callee)],
            )
    migrate_holds(conn)
    if version in (1, 2, 3):
        rehash_records(conn)
    conn.execute("INSERT OR IGNORE INTO meta VALUES ('campaign_key', ?)", (secrets.token_hex(4),))
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def migrate_holds(conn: sqlite3.Connection) -> None:
    """Bring a journal up to the spec's states and add the tables beside ``rows`` when missing (inside a transaction).

    Additive and idempotent, whatever the schema version: SQLite cannot change a ``CHECK``, so
    when the ``rows`` table's state list lacks a state of :data:`JOURNAL_STATES` the table is
    rebuilt from its own stored definition with the list widened (the states it had kept),
    every record copied, and its indexes recreated.
    """
    for statement in filter(str.strip, WAITS_SCHEMA.split(";")):
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


def rehash_records(conn: sqlite3.Connection) -> int:
    """Turn the stored whole-wire hashes into identity hashes, from each record's stored payload.

    Only records whose payload has a delivery field need it (elsewhere both hashes are equal),
    and only when the stored hash is the one of that payload (a record sent again with new
    content holds the hash and payload of what left last: still consistent). Records without a
    payload keep their hash; :func:`~cmvoice_nb.wire.same_instruction` accepts it while the URL
    is unchanged.
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


def table_numbers(callee: str | None) -> list[str]:
    """The numbers of a ``callee`` cell that go into the ``callees`` table.

    Empty when the cell is one clean number: ``rows_live`` indexes that cell itself (the common
    case, and what keeps a million-row registration from writing a million index rows).

    Examples
    --------
    >>> table_numbers("+31612345678"), table_numbers("+31612345678;+31612345679")
    ([], ['+31612345678', '+31612345679'])
    """
    if not callee or (";" not in callee and callee == callee.strip()):
        return []
    return callee_numbers(callee)


def drop_bulk_indexes(c: sqlite3.Connection) -> None:
    """Drop the secondary indexes a bulk insert rebuilds afterwards (filling, then indexing, is cheaper)."""
    for name in BULK_INDEXES:
        c.execute(f"DROP INDEX IF EXISTS {name}")


def build_bulk_indexes(c: sqlite3.Connection) -> None:
    """Create the indexes :func:`drop_bulk_indexes` dropped, as the schema defines them."""
    for statement in BULK_INDEX_SQL:
        c.execute(statement)
