"""The journal at scale: bulk registration, lean resume, schema-3 journals, kills and hostile input.

Every journal here is a real SQLite file; every send goes to the real simulator on loopback.
"""
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from cmvoice_nb.campaign import send_campaign
from cmvoice_nb.campaign.journal import Journal, _register as registering
from cmvoice_nb.errors import JournalError

from .._wait import scaled
from ._journals import write_v3_journal
from ._lists import hello_plan, phone_list

A, B, C, D, E, F, G = (f"+316123456{i:02d}" for i in (10, 20, 30, 40, 50, 60, 70))

#: Batches of (id, label, callee, hash, payload, wave, base): repeated ids, a second attempt of a
#: (row, wave) inside a batch and across batches, multi-callee and padded cells, follow-up waves.
BATCHES = [
    [("r-1", "1", A, "h1", b"{}", 1, "r-1"), ("r-2", "2", B, "h2", None, 1, "r-2"),
     ("r-1", "1b", C, "hx", None, 1, "r-1"),
     ("r-3", "3", f"{C};{D}", "h3", None, 1, "r-3"), ("r-2-again", "2", B, "h2", None, 1, "r-2"),
     ("r-4", "4", f" {E} ", "h4", None, 1, "r-4"), ("r-5", "5", None, "h5", None, 1, "r-5")],
    [(f"s-{i}", str(10 + i), f"+3161234{i:04d}", f"s{i}", None, 1, f"s-{i}") for i in range(7)]
    + [("r-1-w2", "1", A, "h1", b"{}", 2, "r-1")],
    [(f"t-{i}", str(20 + i), f"+3161235{i:04d}", f"t{i}", None, 1, f"t-{i}") for i in range(8)]
    + [("r-3", "3", F, "other", None, 1, "r-3")],
    [("u-1", "30", G, "u1", None, 1, "u-1"), ("r-2-w1-again", "2", B, "h2", None, 1, "r-2")],  # refused whole
    [("r-1-w3", "1", A, "h1", None, 3, "r-1"), ("r-1-w3-dup", "1", A, "h1", None, 3, "r-1")],
]


def replay(path, monkeypatch, bulk_rows, chunk=registering.REGISTER_CHUNK):
    """Register BATCHES with the bulk threshold at *bulk_rows*; what was kept and what the guard says."""
    monkeypatch.setattr(registering, "BULK_ROWS", bulk_rows)
    monkeypatch.setattr(registering, "REGISTER_CHUNK", chunk)
    j = Journal(path)
    j.ensure_campaign("c", app="notification")
    outcomes = []
    for batch in BATCHES:
        try:
            outcomes.append(j.register("c", batch))
        except JournalError as exc:
            outcomes.append(str(exc).split(": ", 1)[1])  # the path differs between journals
    kept = {k: (r.row_label, r.callee, r.payload_hash, r.wave, r.row_id, r.state)
            for k, r in j.load("c").items()}
    payloads = j.payloads("c")
    # The guard over what was registered: each first row calls its numbers; who may call after?
    j.mark_sending("c", "r-3")
    j.mark_done("c", "r-3", "queued", call_ids="call-r-3")
    j.mark_sending("c", "s-0")
    j.mark_done("c", "s-0", "queued", call_ids="call-s-0")
    guard = {}
    for iid in sorted(kept):
        if kept[iid][-1] != "pending":
            continue
        try:
            j.mark_sending("c", iid)
            guard[iid] = "sent"
            j.mark_done("c", iid, "failed", error="test")
        except JournalError as exc:
            guard[iid] = exc.earlier.instruction_id if hasattr(exc, "earlier") else "refused"
    j.close()
    return outcomes, kept, payloads, guard


def test_bulk_registration_keeps_and_refuses_exactly_what_the_per_row_path_does(tmp_path, monkeypatch):
    # Never bulk; bulk from 8 rows on (the batches straddle it: 7, 8, 9 rows); always bulk.
    per_row, straddling, bulk = (replay(tmp_path / f"j{n}.sqlite", monkeypatch, n) for n in (10**9, 8, 1))
    assert per_row == straddling == bulk
    outcomes, kept, payloads, guard = per_row
    assert outcomes[:3] == [5, 8, 8] and "already has an attempt in wave 1" in outcomes[3] and outcomes[4] == 1
    assert kept["r-1"][:2] == ("1", A) and "r-2-again" not in kept and "u-1" not in kept
    assert kept["r-3"][1] == f"{C};{D}"  # the earlier record is left as it was
    assert payloads["r-1"] == b"{}" and payloads["r-2"] is None
    # The multi-callee row blocks both its numbers; the padded cell is guarded under its number.
    assert guard["r-4"] == "sent" and guard["s-1"] == "sent"
    assert guard["r-1-w2"] == "sent"  # r-1 was never called: its wave 2 may go


