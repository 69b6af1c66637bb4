"""How tests/data/journal-budgets.sqlite was made, with the package at 1b99c8e (budgets, costs and runs; before
the expired and over-contacted states and the validity table).

Run with that version of the package on the path (``PYTHONPATH=<a checkout of 1b99c8e>``). Kept for the record:
it reproduces the file only with that version.
"""
import datetime as dt
import pathlib
import shutil
import sqlite3
import tempfile

import pandas as pd

import cmvoice_nb as cm

out = pathlib.Path(__file__).with_name("journal-budgets.sqlite")
tmp = pathlib.Path(tempfile.mkdtemp())
j = tmp / "j.sqlite"
prices = tmp / "prices.csv"
prices.write_text("country,price_per_minute,setup\nNL,0.60,0.01\n", encoding="utf-8")
defaults = {"caller": "+31201234567", "prompt": "Hello {name}", "prompt-type": "TTS"}
df = pd.DataFrame({"callee": ["+31612345610", "+31612345620", "+31612345630", "+31612345640", "+31612345650"],
                   "name": ["Ann", "Bob", "Cem", "Dora", "Eve"]})
with cm.Simulator(seed=3, speed=1000) as sim:
    # Two calls fit the budget; two rows wait past it; Eve is on the do-not-call list.
    res = cm.send_campaign(df, sim.client(), journal=j, app="notification", name="spring", defaults=defaults,
                           rate=50, progress=False, prices=prices, max_cost=0.05, suppress=["+31612345650"])
    print(res[["status"]].T)
    # An OTP campaign whose row waits for its calling hours (deferred, no wait).
    otp = pd.DataFrame({"callee": ["+31612345660"], "code": ["4711"]})
    clock = dt.datetime(2026, 3, 29, 23, 0, tzinfo=dt.timezone.utc)  # Sunday night in NL
    res2 = cm.send_campaign(otp, sim.client(), journal=j, app="otp", name="codes",
                            defaults={"caller": "+31201234567"}, rate=50, progress=False,
                            calling_hours="09:00-20:00", wait=False, now=clock)
    print(res2[["status"]].T)
con = sqlite3.connect(j)
con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
print(con.execute("PRAGMA user_version").fetchone(),
      con.execute("select campaign, instruction_id, state from rows").fetchall())
con.execute("PRAGMA journal_mode=DELETE")
con.close()
shutil.copy(j, out)
print(out.stat().st_size)
