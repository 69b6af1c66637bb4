"""Planning: ``plan_campaign`` against the loop a user would write, on personalised lists.

Frames (built in the child process that times them, so its peak memory counts the frame):

* ``personal`` (the headline): every row a different person — a different mobile number and a
  different name — numbers in five spellings (``+31…``, ``06 1234 5678``, ``0031…``, ``06-…``,
  ``+31 (0)6 …``), 1 % invalid (``12345``), one template ``Hello {name}, …``;
* ``personal-dated``: the same people, in Dutch, with an appointment date among 60 days
  (``09-12-2025``, day-first) and a mostly distinct amount with a decimal comma (``1.250,00``):
  ``Beste {naam}, uw afspraak is op {datum:%-d %B %Y}. U betaalt {bedrag:currency:EUR}.``;
* ``repeated``: the frame of the earlier rounds (about three rows per distinct callee, 5 names ×
  28 dates): rows that repeat, where the grouped planner shares one instruction between equal rows.

Contenders, each in a fresh subprocess (its own peak memory, ``ru_maxrss``, frame included):

* ``plan``: :func:`~cmvoice_nb.campaign.plan_campaign`, timed through ``summary()`` and
  ``problems`` (payload bytes and hashes are read afterwards, timed apart);
* ``naive``: the loop a user would write: for each row ``normalize_number(phone, region="NL")``,
  ``normalize_number(caller)``, the prompt with ``str.format`` (``personal-dated``: the date with
  ``strptime`` and Babel's ``format_date``, the amount with ``Decimal`` and Babel's
  ``format_currency``), ``instruction_from_json("notification", {...})`` and ``validate()``;
* ``reference``: the planner's own per-row path (``plan_rows_reference``);
* ``before`` (with ``--before REF``): ``plan_campaign`` of the package at a git ref, extracted
  with ``git archive`` and imported from there.

Printed per frame: wall and CPU seconds, rows/s, peak RSS (MB) and the ratio of each to the
plan (by wall and by CPU time); whether the plan and the naive loop find the same rows invalid,
and whether the plan and the per-row path give identical rows (ids, validity, problems, payload
bytes and hashes: a SHA-256 over all of them). ``--memory-rows N`` then plans N rows of the
headline frame (or ``--memory-frame``), reads every payload and hash, and registers the rows in a
fresh journal as ``send_campaign`` does: time and peak memory of each step, all processes counted.

Run: ``.venv/bin/python bench/plan_campaign.py [--rows 200000] [--repeats 3] [--memory-rows 1000000]
[--frames personal,personal-dated,repeated] [--before REF]``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CALLER = "+31201234567"
PERSONAL = "Hello {name}, this is Acme Dental: your check-up is tomorrow. Press 1 to hear this again."
DATED = "Beste {naam}, uw afspraak is op {datum:%-d %B %Y}. U betaalt {bedrag:currency:EUR}."
REPEATED = "Hello {name}, see you on {date:%d %B}"
FIRST = ["Anne", "Bram", "Chantal", "Daan", "Eva", "Femke", "Gijs", "Hanna", "Ilse", "Joost", "Kees", "Lotte",
         "Émile", "Søren", "Zoë", "Jürgen"]
LAST = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos",
        "O'Neill", "Müller"]


def _spell(d: str, i: int) -> str:
    return [f"+31{d}", f"0{d[0]} {d[1:5]} {d[5:]}", f"0031{d}", f"06-{d[1:]}", f"+31 (0){d[0]} {d[1:]}"][i % 5]


def personal_frame(n: int, seed: int = 24, *, dated: bool = False):
    """*n* different people: distinct numbers in five spellings (1 % invalid) and distinct names."""
    import pandas as pd

    rnd = random.Random(seed)
    phones, names = [], []
    for i in range(n):
        d = f"6{10_000_000 + i:08d}"
        phones.append("12345" if rnd.random() < 0.01 else _spell(d, i))
        names.append(f"{rnd.choice(FIRST)} {rnd.choice(LAST)} {i}")
    if not dated:
        return pd.DataFrame({"phone": phones, "name": names})
    days = [f"{1 + i % 28:02d}-{12 if i % 2 else 11}-2025" for i in range(60)]
    euros = [rnd.randrange(100, 250_000) for _ in range(n)]
    return pd.DataFrame({"telefoon": phones, "naam": names, "datum": [days[i % 60] for i in range(n)],
                         "bedrag": [f"{e // 100:,}".replace(",", ".") + f",{e % 100:02d}" for e in euros]})


def repeated_frame(n: int, seed: int = 15):
    """The earlier rounds' frame: five spellings of ~n/3 distinct numbers, 1 % invalid, 5 names × 28 dates."""
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


