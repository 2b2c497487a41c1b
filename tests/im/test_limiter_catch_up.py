"""The limiter's catch-up after an idle spell, and shared slots a process's own log holds back.

In-process the spacing may take the slots of the last ``CATCH_UP`` s at once; what bounds the
server's view is the log of written requests. Across processes a shared budget's spacing is
the only bound, so it never catches up. Random schedules of callers (idle spells, bursts,
requests written late or never, rate-limit answers) run on a virtual-time event loop, so these
are checks of what the limiter allows, the same on any machine.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import random
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_limiter import most_in_any_window
from test_window import virtual

from roamtui.im import sharing
from roamtui.im.budget import FileBudget
from roamtui.im.limiter import CATCH_UP, GUARD, LATE, RateLimiter
from roamtui.im.sharing import SharedSpec

SPAN = 1 + GUARD
NOISE = 1e-9  # float noise at a window's edge


@dataclass
class Call:
    asked: float
    granted: float
    written: float  # when the request left (or its attempt ended, never seen written)
    left: bool  # whether it was written at all (else it failed before: it never arrived)


@dataclass(frozen=True)
class Caller:
    seed: int
    calls: int
    idle: float  # the longest pause between two of its calls (an idle spell when long)


callers = st.lists(
    st.builds(Caller, st.integers(0, 2**32), st.integers(1, 40),
              st.sampled_from([0.0, 0.01, 0.2, 1.5])),
    min_size=1, max_size=12,
)


async def run_caller(limiter: RateLimiter, caller: Caller, out: list[Call],
                     cut_share: float = 0.0) -> None:
    """One task: each call asks, holds its grant, is written 0-30 ms later (or never), waits
    for its answer, sometimes a rate-limit answer, then pauses up to ``caller.idle``."""
    rng = random.Random(caller.seed)
    for _ in range(caller.calls):
        asked = limiter.now()
        grant = await limiter.acquire()
        granted = limiter.now()
        grant.hold()
        await asyncio.sleep(rng.choice([0.0, 0.001, rng.uniform(0, 0.03)]))
        written = None
        if rng.random() < 0.9:  # else the connection failed before anything was written
            await grant.on_time()
            grant.sent()
            written = limiter.now()
        await asyncio.sleep(rng.uniform(0.0, 0.08))
        grant.close()
        if rng.random() < cut_share:
            limiter.rate_limited(grant)
        else:
            limiter.succeeded()
        out.append(Call(asked, granted, limiter.now() if written is None else written,
                        written is not None))
        await asyncio.sleep(rng.uniform(0, caller.idle))


def spacing_bound_holds(calls: list[Call], interval: float) -> bool:
    """Calls that asked at or after ``a`` and started by ``b`` number at most
    ``(b - a + CATCH_UP) / interval + 1``: no burst beyond the catch-up, whatever the schedule."""
    for first in calls:
        grants = sorted(c.granted for c in calls if c.asked >= first.asked)
        if any(g < first.asked - CATCH_UP + k * interval - NOISE for k, g in enumerate(grants)):
            return False
    return True


@settings(max_examples=40)
@given(st.sampled_from([3.0, 10.0, 50.0, 200.0]), callers, st.sampled_from([0.0, 0.05]))
def test_no_schedule_puts_more_than_the_rate_into_any_1_plus_guard_seconds(
    rate: float, schedule: list[Caller], cut_share: float
) -> None:
    async def main() -> list[Call]:
        limiter = RateLimiter(rate, clock=asyncio.get_running_loop().time)
        out: list[Call] = []
        await asyncio.gather(*(run_caller(limiter, c, out, cut_share) for c in schedule))
        return out

    calls = virtual(main())
    assert len(calls) == sum(c.calls for c in schedule)
    # The log's bound, on the grants and on the writes (so at the server, GUARD after them).
    assert most_in_any_window([c.granted for c in calls], SPAN - NOISE) <= rate
    assert most_in_any_window([c.written for c in calls], SPAN - NOISE) <= rate
    # A burst after an idle spell takes at most the slots of the last CATCH_UP s.
    assert spacing_bound_holds(calls, SPAN / rate)


def test_after_an_idle_spell_sixteen_callers_get_a_tenth_of_a_second_of_slots_at_once() -> None:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        limiter = RateLimiter(200, clock=loop.time)
        for _ in range(30):  # busy (what was caught up at the start is used up), then...
            await limiter.acquire()
        await asyncio.sleep(0.05)  # ...one call in flight: a window fetch's first round trip
        grants: list[float] = []

        async def one() -> None:
            await limiter.acquire()
            grants.append(loop.time())

        await asyncio.gather(*(one() for _ in range(16)))
        return grants

    grants = virtual(main())
    interval = SPAN / 200
    at_once = math.floor(0.05 / interval)  # the slots the round trip left unused
    assert grants.count(grants[0]) == at_once  # (not spaced out a slot each)
    # The rest at the spacing, from where it stood before the round trip.
    assert grants[-1] - grants[0] <= (16 - at_once) * interval + NOISE


@pytest.fixture
def virtual_file_budgets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Local budgets read the running (virtual) event loop's clock, as they would the real one."""

    class VirtualFileBudget(FileBudget):
        def __init__(self, path: str) -> None:
            super().__init__(path, clock=lambda: asyncio.get_running_loop().time())

    monkeypatch.setattr(sharing, "FileBudget", VirtualFileBudget)


