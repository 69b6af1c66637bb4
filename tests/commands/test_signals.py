"""The long-running commands' signal handlers take no lock, so a signal always stops them."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from cmvoice_nb.commands._signals import Received, catch

from .._wait import finish, running, wait_until

posix_only = pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="sends POSIX signals to a child")

# A main thread that spends nearly all its time inside threading.Event.wait, holding the lock that
# Event.set would take: a handler calling Event.set deadlocks there about every other signal.
SPINNER = textwrap.dedent("""
    import signal, sys, threading
    from cmvoice_nb.commands._signals import catch

    received = catch("SIGTERM", "SIGHUP")
    busy = threading.Event()
    for _ in range(5):
        print("ready", flush=True)
        while not received.take(signal.SIGHUP):
            busy.wait(0)
    print("five SIGHUPs", flush=True)
    while not received.stopped:
        busy.wait(0)
    received.restore()
    print("stopped", flush=True)
""")


@posix_only
def test_signals_arriving_while_the_main_thread_holds_an_event_lock_are_all_seen(tmp_path):
    said = tmp_path / "said.txt"  # a file, read by polling: a deadlocked child fails at the deadline
    with open(said, "w") as out, running([sys.executable, "-c", SPINNER], stdout=out, stderr=subprocess.STDOUT,
                                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}) as proc:
        for n in range(1, 6):
            wait_until(lambda n=n: said.read_text().count("ready") == n, timeout=30, what=f"ready #{n}")
            proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "five SIGHUPs" in said.read_text(), timeout=30, what="the fifth SIGHUP seen")
        proc.send_signal(signal.SIGTERM)
        finish(proc, timeout=30)
    assert proc.returncode == 0 and said.read_text().endswith("five SIGHUPs\nstopped\n")


def test_take_forgets_what_it_took_and_stopped_stays_true():
    received = Received()
    received.record(signal.SIGTERM)
    received.record(signal.SIGINT)
    assert received.stopped and received.take(signal.SIGINT) and not received.take(signal.SIGINT)
    assert received.stopped  # SIGTERM is still there


def test_restore_puts_back_the_previous_handlers_and_a_name_this_platform_lacks_is_ignored():
    before = signal.getsignal(signal.SIGTERM)
    received = catch("SIGTERM", "SIGNOTHING")
    try:
        assert signal.getsignal(signal.SIGTERM) == received.record
    finally:
        received.restore()
        received.restore()
    assert signal.getsignal(signal.SIGTERM) is before


def test_outside_the_main_thread_nothing_is_caught():
    import threading

    before = signal.getsignal(signal.SIGTERM)
    seen = []
    thread = threading.Thread(target=lambda: seen.append(catch("SIGTERM")))
    thread.start()
    thread.join()
    assert signal.getsignal(signal.SIGTERM) is before and not seen[0].stopped


def test_only_the_lock_free_helper_installs_python_signal_handlers_in_the_package():
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "cmvoice_nb"
    installs = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "signal"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "signal"
                    and not (isinstance(node.args[1], ast.Attribute) and node.args[1].attr in ("SIG_IGN", "SIG_DFL"))):
                installs.append(f"{path.relative_to(package)}:{node.lineno}")
    assert installs and all(where.startswith("commands/_signals.py:") for where in installs), installs
