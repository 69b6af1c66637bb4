"""Hostile and damaged inputs: special files, endless files, cut files, streamed headers, chunk
floods, stuck files and killed parents. Every file is made in the test."""
from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from cmvoice_nb.audio import batch as batch_mod
from cmvoice_nb.audio.batch import check_folder, convert_folder
from cmvoice_nb.audio.check import check_prompt
from cmvoice_nb.audio.convert import convert_prompt
from cmvoice_nb.audio.decode import load_audio
from cmvoice_nb.audio.wavfile import encode_wav, parse_wav
from cmvoice_nb.cli import main
from cmvoice_nb.errors import AudioError

from .._audio import fmt_chunk, riff, sf_bytes, speechlike
from .._wait import scaled, wait_until

needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
needs_dev_zero = pytest.mark.skipif(not os.path.exists("/dev/zero") or not hasattr(os, "symlink"),
                                    reason="no /dev/zero or symbolic links here")
needs_fork = pytest.mark.skipif("fork" not in __import__("multiprocessing").get_all_start_methods(),
                                reason="the patched worker reaches the pool through fork")


def finishes(fn, *args, **kwargs):
    """Run *fn* in a daemon thread and return its result; fail (instead of hanging) if it blocks."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(scaled(120))
    assert not t.is_alive(), f"{getattr(fn, '__name__', fn)} blocked on a special file"
    if "error" in box:
        raise box["error"]
    return box["value"]


def four_seconds_pcm16() -> bytes:
    return encode_wav(speechlike(4.0, 8000), target="pcm16")


# --- special files are refused before they are opened --------------------------------------

@needs_fifo
def test_a_fifo_named_like_a_prompt_is_refused_by_every_entry_point_without_blocking(tmp_path):
    fifo = tmp_path / "fifo.wav"
    os.mkfifo(fifo)
    report = finishes(check_prompt, fifo)
    assert not report.ok and "FIFO (named pipe), not a regular file" in report.problems[0]
    with pytest.raises(AudioError, match="FIFO"):
        finishes(convert_prompt, fifo, tmp_path / "out.wav")
    with pytest.raises(AudioError, match="FIFO"):
        finishes(load_audio, fifo)
    (tmp_path / "good.wav").write_bytes(encode_wav(speechlike(0.5, 8000)))
    for workers in (1, 2):
        df = finishes(convert_folder, tmp_path, tmp_path / f"out{workers}", workers=workers,
                      progress=False).set_index("source")
        assert df.loc["fifo.wav", "status"] == "failed" and "FIFO" in df.loc["fifo.wav", "error"]
        assert df.loc["good.wav", "status"] == "converted"
        df = finishes(check_folder, tmp_path, workers=workers, progress=False).set_index("source")
        assert not df.loc["fifo.wav", "ok"] and "FIFO" in df.loc["fifo.wav", "problems"][0]
        assert bool(df.loc["good.wav", "ok"])
    assert not (tmp_path / "out1" / "fifo.wav").exists()


@needs_dev_zero
def test_a_symlink_to_dev_zero_is_a_character_device_and_is_never_read(tmp_path):
    link = tmp_path / "x.wav"
    link.symlink_to("/dev/zero")
    report = finishes(check_prompt, link)
    assert report.problems and "character device" in report.problems[0]
    with pytest.raises(AudioError, match="character device"):
        finishes(convert_prompt, link, None)
    df = finishes(convert_folder, tmp_path, tmp_path / "out", workers=1, progress=False)
    assert "character device" in df.loc[0, "error"]


@pytest.mark.skipif(not hasattr(__import__("socket"), "AF_UNIX"), reason="no Unix sockets here")
def test_a_unix_socket_named_like_a_prompt_is_refused(tmp_path):
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(str(tmp_path / "sock.wav"))
        sock.listen(1)
        assert "is a socket, not a regular file" in finishes(check_prompt, tmp_path / "sock.wav").problems[0]
        with pytest.raises(AudioError, match="socket"):
            finishes(convert_prompt, tmp_path / "sock.wav", None)
    finally:
        sock.close()


def test_bytes_after_the_riff_end_are_named_in_the_conversion_report(tmp_path):
    src = tmp_path / "stale.wav"
    src.write_bytes(encode_wav(speechlike(1.0, 8000), target="pcm16") + bytes(4000))
    report = convert_prompt(src, None)
    assert any("4000 bytes after the end of the RIFF chunk; they were ignored" in w for w in report.warnings)


def test_a_folder_named_like_a_prompt_is_refused_as_a_directory(tmp_path):
    (tmp_path / "dir.wav").mkdir()
    assert "is a directory" in check_prompt(tmp_path / "dir.wav").problems[0]


# --- size and duration caps ------------------------------------------------------------------

def test_a_file_above_max_bytes_is_refused_per_file_with_the_reason(tmp_path):
    big = tmp_path / "big.wav"
    big.write_bytes(encode_wav(speechlike(2.0, 8000)))          # 16 kB
    small = tmp_path / "small.wav"
    small.write_bytes(encode_wav(speechlike(0.5, 8000)))        # 4 kB
    assert "more than max_bytes=10,000" in check_prompt(big, max_bytes=10_000).problems[0]
    assert check_prompt(small, max_bytes=10_000).ok
    with pytest.raises(AudioError, match="max_bytes"):
        convert_prompt(big, None, max_bytes=10_000)
    with pytest.raises(AudioError, match="max_bytes"):
        load_audio(big.read_bytes(), max_bytes=10_000)
    df = convert_folder(tmp_path, tmp_path / "out", workers=2, progress=False, max_bytes=10_000).set_index("source")
    assert "max_bytes" in df.loc["big.wav", "error"] and df.loc["small.wav", "status"] == "converted"


def test_audio_longer_than_max_duration_is_refused_from_its_header(tmp_path):
    p = tmp_path / "long.wav"
    p.write_bytes(encode_wav(speechlike(3.0, 8000)))
    report = check_prompt(p, max_duration_s=2)
    assert any("more than max_duration_s=2" in x for x in report.problems)
    with pytest.raises(AudioError, match="max_duration_s=2"):
        convert_prompt(p, None, max_duration_s=2)
    code = main(["audio", "check", str(p), "--max-duration-s", "2", "--json"])
    assert code == 1


# --- a cut source converts only with a warning that says what is heard ----------------------

def test_a_truncated_wav_converts_with_a_warning_saying_what_the_listener_will_hear(tmp_path):
    whole = four_seconds_pcm16()
    src = tmp_path / "cut.wav"
    src.write_bytes(whole[: 44 + 32000])                         # the first 2 s of 4
    report = convert_prompt(src, tmp_path / "out.wav")
    assert report.warnings[0].startswith("source is truncated: only 2.0 s of the declared 4.0 s will play")
    assert report.duration_s == pytest.approx(2.0)
    with pytest.raises(AudioError, match="source is truncated.*strict"):
        convert_prompt(src, tmp_path / "strict.wav", strict=True)
    assert not (tmp_path / "strict.wav").exists()
    # The checker agrees on the numbers.
    assert "only 2.0 s of the declared 4.0 s will play" in check_prompt(src).problems[0]


def test_a_batch_shows_the_truncation_and_strict_fails_the_row(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "cut.wav").write_bytes(four_seconds_pcm16()[: 44 + 32000])
    (src / "whole.wav").write_bytes(four_seconds_pcm16())
    df = convert_folder(src, tmp_path / "out", workers=2, progress=False).set_index("source")
    assert df.loc["cut.wav", "status"] == "converted"
    assert "only 2.0 s of the declared 4.0 s will play" in df.loc["cut.wav", "warnings"][0]
    assert not any("truncated" in w for w in df.loc["whole.wav", "warnings"])
    df = convert_folder(src, tmp_path / "strict", workers=2, progress=False, strict=True).set_index("source")
    assert df.loc["cut.wav", "status"] == "failed" and "strict" in df.loc["cut.wav", "error"]
    assert df.loc["whole.wav", "status"] == "converted"


def test_the_cli_strict_flag_fails_a_truncated_source(tmp_path, capsys):
    src = tmp_path / "cut.wav"
    src.write_bytes(four_seconds_pcm16()[: 44 + 32000])
    assert main(["audio", "convert", str(src), "-o", str(tmp_path / "a"), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert "only 2.0 s of the declared 4.0 s" in rows[0]["warnings"][0]
    assert main(["audio", "convert", str(src), "-o", str(tmp_path / "b"), "--strict", "--json"]) == 1
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["status"] == "failed" and "truncated" in rows[0]["error"]


def test_a_cut_flac_converts_what_is_there_and_says_so(tmp_path):
    whole = sf_bytes(speechlike(4.0, 16000), 16000, format="FLAC")
    src = tmp_path / "cut.flac"
    src.write_bytes(whole[: len(whole) // 2])
    report = convert_prompt(src, None)
    assert report.warnings[0].startswith("source is truncated")
    assert "of the declared 4.0 s will play" in report.warnings[0]
    with pytest.raises(AudioError, match="strict"):
        convert_prompt(src, None, strict=True)


# --- 0xFFFFFFFF / 0 sizes mean "unknown" --------------------------------------------------------

def _streamed(payload: bytes, *, riff_size: int, data_size: int) -> bytes:
    head = riff([(b"fmt ", fmt_chunk(1, 1, 8000, 16))], riff_size=riff_size)
    return head + b"data" + struct.pack("<I", data_size) + payload


@pytest.mark.parametrize("riff_size, data_size", [(0xFFFFFFFF, 0xFFFFFFFF), (0, 0), (0xFFFFFFFF, 0)])
def test_unknown_sizes_are_read_to_the_end_of_the_file_with_a_warning(tmp_path, riff_size, data_size):
    payload = (np.clip(speechlike(2.0, 8000), -1, 1) * 32767).astype("<i2").tobytes()
    data = _streamed(payload, riff_size=riff_size, data_size=data_size)
    info = parse_wav(data)
    assert info.size_unknown and not info.truncated and info.data_size == len(payload)
    report = check_prompt(data)
    assert report.ok, report.problems
    assert report.duration_s == pytest.approx(2.0)
    assert any("read to the end of the file (2.0 s)" in w for w in report.warnings)
    src = tmp_path / "streamed.wav"
    src.write_bytes(data)
    converted = convert_prompt(src, None)
    assert converted.duration_s == pytest.approx(2.0)
    assert any("does not state its length" in w for w in converted.warnings)


def test_an_empty_data_chunk_followed_by_metadata_is_still_empty():
    data = riff([(b"fmt ", fmt_chunk(6, 1, 8000, 8)), (b"data", b""), (b"LIST", b"INFOabcd")])
    info = parse_wav(data)
    assert not info.size_unknown and info.data_size == 0
    assert any("zero-length" in p for p in check_prompt(data).problems)


MILLION_CHUNKS = textwrap.dedent("""
    import resource, struct, sys
    from cmvoice_nb.audio.check import check_prompt
    from cmvoice_nb.audio.wavfile import parse_wav
    n = 1_000_000
    body = b"WAVE" + b"junk" + struct.pack("<I", 0)  # a million empty chunks, then fmt and data
    data = bytearray(b"RIFF" + b"\\0\\0\\0\\0" + b"WAVE" + b"junk\\0\\0\\0\\0" * n)
    data += b"fmt " + struct.pack("<IHHIIHH", 16, 6, 1, 8000, 8000, 1, 8)
    data += b"data" + struct.pack("<I", 800) + b"\\xd5" * 800
    struct.pack_into("<I", data, 4, len(data) - 8)
    data = bytes(data)
    check_prompt(b"RIFF")  # warm up every import before the baseline
    scale = 1024 if sys.platform != "darwin" else 1
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    info = parse_wav(data)
    report = check_prompt(data)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
    extra = [w for w in report.warnings if "extra chunk" in w][0]
    print(len(data), info.chunk_count, len(info.chunks), report.duration_s, after - before, extra)
