"""Benchmark *jump* (PRODUCT.md §6), plus what the timeline costs at 100,000 loaded messages.

    python -m tests.bench.bench_jump [--messages N] [--loaded N] [--jumps N]   (or via run.py)

Jump: one generated conversation of 1,000,000 messages over ten days behind the sandbox (mock
transport, the real ImClient, pages cut near 13 KB). For each of 30 random times the transcript
opens at the newest end, then the transcript's path runs: ``Timeline.jump`` loads the screen
around the time (its calls are counted), ``navigation.reach`` loads on while a gap hides the
landing row, then the gaps within 15 rows either side of it are filled as the view fills gaps
in sight; the calls of all three until no gap row is left there are the second figure.
Against it, the documented one-page-after-another loop pages from the newest end until it
reaches the time at 90 % of the window; its calls are counted exactly (at the pace it showed,
the middle of the window would take the figure marked ≈).

Memory: a timeline that loaded a 100,000-message window page after page, traced with tracemalloc
from before the timeline exists (messages, their index, rows), per loaded message; the replies
are recorded by a first pass and replayed as fresh copies, so that only the timeline's own work
runs under tracing. And the time of ``row(i)`` at random places.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import random
import statistics
import time
import tracemalloc
from bisect import bisect_right
from typing import Any

from roamtui.history.navigation import reach
from roamtui.history.timeline import GapRow, Timeline
from roamtui.im.client import ImClient
from roamtui.im.limiter import RateLimiter
from roamtui.im.roam import RoamQuery, iter_pages
from roamtui.sandbox import Dataset, SandboxService, demo_connection
from tests.bench.table import Goal, format_table, normalise

END = 1_700_000_000
JUMPS = 30
HALF_SCREEN = 15
TARGET_CALLS = 4  # Timeline.jump's own calls (its budget)
WHOLE_MEDIAN = 3  # issue 18: calls until no gap row is on screen, median
WHOLE_P90 = 4  # and 90th percentile
BUDGET_BYTES = 600  # issue 18: memory per loaded message
Row = tuple[str, str, str, str] | Goal


class _Unlimited(RateLimiter):
    """Calls are what is counted here, not seconds: no pacing."""

    async def acquire(self) -> None:  # type: ignore[override]
        await asyncio.sleep(0)


def _client(service: SandboxService) -> ImClient:
    return ImClient(
        demo_connection("http://sandbox.bench"),
        transport=service.mock_transport(),
        limiter=_Unlimited(200),
    )


def _holes(tl: Timeline, t: int) -> list[tuple[int, GapRow, int]]:
    """Gap rows within half a screen of where the view lands for ``t``."""
    at = tl.index_at_time(t)
    rows = range(max(0, at - HALF_SCREEN), min(len(tl), at + HALF_SCREEN + 1))
    return [(i, row, at) for i in rows if isinstance(row := tl.row(i), GapRow)]


async def _until_whole(tl: Timeline, t: int) -> int:
    """Calls to fill the gaps on screen, each from the side the view comes from."""
    calls = 0
    while holes := _holes(tl, t):
        i, row, at = holes[0]
        calls += (await tl.fill(row.gap, "bottom" if i < at else "top")).calls
    return calls


async def _jumps(messages: int, jumps: int = JUMPS) -> dict[str, float]:
    dataset = Dataset(seed=7, messages=messages, end_time=END, pairs=1)
    ((account, peer),) = dataset.conversations
    span = dataset.span(account, peer)
    assert span is not None
    lo, hi = span
    service = SandboxService(dataset, rate_limit=None)
    query = RoamQuery(account, peer, lo, hi, page_size=100)
    rng = random.Random(11)
    jump_calls: list[int] = []
    whole_calls: list[int] = []
    async with _client(service) as client:
        for _ in range(jumps):
            t = rng.randrange(lo, hi + 1)
            tl = Timeline(client, query, dt.UTC)
            await tl.open()
            before = tl.calls
            jump_calls.append((await tl.jump(t)).calls)
            await reach(tl, t, False)  # as the transcript does after a jump
            whole_calls.append(tl.calls - before + await _until_whole(tl, t))
        mark = lo + (hi - lo) * 9 // 10
        tl = Timeline(client, query, dt.UTC)
        await tl.open()
        mark_jump = (await tl.jump(mark)).calls
        # The documented loop: newest page first, one after another, until it reaches mark.
        pages = seen = 0
        started = time.perf_counter()
        async for page in iter_pages(client, query):
            pages += 1
            seen += len(page.messages)
            if page.complete or (page.messages and page.messages[0].time <= mark):
                break
        loop_seconds = time.perf_counter() - started
    times = dataset.conversation(account, peer).times  # type: ignore[union-attr]
    middle = len(times) - bisect_right(times, lo + (hi - lo) // 2)
    whole_calls.sort()
    return {
        "median": statistics.median(jump_calls),
        "max": max(jump_calls),
        "whole_median": statistics.median(whole_calls),
        "whole_p90": whole_calls[int(len(whole_calls) * 0.9)],
        "whole_max": whole_calls[-1],
        "mark_jump": mark_jump,
        "loop": pages,
        "loop_seconds": loop_seconds,
        "middle": middle / (seen / pages),
    }


class _Replay:
    """Records each reply once, then answers the same request with a fresh copy of it, so that
    a second timeline's allocations are all its own and nothing else runs under tracing."""

    def __init__(self, client: ImClient) -> None:
        self.client = client
        self.replies: dict[str, str] = {}

    async def call(self, api: str, body: dict[str, Any]) -> dict[str, Any]:
        key = json.dumps(body, sort_keys=True)
        if key not in self.replies:
            self.replies[key] = json.dumps(await self.client.call(api, body), ensure_ascii=False)
        reply: dict[str, Any] = json.loads(self.replies[key])
        return reply


