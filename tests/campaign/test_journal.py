"""The SQLite journal: states, crash recovery, one run at a time, nothing secret stored."""
import sqlite3

import pytest

from cmvoice_nb.campaign.journal import Journal, instruction_hash
from cmvoice_nb.errors import JournalError


@pytest.fixture
def journal(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    j.ensure_campaign("c", app="notification")
    yield j
    j.close()


def test_the_journal_is_a_wal_mode_sqlite_database(tmp_path):
    with Journal(tmp_path / "j.sqlite"):
        pass
    con = sqlite3.connect(tmp_path / "j.sqlite")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_registered_rows_start_pending_and_registering_again_changes_nothing(journal):
    assert journal.register("c", [("c-0", "0", "+31612345610", "h0"), ("c-1", "1", "+31612345611", "h1")]) == 2
    journal.mark_sending("c", "c-0", payload_hash="h0")
    assert journal.register("c", [("c-0", "0", "+31612345610", "h0")]) == 0
    assert journal.get("c", "c-0").state == "sending"
    assert journal.get("c", "c-1").state == "pending"


def test_sending_is_committed_and_visible_to_another_connection_before_the_request(journal, tmp_path):
    journal.register("c", [("c-0", "0", "+31612345610", "h0")])
    journal.mark_sending("c", "c-0", payload_hash="h0")
    other = sqlite3.connect(tmp_path / "j.sqlite")
    assert other.execute("SELECT state, attempts FROM rows").fetchall() == [("sending", 1)]
    other.close()


def test_a_row_left_sending_by_a_crash_becomes_unknown_on_recovery(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    j.ensure_campaign("c", app="otp")
    j.register("c", [("c-0", "0", "+31612345610", "h0"), ("c-1", "1", "+31612345611", "h1")])
    j.mark_sending("c", "c-0", payload_hash="h0")
    j._conn.close()  # the process dies without closing anything
    j._conn = None
    again = Journal(tmp_path / "j.sqlite")
    assert again.recover("c") == ["c-0"]
    row = again.get("c", "c-0")
    assert row.state == "unknown" and "may have been placed" in row.error
    assert again.get("c", "c-1").state == "pending"
    again.close()


def test_outcomes_are_recorded_with_status_call_ids_and_error(journal):
    journal.register("c", [("c-0", "0", "+31612345610", "h0")])
    journal.mark_sending("c", "c-0", payload_hash="h0")
    journal.mark_done("c", "c-0", "queued", http_status=200, call_ids="a;b")
    row = journal.get("c", "c-0")
    assert (row.state, row.http_status, row.call_ids, row.attempts) == ("queued", 200, "a;b", 1)
    assert row.sent_at.endswith("Z")


def test_a_queued_row_cannot_be_marked_sending_again(journal):
    journal.register("c", [("c-0", "0", "+31612345610", "h0")])
    journal.mark_sending("c", "c-0", payload_hash="h0")
    journal.mark_done("c", "c-0", "queued", http_status=200)
    with pytest.raises(JournalError, match="cannot be sent from state 'queued'"):
        journal.mark_sending("c", "c-0", payload_hash="h0")


def test_a_campaign_name_cannot_be_reused_for_another_app(journal):
    with pytest.raises(JournalError, match="is a 'notification' campaign, not 'dtmf'"):
        journal.ensure_campaign("c", app="dtmf")


def test_two_runs_cannot_hold_the_same_journal(tmp_path):
    first = Journal(tmp_path / "j.sqlite")
    second = Journal(tmp_path / "j.sqlite")
    first.lock()
    with pytest.raises(JournalError, match="another send is running"):
        second.lock()
    first.unlock()
    second.lock()
    second.close()
    first.close()


def test_a_file_that_is_not_a_database_is_reported_as_unusable(tmp_path):
    bad = tmp_path / "j.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(JournalError, match="not a usable campaign journal"):
        Journal(bad)


def test_the_instruction_hash_ignores_key_order_but_sees_any_change():
    a = {"callee": "+31612345610", "prompt": "Hi"}
    assert instruction_hash(a) == instruction_hash(dict(reversed(list(a.items()))))
    assert instruction_hash(a) != instruction_hash({**a, "prompt": "Hi!"})


def test_the_journal_as_a_frame_has_one_row_per_record(journal):
    journal.register("c", [("c-0", "0", "+31612345610", "h0"), ("c-1", "1", "+31612345611", "h1")])
    frame = journal.to_frame("c")
    assert list(frame["instruction_id"]) == ["c-0", "c-1"]
    assert journal.counts("c") == {"pending": 2}
