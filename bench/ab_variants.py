"""What an A/B test costs in planning: ``plan_campaign`` with ``variants=`` and ``holdout=`` against without.

The variants are a layer around the core planner: it plans the whole list once per variant (so
column-wide decisions, how a date column reads, are the same for every variant), hashes each
person to a variant, and takes each row from its variant's plan. Figures, all from the same run,
for a list of ``--rows`` people with a template prompt:

1. ``plan_campaign`` without a test (the baseline);
2. the same list with two variants (A, B) and a 10 % holdout;
3. the same with three variants.

Each is the best of ``--repeats``; the ratios are against (1).

Run: ``.venv/bin/python bench/ab_variants.py [--rows 200000] [--repeats 3]``.
"""
from __future__ import annotations

import argparse
import time

import pandas as pd

from cmvoice_nb.campaign import plan_campaign

DEFAULTS = {"caller": "+31201234567", "prompt": "Hello {name}, your parcel arrives today.", "prompt-type": "TTS"}


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    df = pd.DataFrame({"callee": [f"+3161{i:07d}" for i in range(args.rows)],
                       "name": [f"P{i % 997}" for i in range(args.rows)]})

    def plan(**options):
        return plan_campaign(df, app="notification", name="bench", campaign_key="k0000000", defaults=DEFAULTS,
                             **options)

    two = {"A": {}, "B": {"prompt": "Good afternoon {name}: your parcel arrives today."}}
    three = {**two, "C": {"prompt": "{name}, your parcel is on its way."}}
    base = best(plan, args.repeats)
    ab = best(lambda: plan(variants=two, holdout=0.1, seed=1), args.repeats)
    abc = best(lambda: plan(variants=three, holdout=0.1, seed=1), args.repeats)
    print(f"rows: {args.rows:,}")
    print(f"plan_campaign, no test:                {base:7.2f} s  1.00x")
    print(f"two variants and a 10 % holdout:       {ab:7.2f} s  {ab / base:4.2f}x")
    print(f"three variants and a 10 % holdout:     {abc:7.2f} s  {abc / base:4.2f}x")


if __name__ == "__main__":
    main()
