"""How many chains the window fetch keeps going (issue 18): only as many as the limiter feeds.

More chains than the rate times a round trip only queue at the limiter, and each one ends on a
short page, so at the default 50/s the sliced fetch made 10 % more calls than the one page
after another loop. The fetch reads the client's limiter rate and the quickest round trip.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from test_roam import FakeService, conversation, keys_of, query

from roamtui.im.roam import fetch_window


@dataclass
class Limiter:
    effective_rate: float


class SlowService(FakeService):
    """FakeService with a round trip of ``latency`` seconds and a limiter of some rate."""

    def __init__(self, messages: list[dict[str, Any]], rate: float, latency: float) -> None:
        super().__init__(messages)
        self.limiter = Limiter(rate)
        self.latency = latency

    async def call(self, api: str, body: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(self.latency)
        return await super().call(api, body)


def spread() -> list[dict[str, Any]]:
    return conversation(list(range(0, 3600, 9)))  # 400 messages, 40 pages of 10


async def test_at_a_low_rate_few_chains_and_no_wasted_calls() -> None:
    convo = spread()
    slow = SlowService(convo, rate=20, latency=0.01)  # 20/s x 10 ms: one chain would do
    got = await fetch_window(slow, query(), concurrency=16)
    assert [m.key for m in got] == keys_of(convo)
    assert slow.max_in_flight <= 2
    assert len(slow.bodies) <= 44  # the loop's 40 calls, and a short page per extra chain


async def test_at_a_high_rate_the_chains_fan_out() -> None:
    convo = spread()
    fast = SlowService(convo, rate=2000, latency=0.01)  # 2000/s x 10 ms: 20 chains wanted
    got = await fetch_window(fast, query(), concurrency=16)
    assert [m.key for m in got] == keys_of(convo)
    assert fast.max_in_flight > 8


async def test_a_client_without_a_limiter_gets_the_whole_concurrency() -> None:
    convo = spread()
    plain = FakeService(convo)
    await fetch_window(plain, query(), concurrency=6)
    assert plain.max_in_flight == 6


async def test_an_unlimited_limiter_gets_the_whole_concurrency() -> None:
    # An infinite effective rate (an unlimited limiter) once raised OverflowError.
    convo = spread()
    free = SlowService(convo, rate=float("inf"), latency=0.01)
    got = await fetch_window(free, query(), concurrency=6)
    assert [m.key for m in got] == keys_of(convo)
    assert free.max_in_flight == 6
