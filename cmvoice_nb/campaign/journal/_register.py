"""Registering rows in the journal: one transaction per batch, bulk inserts for big lists.

:class:`Registering` is the part of :class:`~cmvoice_nb.campaign.Journal` that adds ``pending``
rows. One attempt per row per wave: a batch row that would be a second attempt of a (row, wave)
the journal holds is refused (:class:`~cmvoice_nb.errors.JournalError`); within a batch the
first attempt wins. Batches of :data:`BULK_ROWS` rows or more are written with the secondary
indexes dropped and rebuilt after, in instruction-id order; a campaign's first registration is
read :data:`REGISTER_CHUNK` rows at a time.
"""
from __future__ import annotations

import itertools
import operator
import sqlite3
from collections.abc import Iterable, Iterator

from ...errors import JournalError, is_valid_unicode
from ...spec import iso_utc
from ._connection import JournalConnection
from ._records import RowItem, RowValues, row_tuple
from ._schema import build_bulk_indexes, drop_bulk_indexes, table_numbers

__all__ = ["Registering", "BULK_ROWS", "REGISTER_CHUNK"]

#: Batches of at least this many rows are registered with the secondary indexes dropped and
#: rebuilt after the insert (measured in ``bench/journal.py``: faster from about this size on).
BULK_ROWS = 20_000
#: Rows read and written at a time when a campaign's first rows are registered (memory: a
#: million-row list is never a million tuples at once).
REGISTER_CHUNK = 50_000


class Registering(JournalConnection):
    """:meth:`register` and the bulk insert behind it (a part of :class:`~cmvoice_nb.campaign.Journal`)."""

    def register(self, campaign: str, rows: Iterable[RowItem]) -> int:
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
        tuples = (row_tuple(campaign, now, item) for item in rows)
        with self._tx() as c:
            if c.execute("SELECT 1 FROM rows WHERE campaign = ? LIMIT 1", (campaign,)).fetchone() is not None:
                full = list(tuples)  # a campaign with records: checked against them as one batch
                if not full:
                    return 0
                return self._insert_batch(c, campaign, full)
            return self._insert_fresh(c, campaign, tuples)

    def _insert_batch(self, c: sqlite3.Connection, campaign: str, full: list[RowValues]) -> int:
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
            seen: set[tuple[str, int]] = set()
            kept = []
            for r in full:
                if (r[7], r[6]) not in seen:
                    seen.add((r[7], r[6]))
                    kept.append(r)
            # In key order, every primary-key B-tree (rows, callees) grows at its end instead of
            # being split all over: a shuffled list inserts several times faster sorted. Stable, so
            # the first of two equal ids wins; nothing reads rows in rowid order.
            kept.sort(key=operator.itemgetter(1))
            full = kept
            drop_bulk_indexes(c)
        added = self._write(c, campaign, full)
        if bulk:
            build_bulk_indexes(c)
        return added

    def _insert_fresh(self, c: sqlite3.Connection, campaign: str, tuples: Iterator[RowValues]) -> int:
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
            drop_bulk_indexes(c)
        bases: set[tuple[str, int]] = set()  # (base, wave) of the rows written that are not their own base
        added = 0
        while chunk:
            kept: list[RowValues] = []
            here: dict[str, int] = {}
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
            build_bulk_indexes(c)
        return added

    def _write(self, c: sqlite3.Connection, campaign: str, full: list[RowValues]) -> int:
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
             for n in table_numbers(r[3])],
        )
        return added

    def _unicode_error(self, campaign: str, full: list[RowValues]) -> JournalError:
        """The error for a batch holding text that is not valid Unicode, naming its rows and fields."""
        names = ("instruction_id", "row_label", "callee", "payload_hash", "base_id")
        bad = []
        for r in full:
            fields = [name for name, value in zip(names, (r[1], r[2], r[3], r[4], r[7]), strict=True)
                      if isinstance(value, str) and not is_valid_unicode(value)]
            if fields:
                bad.append(f"{ascii(r[1])} ({', '.join(fields)})")
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        return JournalError(f"{self.path}: campaign {campaign!r}: {len(bad)} row(s) hold text that is not valid "
                            f"Unicode (a lone surrogate?): {'; '.join(bad[:5])}{more}; nothing of this batch was "
                            "registered")

    def _refuse_second_attempt(self, c: sqlite3.Connection, campaign: str, full: list[RowValues]) -> None:
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
