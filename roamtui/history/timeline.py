"""The conversation timeline: lazy, two-way, gap-aware loading of one window, Textual-free.

The view asks for rows and says where the user is; the timeline decides what to fetch. It
opens on the newest page, continues a segment's chain downwards, fetches just above a segment
with a sub-window sized from the density seen so far (there is no forward cursor), jumps to a
time in a handful of calls, and fills every gap at once with the ``im`` layer's sliced fetch.

Every operation may run while others are in flight (a background ``load_all`` under a user's
``jump``): state changes happen only between awaits, and each result is folded in where the
knowledge stands when it lands (:meth:`Store.merge`), so the model is exact after every step.
A failed load raises and changes nothing but the gap's state: the error stays on the gap until
a retry succeeds. The view loads whatever gap comes into sight, so every load of a timeline's
life answers to one :class:`~roamtui.im.guard.PagingGuard`: a service that pages forever
runs out of it, and the gap keeps that error instead of being filled again and again.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from typing import Literal

from roamtui.history.jumps import (
    BEFORE,
    gap_above,
    gap_below,
    probe_top,
    reach_top,
    short_below,
    together,
    walk_down,
)
from roamtui.history.layout import RowLayout
from roamtui.history.rows import DayRow, EdgeRow, Gap, GapRow, MessageRow, Row, RowsChanged
from roamtui.history.segments import ChainRuns, GapBounds, Seg, Segment, Span
from roamtui.im.errors import ProtocolError
from roamtui.im.guard import PagingGuard
from roamtui.im.roam import (
    ChainPage,
    Cursor,
    FetchProgress,
    Page,
    RoamCaller,
    RoamQuery,
    fetch_page,
    fetch_window,
)

__all__ = [
    "BEFORE", "DayRow", "EdgeRow", "Gap", "GapRow", "LoadProgress", "MessageRow", "OpResult",
    "Row", "RowsChanged", "Segment", "Timeline",
]

#: A sub-window that held nothing is followed by one this many times as wide.
GROW = 2
#: What load_newer and fill from the top ask for, as a share of a page.
FILL_SHARE = 0.5
#: A whole-window fetch folds its pages in once they add up to this share of what is loaded.
FOLD_SHARE = 0.125
#: Weight of the newest full page in the estimate of how many messages a page holds.
FILL_WEIGHT = 0.3


@dataclass(frozen=True, slots=True)
class OpResult:
    calls: int  # admin_getroammsg calls made (a client's own retries not counted)
    added: int  # messages added to the loaded ones


@dataclass(frozen=True, slots=True)
class LoadProgress:
    messages: int  # loaded, plus fetched and about to be folded in
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
        # One budget for the timeline's whole life: the view fills whatever gap comes into
        # sight, load after load, so a service that pages forever must run out of it.
        self._guard = PagingGuard(query.page_size)

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
        """The messages just above ``segment``'s top: half a page of them, in one or two calls."""
        tally = _Tally()
        seg = self._store.seg_at(segment.max_time)
        if seg is not None and seg.hi < self.query.max_time:
            await self._newer_pages(tally, seg.hi + 1, FILL_SHARE * self._per_page, 2)
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
                await self._newer_pages(tally, current[0].min_time, FILL_SHARE * self._per_page, 2)
        return tally.result()

    async def jump(self, t: int, *, context: int = 20, max_calls: int = 4) -> OpResult:
        """Load the screen around ``t``: ``context`` messages from the first message at or
        after ``t`` on and most of that many before it, if there are, in at most
        ``max_calls`` calls.

        The first call asks for the page just before a second somewhat after ``t`` (how far:
        the density of what is loaded), so that one page often holds both sides. When that
        page ends above ``t`` its chain is walked down if what lies between looks short,
        else the page just before ``t`` is fetched. Then the chain goes on while ``t``'s
        second is known only in part or too few came before it, and sub-windows above fetch
        what is missing after it (:meth:`_newer_pages`); once ``t``'s second is whole the
        page below and the windows above go out together. What the budget leaves unloaded
        stays a gap row, which the view fills when it comes into sight
        (:mod:`roamtui.history.jumps` holds the decisions).
        """
        st = self._store
        t = min(max(t, st.min_time), st.max_time)
        tally = _Tally()
        seg = st.seg_at(t)
        gap = st.gap_at(t) if seg is None or seg.clean_lo > t else None
        if gap is not None:
            newer = gap.newer
            with self._working(t):
                if newer is not None and newer.cursor is not None and newer.lo == t:
                    # Only the older part of t's second is missing: that chain goes on from there.
                    await self._page(tally, gap.min_time, t, newer.cursor, newer)
                else:
                    top = reach_top(st, gap, t, context)
                    await self._probe(tally, gap, top)
                    await self._reach_down(tally, t, top, context, max_calls)
        below = short_below(st, t, context)
        if below is not None and not below[1] and max_calls - tally.calls >= 2:
            # t's second is whole: the page below and the windows above do not depend on each
            # other, so they go out together (one round trip less, the same calls).
            await together(
                self._older_page(tally, below[0]),
                self._newer_pages(tally, t, context, max_calls - tally.calls - 1),
            )
        while tally.calls < max_calls and (below := short_below(st, t, context)) is not None:
            await self._older_page(tally, below[0])
        await self._newer_pages(tally, t, context, max_calls - tally.calls)
        return tally.result()

    async def _reach_down(
        self, tally: _Tally, t: int, top: int, context: int, max_calls: int
    ) -> None:
        """After a jump's first call ended above ``t``: walk that chain down to ``t`` or fetch
        the page just before ``t``, as :func:`~roamtui.history.jumps.walk_down` says."""
        st = self._store
        while tally.calls < max_calls:
            gap = st.gap_at(t)
            chain = None if gap is None else gap.newer
            if gap is None or chain is None or chain.cursor is None or chain is not st.seg_at(top):
                return
            if not walk_down(st, chain, t, context, self._per_page, max_calls - tally.calls):
                await self._page(tally, gap.min_time, t)
                return
            await self._older_page(tally, gap)

    async def load_all(self, progress: Callable[[LoadProgress], None] | None = None) -> OpResult:
        """Fetch every gap at once, each with the ``im`` layer's sliced fetch.

        Pages are folded in as they land (rows change all along), so what landed stays when
        the load is cancelled or fails. Gaps that fail keep their error; the first failure is
        raised once the others are in.
        """
        tally = _Tally()
        st = self._store
        pending: dict[int, tuple[int, int]] = {}  # fetched, not folded in yet: per gap
        shown = 0  # the covered seconds last reported: progress never goes back

        def reporter(key: int) -> Callable[[int, int], None]:
            def report(messages: int, seconds: int) -> None:
                nonlocal shown
                pending[key] = (messages, seconds)
                if progress is None:
                    return
                total = self.query.total_seconds
                covered = st.covered_seconds() + sum(s for _, s in pending.values())
                shown = max(shown, min(covered, total))
                fetched = len(st.msgs) + sum(m for m, _ in pending.values())
                progress(LoadProgress(fetched, tally.calls, shown, total))

            return report

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
                jobs.append(self._fetch_gap(tally, gap, workers, reporter(gap.min_time)))
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
        self._guard.count_call(self._store.covered_seconds())
        self._calls += 1
        tally.calls += 1
        page = await fetch_page(self.client, self.query, cursor, min_time=lo, max_time=hi)
        self._guard.after_page(cursor, page)  # empty pages are refused by fetch_page
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

    async def _newer_pages(self, tally: _Tally, base: int, need: float, budget: int) -> None:
        """``need`` messages from second ``base`` on, joined to what lies below it, in at most
        ``budget`` calls.

        No cursor runs upwards, so a call asks for a sub-window just above what is loaded,
        sized by the density seen so far to hold more than is missing
        (:func:`~roamtui.history.jumps.probe_top`):
        messages come in clusters, so one that falls short often holds none, while one that
        holds more than a page costs only its chain walked down until it joins. One that
        held none is followed by one twice as wide.
        """
        st = self._store
        reach = 1  # the least width of the next sub-window
        chain = False  # the last call left a chain above the gap, to be walked down
        while budget > 0:
            seg = st.seg_at(base)
            if seg is not None and seg.clean_lo > base:
                # Second base is known only in part: only its chain reaches the rest.
                below = self._gap_below(seg)
                if below is None:
                    return
                budget -= 1
                await self._older_page(tally, below)
                continue
            if seg is not None:
                have = seg.end - st.first_at(base, seg.start, seg.end)
                gap = self._gap_above(seg)
            else:
                have, gap = 0, st.gap_at(base)
            if gap is None or have >= need:
                return
            budget -= 1
            newer = gap.newer
            if chain and newer is not None and newer.cursor is not None:
                page = await self._probe(tally, gap, gap.max_time)
            else:
                hi = probe_top(st, gap, need - have, reach)
                page = await self._probe(tally, gap, hi)
                width = hi - gap.min_time + 1
                reach = width * GROW if page.complete and not page.messages else width
            chain = not page.complete

    async def _probe(self, tally: _Tally, gap: GapBounds, hi: int) -> Page:
        """The newest page of ``gap.min_time .. hi``, continuing the newer side's chain when
        ``hi`` is the second that side knows only in part."""
        newer = gap.newer
        with self._working(gap.min_time):
            if hi == gap.max_time and newer is not None and newer.cursor is not None:
                return await self._page(tally, gap.min_time, hi, newer.cursor, newer)
            return await self._page(tally, gap.min_time, hi)

    async def _fetch_gap(
        self, tally: _Tally, gap: GapBounds, concurrency: int, report: Callable[[int, int], None]
    ) -> None:
        """One whole gap through ``fetch_window``, its pages folded in as they land; its top
        second is fetched whole again when the newer neighbour knows only its end (the merge
        then keeps the complete version)."""
        st = self._store
        query = dataclasses.replace(self.query, min_time=gap.min_time, max_time=gap.max_time)
        runs = ChainRuns()
        seen = 0

        def on_progress(p: FetchProgress) -> None:
            nonlocal seen
            self._calls += p.calls - seen
            tally.calls += p.calls - seen
            seen = p.calls
            report(runs.messages, runs.seconds())

        def fold() -> None:
            # A continuation goes below the segment its chain built; when another load has
            # moved that bottom meanwhile, the merge drops it and the whole result, folded in
            # at the end, brings it.
            failure: ProtocolError | None = None
            for span in runs.take():
                anchor = None if span.above is None else st.seg_at(span.above.max_time)
                try:
                    tally.added += self._apply(span, anchor)
                except ProtocolError as exc:  # the other chains' pages still land
                    failure = failure or exc
            if failure is not None:
                raise failure

        def on_page(p: ChainPage) -> None:
            # The fetch has budgets of its own; the timeline's counts its pages too.
            self._guard.count_call(st.covered_seconds() + runs.seconds())
            runs.add(p.messages, p.min_time, p.max_time, p.after, p.next)
            # Batches that grow with what is loaded: the rows change a few dozen times over a
            # whole fetch, not once per page.
            if runs.messages >= max(self._per_page, FOLD_SHARE * len(st.msgs)):
                fold()

        try:
            with self._working(gap.min_time, gap.max_time):
                try:
                    found = await fetch_window(
                        self.client, query, progress=on_progress, concurrency=concurrency,
                        on_page=on_page,
                    )
                finally:
                    fold()  # what landed stays, whatever stopped the fetch
                whole = (gap.min_time, gap.max_time)
                if any(g.min_time <= whole[1] and whole[0] <= g.max_time for g in st.gaps()):
                    tally.added += self._apply(Span(found, *whole))
        finally:
            report(0, 0)

    def _gap_below(self, seg: Seg) -> GapBounds | None:
        return gap_below(self._store, seg)

    def _gap_above(self, seg: Seg) -> GapBounds | None:
        return gap_above(self._store, seg)