FRAMES = {
    "personal": (lambda n: personal_frame(n), dict(
        columns={"callee": "phone"}, defaults={"caller": CALLER, "prompt": PERSONAL, "prompt-type": "TTS"})),
    "personal-dated": (lambda n: personal_frame(n, dated=True), dict(
        columns={"callee": "telefoon"}, defaults={"caller": CALLER, "prompt": DATED, "prompt-type": "TTS",
                                                  "voice": {"language": "nl-NL"}})),
    "repeated": (lambda n: repeated_frame(n), dict(
        columns={"callee": "phone"}, defaults={"caller": CALLER, "prompt": REPEATED, "prompt-type": "TTS",
                                               "replay-prompt": "Press 1 to hear it again, {name}"})),
}


def plan_options(frame: str) -> dict:
    return dict(app="notification", name="bench", region="NL", campaign_key="abcd1234", **FRAMES[frame][1])


# ------------------------------------------------------------------------------ the naive loops
def naive_loop(frame: str, df) -> list[int]:
    """The loop a user would write; the positions of the rows it finds invalid."""
    from cmvoice_nb.errors import NumberError
    from cmvoice_nb.instructions import instruction_from_json
    from cmvoice_nb.numbers import normalize_number

    invalid = []
    if frame == "personal-dated":
        from datetime import datetime
        from decimal import Decimal

        from babel.dates import format_date
        from babel.numbers import format_currency

        columns = zip(df["telefoon"].tolist(), df["naam"].tolist(), df["datum"].tolist(), df["bedrag"].tolist(),
                      strict=True)
        for i, (phone, name, day, amount) in enumerate(columns):
            try:
                callee = normalize_number(phone, region="NL")
            except NumberError:
                invalid.append(i)
                continue
            caller = normalize_number(CALLER)
            when = format_date(datetime.strptime(day, "%d-%m-%Y"), "d MMMM y", locale="nl_NL")
            euros = format_currency(Decimal(amount.replace(".", "").replace(",", ".")), "EUR", locale="nl_NL")
            prompt = f"Beste {name}, uw afspraak is op {when}. U betaalt {euros}."
            inst = instruction_from_json("notification", {
                "callee": callee, "caller": caller, "prompt": prompt, "prompt-type": "TTS",
                "voice": {"language": "nl-NL"}, "instruction-id": f"bench-{i}"})
            if inst.validate():
                invalid.append(i)
        return invalid
    if frame == "repeated":
        from datetime import datetime

        columns = zip(df["phone"].tolist(), df["name"].tolist(), df["date"].tolist(), strict=True)
        for i, (phone, name, day) in enumerate(columns):
            try:
                callee = normalize_number(phone, region="NL")
            except NumberError:
                invalid.append(i)
                continue
            caller = normalize_number(CALLER)
            prompt = "Hello {name}, see you on {date}".format(
                name=name, date=datetime.strptime(day, "%Y-%m-%d").strftime("%d %B"))
            inst = instruction_from_json("notification", {
                "callee": callee, "caller": caller, "prompt": prompt, "prompt-type": "TTS",
                "replay-prompt": f"Press 1 to hear it again, {name}", "instruction-id": f"bench-{i}"})
            if inst.validate():
                invalid.append(i)
        return invalid
    for i, (phone, name) in enumerate(zip(df["phone"].tolist(), df["name"].tolist(), strict=True)):
        try:
            callee = normalize_number(phone, region="NL")
        except NumberError:
            invalid.append(i)
            continue
        caller = normalize_number(CALLER)
        prompt = PERSONAL.format(name=name)
        inst = instruction_from_json("notification", {"callee": callee, "caller": caller, "prompt": prompt,
                                                      "prompt-type": "TTS", "instruction-id": f"bench-{i}"})
        if inst.validate():
            invalid.append(i)
    return invalid


# ------------------------------------------------------------------------------ one contender
def _peak_mb() -> float:
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # worker processes, if any
    return (own + children) / 1024


