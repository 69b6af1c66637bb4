"""Identity that survives edits: the operator edits the list and re-runs; nobody is called twice.

Everything runs against the real simulator on loopback and counts calls where they land:
at the simulator, per callee.
"""
import subprocess

import pandas as pd
import pytest

from cmvoice_nb.campaign import Journal
from cmvoice_nb.cli import main

from .._wait import running, scaled, wait_until
from ._lists import answering, notification_flags, people, send_command


def write(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("phone,name\n" + "".join(f"{p},{n}\n" for p, n in rows))
    return path


def send(path, journal, out, base_url, *extra):
    return main(["send", str(path), *notification_flags(), "--map", "callee=phone", "--region", "NL", "--journal",
                 str(journal), "-o", str(out), "--rate", "500", "--no-progress",
                 "--base-url", base_url, *extra])


def placed_per_callee(sim):
    return sim.calls["callee"].value_counts().to_dict()


def by_callee(results_csv):
    out = pd.read_csv(results_csv, dtype=str, keep_default_na=False)
    return out.set_index("callee")


ANN, BOB, CEM, DORA, EVE, NEW = (f"+316123456{i:02d}" for i in (10, 20, 30, 40, 50, 60))
FIRST = [(ANN, "Ann"), ("0612345620", "Bob"), (CEM, "Cem"), (DORA, "Dora"), (EVE, "Eve")]


def test_inserting_deleting_reordering_and_correcting_rows_calls_each_person_once(tmp_path, sim, token, capsys):
    csv, journal = tmp_path / "people.csv", tmp_path / "j.sqlite"
    assert send(write(csv, FIRST), journal, tmp_path / "r1.csv", sim.base_url) == 0
    first = by_callee(tmp_path / "r1.csv")

    # The operator edits the list: a newcomer on top, Cem deleted, Eve moved up, Dora's name corrected.
    edited = [(NEW, "Nina"), (ANN, "Ann"), (EVE, "Eve"), ("+31 6 1234 5620", "Bob"), (DORA, "Dorah")]
    capsys.readouterr()
    assert send(write(csv, edited), journal, tmp_path / "r2.csv", sim.base_url) == 1  # Dora needs attention
    second = by_callee(tmp_path / "r2.csv")

    assert placed_per_callee(sim) == {ANN: 1, BOB: 1, CEM: 1, DORA: 1, EVE: 1, NEW: 1}
    assert second.loc[NEW, "status"] == "queued" and second.loc[NEW, "call_ids"] not in set(first["call_ids"])
    for person in (ANN, BOB, EVE):
        assert second.loc[person, "status"] == "queued"
        assert second.loc[person, "call_ids"] == first.loc[person, "call_ids"]  # their own call, not a neighbour's
        assert second.loc[person, "instruction_id"] == first.loc[person, "instruction_id"]
    assert second.loc[DORA, "status"] == "changed" and second.loc[DORA, "call_ids"] == first.loc[DORA, "call_ids"]
    assert list(second["input_position"]) == ["0", "1", "2", "3", "4"]
    err = capsys.readouterr().err
    assert "3 row(s) were already done" in err
    assert "changed: 1 row" in err and "--resend-changed" in err and "the row changed since it was sent" in err

    # Deliberately: the corrected message goes to Dora again, and to nobody else.
    assert send(csv, journal, tmp_path / "r3.csv", sim.base_url, "--resend-changed") == 0
    assert placed_per_callee(sim) == {ANN: 1, BOB: 1, CEM: 1, DORA: 2, EVE: 1, NEW: 1}
    assert by_callee(tmp_path / "r3.csv").loc[DORA, "status"] == "queued"


def test_correcting_a_wrong_number_calls_the_right_person_once(tmp_path, sim, token):
    csv, journal = tmp_path / "people.csv", tmp_path / "j.sqlite"
    send(write(csv, [(ANN, "Ann"), ("+31612345699", "Bob")]), journal, tmp_path / "r1.csv", sim.base_url)
    send(write(csv, [(ANN, "Ann"), (BOB, "Bob")]), journal, tmp_path / "r2.csv", sim.base_url)
    send(csv, journal, tmp_path / "r3.csv", sim.base_url)
    assert placed_per_callee(sim) == {ANN: 1, "+31612345699": 1, BOB: 1}
    assert set(by_callee(tmp_path / "r3.csv")["status"]) == {"queued"}


def test_the_same_person_under_a_new_campaign_name_on_one_journal_is_not_called_again(tmp_path, sim, token):
    csv, journal = write(tmp_path / "people.csv", FIRST[:2]), tmp_path / "j.sqlite"
    send(csv, journal, tmp_path / "r1.csv", sim.base_url)
    assert send(csv, journal, tmp_path / "r2.csv", sim.base_url, "--name", "renamed") == 1
    second = by_callee(tmp_path / "r2.csv")
    assert set(second["status"]) == {"already-called"}
    assert second.loc[ANN, "call_ids"] == by_callee(tmp_path / "r1.csv").loc[ANN, "call_ids"]
    assert "of campaign 'people'" in second.loc[ANN, "error"]
    assert sim.placed_count() == 2


def test_two_campaigns_with_the_same_file_name_never_share_an_instruction_id(tmp_path, sim, token):
    rows = FIRST[:3]
    a = write(tmp_path / "north" / "people.csv", rows)
    b = write(tmp_path / "south" / "people.csv", rows)
    assert send(a, tmp_path / "north" / "j.sqlite", tmp_path / "north" / "r.csv", sim.base_url) == 0
    assert send(b, tmp_path / "south" / "j.sqlite", tmp_path / "south" / "r.csv", sim.base_url) == 0
    ids = sim.calls["instruction_id"]
    assert len(ids) == 6 and ids.is_unique  # callbacks and the funnel can tell the two apart
    north = pd.read_csv(tmp_path / "north" / "r.csv", dtype=str)
    south = pd.read_csv(tmp_path / "south" / "r.csv", dtype=str)
    assert north["campaign_key"].iloc[0] != south["campaign_key"].iloc[0]
    assert all(len(i) <= 64 for i in ids)


# ---------------------------------------------------------- two processes, one journal
def command(csv, journal, out, base_url):
    return send_command(csv, journal, out, base_url, rate=10, concurrency=2)


@pytest.mark.slow
@pytest.mark.simulator(faults={"latency_s": 0.3})
def test_two_processes_through_a_symlinked_journal_path_one_is_refused_nobody_twice(tmp_path, sim, token):
    rows = 40  # at 10 calls/s and 0.3 s per answer the first run lasts ~6 s: time for the second to start
    csv = tmp_path / "people.csv"
    people(*answering(rows)).to_csv(csv, index=False)
    journal, alias = tmp_path / "j.sqlite", tmp_path / "alias.sqlite"
    with Journal(journal):
        pass  # the journal exists, so the alias can point at it
    alias.symlink_to(journal)
    with running(command(csv, journal, tmp_path / "a.csv", sim.base_url), stdout=subprocess.DEVNULL,
                 stderr=subprocess.PIPE, text=True) as first:
        wait_until(lambda: len(sim.requests) >= 3 or first.poll() is not None, what="the first send under way")
        assert first.poll() is None, "the first send finished before the second could start"
        second = subprocess.run(command(csv, alias, tmp_path / "b.csv", sim.base_url), capture_output=True, text=True,
                                timeout=scaled(120))
        assert first.poll() is None, "the second process must be refused while the first still runs"
        _, first_err = first.communicate(timeout=scaled(120))
    assert second.returncode == 75  # the same command succeeds once the first run let go
    assert "another send is running on this journal" in second.stderr and "alias.sqlite" in second.stderr
    assert not (tmp_path / "b.csv").exists()
    assert first.returncode == 0, first_err

    # Once the first is done, the alias resumes the same journal: nothing left to send.
    again = subprocess.run(command(csv, alias, tmp_path / "c.csv", sim.base_url), capture_output=True, text=True,
                           timeout=scaled(120))
    sim.wait_idle(timeout=scaled(10))
    calls = sim.calls
    assert again.returncode == 0 and f"{rows} row(s) were already done" in again.stderr
    assert len(calls) == rows and calls["callee"].is_unique and calls["instruction_id"].is_unique
