"""Convert or check whole folders: both cores, a progress bar, one DataFrame row per file.

A bad file never stops a batch: its row says what went wrong. Output trees
mirror the input trees; two sources that would land on the same target (``a.mp3``
and ``a.flac``) are both reported instead of one silently replacing the other.

Examples
--------
>>> import tempfile, pathlib, numpy as np, soundfile as sf
>>> src = pathlib.Path(tempfile.mkdtemp())
>>> sf.write(src / "hello.flac", np.zeros(16000), 16000)
>>> (src / "notes.wav").write_text("not audio")
9
>>> df = convert_folder(src, src / "out", progress=False, workers=1)
>>> df[["source", "status"]].to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
[{'source': 'hello.flac', 'status': 'converted'}, {'source': 'notes.wav', 'status': 'failed'}]
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from .. import spec
from .._fsutil import fsync_path
from ..errors import AudioError
from .decode import DEFAULT_MAX_BYTES, DEFAULT_MAX_DURATION_S

__all__ = ["convert_folder", "check_folder", "convert_paths", "check_paths", "AUDIO_SUFFIXES", "find_audio_files"]

log = logging.getLogger(__name__)

#: File suffixes picked up when walking a folder (explicitly named files are always taken). The one
#: list lives in :mod:`cmvoice_nb.spec`: it is also what a ``File`` prompt's path must end with.
AUDIO_SUFFIXES = spec.AUDIO_SUFFIXES

CONVERT_COLUMNS = ["source", "target", "status", "ok", "error", "problems", "warnings", "duration_s",
                   "source_samplerate", "source_channels", "peak_dbfs", "rms_dbfs"]
CHECK_COLUMNS = ["source", "ok", "problems", "warnings", "error", "container", "codec", "samplerate",
                 "channels", "bits", "duration_s", "peak_dbfs", "rms_dbfs", "leading_silence_s",
                 "trailing_silence_s"]


def find_audio_files(root: str | os.PathLike, *, exclude: str | os.PathLike | None = None) -> list[Path]:
    """Audio files under *root* (sorted, hidden files and folders skipped, *exclude* tree skipped)."""
    base = Path(root)
    skip = Path(exclude).resolve() if exclude is not None else None
    found = []
    for dirpath, dirnames, filenames in os.walk(base):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")
                             and (skip is None or (here / d).resolve() != skip))
        for fn in filenames:
            if not fn.startswith(".") and Path(fn).suffix.lower() in AUDIO_SUFFIXES:
                found.append(here / fn)
    return sorted(found)


# -- workers (module level so a process pool can pickle them) --------------------------------

def _convert_worker(src: str, dst: str, options: dict) -> dict:
    from .convert import convert_prompt

    row: dict[str, Any] = {"status": "failed", "ok": False, "error": None, "problems": [], "warnings": []}
    try:
        report = convert_prompt(src, dst, **options)
    except AudioError as exc:
        row["error"] = str(exc.args[0]).split(": ", 1)[-1] if exc.path is not None else str(exc)
        return row
    except Exception as exc:  # a crash in one file must not take the batch down
        log.exception("unexpected error converting %s", src)
        row["error"] = f"unexpected error: {type(exc).__name__}: {exc}"
        return row
    row.update(status="converted", ok=report.ok, problems=report.problems, warnings=report.warnings,
               duration_s=report.duration_s, source_samplerate=report.source_samplerate,
               source_channels=report.source_channels, peak_dbfs=report.peak_dbfs, rms_dbfs=report.rms_dbfs)
    return row


class _Syncer:
    """Make a batch's outputs durable without two fsyncs per file inside the workers.

    Workers write with ``durable=False`` (temp file + rename: every file is already
    all-or-nothing). With worker processes, the parent, which otherwise just waits, fsyncs
    each chunk's files as its results come back, overlapping the flushes with the
    conversions still running; in process, all files are synced after the last one. Each
    output folder is synced once, at the end.
    """

    def __init__(self) -> None:
        self.folders: set[str] = set()

    def files(self, paths: Iterable[str | os.PathLike]) -> None:
        for p in paths:
            if fsync_path(p):
                self.folders.add(os.path.dirname(os.path.abspath(p)))

    def finish(self) -> None:
        for folder in sorted(self.folders):
            fsync_path(folder)


#: Rough conversion cost in ns per input byte, measured with bench/audio_convert.py on 10 s
#: prompts; only used to start the slowest files first, so precision does not matter.
_NS_PER_BYTE = {".wav": 1.5, ".wave": 1.5, ".bwf": 1.5, ".rf64": 1.5, ".w64": 1.5, ".aif": 1.5, ".aiff": 1.5,
                ".aifc": 1.5, ".au": 1.5, ".snd": 1.5, ".caf": 1.5, ".flac": 28.0, ".mp3": 60.0,
                ".ogg": 140.0, ".oga": 140.0, ".opus": 140.0, ".spx": 140.0}
#: Per-file work that does not depend on the size (reading, encoding, checking, writing).
_NS_PER_FILE = 1.3e6


def _estimated_cost(path: str) -> float:
    try:
        size = os.stat(path).st_size
    except OSError:
        return 0.0
    # Anything else goes through FFmpeg (AAC and friends): about as slow per byte as Vorbis.
    return _NS_PER_FILE + size * _NS_PER_BYTE.get(os.path.splitext(path)[1].lower(), 130.0)


def _chunks(order: list[int], workers: int) -> list[list[int]]:
    # Small enough that both cores stay busy to the end, large enough to amortise the IPC.
    size = max(1, min(8, len(order) // (workers * 6)))
    return [order[i:i + size] for i in range(0, len(order), size)]


def _check_worker(path: str, options: dict) -> dict:
    from .check import check_prompt

    try:
        report = check_prompt(path, **options)
    except Exception as exc:
        log.exception("unexpected error checking %s", path)
        return {"ok": False, "error": f"unexpected error: {type(exc).__name__}: {exc}", "problems": [], "warnings": []}
    d = report.to_dict()
    d.pop("source", None)
    d.pop("path", None)
    d["peak_dbfs"], d["rms_dbfs"] = report.peak_dbfs, report.rms_dbfs
    d["error"] = None
    return d


#: glibc ``mallopt`` parameters (malloc.h) and the values batch workers use.
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3
_WORKER_MALLOPT = ((_M_MMAP_THRESHOLD, 32 << 20), (_M_TRIM_THRESHOLD, 256 << 20), (_M_TOP_PAD, 64 << 20))


def _init_worker() -> bool:
    """Keep freed memory in a batch worker for the next file instead of returning it to the OS.

    Each file allocates the same few buffers of 0.1-4 MB (the file's bytes, decoded and
    resampled samples, the encoded output). By default glibc hands blocks that size back to
    the kernel on free and maps fresh, zero-filled pages for the next file, so every file
    paid page faults on every buffer: measured ~0.25 ms per 640 kB array, ~8 % of a batch.
    Workers live for one batch, so holding a few tens of MB until they exit is harmless.
    Returns False where the C library has no ``mallopt`` (macOS, musl): nothing changes.
    """
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in _WORKER_MALLOPT)


def _preload() -> None:
    # Import the heavy modules once in the parent so forked workers start warm.
    import importlib

    for name in ("cmvoice_nb.audio.convert", "cmvoice_nb.audio.check", "soundfile", "soxr", "av"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass


#: Process start method for batches; None picks fork before Python 3.12, forkserver from then on.
START_METHOD: str | None = None
#: Default per-file time limit in a batch (seconds): far above any real prompt (a 1-hour
#: M4A converts in a few seconds), low enough that a stuck file cannot hold the batch.
DEFAULT_FILE_TIMEOUT_S = 120.0


def _context() -> Any:
    # fork is cheapest (workers inherit numpy/soxr already imported); from 3.12 on fork
    # warns when threads exist (Jupyter has several), so use a preloaded forkserver there.
    methods = multiprocessing.get_all_start_methods()
    _preload()
    if START_METHOD is not None:
        return multiprocessing.get_context(START_METHOD)
    if "fork" in methods and sys.version_info < (3, 12):
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["cmvoice_nb.audio.convert", "cmvoice_nb.audio.check", "soundfile", "soxr"])
        return ctx
    return multiprocessing.get_context("spawn")


def _die_with_parent(lifeline: Any) -> None:
    """Block on the lifeline until the parent is gone, then end this worker at once.

    Nothing is ever sent on the lifeline: its only writer is the parent, so ``recv``
    returns (with EOFError, or an OSError on Windows pipes) exactly when the parent
    exits, however it exits (kill -9 included). Portable: an anonymous pipe on POSIX,
    a named pipe on Windows; no signal, no polling, no Linux-only ``prctl``.
    """
    try:
        lifeline.recv()
    except BaseException:  # noqa: BLE001 - any end of the pipe means the parent is gone
        pass
    os._exit(70)


def _worker_main(conn: Any, lifeline: Any, inherited_fd: int | None) -> None:
    """A batch worker: run the chunks the parent sends, one result message per file."""
    import signal
    import threading

    if inherited_fd is not None:
        # fork copied the parent's end of the lifeline into this process: close it, or the
        # lifeline would never report the parent's death.
        try:
            os.close(inherited_fd)
        except OSError:
            pass
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    except (ValueError, OSError):
        pass
    threading.Thread(target=_die_with_parent, args=(lifeline,), daemon=True, name="cmvoice-lifeline").start()
    _init_worker()
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            break
        if task is None:
            break
        fn, jobs = task
        for job in jobs:
            try:
                res = fn(*job)
            except Exception as exc:  # a crash in one file must not take the batch down
                res = {"ok": False, "status": "failed", "problems": [], "warnings": [],
                       "error": f"unexpected error: {type(exc).__name__}: {exc}"}
            try:
                conn.send(res)
            except (EOFError, OSError):
                return


def _failed(error: str) -> dict:
    """The row of a file that never produced its own."""
    return {"ok": False, "status": "failed", "problems": [], "warnings": [], "error": error}


#: Chunks handed to a worker ahead of time: it starts the next one the moment it finishes,
#: without waiting for the parent (which may be busy fsyncing the previous one's files).
_QUEUED_CHUNKS = 2


class _Slot:
    """One worker process and the chunks handed to it, in the order it works through them."""

    def __init__(self, ctx: Any, lifeline_r: Any, inherited_fd: int | None) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, lifeline_r, inherited_fd), daemon=True,
                                name="cmvoice-audio-worker")
        self.proc.start()
        child.close()
        self.queue: deque[list[int]] = deque()
        self.done = 0          # files of queue[0] finished
        self.since = 0.0       # when the current file started (monotonic)

    def give(self, fn: Callable[..., dict], jobs: Sequence[tuple], chunk: list[int]) -> None:
        if not self.queue:
            self.done, self.since = 0, time.monotonic()
        self.queue.append(chunk)
        self.conn.send((fn, [jobs[i] for i in chunk]))

    def stop(self, *, force: bool) -> None:
        if not force:
            try:
                self.conn.send(None)
            except (OSError, ValueError):
                force = True
        if force and self.proc.is_alive():
            self.proc.terminate()
        self.proc.join(timeout=2.0)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(timeout=2.0)
        self.conn.close()


def _run_workers(jobs: Sequence[tuple], fn: Callable[..., dict], chunks: list[list[int]], results: list,
                 *, workers: int, timeout_s: float | None, bar: Any,
                 on_done: Callable[[list[int], list[dict | None]], None] | None) -> None:
    """Run *chunks* of *jobs* on *workers* processes; fill *results* in place.

    Each worker reports every file as it finishes, so the parent always knows which file
    a worker is on and since when. A file running past *timeout_s*, or a worker that dies
    (the OS killed it, a decoder crashed), fails that one file with the reason; the
    worker is replaced and the files it had not reached go on. Workers die with this
    process (see :func:`_die_with_parent`), and are stopped when this returns or raises.
    """
    from multiprocessing.connection import wait

    ctx = _context()
    lifeline_r, lifeline_w = ctx.Pipe(duplex=False)
    inherited_fd = lifeline_w.fileno() if ctx.get_start_method() == "fork" else None
    pending: deque[list[int]] = deque(chunks)
    slots: list[_Slot] = []

    def top_up(slot: _Slot) -> None:
        # Near the end, one chunk at a time: a chunk queued behind a busy worker would leave
        # the other core idle while it waits.
        while pending and (not slot.queue or (len(slot.queue) < _QUEUED_CHUNKS and len(pending) >= workers)):
            slot.give(fn, jobs, pending.popleft())

    try:
        for _ in range(min(workers, len(chunks))):
            slot = _Slot(ctx, lifeline_r, inherited_fd)
            slots.append(slot)
            top_up(slot)
        while True:
            active = [s for s in slots if s.queue]
            if not active:
                break
            wait_for = None
            if timeout_s is not None:
                wait_for = max(0.0, min(s.since for s in active) + timeout_s - time.monotonic())
            wait([s.conn for s in active] + [s.proc.sentinel for s in active], timeout=wait_for)
            for s in active:
                broken = False
                completed: list[list[int]] = []
                while s.queue:
                    try:
                        if not s.conn.poll():
                            break
                        res = s.conn.recv()
                    except (EOFError, OSError):
                        broken = True
                        break
                    results[s.queue[0][s.done]] = res
                    s.done += 1
                    s.since = time.monotonic()
                    bar.update(1)
                    if s.done == len(s.queue[0]):
                        completed.append(s.queue.popleft())
                        s.done = 0
                top_up(s)  # feed first: the worker must not wait while the parent syncs files
                if on_done is not None:
                    for chunk in completed:
                        on_done(chunk, results)
                if not s.queue:
                    continue
                dead = broken or not s.proc.is_alive()
                late = timeout_s is not None and time.monotonic() - s.since > timeout_s
                if not (dead or late):
                    continue
                s.stop(force=True)
                current = s.queue.popleft()
                i = current[s.done]
                if dead:
                    results[i] = _failed(f"worker process died (exit code {s.proc.exitcode}) while on this file; "
                                         "the rest of the batch went on")
                else:
                    results[i] = _failed(f"timed out after {timeout_s:g} s (timeout_s); the worker was stopped "
                                         "and the rest of the batch went on")
                bar.update(1)
                if on_done is not None:
                    on_done(current[: s.done + 1], results)
                # The files it had not reached go to the front, in their order.
                rest = [current[s.done + 1:]] + list(s.queue)
                pending.extendleft(c for c in reversed(rest) if c)
                fresh = _Slot(ctx, lifeline_r, inherited_fd)
                slots[slots.index(s)] = fresh
                top_up(fresh)
    finally:
        for s in slots:
            s.stop(force=bool(s.queue))
        lifeline_w.close()
        lifeline_r.close()


def _run(jobs: Sequence[tuple], fn: Callable[..., dict], *, workers: int | None, progress: bool,
         desc: str, costs: Sequence[float] | None = None,
         on_done: Callable[[list[int], list[dict | None]], None] | None = None,
         timeout_s: float | None = DEFAULT_FILE_TIMEOUT_S) -> list[dict]:
    if timeout_s is not None and not timeout_s > 0:
        raise AudioError(f"timeout_s must be a positive number of seconds or None (no limit), got {timeout_s!r}")
    n = len(jobs)
    results: list[dict | None] = [None] * n
    if workers is None:
        workers = os.cpu_count() or 1
    workers = max(1, min(int(workers), n or 1))
    from tqdm.auto import tqdm

    bar = tqdm(total=n, desc=desc, unit="file", disable=not progress or n == 0)
    try:
        if workers == 1 or n <= 1:
            # In this process there is no one to stop a stuck file: the per-file timeout needs
            # worker processes (regular files only are read, so nothing here blocks on I/O).
            for i, job in enumerate(jobs):
                results[i] = fn(*job)
                bar.update(1)
            if on_done is not None:
                # In process there is nothing to overlap with: one pass at the end lets the file
                # system commit all the files together (measured ~0.2 ms per file, against
                # ~2 ms for an fsync right after each write).
                on_done(list(range(n)), results)
        else:
            # Longest first (by estimated cost), so no core idles at the end waiting for a
            # straggler; then chunked, so each task carries several files.
            order = list(range(n))
            if costs is not None:
                order.sort(key=lambda i: -costs[i])
            _run_workers(jobs, fn, _chunks(order, workers), results, workers=workers, timeout_s=timeout_s,
                         bar=bar, on_done=on_done)
    finally:
        bar.close()
    return [r or {} for r in results]


def _frame(rows: list[dict], columns: list[str]):
    import pandas as pd

    df = pd.DataFrame(rows)
    for col in columns:
        if col not in df.columns:
            df[col] = None
    return df[columns + [c for c in df.columns if c not in columns]]


def _options(target: str, normalize_dbfs, trim, trim_threshold_dbfs, padding_s, overwrite, max_duration_s,
             strict=False, max_bytes=DEFAULT_MAX_BYTES) -> dict:
    from .convert import TARGETS

    if target not in TARGETS:
        raise AudioError(f"unknown target {target!r}: expected one of {', '.join(TARGETS)}")
    # Workers never fsync per file: the batch syncs every output once at the end.
    return dict(target=target, normalize_dbfs=normalize_dbfs, trim=trim, trim_threshold_dbfs=trim_threshold_dbfs,
                padding_s=padding_s, overwrite=overwrite, max_duration_s=max_duration_s, durable=False,
                strict=strict, max_bytes=max_bytes)


def convert_paths(pairs: Iterable[tuple[Any, Any, Any]], *, target: str = "alaw", workers: int | None = None,
                  progress: bool = True, normalize_dbfs: float | None = None, trim: bool = False,
                  trim_threshold_dbfs: float = -45.0, padding_s: float = 0.1, overwrite: bool = True,
                  max_duration_s: float | None = DEFAULT_MAX_DURATION_S, durable: bool = True,
                  strict: bool = False, max_bytes: int | None = DEFAULT_MAX_BYTES,
                  timeout_s: float | None = DEFAULT_FILE_TIMEOUT_S):
    """Convert explicit ``(source_label, src_path, dst_path)`` triples; see :func:`convert_folder`."""
    opts = _options(target, normalize_dbfs, trim, trim_threshold_dbfs, padding_s, overwrite, max_duration_s,
                    strict, max_bytes)
    triples = [(str(a), Path(b), Path(c)) for a, b, c in pairs]
    owners: dict[str, str] = {}
    jobs: list[tuple[str, str, Any]] = []
    rows: list[dict[str, Any]] = []
    job_index: list[int] = []
    for label, src, dst in triples:
        row: dict[str, Any] = {"source": label, "target": str(dst)}
        key = os.path.normcase(os.path.abspath(dst))
        if key in owners:
            row.update(status="failed", ok=False, problems=[], warnings=[],
                       error=f"target {dst.name!r} would also be written from {owners[key]!r}; rename one of them")
        else:
            owners[key] = label
            job_index.append(len(rows))
            jobs.append((str(src), str(dst), opts))
        rows.append(row)
    costs = [_estimated_cost(job[0]) for job in jobs]
    syncer = _Syncer() if durable else None

    def sync_done(indices: list[int], results: list[dict | None]) -> None:
        assert syncer is not None  # called only with a syncer
        syncer.files(jobs[i][1] for i in indices if (results[i] or {}).get("status") == "converted")

    results = _run(jobs, _convert_worker, workers=workers, progress=progress, desc="converting", costs=costs,
                   on_done=sync_done if syncer is not None else None, timeout_s=timeout_s)
    if syncer is not None:
        syncer.finish()
    for i, result in zip(job_index, results, strict=True):
        rows[i].update(result)
    return _frame(rows, CONVERT_COLUMNS)


def convert_folder(src_dir: str | os.PathLike, dst_dir: str | os.PathLike, *, target: str = "alaw",
                   workers: int | None = None, progress: bool = True, normalize_dbfs: float | None = None,
                   trim: bool = False, trim_threshold_dbfs: float = -45.0, padding_s: float = 0.1,
                   overwrite: bool = True, max_duration_s: float | None = DEFAULT_MAX_DURATION_S,
                   durable: bool = True, strict: bool = False, max_bytes: int | None = DEFAULT_MAX_BYTES,
                   timeout_s: float | None = DEFAULT_FILE_TIMEOUT_S):
    """Convert every audio file under *src_dir* into the same tree under *dst_dir*.

    ``prompts/en/Welcome.m4a`` becomes ``out/en/Welcome.wav``. Options as for
    :func:`~cmvoice_nb.audio.convert.convert_prompt`.

    Parameters
    ----------
    workers
        Processes to use (default: one per core; 1 runs in this process).
    progress
        Show a ``tqdm`` progress bar.
    durable
        Every file is written under a temporary name and renamed, so each one is
        all-or-nothing whatever happens. With ``durable=True`` (default) the batch also
        fsyncs every written file once and every output folder once before returning
        (from the parent process, overlapped with the conversions; the workers never
        wait on the disk), so the results survive a power cut once this returns.
        ``False`` skips that (the files can be regenerated).
    strict
        Fail damaged sources (truncated, sizes marked unknown) instead of converting what
        is there; without it their row is ``converted`` and its ``warnings`` say what the
        listener will hear (``"source is truncated: only 2.0 s of the declared 4.0 s will play"``).
    max_bytes, max_duration_s
        Per-file limits: larger or longer inputs fail with the reason. Only regular files
        are read: FIFOs, devices and sockets fail without being opened.
    timeout_s
        Per-file time limit with worker processes (``workers`` > 1): a file still running
        after it fails with "timed out", its worker is replaced and the batch goes on.
        ``None``: no limit. Workers end with this process, even if it is killed.

    Returns
    -------
    pandas.DataFrame
        One row per file: ``source`` (relative to *src_dir*), ``target``, ``status``
        (``converted`` / ``failed``), ``ok`` (written and compliant), ``error``,
        ``problems``, ``warnings``, ``duration_s``, source rate/channels and levels.
    """
    src_root = Path(src_dir)
    if not src_root.is_dir():
        raise AudioError("is not a folder", path=src_root)
    dst_root = Path(dst_dir)
    files = find_audio_files(src_root, exclude=dst_root)
    pairs = [(f.relative_to(src_root).as_posix(), f, dst_root / f.relative_to(src_root).with_suffix(".wav"))
             for f in files]
    return convert_paths(pairs, target=target, workers=workers, progress=progress, normalize_dbfs=normalize_dbfs,
                         trim=trim, trim_threshold_dbfs=trim_threshold_dbfs, padding_s=padding_s,
                         overwrite=overwrite, max_duration_s=max_duration_s, durable=durable, strict=strict,
                         max_bytes=max_bytes, timeout_s=timeout_s)


def check_paths(items: Iterable[tuple[Any, Any]], *, workers: int | None = None, progress: bool = True,
                allow_pcm16: bool = True, max_bytes: int | None = DEFAULT_MAX_BYTES,
                max_duration_s: float | None = DEFAULT_MAX_DURATION_S,
                timeout_s: float | None = DEFAULT_FILE_TIMEOUT_S):
    """Check explicit ``(source_label, path)`` pairs; see :func:`check_folder`."""
    pairs = [(str(a), Path(b)) for a, b in items]
    opts = {"allow_pcm16": allow_pcm16, "max_bytes": max_bytes, "max_duration_s": max_duration_s}
    jobs = [(str(p), opts) for _, p in pairs]
    results = _run(jobs, _check_worker, workers=workers, progress=progress, desc="checking",
                   costs=[_estimated_cost(job[0]) for job in jobs], timeout_s=timeout_s)
    rows = [{"source": label, **res} for (label, _), res in zip(pairs, results, strict=True)]
    return _frame(rows, CHECK_COLUMNS)


def check_folder(path: str | os.PathLike, *, workers: int | None = None, progress: bool = True,
                 allow_pcm16: bool = True, max_bytes: int | None = DEFAULT_MAX_BYTES,
                 max_duration_s: float | None = DEFAULT_MAX_DURATION_S,
                 timeout_s: float | None = DEFAULT_FILE_TIMEOUT_S):
    """Check every audio file under *path* against the provider's spec.

    Options as for :func:`convert_folder` (``max_bytes``, ``max_duration_s``, ``timeout_s``):
    a FIFO, device or socket named like audio is a row with the reason, never a hang.

    Returns
    -------
    pandas.DataFrame
        One row per file: ``source`` (relative to *path*), ``ok``, ``problems``,
        ``warnings``, and the measured fields of :class:`~cmvoice_nb.audio.check.PromptReport`.
    """
    root = Path(path)
    if not root.is_dir():
        raise AudioError("is not a folder", path=root)
    return check_paths([(f.relative_to(root).as_posix(), f) for f in find_audio_files(root)],
                       workers=workers, progress=progress, allow_pcm16=allow_pcm16, max_bytes=max_bytes,
                       max_duration_s=max_duration_s, timeout_s=timeout_s)