""")


@pytest.mark.skipif(sys.platform == "win32", reason="resource is POSIX-only")
def test_a_million_empty_chunks_are_walked_in_constant_memory():
    out = subprocess.run([sys.executable, "-c", MILLION_CHUNKS], capture_output=True, text=True, timeout=scaled(300),
                         check=True).stdout.split(maxsplit=5)
    size, count, listed, duration, grown = int(out[0]), int(out[1]), int(out[2]), float(out[3]), int(out[4])
    assert size > 8_000_000 and count == 1_000_002 and listed <= 66
    assert duration == pytest.approx(0.1)
    assert grown < 40 * 2**20, f"peak memory grew by {grown / 2**20:.0f} MB while walking the chunks"
    assert "and 999,9" in out[5]  # the warning counts the unlisted chunks


# --- workers: a stuck file times out, and nothing outlives the parent -------------------------

def _stuck_on_hang(src, dst, options):
    if Path(src).name == "hang.wav":
        time.sleep(3600)
    return _real_convert_worker(src, dst, options)


_real_convert_worker = batch_mod._convert_worker
_stuck_on_hang.__name__ = _stuck_on_hang.__qualname__ = "_convert_worker"
_stuck_on_hang.__module__ = "cmvoice_nb.audio.batch"


@needs_fork
def test_a_stuck_file_fails_with_timed_out_and_the_batch_goes_on(tmp_path, monkeypatch):
    monkeypatch.setattr(batch_mod, "START_METHOD", "fork")
    monkeypatch.setattr(batch_mod, "_convert_worker", _stuck_on_hang)  # what the forked workers run
    src = tmp_path / "src"
    src.mkdir()
    for i in range(36):  # chunks of 3: the stuck file has neighbours that must still convert
        (src / f"p{i:02d}.wav").write_bytes(encode_wav(speechlike(0.3, 8000, seed=i)))
    (src / "hang.wav").write_bytes(encode_wav(speechlike(0.3, 8000)))
    df = convert_folder(src, tmp_path / "out", workers=2, progress=False, timeout_s=3.0).set_index("source")
    assert df.loc["hang.wav", "status"] == "failed"
    assert df.loc["hang.wav", "error"].startswith("timed out after 3 s")
    assert (df.drop(index="hang.wav")["status"] == "converted").all()
    assert len(list((tmp_path / "out").glob("p*.wav"))) == 36


def test_a_timeout_that_is_not_a_positive_number_is_refused(tmp_path):
    for bad in (0, -1, float("nan")):
        with pytest.raises(AudioError, match="timeout_s must be a positive number"):
            convert_folder(tmp_path, tmp_path / "out", workers=2, progress=False, timeout_s=bad)


PARENT = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    import cmvoice_nb.audio.batch as batch
    pids = Path(sys.argv[2])
    real = batch._convert_worker

    def slow(src, dst, options):  # a conversion stuck for a minute, that says which process runs it
        (pids / str(os.getpid())).touch()
        time.sleep(60)
        return real(src, dst, options)

    slow.__name__ = slow.__qualname__ = "_convert_worker"
    slow.__module__ = "cmvoice_nb.audio.batch"
    batch._convert_worker = slow  # at import time, so fork, forkserver and spawn workers all get it
    batch.START_METHOD = sys.argv[3]

    if __name__ == "__main__":
        batch.convert_folder(sys.argv[1], sys.argv[1] + "-out", workers=2, progress=False)
""")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:  # a zombie (state Z) has exited: only not reaped
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.skipif(sys.platform == "win32", reason="kill -9 / Ctrl-C of a POSIX process")
@pytest.mark.parametrize("how", ["SIGKILL", "SIGINT"])
@pytest.mark.parametrize("method", [m for m in ("fork", "forkserver", "spawn")
                                    if m in __import__("multiprocessing").get_all_start_methods()])
