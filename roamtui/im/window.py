"""The window fetch's worker pool: concurrent chains over disjoint ranges of whole seconds.

Workers share a pool of slices; a chain whose rest is long is split, its older parts handed to
idle workers, so that a window of any density ends in about (pages / rate) seconds. Every split
costs a call (each slice ends on a short page), so the pool keeps only as many chains as the
client's limiter can feed: its rate times the quickest round trip seen, twice over, and makes
up the count only once the chains left cannot keep the limiter busy. :func:`roamtui.im.roam.
fetch_window` is the entry point.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from roamtui.im.guard import ChainGuard, PagingGuard
from roamtui.im.model import Message
from roamtui.im.pagelog import PageRecord, page_record
from roamtui.im.roam import (
    ChainPage,
    Cursor,
    FetchProgress,
    RoamCaller,
    RoamQuery,
    build_body,
    fetch_page,
    unseen,
)

#: Chains per call the limiter lets through in one round trip (see ``WindowFetch._wanted``),
#: and the count below which a chain that ended is replaced (headroom for the path's jitter:
#: at 200/s and 55 ms that is all 16 chains, as before).
_CHAINS_PER_TRIP = 2.0
_REFILL_PER_TRIP = 1.5


@dataclass(frozen=True, slots=True)
class _Slice:
    """An inclusive range of whole seconds, fetched by one chain from its newest end."""

    lo: int
    hi: int


class WindowFetch:
    """Workers share a pool of slices; an idle worker gets the older part of a busy chain.

    Everything runs on one event loop, so the bookkeeping needs no locks: it is only touched
    between awaits.
    """

    def __init__(
        self,
        client: RoamCaller,
        q: RoamQuery,
        progress: Callable[[FetchProgress], None] | None,
        concurrency: int,
        on_page: Callable[[ChainPage], None] | None = None,
        on_record: Callable[[PageRecord], None] | None = None,
    ) -> None:
        self._client = client
        self._on_record = on_record
        self._q = q
        self._progress = progress
        self._on_page = on_page
        self._concurrency = concurrency
        self._pending: deque[_Slice] = deque()
        self._idle: deque[asyncio.Future[_Slice | None]] = deque()
        self._busy = 0
        self._pages: list[tuple[Message, ...]] = []  # in fetch order
        self._seen: set[str] = set()
        self._calls = 0
        self._covered = 0
        self._budget = PagingGuard(q.page_size)  # shared by every slice of the window
        self._rtt = math.inf  # the quickest call seen: the path's round trip, no waiting in it

    async def run(self) -> list[Message]:
        self._pending.append(_Slice(self._q.min_time, self._q.max_time))
        tasks = [asyncio.create_task(self._worker()) for _ in range(self._concurrency)]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            # On our own cancellation or a worker's failure, no sub-task outlives the call.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in done:
            error = None if task.cancelled() else task.exception()
            if error is not None:
                raise error
        return self._merge()

    def _merge(self) -> list[Message]:
        # Within one second all messages come from one chain, whose later pages are older:
        # reading pages in reverse fetch order and sorting stably by time keeps the
        # service's order inside each second.
        ordered = [msg for page in reversed(self._pages) for msg in page]
        ordered.sort(key=lambda msg: msg.time)
        return ordered

    async def _worker(self) -> None:
        while True:
            piece = await self._take()
            if piece is None:
                return
            try:
                await self._run_slice(piece)
            finally:
                self._release()

    async def _take(self) -> _Slice | None:
        if self._pending:
            self._busy += 1
            return self._pending.popleft()
        if self._busy == 0:
            return None
        waiter: asyncio.Future[_Slice | None] = asyncio.get_running_loop().create_future()
        self._idle.append(waiter)
        return await waiter  # _give counts us busy before handing over

    def _give(self, piece: _Slice) -> None:
        while self._idle:
            waiter = self._idle.popleft()
            if not waiter.done():
                self._busy += 1
                waiter.set_result(piece)
                return
        self._pending.append(piece)

    def _release(self) -> None:
        self._busy -= 1
        if self._busy == 0 and not self._pending:
            while self._idle:
                waiter = self._idle.popleft()
                if not waiter.done():
                    waiter.set_result(None)

    def _idle_count(self) -> int:
        return sum(1 for waiter in self._idle if not waiter.done())

    async def _run_slice(self, piece: _Slice) -> None:
        lo, top = piece.lo, piece.hi
        cursor: Cursor | None = None
        guard = ChainGuard(None, self._budget)
        while True:
            guard.count_call(self._covered)
            started = time.monotonic()
            page = await fetch_page(self._client, self._q, cursor, min_time=lo, max_time=top)
            self._rtt = min(self._rtt, time.monotonic() - started)
            self._calls += 1
            fresh = unseen(page.messages, self._seen)
            self._pages.append(fresh)
            if self._on_record is not None:
                body = build_body(self._q, cursor, min_time=lo, max_time=top)
                last = None if page.next is None else (page.next.max_time, page.next.last_key)
                self._on_record(page_record(body, page.messages, page.complete, last,
                                            page.msg_cnt, page.attempts, len(fresh)))
            after, cursor = cursor, guard.check(page, len(fresh))
            if self._on_page is not None:
                self._on_page(ChainPage(fresh, lo, top, after, cursor))
            if cursor is None:
                self._covered += top - lo + 1
                self._report()
                return
            span = top - cursor.max_time + 1  # seconds this page reached over
            self._covered += top - cursor.max_time
            top = cursor.max_time
            # A chain still inside its top second must walk it alone (it cannot be cut), and
            # chains started meanwhile would each get the same second's budget: hold the rest
            # back until this one moves on.
            if span > 1 or page.messages[-1].time != top:
                lo = self._split(lo, top, span)
            self._report()

    def _wanted(self, per_trip: float = _CHAINS_PER_TRIP) -> int:
        """How many chains keep the limiter busy: its rate times a round trip, twice over.

        More chains than that only wait for the limiter, and each one ends on a short page:
        at 50/s and 60 ms, 16 chains made 10 % more calls than one chain, 7 chains 2 %."""
        rate = getattr(getattr(self._client, "limiter", None), "effective_rate", None)
        # The client's quickest exchange leaves the limiter's waits out (a budget shared with
        # other processes makes every call wait); else the quickest call seen here.
        quickest = getattr(self._client, "quickest", None)
        rtt = quickest if isinstance(quickest, float) and math.isfinite(quickest) else self._rtt
        # An unlimited limiter (an infinite rate, or none) never makes a chain wait: all of them.
        if not isinstance(rate, int | float) or not math.isfinite(rate) or not math.isfinite(rtt):
            return self._concurrency
        return max(2, min(self._concurrency, math.ceil(rate * rtt * per_trip) + 1))

    def _split(self, lo: int, top: int, span: int) -> int:
        """Hand older parts of [lo, top] to idle workers; return the new low end of ours.

        Only once the chains left can barely keep the limiter busy (fewer than 1.5 times its
        rate times a round trip): a chain that ends while the others still can is not replaced,
        since every new slice ends on a short page; then the count is made up to ``_wanted``."""
        if self._busy >= self._wanted(_REFILL_PER_TRIP):
            return lo
        idle = min(self._idle_count(), self._wanted() - self._busy)
        seconds = top - lo + 1
        if idle == 0 or seconds == 1:
            return lo
        # Slices with less than a page of messages cost calls without saving time, so the
        # density just seen bounds the split.
        pages_left = math.ceil(seconds / span)
        parts = min(idle + 1, seconds, pages_left)
        if parts < 2:
            return lo
        bounds = [lo + seconds * i // parts for i in range(parts + 1)]
        # The newest part stays here: it holds the cursor's second, which must not be cut.
        for i in range(parts - 1):
            self._give(_Slice(bounds[i], bounds[i + 1] - 1))
        return bounds[parts - 1]

    def _report(self) -> None:
        if self._progress is not None:
            self._progress(
                FetchProgress(len(self._seen), self._calls, self._covered, self._q.total_seconds)
            )


