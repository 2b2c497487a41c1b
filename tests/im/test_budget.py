"""Shared budgets (issue 20): the local file GCRA, the Redis one, and the limiter's fallback.

Each FileBudget here is opened on its own, as another process would: flock locks belong to the
open file, so two opens of one path contend exactly like two processes do.
"""

from __future__ import annotations

import asyncio
import fcntl
import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from roamtui.im import budget_redis, sharing
from roamtui.im.budget import MAX_AHEAD, BudgetUnavailable, FileBudget
from roamtui.im.budget_redis import MISSING_PACKAGE, RedisBudget, check_url
from roamtui.im.limiter import GUARD, RateLimiter
from roamtui.im.sharing import BudgetChain, SharedSpec
from tests.rediskit import RedisServer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_two_openers_of_one_file_share_one_evenly_spaced_budget(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "run" / "budget-1.gcra"
    first, second = FileBudget(path, clock=clock), FileBudget(path, clock=clock)
    waits = [await (first if i % 2 else second).reserve(0.1) for i in range(6)]
    assert waits == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    clock.now += 10  # idle for a while: no burst is owed, the next slot is now
    assert await first.reserve(0.1) == 0.0
    assert await second.reserve(0.1) == pytest.approx(0.1)
    first.close()
    second.close()


@pytest.mark.parametrize("content", [b"", b"garbage", b"x" * 16, b"\xff" * 64])
async def test_a_torn_or_foreign_record_reads_as_a_free_budget(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "budget.gcra"
    path.write_bytes(content)
    budget = FileBudget(path, clock=Clock())
    assert await budget.reserve(0.05) == 0.0
    assert await budget.reserve(0.05) == pytest.approx(0.05)
    budget.close()


async def test_a_record_from_another_clock_far_ahead_reads_as_free(tmp_path: Path) -> None:
    clock = Clock()
    path = tmp_path / "budget.gcra"
    budget = FileBudget(path, clock=clock)
    clock.now += MAX_AHEAD * 3
    await budget.reserve(1.0)  # written at a late "now"...
    clock.now -= MAX_AHEAD * 3  # ...then the clock restarts (a reboot without a boot id)
    assert await budget.reserve(1.0) == 0.0
    budget.close()


def _child_holding_the_lock(path: Path) -> subprocess.Popen[bytes]:
    code = (
        "import fcntl, os, sys, time\n"
        f"fd = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT, 0o600)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "sys.stdout.write('locked\\n'); sys.stdout.flush()\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert child.stdout is not None and child.stdout.readline() == b"locked\n"
    return child


async def test_a_process_killed_while_holding_the_lock_leaves_the_budget_usable(
    tmp_path: Path,
) -> None:
    path = tmp_path / "budget.gcra"
    budget = FileBudget(path, lock_wait=5.0)
    child = _child_holding_the_lock(path)
    try:
        waiting = asyncio.create_task(budget.reserve(0.02))
        await asyncio.sleep(0.2)
        assert not waiting.done()  # held by the other process: we wait for it
        child.kill()  # SIGKILL: no cleanup of any kind runs in the child
        assert await asyncio.wait_for(waiting, 2.0) == 0.0
    finally:
        child.kill()
        child.wait()
    budget.close()


async def test_a_lock_held_by_a_stopped_process_falls_back_in_process_with_one_notice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "budget.gcra"
    monkeypatch.setattr("roamtui.im.budget.LOCK_WAIT", 0.2)
    limiter = RateLimiter(20)
    limiter.share(SharedSpec(1, str(path)))
    child = _child_holding_the_lock(path)  # like a roamtui stopped with Ctrl+Z mid-reservation
    try:
        started = time.monotonic()
        grants = [await limiter.acquire() for _ in range(6)]
        elapsed = time.monotonic() - started
    finally:
        child.kill()
        child.wait()
    assert len(grants) == 6
    notices = limiter.take_notices()
    assert len(notices) == 1 and "stayed locked" in notices[0], notices
    assert "its own budget" in notices[0]
    assert limiter.usage().label == "in-process"
    # In-process it keeps the rate: 6 grants at 20/s span at least 5 intervals.
    assert elapsed >= 5 * (1 + GUARD) / 20 * 0.95
    assert limiter.take_notices() == []
    limiter.share(None)


async def test_a_budget_dir_that_cannot_be_made_falls_back_with_one_notice(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the runtime dir should be")
    chain = BudgetChain(SharedSpec(1, str(blocker / "budget.gcra")))
    assert chain.label == "in-process"
    assert await chain.reserve(0.1) is None
    (notice,) = chain.take_notices()
    assert "cannot open the local budget" in notice and str(blocker) in notice


def test_an_unlockable_file_is_refused_when_opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                   ) -> None:
    def no_locks(fd: int, op: int) -> None:
        raise OSError(37, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with pytest.raises(BudgetUnavailable, match=r"cannot lock the local budget.*No locks"):
        FileBudget(tmp_path / "budget.gcra")


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://host:6379/0", "a rate store is a Redis URL"),
        ("redis://:6379/0", "names no host"),
        ("redis://host:port/0", "port that is not a number"),
        ("redis://host:6379/zero", "database must be a number"),
    ],
)
def test_a_bad_rate_store_url_is_one_clear_line(url: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        check_url(url)


def test_the_label_never_shows_the_password_and_a_missing_package_is_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert check_url("redis://:hunter2-long-password@10.0.0.5:6380/2") == "redis 10.0.0.5:6380/2"
    monkeypatch.setattr(budget_redis.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ValueError) as caught:
        check_url("redis://10.0.0.5/0")
    assert str(caught.value) == MISSING_PACKAGE and "\n" not in MISSING_PACKAGE


async def test_redis_budget_spaces_slots_and_falls_back_and_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = RedisServer(tmp_path / "redis")
    try:
        one, other = RedisBudget(server.url, 7), RedisBudget(server.url, 7)
        slots = []  # when each slot starts, on this process's clock
        for i in range(5):
            wait = await (one if i % 2 else other).reserve(0.05)
            slots.append(time.monotonic() + wait)
        # Consecutive reservations of the two clients land 50 ms apart (timed by Redis's clock,
        # counted from the middle of each round trip: a loaded machine blurs that a little).
        assert all(0.03 < b - a < 0.07 for a, b in itertools.pairwise(slots)), slots
        assert await RedisBudget(server.url, 8).reserve(0.05) < 0.01  # another app: its own
        await one.aclose()
        await other.aclose()

        monkeypatch.setattr(sharing, "RETRY_AFTER", 0.3)
        chain = BudgetChain(SharedSpec(7, str(tmp_path / "budget.gcra"), server.url))
        assert chain.label == server.url.replace("redis://", "redis ")
        assert await chain.reserve(0.01) is not None
        server.stop()
        assert await chain.reserve(0.01) is not None  # from the local budget now
        assert chain.label == "local shared"
        (notice,) = chain.take_notices()
        assert "unreachable" in notice and "using the local shared budget" in notice
        await asyncio.sleep(0.35)
        assert await chain.reserve(0.01) is not None  # Redis tried again, still down: silent
        assert chain.take_notices() == []
        server = RedisServer(tmp_path / "redis2", port=server.port)  # back on its port
        await asyncio.sleep(0.35)
        assert await chain.reserve(0.01) is not None
        assert chain.label.startswith("redis")
        assert chain.take_notices() == [f"the {chain.label} budget answers again"]
        await chain.aclose_loop()
        chain.close()
    finally:
        server.stop()
    assert os.path.exists(tmp_path / "budget.gcra")
