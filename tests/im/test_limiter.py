"""The process-wide limiter: never more than `rate` call starts in any one-second window."""

from __future__ import annotations

import asyncio
import gc
import itertools
import math
import random
import threading
import time
from collections.abc import Iterator, Sequence

import pytest

from roamtui.im import limiter as limiter_module
from roamtui.im.limiter import (
    CATCH_UP,
    GUARD,
    INCREASE,
    MAX_RATE,
    Grant,
    RateLimiter,
    shared_limiter,
)


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


def caught_up(rate: float) -> int:
    """How many calls go at once after an idle spell: the slots of the last CATCH_UP s."""
    return math.floor(CATCH_UP / ((1 + GUARD) / rate)) + 1


async def test_starts_are_spaced_evenly_after_catching_up_a_tenth_of_a_second() -> None:
    ft = FakeTime()
    limiter = RateLimiter(100, clock=ft.clock, sleep=ft.sleep)
    interval = (1 + GUARD) / 100
    for _ in range(2):  # from a cold start, then after idling for a minute
        grants: list[float] = []
        for _ in range(300):
            await limiter.acquire()
            grants.append(ft.now)
        # A bucket would let 100 through at once; the slots of the last 0.1 s go at once...
        burst = caught_up(100)
        assert burst == 10 and grants[:burst] == [grants[0]] * burst < grants[: burst + 1]
        # ...then each waits its turn, until the log (full: 100 in the last 1 + GUARD s)
        # holds the next one back until the burst's 1 + GUARD s are over...
        first_second = grants[burst:100]
        assert min(b - a for a, b in itertools.pairwise(first_second)) >= interval - 1e-9
        assert grants[100] == grants[0] + 1 + GUARD
        # ...and no 1 + GUARD s ever holds more than the rate: the pattern repeats, no more.
        assert all(g - grants[0] >= i * interval - CATCH_UP - 1e-9 for i, g in enumerate(grants))
        assert most_in_any_window(grants, 1 + GUARD - 1e-9) == 100  # (less float noise)
        ft.now += 60


def test_a_late_waiter_cannot_bunch_up_with_the_next_ones() -> None:
    ft = FakeTime()
    limiter = RateLimiter(2, clock=ft.clock)
    first, second, third = (limiter._reserve() for _ in range(3))
    ft.now = first + 0.9  # the event loop was busy: the first two wake up late, together
    for slot in (first, second):
        grant = limiter._try_grant(slot)
        assert isinstance(grant, Grant)
        grant.close()
    ft.now = third  # the third reservation is due, but two calls already started <1 s ago
    wait = limiter._try_grant(third)
    assert isinstance(wait, float) and wait > 0
    assert ft.now + wait >= first + 0.9 + 1.0 + GUARD


