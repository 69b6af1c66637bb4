"""Journal: registering and resuming a big campaign, vs the journal of before issue 15.

Figures, all from the same run, each step in a **fresh subprocess** (its wall time, its CPU
time, and its peak resident memory, ``ru_maxrss``: everything the process held, Python and
SQLite alike, including the generated test rows):

1. register N rows shaped like ``send_campaign``'s (id, label, callee, SHA-256, payload bytes,
   wave, base id), in a fixed shuffled order, on a fresh on-disk journal (``synchronous=FULL``):

   - **baseline**: the journal of before issue 15, schema 3 (its DDL is copied below) and its
     register, which checked each row's (row, wave) with its own query and indexed every callee
     in the ``callees`` table, with the payload bytes (as ``send_campaign`` stored them then);
   - ``Journal.register`` today with the same rows (payloads included): same input, same work;
   - ``Journal.register`` as ``send_campaign`` calls it today: no payload (stored when a row is
     sent), rows streamed from a generator (its time includes generating the rows: that
     generator alone is timed too).

   The baseline and the second line build their list of rows before the clock starts.

2. resume: what ``send_campaign`` reads before its first call on a re-run of the N rows, half of
   them ``queued`` by an earlier run: today (open, lock, ``recover``, ``statuses``,
   ``live_callees`` of the pending half's numbers) and as before (``load``, ``called_numbers``).

Run: ``.venv/bin/python bench/journal.py [--rows 1000000] [--baseline-rows 1000000]``.
"""
from __future__ import annotations

import argparse
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

try:
    import resource
except ImportError:  # Windows: no ru_maxrss; the figure is left out
    resource = None

#: The schema of the journal before issue 15 (cmvoice_nb/campaign/journal.py, schema 3), verbatim.
SCHEMA_V3 = """
CREATE TABLE IF NOT EXISTS campaigns (name TEXT PRIMARY KEY, app TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    campaign TEXT NOT NULL, instruction_id TEXT NOT NULL, row_label TEXT, callee TEXT, payload_hash TEXT,
    state TEXT NOT NULL CHECK (state IN ('queued','rejected','failed','unknown','deferred','suppressed','pending','sending')),
    attempts INTEGER NOT NULL DEFAULT 0, http_status INTEGER, call_ids TEXT, error TEXT, sent_at TEXT,
    updated_at TEXT NOT NULL, wave INTEGER NOT NULL DEFAULT 1, base_id TEXT, outcome TEXT, finished_on TEXT,
    payload BLOB, PRIMARY KEY (campaign, instruction_id));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS callees (number TEXT NOT NULL, campaign TEXT NOT NULL, instruction_id TEXT NOT NULL,
    PRIMARY KEY (campaign, instruction_id, number));
CREATE INDEX IF NOT EXISTS callees_by_number ON callees (number);
CREATE UNIQUE INDEX IF NOT EXISTS rows_one_per_wave ON rows (campaign, COALESCE(base_id, instruction_id), wave);
"""  # noqa: E501  # the schema text as that version wrote it, byte for byte


def per_row_register(conn: sqlite3.Connection, campaign: str, rows) -> int:
    """The register of before issue 15: one (row, wave) query per row, then the inserts."""
    from cmvoice_nb.spec import iso_utc
    from cmvoice_nb.wire import callee_numbers as _numbers

    full = []
    for item in rows:
        iid, label, callee, h, payload, wave, base = (tuple(item) + (None, None, None))[:7]
        full.append((campaign, iid, label, callee, h, iso_utc(), int(wave or 1), base or iid,
                     None if payload is None else bytes(payload)))
    conn.execute("BEGIN IMMEDIATE")
    for _campaign, iid, _label, _callee, _h, _now, wave, base, _p in full:
        other = conn.execute(
            "SELECT instruction_id FROM rows WHERE campaign = ? AND COALESCE(base_id, instruction_id) = ?"
            " AND wave = ? AND instruction_id <> ?", (campaign, base, wave, iid)).fetchone()
        if other is not None:
            raise RuntimeError("second attempt")
    before = conn.total_changes
    conn.executemany(
        "INSERT OR IGNORE INTO rows (campaign, instruction_id, row_label, callee, payload_hash, state,"
        " updated_at, wave, base_id, payload) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)", full)
    added = conn.total_changes - before
    conn.executemany("INSERT OR IGNORE INTO callees VALUES (?, ?, ?)",
                     [(n, campaign, r[1]) for r in full for n in _numbers(r[3])])
    conn.execute("COMMIT")
    return added


def make_rows(n: int, key: str = "a1b2c3d4", *, payloads: bool = True):
    """N register tuples shaped like send_campaign's: id, label, callee, hash, payload, wave, base.

    In a fixed shuffled order: a real list is not sorted by its instruction ids.
    """
    order = list(range(n))
    random.Random(15).shuffle(order)
    for i in order:
        iid = f"big-{key}-316{i:08d}-{i}"
        payload = (b'{"callee":"+316%08d","caller":"+31201234567","prompt":"Hello, this is a reminder",'
                   b'"instruction-id":"%s"}' % (i, iid.encode())) if payloads else None
        yield (iid, str(i), f"+316{i:08d}", f"{i:064x}", payload, 1, iid)


