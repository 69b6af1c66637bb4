"""Benchmark: load 1,000,000-callback JSONL logs, ``load_callbacks`` vs the naive pandas way.

Generates two logs. *clean*: all three apps, all result codes, numeric SIP details on some
failures, ~0.5 % duplicate deliveries, ~0.01 % malformed lines, the receiver's ``received-at``
on every line. *messy*: the provider's documented example values (``"BYE"``, empty reasons,
``answered-on: null``, timestamps with and without milliseconds, ``anonymous`` callers), 1 %
duplicates, one torn line per 1,000, one unknown key per 100. For each it times, in the same run
and each run in a fresh process (so that peak memory is the contender's own):

* naive: ``json.loads`` per line (skipping bad lines) + ``pd.json_normalize`` + the same
  typing (UTC timestamps, nullable codes) and duplicate removal;
* ``cmvoice_nb.load_callbacks``.

It checks that both give identical content (a hash over every compared column) and prints
rows/second, peak resident memory above the process's start, and the ratio (targets: >= 8x on
the clean log, >= 5x on the messy one).

``--gc-rows N`` (default 300,000) adds the busy-process figure: ``load_callbacks`` of an N-line clean
log in a fresh process, and in one that first made ``--gc-live`` (default 300,000) dicts it keeps
alive (a notebook that has loaded anything), each three times, interleaved; the medians and their
ratio (target: within 15 %).

``--scale-rows N`` (e.g. 10000000, a ~4 GB log) adds the years-of-logs figures, each in a fresh
process: ``load_callbacks`` of the N-line clean log (time and peak resident memory, target
<= 4 GB), then, on the Hive-partitioned Parquet dataset ``save_calls(..., partition_by="day")``
writes from it, ``summarize(dataset, by=...)`` on DuckDB against pandas doing the same summary on
the same data (``pd.read_parquet(dataset)`` + ``summarize(frame, by=...)``): time, peak memory,
ratio, and whether the two tables agree.

    .venv/bin/python bench/load_callbacks.py [--rows 1000000] [--log clean|messy|both|none] [--repeat 2]
    .venv/bin/python bench/load_callbacks.py --log none --scale-rows 10000000 [--keep DIR]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

APPS = ("notification", "otp", "dtmf")
TYPES = {"notification": "notification-finished", "otp": "otp-finished", "dtmf": "dtmf-finished"}
DESCRIPTIONS = {9: "Cancelled", 10: "Finished", 11: "Failed", 12: "Call rejected"}


def call_times(code, started, ring_ms, talk_ms):
    """(answered, finished) of a generated call: answered calls ring then talk, 9 rings out at 60 s."""
    if code == 10:
        answered = started + np.timedelta64(ring_ms, "ms")
        return answered, answered + np.timedelta64(talk_ms, "ms")
    if code == 9:
        return None, started + np.timedelta64(60_000, "ms")
    return None, started + np.timedelta64(ring_ms // 10, "ms")


def generate(path: Path, rows: int, *, seed: int = 0) -> dict:
    """Write *rows* callbacks (plus duplicates and malformed lines) to *path*; return the counts."""
    rng = np.random.default_rng(seed)
    apps = rng.choice(3, size=rows, p=[0.5, 0.3, 0.2])
    codes = rng.choice([9, 10, 11, 12], size=rows, p=[0.15, 0.72, 0.08, 0.05])
    offsets = rng.integers(0, 21 * 86400_000, size=rows).astype("timedelta64[ms]")
    start = np.datetime64("2026-11-01T07:00:00", "ms") + offsets
    ring_ms = rng.gamma(3.0, 2500.0, size=rows).astype(np.int64)
    talk_ms = rng.gamma(4.0, 5000.0, size=rows).astype(np.int64)
    countries = rng.choice(["31", "32", "49", "44", "33"], size=rows)
    dup_every = 200  # 0.5 % duplicate deliveries
    bad_every = 9973  # ~0.01 % malformed lines
    n_dup = n_bad = 0
    with open(path, "w", encoding="utf-8") as fh:
        lines = []
        for i in range(rows):
            app = APPS[apps[i]]
            code = int(codes[i])
            started = start[i]
            answered, finished = call_times(code, started, int(ring_ms[i]), int(talk_ms[i]))
            rec = {
                "received-at": f"{finished + np.timedelta64(400, 'ms')}Z",
                "type": TYPES[app],
                "call-id": f"{i:08x}-00ac-4de2-a04d-b3f7c895adb0",
                "instruction-id": f"campaign-7-row-{i}",
                "caller": "0031201234567",
                "callee": f"00{countries[i]}6{i % 100000000:08d}",
                "result": {"code": code, "description": DESCRIPTIONS[code]},
                "started-on": f"{started}Z",
                "answered-on": f"{answered}Z" if answered is not None else None,
                "finished-on": f"{finished}Z",
            }
            if code in (11, 12):
                rec["result"]["sip-disconnect-code"] = 486 if code == 12 else 503
                rec["result"]["sip-disconnect-reason"] = "Busy Here" if code == 12 else "Service Unavailable"
            if app == "dtmf":
                rec["digits"] = f"{i % 1000:03d}" if code == 10 and i % 7 else ""
            line = json.dumps(rec)
            lines.append(line)
            if i % dup_every == 0:
                # The provider delivers the same callback again, a moment later.
                again = dict(rec, **{"received-at": f"{finished + np.timedelta64(5400, 'ms')}Z"})
                lines.append(json.dumps(again))
                n_dup += 1
            if i % bad_every == 0:
                lines.append(line[: len(line) // 2])  # a truncated write
                n_bad += 1
            if len(lines) >= 50_000:
                fh.write("\n".join(lines) + "\n")
                lines = []
        fh.write("\n".join(lines) + "\n")
    return {"rows": rows, "duplicates": n_dup, "malformed": n_bad}


def generate_messy(path: Path, rows: int, *, seed: int = 1) -> dict:
    """Write *rows* callbacks the way the provider really sends them, with the usual mess.

    The provider's documented example values (API-CONTRACT.md, "Callbacks"): ``"sip-disconnect-code":
    "BYE"`` with an empty ``sip-disconnect-reason`` (half of the failures; the other half carry the
    numeric codes older integrations send, so the column mixes kinds), ``"answered-on": null`` when
    nobody answered, timestamps with and without milliseconds, ``caller`` ``"anonymous"`` on one
    call in ten. Plus 1 % duplicate deliveries, one line cut mid-write per 1,000 and one unknown
    key per 100 lines.
    """
    rng = np.random.default_rng(seed)
    apps = rng.choice(3, size=rows, p=[0.5, 0.3, 0.2])
    codes = rng.choice([9, 10, 11, 12], size=rows, p=[0.15, 0.72, 0.08, 0.05])
    offsets = rng.integers(0, 21 * 86400_000, size=rows).astype("timedelta64[ms]")
    start = np.datetime64("2026-11-01T07:00:00", "ms") + offsets
    ring_ms = rng.gamma(3.0, 2500.0, size=rows).astype(np.int64)
    talk_ms = rng.gamma(4.0, 5000.0, size=rows).astype(np.int64)
    countries = rng.choice(["31", "32", "49", "44", "33"], size=rows)
    n_dup = n_bad = n_unknown = 0

    def stamp(t, i):
        text = f"{t}Z"
        return text if i % 3 else text[:-5] + "Z"  # every third callback: whole seconds only

    with open(path, "w", encoding="utf-8") as fh:
        lines = []
        for i in range(rows):
            app = APPS[apps[i]]
            code = int(codes[i])
            started = start[i]
            answered, finished = call_times(code, started, int(ring_ms[i]), int(talk_ms[i]))
            rec = {
                "received-at": f"{finished + np.timedelta64(400, 'ms')}Z",
                "type": TYPES[app],
                "call-id": f"{i:08x}-00ac-4de2-a04d-b3f7c895adb0",
                "instruction-id": f"campaign-7-row-{i}",
                "caller": "anonymous" if i % 10 == 3 else "0031201234567",
                "callee": f"00{countries[i]}6{i % 100000000:08d}",
                "result": {"code": code, "description": DESCRIPTIONS[code]},
                "started-on": stamp(started, i),
                "answered-on": stamp(answered, i) if answered is not None else None,
                "finished-on": stamp(finished, i),
            }
            if code in (11, 12):
                if i % 2:
                    rec["result"]["sip-disconnect-code"] = "BYE"  # the provider's own example
                    rec["result"]["sip-disconnect-reason"] = ""
                else:
                    rec["result"]["sip-disconnect-code"] = 486 if code == 12 else 503
                    rec["result"]["sip-disconnect-reason"] = "Busy Here" if code == 12 else "Service Unavailable"
            if app == "dtmf":
                rec["digits"] = f"{i % 1000:03d}" if code == 10 and i % 7 else ""
            if i % 100 == 42:
                rec["customGrouping3"] = f"spring-{i % 7}"  # integrations add their own keys
                n_unknown += 1
            line = json.dumps(rec)
            lines.append(line)
            if i % 100 == 0:
                again = dict(rec, **{"received-at": f"{finished + np.timedelta64(5400, 'ms')}Z"})
                lines.append(json.dumps(again))
                n_dup += 1
            if i % 1000 == 500:
                lines.append(line[: len(line) // 2])  # a write cut short
                n_bad += 1
            if len(lines) >= 50_000:
                fh.write("\n".join(lines) + "\n")
                lines = []
        fh.write("\n".join(lines) + "\n")
    return {"rows": rows, "duplicates": n_dup, "malformed": n_bad, "unknown_keys": n_unknown}


RENAME = {
    "call-id": "call_id", "instruction-id": "instruction_id", "result.code": "result_code",
    "result.description": "result_description", "result.sip-disconnect-code": "sip_disconnect_code",
    "result.sip-disconnect-reason": "sip_disconnect_reason", "started-on": "started_on",
    "answered-on": "answered_on", "finished-on": "finished_on", "received-at": "received_at",
}


def _text(series: pd.Series) -> pd.Series:
    """Documented text columns: numbers sent for them become their digits (486, not 486.0)."""
    if pd.api.types.is_float_dtype(series.dtype):
        series = series.astype("Int64")
    return series.map(lambda v: v if isinstance(v, str) else str(v), na_action="ignore").astype("string")


def naive(path: Path) -> pd.DataFrame:
    """The usual notebook code: json.loads per line, json_normalize, then the same typing and dedupe."""
    records, bad = [], 0
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError:
                bad += 1
    df = pd.json_normalize(records).rename(columns=RENAME)
    for col in ("started_on", "answered_on", "finished_on", "received_at"):
        df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601", errors="coerce")
    df["result_code"] = df["result_code"].astype("Int64")
    for col in ("sip_disconnect_code", "digits"):
        if col in df.columns:
            df[col] = _text(df[col])
    subset = [c for c in df.columns if c != "received_at"]
    return df.drop_duplicates(subset=subset).reset_index(drop=True)


COLUMNS = ["type", "call_id", "instruction_id", "caller", "callee", "result_code", "result_description",
           "sip_disconnect_code", "sip_disconnect_reason", "started_on", "answered_on", "finished_on",
           "digits", "received_at", "customGrouping3"]


def content_digest(frame: pd.DataFrame) -> tuple[int, int]:
    """(rows, hash) over the compared columns, each reduced to text or nanoseconds (missing: one marker)."""
    parts = {}
    for col in COLUMNS:
        s = frame[col] if col in frame.columns else pd.Series([None] * len(frame))
        s = s.reset_index(drop=True)
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            ns = s.dt.tz_convert("UTC").astype("datetime64[ns, UTC]").astype("int64")  # same unit on both sides
            parts[col] = ns.where(s.notna(), -1)
        else:
            parts[col] = s.astype("object").where(s.notna(), "\x00<NA>").astype(str)
    digest = pd.util.hash_pandas_object(pd.DataFrame(parts), index=False)
    return len(frame), int(digest.to_numpy().astype("uint64").sum(dtype="uint64"))


def _status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _measure(kind: str, path: str, conn) -> None:
    """In a fresh child: time one load; send back (seconds, peak MB above the start, digest, report)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # reset the peak to the current resident size (Linux)
    except OSError:
        pass
    base = _status_mb("VmRSS") or 0.0
    report = None
    t = time.perf_counter()
    if kind == "naive":
        frame = naive(Path(path))
        elapsed = time.perf_counter() - t
    else:
        from cmvoice_nb.callbacks.load import load_callbacks

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = load_callbacks(path)
        elapsed = time.perf_counter() - t
        rep = frame.attrs["load_report"]
        report = (rep.bad_line_count, rep.duplicates_removed, rep.tolerant_lines)
    peak = _status_mb("VmHWM")
    conn.send((elapsed, (peak - base) if peak else None, content_digest(frame), report))
    conn.close()


