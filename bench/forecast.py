"""The one set of counts: what :func:`cmvoice_nb.campaign.forecast` costs before a send, against planning.

``cmvoice send`` now prints, before any call, the plan line and the estimate of what is left,
from the rule the sender acts on: it reads the journal (the records of the campaign, the calls
that may exist to its numbers) and decides every row once more. Figures, all from the same run,
for a list of ``--rows`` people (every tenth a repeat, every fiftieth on the do-not-call list):

1. ``plan_campaign`` of the list (the baseline: what every send pays anyway);
2. ``forecast`` with no journal yet (a first send);
3. ``forecast`` of the same list on a journal that holds every row (a resumed send: every row
   ``already done``), with ``already done`` checked;
4. ``forecast(...).estimate()`` of what is left (the estimate the plan line prints).

Each is the best of ``--repeats``; the ratios are against (1).

Run: ``.venv/bin/python bench/forecast.py [--rows 200000] [--repeats 3]``.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from cmvoice_nb.campaign import Journal, forecast, plan_campaign

DEFAULTS = {"caller": "+31201234567", "prompt": "Hello {name}, your parcel arrives today.", "prompt-type": "TTS"}


def best(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n = args.rows
    numbers: list[str] = []
    for i in range(n):  # every tenth row calls the person of the row before it again
        numbers.append(numbers[-1] if i % 10 == 9 else f"+3161{i:07d}")
    df = pd.DataFrame({"callee": numbers, "name": [f"P{i}" for i in range(n)]})
    dnc = sorted({numbers[i] for i in range(0, n, 50)})

    def plan():
        return plan_campaign(df, app="notification", name="bench", defaults=DEFAULTS, campaign_key="b0000000",
                             suppress=dnc)

    t_plan, p = best(plan, args.repeats)
    t_first, fc = best(lambda: forecast(p), args.repeats)
    with tempfile.TemporaryDirectory() as folder:
        journal = Path(folder) / "j.sqlite"
        with Journal(journal, durable=False) as j:
            j.ensure_campaign("bench", app="notification")
            key = j.campaign_key
            sent = p.rekey(key)
            j.register("bench", ((r.instruction_id, str(r.label), r.callee, r.payload_hash, None, 1, r.instruction_id)
                                 for r, d in zip(sent.rows, fc.decisions, strict=True) if d.action == "send"))
            with j._tx() as c:  # every registered row queued, as a finished first run leaves them
                c.execute("UPDATE rows SET state = 'queued', attempts = 1, call_ids = 'c' WHERE campaign = 'bench'")
        t_resume, again = best(lambda: forecast(p, journal), args.repeats)
    t_estimate, est = best(lambda: fc.estimate(), args.repeats)
    print(f"rows {n:,}: {fc.line()}")
    print(f"resumed:   {again.line()}")
    assert again.counts.get("already done") == fc.counts["to send"] and not again.counts.get("to send")
    print(f"plan_campaign (baseline)        {t_plan:7.2f} s   1.00x")
    print(f"forecast, no journal            {t_first:7.2f} s   {t_first / t_plan:.2f}x of planning")
    print(f"forecast, every row in journal  {t_resume:7.2f} s   {t_resume / t_plan:.2f}x of planning")
    print(f"estimate of what is left        {t_estimate:7.2f} s   {t_estimate / t_plan:.2f}x of planning "
          f"({est.calls:,} calls)")


if __name__ == "__main__":
    main()
