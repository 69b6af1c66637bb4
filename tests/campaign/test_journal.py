"""The SQLite journal: states, crash recovery, one run at a time, nothing secret stored."""
import sqlite3

import pytest

from cmvoice_nb.campaign.journal import Journal
from cmvoice_nb.errors import JournalError
from cmvoice_nb.wire import instruction_hash


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
    first.lock()
    with pytest.raises(JournalError, match="another send is running"):
        Journal(tmp_path / "j.sqlite")
    first.unlock()
    second = Journal(tmp_path / "j.sqlite")
    with pytest.raises(JournalError, match="another program still has it open"):
        first.lock()  # an idle connection elsewhere is enough to refuse the run lock
    first.close()
    second.lock()
    second.close()


def test_a_symlink_to_a_locked_journal_meets_the_same_lock(tmp_path):
    first = Journal(tmp_path / "j.sqlite")
    first.lock()
    (tmp_path / "alias.sqlite").symlink_to(tmp_path / "j.sqlite")
    with pytest.raises(JournalError, match=r"alias.sqlite \(= .*j.sqlite\): another send is running"):
        Journal(tmp_path / "alias.sqlite")
    first.close()
    with Journal(tmp_path / "alias.sqlite") as alias:
        assert alias.real_path == (tmp_path / "j.sqlite").resolve()
        assert alias.campaign_key == Journal(tmp_path / "j.sqlite").campaign_key


def test_a_new_journal_draws_a_campaign_key_once_and_keeps_it(tmp_path):
    a = Journal(tmp_path / "a.sqlite")
    key = a.campaign_key
    a.close()
    with Journal(tmp_path / "a.sqlite") as again, Journal(tmp_path / "b.sqlite") as other:
        assert again.campaign_key == key and len(key) == 8
        assert other.campaign_key != key


def test_an_unknown_row_is_never_marked_sending_again_unless_asked(journal):
    journal.register("c", [("c-0", "0", "+31612345610", "h0")])
    journal.mark_sending("c", "c-0", payload_hash="h0")
    journal.mark_done("c", "c-0", "unknown", error="read timeout")
    with pytest.raises(JournalError, match="cannot be sent from state 'unknown'.*resend_unknown=True"):
        journal.mark_sending("c", "c-0", payload_hash="h0")
    assert journal.mark_sending("c", "c-0", payload_hash="h0", resend_unknown=True).state == "sending"


def test_the_journal_refuses_a_second_call_to_the_same_person_under_another_id(journal):
    journal.ensure_campaign("other", app="notification")
    journal.register("c", [("c-0", "0", "+31612345610", "h0")])
    journal.register("other", [("o-7", "7", "+31612345611;+31612345610", "h1")])
    journal.mark_sending("c", "c-0", payload_hash="h0")
    journal.mark_done("c", "c-0", "queued", call_ids="call-1")
    with pytest.raises(JournalError, match="already has a call") as info:
        journal.mark_sending("other", "o-7", payload_hash="h1")
    assert info.value.earlier.instruction_id == "c-0" and info.value.earlier.call_ids == "call-1"
    assert journal.get("other", "o-7").state == "pending"
    assert journal.mark_sending("other", "o-7", payload_hash="h1", allow_repeat=True).state == "sending"
    assert [r.instruction_id for r in journal.called_numbers()["+31612345610"]] == ["c-0", "o-7"]


def test_a_version_1_journal_gets_a_key_and_its_callees_indexed(tmp_path):
    con = sqlite3.connect(tmp_path / "old.sqlite")
    con.executescript(
        "CREATE TABLE campaigns (name TEXT PRIMARY KEY, app TEXT NOT NULL, created_at TEXT NOT NULL);"
        "CREATE TABLE rows (campaign TEXT NOT NULL, instruction_id TEXT NOT NULL, row_label TEXT, callee TEXT,"
        " payload_hash TEXT, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, http_status INTEGER,"
        " call_ids TEXT, error TEXT, sent_at TEXT, updated_at TEXT NOT NULL, PRIMARY KEY (campaign, instruction_id));"
        "INSERT INTO campaigns VALUES ('people', 'notification', '2026-01-01T00:00:00Z');"
        "INSERT INTO rows VALUES ('people', 'people-0', '0', '+31612345610', 'h', 'queued', 1, 200, 'call-9', NULL,"
        " '2026-01-01T00:00:01Z', '2026-01-01T00:00:01Z');"
        "PRAGMA user_version=1;")
    con.close()
    with Journal(tmp_path / "old.sqlite") as j:
        assert len(j.campaign_key) == 8
        assert j.called_numbers()["+31612345610"][0].call_ids == "call-9"


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


def test_a_row_sent_with_another_callee_is_guarded_under_its_new_number(journal):
    # Only user-given ids keep their id when the number is corrected: the index must follow the number.
    journal.register("c", [("mine-1", "0", "+31612345610", "h0")])
    journal.mark_sending("c", "mine-1", payload_hash="h1", callee="+31612345611")
    called = journal.called_numbers()
    assert set(called) == {"+31612345611"} and called["+31612345611"][0].callee == "+31612345611"


# ------------------------------------------------------------ bulk registration (issue 15)
def _indexes(path):
    con = sqlite3.connect(path)
    try:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")}
    finally:
        con.close()


