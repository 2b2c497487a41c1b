"""Property tests: over generated conversations served by the sandbox (ListStore through
mock_transport and the real ImClient), the one-after-another loop and the window fetch both
return exactly the conversation's window, in the service's order, nothing lost or doubled —
with same-second bursts bigger than a page, random MaxCnt and reply caps (short pages), both
field namings, and injected faults absorbed by the client's retries."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roamtui.im.client import ImClient
from roamtui.im.limiter import RateLimiter
from roamtui.im.roam import FieldNaming, RoamQuery, fetch_window, iter_pages
from roamtui.sandbox import ListStore, SandboxService, demo_connection
from roamtui.sandbox.faults import Fault, FaultPlan

T0 = 1_700_000_000
ACCOUNT, PEER = "cust_7", "agent_3"
# Slow replies would only test the client's timeout, with real waiting; the rest is retried.
QUICK_FAULTS = (Fault.HTTP_502, Fault.ERROR_91000, Fault.TRUNCATED)


class VirtualTime:
    """The limiter's clock: waiting advances it instead of the wall clock."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.now += delay
        await asyncio.sleep(0)


async def no_backoff(delay: float) -> None:
    await asyncio.sleep(0)


@dataclass(frozen=True)
class Case:
    messages: list[dict[str, Any]]  # service order
    span: int  # the window is [T0, T0 + span - 1]
    page_size: int
    page_cap: int
    naming: FieldNaming
    concurrency: int

    def expected(self) -> list[str]:
        return [m["MsgKey"] for m in self.messages if T0 <= m["MsgTimeStamp"] < T0 + self.span]

    def query(self) -> RoamQuery:
        return RoamQuery(ACCOUNT, PEER, T0, T0 + self.span - 1, self.page_size, self.naming)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    span = draw(st.integers(1, 4000))
    # Seconds may fall outside the window on either side: those must not come back.
    seconds = draw(st.lists(st.integers(-30, span + 30), max_size=30))
    page_size = draw(st.integers(1, 25))
    messages: list[dict[str, Any]] = []
    for offset in sorted(seconds):
        burst = draw(st.integers(1, 2 * page_size + 3))  # often more than a page per second
        for _ in range(burst):
            i = len(messages)
            # MsgSeq deliberately unordered: the service's in-second order is the list order.
            seq = draw(st.integers(0, 2**32 - 1))
            text = f"m{i} " + draw(st.sampled_from(["", "x" * 300, "字" * 200, "hi"]))
            sender, receiver = (ACCOUNT, PEER) if i % 3 else (PEER, ACCOUNT)
            messages.append({
                "From_Account": sender, "To_Account": receiver, "MsgSeq": seq,
                "MsgRandom": i, "MsgTimeStamp": T0 + offset, "MsgFlagBits": 8 if i % 17 == 0 else 0,
                "MsgKey": f"{seq}_{i}_{T0 + offset}",
                "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}],
            })
    return Case(
        messages=messages,
        span=span,
        page_size=page_size,
        page_cap=draw(st.sampled_from([300, 700, 2000, 13 * 1024])),
        naming=draw(st.sampled_from(["from-to", "operator-peer"])),
        concurrency=draw(st.integers(1, 8)),
    )


def make_client(case: Case, fault_rate: float, seed: int) -> tuple[ImClient, SandboxService]:
    store = ListStore({(ACCOUNT, PEER): case.messages})
    service = SandboxService(store, rate_limit=None, page_cap_bytes=case.page_cap)
    service.faults = FaultPlan(fault_rate=fault_rate, seed=seed, faults=QUICK_FAULTS)
    time = VirtualTime()
    client = ImClient(
        demo_connection("http://127.0.0.1:9"),
        transport=service.mock_transport(),
        limiter=RateLimiter(200, clock=time.clock, sleep=time.sleep),
        sleep=no_backoff,
        max_retries=12,  # at a fault rate of 0.2, 13 failures in a row never happen in practice
    )
    return client, service


async def serial_keys(case: Case, fault_rate: float = 0.0, seed: int = 0) -> list[str]:
    client, _ = make_client(case, fault_rate, seed)
    async with client:
        pages = [page async for page in iter_pages(client, case.query())]
    return [m.key for page in reversed(pages) for m in page.messages]


async def window_keys(case: Case, fault_rate: float = 0.0, seed: int = 0) -> list[str]:
    client, _ = make_client(case, fault_rate, seed)
    async with client:
        got = await fetch_window(client, case.query(), concurrency=case.concurrency)
    return [m.key for m in got]


PROPERTY = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY
@given(cases())
def test_iter_pages_collects_exactly_the_window(case: Case) -> None:
    assert asyncio.run(serial_keys(case)) == case.expected()


@PROPERTY
@given(cases())
def test_fetch_window_returns_exactly_the_window(case: Case) -> None:
    assert asyncio.run(window_keys(case)) == case.expected()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.integers(0, 2**16))
def test_both_fetches_stay_exact_under_injected_faults(case: Case, seed: int) -> None:
    assert asyncio.run(serial_keys(case, 0.2, seed)) == case.expected()
    assert asyncio.run(window_keys(case, 0.2, seed)) == case.expected()


def test_the_fault_cases_really_inject_faults() -> None:
    # Guards the property above against silently testing a fault-free service.
    case = Case(
        messages=[{"MsgKey": f"k{i}", "MsgTimeStamp": T0 + i, "MsgSeq": i, "MsgRandom": i,
                   "From_Account": ACCOUNT, "To_Account": PEER, "MsgBody": []}
                  for i in range(200)],
        span=200, page_size=5, page_cap=13 * 1024, naming="from-to", concurrency=4,
    )

    async def run() -> tuple[list[str], int, int]:
        client, service = make_client(case, 0.2, 1)
        async with client:
            got = await fetch_window(client, case.query(), concurrency=4)
        return [m.key for m in got], client.retries, sum(service.stats().faults.values())

    keys, retries, faults = asyncio.run(run())
    assert keys == case.expected()
    assert faults > 0 and retries == faults
