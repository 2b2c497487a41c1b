"""Every conversation of a generated dataset, paged through the `im` layer, comes back exactly."""

from __future__ import annotations

import asyncio

import pytest

from roamtui.im.client import ImClient
from roamtui.im.limiter import RateLimiter
from roamtui.im.roam import RoamQuery, fetch_window, iter_pages
from roamtui.sandbox import Dataset, Fault, SandboxServer, SandboxService, demo_connection

END = 1_700_000_000


async def _no_wait(_seconds: float) -> None:
    await asyncio.sleep(0)


class _Unlimited(RateLimiter):
    """No pacing: these tests check content, and the sandbox's quota is off for them."""

    async def acquire(self) -> None:
        await asyncio.sleep(0)


def _client(service: SandboxService, endpoint: str = "http://sandbox.test") -> ImClient:
    return ImClient(
        demo_connection(endpoint),
        transport=service.mock_transport(),
        limiter=_Unlimited(200),
        timeout=0.5,
        max_retries=10,
        sleep=_no_wait,
    )


@pytest.mark.parametrize("fault_rate", [0.0, 0.2])
async def test_every_conversation_pages_back_exactly(fault_rate: float) -> None:
    dataset = Dataset(seed=21, messages=2500, end_time=END)
    service = SandboxService(dataset, rate_limit=None, fault_rate=fault_rate, seed=3)
    # Slow replies cost a real client timeout each; the other faults exercise the same retry path.
    service.faults.faults = (Fault.HTTP_502, Fault.ERROR_91000, Fault.TRUNCATED)
    async with _client(service) as client:
        for customer, agent in dataset.conversations:
            query = RoamQuery(customer, agent, END - 11 * 86400, END, page_size=100)
            pages = [page async for page in iter_pages(client, query)]
            fetched = [m for page in reversed(pages) for m in page.messages]
            expected = dataset.messages_between(customer, agent, query.min_time, query.max_time)
            assert [m.key for m in fetched] == [r.key for r in expected]
            assert [m.raw() for m in fetched] == [dataset.message_obj(r.index) for r in expected]
            window = await fetch_window(client, query)
            assert [m.key for m in window] == [r.key for r in expected]
    if fault_rate:
        assert sum(service.stats().faults.values()) > 20


async def test_slow_replies_are_retried_to_completion() -> None:
    dataset = Dataset(seed=22, messages=300, end_time=END, pairs=1)
    service = SandboxService(dataset, rate_limit=None, fault_rate=0.3, seed=8, slow_reply_s=30.0)
    service.faults.faults = (Fault.SLOW,)
    customer, agent = dataset.conversations[0]
    async with _client(service) as client:
        query = RoamQuery(agent, customer, 0, END, page_size=20, naming="operator-peer")
        window = await fetch_window(client, query, concurrency=4)
    expected = dataset.messages_between(customer, agent, 0, END)
    assert [m.key for m in window] == [r.key for r in expected]
    assert service.stats().faults.get("slow", 0) > 0


async def test_fetch_window_over_the_real_socket() -> None:
    dataset = Dataset(seed=23, messages=3000, end_time=END)
    customer, agent = dataset.conversations[0]
    with SandboxServer(dataset) as server:
        async with ImClient(demo_connection(server.endpoint), limiter=RateLimiter(200)) as client:
            window = await fetch_window(client, RoamQuery(customer, agent, 0, END))
    assert [m.key for m in window] == [
        r.key for r in dataset.messages_between(customer, agent, 0, END)
    ]
    assert server.service.stats().rate_limited == 0
