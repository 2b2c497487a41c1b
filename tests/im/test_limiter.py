"""The process-wide limiter: never more than `rate` call starts in any one-second window."""

from __future__ import annotations

import asyncio
import gc
import itertools
import math
import threading
import time
from collections.abc import Iterator, Sequence

import pytest

from roamtui.im.limiter import MAX_RATE, RateLimiter, shared_limiter


def most_in_any_window(stamps: Sequence[float], window: float = 1.0) -> int:
    """The largest number of stamps inside one half-open window [t, t + window)."""
    ordered = sorted(stamps)
    best = lo = 0
    for hi, t in enumerate(ordered):
        while t - ordered[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


class FakeTime:
    """A clock that only moves when the limiter sleeps (one task at a time)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        self.now += delay


@pytest.fixture
def no_gc() -> Iterator[None]:
    # A full collection between a grant and the caller's time stamp would skew the stamps.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def test_window_counter_counts_bursts() -> None:
    assert most_in_any_window([0.0, 0.1, 0.999, 1.0, 1.5]) == 3
    assert most_in_any_window([0.5] * 400) == 400
    assert most_in_any_window([i * 0.006 for i in range(400)]) == 167


@pytest.mark.usefixtures("no_gc")
async def test_concurrent_burst_never_exceeds_the_rate_in_any_second() -> None:
    limiter = RateLimiter(200)
    stamps: list[float] = []

    async def worker() -> None:
        for _ in range(10):
            await limiter.acquire()
            stamps.append(time.monotonic())

    await asyncio.gather(*(worker() for _ in range(50)))
    assert len(stamps) == 500
    assert most_in_any_window(stamps) <= 200
    ordered = sorted(stamps)
    assert all(ordered[i + 200] - ordered[i] >= 1.0 for i in range(len(ordered) - 200))


async def test_starts_are_spaced_evenly_with_no_burst_after_idling() -> None:
    ft = FakeTime()
    limiter = RateLimiter(10, clock=ft.clock, sleep=ft.sleep)
    grants: list[float] = []
    for _ in range(25):
        await limiter.acquire()
        grants.append(ft.now)
    gaps = [b - a for a, b in itertools.pairwise(grants)]
    assert min(gaps) >= 0.1
    assert most_in_any_window(grants) <= 10

    ft.now += 60  # idle for a minute: a bucket would now let 10 through at once
    ft.sleeps.clear()
    await limiter.acquire()
    assert ft.sleeps == []  # the first call after idling goes at once
    await limiter.acquire()
    assert ft.sleeps and sum(ft.sleeps) >= 0.1  # ...but the second waits its turn


def test_a_late_waiter_cannot_bunch_up_with_the_next_ones() -> None:
    ft = FakeTime()
    limiter = RateLimiter(2, clock=ft.clock)
    first, second, third = (limiter._reserve() for _ in range(3))
    ft.now = first + 0.9  # the event loop was busy: the first two wake up late, together
    assert limiter._try_grant(first) == 0
    assert limiter._try_grant(second) == 0
    ft.now = third  # the third reservation is due, but two calls already started <1 s ago
    wait = limiter._try_grant(third)
    assert wait > 0
    assert ft.now + wait >= first + 0.9 + 1.0


async def test_rate_change_applies_to_the_next_calls() -> None:
    ft = FakeTime()
    limiter = RateLimiter(200, clock=ft.clock, sleep=ft.sleep)
    limiter.rate = 4
    grants = []
    for _ in range(9):
        await limiter.acquire()
        grants.append(ft.now)
    assert min(b - a for a, b in itertools.pairwise(grants)) >= 0.25
    assert most_in_any_window(grants) <= 4


@pytest.mark.parametrize("bad", [0, -1, MAX_RATE + 1, math.nan, math.inf])
def test_rate_outside_the_allowed_range_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="at most 200"):
        RateLimiter(bad)
    limiter = RateLimiter(50)
    with pytest.raises(ValueError):
        limiter.rate = bad
    assert limiter.rate == 50


def test_shared_limiter_is_one_instance_whose_rate_follows_the_last_request() -> None:
    first = shared_limiter(50)
    try:
        again = shared_limiter(120)
        assert again is first
        assert first.rate == 120
    finally:
        shared_limiter(50)
    assert repr(first) == "RateLimiter(rate=50)"


def test_one_limiter_serves_several_event_loops() -> None:
    limiter = RateLimiter(200)
    errors: list[BaseException] = []

    async def use() -> None:
        for _ in range(5):
            await limiter.acquire()

    def run_twice() -> None:
        try:
            asyncio.run(use())
            asyncio.run(use())
        except BaseException as exc:  # reported to the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=run_twice) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
