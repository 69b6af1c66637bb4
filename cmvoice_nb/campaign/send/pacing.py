"""Client-side pacing: a token bucket with a hard per-second ceiling.

The provider documents no rate limit, so the client paces itself. :class:`TokenBucket`
grants one token per call: tokens refill at ``rate`` per second up to ``burst``, and on
top of that no more than ``floor(rate)`` (at least 1) calls start in any window of
``window_s`` seconds, so ``rate`` is a ceiling an operator can rely on, not an average.

The bucket is pure bookkeeping over an injected clock: :meth:`TokenBucket.try_acquire`
never sleeps, it returns how long to wait. :meth:`TokenBucket.acquire` is the thin
blocking edge; it waits on a :class:`threading.Event` so a Stop button interrupts it.

Examples
--------
>>> t = [0.0]
>>> bucket = TokenBucket(2.0, burst=1, clock=lambda: t[0])
>>> bucket.try_acquire()
0.0
>>> bucket.try_acquire()
0.5
>>> t[0] = 0.5
>>> bucket.try_acquire()
0.0
"""
from __future__ import annotations

import collections
import math
import threading
import time
from collections.abc import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    """Thread-safe token bucket with a sliding-window ceiling and a pause for ``Retry-After``.

    Parameters
    ----------
    rate
        Calls per second (> 0).
    burst
        Tokens the bucket holds when full: calls that may start back to back after a pause.
    clock
        Monotonic clock in seconds (injectable for tests).
    window_s
        Length of the ceiling window: at most ``max(1, floor(rate * window_s))`` grants in
        any window of this length.
    slack_s
        Each grant counts against the ceiling for ``window_s + slack_s``: headroom for
        requests that reach the server later than their grant by varying amounts.
    min_rate
        :meth:`slow_down` never goes below this.

    Examples
    --------
    >>> b = TokenBucket(5.0, burst=5)
    >>> b.rate, b.burst
    (5.0, 5)
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        window_s: float = 1.0,
        slack_s: float = 0.0,
        min_rate: float = 0.1,
    ) -> None:
        if not (isinstance(rate, (int, float)) and math.isfinite(rate) and rate > 0):
            raise ValueError(f"rate must be a positive number of calls per second, got {rate!r}")
        if int(burst) < 1:
            raise ValueError(f"burst must be at least 1, got {burst!r}")
        if window_s <= 0 or slack_s < 0:
            raise ValueError(f"window_s must be positive and slack_s >= 0, got {window_s!r}, {slack_s!r}")
        self.target_rate = float(rate)
        self._rate = float(rate)
        self.burst = int(burst)
        self.window_s = float(window_s)
        self.slack_s = float(slack_s)
        self.min_rate = min(float(min_rate), self.target_rate)
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = float(self.burst)
        self._last = clock()
        self._paused_until = -math.inf
        self._grants: collections.deque[float] = collections.deque()
        self.granted = 0

    # ------------------------------------------------------------------ state
    @property
    def rate(self) -> float:
        """The current rate (below :attr:`target_rate` after :meth:`slow_down`)."""
        return self._rate

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._last)
        self._tokens = min(float(self.burst), self._tokens + elapsed * self._rate)
        self._last = now

    def _window_cap(self) -> int:
        return max(1, int(math.floor(self._rate * self.window_s + 1e-9)))

    def try_acquire(self) -> float:
        """Take a token if one is available now.

        Returns
        -------
        float
            ``0.0`` when a token was taken (the call may start), otherwise the seconds to
            wait before asking again (nothing was taken).
        """
        with self._lock:
            now = self._clock()
            if now < self._paused_until:
                return self._paused_until - now
            self._refill(now)
            span = self.window_s + self.slack_s
            while self._grants and self._grants[0] <= now - span:
                self._grants.popleft()
            waits = []
            if self._tokens < 1.0:
                waits.append((1.0 - self._tokens) / self._rate)
            if len(self._grants) >= self._window_cap():
                # The oldest grant in the window must age out first.
                waits.append(self._grants[0] + span - now)
            if waits:
                return max(max(waits), 1e-6)
            self._tokens -= 1.0
            self._grants.append(now)
            self.granted += 1
            return 0.0

    def acquire(self, stop: threading.Event | None = None) -> bool:
        """Block until a token is taken; return False (nothing taken) if *stop* gets set."""
        stop = stop if stop is not None else threading.Event()
        while True:
            if stop.is_set():
                return False
            wait_s = self.try_acquire()
            if wait_s <= 0.0:
                return True
            # Event.wait is an interruptible sleep: stop() wakes every waiting worker at once.
            if stop.wait(min(wait_s, 0.5)):
                return False

    # ---------------------------------------------------------- adaptation
    def pause(self, seconds: float) -> None:
        """Grant nothing for *seconds* from now (``Retry-After``); a longer pause wins."""
        if seconds is None or not math.isfinite(seconds) or seconds <= 0:
            return
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + float(seconds))
            # No saved-up burst right after the pause: the server just said "too many".
            self._tokens = min(self._tokens, 1.0)

    def slow_down(self, factor: float = 0.5) -> float:
        """Multiply the rate by *factor* (not below :attr:`min_rate`); return the new rate."""
        with self._lock:
            self._refill(self._clock())
            self._rate = max(self.min_rate, self._rate * factor)
            return self._rate

    def recover(self, step_fraction: float = 0.02) -> float:
        """Raise the rate by ``step_fraction`` of the target, never above it; return the new rate."""
        with self._lock:
            if self._rate < self.target_rate:
                self._refill(self._clock())
                self._rate = min(self.target_rate, self._rate + self.target_rate * step_fraction)
            return self._rate

    def __repr__(self) -> str:
        return (
            f"TokenBucket(rate={self._rate:g}/s, target_rate={self.target_rate:g}/s, "
            f"burst={self.burst}, granted={self.granted})"
        )
