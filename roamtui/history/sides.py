"""`TwoSidedTimeline`: one window read as both parties hold it, merged, with who holds what.

Two one-sided :class:`Timeline`\\ s — the account's (``From_Account`` = account) and the
peer's (the same query swapped) — share the one client, so the one rate limiter and its quota.
Every operation of the view goes to both sides at once and each side loads what *it* lacks:
their pages never align (a cleared history, deletions and unsynced sends make page cuts fall
elsewhere), so the merged view is built from what both sides know, not from pages.

The merged rows are exactly the **seconds both sides know whole**: whenever a side's coverage
grows, the stretches both now cover and the merged view does not yet hold are merged by MsgKey
(:func:`~roamtui.history.sides_merge.merge_sides`) and folded in as one proven span. So a
message is called one-sided only once the other side's history of its second is known; until
then it is :attr:`Held.UNKNOWN` and sits in a gap row, which the view fills like any gap (a
fill reaches both sides; the one that knows the stretch already makes no call). A one-sided
message is never hidden: once both sides cover its second it is a row like any other.

Gaps, jumps, lazy loading, ``load_all`` and search work unchanged: this *is* a Timeline (its
rows, segments and gaps are those of the merged store), whose loads go to the two sides.
"""

from __future__ import annotations

import asyncio
import dataclasses
import weakref
from collections.abc import Awaitable, Callable
from datetime import tzinfo
from typing import Literal

from roamtui.history.filters import FilterKind, register_kind
from roamtui.history.rows import Gap, RowsChanged
from roamtui.history.segments import Segment, Span
from roamtui.history.sides_merge import Held, intersect, merge_sides, subtract
from roamtui.history.timeline import LoadProgress, OpResult, Timeline
from roamtui.im.model import Message
from roamtui.im.roam import RoamCaller, RoamQuery

__all__ = ["Held", "SideCounts", "TwoSidedTimeline"]

#: The two-sided timelines alive in the process: a filter kind tests one message, and only
#: the timeline that merged it knows who holds it (MsgKeys do not repeat across messages).
_LIVE: weakref.WeakSet[TwoSidedTimeline] = weakref.WeakSet()


def one_sided(msg: Message) -> bool:
    """Whether a two-sided timeline holding ``msg`` found it in one side's history only."""
    return any(tl.only_holder(msg.key) is not None for tl in list(_LIVE))


register_kind(FilterKind(
    "one-sided", "one-sided",
    "messages only one side's history holds (read from both sides: --sides both, or P)",
    one_sided))


@dataclasses.dataclass(frozen=True, slots=True)
class SideCounts:
    """How many merged messages each kind of holder has."""

    both: int = 0
    account_only: int = 0
    peer_only: int = 0

    @property
    def one_sided(self) -> int:
        return self.account_only + self.peer_only


