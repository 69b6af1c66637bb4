"""logrotate and the receiver: nothing acknowledged is lost, SIGHUP reopens, connections survive."""
import gzip
import json
import os
import shutil
import signal
import threading

import pytest

from cmvoice_nb.callbacks import _logfile, load_callbacks
from cmvoice_nb.callbacks.receiver import CallbackReceiver

from .._wait import scaled, wait_until
from ._factory import callback
from ._process import Receiver, post, post_on

posix_only = pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="SIGHUP and renaming open files are POSIX")


def ids_in(*paths):
    """Call ids in JSONL files, gzipped or not, in file order."""
    found = []
    for path in paths:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as fh:
            found.extend(json.loads(line)["call-id"] for line in fh)
    return found


def rotate(log, rotated):
    """What logrotate's ``compress`` does, without copytruncate: mv, gzip, rm."""
    moved = log.with_name(rotated)
    os.rename(log, moved)
    with open(moved, "rb") as src, gzip.open(moved.with_name(rotated + ".gz"), "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.remove(moved)
    return moved.with_name(rotated + ".gz")


# --- in process: the writer notices a moved log --------------------------------------------------------------

@posix_only
def test_a_log_moved_away_between_callbacks_is_created_anew_under_its_name(tmp_path):
    with CallbackReceiver(tmp_path / "cb.jsonl") as rx:
        assert post(rx.url, callback(0))[0] == 200
        os.rename(rx.out, tmp_path / "cb-1.jsonl")
        assert post(rx.url, callback(1))[0] == 200
    assert ids_in(tmp_path / "cb-1.jsonl") == [callback(0)["call-id"]]
    assert ids_in(tmp_path / "cb.jsonl") == [callback(1)["call-id"]]


@posix_only
def test_a_log_removed_between_callbacks_is_created_anew(tmp_path):
    with CallbackReceiver(tmp_path / "cb.jsonl") as rx:
        assert post(rx.url, callback(0))[0] == 200
        os.remove(rx.out)
        assert post(rx.url, callback(1))[0] == 200
        assert rx.health()["status"] == "ok"
    assert ids_in(tmp_path / "cb.jsonl") == [callback(1)["call-id"]]


@posix_only
def test_a_record_whose_log_is_renamed_while_it_is_written_is_written_again_under_the_name(tmp_path, monkeypatch):
    real_fsync = _logfile._fsync
    renamed = []

    def rotating_fsync(fd):
        real_fsync(fd)
        if not renamed:  # logrotate's mv lands between our write and our acknowledgement
            os.rename(tmp_path / "cb.jsonl", tmp_path / "cb-1.jsonl")
            renamed.append(True)

    with CallbackReceiver(tmp_path / "cb.jsonl") as rx:
        monkeypatch.setattr(_logfile, "_fsync", rotating_fsync)
        assert post(rx.url, callback(0))[0] == 200
        os.remove(tmp_path / "cb-1.jsonl")  # gzip had read it before our line arrived: gone with it
    assert ids_in(tmp_path / "cb.jsonl") == [callback(0)["call-id"]]


@posix_only
def test_a_health_check_reopens_a_moved_log_so_it_exists_again(tmp_path):
    with CallbackReceiver(tmp_path / "cb.jsonl") as rx:
        post(rx.url, callback(0))
        os.rename(rx.out, tmp_path / "old.jsonl")
        assert rx.health()["status"] == "ok"
        assert rx.out.exists()


@posix_only
def test_copytruncate_leaves_a_clean_log_that_keeps_growing_from_the_start(tmp_path):
    with CallbackReceiver(tmp_path / "cb.jsonl") as rx:
        for i in range(3):
            post(rx.url, callback(i))
        shutil.copyfile(rx.out, tmp_path / "cb.jsonl.1")  # logrotate copytruncate: copy, then truncate in place
        with open(rx.out, "r+b") as fh:
            fh.truncate(0)
        assert post(rx.url, callback(3))[0] == 200
    assert rx.out.read_bytes().count(b"\0") == 0  # appended at the new end, not at the old offset
    assert ids_in(tmp_path / "cb.jsonl") == [callback(3)["call-id"]]
    assert len(ids_in(tmp_path / "cb.jsonl.1")) == 3


@posix_only
def test_reopen_creates_the_log_at_once_and_says_why_when_it_cannot(tmp_path):
    folder = tmp_path / "logs"
    with CallbackReceiver(folder / "cb.jsonl") as rx:
        post(rx.url, callback(0))
        (folder / "cb.jsonl").rename(tmp_path / "moved.jsonl")
        assert rx.reopen() is None and (folder / "cb.jsonl").exists()
        (folder / "cb.jsonl").unlink()
        folder.rmdir()
        assert "is gone" in rx.reopen()


# --- the real command: mv + gzip + rm while callbacks keep coming, then SIGHUP -------------------------------------

@pytest.mark.slow
@posix_only
def test_logrotate_mv_gzip_rm_between_and_during_callbacks_loses_no_acknowledged_callback(tmp_path):
    rx = Receiver(tmp_path)
    acked, stop, errors = [], threading.Event(), []

    def provider():
        conn = rx.keep_alive()
        i = 0
        try:
            while not stop.is_set():
                if post_on(conn, rx.path, callback(i)) == 200:
                    acked.append(callback(i)["call-id"])
                i += 1
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            conn.close()

    sender = threading.Thread(target=provider)
    sender.start()
    rotated = []
    try:
        for n in range(1, 4):
            before = len(acked)
            wait_until(lambda before=before: len(acked) >= before + 25, timeout=60, what="callbacks between rotations")
            rotated.append(rotate(rx.log, f"cb-{n}.jsonl"))  # while the provider keeps posting
        # Counted from the end of the last rotation: these can only have gone into a log made anew.
        after = len(acked)
        wait_until(lambda: len(acked) >= after + 25, timeout=60, what="callbacks after the last rotation")
    finally:
        stop.set()
        sender.join(timeout=scaled(60))
        code, err = rx.stop()
    assert errors == [] and code == 0 and "Traceback" not in err
    stored = ids_in(*rotated, rx.log)
    assert set(acked) <= set(stored)  # every acknowledged callback survived the rotations
    assert set(stored) - set(acked) <= {callback(len(acked))["call-id"]}  # at most the one cut off by the stop
    calls = load_callbacks([*rotated, rx.log], warn=False)  # a record written twice (renamed mid-write) counts once
    assert sorted(calls["call_id"]) == sorted(set(stored))


@pytest.mark.slow
@posix_only
def test_sighup_reopens_the_log_and_the_quarantine_and_a_keep_alive_connection_survives(tmp_path):
    rx = Receiver(tmp_path)
    conn = rx.keep_alive()
    try:
        assert post_on(conn, rx.path, callback(0)) == 200
        sock = conn.sock
        conn.request("POST", rx.path, body=b"{broken", headers={"Content-Type": "application/json"})
        assert conn.getresponse().read() and tmp_path.joinpath("cb.quarantine.jsonl").exists()
        os.rename(rx.log, tmp_path / "cb-1.jsonl")
        os.rename(tmp_path / "cb.quarantine.jsonl", tmp_path / "cb.quarantine-1.jsonl")
        rx.proc.send_signal(signal.SIGHUP)
        wait_until(rx.log.exists, timeout=30, what="the log recreated by SIGHUP")
        assert rx.proc.poll() is None
        assert post_on(conn, rx.path, callback(1)) == 200
        assert conn.sock is sock  # the same connection: nothing was dropped
        conn.request("POST", rx.path, body=b"{broken again", headers={"Content-Type": "application/json"})
        reply = conn.getresponse()
        assert reply.status == 400 and reply.read()
        rx.proc.send_signal(signal.SIGHUP)  # a second one, as after every nightly rotation
        assert post_on(conn, rx.path, callback(2)) == 200 and rx.proc.poll() is None
    finally:
        conn.close()
        code, err = rx.stop()
    assert code == 0 and "Traceback" not in err
    assert ids_in(tmp_path / "cb-1.jsonl") == [callback(0)["call-id"]]
    assert ids_in(rx.log) == [callback(1)["call-id"], callback(2)["call-id"]]
    assert len((tmp_path / "cb.quarantine.jsonl").read_text().splitlines()) == 1
    assert "stopped after 3 callbacks" in err


def test_with_daily_files_past_days_compressed_by_logrotate_are_still_read(tmp_path):
    with gzip.open(tmp_path / "cb-2020-01-01.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"received-at": "2020-01-01T10:00:00.000Z", **callback(0)}) + "\n")
    with CallbackReceiver(tmp_path / "cb.jsonl", rotate_daily=True, keep_in_memory=False) as rx:
        assert post(rx.url, callback(1))[0] == 200
        assert rx.frame()["call_id"].tolist() == [callback(0)["call-id"], callback(1)["call-id"]]
