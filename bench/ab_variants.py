"""What an A/B test costs in planning: ``plan_campaign`` with ``variants=`` and ``holdout=`` against without.

The variants are a layer around the core planner: it plans the whole list once per variant (so
column-wide decisions, how a date column reads, are the same for every variant), hashes each
person to a variant, and takes each row from its variant's plan, as columns. The list is
``bench/plan_campaign.py``'s headline frame (``personal``: every row a different person, numbers
in five spellings, 1 % invalid, ``Hello {name}, …``); its frames, child processes, peak-memory
count and journal registration are reused from there. Each contender runs in a fresh subprocess:

* ``plain``: ``plan_campaign`` without a test (the baseline);
* ``ab``: the same list with two variants (A: the list's prompt, B: another text) and a 10 % holdout;
* ``ab3`` (``--three``): three variants and a 10 % holdout;
* with ``--before REF``: ``plain`` and ``ab`` of the package at a git ref, in the same run.

Printed: the median wall and CPU seconds of ``--repeats`` runs (interleaved) and the ratio of the
A/B plan to the plain plan of the same package; whether the A/B plan's rows (ids, variants,
validity, problems, payloads and hashes: one SHA-256) are the same before and after. Then
``--memory-rows N`` (default 1,000,000) plans the A/B list, reads every payload and hash,
registers the sendable rows in a fresh journal and stores each person's variant, as
``send_campaign`` does: time and peak memory (all processes, the frame included) of each step,
against the plain plan's run of ``bench/plan_campaign.py``.

Run: ``.venv/bin/python bench/ab_variants.py [--rows 200000] [--repeats 3] [--memory-rows 1000000]
[--before main] [--three]``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import plan_campaign as planbench  # bench/plan_campaign.py: frames, peak memory, registration, baselines

ROOT = planbench.ROOT
FRAME = "personal"
TWO = {"A": {}, "B": {"prompt": "Good afternoon {name}: Acme Dental expects you tomorrow. Press 1 to hear this again."}}
THREE = {**TWO, "C": {"prompt": "{name}, your check-up at Acme Dental is tomorrow."}}
DESIGNS = {"plain": None, "ab": TWO, "ab3": THREE}


def _digest(plan) -> str:
    h = hashlib.sha256()
    for r in plan.rows:
        h.update(repr((r.instruction_id, r.variant, r.valid, [(p.field, repr(p.value), p.message)
                                                                for p in r.problems])).encode())
        h.update(r.payload or b"-")
        h.update((r.payload_hash or "-").encode())
    return h.hexdigest()


def run_one(contender: str, n: int, *, digest: bool, memory: bool) -> dict:
    """Plan *n* rows of the headline frame as *contender* in this process; the figures as a dict."""
    import gc

    from cmvoice_nb.campaign import plan_campaign

    df = planbench.FRAMES[FRAME][0](n)
    out: dict = {"contender": contender, "rows": n, "frame_peak_mb": planbench._peak_mb()}
    gc.collect()
    design = DESIGNS[contender]
    extra = {} if design is None else {"variants": design, "holdout": 0.1, "seed": 1}
    wall, cpu = time.perf_counter(), time.process_time()
    plan = plan_campaign(df, **planbench.plan_options(FRAME), **extra)
    summary = plan.summary()
    out.update(wall=time.perf_counter() - wall, cpu=time.process_time() - cpu, peak_mb=planbench._peak_mb(),
               to_send=int(summary["to_send"]), holdout=int(summary.get("holdout", 0)))
    if memory:
        wall = time.perf_counter()
        for r in plan.rows:  # what the sender reads of every row it registers and sends
            _ = (r.payload, r.payload_hash)
        out["payload_wall"] = time.perf_counter() - wall
        out["peak_after_payloads_mb"] = planbench._peak_mb()
        from cmvoice_nb.campaign.journal import Journal

        with tempfile.TemporaryDirectory() as tmp, Journal(Path(tmp) / "bench.sqlite") as j:
            wall = time.perf_counter()
            out["registered"] = planbench._register(j, plan)
            if design is not None:  # each person's variant, as send_campaign keeps it
                rows = plan.rows
                j.assign_variants(plan.name, rows.variant_pairs() if hasattr(rows, "variant_pairs") else
                                  ((r.base_id or r.instruction_id, r.variant) for r in rows))
            out["register_wall"] = time.perf_counter() - wall
            out["peak_with_journal_mb"] = planbench._peak_mb()
    if digest:
        out["digest"] = _digest(plan)
    return out


def child(contender: str, n: int, *, path: Path = ROOT, digest: bool = False, memory: bool = False) -> dict:
    env = dict(os.environ, PYTHONPATH=str(path))
    args = [sys.executable, str(Path(__file__).resolve()), "--one", contender, str(n)]
    args += ["--digest"] * digest + ["--memory"] * memory
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=7200, cwd=path)
    if out.returncode:
        raise SystemExit(f"{contender} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def compare(n: int, repeats: int, before: Path | None, three: bool) -> bool:
    """Time the plain and the A/B plans (and the package at *before*); True when the A/B rows are the same."""
    runs = [("plain", ROOT, "plain"), ("ab", ROOT, "ab")] + ([("ab3", ROOT, "ab3")] if three else [])
    if before is not None:
        runs += [("before plain", before, "plain"), ("before ab", before, "ab")]
    found: dict[str, list] = {name: [] for name, _, _ in runs}
    for repeat in range(repeats):  # interleaved: the machine is shared
        for name, path, contender in runs:
            found[name].append(child(contender, n, path=path, digest=repeat == 0 and contender == "ab"))
    med = {name: {k: statistics.median(r[k] for r in rs) for k in ("wall", "cpu")} for name, rs in found.items()}
    print(f"--- {FRAME}: {n:,} different people, median of {repeats} (load average {planbench._load()})")
    print(f"{'contender':<14} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'to send':>9} {'holdout':>8}  "
          "A/B : plain of the same package (wall / CPU)")
    for name, _, _ in runs:
        base = med["before plain" if name.startswith("before") else "plain"]
        rs = found[name]
        print(f"{name:<14} {med[name]['wall']:8.2f} {med[name]['cpu']:8.2f} {max(r['peak_mb'] for r in rs):8.0f} "
              f"{rs[0]['to_send']:9,} {rs[0]['holdout']:8,}  {med[name]['wall'] / base['wall']:5.2f}x / "
              f"{med[name]['cpu'] / base['cpu']:5.2f}x")
    if before is None:
        return True
    same = found["ab"][0]["digest"] == found["before ab"][0]["digest"]
    print(f"A/B plan: identical ids, variants, validity, problems, payloads and hashes before and after: {same}")
    return same


def memory_run(n: int, before: Path | None) -> None:
    print(f"--- {FRAME}: {n:,} rows planned with two variants and a 10 % holdout, every payload and hash read, "
          f"registered in a fresh journal with each person's variant (load average {planbench._load()})")
    runs = [("plain", ROOT, "plain"), ("ab", ROOT, "ab")]
    runs += [("before ab", before, "ab")] if before is not None else []
    for name, path, contender in runs:
        r = child(contender, n, path=path, memory=True)
        print(planbench.memory_line(f"{name:<10}", r, target="target <= 1,000 MB"), flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--memory-rows", type=int, default=1_000_000, help="0: no memory run")
    ap.add_argument("--before", default=None, help="a git ref: also plan as the package did there")
    ap.add_argument("--three", action="store_true", help="also three variants")
    ap.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--digest", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        contender, n = args.one
        print(json.dumps(run_one(contender, int(n), digest=args.digest, memory=args.memory)))
        return 0
    print(f"machine: {os.cpu_count()} cores; load average {planbench._load()}")
    with tempfile.TemporaryDirectory(prefix="cmvoice-before-") as folder:
        before = planbench.baseline_tree(args.before, Path(folder)) if args.before else None
        same = compare(args.rows, args.repeats, before, args.three) if args.rows else True
        if args.memory_rows:
            memory_run(args.memory_rows, before)
    if not same:
        raise SystemExit("FAILED: the A/B plan's rows differ from the package's at --before")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
