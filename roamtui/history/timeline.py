"""The conversation timeline: lazy, two-way, gap-aware loading of one window, Textual-free.

The view asks for rows and says where the user is; the timeline decides what to fetch. It
opens on the newest page, continues a segment's chain downwards, fetches just above a segment
with a sub-window sized from the density seen so far (there is no forward cursor), jumps to a
time in a handful of calls, and fills every gap at once with the ``im`` layer's sliced fetch.

Every operation may run while others are in flight (a background ``load_all`` under a user's
``jump``): state changes happen only between awaits, and each result is folded in where the
knowledge stands when it lands (:meth:`Store.merge`), so the model is exact after every step.
A failed load raises and changes nothing but the gap's state: the error stays on the gap until
a retry succeeds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Literal

from roamtui.history.layout import RowLayout
from roamtui.history.rows import (
    DayRow,
    EdgeRow,
    Gap,
    GapRow,
    MessageRow,
    Row,
    RowsChanged,
)
from roamtui.history.segments import GapBounds, Seg, Segment, Span
from roamtui.im.errors import ProtocolError
from roamtui.im.roam import (
    Cursor,
    FetchProgress,
    Page,
    RoamCaller,
    RoamQuery,
    fetch_page,
    fetch_window,
)

__all__ = [
    "DayRow",
    "EdgeRow",
    "Gap",
    "GapRow",
    "LoadProgress",
    "MessageRow",
    "OpResult",
    "Row",
    "RowsChanged",
    "Segment",
    "Timeline",
]

#: A sub-window is sized to hold this share of a page, so that it usually takes one call.
FILL_SHARE = 0.8
#: A jump asks for sub-windows expected to hold this many times the context it wants.
JUMP_WANT = 1.5
#: Weight of the newest full page in the estimate of how many messages a page holds.
FILL_WEIGHT = 0.3


@dataclass(frozen=True, slots=True)
class OpResult:
    calls: int  # admin_getroammsg calls made (a client's own retries not counted)
    added: int  # messages added to the loaded ones


@dataclass(frozen=True, slots=True)
class LoadProgress:
    messages: int  # loaded, plus fetched and about to be merged
    calls: int
    covered_seconds: int  # seconds of the window known whole
    total_seconds: int

    @property
    def fraction(self) -> float:
        return self.covered_seconds / self.total_seconds if self.total_seconds else 1.0


@dataclass(slots=True)
class _Tally:
    calls: int = 0
    added: int = 0

    def result(self) -> OpResult:
        return OpResult(self.calls, self.added)


class Timeline(RowLayout):
    """The loaded history of one query, and the operations that load more of it.

    Operations are coroutines and may be cancelled; each returns an :class:`OpResult` or
    raises the :class:`~roamtui.im.errors.RoamError` that stopped it.
    """

    def __init__(
        self, client: RoamCaller, query: RoamQuery, tz: tzinfo, *, concurrency: int = 16
    ) -> None:
        super().__init__(query, tz)
        self.client = client
        self._calls = 0
        self._concurrency = concurrency
        # Replies are capped near 13 KB, so a page often holds fewer than MaxCnt messages:
        # sub-windows are sized by what full pages really held.
        self._full_pages: float | None = None

    @property
    def calls(self) -> int:
        """Calls made by every operation so far."""
        return self._calls

    # -- operations --------------------------------------------------------------------------

    async def open(self) -> OpResult:
        """The newest page of the window (nothing when the newest end is loaded already)."""
        gaps = self._store.gaps()
        tally = _Tally()
        if gaps and gaps[-1].newer is None:
            await self._older_page(tally, gaps[-1])
        return tally.result()

    async def load_older(self, segment: Segment | None = None) -> OpResult:
        """One page further down the chain of ``segment`` (default: the oldest gap's newer side)."""
        tally = _Tally()
        gap: GapBounds | None
        if segment is None:
            gaps = self._store.gaps()
            gap = gaps[0] if gaps else None
        else:
            seg = self._store.seg_at(segment.max_time)
            gap = self._gap_below(seg) if seg is not None else None
        if gap is not None:
            await self._older_page(tally, gap)
        return tally.result()

    async def load_newer(self, segment: Segment) -> OpResult:
        """The messages just above ``segment``'s top, one or two pages of them."""
        tally = _Tally()
        seg = self._store.seg_at(segment.max_time)
        gap = self._gap_above(seg) if seg is not None else None
        if gap is not None:
            await self._newer_pages(tally, gap)
        return tally.result()

    async def fill(self, gap: Gap, edge: Literal["top", "bottom"] = "bottom") -> OpResult:
        """Load into a gap from its bottom row (newer side) or its top row (older side)."""
        tally = _Tally()
        current = [
            g
            for g in self._store.gaps()
            if g.min_time <= gap.max_time and gap.min_time <= g.max_time
        ]
        if current:
            if edge == "bottom":
                await self._older_page(tally, current[-1])
            else:
                await self._newer_pages(tally, current[0])
        return tally.result()

    async def jump(self, t: int, *, context: int = 20, max_calls: int = 4) -> OpResult:
        """Load the screen around ``t``: ``context`` messages before and after it, if there are,
        in at most ``max_calls`` calls.

        One call brings the page just before ``t`` (a full page counts as a screenful); then
        sub-windows just after it, sized by the density that page showed. What the budget
        leaves unloaded stays a gap row, which the view fills when it comes into sight.
        """
        st = self._store
        t = min(max(t, st.min_time), st.max_time)
        tally = _Tally()
        seg = st.seg_at(t)
        gap = st.gap_at(t) if seg is None or seg.clean_lo > t else None
        # A full page is a screenful even when it holds few messages (long ones, 13 KB cap).
        full = False
        if gap is not None:
            with self._working(t):
                newer = gap.newer
                if newer is not None and newer.cursor is not None and newer.lo == t:
                    # Only the older part of t's second is missing: that chain goes on from there.
                    page = await self._page(tally, gap.min_time, t, newer.cursor, newer)
                else:
                    page = await self._page(tally, gap.min_time, t)
                full = not page.complete
        while not full and tally.calls < max_calls:
            seg = st.seg_at(t)
            below = self._gap_below(seg) if seg is not None else None
            if seg is None or below is None:
                break
            if st.first_after(t, seg.start, seg.end) - seg.start >= context:
                break
            await self._older_page(tally, below)
        seg = st.seg_at(t)
        above = self._gap_above(seg) if seg is not None else None
        if seg is not None and above is not None and tally.calls < max_calls:
            have = seg.end - st.first_after(t, seg.start, seg.end)
            if have < context:
                budget = max_calls - tally.calls
                await self._newer_pages(tally, above, budget, JUMP_WANT * context, context - have)
        return tally.result()

    async def load_all(self, progress: Callable[[LoadProgress], None] | None = None) -> OpResult:
        """Fetch every gap at once, each with the ``im`` layer's sliced fetch.

        Gaps that fail keep their error; the first failure is raised once the others are in.
        """
        tally = _Tally()
        st = self._store
        live: dict[int, FetchProgress] = {}  # the gaps in flight, by their top second

        def report() -> None:
            if progress is None:
                return
            flying = list(live.values())
            covered = st.covered_seconds() + sum(p.covered_seconds for p in flying)
            total = self.query.total_seconds
            fetched = len(st.msgs) + sum(p.messages for p in flying)
            progress(LoadProgress(fetched, tally.calls, min(covered, total), total))

        # A gap is left over only when a concurrent load overtook a result: another round
        # settles it.
        for _ in range(4):
            gaps = st.gaps()
            if not gaps:
                break
            seconds = sum(g.max_time - g.min_time + 1 for g in gaps)
            jobs = []
            for gap in gaps:
                share = (gap.max_time - gap.min_time + 1) / seconds
                workers = max(2, math.ceil(self._concurrency * share))
                jobs.append(self._fetch_gap(tally, gap, workers, live, report))
            results = await asyncio.gather(*jobs, return_exceptions=True)
            for outcome in results:
                if isinstance(outcome, BaseException):
                    raise outcome
        return tally.result()

    # -- fetching ----------------------------------------------------------------------------

    async def _page(
        self,
        tally: _Tally,
        lo: int,
        hi: int,
        cursor: Cursor | None = None,
        anchor: Seg | None = None,
    ) -> Page:
        """One call for ``lo..hi`` (continuing ``anchor``'s chain at ``cursor``), merged in."""
        self._calls += 1
        tally.calls += 1
        page = await fetch_page(self.client, self.query, cursor, min_time=lo, max_time=hi)
        if not page.complete and (not page.messages or page.next == cursor):
            raise ProtocolError(
                "admin_getroammsg made no progress while Complete stays 0 "
                "(an empty page or the same cursor again); stopped instead of looping"
            )
        top = hi if cursor is None else cursor.max_time
        below = None if page.complete else page.next
        tally.added += self._apply(Span(page.messages, lo, top, cursor, below), anchor)
        if not page.complete:
            n, held = len(page.messages), self._full_pages
            self._full_pages = n if held is None else held + FILL_WEIGHT * (n - held)
        return page

    @property
    def _per_page(self) -> float:
        """How many messages a full page holds (MaxCnt until a page has shown otherwise)."""
        held = self._full_pages
        return float(self.query.page_size) if held is None else held

    async def _older_page(self, tally: _Tally, gap: GapBounds) -> None:
        """The newest page of ``gap``: its newer neighbour's chain goes one page further."""
        newer = gap.newer
        with self._working(gap.max_time):
            if newer is not None and newer.cursor is not None:
                await self._page(tally, gap.min_time, newer.cursor.max_time, newer.cursor, newer)
            else:
                await self._page(tally, gap.min_time, gap.max_time)

    async def _newer_pages(
        self,
        tally: _Tally,
        gap: GapBounds,
        budget: int = 2,
        want: float | None = None,
        enough: float | None = None,
    ) -> None:
        """The oldest messages of ``gap``, ``enough`` of them (default: half of ``want``, itself
        most of a page by default), in at most ``budget`` calls.

        No cursor runs upwards, so a call asks for a sub-window just above the gap's bottom
        expected to hold ``want`` messages (:meth:`_probe_top`). One that held more than a
        page is walked down its chain until it joins what lies below (busy stretches come in
        clusters; probing narrower sub-windows instead cost more calls on the sandbox's
        generated histories); one that held too few is followed by a wider one above it.
        """
        want = FILL_SHARE * self._per_page if want is None else want
        enough = want / 2 if enough is None else enough
        st = self._store
        start = gap.min_time
        reach = 1  # the least width of the next sub-window
        got = 0
        while budget > 0:
            budget -= 1
            lo = gap.min_time
            hi = self._probe_top(gap, want, reach)
            page = await self._probe(tally, gap, hi)
            seg = st.seg_at(hi)
            while seg is not None and not page.complete:
                below = self._gap_below(seg)
                if not budget or below is None or seg.cursor is None or seg.cursor != page.next:
                    return
                budget -= 1
                page = await self._probe(tally, below, seg.cursor.max_time)
                seg = st.seg_at(hi)
            if seg is None:
                return
            # The sub-window is loaded and joined to what lies below it.
            fresh = seg.end - st.first_at(start, seg.start, seg.end) - got
            got += fresh
            above = self._gap_above(seg)
            if got >= enough or above is None:
                return
            # Too few: widen by what they fell short (twice as wide when there were none).
            reach = math.ceil((hi - lo + 1) * (2 if not fresh else min(8, max(2, want / fresh))))
            gap = above

    async def _probe(self, tally: _Tally, gap: GapBounds, hi: int) -> Page:
        """The newest page of ``gap.min_time .. hi``, continuing the newer side's chain when
        ``hi`` is the second that side knows only in part."""
        newer = gap.newer
        with self._working(gap.min_time):
            if hi == gap.max_time and newer is not None and newer.cursor is not None:
                return await self._page(tally, gap.min_time, hi, newer.cursor, newer)
            return await self._page(tally, gap.min_time, hi)

    async def _fetch_gap(
        self,
        tally: _Tally,
        gap: GapBounds,
        concurrency: int,
        live: dict[int, FetchProgress],
        report: Callable[[], None],
    ) -> None:
        """One whole gap through ``fetch_window``; its top second is fetched whole again when the
        newer neighbour knows only its end (the merge then keeps the complete version)."""
        query = dataclasses.replace(self.query, min_time=gap.min_time, max_time=gap.max_time)
        seen = 0

        def on_progress(p: FetchProgress) -> None:
            nonlocal seen
            self._calls += p.calls - seen
            tally.calls += p.calls - seen
            seen = p.calls
            live[gap.max_time] = p
            report()

        with self._working(gap.max_time):
            try:
                found = await fetch_window(
                    self.client, query, progress=on_progress, concurrency=concurrency
                )
            finally:
                live.pop(gap.max_time, None)
            tally.added += self._apply(Span(found, gap.min_time, gap.max_time))
        report()

    def _probe_top(self, gap: GapBounds, want: float, reach: int = 1) -> int:
        """The top of a sub-window above ``gap.min_time`` expected to hold ``want`` messages,
        at least ``reach`` seconds wide.

        The density is read where the fetch goes, the top of the segment below; the newer
        side's bottom stands in when there is none (it may well be a burst), then the average
        of what is loaded.
        """
        st = self._store
        sample = self.query.page_size
        rate = st.density_top(gap.older, sample) if gap.older is not None else None
        if not rate and gap.newer is not None:
            rate = st.density_bottom(gap.newer, sample)
        covered = st.covered_seconds()
        if not rate and st.msgs and covered:
            rate = len(st.msgs) / covered
        if not rate:
            return gap.max_time
        return min(gap.max_time, gap.min_time + max(reach, math.floor(want / rate)) - 1)

    def _gap_below(self, seg: Seg) -> GapBounds | None:
        return next((g for g in self._store.gaps() if g.newer is seg), None)

    def _gap_above(self, seg: Seg) -> GapBounds | None:
        return next((g for g in self._store.gaps() if g.older is seg), None)

