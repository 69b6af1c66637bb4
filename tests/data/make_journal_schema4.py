"""How tests/data/journal-schema4.sqlite was made, with the package at ce0a9f5 (before the budget state).

Kept for the record: it reproduces the file only with that version of the package.
"""
import datetime as dt
import pathlib
import shutil
import sqlite3
import tempfile

import pandas as pd

import cmvoice_nb as cm

out = pathlib.Path(__file__).with_name("journal-schema4.sqlite")
tmp = pathlib.Path(tempfile.mkdtemp())
j = tmp / "j.sqlite"
defaults = {"caller": "+31201234567", "prompt": "Hello {name}", "prompt-type": "TTS"}
df = pd.DataFrame({"callee": ["+31612345610", "+31612345609", "+31612345611", "+31612345612", "+31612345613"],
                   "name": ["Ann", "Bob", "Cem", "Dora", "Eve"], "Klant": ["1", "2", "3", "4", "5"]})
with cm.Simulator(seed=3, speed=1000) as sim:
    res = cm.send_campaign(df, sim.client(), journal=j, app="notification", name="spring", defaults=defaults,
                           rate=50, progress=False, keep=["Klant"], suppress=["+31612345613"])
    print(res[["status"]].T)
    # a second campaign whose row waits for calling hours (deferred, no wait)
    df2 = pd.DataFrame({"callee": ["+31612345620"], "name": ["Fay"]})
    clock = dt.datetime(2026, 3, 29, 23, 0, tzinfo=dt.timezone.utc)  # Sunday night in NL
    res2 = cm.send_campaign(df2, sim.client(), journal=j, app="notification", name="autumn", defaults=defaults,
                            rate=50, progress=False, calling_hours="09:00-20:00", wait=False, now=clock)
    print(res2[["status"]].T)
    placed = sim.calls
    calls = [{"call-id": c, "instruction-id": i, "result": {"code": int(r)}, "finished-on": "2026-03-30T10:00:00Z"}
             for c, i, r in zip(placed["call_id"], placed["instruction_id"], placed["result_code"], strict=True)]
    wave = cm.plan_followup(j, calls, campaign="spring", now="2026-03-30T11:00:00Z")
    res3 = cm.send_campaign(wave, sim.client(), journal=j, rate=50, progress=False)
    print(res3[["status"]].T)
con = sqlite3.connect(j)
con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
print(con.execute("PRAGMA user_version").fetchone(),
      con.execute("select campaign, instruction_id, state, wave from rows").fetchall())
print(con.execute("select sql from sqlite_master where name='rows'").fetchone()[0][:400])
con.execute("PRAGMA journal_mode=DELETE")
con.close()
shutil.copy(j, out)
print(out.stat().st_size)
