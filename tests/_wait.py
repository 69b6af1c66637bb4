"""Waiting in tests: on a positive signal with a deadline, never a bare sleep.

A test that must see something happen polls for it with :func:`wait_until`; a test that needs a
process cut mid-run starts it with :func:`running` and kills it with :func:`kill_when` once what
it waits for has happened; a test waiting for a process to end calls :func:`finish`. The deadline
only bounds a failing test: nothing here asserts a time. Every deadline is :func:`scaled` for the
machine's load, so a test that passes alone does not time out on a busy machine (CI, ``-n auto``).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager

#: At most this many times the nominal deadline, however loaded the machine.
MAX_STRETCH = 10.0


def scaled(seconds: float) -> float:
    """*seconds* stretched by the load per core (at least 1, at most :data:`MAX_STRETCH`), times
    ``CMVOICE_TEST_SLOWDOWN`` when set (for a machine known to be slow, such as an emulator)."""
    try:
        per_core = os.getloadavg()[0] / (os.cpu_count() or 1)
    except (AttributeError, OSError):  # Windows has no load average
        per_core = 1.0
    extra = float(os.environ.get("CMVOICE_TEST_SLOWDOWN") or 1)
    return seconds * min(MAX_STRETCH, max(1.0, per_core)) * max(1.0, extra)


def wait_until(predicate, *, timeout: float = 60.0, interval: float = 0.02, what: str = "the condition"):
    """Poll *predicate* until it returns something truthy; return that, or fail after *timeout* s
    (:func:`scaled`)."""
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def finish(proc, *, timeout: float = 60.0, what: str = "the process to exit"):
    """``proc.communicate()`` within *timeout* s (:func:`scaled`): its ``(stdout, stderr)``.

    Past the deadline the process is killed and the test fails with the end of what it said.
    """
    timeout = scaled(timeout)
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        said = "\n".join(str(part or "")[-2000:] for part in (out, err))
        raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; it said:\n{said}") from None


def cmvoice(*argv) -> list[str]:
    """The command line that runs ``cmvoice`` *argv* with this interpreter, as an operator runs it."""
    return [sys.executable, "-m", "cmvoice_nb", *map(str, argv)]


@contextmanager
def running(command, **popen):
    """*command* started as a child process, killed on the way out if it is still running."""
    proc = subprocess.Popen(command, **popen)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def kill_when(proc, predicate, *, timeout: float = 60.0, what: str = "the condition", output=None) -> None:
    """Kill *proc* at once (``kill -9``) once *predicate* holds; fail if *proc* ended first.

    *output*, a callable, gives what the process said, for the failure's message.
    """
    wait_until(lambda: proc.poll() is not None or predicate(), timeout=timeout, what=what)
    assert proc.poll() is None, f"the process ended before {what}" + (f":\n{output()}" if output else "")
    os.kill(proc.pid, signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM)
    proc.wait(scaled(10))