@pytest.mark.parametrize("chunk", [1, 2, 3])
def test_a_first_registration_read_in_chunks_keeps_what_one_batch_keeps(tmp_path, monkeypatch, chunk):
    # The first batch goes to a fresh campaign: it is written `chunk` rows at a time, and its
    # second attempt of r-2 (in wave 1) comes in a later chunk than r-2 itself for some sizes.
    whole = replay(tmp_path / "whole.sqlite", monkeypatch, 10**9)
    assert replay(tmp_path / f"chunked{chunk}.sqlite", monkeypatch, 1, chunk) == whole


def test_a_big_first_registration_never_holds_all_its_rows_at_once(journal, monkeypatch):
    monkeypatch.setattr(registering, "REGISTER_CHUNK", 100)
    monkeypatch.setattr(registering, "BULK_ROWS", 100)
    taken = []

    def rows():
        for i in range(1_000):
            taken.append(i)
            yield (f"id-{i:04d}", str(i), f"+3161234{i:04d}", f"h{i}", None, 1, f"id-{i:04d}")

    seen_by_sqlite = []
    original = journal._write

    def write(c, campaign, full):
        seen_by_sqlite.append((len(full), len(taken)))  # rows written so far vs rows read so far
        return original(c, campaign, full)

    journal._write = write
    assert journal.register("c", rows()) == 1_000
    assert all(size <= 100 and read - written <= 100
               for (size, read), written in zip(seen_by_sqlite, [0] + [100 * k for k in range(1, 10)], strict=True))
    assert len(journal.load("c")) == 1_000
    assert {r.state for r in journal.load("c").values()} == {"pending"}


def test_a_padded_or_multi_callee_cell_is_guarded_under_each_of_its_numbers(journal):
    journal.register("c", [("m", "0", f"{A}; {B}", "h"), ("p", "1", f" {C}", "h"),
                     ("to-a", "2", A, "h"), ("to-b", "3", B, "h"), ("to-c", "4", C, "h")])
    for iid in ("m", "p"):
        journal.mark_sending("c", iid)
        journal.mark_done("c", iid, "queued", call_ids=f"call-{iid}")
    for iid, earlier in (("to-a", "m"), ("to-b", "m"), ("to-c", "p")):
        with pytest.raises(JournalError, match="already has a call") as caught:
            journal.mark_sending("c", iid)
        assert caught.value.earlier.instruction_id == earlier
    assert set(journal.live_callees()) == set(journal.called_numbers()) == {A, B, C}


def test_the_lean_reads_agree_with_the_full_records(journal):
    journal.ensure_campaign("other", app="notification")
    journal.register("c", [(f"c-{i}", str(i), f"+3161234{i:04d}", f"h{i}") for i in range(12)]
               + [("c-multi", "m", f"{A};{B}", "hm")])
    journal.register("other", [("o-1", "1", "+31612340003", "ho", None, 1, "o-1")])
    for iid, state in (("c-0", "queued"), ("c-1", "unknown"), ("c-2", "failed"), ("c-multi", "queued")):
        journal.mark_sending("c", iid)
        journal.mark_done("c", iid, state, http_status=200 if state == "queued" else None, call_ids=f"call-{iid}",
                    error=None if state == "queued" else "boom")
    journal.mark_sending("c", "c-4")  # a crash left it sending
    journal.hold("c", [("c-5", "5", "+31612340005", "h5", "waiting: closed"),
                       ("c-6", "6", "+31612340006", "h6", "dnc")], "deferred")
    journal.hold("c", [("c-7", "7", "+31612340007", "h7", "on the list")], "suppressed")
    full, lean = journal.load("c"), journal.statuses("c")
    assert set(full) == set(lean)
    for iid, rec in full.items():
        st = lean[iid]
        assert (st.state, st.attempts, st.http_status, st.call_ids, st.sent_at) == \
               (rec.state, rec.attempts, rec.http_status, rec.call_ids, rec.sent_at)
        live = rec.state in ("queued", "unknown", "sending")
        assert st.payload_hash == (rec.payload_hash if live else None)
        assert st.error == (None if rec.state in ("pending", "deferred") else rec.error)
    called = journal.called_numbers()
    lean_called = journal.live_callees()
    assert {n: [(r.campaign, r.instruction_id, r.state, r.call_ids, r.wave, r.row_id, r.outcome) for r in rs]
            for n, rs in called.items()} == {n: [tuple(r) for r in rs] for n, rs in lean_called.items()}
    assert set(journal.live_callees({A, "+31612340001", "+39000"})) == {A, "+31612340001"}


