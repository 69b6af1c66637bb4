"""Journals of the previous releases gain the ``expired`` and ``over-contacted`` states and the validity table in place.

Two files: ``tests/data/journal-schema4.sqlite`` (before budgets; recipe ``make_journal_schema4.py``)
and ``tests/data/journal-budgets.sqlite`` (budgets, costs and runs, before validity windows and
the contact ledger; recipe ``make_journal_budgets.py``): campaign ``spring`` with two rows queued,
two waiting past the budget and one suppressed; OTP campaign ``codes`` with a row deferred to its
calling hours. Each test works on a copy; the originals are never opened.
"""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cmvoice_nb.campaign import Journal, RetryPolicy, campaign_status, send_campaign
from cmvoice_nb.campaign.ops.schedule import ManualClock
from cmvoice_nb.cli import main

from ._sqlite import records, sql_of

DATA = Path(__file__).resolve().parents[1] / "data"
UTC = dt.timezone.utc
FAST = dict(rate=500.0, progress=False, retry=RetryPolicy(max_attempts=2, backoff_s=0.001))
SPRING = pd.DataFrame({"callee": ["+31612345610", "+31612345620", "+31612345630", "+31612345640", "+31612345650"],
                       "name": ["Ann", "Bob", "Cem", "Dora", "Eve"]})
DEFAULTS = {"caller": "+31201234567", "prompt": "Hello {name}", "prompt-type": "TTS"}


def copy_of(tmp_path: Path, name: str) -> Path:
    copy = tmp_path / name
    shutil.copyfile(DATA / name, copy)
    return copy




@pytest.mark.parametrize("name", ["journal-schema4.sqlite", "journal-budgets.sqlite"])
def test_opening_an_old_journal_adds_the_new_states_and_the_validity_table_and_keeps_every_record(tmp_path, name):
    path = copy_of(tmp_path, name)
    assert "'expired'" not in sql_of(path, "rows") and sql_of(path, "validity") is None
    before = records(path)
    with Journal(path) as j:
        assert j.validity("spring") == {}
    rows = sql_of(path, "rows")
    assert "'expired'" in rows and "'over-contacted'" in rows and sql_of(path, "validity")
    assert records(path) == before


def test_the_budgets_journal_is_what_main_wrote(tmp_path):
    path = copy_of(tmp_path, "journal-budgets.sqlite")
    assert "'budget'" in sql_of(path, "rows") and sql_of(path, "runs") and sql_of(path, "costs")
    with Journal(path) as j:
        assert j.counts("spring") == {"queued": 2, "budget": 2, "suppressed": 1}
        assert j.counts("codes") == {"deferred": 1}


def test_rows_past_the_budget_of_an_old_journal_expire_when_their_window_is_gone(tmp_path, sim):
    path = copy_of(tmp_path, "journal-budgets.sqlite")
    res = send_campaign(SPRING, sim.client(), journal=path, app="notification", name="spring", defaults=DEFAULTS,
                        valid_until="2020-01-01T00:00Z", **FAST)
    assert res["status"].tolist() == ["queued", "queued", "expired", "expired", "suppressed"]
    assert len(sim.requests) == 0
    with Journal(path) as j:
        assert j.counts("spring") == {"queued": 2, "expired": 2, "suppressed": 1}
    status = campaign_status(path, campaign="spring").campaigns[0]
    assert status["last_run"]["exit"] == 0


def test_the_old_otp_row_gets_its_ten_minutes_from_the_run_that_resumes_it(tmp_path, sim):
    path = copy_of(tmp_path, "journal-budgets.sqlite")
    monday = ManualClock(dt.datetime(2026, 3, 30, 8, 0, tzinfo=UTC))  # inside its hours now
    res = send_campaign(pd.DataFrame({"callee": ["+31612345660"], "code": ["4711"]}), sim.client(), journal=path,
                        app="otp", name="codes", defaults={"caller": "+31201234567"}, calling_hours="09:00-20:00",
                        now=monday, **FAST)
    assert res["status"].tolist() == ["queued"]
    with Journal(path) as j:
        assert list(j.validity("codes").values()) == [dt.datetime(2026, 3, 30, 8, 10, tzinfo=UTC)]


def test_cmvoice_status_counts_the_new_statuses_of_an_upgraded_journal(tmp_path, sim, capsys):
    path = copy_of(tmp_path, "journal-budgets.sqlite")
    send_campaign(SPRING, sim.client(), journal=path, app="notification", name="spring", defaults=DEFAULTS,
                  valid_until="2020-01-01T00:00Z", **FAST)
    assert main(["status", "--journal", str(path)]) == 0
    out = capsys.readouterr().out
    assert "expired 2" in out and "expired: 2 row(s) not placed within their validity window (final)" in out


def test_cmvoice_status_says_which_waiting_rows_have_outlived_their_window(tmp_path, sim, capsys):
    path = copy_of(tmp_path, "journal-budgets.sqlite")
    with Journal(path) as j:
        waiting = [i for i, r in j.load("spring").items() if r.state == "budget"]
        j.set_validity("spring", [(i, "2020-01-01T00:00:00.000Z", "2020-01-01T01:00:00.000Z") for i in waiting])
    assert main(["status", "--journal", str(path)]) == 0
    out = capsys.readouterr().out
    assert "window ended: 2 row(s) still waiting whose validity window has ended" in out
    assert campaign_status(path, campaign="spring").campaigns[0]["window_ended"] == 2