def measure(kind: str, path: Path):
    """Run one contender in a forked child, so that its peak memory is its own."""
    import multiprocessing as mp

    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_measure, args=(kind, str(path), child))
    proc.start()
    child.close()
    result = parent.recv()
    proc.join()
    return result


def _mb(value: float | None) -> str:
    return f"peak +{value:,.0f} MB" if value is not None else "peak n/a"


def run_one(name: str, path: Path, repeat: int) -> bool:
    t_naive = t_fast = float("inf")
    for _ in range(repeat):
        # Alternate the two, keeping each one's best time: the machine is shared and noisy.
        elapsed, mem_naive, slow, _ = measure("naive", path)
        t_naive = min(t_naive, elapsed)
        elapsed, mem_fast, fast, report = measure("fast", path)
        t_fast = min(t_fast, elapsed)
    identical = slow == fast
    rows = fast[0]
    bad, dups, tolerant = report
    target = 8 if name == "clean" else 5
    print(f"--- {name} log: best of {repeat} alternating runs each, every run in a fresh process")
    print(f"naive json.loads + json_normalize: {t_naive:6.2f} s  {rows / t_naive:>12,.0f} rows/s  {_mb(mem_naive)}")
    print(f"load_callbacks:                    {t_fast:6.2f} s  {rows / t_fast:>12,.0f} rows/s  {_mb(mem_fast)}")
    print(f"rows {rows:,}; bad lines reported {bad}; duplicates removed {dups}; "
          f"lines read one by one (tolerant path) {tolerant}")
    print(f"identical content: {identical}" + ("" if identical else f" (rows {fast[0]:,} vs {slow[0]:,})"))
    print(f"ratio: {t_naive / t_fast:.1f}x faster (target >= {target}x)", flush=True)
    return identical


