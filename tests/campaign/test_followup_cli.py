"""``cmvoice followup`` end to end: simulator, receiver, journal; exit codes; a kill -9 mid-wave."""
import sqlite3
import subprocess

import pandas as pd
import pytest

from cmvoice_nb.callbacks import load_callbacks
from cmvoice_nb.campaign import send_campaign
from cmvoice_nb.cli import main

from .._wait import cmvoice, kill_when, running, scaled
from ._lists import notification_defaults

#: Calls end at once, so each wave's callbacks are in before the next is planned.
pytestmark = pytest.mark.simulator(speed=1000.0)


def first_wave(sim, receiver, tmp_path, callees):
    df = pd.DataFrame({"callee": callees})
    send_campaign(df, sim.client(), journal=tmp_path / "j.sqlite", app="notification", name="spring",
                  defaults=notification_defaults("Hello", callback_url=receiver.url),
                  rate=500.0, burst=50, progress=False)
    sim.wait_idle(scaled(30))
    receiver.wait_for(sim.placed_count(), timeout=scaled(30))
    calls = load_callbacks(tmp_path / "callbacks.jsonl", warn=False)
    return (calls["finished_on"].max() + pd.Timedelta(minutes=31)).isoformat()


def followup(tmp_path, sim, now, *extra, out="wave2.csv"):
    return ["followup", "--journal", str(tmp_path / "j.sqlite"), "--callbacks", str(tmp_path / "callbacks.jsonl"),
            "--now", now, "-o", str(tmp_path / out), "--rate", "500", "--base-url", sim.base_url, "--no-progress",
            *extra]


def test_followup_calls_the_unanswered_and_writes_the_waves_results(sim, receiver, tmp_path, token, capsys):
    now = first_wave(sim, receiver, tmp_path, ["+31612340109", "+31612340211", "+31612340310", "+31612340412"])
    assert main(followup(tmp_path, sim, now)) == 0
    err = capsys.readouterr().err
    assert "2 row(s) to call in wave 2" in err and "answered 1" in err and "rejected 1" in err
    out = pd.read_csv(tmp_path / "wave2.csv", dtype=str, keep_default_na=False)
    assert out["wave"].tolist() == ["2", "2"] and out["status"].tolist() == ["queued", "queued"]
    assert sorted(out["callee"]) == ["+31612340109", "+31612340211"]
    assert all(i.endswith("-w2") for i in out["instruction_id"])
    placed = sim.calls
    assert placed["instruction_id"].is_unique and len(placed) == 6
    # The same command again, once wave 2 reported back (the simulator is fast): wave 3; then nobody
    # is due, the default --max-attempts 3 being reached.
    receiver.wait_for(6, timeout=scaled(30))
    assert main(followup(tmp_path, sim, now, out="wave3.csv")) == 0
    assert "2 row(s) to call in wave 3" in capsys.readouterr().err
    receiver.wait_for(8, timeout=scaled(30))
    assert main(followup(tmp_path, sim, now, out="wave4.csv")) == 0
    err = capsys.readouterr().err
    assert "nobody is due" in err and "max attempts 2" in err
    assert sim.calls.groupby("callee").size().to_dict() == {
        "+31612340109": 3, "+31612340211": 3, "+31612340310": 1, "+31612340412": 1}


def test_a_dry_run_shows_the_wave_and_sends_nothing(sim, receiver, tmp_path, no_token_env, capsys):
    now = first_wave(sim, receiver, tmp_path, ["+31612340109", "+31612340310"])
    n = sim.placed_count()
    assert main(followup(tmp_path, sim, now, "--dry-run")) == 0
    assert sim.placed_count() == n
    out = pd.read_csv(tmp_path / "wave2.csv", dtype=str, keep_default_na=False)
    assert out["status"].tolist() == ["dry-run"] and out["callee"].tolist() == ["+31612340109"]


