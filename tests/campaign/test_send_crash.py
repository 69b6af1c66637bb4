"""A send killed with SIGKILL mid-run, then resumed: nobody is called twice, nothing is lost."""
import sqlite3
import subprocess

import pandas as pd
import pytest

from .._wait import kill_when, running, scaled
from ._lists import answering, people, send_command

ROWS = 60


def command(csv, journal, out, base_url):
    return send_command(csv, journal, out, base_url, rate=20, concurrency=4)


@pytest.mark.slow
@pytest.mark.simulator(faults={"latency_s": 0.2})
def test_a_send_killed_mid_run_resumes_without_calling_anyone_twice(tmp_path, sim, token):
    csv = tmp_path / "people.csv"
    people(*answering(ROWS)).to_csv(csv, index=False)
    journal, out = tmp_path / "j.sqlite", tmp_path / "out.csv"
    with running(command(csv, journal, out, sim.base_url), stdout=subprocess.DEVNULL,
                 stderr=subprocess.DEVNULL) as proc:
        kill_when(proc, lambda: len(sim.requests) >= 12, what="12 requests (the run well under way)")
    assert not out.exists()  # it died before writing results

    con = sqlite3.connect(journal)
    at_kill = dict(con.execute("SELECT state, COUNT(*) FROM rows GROUP BY state").fetchall())
    con.close()
    assert at_kill.get("sending", 0) >= 1, at_kill  # it really died mid-request
    assert at_kill.get("pending", 0) >= 1, at_kill  # and with rows still to send

    resumed = subprocess.run(command(csv, journal, out, sim.base_url),
                             capture_output=True, text=True, timeout=scaled(120))
    sim.wait_idle(timeout=scaled(10))
    calls = sim.calls

    results = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(results) == ROWS
    assert set(results["status"]) <= {"queued", "unknown"}
    placed = calls["instruction_id"].value_counts()
    assert placed.max() == 1  # nobody was called twice
    queued = set(results.loc[results["status"] == "queued", "instruction_id"])
    unknown = set(results.loc[results["status"] == "unknown", "instruction_id"])
    assert queued <= set(placed.index)  # every queued row was called exactly once
    assert len(unknown) == at_kill["sending"]  # only the rows in flight at the kill are unknown
    assert (resumed.returncode == 1) == bool(unknown)
    assert "unknown" in resumed.stderr