def _gc_child(path: str, live: int, conn) -> None:
    """In a fresh child: keep *live* dicts alive (as a notebook keeps its data), then time one load."""
    import gc

    from cmvoice_nb.callbacks.load import load_callbacks

    kept = [{"row": i, "tags": [i]} for i in range(live)]  # containers: the cyclic collector tracks them
    collections = [0]
    gc.callbacks.append(lambda phase, info: collections.__setitem__(0, collections[0] + (phase == "start")))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        cpu = time.process_time()
        frame = load_callbacks(path)
        elapsed, cpu = time.perf_counter() - t, time.process_time() - cpu
    conn.send((elapsed, cpu, len(frame), len(kept), gc.isenabled(), collections[0]))
    conn.close()


def run_gc(folder: Path, rows: int, live: int, repeat: int) -> bool:
    """``load_callbacks`` in a fresh process vs one holding *live* other objects: medians of *repeat* runs each."""
    import multiprocessing as mp
    import statistics

    path = folder / f"callbacks-gc-{rows}.jsonl"
    generate(path, rows)
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    found: dict[int, list] = {0: [], live: []}
    for _ in range(repeat):
        for objects in (0, live):  # interleaved: the machine is shared
            parent, child = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_gc_child, args=(str(path), objects, child))
            proc.start()
            child.close()
            found[objects].append(parent.recv())
            proc.join()
    os.remove(path)
    fresh = statistics.median(r[0] for r in found[0])
    busy = statistics.median(r[0] for r in found[live])
    fresh_cpu = statistics.median(r[1] for r in found[0])
    busy_cpu = statistics.median(r[1] for r in found[live])
    ratio = busy / fresh
    print(f"--- load_callbacks of a {rows:,}-line log, median of {repeat} runs each, every run in a fresh process")
    print(f"fresh process:                        {fresh:6.2f} s (CPU {fresh_cpu:5.2f} s)  "
          f"runs {', '.join(f'{r[0]:.2f}' for r in found[0])}")
    print(f"holding {live:,} other live dicts:  {busy:6.2f} s (CPU {busy_cpu:5.2f} s)  "
          f"runs {', '.join(f'{r[0]:.2f}' for r in found[live])}")
    print(f"ratio {ratio:.2f} by wall clock, {busy_cpu / fresh_cpu:.2f} by CPU time (target <= 1.15); rows "
          f"{found[0][0][2]:,}; collections during the loads: {max(r[5] for r in found[0] + found[live])}; "
          f"the collector on again after each load: {all(r[4] for r in found[live])}", flush=True)
    return ratio <= 1.15


