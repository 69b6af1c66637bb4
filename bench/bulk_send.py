"""Bulk sending: cmvoice_nb's paced, journaled sender vs a naive serial requests loop.

Everything runs against the built-in simulator on loopback with 50 ms injected latency
(the provider's answer time is the bottleneck of a real campaign, not the client).
Figures, all from the same run:

1. throughput of ``send_campaign`` (rate 2000/s, concurrency 64, journal on disk) vs a naive
   serial ``for row: requests.post(...)`` loop, and their ratio (target >= 20x);
2. client-side overhead per instruction: with 0 ms latency, ``send_campaign`` one request at
   a time vs a serial loop over one ``requests.Session`` (the difference is planning, validation, pacing, two
   fsynced journal commits and bookkeeping);
3. pacing accuracy: the largest number of requests the simulator received in any 1-second
   window vs the configured rate (must never be above it), for a run paced at 100/s;
4. a fault run (429, 503 and dropped connections injected): rows placed twice (must be 0)
   and rows without a final status (must be 0).

Run: ``.venv/bin/python bench/bulk_send.py [--rows 2000] [--serial-rows 2000]``.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import requests

from cmvoice_nb.campaign import RetryPolicy, plan_campaign, send_campaign
from cmvoice_nb.campaign.journal import Journal
from cmvoice_nb.simulator import SIMULATOR_TOKEN

CALLER = "+31201234567"


def _serve(conn, kwargs: dict) -> None:
    """Run a Simulator in its own process (so the server does not share our GIL) and obey *conn*."""
    from cmvoice_nb.simulator import Simulator

    with Simulator(**kwargs) as sim:
        conn.send(sim.base_url)
        while True:
            cmd, arg = conn.recv()
            if cmd == "stop":
                break
            if cmd == "faults":
                conn.send(sim.set_faults(**arg))
            elif cmd == "requests":
                conn.send(sim.requests[["time", "fault", "status", "instruction_id"]])
            elif cmd == "calls":
                conn.send(sim.calls[["instruction_id", "response"]])


class RemoteSim:
    """A :class:`Simulator` in a child process: ``.base_url``, ``.set_faults()``, ``.requests``, ``.calls``."""

    def __init__(self, **kwargs):
        import multiprocessing as mp

        ctx = mp.get_context("spawn")  # never fork a process that has threads
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, kwargs), daemon=True)
        self._proc.start()
        self.base_url = self._conn.recv()
        self.port = int(self.base_url.split(":")[2].split("/")[0])

    def _ask(self, cmd, arg=None):
        self._conn.send((cmd, arg))
        return self._conn.recv()

    def set_faults(self, **kw):
        return self._ask("faults", kw)

    @property
    def requests(self):
        return self._ask("requests")

    @property
    def calls(self):
        return self._ask("calls")

    def client(self, **kw):
        from cmvoice_nb.client import VoiceClient

        return VoiceClient(SIMULATOR_TOKEN, base_url=self.base_url, **kw)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._conn.send(("stop", None))
        self._proc.join(10)


def people(n: int, offset: int = 0) -> pd.DataFrame:
    # Unique NL mobile numbers ending in 10: the simulator always answers those.
    return pd.DataFrame({"callee": [f"+3161{offset + i:05d}10" for i in range(n)],
                         "name": [f"Person {i}" for i in range(n)]})


def plan_for(df: pd.DataFrame, name: str):
    return plan_campaign(df, app="notification", name=name,
                         defaults={"caller": CALLER, "prompt": "Hello {name}, this is a reminder.",
                                   "prompt-type": "TTS"})


def client_for(sim, pool: int):
    # requests' default pool keeps 10 connections per host; give every worker its own.
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=pool)
    session.mount("http://", adapter)
    return sim.client(session=session)


def naive_serial(sim, df: pd.DataFrame, *, session=None) -> float:
    """The loop people write first: one requests.post per row, no journal, no pacing."""
    post = session.post if session is not None else requests.post
    url = f"{sim.base_url}/Notification"
    headers = {"X-CM-PRODUCTTOKEN": SIMULATOR_TOKEN, "Content-Type": "application/json"}
    started = time.perf_counter()
    for i, row in enumerate(df.itertuples(index=False)):
        body = {"instruction-id": f"naive-{i}-{sim.port}", "callee": row.callee, "caller": CALLER,
                "prompt": f"Hello {row.name}, this is a reminder.", "prompt-type": "TTS"}
        post(url, data=json.dumps(body), headers=headers, timeout=30).raise_for_status()
    return time.perf_counter() - started


def max_in_window(times: pd.Series, window_s: float = 1.0) -> int:
    t = np.sort(times.to_numpy(dtype="datetime64[ns]").astype("int64")) / 1e9
    if len(t) == 0:
        return 0
    ends = np.searchsorted(t, t + window_s, side="left")
    return int((ends - np.arange(len(t))).max())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--serial-rows", type=int, default=None, help="rows for the naive loop (default: --rows)")
    ap.add_argument("--latency-s", type=float, default=0.05)
    ap.add_argument("--rate", type=float, default=2000.0)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--overhead-rows", type=int, default=500)
    ap.add_argument("--paced-rate", type=float, default=100.0)
    ap.add_argument("--paced-rows", type=int, default=600)
    ap.add_argument("--fault-rows", type=int, default=1000)
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    serial_rows = a.serial_rows or a.rows
    tmp = Path(tempfile.mkdtemp(prefix="cmvoice-bench-"))
    fast = dict(rate=a.rate, burst=a.concurrency, concurrency=a.concurrency, progress=False)
    print(f"bulk send bench: {a.rows} rows, simulator latency {a.latency_s * 1e3:.0f} ms, "
          f"cmvoice rate {a.rate:g}/s concurrency {a.concurrency}")

    # speed=1e6 so simulated calls end at once and callbacks (to nowhere) cost nothing.
    with RemoteSim(seed=1, speed=1e6, faults={"latency_s": a.latency_s}) as sim:
        client = client_for(sim, a.concurrency)
        plan = plan_for(people(a.rows), "bench")
        t0 = time.perf_counter()
        res = send_campaign(plan, client, journal=tmp / "bench.sqlite", **fast)
        t_cm = time.perf_counter() - t0
        assert (res["status"] == "queued").all(), res["status"].value_counts()
        cm_rps = a.rows / t_cm
        cm_window = max_in_window(sim.requests["time"])

        t_naive = naive_serial(sim, people(serial_rows, offset=50000))
        naive_rps = serial_rows / t_naive
        ratio = cm_rps / naive_rps
        print(f"cmvoice_nb send_campaign : {a.rows} rows in {t_cm:6.2f} s = {cm_rps:7.1f} rows/s "
              f"(max {cm_window} requests in any 1 s, rate {a.rate:g}/s)")
        print(f"naive serial requests    : {serial_rows} rows in {t_naive:6.2f} s = {naive_rps:7.1f} rows/s")
        print(f"ratio                    : {ratio:.1f}x  (target >= 20x)")

        # 2. overhead per instruction, no latency, one request at a time
        sim.set_faults(latency_s=0.0)
        n = a.overhead_rows
        oplan = plan_for(people(n, offset=20000), "overhead")
        t0 = time.perf_counter()
        send_campaign(oplan, client, journal=tmp / "overhead.sqlite", rate=1e6, burst=1, concurrency=1, progress=False)
        t_cm1 = time.perf_counter() - t0
        with requests.Session() as session:
            t_naive0 = naive_serial(sim, people(n, offset=70000), session=session)
        plan_t0 = time.perf_counter()
        plan_for(people(n, offset=20000), "overhead")
        t_plan = time.perf_counter() - plan_t0
        print(f"overhead per instruction : {(t_cm1 - t_naive0) / n * 1e3:.2f} ms "
              f"(cmvoice serial {t_cm1 / n * 1e3:.2f} ms/row incl. planning {t_plan / n * 1e3:.2f} ms/row "
              f"vs a serial requests.Session loop {t_naive0 / n * 1e3:.2f} ms/row, 0 ms latency)")

    # 3. pacing accuracy at a rate that binds
    with RemoteSim(seed=2, speed=1e6, faults={"latency_s": a.latency_s}) as sim:
        client = client_for(sim, a.concurrency)
        pplan = plan_for(people(a.paced_rows, offset=30000), "paced")
        t0 = time.perf_counter()
        send_campaign(pplan, client, journal=tmp / "paced.sqlite", rate=a.paced_rate, burst=5,
                      concurrency=a.concurrency, progress=False)
        t_paced = time.perf_counter() - t0
        worst = max_in_window(sim.requests["time"])
        print(f"pacing accuracy          : rate {a.paced_rate:g}/s -> max {worst} requests in any 1 s window "
              f"({'OK, never above' if worst <= a.paced_rate else 'ABOVE THE RATE'}); "
              f"mean {a.paced_rows / t_paced:.1f}/s over {t_paced:.2f} s")

    # 4. faults: 429 + 503 + dropped connections
    with RemoteSim(seed=3, speed=1e6, faults={"latency_s": a.latency_s, "rate_429": 0.1, "rate_5xx": 0.1,
                                               "status_5xx": 503, "rate_drop": 0.05,
                                               "retry_after_s": 0.05}) as sim:
        client = client_for(sim, a.concurrency)
        fplan = plan_for(people(a.fault_rows, offset=40000), "faults")
        t0 = time.perf_counter()
        fres = send_campaign(fplan, client, journal=tmp / "faults.sqlite", retry=RetryPolicy(max_attempts=8),
                             **fast)
        t_fault = time.perf_counter() - t0
        placed = sim.calls["instruction_id"].value_counts()
        twice = int((placed > 1).sum())
        with Journal(tmp / "faults.sqlite") as j:
            states = j.counts("faults")
        not_final = int(fres["status"].isin(["skipped"]).sum()) + states.get("pending", 0) + states.get("sending", 0)
        faults = sim.requests["fault"].value_counts().to_dict()
        counts = fres["status"].value_counts().to_dict()
        dropped = int((sim.calls["response"] == "dropped").sum())
        print(f"fault run                : {a.fault_rows} rows in {t_fault:.2f} s, injected {faults}; "
              f"results {counts}")
        print(f"  rows sent twice        : {twice}  (must be 0)")
        print(f"  rows without a final status: {not_final}  (must be 0)")
        print(f"  unknown rows == dropped connections: {counts.get('unknown', 0)} == {dropped}")
    ok = ratio >= 20 and twice == 0 and not_final == 0 and worst <= a.paced_rate
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