@pytest.mark.parametrize("rate", [10, 50, 200])
@pytest.mark.parametrize("guard", [None, 0.001])
async def test_jitter_between_grant_and_arrival_stays_within_the_rate(
    rate: int, guard: float | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each request reaches the server 0..15 ms after its grant (scheduling, the socket, GC).
    # The guard covers it; the old 1 ms guard let one call too many into some second.
    if guard is not None:
        monkeypatch.setattr(limiter_module, "GUARD", guard)
        monkeypatch.setattr(limiter_module, "_SPAN", 1.0 + guard)
    ft = FakeTime()
    limiter = RateLimiter(rate, clock=ft.clock, sleep=ft.sleep)
    jitter = random.Random(rate)
    arrivals = []
    for _ in range(3 * rate + 1):
        await limiter.acquire()
        arrivals.append(ft.now + jitter.uniform(0.0, 0.015))
    most = most_in_any_window(arrivals)
    if guard is None:
        assert most <= rate
    else:
        assert most > rate  # the failure of issue 12, reproduced with the old guard


async def test_a_held_grant_counts_from_when_its_request_was_written() -> None:
    ft = FakeTime()
    limiter = RateLimiter(2, clock=ft.clock, sleep=ft.sleep)
    first, second = await limiter.acquire(), await limiter.acquire()
    first.hold()
    second.hold()
    assert first.stamp is None and second.stamp is None  # granted, not yet written
    written_at = ft.now + 3.0

    async def a_handshake_later(delay: float) -> None:
        # While the third waits, the first two are finally written, three seconds on.
        if ft.now < written_at:
            ft.now = written_at
            first.sent()
            second.close()  # never seen written: counts from when its attempt ended
        await ft.sleep(delay)

    limiter._sleep = a_handshake_later
    await limiter.acquire()
    assert ft.now >= written_at + 1.0 + GUARD
    first.close()  # closing after sent() keeps the written time
    assert first.stamp == written_at


# --- AIMD -------------------------------------------------------------------------------------


def test_a_rate_limit_answer_halves_the_effective_rate_once_per_generation() -> None:
    ft = FakeTime()
    limiter = RateLimiter(40, clock=ft.clock)
    old = Grant(limiter, limiter.epoch, ft.now)
    also_old = Grant(limiter, limiter.epoch, ft.now)
    assert limiter.effective_rate == 40 and limiter.rate == 40
    assert limiter.rate_limited(old) is True
    assert limiter.effective_rate == 20
    # Another answer to a request granted before the cut says nothing new.
    assert limiter.rate_limited(also_old) is False
    assert limiter.effective_rate == 20
    newer = Grant(limiter, limiter.epoch, ft.now)
    assert limiter.rate_limited(newer) is True
    assert limiter.effective_rate == 10
    for _ in range(10):
        limiter.rate_limited()
    assert limiter.effective_rate == 1.0  # the floor
    assert limiter.rate == 40 and limiter.cuts == 12
    assert repr(limiter) == "RateLimiter(rate=40, effective=1)"


def test_successes_raise_the_rate_additively_back_to_the_configured_one() -> None:
    ft = FakeTime()
    limiter = RateLimiter(40, clock=ft.clock)
    limiter.rate_limited()
    assert limiter.effective_rate == 20
    for _ in range(20):  # about one second's worth of successful calls at 20/s
        limiter.succeeded()
    assert 20 + INCREASE * 0.9 <= limiter.effective_rate <= 20 + INCREASE * 1.01
    assert limiter.last_success == ft.now
    for _ in range(10_000):
        limiter.succeeded()
    assert limiter.effective_rate == 40


def test_configuring_the_rate_keeps_what_rate_limits_taught() -> None:
    limiter = RateLimiter(40)
    limiter.rate = 60
    assert limiter.effective_rate == 60  # not throttled: follows the setting
    limiter.rate_limited()
    limiter.rate = 100
    assert (limiter.rate, limiter.effective_rate) == (100, 30)  # throttled: climbs back later
    limiter.rate = 10
    assert limiter.effective_rate == 10
    limiter.rate_limited()
    limiter.reset()
    assert limiter.effective_rate == limiter.rate == 10


async def test_grants_follow_the_effective_rate() -> None:
    ft = FakeTime()
    limiter = RateLimiter(40, clock=ft.clock, sleep=ft.sleep)
    for _ in range(5):
        await limiter.acquire()
    limiter.rate_limited()
    limiter.rate_limited()  # 10/s
    grants = []
    for _ in range(31):  # the first ones share a second with the five above: the log holds them
        await limiter.acquire()
        grants.append(ft.now)
    assert most_in_any_window(grants) <= 10
    ft.now += 5  # idle: nothing recent in the log, so spacing alone paces the next ones
    grants = []
    for _ in range(31):
        await limiter.acquire()
        grants.append(ft.now)
    assert most_in_any_window(grants) <= 10
    # Spaced for 10/s, but for the slots of the last CATCH_UP s, taken at once.
    interval = (1 + GUARD) / 10
    assert all(g - grants[0] >= i * interval - CATCH_UP - 1e-9 for i, g in enumerate(grants))
    assert grants[1] - grants[0] < interval


async def test_rate_change_applies_to_the_next_calls() -> None:
    ft = FakeTime()
    limiter = RateLimiter(200, clock=ft.clock, sleep=ft.sleep)
    limiter.rate = 4
    grants = []
    for _ in range(9):
        await limiter.acquire()
        grants.append(ft.now)
    # Spaced for 4/s (the second one catches up the first CATCH_UP s), at most 4 a second.
    assert all(g - grants[0] >= i * 0.255 - CATCH_UP - 1e-9 for i, g in enumerate(grants))
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
        first.rate_limited()  # every client of the process slows down together...
        assert shared_limiter(120).effective_rate == 60
    finally:
        shared_limiter(50).reset()  # ...until told otherwise
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
