"""Planning: ``plan_campaign`` vs the naive per-row loop on a large list (issue 15).

The frame has numbers in five spellings (``+31…``, ``06 1234 5678``, ``0031…``, a
spreadsheet float, ``+31 (0)6-…``), about a third as many distinct callees as rows, 1 % invalid
numbers, and two template prompts filled per row. Contenders, each in a fresh subprocess
(so peak memory, ``ru_maxrss``, is its own):

* ``fast``: :func:`~cmvoice_nb.campaign.plan_campaign` as shipped;
* ``naive``: the same planner with its row planning swapped for the plain per-row path
  (``plan_rows_reference``: ``normalize_number`` + ``instruction_from_json`` + ``validate``
  for every row, which is what ``plan_campaign`` did before issue 15).

Printed: wall seconds and CPU seconds of ``plan_campaign``, rows/s, peak RSS of the process (the
frame included), then the time to read every row's payload bytes and hash as the sender does (the
column-wise plan fills them in on demand; the per-row path built them while planning), the ratios
by wall and by CPU time (the CPU ratio is the steadier one on a shared machine), and whether the
two gave identical problems and payloads (a SHA-256 over every row's id, validity, problems and
payload bytes).

Run: ``.venv/bin/python bench/plan_campaign.py [--rows 1000000]``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import subprocess
import sys
import time
from pathlib import Path

OPTIONS = dict(app="notification", name="bench", region="NL", campaign_key="abcd1234", columns={"callee": "phone"},
               defaults={"caller": "+31201234567", "prompt": "Hello {name}, see you on {date:%d %B}",
                         "prompt-type": "TTS", "replay-prompt": "Press 1 to hear it again, {name}"})


def make_frame(n: int, seed: int = 15):
    """*n* rows: five spellings of ~n/3 distinct mobile numbers, 1 % invalid, template columns."""
    import pandas as pd

    rnd = random.Random(seed)
    pool = [f"6{rnd.choice('1234')}{rnd.randrange(10**6, 10**7)}" for _ in range(max(1, n // 3))]
    phones: list = []
    for i in range(n):
        d = rnd.choice(pool)
        if rnd.random() < 0.01:
            phones.append(rnd.choice(["12345", "+31 6 12ab", f"+31{d}99"]))
            continue
        phones.append([f"+31{d}", f"0{d[0]} {d[1:5]} {d[5:]}", f"0031{d}", float(f"31{d}"),
                       f"+31 (0){d[0]}-{d[1:]}"][i % 5])
    return pd.DataFrame({"phone": pd.Series(phones, dtype=object),
                         "name": [rnd.choice(["Ann", "Bob", "Cas", "Dee", "Eve"]) for _ in range(n)],
                         "date": [f"2024-05-{1 + i % 28:02d}" for i in range(n)]})


def _digest(plan) -> str:
    h = hashlib.sha256()
    for r in plan.rows:
        h.update(repr((r.instruction_id, r.valid, [(p.field, repr(p.value), p.message) for p in r.problems])).encode())
        h.update(r.payload or b"-")
    return h.hexdigest()


def run_one(contender: str, n: int, *, journal: bool = False) -> dict:
    """Plan *n* rows with one contender in this process; the figures as a dict."""
    import resource
    from functools import partial
    from unittest import mock

    from cmvoice_nb.campaign.plan import _api as plan_module

    df = make_frame(n)
    start, cpu = time.perf_counter(), time.process_time()
    if contender == "fast":
        plan = plan_module.plan_campaign(df, **OPTIONS)
    else:
        with mock.patch.object(plan_module, "_plan_rows", partial(plan_module._plan_rows, fast=False)):
            plan = plan_module.plan_campaign(df, **OPTIONS)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    start = time.perf_counter()
    for r in plan.rows:  # what the sender reads of every row it registers and sends
        _ = r.payload, r.payload_hash
    payload_seconds = time.perf_counter() - start
    start = time.perf_counter()
    for r in plan.rows:  # a frozen row keeps what it computed: a second read is a lookup
        _ = r.payload, r.payload_hash
    again_seconds = time.perf_counter() - start
    peak_after_payloads = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    s = plan.summary()
    out = {"contender": contender, "rows": n, "seconds": seconds, "cpu": cpu, "payload_seconds": payload_seconds,
           "again_seconds": again_seconds, "peak_mb": peak / 1024, "peak_after_payloads_mb": peak_after_payloads / 1024,
           "valid": int(s["valid"]), "problems": int(s["problems"]), "digest": _digest(plan)}
    if journal:
        import tempfile

        from cmvoice_nb.campaign.journal import Journal

        with tempfile.TemporaryDirectory() as tmp, Journal(Path(tmp) / "bench.sqlite") as j:
            start = time.perf_counter()
            # the rows as send_campaign registers them before its first call: in id order, payloads stored when sent
            new = sorted((r for r in plan.rows if r.sendable), key=lambda r: r.instruction_id)
            j.register(plan.name, ((r.instruction_id, str(r.label), r.callee, r.payload_hash, None, r.wave,
                                    r.base_id or r.instruction_id) for r in new))
            out["register_seconds"] = time.perf_counter() - start
            out["peak_with_journal_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--one", choices=["fast", "naive"], help=argparse.SUPPRESS)
    ap.add_argument("--journal", action="store_true",
                    help="then register the plan's rows in a fresh journal (as send_campaign does) and print the "
                         "peak memory of the plan and its journal together")
    args = ap.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.rows, journal=args.journal)))
        return 0
    results = {}
    for contender in ("fast", "naive"):
        out = subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--one", contender]
                             + (["--journal"] if args.journal else []),
                             check=True, capture_output=True, text=True).stdout
        results[contender] = r = json.loads(out.strip().splitlines()[-1])
        print(f"{contender:6s} {r['rows']:>9,} rows  {r['seconds']:8.2f} s (CPU {r['cpu']:7.2f} s)  "
              f"{r['rows'] / r['seconds']:>9,.0f} rows/s  peak {r['peak_mb']:7.0f} MB  "
              f"then payloads+hashes {r['payload_seconds']:5.2f} s (again {r['again_seconds']:4.2f} s, peak "
              f"{r['peak_after_payloads_mb']:5.0f} MB)  valid {r['valid']:,}  problems {r['problems']:,}")
        if "register_seconds" in r:
            print(f"       then registered in a fresh journal in {r['register_seconds']:.2f} s: "
                  f"peak of the plan and its journal {r['peak_with_journal_mb']:.0f} MB")
    fast, naive = results["fast"], results["naive"]
    with_payloads = (naive['seconds'] + naive['payload_seconds']) / (fast['seconds'] + fast['payload_seconds'])
    print(f"ratio  {naive['seconds'] / fast['seconds']:.1f}x by wall clock, {naive['cpu'] / fast['cpu']:.1f}x by CPU "
          f"time; with every payload read: {with_payloads:.1f}x; "
          f"identical problems and payloads: {fast['digest'] == naive['digest']}")
    return 0 if fast["digest"] == naive["digest"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
