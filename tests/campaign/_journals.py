"""Journals as an older version of the package left them, for the tests that open them."""
from __future__ import annotations

import sqlite3

#: The journal's schema 3, verbatim from cmvoice_nb/campaign/journal.py before schema 4.
SCHEMA_V3 = """
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
    state           TEXT NOT NULL CHECK (state IN ('queued','rejected','failed','unknown','deferred','suppressed','pending','sending')),
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
CREATE TABLE IF NOT EXISTS waits (
    campaign        TEXT NOT NULL,
    instruction_id  TEXT NOT NULL,
    at              TEXT NOT NULL,
    until           TEXT,
    reason          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS waits_by_row ON waits (campaign, instruction_id)
"""  # noqa: E501  # the schema text as that version wrote it, byte for byte


def write_v3_journal(path, plan, key, *, queued, sending):
    """A schema-3 journal as that version's send_campaign left it: every row registered with its
    payload and every number in ``callees``; *queued* rows sent, *sending* rows cut by a crash."""
    plan = plan.rekey(key)
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.executescript(SCHEMA_V3)
    con.execute("INSERT INTO meta VALUES ('campaign_key', ?)", (key,))
    con.execute("INSERT INTO campaigns VALUES (?, 'notification', '2026-01-01T00:00:00Z')", (plan.name,))
    for r in plan.rows:
        state = "queued" if r.position in queued else "sending" if r.position in sending else "pending"
        con.execute(
            "INSERT INTO rows (campaign, instruction_id, row_label, callee, payload_hash, state, attempts, http_status,"
            " call_ids, sent_at, updated_at, wave, base_id, payload) VALUES (?,?,?,?,?,?,?,?,?,?,?,1,?,?)",
            (plan.name, r.instruction_id, str(r.label), r.callee, r.payload_hash, state,
             0 if state == "pending" else 1, 200 if state == "queued" else None,
             f"old-call-{r.position}" if state == "queued" else None,
             None if state == "pending" else "2026-01-01T09:00:00Z", "2026-01-01T09:00:00Z",
             r.instruction_id, r.payload))
        con.execute("INSERT INTO callees VALUES (?, ?, ?)", (r.callee, plan.name, r.instruction_id))
    con.execute("PRAGMA user_version=3")
    con.commit()
    con.close()
    return plan