class TwoSidedTimeline(Timeline):
    """The window as both sides hold it; rows and gaps are those of what both sides know."""

    def __init__(
        self, client: RoamCaller, query: RoamQuery, tz: tzinfo, *, concurrency: int = 16
    ) -> None:
        super().__init__(client, query, tz, concurrency=concurrency)
        half = max(2, concurrency // 2)  # the two sides' fetches share the limiter
        self.account_side = Timeline(client, query, tz, concurrency=half)
        swapped = dataclasses.replace(query, account=query.peer, peer=query.account)
        self.peer_side = Timeline(client, swapped, tz, concurrency=half)
        self.sides = (self.account_side, self.peer_side)
        self._held: dict[str, Held] = {}
        self._peer_objects: dict[str, Message] = {}  # both hold it, the peer's object differs
        self._counts = {Held.BOTH: 0, Held.ACCOUNT: 0, Held.PEER: 0}
        _LIVE.add(self)
        self.account_side.subscribe(self._side_changed)
        self.peer_side.subscribe(self._side_changed)

    # -- reading ------------------------------------------------------------------------------

    @property
    def calls(self) -> int:
        return self.account_side.calls + self.peer_side.calls

    def held(self, key: str) -> Held | None:
        """Who holds the message ``key``: UNKNOWN while only one side's coverage of its second
        is known, None when neither side has loaded it."""
        found = self._held.get(key)
        if found is not None:
            return found
        if self.account_side.holds_key(key) or self.peer_side.holds_key(key):
            return Held.UNKNOWN
        return None

    def only_holder(self, key: str) -> str | None:
        """The account name of the only side holding ``key``; None when both do (or unknown)."""
        held = self._held.get(key)
        if held is Held.ACCOUNT:
            return self.query.account
        if held is Held.PEER:
            return self.query.peer
        return None

    def peer_object(self, key: str) -> Message | None:
        """The peer's own object of a message both hold, when it differs from the account's."""
        return self._peer_objects.get(key)

    @property
    def side_counts(self) -> SideCounts:
        c = self._counts
        return SideCounts(c[Held.BOTH], c[Held.ACCOUNT], c[Held.PEER])

    @property
    def one_sided_count(self) -> int:
        return self._counts[Held.ACCOUNT] + self._counts[Held.PEER]

    # -- operations: each side loads what it lacks -------------------------------------------

    async def open(self) -> OpResult:
        gaps = self.gaps
        lo = gaps[-1].min_time if gaps else self.query.max_time
        return await self._both(lambda side: side.open(), lo, self.query.max_time)

    async def load_older(self, segment: Segment | None = None) -> OpResult:
        if segment is None:
            gaps = self.gaps
            if not gaps:
                return OpResult(0, 0)
            return await self._both(lambda s: s.load_older(), gaps[0].min_time, gaps[0].max_time)
        bottom = segment.min_time

        def older(side: Timeline) -> Awaitable[OpResult]:
            own = _segment_at(side, bottom)
            if own is None or own.min_time + own.partial_bottom < bottom:  # it reaches lower

                return _nothing()
            return side.load_older(own)

        return await self._both(older, bottom, bottom)

    async def load_newer(self, segment: Segment) -> OpResult:
        top = segment.max_time

        def newer(side: Timeline) -> Awaitable[OpResult]:
            own = _segment_at(side, top)
            if own is None or own.max_time > top:  # this side knows more above already
                return _nothing()
            return side.load_newer(own)

        return await self._both(newer, top, min(top + 1, self.query.max_time))

    async def fill(self, gap: Gap, edge: Literal["top", "bottom"] = "bottom") -> OpResult:
        return await self._both(lambda side: side.fill(gap, edge), gap.min_time, gap.max_time)

    async def jump(self, t: int, *, context: int = 20, max_calls: int = 4) -> OpResult:
        return await self._both(lambda s: s.jump(t, context=context, max_calls=max_calls), t, t)

    async def load_all(self, progress: Callable[[LoadProgress], None] | None = None) -> OpResult:
        seen: dict[int, LoadProgress] = {}

        def reporter(which: int) -> Callable[[LoadProgress], None]:
            def report(p: LoadProgress) -> None:
                seen[which] = p
                if progress is None:
                    return
                parts = list(seen.values())
                covered = sum(x.covered_seconds for x in parts) // 2
                progress(
                    LoadProgress(
                        max(x.messages for x in parts),
                        sum(x.calls for x in parts),
                        covered,
                        p.total_seconds,
                    )
                )

            return report

        reporters = {id(self.account_side): reporter(0), id(self.peer_side): reporter(1)}
        return await self._both(
            lambda side: side.load_all(reporters[id(side)]),
            self.query.min_time,
            self.query.max_time,
        )

    async def _both(
        self, op: Callable[[Timeline], Awaitable[OpResult]], lo: int, hi: int
    ) -> OpResult:
        """``op`` on both sides at once; the merged gaps of ``lo..hi`` show the load (and keep
        its failure). One side's failure is raised once the other side's pages are in."""
        before = self.loaded_count
        with self._working(lo, hi):
            results = await asyncio.gather(
                op(self.account_side), op(self.peer_side), return_exceptions=True
            )
            calls = sum(r.calls for r in results if isinstance(r, OpResult))
            for outcome in results:
                if isinstance(outcome, BaseException):
                    raise outcome
        return OpResult(calls, self.loaded_count - before)

    # -- merging ------------------------------------------------------------------------------

    def _side_changed(self, _change: RowsChanged) -> None:
        """A side's rows changed: fold in every stretch both sides now know and the merged
        view does not hold yet (called inside the side's change, its store consistent)."""
        both = intersect(self.account_side.covered(), self.peer_side.covered())
        for lo, hi in subtract(both, self.covered()):
            merged = merge_sides(
                self.account_side.messages_in(lo, hi), self.peer_side.messages_in(lo, hi)
            )
            for msg, held, peer_msg in merged:
                if msg.key in self._held:
                    continue
                self._held[msg.key] = held
                self._counts[held] += 1
                if peer_msg is not None and peer_msg.raw_json != msg.raw_json:
                    self._peer_objects[msg.key] = peer_msg
            self._apply(Span(tuple(m for m, _, _ in merged), lo, hi))
        self._refresh_gaps()

    def _gap(self, lo: int, hi: int) -> Gap:
        """A merged gap is loading, or keeps a failure, when either side's gaps there do."""
        own = super()._gap(lo, hi)
        if own.state == "loading":
            return own
        found = own
        # The base class draws its first gap row before the sides exist.
        for side in getattr(self, "sides", ()):
            for g in side.gaps:
                if g.min_time <= hi and lo <= g.max_time:
                    if g.state == "loading":
                        return Gap(lo, hi, "loading")
                    if g.state == "error" and found.state == "idle":
                        found = Gap(lo, hi, "error", g.error)
        return found


def _segment_at(side: Timeline, t: int) -> Segment | None:
    for seg in side.segments:
        if seg.min_time <= t <= seg.max_time:
            return seg
    return None


async def _nothing() -> OpResult:
    return OpResult(0, 0)


def held_text(timeline: Timeline, key: str) -> str | None:
    """For the inspector: who holds the message, when both sides are read (else None)."""
    if not isinstance(timeline, TwoSidedTimeline):
        return None
    held, q = timeline.held(key), timeline.query
    if held is Held.BOTH:
        return f"both sides ({q.account} and {q.peer})"
    if held is Held.ACCOUNT:
        return f"only {q.account} — {q.peer}'s history does not have it"
    if held is Held.PEER:
        return f"only {q.peer} — {q.account}'s history does not have it"
    return "not known yet (the other side's history of this second is not loaded)"
