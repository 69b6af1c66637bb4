"""Waiting in tests: on a positive signal with a deadline, never a bare sleep.

A test that must see something happen polls for it with :func:`wait_until`; a test that needs a
process cut mid-run starts it with :func:`running` and kills it with :func:`kill_when` once what
it waits for has happened. The deadline only bounds a failing test: nothing here asserts a time.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager


def wait_until(predicate, *, timeout: float = 60.0, interval: float = 0.02, what: str = "the condition"):
    """Poll *predicate* until it returns something truthy; return that, or fail after *timeout* s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


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
    proc.wait(10)