def test_the_gap_and_attempts_flags_are_honoured(sim, receiver, tmp_path, token, capsys):
    now = first_wave(sim, receiver, tmp_path, ["+31612340109"])
    assert main(followup(tmp_path, sim, now, "--after", "2h")) == 0
    assert "too recent 1" in capsys.readouterr().err
    assert main(followup(tmp_path, sim, now, "--max-attempts", "1")) == 0
    assert "max attempts 1" in capsys.readouterr().err
    assert main(followup(tmp_path, sim, now, "--outcomes", "Failed")) == 0
    assert "other outcome 1" in capsys.readouterr().err
    assert sim.placed_count() == 1


@pytest.mark.parametrize("flags, message", [
    (["--after", "soon"], "--after must be a duration"),
    (["--outcomes", "Finished"], "--outcomes"),
    (["--now", "yesterday-ish"], "--now must be a time"),
])
def test_bad_flags_exit_2_naming_the_flag(sim, receiver, tmp_path, token, capsys, flags, message):
    now = first_wave(sim, receiver, tmp_path, ["+31612340109"])
    assert main(followup(tmp_path, sim, now, *flags)) == 2
    assert message in capsys.readouterr().err


def test_a_missing_journal_or_token_exits_2(tmp_path, no_token_env, capsys):
    assert main(["followup", "--journal", str(tmp_path / "nope.sqlite"), "--callbacks", str(tmp_path),
                 "-o", str(tmp_path / "o.csv")]) == 2
    assert "no such journal" in capsys.readouterr().err
    assert not (tmp_path / "nope.sqlite").exists()


def test_followup_needs_the_token_like_send(sim, receiver, tmp_path, no_token_env, capsys):
    now = first_wave(sim, receiver, tmp_path, ["+31612340109"])
    assert main(followup(tmp_path, sim, now)) == 2
    assert "CM_PRODUCT_TOKEN" in capsys.readouterr().err


def test_suppress_reads_a_csv_whose_numbers_are_in_the_second_column(sim, receiver, tmp_path, token, capsys):
    now = first_wave(sim, receiver, tmp_path, ["+31612340109", "+31612340211"])
    dnc = tmp_path / "dnc.csv"
    dnc.write_text("name,phone\nAnn,+31 6 1234 0109\nnobody,n/a\n", encoding="utf-8")
    assert main(followup(tmp_path, sim, now, "--suppress", str(dnc))) == 2  # half the list unreadable: not trusted
    assert "line 3: 'n/a': contains letters" in capsys.readouterr().err and len(sim.calls) == 2
    assert main(followup(tmp_path, sim, now, "--suppress", str(dnc), "--allow-unreadable-suppress")) == 0
    err = capsys.readouterr().err
    assert "1 row(s) to call in wave 2" in err and "suppressed 1" in err
    assert "line 3: 'n/a'" in err     # the unreadable entry is said, by line
    out = pd.read_csv(tmp_path / "wave2.csv", dtype=str, keep_default_na=False)
    assert out["callee"].tolist() == ["+31612340211"]
    assert sim.calls.groupby("callee").size().to_dict() == {"+31612340109": 1, "+31612340211": 2}


def test_national_numbers_in_the_suppress_list_are_read_with_region(sim, receiver, tmp_path, token, capsys):
    now = first_wave(sim, receiver, tmp_path, ["+31612340109", "+31612340211"])
    dnc = tmp_path / "dnc.txt"
    dnc.write_text("06 1234 0109\n", encoding="utf-8")
    assert main(followup(tmp_path, sim, now, "--suppress", str(dnc), "--dry-run")) == 2
    assert "national number" in capsys.readouterr().err  # without --region: refused, not silently dropped
    assert main(followup(tmp_path, sim, now, "--suppress", str(dnc), "--region", "NL", "--dry-run")) == 0
    assert "suppressed 1" in capsys.readouterr().err
    out = pd.read_csv(tmp_path / "wave2.csv", dtype=str, keep_default_na=False)
    assert out["callee"].tolist() == ["+31612340211"]


def test_a_missing_suppress_file_exits_2_naming_the_flag(sim, receiver, tmp_path, token, capsys):
    now = first_wave(sim, receiver, tmp_path, ["+31612340109"])
    assert main(followup(tmp_path, sim, now, "--suppress", str(tmp_path / "none.txt"))) == 2
    assert "--suppress" in capsys.readouterr().err
    assert sim.placed_count() == 1