# ------------------------------------------------------------------ schema 3 journals
def test_a_schema_3_journal_opens_as_schema_4_and_its_guard_still_sees_every_call(tmp_path):
    path = tmp_path / "j.sqlite"
    plan = write_v3_journal(path, hello_plan(phone_list(6)), "0badc0de", queued={0, 1}, sending={2})
    j = Journal(path)
    assert j.campaign_key == "0badc0de"
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA user_version").fetchone()[0] == 4
    assert con.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'rows_live'").fetchone()[0] == 1
    con.close()
    assert j.recover("c") == [plan.rows[2].instruction_id]
    statuses = j.statuses("c")
    assert [statuses[r.instruction_id].state for r in plan.rows] == ["queued", "queued", "unknown"] + ["pending"] * 3
    assert set(j.live_callees()) == {r.callee for r in plan.rows[:3]}
    # Another campaign on this journal may not call them again, through the old callees rows too.
    j.ensure_campaign("again", app="notification")
    j.register("again", [("again-0", "0", plan.rows[0].callee, "h")])
    with pytest.raises(JournalError, match="already has a call"):
        j.mark_sending("again", "again-0")
    assert j.payloads("c")[plan.rows[4].instruction_id] == plan.rows[4].payload
    j.close()


def test_a_campaign_resumed_on_a_schema_3_journal_sends_only_what_was_never_sent(tmp_path, sim):
    path = tmp_path / "j.sqlite"
    df = phone_list(8)
    plan = write_v3_journal(path, hello_plan(df), "0badc0de", queued={0, 1, 2}, sending={3})
    res = send_campaign(hello_plan(df), sim.client(), journal=path, rate=1000.0, burst=50, progress=False)
    sent = sorted(sim.calls["instruction_id"])
    assert sent == sorted(r.instruction_id for r in plan.rows[4:])
    assert list(res["status"]) == ["queued"] * 3 + ["unknown"] + ["queued"] * 4
    assert list(res["call_ids"][:3]) == ["old-call-0", "old-call-1", "old-call-2"]
    # What this run sent is stored as sent, for a follow-up wave.
    with Journal(path) as j:
        payloads = j.payloads("c")
    assert all(payloads[r.instruction_id] == r.payload for r in plan.rows)


def test_a_re_run_reads_the_journal_without_loading_whole_records(tmp_path, sim, monkeypatch):
    def refuse(*_a, **_k):
        raise AssertionError("send_campaign should not load whole records on a re-run")

    path = tmp_path / "j.sqlite"
    send_campaign(hello_plan(phone_list(4)), sim.client(), journal=path, rate=1000.0, progress=False)
    monkeypatch.setattr(Journal, "load", refuse)
    monkeypatch.setattr(Journal, "called_numbers", refuse)
    res = send_campaign(hello_plan(phone_list(6)), sim.client(), journal=path, rate=1000.0, progress=False)
    assert sim.calls["callee"].value_counts().max() == 1 and len(sim.calls) == 6
    assert (res["status"] == "queued").all()


def test_a_send_stores_each_payload_when_it_leaves_not_when_it_is_registered(tmp_path, sim):
    path = tmp_path / "j.sqlite"
    plan = hello_plan(phone_list(3))
    send_campaign(plan, sim.client(), journal=path, rate=1000.0, progress=False)
    bodies = {row["instruction_id"]: row["body"] for _, row in sim.requests.iterrows()}
    with Journal(path) as j:
        stored = j.payloads("c")
    assert len(stored) == 3 and all(stored[iid].decode() == bodies[iid] for iid in stored)


