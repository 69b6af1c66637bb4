"""SIGTERM, SIGHUP and Ctrl-C stop ``cmvoice send`` and ``cmvoice followup`` cleanly; a second one stops at once.

Real processes and real signals: the command runs as an operator runs it, a signal is sent
once its run is under way, and the test reads what it left behind — the results file, the
journal and the exit status (75: run the same command again). The same command then finishes
the campaign without calling anyone twice.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess

import pandas as pd
import pytest

from cmvoice_nb.callbacks import load_callbacks
from cmvoice_nb.campaign import send_campaign

from .._wait import cmvoice, running, scaled, wait_until
from ._lists import answering, notification_defaults, notification_flags, people

pytestmark = pytest.mark.slow

#: The signals that stop a run the way Ctrl-C does, where this platform can send them.
SIGNALS = [name for name in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, name)]


def send_command(csv, journal, out, base_url, *extra):
    return cmvoice("send", csv, *notification_flags(), "--journal", journal, "-o", out, "--rate", "10",
                   "--concurrency", "2", "--base-url", base_url, "--no-progress", *extra)


def journal_states(path) -> dict[str, int]:
    con = sqlite3.connect(path)
    try:
        return dict(con.execute("SELECT state, COUNT(*) FROM rows GROUP BY state").fetchall())
    finally:
        con.close()


def read(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.mark.parametrize("name", SIGNALS)
@pytest.mark.simulator(faults={"latency_s": 0.3})
def test_a_signal_stops_the_send_like_ctrl_c_and_the_same_command_finishes_it(name, tmp_path, sim, token):
    rows = 30
    csv, journal, out, err = tmp_path / "people.csv", tmp_path / "j.sqlite", tmp_path / "out.csv", tmp_path / "err"
    people(*answering(rows)).to_csv(csv, index=False)
    with open(err, "w") as stderr, running(send_command(csv, journal, out, sim.base_url), stdout=subprocess.DEVNULL,
                                           stderr=stderr) as proc:
        wait_until(lambda: len(sim.requests) >= 4 or proc.poll() is not None, what="the send under way")
        assert proc.poll() is None, "the send ended before it could be stopped"
        os.kill(proc.pid, getattr(signal, name))
        code = proc.wait(scaled(120))
    said = err.read_text()
    assert code == 75, said  # only stopped rows remain: run the same command again
    results = read(out)
    counts = results["status"].value_counts().to_dict()
    assert set(counts) == {"queued", "skipped"}, counts  # requests in flight finished; nothing lost
    states = journal_states(journal)
    assert states == {"queued": counts["queued"], "pending": counts["skipped"]}  # no request left "sending"
    what = "interrupted (Ctrl-C)" if name == "SIGINT" else f"{name} received"
    assert f"{what}; finishing the requests in flight" in said
    assert f"skipped: {counts['skipped']} rows - not sent because the run ended or was stopped first" in said
    assert "exit status 75" in said

    again = subprocess.run(send_command(csv, journal, out, sim.base_url),
                           capture_output=True, text=True, timeout=scaled(120))
    assert again.returncode == 0, again.stderr
    assert set(read(out)["status"]) == {"queued"}
    assert sim.calls["instruction_id"].value_counts().max() == 1 and len(sim.calls) == rows  # nobody twice


@pytest.mark.simulator(faults={"latency_s": 8.0})
def test_a_second_signal_stops_at_once_and_the_requests_in_flight_end_unknown(tmp_path, sim, token):
    csv, journal, out, err = tmp_path / "people.csv", tmp_path / "j.sqlite", tmp_path / "out.csv", tmp_path / "err"
    people(*answering(10)).to_csv(csv, index=False)
    with open(err, "w") as stderr, running(send_command(csv, journal, out, sim.base_url), stdout=subprocess.DEVNULL,
                                           stderr=stderr) as proc:
        wait_until(lambda: len(sim.requests) >= 2 or proc.poll() is not None, what="two requests in flight")
        os.kill(proc.pid, signal.SIGTERM)
        wait_until(lambda: "finishing the requests in flight" in err.read_text() or proc.poll() is not None,
                   what="the first signal taken")
        os.kill(proc.pid, signal.SIGTERM)
        code = proc.wait(scaled(120))
    said = err.read_text()
    assert code == 75, said  # rows not sent remain: run again (the unknown ones are listed for the operator)
    results = read(out)
    unknown = results[results["status"] == "unknown"]
    assert len(unknown) == 2 and set(results["status"]) == {"unknown", "skipped"}
    assert set(unknown["error"]) == {"the run was stopped at once while its request was in flight: the call may "
                                     "have been placed"}
    assert journal_states(journal) == {"unknown": 2, "pending": 8}  # consistent: nothing left "sending"
    assert "SIGTERM received again; stopping at once" in said and "unknown: 2 rows" in said

    sim.set_faults(latency_s=0)
    again = subprocess.run(send_command(csv, journal, out, sim.base_url),
                           capture_output=True, text=True, timeout=scaled(120))
    assert again.returncode == 1, again.stderr  # the unknown rows wait for the operator's decision
    assert read(out)["status"].value_counts().to_dict() == {"queued": 8, "unknown": 2}
    sim.wait_idle(scaled(30))
    assert sim.calls["instruction_id"].value_counts().max() == 1  # the unknown ones were not called again


@pytest.mark.simulator(speed=1000.0)
def test_sigterm_stops_a_followup_wave_the_same_way(tmp_path, sim, receiver, token):
    numbers = [f"+316123{i:03d}09" for i in range(20)]  # ...09: Cancelled, so all are due again
    send_campaign(pd.DataFrame({"callee": numbers}), sim.client(), journal=tmp_path / "j.sqlite",
                  app="notification", name="spring", defaults=notification_defaults("Hello", callback_url=receiver.url),
                  rate=500.0, burst=50, progress=False)
    sim.wait_idle(scaled(30))
    receiver.wait_for(len(numbers), timeout=scaled(30))
    calls = load_callbacks(tmp_path / "callbacks.jsonl", warn=False)
    now = (calls["finished_on"].max() + pd.Timedelta(minutes=31)).isoformat()
    sim.set_faults(latency_s=0.3)
    before = len(sim.requests)
    out, err = tmp_path / "wave2.csv", tmp_path / "err"
    command = cmvoice("followup", "--journal", tmp_path / "j.sqlite", "--callbacks", tmp_path / "callbacks.jsonl",
                      "--now", now, "-o", out, "--rate", "10", "--concurrency", "2", "--base-url", sim.base_url,
                      "--no-progress")
    with open(err, "w") as stderr, running(command, stdout=subprocess.DEVNULL, stderr=stderr) as proc:
        wait_until(lambda: len(sim.requests) >= before + 3 or proc.poll() is not None, what="the wave under way")
        assert proc.poll() is None, "the wave ended before it could be stopped"
        os.kill(proc.pid, signal.SIGTERM)
        code = proc.wait(scaled(120))
    assert code == 75, err.read_text()
    wave = read(out)
    assert set(wave["status"]) == {"queued", "skipped"} and set(wave["wave"]) == {"2"}
    states = journal_states(tmp_path / "j.sqlite")
    assert states.get("sending", 0) == 0 and states["pending"] == int((wave["status"] == "skipped").sum())


@pytest.mark.simulator(faults={"latency_s": 3.0})
def test_python_stops_the_same_way_when_asked_twice(sim, tmp_path):
    import threading

    from cmvoice_nb.campaign import CampaignSender, plan_campaign
    from cmvoice_nb.campaign.send import run_until_done

    plan = plan_campaign(people(*answering(6)), app="notification", name="c", defaults=notification_defaults())
    sender = CampaignSender(plan, sim.client(), journal=tmp_path / "j.sqlite", rate=50, concurrency=2,
                            progress=False, results_path=tmp_path / "r.csv")
    asked: list[str] = []

    def operator():
        wait_until(lambda: len(sim.requests) >= 2, what="two requests in flight")
        asked.append("stop")
        wait_until(lambda: sender.stopped_by_user, what="the first request taken")
        asked.append("stop at once")

    threading.Thread(target=operator, daemon=True).start()
    run_until_done(sender, interrupts=asked)
    assert sender.abandoned and sender.exit_status == 75
    assert read(tmp_path / "r.csv")["status"].value_counts().to_dict() == {"skipped": 4, "unknown": 2}
    assert journal_states(tmp_path / "j.sqlite") == {"pending": 4, "unknown": 2}
