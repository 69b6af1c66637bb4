"""Journal: registering and resuming a big campaign, vs the per-row register it replaced.

Figures, all from the same run:

1. ``Journal.register`` of N rows in one call (one transaction, ``executemany``, secondary
   indexes rebuilt after the insert) vs the **baseline**: the register of before issue 15, which
   checked each row's (row, wave) with its own query before the insert (reproduced here verbatim
   as ``per_row_register``). rows/s each and their ratio;
2. resume: what ``send_campaign`` reads from the journal before its first call on a re-run
   (open, ``recover``, ``load``, ``called_numbers``) over the N-row journal, with half the rows
   ``queued`` by an earlier run: seconds and rows/s;
3. peak memory (tracemalloc, Python allocations) of each step.

Run: ``.venv/bin/python bench/journal.py [--rows 1000000] [--baseline-rows 1000000]``.
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from cmvoice_nb.campaign.journal import Journal, _numbers
from cmvoice_nb.errors import JournalError
from cmvoice_nb.spec import iso_utc


def per_row_register(j: Journal, campaign: str, rows) -> int:
    """The register of before issue 15: one (row, wave) query per row, then the inserts."""
    full = []
    for item in rows:
        iid, label, callee, h, payload, wave, base = (tuple(item) + (None, None, None))[:7]
        full.append((campaign, iid, label, callee, h, iso_utc(), int(wave or 1), base or iid,
                     None if payload is None else bytes(payload)))
    with j._tx() as c:
        for _campaign, iid, _label, _callee, _h, _now, wave, base, _p in full:
            other = c.execute(
                "SELECT instruction_id FROM rows WHERE campaign = ? AND COALESCE(base_id, instruction_id) = ?"
                " AND wave = ? AND instruction_id <> ?", (campaign, base, wave, iid)).fetchone()
            if other is not None:
                raise JournalError("second attempt")
        before = c.total_changes
        c.executemany(
            "INSERT OR IGNORE INTO rows (campaign, instruction_id, row_label, callee, payload_hash, state,"
            " updated_at, wave, base_id, payload) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)", full)
        added = c.total_changes - before
        c.executemany("INSERT OR IGNORE INTO callees VALUES (?, ?, ?)",
                      [(n, campaign, r[1]) for r in full for n in _numbers(r[3])])
        return added


def make_rows(n: int, key: str = "a1b2c3d4"):
    """N register tuples shaped like send_campaign's: id, label, callee, hash, payload, wave, base.

    In a fixed shuffled order: a real list is not sorted by its instruction ids.
    """
    order = list(range(n))
    random.Random(15).shuffle(order)
    for i in order:
        iid = f"big-{key}-316{i:08d}-{i}"
        payload = (b'{"callee":"+316%08d","caller":"+31201234567","prompt":"Hello, this is a reminder",'
                   b'"instruction-id":"%s"}' % (i, iid.encode()))
        yield (iid, str(i), f"+316{i:08d}", f"{i:064x}", payload, 1, iid)


def measure(fn):
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, dt, peak


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--baseline-rows", type=int, default=None, help="rows for the per-row baseline (default: --rows)")
    a = ap.parse_args(argv)
    n, nb = a.rows, a.baseline_rows or a.rows
    with tempfile.TemporaryDirectory() as tmp:
        # Baseline and contender each on a fresh journal, same rows, same durability.
        jb = Journal(Path(tmp) / "baseline.sqlite")
        jb.ensure_campaign("big", app="notification")
        added_b, tb, pb = measure(lambda: per_row_register(jb, "big", list(make_rows(nb))))
        jb.close()
        j = Journal(Path(tmp) / "journal.sqlite")
        j.ensure_campaign("big", app="notification")
        added, tr, pr = measure(lambda: j.register("big", list(make_rows(n))))
        assert added == n and added_b == nb, (added, added_b)
        # Half the campaign went out in an earlier run (state queued, a call id each).
        with j._tx() as c:
            c.execute("UPDATE rows SET state = 'queued', call_ids = 'call-' || rowid, sent_at = updated_at"
                      " WHERE rowid % 2 = 0")
        j.close()

        def resume():
            jr = Journal(Path(tmp) / "journal.sqlite")
            jr.lock()
            jr.ensure_campaign("big", app="notification")
            jr.recover("big")
            existing = jr.load("big")
            called = jr.called_numbers()
            jr.close()
            return len(existing), len(called)

        (loaded, called), tres, pres = measure(resume)
        assert loaded == n and called == n // 2, (loaded, called)
        size = (Path(tmp) / "journal.sqlite").stat().st_size

    print(f"register, per-row check (baseline): {nb:,} rows in {tb:.2f} s = {nb / tb:,.0f} rows/s, peak {pb / 2**20:.0f} MiB")
    print(f"register (bulk):                    {n:,} rows in {tr:.2f} s = {n / tr:,.0f} rows/s, peak {pr / 2**20:.0f} MiB")
    print(f"  ratio (rows/s): {(n / tr) / (nb / tb):.1f}x the per-row baseline")
    print(f"resume (open, lock, recover, load, called_numbers): {n:,} rows in {tres:.2f} s = {n / tres:,.0f} rows/s,"
          f" peak {pres / 2**20:.0f} MiB")
    print(f"journal file: {size / 2**20:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
