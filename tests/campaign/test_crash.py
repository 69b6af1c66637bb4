"""A send killed with SIGKILL mid-run, then resumed: nobody is called twice, nothing is lost."""
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pandas as pd
import pytest

from cmvoice_nb.simulator import SIMULATOR_TOKEN, Simulator

ROWS = 60


def command(csv, journal, out, base_url):
    return [sys.executable, "-m", "cmvoice_nb", "send", str(csv), "--app", "notification",
            "--set", "caller=+31201234567", "--set", "prompt=Hello {name}", "--set", "prompt-type=TTS",
            "--journal", str(journal), "-o", str(out), "--rate", "20", "--concurrency", "4",
            "--base-url", base_url, "--no-progress"]


@pytest.mark.slow
def test_a_send_killed_mid_run_resumes_without_calling_anyone_twice(tmp_path):
    csv = tmp_path / "people.csv"
    pd.DataFrame({"callee": [f"+316120{i:03d}10" for i in range(ROWS)],
                  "name": [f"P{i}" for i in range(ROWS)]}).to_csv(csv, index=False)
    journal, out = tmp_path / "j.sqlite", tmp_path / "out.csv"
    env = {**os.environ, "CM_PRODUCT_TOKEN": SIMULATOR_TOKEN}
    with Simulator(seed=11, faults={"latency_s": 0.2}) as sim:
        proc = subprocess.Popen(command(csv, journal, out, sim.base_url), env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            # Poll (not a timing assertion) until the run is well under way, then kill -9.
            deadline = time.monotonic() + 60
            while len(sim.requests) < 12 and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            assert proc.poll() is None, "the send finished before it could be killed"
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert not out.exists()  # it died before writing results

        con = sqlite3.connect(journal)
        at_kill = dict(con.execute("SELECT state, COUNT(*) FROM rows GROUP BY state").fetchall())
        con.close()
        assert at_kill.get("sending", 0) >= 1, at_kill  # it really died mid-request
        assert at_kill.get("pending", 0) >= 1, at_kill  # and with rows still to send

        resumed = subprocess.run(command(csv, journal, out, sim.base_url), env=env,
                                 capture_output=True, text=True, timeout=120)
        sim.wait_idle(timeout=10)
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