async def _load_everything(tl: Timeline) -> None:
    await tl.open()
    while not tl.start_reached:
        await tl.load_older()


async def _memory(loaded: int) -> tuple[float, float, int]:
    dataset = Dataset(seed=8, messages=loaded, end_time=END, pairs=1)
    ((account, peer),) = dataset.conversations
    span = dataset.span(account, peer)
    assert span is not None
    # Big pages: the memory held does not depend on how the messages arrived.
    service = SandboxService(dataset, rate_limit=None, page_cap_bytes=4 << 20)
    query = RoamQuery(account, peer, span[0], span[1], page_size=2000)
    async with _client(service) as client:
        replay = _Replay(client)
        await _load_everything(Timeline(replay, query, dt.UTC))
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        tl = Timeline(replay, query, dt.UTC)
        await _load_everything(tl)
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


def run(messages: int = 1_000_000, loaded: int = 100_000, jumps: int = JUMPS) -> list[Row]:
    j = asyncio.run(_jumps(messages, jumps))
    per_message, row_us, count = asyncio.run(_memory(loaded))
    return [
        Goal("jump: calls of Timeline.jump",
             f"at {jumps} random times in a {messages:,}-message window: median "
             f"{j['median']:g}, max {j['max']:g}", j["median"], TARGET_CALLS, "calls"),
        Goal("jump: calls until no gap on screen, median",
             f"{HALF_SCREEN} rows either side of the landing row hold no gap row (jump + "
             f"reach + fills): median {j['whole_median']:g}, 90th pct {j['whole_p90']:g}, "
             f"max {j['whole_max']:g}",
             j["whole_median"], WHOLE_MEDIAN, "calls"),
        Goal("jump: calls until no gap on screen, p90", f"90th pct {j['whole_p90']:g}",
             j["whole_p90"], WHOLE_P90, "calls"),
        (
            "jump vs loop",
            f"to the time at 90 %: one-page-after-another loop {j['loop']:,} calls "
            f"({j['loop_seconds']:.0f} s), jump {j['mark_jump']:g}; to the middle the loop "
            f"would need ≈ {j['middle']:,.0f}",
            "loop needs thousands",
            f"{j['loop'] / max(j['mark_jump'], 1):,.0f}× fewer calls",
        ),
        Goal("timeline memory per loaded message",
             f"{per_message:.0f} B at {count:,} loaded (messages, rows, segments); row(i) "
             f"{row_us:.1f} µs", per_message, BUDGET_BYTES, "B"),
    ]


def _cli() -> None:
    # Not named main(): the suite runner would call that, with its own command line.
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000, help="messages in the window")
    parser.add_argument("--loaded", type=int, default=100_000, help="messages for the memory row")
    parser.add_argument("--jumps", type=int, default=JUMPS, help="random times to jump to")
    args = parser.parse_args()
    print(format_table(normalise(run(args.messages, args.loaded, args.jumps))))


if __name__ == "__main__":
    _cli()