def _peaks() -> tuple[float | None, float | None]:
    return _status_mb("VmHWM"), _status_mb("VmRSS")


def _reset_peak() -> float:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # the peak restarts from the current resident size (Linux)
    except OSError:
        pass
    return _status_mb("VmRSS") or 0.0


def _scale_child(kind: str, path: str, dataset: str, by, conn) -> None:
    """In a fresh child: one scale measurement; sends (seconds, peak MB, start MB, result)."""
    base = _reset_peak()
    t = time.perf_counter()
    result = None
    if kind == "load":
        from cmvoice_nb.callbacks.load import load_callbacks, save_calls

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frame = load_callbacks(path)
        elapsed = time.perf_counter() - t
        peak = _status_mb("VmHWM")
        rep = frame.attrs["load_report"]
        result = {"rows": len(frame), "bad": rep.bad_line_count, "duplicates": rep.duplicates_removed,
                  "frame_mb": frame.memory_usage(deep=True).sum() / 2**20,
                  "dtypes": {c: str(frame[c].dtype) for c in ("type", "caller", "call_id", "outcome")}}
        conn.send((elapsed, peak, base, result))
        conn.close()
        save_calls(frame, dataset, partition_by="day")  # after the measurement: the next runs read it
        return
    from cmvoice_nb.callbacks.analysis import summarize

    if kind == "duckdb":
        result = summarize(dataset, by)
    else:
        result = summarize(pd.read_parquet(dataset), by)
    elapsed = time.perf_counter() - t
    conn.send((elapsed, _status_mb("VmHWM"), base, result))
    conn.close()


