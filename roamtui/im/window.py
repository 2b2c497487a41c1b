"""The window fetch's worker pool: concurrent chains over disjoint ranges of whole seconds.

Workers share a pool of slices; a chain whose rest is long is split, its older parts handed to
idle workers, so that a window of any density ends in about (pages / rate) seconds. The pool
keeps as many chains as the client's limiter can feed: its rate times the quickest round trip
seen, twice over (:meth:`WindowFetch._wanted`). :func:`roamtui.im.roam.fetch_window` is the
entry point.

Every slice ends on a short page, so every split costs about a call, and a slice that falls
into a quiet stretch between sessions costs a whole call for nothing (measured at 200/s over
the bench's 20,000 messages: 71 chains, 32 empty pages, 1.07x the loop's calls). Where the
limiter stood idle: the first round trip, while one chain runs (~50 ms), and the tail, where
the last chains walk alone (~80 ms); hardly in between. So:

* the start stays one chain (why: :meth:`WindowFetch.run`); the limiter gives back the slots
  of its round trip at once when the chains fan out (``CATCH_UP`` in :mod:`roamtui.im.limiter`);
* the middle: a worker left idle takes the older part of the chain with the most pages left
  (by the window's mean seconds per page), in parts of at least two pages, not of whichever
  chain answers next: the chains that answer meanwhile are left alone;
* the tail, once the pages left would keep the chains busy for only a few rounds: density
  estimates are poor there (a burst within a quiet day), so any chain splits, judged by its own
  last page too, in parts down to half a page, within a budget of calls (``_TAIL_BUDGET``) so
  that a small window does not pay for it many times over.
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

#: Chains per call the limiter lets through in one round trip (see ``WindowFetch._wanted``).
_CHAINS_PER_TRIP = 2.0
#: A part handed to another chain holds at least this many pages by the window's density.
_MIN_PART = 2.0
#: The chain split is the one with the most pages left, or one within this share of it.
_BIGGEST = 0.8
#: The tail begins once the chains' pages left are fewer than this many per wanted chain...
_TAIL_ROUNDS = 3.0
#: ...and there parts go down to this many pages,
_TAIL_PART = 0.5
#: as long as the parts handed out in the tail stay within this share of the calls made.
_TAIL_BUDGET = 0.04
_TAIL_FREE = 2


@dataclass(frozen=True, slots=True)
class _Slice:
    """An inclusive range of whole seconds, fetched by one chain from its newest end."""

    lo: int
    hi: int


class _Run:
    """A running chain as the split decisions see it: what is left of its slice."""

    __slots__ = ("last", "lo", "top")

    def __init__(self, piece: _Slice) -> None:
        self.lo, self.top = piece.lo, piece.hi
        self.last = 0  # seconds its last full page reached over (0: none yet)


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
        self._running: set[_Run] = set()
        self._pages: list[tuple[Message, ...]] = []  # in fetch order
        self._seen: set[str] = set()
        self._calls = 0
        self._covered = 0
        self._budget = PagingGuard(q.page_size)  # shared by every slice of the window
        self._rtt = math.inf  # the quickest call seen: the path's round trip, no waiting in it
        self._spans = 0  # seconds reached over by the pages that continued, and their count:
        self._full = 0  # the window's density so far
        self._tail_parts = 0

    async def run(self) -> list[Message]:
        # One chain to start with: its first page tells the density. Starting as many slices
        # as the limiter feeds (a round trip known from earlier calls) gained that round trip
        # at 200/s (94.7 -> 96.2 % of the rate in a model of the bench) but made a window of
        # one page cost that many calls, and later by as many grants: on a 150 ms path at
        # 50/s, 16 calls and 0.3 s instead of one call, for every small conversation. The
        # limiter's catch-up wins that round trip back instead (94.5 -> 96.1 % in the model).
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
            run = _Run(piece)
            self._running.add(run)
            try:
                await self._run_slice(run)
            finally:
                self._running.discard(run)
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

    async def _run_slice(self, run: _Run) -> None:
        cursor: Cursor | None = None
        guard = ChainGuard(None, self._budget)
        while True:
            lo, top = run.lo, run.top
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
            reached = top - cursor.max_time  # seconds this page reached over
            self._covered += reached
            self._spans += reached
            self._full += 1
            run.top, run.last = cursor.max_time, reached
            # A chain still inside its top second must walk it alone (it cannot be cut), and
            # chains started meanwhile would each get the same second's budget: hold the rest
            # back until this one moves on.
            if reached > 0 or page.messages[-1].time != run.top:
                self._split(run)
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

    def _split(self, run: _Run) -> None:
        """Hand older parts of ``run``'s slice to idle workers (see the module docstring)."""
        wanted = self._wanted()
        idle = min(self._idle_count(), wanted - self._busy)
        seconds = run.top - run.lo + 1
        if idle <= 0 or seconds == 1:
            return
        # Seconds per page over the window so far (at least the one this page reached).
        spp = max(1.0, self._spans / self._full)
        left = {other: (other.top - other.lo + 1) / spp for other in self._running}
        mine = left[run]
        parts = 1
        if mine >= _BIGGEST * max(left.values()):
            parts = min(idle + 1, seconds, math.floor(mine / _MIN_PART))
        if parts < 2 and sum(left.values()) < _TAIL_ROUNDS * wanted:
            # The tail: any chain, and a burst the window's mean misses shows in its own
            # last page; within the budget.
            mine = max(mine, seconds / max(run.last, 1))
            allowed = _TAIL_FREE + math.floor(_TAIL_BUDGET * self._calls) - self._tail_parts
            parts = min(min(idle, allowed) + 1, seconds, math.floor(mine / _TAIL_PART))
            self._tail_parts += max(0, parts - 1)
        if parts < 2:
            return  # else the chain with the most left splits when it answers, within a trip
        bounds = [run.lo + seconds * i // parts for i in range(parts + 1)]
        # The newest part stays here: it holds the cursor's second, which must not be cut.
        for i in range(parts - 1):
            self._give(_Slice(bounds[i], bounds[i + 1] - 1))
        run.lo = bounds[parts - 1]

    def _report(self) -> None:
        if self._progress is not None:
            self._progress(
                FetchProgress(len(self._seen), self._calls, self._covered, self._q.total_seconds)
            )