def _digest(plan) -> str:
    h = hashlib.sha256()
    for r in plan.rows:
        h.update(repr((r.instruction_id, r.valid, [(p.field, repr(p.value), p.message) for p in r.problems])).encode())
        h.update(r.payload or b"-")
        h.update((r.payload_hash or "-").encode())
    return h.hexdigest()


def _invalid_digest(positions) -> str:
    return hashlib.sha256(",".join(map(str, positions)).encode()).hexdigest()[:16]


def run_one(frame: str, contender: str, n: int, *, digest: bool, memory: bool) -> dict:
    """Time one contender on *n* rows of *frame* in this process; the figures as a dict."""
    import gc

    df = FRAMES[frame][0](n)
    frame_mb = _peak_mb()
    gc.collect()
    out: dict = {"frame": frame, "contender": contender, "rows": n, "frame_peak_mb": frame_mb}
    wall, cpu = time.perf_counter(), time.process_time()
    if contender == "naive":
        invalid = naive_loop(frame, df)
        out.update(wall=time.perf_counter() - wall, cpu=time.process_time() - cpu, peak_mb=_peak_mb(),
                   invalid=len(invalid), invalid_digest=_invalid_digest(invalid))
        return out
    from cmvoice_nb.campaign.plan import _api as plan_module

    options = plan_options(frame)
    if contender == "reference":
        from functools import partial
        from unittest import mock

        with mock.patch.object(plan_module, "_plan_rows", partial(plan_module._plan_rows, fast=False)):
            plan = plan_module.plan_campaign(df, **options)
            summary, problems = plan.summary(), plan.problems
    else:
        plan = plan_module.plan_campaign(df, **options)
        summary, problems = plan.summary(), plan.problems
    out.update(wall=time.perf_counter() - wall, cpu=time.process_time() - cpu, peak_mb=_peak_mb(),
               valid=int(summary["valid"]), problems=len(problems))
    invalid = [i for i, ok in enumerate(r.valid for r in plan.rows) if not ok]
    out.update(invalid=len(invalid), invalid_digest=_invalid_digest(invalid))
    sample = plan.rows[1]
    out["sample"] = json.loads(sample.payload)["prompt"] if sample.valid else None
    if memory:
        wall = time.perf_counter()
        for r in plan.rows:  # what the sender reads of every row it registers and sends
            _ = (r.payload, r.payload_hash)
        out["payload_wall"] = time.perf_counter() - wall
        out["peak_after_payloads_mb"] = _peak_mb()
        from cmvoice_nb.campaign.journal import Journal

        with tempfile.TemporaryDirectory() as tmp, Journal(Path(tmp) / "bench.sqlite") as j:
            wall = time.perf_counter()
            registered = _register(j, plan)
            out["register_wall"] = time.perf_counter() - wall
            out["registered"] = registered
            out["peak_with_journal_mb"] = _peak_mb()
    if digest:
        out["digest"] = _digest(plan)
    return out


def _register(journal, plan) -> int:
    """Register the plan's sendable rows as ``send_campaign`` registers new rows before its first call."""
    rows = getattr(plan.rows, "registration", None)
    if rows is not None:  # the column-wise plan gives the rows' facts from its columns, in id order
        return journal.register(plan.name, rows())
    new = sorted((r for r in plan.rows if r.sendable), key=lambda r: r.instruction_id)
    return journal.register(plan.name, ((r.instruction_id, str(r.label), r.callee, r.payload_hash, None, r.wave,
                                         r.base_id or r.instruction_id) for r in new))


