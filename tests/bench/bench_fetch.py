"""Benchmark "window fetch" (PRODUCT.md §6).

A sandbox server runs in a separate process (so its threads do not compete with the client for
the GIL) and serves one 20,000-message conversation with 50 ms latency per call. In the same
run we fetch the whole conversation (a) with the documented one-page-after-another loop
(``iter_pages``) and (b) with ``fetch_window``, both under a limiter set to 200 calls/s; then
the same at the default 50/s over 10,000 messages. Goals (issue 18): (b) uses at least 95 % of
the configured calls/s with at most 1.1x the calls of (a), at 8x (200/s) and 2.8x (50/s) the
speed of (a). Both results must be the same messages in the same order.

Next to the raw speed-up, the bound the same run allows: (b) cannot make fewer calls than (a)
(pages are cut by the service's byte cap, and the loop's greedy pages are the fewest that
cover the window), nor start them faster than the limiter's ceiling ``rate / (1 + GUARD)``
but for the slots of the last ``CATCH_UP`` s, which it may take at once after an idle spell
(``im/limiter.py``), so (b) needs at least ``calls(a) / ceiling - CATCH_UP`` seconds and the
speed-up is at most ``seconds(a) / (calls(a) / ceiling - CATCH_UP)``: at 50/s, 54 ms a call,
~2.67x, under the 2.8x goal.

    python -m tests.bench.run --only bench_fetch
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any

from roamtui.im.client import ImClient
from roamtui.im.limiter import CATCH_UP, GUARD, RateLimiter
from roamtui.im.roam import RoamQuery, fetch_page, fetch_window, iter_pages
from roamtui.im.sharing import SharedSpec
from tests.bench.table import Goal

MESSAGES = 20_000
LATENCY_MS = 50
RATE = 200.0
CONCURRENCY = 16
PAGE_SIZE = 100
END_TIME = 1_700_000_000  # fixed, so every run fetches the same conversation
SPEEDUP_TARGET = 8.0
USE_TARGET = 0.95
START_TIMEOUT_S = 120


@dataclass(frozen=True, slots=True)
class Served:
    endpoint: str
    account: str
    peer: str
    first: int
    last: int
    count: int


def serve(pipe: Pipe, messages: int, latency_ms: float, rate_limit: float) -> None:
    """Child process: serve the sandbox until told to stop; answer "stats" with its counters."""
    from roamtui.sandbox import Dataset, SandboxServer

    dataset = Dataset(seed=0, messages=messages, pairs=1, end_time=END_TIME)
    account, peer = dataset.conversations[0]
    span = dataset.span(account, peer)
    assert span is not None
    with SandboxServer(dataset, latency_ms=latency_ms, rate_limit=rate_limit) as server:
        pipe.send(Served(server.endpoint, account, peer, span[0], span[1],
                         dataset.count(account, peer)))
        while (order := pipe.recv()) != "stop":
            if order == "stats":
                stats = server.service.stats()
                pipe.send({"calls": stats.calls, "ok": stats.ok, "codes": dict(stats.codes),
                           "cpu": time.process_time()})


@dataclass(frozen=True, slots=True)
class Run:
    seconds: float
    cpu: float  # this process's CPU seconds during the fetch
    calls: int  # HTTP calls started, retries included
    retries: int
    keys: list[str]


async def timed(
    served: Served, q: RoamQuery, concurrent: bool, rate: float = RATE,
    share: SharedSpec | None = None,
) -> Run:
    from roamtui.sandbox import demo_connection

    conn = demo_connection(served.endpoint)
    limiter = RateLimiter(rate)
    limiter.share(share)  # None: in-process; else the slots come from the shared budget
    async with ImClient(conn, max_rps=rate, limiter=limiter) as client:
        # One untimed call opens a connection and signs the UserSig, for both runs alike.
        await fetch_page(client, RoamQuery(q.account, q.peer, q.min_time, q.min_time, 1))
        calls, retries = client.calls_started, client.retries
        cpu = time.process_time()
        started = time.perf_counter()
        if concurrent:
            messages = await fetch_window(client, q, concurrency=CONCURRENCY)
            keys = [m.key for m in messages]
        else:
            pages = [page async for page in iter_pages(client, q)]
            keys = [m.key for page in reversed(pages) for m in page.messages]
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        limiter.share(None)
        if share is not None:
            print(f"shared budget: {limiter.renewed} slots renewed (written late)", file=sys.stderr)
        return Run(seconds, cpu, client.calls_started - calls, client.retries - retries, keys)


def _answer(pipe: Pipe, proc: Any, what: str) -> Any:
    """The child's next message; fails at once if the child died instead of answering."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while not pipe.poll(0.2):
        if not proc.is_alive():
            raise RuntimeError(f"the sandbox process exited ({proc.exitcode}) before {what}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"the sandbox process gave no {what}")
    return pipe.recv()


@dataclass(frozen=True, slots=True)
class Setting:
    """One measured configuration: its conversation, latency and limiter rate, and its goals."""

    messages: int
    latency_ms: float
    rate: float
    speedup_goal: float
    shared: bool = False  # also through the local shared budget (issue 20)


#: Issue 18: at 200/s and at the default 50/s, >= 95 % of the rate with calls <= 1.1x the
#: loop's; at 50/s, 10,000 messages and 50 ms, >= 2.8x the loop (the limit is ~3.1x there).
SETTINGS = (
    Setting(MESSAGES, LATENCY_MS, RATE, SPEEDUP_TARGET),
    Setting(10_000, 50, 50.0, 2.8, shared=True),
)
CALLS_GOAL = 1.1


def measure(setting: Setting) -> list[Goal | tuple[str, str, str, object]]:
    ctx = mp.get_context("spawn")  # a clean interpreter: no inherited event loop or threads
    ours, theirs = ctx.Pipe()
    rate = setting.rate
    proc = ctx.Process(target=serve, args=(theirs, setting.messages, setting.latency_ms, rate),
                       daemon=True)
    proc.start()
    try:
        served: Served = _answer(ours, proc, "endpoint")
        q = RoamQuery(served.account, served.peer, served.first, served.last, PAGE_SIZE)
        serial = asyncio.run(timed(served, q, concurrent=False, rate=rate))
        ours.send("stats")
        before = _answer(ours, proc, "stats")
        load = os.getloadavg()[0]
        window = asyncio.run(timed(served, q, concurrent=True, rate=rate))
        ours.send("stats")
        stats = _answer(ours, proc, "stats")
        local = None
        if setting.shared:
            with tempfile.TemporaryDirectory(prefix="roamtui-bench-fetch-") as tmp:
                spec = SharedSpec(1, str(Path(tmp) / "budget.gcra"))
                local = asyncio.run(timed(served, q, concurrent=True, rate=rate, share=spec))
        load = max(load, os.getloadavg()[0])
    finally:
        if proc.is_alive():
            ours.send("stop")
        proc.join(10)
        if proc.is_alive():
            proc.terminate()
            proc.join()

    speedup = serial.seconds / window.seconds
    ceiling = rate / (1 + GUARD)  # the limiter's sustained grants per second
    bound = serial.seconds / (serial.calls / ceiling - CATCH_UP)
    got = window.calls / window.seconds
    calls = window.calls / serial.calls
    equal = serial.keys == window.keys and len(window.keys) == served.count
    rejected = stats["codes"].get(60007, 0)
    at = f"{served.count:,} msgs, {setting.latency_ms:g} ms, {rate:g}/s"
    print(
        f"window fetch: {at}, concurrency {CONCURRENCY}, MaxCnt {PAGE_SIZE}; "
        f"server saw {stats['calls']} calls, {rejected} answered 60007",
        file=sys.stderr,
    )
    rows: list[Goal | tuple[str, str, str, object]] = []
    if local is not None:
        got_local = local.calls / local.seconds
        rows.append(Goal(f"window fetch calls/s used at {rate:g}/s, local shared budget",
                         f"{got_local:.1f}/s of {rate:g}/s, {local.calls} calls",
                         got_local / rate, USE_TARGET, "%", at_least=True))
    return [
        (f"window fetch (a) loop, {at}", f"{serial.seconds:.2f} s, {serial.calls} calls"
         f" ({serial.retries} retries)", "-", "-"),
        (f"window fetch (b) fetch_window, {at}", f"{window.seconds:.2f} s, {window.calls} "
         f"calls ({window.retries} retries)", "-", "-"),
        Goal(f"window fetch speed-up (a)/(b) at {rate:g}/s", f"{speedup:.2f}x", speedup,
             setting.speedup_goal, "×", at_least=True),
        (f"window fetch speed-up bound at {rate:g}/s", f"{bound:.2f}x = {serial.seconds:.2f} s "
         f"/ ({serial.calls} calls / {ceiling:.1f}/s - {CATCH_UP:g} s caught up); "
         f"speed-up {speedup / bound:.0%} of it",
         "-", "-"),
        Goal(f"window fetch calls/s used at {rate:g}/s", f"{got:.1f}/s of {rate:g}/s",
             got / rate, USE_TARGET, "%", at_least=True),
        Goal(f"window fetch calls (b)/(a) at {rate:g}/s", f"{window.calls} / {serial.calls}",
             calls, CALLS_GOAL, "×"),
        (f"window fetch results equal at {rate:g}/s",
         f"{len(serial.keys)} vs {len(window.keys)} messages", f"same {served.count}, same order",
         equal),
        # Both processes need CPU at 200 calls/s: on a busy 2-core machine the figures drop.
        (f"window fetch (b) CPU and load at {rate:g}/s", f"client {window.cpu:.1f} s "
         f"({window.cpu / window.calls * 1000:.1f} ms a call), server "
         f"{stats['cpu'] - before['cpu']:.1f} s, load {load:.1f}", "-", "-"),
        *rows,
    ]


def main() -> list[Goal | tuple[str, str, str, object]]:
    rows: list[Goal | tuple[str, str, str, object]] = []
    for setting in SETTINGS:
        rows.extend(measure(setting))
    return rows


if __name__ == "__main__":
    from tests.bench.run import main as run_benchmarks

    sys.exit(run_benchmarks(["--only", "bench_fetch"]))
