"""A journal written by the previous release opens, is upgraded in place, and its campaign goes on.

``tests/data/journal-schema4.sqlite`` was written by the package before budgets existed (its recipe
is ``tests/data/make_journal_schema4.py``): campaign ``spring`` with four rows queued, one suppressed,
kept columns and a second wave; campaign ``autumn`` with a row deferred to its calling hours.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from cmvoice_nb.campaign import Journal, campaign_status, send_campaign
from cmvoice_nb.cli import main

from ._lists import notification_defaults
from ._sqlite import records, sql_of

DATA = Path(__file__).resolve().parents[1] / "data" / "journal-schema4.sqlite"
SPRING = pd.DataFrame({"callee": ["+31612345610", "+31612345609", "+31612345611", "+31612345612", "+31612345613"],
                       "name": ["Ann", "Bob", "Cem", "Dora", "Eve"], "Klant": ["1", "2", "3", "4", "5"]})


@pytest.fixture
def old_journal(tmp_path) -> Path:
    """A copy of the journal file the previous release wrote (the original is never opened)."""
    copy = tmp_path / "old.sqlite"
    shutil.copyfile(DATA, copy)
    return copy




def test_the_file_is_what_the_previous_release_wrote(old_journal):
    assert "'budget'" not in sql_of(old_journal, "rows")
    assert sql_of(old_journal, "costs") is None and sql_of(old_journal, "runs") is None


def test_opening_it_widens_the_states_adds_the_new_tables_and_keeps_every_record(old_journal):
    before = records(old_journal)
    with Journal(old_journal) as j:
        assert j.counts("spring") == {"queued": 6, "suppressed": 1} and j.counts("autumn") == {"deferred": 1}
        assert sorted(j.kept("spring")["Klant"]) == ["1", "2", "3", "4", "5"]
        assert j.waits("autumn")["until"].notna().all()
        assert j.spent("spring") == 0.0 and j.runs() == []
    assert "'budget'" in sql_of(old_journal, "rows")
    assert sql_of(old_journal, "costs") and sql_of(old_journal, "runs")
    assert records(old_journal) == before


def test_a_row_of_the_old_journal_can_wait_past_a_budget(old_journal):
    with Journal(old_journal) as j:
        iid = next(i for i, r in j.load("autumn").items() if r.state == "deferred")
        assert j.hold("autumn", [(iid, "0", "+31612345620", None, "past the budget")], "budget") == 1
        assert j.counts("autumn") == {"budget": 1}


def test_its_campaign_resumes_without_calling_anyone_again(old_journal, sim):
    res = send_campaign(SPRING, sim.client(), journal=old_journal, app="notification", name="spring",
                        defaults=notification_defaults(), rate=500, progress=False, keep=["Klant"])
    assert res["status"].tolist() == ["queued"] * 4 + ["suppressed"]  # the journal's list stands without one
    assert len(sim.requests) == 0
    status = campaign_status(old_journal, campaign="spring").campaigns[0]
    assert status["last_run"]["counts"] == {"queued": 4, "suppressed": 1, "already done": 4}
    assert status["last_run"]["exit"] == 0


def test_cmvoice_status_reads_it(old_journal, capsys):
    assert main(["status", "--journal", str(old_journal)]) == 0
    out = capsys.readouterr().out
    assert "campaign 'spring' (notification)" in out and "wave 2: queued 2" in out
    assert "deferred: 1 row(s) wait for their calling hours; the first window opens 2026-03-30T07:00:00.000Z" in out