# ------------------------------------------------------------------------------ the parent
def baseline_tree(ref: str, folder: Path) -> Path:
    """The package as it was at *ref*, extracted into *folder*."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "cmvoice_nb"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def child(frame: str, contender: str, n: int, *, path: Path = ROOT, digest: bool = False,
          memory: bool = False) -> dict:
    env = dict(os.environ, PYTHONPATH=str(path))
    args = [sys.executable, str(Path(__file__).resolve()), "--one", frame, contender, str(n)]
    args += ["--digest"] * digest + ["--memory"] * memory
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=7200, cwd=path)
    if out.returncode:
        raise SystemExit(f"{contender} on {frame} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _load() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def compare(frames: list[str], n: int, repeats: int, before: Path | None) -> list[str]:
    """Time every contender on every frame; the frames where the plan's rows differ from the naive loop's or the
    per-row path's."""
    failures: list[str] = []
    for frame in frames:
        contenders = ["plan", "naive", "reference"] + (["before"] if before is not None else [])
        found: dict[str, list] = {c: [] for c in contenders}
        for repeat in range(repeats):  # interleaved: the machine is shared
            for c in contenders:
                found[c].append(child(frame, "plan" if c == "before" else c, n,
                                      path=before if c == "before" else ROOT,
                                      digest=repeat == 0 and c in ("plan", "reference")))
        med = {c: {k: statistics.median(r[k] for r in found[c]) for k in ("wall", "cpu")} for c in contenders}
        plan = med["plan"]
        print(f"--- {frame}: {n:,} rows, median of {repeats} (load average {_load()})")
        print(f"{'contender':<12} {'wall s':>8} {'CPU s':>8} {'rows/s':>10} {'peak MB':>8} {'frame MB':>9} "
              f"{'invalid':>8}  ratio to plan (wall / CPU)")
        for c in contenders:
            rows = found[c]
            print(f"{c:<12} {med[c]['wall']:8.2f} {med[c]['cpu']:8.2f} {n / med[c]['wall']:10,.0f} "
                  f"{max(r['peak_mb'] for r in rows):8.0f} {rows[0]['frame_peak_mb']:9.0f} {rows[0]['invalid']:8,}  "
                  f"{med[c]['wall'] / plan['wall']:6.1f}x / {med[c]['cpu'] / plan['cpu']:5.1f}x")
        print(f"plan_campaign vs the naive loop: {med['naive']['wall'] / plan['wall']:.1f}x by wall clock, "
              f"{med['naive']['cpu'] / plan['cpu']:.1f}x by CPU time"
              + (" (target >= 10x by wall clock)" if frame == "personal" else ""))
        same_invalid = found["plan"][0]["invalid_digest"] == found["naive"][0]["invalid_digest"]
        same_rows = found["plan"][0]["digest"] == found["reference"][0]["digest"]
        if not (same_invalid and same_rows):
            failures.append(frame)
        print(f"same rows invalid as the naive loop: {same_invalid}; identical rows, problems, payloads and hashes "
              f"as the per-row path: {same_rows}; row 2 says {found['plan'][0]['sample']!r}", flush=True)
    return failures


def memory_run(frame: str, n: int, before: Path | None) -> None:
    print(f"--- {frame}: {n:,} rows planned, every payload and hash read, registered in a fresh journal "
          f"(load average {_load()})")
    for name, path in [("plan", ROOT)] + ([("before", before)] if before is not None else []):
        r = child(frame, "plan", n, path=path, memory=True)
        print(memory_line(f"{name:<8}", r, target="target <= 1,000 MB for 1,000,000 rows"), flush=True)


def memory_line(name: str, r: dict, *, target: str) -> str:
    """One contender's memory run: plan, payloads read, registration, each with the peak so far."""
    return (f"{name} frame {r['frame_peak_mb']:5.0f} MB; plan {r['wall']:6.2f} s (CPU {r['cpu']:6.2f} s), "
            f"peak {r['peak_mb']:5.0f} MB; payloads + hashes read {r['payload_wall']:5.2f} s, peak "
            f"{r['peak_after_payloads_mb']:5.0f} MB; {r['registered']:,} rows registered in "
            f"{r['register_wall']:5.2f} s, peak {r['peak_with_journal_mb']:5.0f} MB (all processes; {target})")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--frames", default="personal,personal-dated,repeated")
    ap.add_argument("--memory-rows", type=int, default=1_000_000, help="0: no memory run")
    ap.add_argument("--memory-frame", default="personal", choices=sorted(FRAMES))
    ap.add_argument("--before", default=None, help="a git ref: also time plan_campaign as it was there")
    ap.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    ap.add_argument("--digest", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.one:
        frame, contender, n = args.one
        print(json.dumps(run_one(frame, contender, int(n), digest=args.digest, memory=args.memory)))
        return 0
    print(f"machine: {os.cpu_count()} cores; load average {_load()}")
    with tempfile.TemporaryDirectory(prefix="cmvoice-before-") as folder:
        before = baseline_tree(args.before, Path(folder)) if args.before else None
        failures = compare([f for f in args.frames.split(",") if f], args.rows, args.repeats, before) \
            if args.rows else []
        if args.memory_rows:
            memory_run(args.memory_frame, args.memory_rows, before)
    if failures:  # the figures above mean nothing if the plan did not find what the loop found
        raise SystemExit(f"FAILED: the plan's invalid rows or rows differ on {', '.join(failures)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