def test_killing_the_parent_of_a_convert_folder_leaves_no_worker_alive(tmp_path, method, how):
    # SIGKILL: the parent gets no chance to clean up (the lifeline ends the workers);
    # SIGINT: Ctrl-C in the operator's terminal (the parent stops them on its way out).
    src = tmp_path / "src"
    src.mkdir()
    for i in range(40):
        (src / f"p{i:02d}.wav").write_bytes(encode_wav(speechlike(0.2, 8000, seed=i)))
    pids = tmp_path / "pids"
    pids.mkdir()
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    parent = subprocess.Popen([sys.executable, str(script), str(src), str(pids), method],
                              stderr=subprocess.DEVNULL)  # Ctrl-C prints a KeyboardInterrupt traceback
    try:
        wait_until(lambda: len(list(pids.iterdir())) >= 2 or parent.poll() is not None, timeout=120,
                   what="both workers converting")
        assert parent.poll() is None, "the batch ended before it could be killed"
        workers = [int(p.name) for p in pids.iterdir()]
        assert parent.pid not in workers
        parent.send_signal(getattr(signal, how))
        parent.wait(timeout=scaled(60))
        wait_until(lambda: not any(_alive(pid) for pid in workers), timeout=30,
                   what="the workers to end with their parent")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for p in pids.iterdir():
            if _alive(int(p.name)):
                os.kill(int(p.name), signal.SIGKILL)


