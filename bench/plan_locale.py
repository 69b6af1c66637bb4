"""Planning a personalised Dutch list: per-column dates and amounts, Babel rendering, vs the planner before them.

The list: every row a different person (name and mobile number), a day-first appointment date
among 60 days (``09-12-2025``), an amount with a decimal comma (``1.250,00``, ``12,50``; mostly
distinct), 1 % invalid numbers. Contenders, each in a fresh subprocess (its own peak memory),
interleaved and repeated, median kept:

* ``before``: the planner at ``--baseline-ref`` (default: the commit before per-column values and
  Babel rendering), its package extracted with ``git archive`` into a temporary folder and
  imported from there; the template it can run: ``{datum:%d %B %Y}`` (read cell by cell,
  month-first where a cell allows it) and ``{bedrag:.2f}`` (the comma dropped);
* ``now, same template``: the current planner on the same template (per-column reading, Babel
  month names and signs);
* ``now, CLDR template``: the current planner on the template an operator now writes,
  ``{datum:%-d %B %Y}`` and ``{bedrag:currency:EUR}`` (Babel's currency pattern);
* ``now, as written``: the current planner with no locale work at all: the date and the amount
  said as the cells write them (``{datum}``, ``{bedrag}``).

Printed: wall and CPU seconds of ``plan_campaign`` through ``summary()`` and ``problems``,
rows/s, peak RSS, and each ratio to ``before`` (< 1.10 is the issue's bound: within 10 %), then
what the locale work costs today: the CLDR template's CPU time over ``now, as written``.

Run: ``.venv/bin/python bench/plan_locale.py [--rows 200000] [--repeats 3] [--baseline-ref REF]``.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE_REF = "dba6129"
SAME = "Beste {naam}, uw afspraak is op {datum:%d %B %Y}. U betaalt {bedrag:.2f} euro."
CLDR = "Beste {naam}, uw afspraak is op {datum:%-d %B %Y}. U betaalt {bedrag:currency:EUR}."
PLAIN = "Beste {naam}, uw afspraak is op {datum}. U betaalt {bedrag} euro."

CHILD = r"""
import gc, json, random, resource, sys, time
import pandas as pd
from cmvoice_nb.campaign import plan_campaign

n, template, seed = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
rnd = random.Random(seed)
first = ["Anne", "Bram", "Chantal", "Daan", "Eva", "Femke", "Gijs", "Hanna", "Ilse", "Joost", "Kees", "Lotte"]
last = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "de Groot", "Bos"]
phones, names = [], []
for i in range(n):
    d = f"6{10_000_000 + i:08d}"
    phones.append("12345" if rnd.random() < 0.01 else [f"+31{d}", f"0{d[0]} {d[1:5]} {d[5:]}", f"0031{d}",
                                                         f"06-{d[1:]}", f"+31 (0){d[0]} {d[1:]}"][i % 5])
    names.append(f"{rnd.choice(first)} {rnd.choice(last)} {i}")
days = [f"{1 + i % 28:02d}-{12 if i % 2 else 11}-2025" for i in range(60)]
euros = [rnd.randrange(100, 250_000) for _ in range(n)]
frame = pd.DataFrame({"telefoon": phones, "naam": names, "datum": [days[i % 60] for i in range(n)],
                      "bedrag": [f"{e // 100:,}".replace(",", ".") + f",{e % 100:02d}" for e in euros]})
options = dict(app="notification", name="bench", region="NL", campaign_key="abcd1234", columns={"callee": "telefoon"},
               defaults={"caller": "+31201234567", "prompt": template, "prompt-type": "TTS",
                         "voice": {"language": "nl-NL"}})
gc.collect()
wall, cpu = time.perf_counter(), time.process_time()
plan = plan_campaign(frame, **options)
summary = plan.summary()
problems = plan.problems
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
sample = plan.rows[1].wire()["prompt"] if plan.rows[1].valid else None
print(json.dumps({"wall": wall, "cpu": cpu, "valid": int(summary["valid"]), "problems": len(problems),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "sample": sample}))
"""


def baseline_tree(ref: str, folder: Path) -> Path:
    """The package as it was at *ref*, extracted into *folder* (returned: the folder to import from)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "cmvoice_nb"], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def run(path: Path, rows: int, template: str) -> dict:
    env = {"PYTHONPATH": str(path), "PATH": "/usr/bin:/bin"}
    # cwd=path: "python -c" puts the working folder first on sys.path.
    out = subprocess.run([sys.executable, "-c", CHILD, str(rows), template, "20"], env=env, capture_output=True,
                         text=True, check=True, timeout=3600, cwd=path)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--baseline-ref", default=BASELINE_REF)
    args = parser.parse_args()
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"]
    print(f"{args.rows:,} distinct personalised rows; baseline {args.baseline_ref}; load average {' '.join(load)}")
    with tempfile.TemporaryDirectory(prefix="cmvoice-baseline-") as folder:
        old = baseline_tree(args.baseline_ref, Path(folder))
        contenders = {"before": (old, SAME), "now, same template": (ROOT, SAME), "now, CLDR template": (ROOT, CLDR),
                      "now, as written": (ROOT, PLAIN)}
        found: dict[str, list] = {k: [] for k in contenders}
        for _ in range(args.repeats):
            for name, (path, template) in contenders.items():
                found[name].append(run(path, args.rows, template))
    base = statistics.median(r["wall"] for r in found["before"])
    base_cpu = statistics.median(r["cpu"] for r in found["before"])
    print(f"{'contender':<22} {'wall s':>8} {'cpu s':>8} {'rows/s':>9} {'peak MB':>8} "
          f"{'wall ratio':>10} {'cpu ratio':>9}")
    for name, results in found.items():
        wall = statistics.median(r["wall"] for r in results)
        cpu = statistics.median(r["cpu"] for r in results)
        peak = max(r["peak_mb"] for r in results)
        print(f"{name:<22} {wall:8.2f} {cpu:8.2f} {args.rows / wall:9,.0f} {peak:8.0f} {wall / base:10.2f}x "
              f"{cpu / base_cpu:8.2f}x")
    cldr, plain = (statistics.median(r["cpu"] for r in found[k]) for k in ("now, CLDR template", "now, as written"))
    print(f"the locale work today: CLDR template / as written = {cldr / plain:.2f}x CPU")
    for name, results in found.items():
        print(f"  {name}: {results[0]['valid']:,} valid; row 2 says: {results[0]['sample']!r}")


if __name__ == "__main__":
    main()
