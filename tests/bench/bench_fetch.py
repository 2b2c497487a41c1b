"""Benchmark "window fetch" (PRODUCT.md §6).

A sandbox server runs in a separate process (so its threads do not compete with the client for
the GIL) and serves one 20,000-message conversation with 50 ms latency per call. In the same
run we fetch the whole conversation (a) with the documented one-page-after-another loop
(``iter_pages``) and (b) with ``fetch_window``, both under a limiter set to 200 calls/s.
Targets: (b) at least 8x faster than (a), and (b) using at least 85 % of the configured
calls/s. Both results must be the same messages in the same order.

    python -m tests.bench.run --only bench_fetch
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from typing import Any

from roamtui.im.client import ImClient
from roamtui.im.limiter import RateLimiter
from roamtui.im.roam import RoamQuery, fetch_page, fetch_window, iter_pages

MESSAGES = 20_000
LATENCY_MS = 50
RATE = 200.0
CONCURRENCY = 16
PAGE_SIZE = 100
END_TIME = 1_700_000_000  # fixed, so every run fetches the same conversation
SPEEDUP_TARGET = 8.0
USE_TARGET = 0.85
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


async def timed(served: Served, q: RoamQuery, concurrent: bool) -> Run:
    from roamtui.sandbox import demo_connection

    conn = demo_connection(served.endpoint)
    async with ImClient(conn, max_rps=RATE, limiter=RateLimiter(RATE)) as client:
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


def main(
    messages: int = MESSAGES, latency_ms: float = LATENCY_MS, rate: float = RATE
) -> list[tuple[str, str, str, object]]:
    ctx = mp.get_context("spawn")  # a clean interpreter: no inherited event loop or threads
    ours, theirs = ctx.Pipe()
    proc = ctx.Process(target=serve, args=(theirs, messages, latency_ms, rate), daemon=True)
    proc.start()
    try:
        served: Served = _answer(ours, proc, "endpoint")
        q = RoamQuery(served.account, served.peer, served.first, served.last, PAGE_SIZE)
        serial = asyncio.run(timed(served, q, concurrent=False))
        ours.send("stats")
        before = _answer(ours, proc, "stats")
        load = os.getloadavg()[0]
        window = asyncio.run(timed(served, q, concurrent=True))
        ours.send("stats")
        stats = _answer(ours, proc, "stats")
        load = max(load, os.getloadavg()[0])
    finally:
        if proc.is_alive():
            ours.send("stop")
        proc.join(10)
        if proc.is_alive():
            proc.terminate()
            proc.join()

    speedup = serial.seconds / window.seconds
    used = window.calls / window.seconds / rate
    equal = serial.keys == window.keys and len(window.keys) == served.count
    rejected = stats["codes"].get(60007, 0)
    print(
        f"window fetch: {served.count} messages, latency {latency_ms:g} ms, limiter {rate:g}/s, "
        f"concurrency {CONCURRENCY}, MaxCnt {PAGE_SIZE}; "
        f"server saw {stats['calls']} calls, {rejected} answered 60007",
        file=sys.stderr,
    )
    return [
        ("window fetch (a) one page after another", f"{serial.seconds:.2f} s, {serial.calls} calls"
         f" ({serial.retries} retries)", "-", "-"),
        ("window fetch (b) fetch_window", f"{window.seconds:.2f} s, {window.calls} calls"
         f" ({window.retries} retries)", "-", "-"),
        ("window fetch speed-up (a)/(b)", f"{speedup:.1f}x", f">= {SPEEDUP_TARGET:g}x",
         speedup >= SPEEDUP_TARGET),
        ("window fetch calls/s used by (b)", f"{window.calls / window.seconds:.0f}/s = "
         f"{used:.0%} of {rate:g}", f">= {USE_TARGET:.0%}", used >= USE_TARGET),
        ("window fetch results equal", f"{len(serial.keys)} vs {len(window.keys)} messages",
         f"same {served.count}, same order", equal),
        # Both processes need CPU at 200 calls/s: on a busy 2-core machine the figures drop.
        ("window fetch (b) CPU and machine load", f"client {window.cpu:.1f} s, server "
         f"{stats['cpu'] - before['cpu']:.1f} s, load {load:.1f}", "-", "-"),
    ]


if __name__ == "__main__":
    from tests.bench.run import main as run_benchmarks

    sys.exit(run_benchmarks(["--only", "bench_fetch"]))