def _scale_measure(kind: str, path: Path, dataset: Path, by=None):
    import multiprocessing as mp

    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_scale_child, args=(kind, str(path), str(dataset), by, child))
    proc.start()
    child.close()
    result = parent.recv()
    proc.join()
    return result


def _same_summary(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    a, b = a.reset_index(), b.reset_index()
    if list(a.columns) != list(b.columns) or len(a) != len(b):
        return False
    for col in a.columns:
        x, y = a[col], b[col]
        if pd.api.types.is_float_dtype(x.dtype) or pd.api.types.is_float_dtype(y.dtype):
            if not np.allclose(x.to_numpy(dtype=float), y.to_numpy(dtype=float), rtol=1e-9, equal_nan=True):
                return False
        elif x.astype(str).tolist() != y.astype(str).tolist():
            return False
    return True


def run_scale(folder: Path, rows: int, keep: bool, repeat: int) -> bool:
    """The N-line load's time and peak memory, then DuckDB vs pandas summarize on its dataset."""
    path = folder / f"callbacks-clean-{rows}.jsonl"
    if not (keep and path.exists()):
        t = time.perf_counter()
        counts = generate(path, rows)
        print(f"scale: generated {counts['rows']:,} callbacks + {counts['duplicates']:,} duplicates + "
              f"{counts['malformed']:,} malformed lines ({path.stat().st_size / 1e9:,.2f} GB) "
              f"in {time.perf_counter() - t:.1f} s", flush=True)
    import cmvoice_nb.callbacks.analysis  # noqa: F401 - imported before the children fork, as load is
    try:
        import duckdb  # noqa: F401 - so that neither contender's time includes an import
    except ImportError:
        print("scale: DuckDB is not installed (pip install cmvoice_nb[scale]); the summarize comparison needs it")
        return False
    dataset = folder / f"dataset-{rows}"
    if dataset.exists():
        import shutil

        shutil.rmtree(dataset)
    elapsed, peak, base, info = _scale_measure("load", path, dataset)
    size_gb = path.stat().st_size / 1e9
    ok_mem = peak is not None and peak / 1024 <= 4.0
    print(f"--- load_callbacks of a {size_gb:.2f} GB log, {rows:,} lines, in a fresh process")
    print(f"{elapsed:6.1f} s  {info['rows'] / elapsed:>10,.0f} rows/s  peak resident "
          + (f"{peak:,.0f} MB ({peak / 1024:.2f} GiB; +{peak - base:,.0f} MB above the start)" if peak else "n/a")
          + f"; target <= 4 GB: {'met' if ok_mem else 'NOT met'}")
    print(f"rows {info['rows']:,}; bad lines {info['bad']:,}; duplicates removed {info['duplicates']:,}; "
          f"frame {info['frame_mb']:,.0f} MB in memory; dtypes {info['dtypes']}", flush=True)
    files = list(dataset.rglob("*.parquet"))
    print(f"dataset: {len(files)} day partitions, {sum(f.stat().st_size for f in files) / 1e6:,.0f} MB of Parquet")
    if not keep:
        os.remove(path)
    ok = ok_mem
    for by in (None, "app", "date"):
        best = {}
        for _ in range(repeat):
            for kind in ("duckdb", "pandas"):
                elapsed, peak, base, table = _scale_measure(kind, path, dataset, by)
                if kind not in best or elapsed < best[kind][0]:
                    best[kind] = (elapsed, peak, base, table)
        (td, pd_peak_d, bd, tab_d), (tp, pd_peak_p, bp, tab_p) = best["duckdb"], best["pandas"]
        same = _same_summary(tab_d, tab_p)
        ok &= same
        print(f"--- summarize(by={by!r}) of {rows:,} calls: best of {repeat}, every run in a fresh process")
        print(f"DuckDB on the dataset:                {td:6.2f} s  peak +{pd_peak_d - bd:,.0f} MB")
        print(f"pandas: read_parquet + same summary:  {tp:6.2f} s  peak +{pd_peak_p - bp:,.0f} MB")
        print(f"ratio: {tp / td:.1f}x faster, {(pd_peak_p - bp) / max(pd_peak_d - bd, 1):.1f}x less memory; "
              f"same table: {same}", flush=True)
    if not keep:
        import shutil

        shutil.rmtree(dataset, ignore_errors=True)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2, help="timed runs of each (best is kept)")
    parser.add_argument("--log", choices=("clean", "messy", "both", "none"), default="both")
    parser.add_argument("--scale-rows", type=int, default=0,
                        help="also load a clean log of this many lines (10000000: ~4 GB) and compare "
                             "summarize on DuckDB vs pandas on its partitioned dataset")
    parser.add_argument("--keep", default=None, help="write the generated logs into this folder and keep them")
    parser.add_argument("--gc-rows", type=int, default=300_000,
                        help="lines of the log loaded in a fresh and in a busy process (0: skip)")
    parser.add_argument("--gc-live", type=int, default=300_000, help="live dicts the busy process holds")
    parser.add_argument("--gc-repeat", type=int, default=3, help="runs of each (the median is kept)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import logging

    logging.getLogger("cmvoice_nb").setLevel(logging.ERROR)  # the skipped lines are expected here
    import cmvoice_nb.callbacks.load  # noqa: F401 - imported once, before the children fork

    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(args.keep) if args.keep else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for name in {"both": ("clean", "messy"), "none": ()}.get(args.log, (args.log,)):
            path = folder / f"callbacks-{name}.jsonl"
            if not (args.keep and path.exists()):
                t = time.perf_counter()
                counts = (generate if name == "clean" else generate_messy)(path, args.rows)
                extra = f" + {counts['unknown_keys']:,} unknown keys" if "unknown_keys" in counts else ""
                print(f"{name}: generated {counts['rows']:,} callbacks + {counts['duplicates']:,} duplicates + "
                      f"{counts['malformed']:,} malformed lines{extra} ({path.stat().st_size / 1e6:,.0f} MB) "
                      f"in {time.perf_counter() - t:.1f} s")
            ok &= run_one(name, path, args.repeat)
            if not args.keep:
                os.remove(path)
        if args.gc_rows:
            ok &= run_gc(folder, args.gc_rows, args.gc_live, args.gc_repeat)
        if args.scale_rows:
            ok &= run_scale(folder, args.scale_rows, bool(args.keep), args.repeat)
    if hasattr(os, "getloadavg"):
        print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
