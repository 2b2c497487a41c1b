"""Benchmark *jump* (PRODUCT.md §6), plus what the timeline costs at 100,000 loaded messages.

    python -m tests.bench.bench_jump [--messages N] [--loaded N]   (or through tests/bench/run.py)

Jump: one generated conversation of 1,000,000 messages over ten days behind the sandbox (mock
transport, the real ImClient). The transcript opens at the newest end, then goes to a time at
10 %, 50 % and 90 % of the window: the calls ``Timeline.jump`` makes are counted, and the screen
around the time is checked (messages on both sides of it). Against it, the documented
one-page-after-another loop runs from the newest end until its pages reach the middle time;
its calls are counted on the way (the 90 % time is passed first).

Memory: a timeline that loaded 100,000 messages with ``load_all``, traced with tracemalloc from
before the timeline exists (messages, their index, rows; the client's garbage collected), per
loaded message; and the time of ``row(i)`` at random places.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import random
import time
import tracemalloc

from roamtui.history.timeline import MessageRow, Timeline
from roamtui.im.client import ImClient
from roamtui.im.limiter import RateLimiter
from roamtui.im.roam import RoamQuery, iter_pages
from roamtui.sandbox import Dataset, SandboxService, demo_connection

END = 1_700_000_000
POINTS = (0.9, 0.5, 0.1)  # where in the window (oldest = 0) the user jumps
TARGET_CALLS = 4
BUDGET_BYTES = 1024
Row = tuple[str, str, str, str]


class _Unlimited(RateLimiter):
    """Calls are what is counted here, not seconds: no pacing."""

    async def acquire(self) -> None:
        await asyncio.sleep(0)


def _client(service: SandboxService) -> ImClient:
    return ImClient(
        demo_connection("http://sandbox.bench"),
        transport=service.mock_transport(),
        limiter=_Unlimited(200),
    )


def _screen_ok(tl: Timeline, t: int, half: int = 15) -> bool:
    """Messages on both sides of ``t`` fill the rows around where the view lands."""
    at = tl.index_at_time(t)
    rows = [tl.row(i) for i in range(max(0, at - half), min(len(tl), at + half))]
    before = sum(1 for r in rows if isinstance(r, MessageRow) and r.msg.time < t)
    after = sum(1 for r in rows if isinstance(r, MessageRow) and r.msg.time >= t)
    return before >= half - 2 and after >= half - 2


async def _jumps(messages: int) -> tuple[list[int], list[bool], int, int, float]:
    dataset = Dataset(seed=7, messages=messages, end_time=END, pairs=1)
    ((account, peer),) = dataset.conversations
    span = dataset.span(account, peer)
    assert span is not None
    lo, hi = span
    service = SandboxService(dataset, rate_limit=None)
    query = RoamQuery(account, peer, lo, hi, page_size=100)
    times = [lo + int((hi - lo) * f) for f in POINTS]
    calls: list[int] = []
    screens: list[bool] = []
    async with _client(service) as client:
        for t in times:
            tl = Timeline(client, query, dt.UTC)
            await tl.open()
            result = await tl.jump(t)
            calls.append(result.calls)
            screens.append(_screen_ok(tl, t))
        # The documented loop: newest page first, one after another, until it reaches t.
        reached: dict[int, int] = {}
        pages = 0
        started = time.perf_counter()
        async for page in iter_pages(client, query):
            pages += 1
            oldest = page.messages[0].time if page.messages else lo
            for t in times[:2]:
                if t not in reached and oldest <= t:
                    reached[t] = pages
            if len(reached) == 2 or page.complete:
                break
        loop_seconds = time.perf_counter() - started
    return calls, screens, reached.get(times[0], pages), reached.get(times[1], pages), loop_seconds


async def _memory(loaded: int) -> tuple[float, float, int]:
    dataset = Dataset(seed=8, messages=loaded, end_time=END, pairs=1)
    ((account, peer),) = dataset.conversations
    span = dataset.span(account, peer)
    assert span is not None
    # Big pages: the memory held does not depend on how the messages arrived.
    service = SandboxService(dataset, rate_limit=None, page_cap_bytes=4 << 20)
    query = RoamQuery(account, peer, span[0], span[1], page_size=2000)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    async with _client(service) as client:
        tl = Timeline(client, query, dt.UTC)
        await tl.load_all()
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    rng = random.Random(1)
    picks = [rng.randrange(len(tl)) for _ in range(20_000)]
    started = time.perf_counter()
    for i in picks:
        tl.row(i)
    micros = (time.perf_counter() - started) / len(picks) * 1e6
    return held / tl.loaded_count, micros, tl.loaded_count


def run(messages: int = 1_000_000, loaded: int = 100_000) -> list[Row]:
    calls, screens, loop_90, loop_50, loop_s = asyncio.run(_jumps(messages))
    worst = max(calls)
    figures = " / ".join(str(c) for c in calls)
    per_message, row_us, count = asyncio.run(_memory(loaded))
    return [
        (
            "jump",
            f"calls at 90/50/10 % of a {messages:,}-message window: {figures}; "
            f"screen filled: {'yes' if all(screens) else 'NO'}",
            f"≤ {TARGET_CALLS} calls",
            "pass" if worst <= TARGET_CALLS and all(screens) else "FAIL",
        ),
        (
            "jump vs loop",
            f"one-page-after-another loop: {loop_90:,} calls to 90 %, {loop_50:,} to 50 % "
            f"({loop_s:.0f} s); jump: {calls[0]} and {calls[1]}",
            "loop needs thousands",
            f"{loop_50 / max(calls[1], 1):,.0f}× fewer calls",
        ),
        (
            "timeline memory",
            f"{per_message:.0f} B per loaded message at {count:,} loaded; "
            f"row(i) {row_us:.1f} µs",
            f"≤ {BUDGET_BYTES} B per message",
            "pass" if per_message <= BUDGET_BYTES else "FAIL",
        ),
    ]


def _cli() -> None:
    # Not named main(): the suite runner would call that, with its own command line.
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000, help="messages in the window")
    parser.add_argument("--loaded", type=int, default=100_000, help="messages for the memory row")
    args = parser.parse_args()
    for row in run(args.messages, args.loaded):
        print("  ".join(row))


if __name__ == "__main__":
    _cli()