# --- --json numbers --------------------------------------------------------------------------

def test_check_json_prints_integers_as_integers_in_one_array(tmp_path, capsys):
    good = tmp_path / "good.wav"
    good.write_bytes(encode_wav(speechlike(0.5, 8000)))
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    main(["audio", "check", str(good), str(bad), "--json"])
    text = capsys.readouterr().out
    rows = json.loads(text)
    assert isinstance(rows, list) and len(rows) == 2
    assert rows[0]["channels"] == 1 and type(rows[0]["channels"]) is int
    assert type(rows[0]["bits"]) is int and type(rows[0]["samplerate"]) is int
    assert '"channels": 1,' in text and '"bits": 8,' in text and "1.0" not in text.split('"duration_s"')[0]
    assert rows[1]["channels"] is None and rows[1]["bits"] is None  # the text file has none
    assert isinstance(rows[0]["duration_s"], float)


@needs_fifo
def test_decoders_reopen_a_path_only_while_it_is_still_the_file_that_was_read(tmp_path):
    from cmvoice_nb.audio._source import still_regular

    p = tmp_path / "a.flac"
    p.write_bytes(b"x" * 100)
    assert still_regular(p, 100) == p
    assert still_regular(p, 99) is None          # changed since it was read: decode the bytes
    p.unlink()
    os.mkfifo(p)                                  # swapped for a FIFO: never handed to a decoder
    assert still_regular(p, 100) is None
