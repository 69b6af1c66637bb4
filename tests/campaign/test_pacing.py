"""The token bucket: burst, steady rate, the per-second ceiling, Retry-After pauses, stop."""
import threading

import pytest

from cmvoice_nb.campaign.send.pacing import TokenBucket


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def grant_times(bucket, clock, n):
    """Advance the fake clock by each returned wait and record when each of n tokens is granted."""
    times = []
    while len(times) < n:
        wait = bucket.try_acquire()
        if wait == 0.0:
            times.append(clock.now)
        else:
            clock.now += wait
    return times


def test_a_full_bucket_grants_the_burst_at_once_then_waits():
    clock = FakeClock()
    bucket = TokenBucket(10.0, burst=3, clock=clock)
    assert [bucket.try_acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.try_acquire() == pytest.approx(0.1)


def test_the_wait_returned_is_exactly_the_time_to_the_next_token():
    clock = FakeClock()
    bucket = TokenBucket(4.0, burst=1, clock=clock)
    assert bucket.try_acquire() == 0.0
    wait = bucket.try_acquire()
    assert wait == pytest.approx(0.25)
    clock.now += wait
    assert bucket.try_acquire() == 0.0


def test_no_one_second_window_ever_holds_more_calls_than_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(20.0, burst=20, clock=clock)
    times = grant_times(bucket, clock, 200)
    worst = max(sum(1 for t in times if start <= t < start + 1.0) for start in times)
    assert worst <= 20


def test_the_steady_rate_matches_the_configured_rate():
    clock = FakeClock()
    bucket = TokenBucket(50.0, burst=1, clock=clock)
    times = grant_times(bucket, clock, 501)
    assert (times[-1] - times[0]) == pytest.approx(10.0, rel=0.01)


def test_a_rate_below_one_per_second_still_allows_one_call_per_window():
    clock = FakeClock()
    bucket = TokenBucket(0.5, burst=1, clock=clock)
    assert bucket.try_acquire() == 0.0
    assert bucket.try_acquire() == pytest.approx(2.0)


def test_a_retry_after_pause_grants_nothing_until_it_ends():
    clock = FakeClock()
    bucket = TokenBucket(100.0, burst=5, clock=clock)
    bucket.pause(2.0)
    assert bucket.try_acquire() == pytest.approx(2.0)
    clock.now = 2.0
    assert bucket.try_acquire() == 0.0


def test_a_shorter_pause_does_not_cut_a_longer_one():
    clock = FakeClock()
    bucket = TokenBucket(10.0, clock=clock)
    bucket.pause(3.0)
    bucket.pause(1.0)
    assert bucket.try_acquire() == pytest.approx(3.0)


def test_slowing_down_halves_the_rate_and_recovery_never_exceeds_the_target():
    bucket = TokenBucket(10.0, burst=1, clock=FakeClock())
    assert bucket.slow_down(0.5) == 5.0
    assert bucket.slow_down(0.5) == 2.5
    for _ in range(200):
        bucket.recover()
    assert bucket.rate == 10.0


def test_slowing_down_stops_at_the_minimum_rate():
    bucket = TokenBucket(1.0, clock=FakeClock(), min_rate=0.25)
    for _ in range(10):
        bucket.slow_down(0.5)
    assert bucket.rate == 0.25


def test_acquire_returns_false_without_a_token_once_stop_is_set():
    bucket = TokenBucket(0.01, burst=1)
    assert bucket.acquire() is True
    stop = threading.Event()
    threading.Timer(0.05, stop.set).start()
    assert bucket.acquire(stop) is False
    assert bucket.granted == 1


@pytest.mark.parametrize("rate", [0, -1, float("nan"), float("inf"), "5"])
def test_a_rate_that_is_not_a_positive_number_is_refused(rate):
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(rate)


def test_the_repr_shows_rate_and_burst():
    assert "rate=5/s" in repr(TokenBucket(5.0, burst=5)) and "burst=5" in repr(TokenBucket(5.0, burst=5))


def test_slack_makes_each_grant_count_longer_against_the_ceiling():
    clock = FakeClock()
    bucket = TokenBucket(10.0, burst=10, clock=clock, slack_s=0.1)
    times = grant_times(bucket, clock, 50)
    worst = max(sum(1 for t in times if start <= t < start + 1.1) for start in times)
    assert worst <= 10
