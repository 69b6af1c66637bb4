"""Reading a journal file behind the package's back: what its schema says and what its rows hold."""
from __future__ import annotations

import sqlite3
from pathlib import Path


def sql_of(path: Path, name: str) -> str | None:
    """The ``CREATE`` statement of table or index *name* in the SQLite file *path*, or None."""
    con = sqlite3.connect(path)
    try:
        found = con.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()
    finally:
        con.close()
    return found[0] if found else None


def records(path: Path) -> list[tuple]:
    """Every row of the journal's ``rows`` table, in a stable order."""
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT * FROM rows ORDER BY campaign, instruction_id").fetchall()
    finally:
        con.close()
