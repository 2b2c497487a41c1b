"""The window fetch's slices (im/window.py, issue 18): how it starts, where it splits, what it
costs in calls, against the one-page-after-another loop.

The sandbox serves a conversation of sessions and quiet stretches with 50 ms (±25 %) per call
and its 13 KB pages, through the real ImClient and limiter, on an event loop whose clock is
virtual: waiting advances it, so the figures are the same on a busy machine and a quiet one,
and a 5,000-message window takes a fraction of a second.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from test_roam import FakeService, conversation, keys_of, query

from roamtui.im.client import ImClient
from roamtui.im.limiter import GUARD, RateLimiter
from roamtui.im.roam import RoamQuery, fetch_page, fetch_window, iter_pages
from roamtui.sandbox import Dataset, SandboxService, demo_connection
from roamtui.sandbox.faults import Fault, FaultPlan

T = TypeVar("T")
END = 1_700_000_000


class _Idle(selectors.BaseSelector):
    """A selector with nothing to watch: waiting for ``timeout`` moves the clock on instead."""

    def __init__(self) -> None:
        self.now = 0.0
        self._keys: dict[Any, selectors.SelectorKey] = {}

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        key = selectors.SelectorKey(fileobj, 0, events, data)
        self._keys[fileobj] = key
        return key

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._keys.pop(fileobj)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        assert timeout is not None, "nothing left to wait for: the fetch hangs"
        self.now += max(0.0, timeout)
        return []

    def get_map(self) -> Any:
        return self._keys


class VirtualLoop(asyncio.SelectorEventLoop):
    def __init__(self) -> None:
        self._idle = _Idle()
        super().__init__(self._idle)

    def time(self) -> float:
        return self._idle.now


def virtual(coro: Coroutine[Any, Any, T]) -> T:
    loop = VirtualLoop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


@dataclass(frozen=True)
class Fetched:
    keys: list[str]
    calls: int
    empty: int  # calls that came back with no message
    first_trip: int  # calls started before the first reply
    seconds: float  # virtual


async def fetch(n: int, rate: float, *, window: bool, fault_rate: float = 0.0) -> Fetched:
    dataset = Dataset(seed=0, messages=n, pairs=1, end_time=END)
    account, peer = dataset.conversations[0]
    span = dataset.span(account, peer)
    assert span is not None
    service = SandboxService(dataset, latency_ms=50, rate_limit=None)
    service.faults = FaultPlan(latency_ms=50, fault_rate=fault_rate, seed=1,
                               faults=(Fault.HTTP_502, Fault.ERROR_91000, Fault.TRUNCATED))
    loop = asyncio.get_running_loop()
    limiter = RateLimiter(rate, clock=loop.time)
    q = RoamQuery(account, peer, span[0], span[1])
    async with ImClient(demo_connection("http://127.0.0.1:9"), transport=service.mock_transport(),
                        limiter=limiter, max_retries=12) as client:
        await fetch_page(client, RoamQuery(account, peer, span[0], span[0], 1))  # a round trip
        before = service.stats().calls
        replies: list[int] = []
        started: list[int] = []
        call = client.call_counted

        async def counted(api: str, body: dict[str, Any]) -> tuple[dict[str, Any], int]:
            started.append(len(replies))
            reply = await call(api, body)
            replies.append(len(reply[0].get("MsgList") or []))
            return reply

        client.call_counted = counted  # type: ignore[method-assign]
        t0 = loop.time()
        if window:
            keys = [m.key for m in await fetch_window(client, q)]
        else:
            pages = [page async for page in iter_pages(client, q)]
            keys = [m.key for page in reversed(pages) for m in page.messages]
        seconds = loop.time() - t0
    expected = [m.key for m in dataset.messages_between(account, peer, *span)]
    assert keys == expected
    return Fetched(keys, service.stats().calls - before, replies.count(0),
                   started.count(0), seconds)


def test_at_200_per_s_the_window_keeps_the_limiter_busy_with_few_calls_more_than_the_loop() -> None:
    loop, window = virtual(fetch(5000, 200, window=False)), virtual(fetch(5000, 200, window=True))
    assert window.keys == loop.keys
    assert window.calls <= 1.1 * loop.calls
    assert window.empty <= 0.05 * window.calls  # few slices fell into a quiet stretch
    # One chain starts: the first page tells the density (a window of one page, one call).
    assert window.first_trip == 1
    # The limiter's ceiling allows no faster. Lost beyond it: the last round trip (~60 ms) and
    # the last chains walking alone; the first round trip, with one chain in flight, the
    # limiter catches up when the chains fan out (here 0.15 s in all; 0.19 s before the
    # catch-up; the pool before that lost 0.18 s but made 228 calls, 9 of them empty).
    bound = window.calls / (200 / (1 + GUARD))
    assert window.seconds <= bound + 0.17


def test_at_50_per_s_the_window_runs_near_the_limiter_ceiling() -> None:
    loop, window = virtual(fetch(2500, 50, window=False)), virtual(fetch(2500, 50, window=True))
    assert window.keys == loop.keys and window.calls <= 1.1 * loop.calls
    # Here 0.03 s past the ceiling: a round trip at each end, less the slots the limiter
    # catches up after the first (0.12 s before the catch-up).
    assert window.seconds <= window.calls / (50 / (1 + GUARD)) + 0.06


def test_the_window_stays_exact_under_injected_faults() -> None:
    window = virtual(fetch(1500, 200, window=True, fault_rate=0.2))
    assert len(window.keys) == 1500  # and equal to the dataset's window (checked in fetch)


class Gated(FakeService):
    """FakeService whose replies wait for ``gate``, behind a limiter of some rate and, if
    known, the client's quickest round trip."""

    def __init__(self, messages: list[dict[str, Any]], quickest: float | None) -> None:
        super().__init__(messages)
        self.limiter = type("Limiter", (), {"effective_rate": 200.0})()
        if quickest is not None:
            self.quickest = quickest
        self.gate = asyncio.Event()

    async def call(self, api: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = await super().call(api, body)
        await asyncio.sleep(0.005)  # a round trip, so that chains overlap
        return reply


async def first_trip(quickest: float | None) -> tuple[Gated, list[dict[str, Any]]]:
    convo = conversation(list(range(0, 3600, 9)))  # 400 messages, 40 pages of 10
    service = Gated(convo, quickest)
    task = asyncio.create_task(fetch_window(service, query(), concurrency=16))
    for _ in range(20):
        await asyncio.sleep(0)
    opened = [dict(b) for b in service.bodies]
    service.gate.set()
    assert [m.key for m in await task] == keys_of(convo)
    return service, opened


async def test_one_chain_starts_even_with_a_round_trip_known_then_it_fans_out() -> None:
    for quickest in (None, 0.02):
        service, opened = await first_trip(quickest)
        assert len(opened) == 1
        assert (opened[0]["MinTime"], opened[0]["MaxTime"]) == (query().min_time,
                                                                query().max_time)
        assert service.max_in_flight > 1
    # Once the first page told the density: as many as the limiter feeds (9 at 200/s and
    # 20 ms; 3 with only this fetch's own 5 ms calls to go by).
    assert service.max_in_flight > 4
    # The loop's 40, a short page per chain of those 9, and the tail's 2 free parts.
    assert len(service.bodies) <= 40 + 9 + 2


async def test_a_window_of_one_page_costs_one_call() -> None:
    convo = conversation([5, 6, 7])
    service = Gated(convo, 0.02)
    service.gate.set()
    got = await fetch_window(service, query(), concurrency=16)
    assert [m.key for m in got] == keys_of(convo)
    assert len(service.bodies) == 1