def step(name: str, path: str, n: int) -> dict:
    """One measured step, run in this (fresh) process; returns its figures."""
    from cmvoice_nb.campaign.journal import Journal

    out: dict = {"floor_mib": _rss_mib()}  # the interpreter with cmvoice_nb (and pandas) imported
    t0, c0 = time.perf_counter(), time.process_time()
    if name == "baseline":
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        for statement in filter(str.strip, SCHEMA_V3.split(";")):
            conn.execute(statement)
        conn.execute("PRAGMA user_version=3")
        rows = list(make_rows(n))
        t0, c0 = time.perf_counter(), time.process_time()
        out["added"] = per_row_register(conn, "big", rows)
        conn.close()
    elif name in ("register", "register-payloads"):
        j = Journal(path)
        j.ensure_campaign("big", app="notification")
        if name == "register":  # as send_campaign calls it: a generator, no payload
            out["added"] = j.register("big", make_rows(n, payloads=False))
        else:
            rows = list(make_rows(n))
            t0, c0 = time.perf_counter(), time.process_time()
            out["added"] = j.register("big", rows)
        j.close()
    elif name == "generate":  # what the streamed register's time includes: making the N tuples
        out["added"] = sum(1 for _ in make_rows(n, payloads=False))
    elif name == "queue-half":
        j = Journal(path)
        with j._tx() as c:  # an earlier run queued the even rows
            c.execute("UPDATE rows SET state = 'queued', call_ids = 'call-' || row_label, sent_at = updated_at,"
                      " attempts = 1, http_status = 200 WHERE CAST(row_label AS INTEGER) % 2 = 0")
        j.close()
    elif name == "resume":
        # The numbers send_campaign asks about: those of the rows it may still send (the odd half).
        numbers = {f"+316{i:08d}" for i in range(1, n, 2)}
        t0, c0 = time.perf_counter(), time.process_time()
        j = Journal(path)
        j.lock()
        j.ensure_campaign("big", app="notification")
        j.recover("big")
        statuses = j.statuses("big")
        live = j.live_callees(numbers)
        out["records"], out["live"] = len(statuses), len(live)
        assert sum(s.state == "queued" for s in statuses.values()) == (n + 1) // 2
        j.close()
    elif name == "resume-before":
        j = Journal(path)
        j.lock()
        j.ensure_campaign("big", app="notification")
        j.recover("big")
        records = j.load("big")
        called = j.called_numbers()
        out["records"], out["live"] = len(records), len(called)
        j.close()
    out["seconds"] = time.perf_counter() - t0
    out["cpu"] = time.process_time() - c0
    out["rss_mib"] = _rss_mib()
    return out


def _rss_mib() -> float:
    """Peak resident memory of this process so far, MiB (0 where the OS does not say)."""
    if resource is None:
        return 0.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (2**20 if sys.platform == "darwin" else 2**10)


def run(name: str, path: Path, n: int) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--step", name, "--path", str(path), "--rows", str(n)],
                          check=True, capture_output=True, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--baseline-rows", type=int, default=None, help="rows for the baseline (default: --rows)")
    ap.add_argument("--step", help=argparse.SUPPRESS)
    ap.add_argument("--path", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.step:
        print(json.dumps(step(a.step, a.path, a.rows)))
        return 0
    n, nb = a.rows, a.baseline_rows or a.rows
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base = run("baseline", tmp / "baseline.sqlite", nb)
        same = run("register-payloads", tmp / "payloads.sqlite", n)
        reg = run("register", tmp / "journal.sqlite", n)
        gen = run("generate", tmp / "unused.sqlite", n)
        assert base["added"] == nb and same["added"] == reg["added"] == n, (base, same, reg)
        sizes = {k: (tmp / f"{k}.sqlite").stat().st_size for k in ("baseline", "payloads", "journal")}
        run("queue-half", tmp / "journal.sqlite", n)
        res = run("resume", tmp / "journal.sqlite", n)
        old = run("resume-before", tmp / "journal.sqlite", n)
        assert res["records"] == old["records"] == n, (res, old)

    def line(label: str, rows: int, f: dict) -> str:
        rss = f" | {f['rss_mib']:,.0f} MiB" if f["rss_mib"] else " | n/a"
        return f"| {label} | {rows:,} | {f['seconds']:.1f} s | {f['cpu']:.1f} s | {rows / f['seconds']:,.0f}{rss} |"

    print("| step | rows | wall | CPU | rows/s (wall) | peak RSS |")
    print("|---|---|---|---|---|---|")
    print(line("register, before issue 15 (baseline: schema 3, per-row check, payloads)", nb, base))
    print(line("register today, same rows (payloads)", n, same))
    print(line("register today, as send_campaign calls it (no payload, streamed)", n, reg))
    print(line("  of which generating the N tuples (the same generator alone)", n, gen))
    print(line("resume today (open, lock, recover, statuses, live_callees)", n, res))
    print(line("resume as before (open, lock, recover, load, called_numbers)", n, old))
    def ratio(f: dict, rows: int, key: str) -> float:  # rows per second of f over the baseline's
        return (rows / f[key]) / (nb / base[key])

    print(f"\nregister vs the baseline, rows/s by wall clock (by CPU time): same rows "
          f"{ratio(same, n, 'seconds'):.1f}x ({ratio(same, n, 'cpu'):.1f}x), as send_campaign calls it "
          f"{ratio(reg, n, 'seconds'):.1f}x ({ratio(reg, n, 'cpu'):.1f}x)"
          + ("" if n == nb else f" (baseline on {nb:,} rows)"))
    print(f"resume: {old['seconds'] / res['seconds']:.1f}x faster by wall clock "
          f"({old['cpu'] / res['cpu']:.1f}x by CPU), "
          f"peak RSS {res['rss_mib']:,.0f} MiB vs {old['rss_mib']:,.0f} MiB")
    print(f"peak RSS includes the interpreter with cmvoice_nb and pandas imported: {reg['floor_mib']:,.0f} MiB "
          "before any step's work")
    print("journal file after registering: " + ", ".join(f"{k} {v / 2**20:,.0f} MiB" for k, v in sizes.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