@pytest.mark.usefixtures("virtual_file_budgets")
@settings(max_examples=25)
@given(st.sampled_from([10.0, 50.0]), callers, callers, st.sampled_from([0.0, 0.05]))
def test_two_processes_on_one_local_budget_never_burst_together(
    tmp_path_factory: pytest.TempPathFactory, rate: float, mine: list[Caller],
    theirs: list[Caller], cut_share: float
) -> None:
    path = str(tmp_path_factory.mktemp("budget") / "budget.gcra")

    async def main() -> tuple[list[Call], list[Call], int]:
        clock = asyncio.get_running_loop().time
        one, other = RateLimiter(rate, clock=clock), RateLimiter(rate, clock=clock)
        outs: tuple[list[Call], list[Call]] = ([], [])
        for limiter in (one, other):
            limiter.share(SharedSpec(1, path))  # each its own open file, like two processes
        await asyncio.gather(*(run_caller(one, c, outs[0], cut_share) for c in mine),
                             *(run_caller(other, c, outs[1], cut_share) for c in theirs))
        notices = one.take_notices() + other.take_notices()
        for limiter in (one, other):
            limiter.share(None)
        return outs[0], outs[1], len(notices)

    first, second, notices = virtual(main())
    assert notices == 0  # the budget was in force throughout
    for calls in (first, second):
        assert most_in_any_window([c.written for c in calls], SPAN - NOISE) <= rate
    # Together: every request left within LATE of its own slot, and the slots are spaced for
    # the rate, so the two never put more than the rate into 1 + GUARD - LATE s: no catch-up.
    together = [c.written for c in first + second if c.left]
    assert most_in_any_window(together, SPAN - LATE - NOISE) <= rate


@pytest.mark.usefixtures("virtual_file_budgets")
def test_a_process_whose_writes_trail_their_grants_keeps_its_shared_slots(tmp_path: Path) -> None:
    # Eight callers at 50/s, each request written a millisecond after its grant (the way
    # through httpx): the log counts writes, so it would hold a slot spaced exactly for the
    # rate a millisecond longer every second, until the slot was missed and taken again.
    async def main() -> tuple[int, int, float]:
        loop = asyncio.get_running_loop()
        limiter = RateLimiter(50, clock=loop.time)
        limiter.share(SharedSpec(1, str(tmp_path / "budget.gcra")))
        calls = 0

        async def caller() -> None:
            nonlocal calls
            while loop.time() < 10:
                grant = await limiter.acquire()
                grant.hold()
                await asyncio.sleep(0.001)
                await grant.on_time()
                grant.sent()
                await asyncio.sleep(0.05)
                grant.close()
                calls += 1

        await asyncio.gather(*(caller() for _ in range(8)))
        limiter.share(None)
        return calls, limiter.renewed, loop.time()

    calls, renewed, seconds = virtual(main())
    assert renewed == 0
    # Each second only loses the millisecond the writes trail by: 49.0/s is the ceiling.
    assert calls / seconds >= 0.99 * 50 / SPAN


def test_fallen_back_in_process_a_shared_limiter_does_not_catch_up(tmp_path: Path) -> None:
    # The local budget cannot be opened: this process keeps to its own spacing, while the
    # others may still draw on the shared budget, so no burst of its own either.
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the runtime dir should be")

    async def main() -> tuple[list[float], str]:
        loop = asyncio.get_running_loop()
        limiter = RateLimiter(200, clock=loop.time)
        limiter.share(SharedSpec(1, str(blocker / "budget.gcra")))
        await asyncio.sleep(5)  # idle
        grants: list[float] = []

        async def one() -> None:
            await limiter.acquire()
            grants.append(loop.time())

        await asyncio.gather(*(one() for _ in range(5)))
        label = limiter.usage().label
        limiter.share(None)
        return grants, label

    grants, label = virtual(main())
    assert label == "in-process"
    assert min(b - a for a, b in itertools.pairwise(grants)) >= SPAN / 200 - NOISE