ROWS = 40


@pytest.mark.slow
def test_a_wave_killed_mid_run_resumes_without_calling_anyone_twice(sim, receiver, tmp_path, token):
    callees = [f"+316120{i:03d}{'09' if i % 2 else '11'}" for i in range(ROWS)]  # nobody answers
    now = first_wave(sim, receiver, tmp_path, callees)
    assert sim.placed_count() == ROWS
    sim.set_faults(latency_s=0.2)
    cmd = cmvoice(*followup(tmp_path, sim, now))
    cmd[cmd.index("--rate") + 1] = "20"
    before = len(sim.requests)
    with running(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as proc:
        kill_when(proc, lambda: len(sim.requests) >= before + 12, what="12 requests of wave 2")
    con = sqlite3.connect(tmp_path / "j.sqlite")
    at_kill = dict(con.execute("SELECT state, COUNT(*) FROM rows WHERE wave = 2 GROUP BY state").fetchall())
    con.close()
    assert at_kill.get("sending", 0) >= 1 and at_kill.get("pending", 0) >= 1, at_kill

    # The same command, with a gap that the wave-2 calls already answered are within (the fixed --now
    # is 31 minutes after the last of wave 1 ended; these ended later): the rest of wave 2 goes, no wave 3 yet.
    resumed = subprocess.run(cmd + ["--after", "35m"], capture_output=True, text=True, timeout=scaled(120))
    sim.wait_idle(scaled(30))
    placed = sim.calls
    wave2 = placed[placed["instruction_id"].str.endswith("-w2")]
    assert wave2["callee"].is_unique  # nobody twice in wave 2
    assert placed.groupby("callee").size().max() <= 2  # once per wave
    out = pd.read_csv(tmp_path / "wave2.csv", dtype=str, keep_default_na=False)
    # The resumed run sent exactly the rows the killed one had not sent, under the same wave-2 ids;
    # the rows in flight at the kill are unknown and left out.
    assert len(out) == at_kill["pending"]
    assert set(out["status"]) == {"queued"} and set(out["wave"]) == {"2"}
    assert set(out["callee"]) <= set(wave2["callee"])
    con = sqlite3.connect(tmp_path / "j.sqlite")
    after = dict(con.execute("SELECT state, COUNT(*) FROM rows WHERE wave = 2 GROUP BY state").fetchall())
    con.close()
    assert after == {"queued": ROWS - at_kill["sending"], "unknown": at_kill["sending"]}
    assert f"unknown {at_kill['sending']}" in resumed.stderr
    assert resumed.returncode == 1  # the unknown rows need the operator, as after cmvoice send


def test_a_followup_while_a_send_holds_the_journal_exits_75_and_sends_nothing(sim, receiver, tmp_path, token, capsys):
    from cmvoice_nb.campaign import Journal

    now = first_wave(sim, receiver, tmp_path, ["+31612340109"])
    n = sim.placed_count()
    holder = Journal(tmp_path / "j.sqlite")
    holder.lock()  # another terminal's send, mid-run
    try:
        assert main(followup(tmp_path, sim, now)) == 75  # run the same command again once that send ended
    finally:
        holder.close()
    assert "another send is running" in capsys.readouterr().err
    assert sim.placed_count() == n and not (tmp_path / "wave2.csv").exists()


def test_unreadable_callback_lines_are_skipped_and_said(sim, receiver, tmp_path, token, capsys):
    now = first_wave(sim, receiver, tmp_path, ["+31612340109", "+31612340310"])
    with open(tmp_path / "callbacks.jsonl", "ab") as log:
        log.write(b'{"call-id": "x", "result": {"code": 9\n\xff\xfe not json\n')
    assert main(followup(tmp_path, sim, now)) == 0
    err = capsys.readouterr().err
    assert "2 callback line(s) could not be read" in err
    assert "1 row(s) to call in wave 2" in err