def test_a_bulk_register_keeps_every_row_and_rebuilds_the_indexes_after(journal, tmp_path, monkeypatch):
    from cmvoice_nb.campaign.journal import _register as registering

    monkeypatch.setattr(registering, "BULK_ROWS", 10)
    rows = [(f"c-{i}", str(i), f"+316123456{i:02d}", f"h{i}") for i in (7, 3, 41, 0, 19, 2, 33, 5, 11, 29, 13, 1)]
    assert journal.register("c", rows) == 12
    assert {"callees_by_number", "rows_one_per_wave"} <= _indexes(tmp_path / "j.sqlite")
    assert set(journal.load("c")) == {r[0] for r in rows}
    assert journal.get("c", "c-41").callee == "+31612345641"
    # The callee guard works on what the bulk path indexed.
    journal.register("c", [("c-again", "x", "+31612345641", "hx")])
    journal.mark_sending("c", "c-41")
    journal.mark_done("c", "c-41", "queued", call_ids="call-1")
    with pytest.raises(JournalError, match="already has a call"):
        journal.mark_sending("c", "c-again")


def test_a_bulk_register_refuses_a_second_attempt_of_a_row_in_the_same_wave(journal, tmp_path, monkeypatch):
    from cmvoice_nb.campaign.journal import _register as registering

    monkeypatch.setattr(registering, "BULK_ROWS", 2)
    journal.register("c", [("c-1", "0", "+31612345609", "h", b"{}", 1, "c-1"),
                           ("c-2", "1", "+31612345608", "h", b"{}", 1, "c-2")])
    with pytest.raises(JournalError, match="already has an attempt in wave 1"):
        journal.register("c", [("c-3", "2", "+31612345607", "h", b"{}", 1, "c-3"),
                         ("c-1-second", "0", "+31612345609", "h", b"{}", 1, "c-1")])
    # Nothing of the refused batch was written, and the indexes are all still there.
    assert set(journal.load("c")) == {"c-1", "c-2"}
    assert {"callees_by_number", "rows_one_per_wave"} <= _indexes(tmp_path / "j.sqlite")


def test_a_bulk_register_keeps_the_first_of_two_attempts_in_one_batch_as_the_per_row_path_does(tmp_path, monkeypatch):
    from cmvoice_nb.campaign.journal import _register as registering

    batch = [("c-1", "0", "+31612345609", "h", b"{}", 1, "c-1"), ("c-1-dup", "0", "+31612345609", "h", b"{}", 1, "c-1"),
             ("c-0", "1", "+31612345608", "h", b"{}", 1, "c-0"), ("c-0", "9", "+31612345600", "h", b"{}", 1, "c-0")]
    results = []
    for bulk in (10**9, 2):
        monkeypatch.setattr(registering, "BULK_ROWS", bulk)
        j = Journal(tmp_path / f"j{bulk}.sqlite")
        j.ensure_campaign("c", app="notification")
        added = j.register("c", batch)
        results.append((added, {k: (r.row_label, r.callee) for k, r in j.load("c").items()}))
        j.close()
    assert results[0] == results[1] == (2, {"c-1": ("0", "+31612345609"), "c-0": ("1", "+31612345608")})


def test_a_bulk_register_on_a_campaign_with_records_adds_only_the_new_rows(journal, monkeypatch):
    from cmvoice_nb.campaign.journal import _register as registering

    monkeypatch.setattr(registering, "BULK_ROWS", 3)
    journal.register("c", [("c-0", "0", "+31612345610", "h0")])
    journal.mark_sending("c", "c-0")
    journal.mark_done("c", "c-0", "queued", call_ids="call-0")
    assert journal.register("c", [(f"c-{i}", str(i), f"+3161234561{i}", f"h{i}") for i in range(5)]) == 4
    assert journal.get("c", "c-0").state == "queued"  # the earlier record is left untouched
    assert journal.counts("c") == {"queued": 1, "pending": 4}


# ------------------------------------------------------------------ waves
def test_one_attempt_per_row_per_wave_is_the_journals_own_rule(journal):
    journal.register("c", [("c-1", "0", "+31612345609", "h", b"{}", 1, "c-1")])
    journal.register("c", [("c-1-w2", "0", "+31612345609", "h", b"{}", 2, "c-1")])
    with pytest.raises(JournalError, match="twice in this wave"):
        journal.register("c", [("c-1-second", "0", "+31612345609", "h", b"{}", 2, "c-1")])


def test_the_guard_lets_a_rows_next_wave_call_only_once_its_earlier_call_ended(journal):
    journal.register("c", [("c-1", "0", "+31612345609", "h", b"{}", 1, "c-1")])
    journal.mark_sending("c", "c-1")
    journal.mark_done("c", "c-1", "queued", call_ids="call-1")
    journal.register("c", [("c-1-w2", "0", "+31612345609", "h", b"{}", 2, "c-1")])
    # No callback has said the wave-1 call ended: it may still be ringing.
    with pytest.raises(JournalError, match="already has a call") as info:
        journal.mark_sending("c", "c-1-w2")
    assert info.value.earlier.instruction_id == "c-1"
    # Another campaign's wave-2 attempt may not lean on this row's ended call.
    journal.register("d", [("d-1-w2", "0", "+31612345609", "h", b"{}", 2, "d-1")])
    with pytest.raises(JournalError, match="already has a call"):
        journal.mark_sending("d", "d-1-w2", ended=[("c-1", "Cancelled", "2026-01-01T00:00:00.000Z")])
    assert journal.get("c", "c-1").outcome is None  # `ended` names attempts of the sending campaign only
    # The callback said Cancelled: the row's own next wave may call, once.
    row = journal.mark_sending("c", "c-1-w2", ended=[("c-1", "Cancelled", "2026-01-01T00:00:00.000Z")])
    assert (row.state, row.wave, row.row_id) == ("sending", 2, "c-1")
    assert journal.get("c", "c-1").outcome == "Cancelled"
    journal.mark_done("c", "c-1-w2", "queued", call_ids="call-2")
    with pytest.raises(JournalError, match="cannot be sent from state 'queued'"):
        journal.mark_sending("c", "c-1-w2")