# ---------------------------------------------------------------- kills and hostile input
CHILD = textwrap.dedent("""
    import sys
    from cmvoice_nb.campaign.journal import Journal
    j = Journal(sys.argv[1])
    j.ensure_campaign("c", app="notification")
    told = []
    def tell():
        # Called by SQLite while it works: once the batch's transaction is open, say so and wait.
        if j._conn.in_transaction and not told:
            told.append(1)
            print("in transaction", flush=True)
            sys.stdin.readline()  # the parent kills this process here
        return 0
    j._conn.set_progress_handler(tell, 1000)
    rows = ((f"c-{i}", str(i), f"+3161{i:07d}", f"h{i}", None, 1, f"c-{i}") for i in range(int(sys.argv[2])))
    j.register("c", rows)
    print("registered", flush=True)
""")


def test_a_process_killed_mid_registration_leaves_the_batch_all_there_or_not_at_all(tmp_path):
    path = tmp_path / "j.sqlite"
    rows = registering.BULK_ROWS + 5  # the bulk path: indexes dropped and rebuilt in the transaction
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(rows)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "in transaction"
        proc.kill()  # SIGKILL on POSIX, TerminateProcess on Windows: nothing is cleaned up
    finally:
        proc.wait(timeout=scaled(60))
    j = Journal(path)
    assert j.counts("c") == {}  # killed inside the transaction: none of it
    con = sqlite3.connect(path)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    con.close()
    assert {"callees_by_number", "rows_one_per_wave", "rows_live"} <= names  # the DROP INDEX went too
    # The next run registers the whole batch and the guard works on it.
    assert j.register("c", ((f"c-{i}", str(i), f"+3161{i:07d}", f"h{i}") for i in range(rows))) == rows
    j.mark_sending("c", "c-7")
    j.mark_done("c", "c-7", "queued", call_ids="call-7")
    j.register("c", [("again", "x", "+31610000007", "h")])
    with pytest.raises(JournalError, match="already has a call"):
        j.mark_sending("c", "again")
    j.close()


def test_instruction_ids_that_are_not_valid_unicode_are_refused_naming_the_rows(journal, tmp_path):
    batch = [("ok-1", "1", A, "h"), ("bad-\ud800", "2", B, "h"), ("ok-2", "3", "+3161\udfff", "h")]
    with pytest.raises(JournalError, match=r"2 row\(s\) hold text that is not valid Unicode") as caught:
        journal.register("c", batch)
    text = str(caught.value)
    assert str(tmp_path / "j.sqlite") in text and "'bad-\\ud800' (instruction_id, base_id)" in text
    assert "'ok-2' (callee)" in text
    assert journal.counts("c") == {}  # nothing of the batch was kept
    with pytest.raises(JournalError, match="not valid Unicode"):
        journal.mark_sending("c", "lone-\udc00")
    assert journal.register("c", batch[:1]) == 1  # the journal is still usable


def test_a_directory_is_refused_as_a_journal_naming_it(tmp_path):
    with pytest.raises(JournalError, match="is a directory, not a journal file") as caught:
        Journal(tmp_path)
    assert str(tmp_path) in str(caught.value)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_refused_as_a_journal_without_reading_it(tmp_path):
    fifo = tmp_path / "j.sqlite"
    os.mkfifo(fifo)
    with pytest.raises(JournalError, match=r"is a FIFO \(named pipe\), not a journal file"):
        Journal(fifo)


def test_a_journal_under_a_file_instead_of_a_folder_is_refused_naming_it(tmp_path):
    (tmp_path / "plain").write_text("x")
    with pytest.raises(JournalError, match="cannot"):
        Journal(tmp_path / "plain" / "j.sqlite")


def make_read_only(path):
    """Make *path* unwritable for this process; returns how to undo it.

    ``chmod`` does not stop root: as root, the file is made immutable (``chattr +i``) instead,
    where the file system allows it.
    """
    if os.name == "nt" or os.geteuid() != 0:
        os.chmod(path, 0o444)
        return lambda: os.chmod(path, 0o644)
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("running as root and the file cannot be made immutable here (chattr +i)")
    return lambda: subprocess.run([chattr, "-i", str(path)], check=True)


def test_a_read_only_journal_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "j.sqlite"
    Journal(path).close()
    undo = make_read_only(path)
    try:
        with pytest.raises(JournalError, match="cannot be written") as caught:
            j = Journal(path)
            j.ensure_campaign("c", app="notification")  # pragma: no cover - the open refuses first
        assert str(path) in str(caught.value) and "permissions" in str(caught.value)
    finally:
        undo()
