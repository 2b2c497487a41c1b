"""What is known of one window: messages in service order, grouped in exact segments.

A segment is a stretch the service has delivered whole. Its top second ``hi`` is always
complete (a query with ``MaxTime = hi`` returns the newest messages first). Its bottom is either
a complete second ``lo`` (the chain reached its ``MinTime``) or, while the chain still runs, the
cursor's second, of which only the messages from ``LastMsgKey`` on are known: a same-second
burst can be cut by a page boundary, so a second counts as complete only once the chain has
gone past it. Segments never touch or overlap; the stretches between them are the gaps.

Every fetch proves a :class:`Span` exact, and :meth:`Store.merge` folds it in wherever the
knowledge now stands, so results that land late or overlap (concurrent operations) still leave
the store exact.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from roamtui.im.errors import ProtocolError
from roamtui.im.model import Message
from roamtui.im.roam import Cursor


def _time(m: Message) -> int:
    return m.time


@dataclass(slots=True, eq=False)
class Seg:
    """A loaded stretch; ``start``/``count`` locate its messages in the store's list."""

    lo: int
    hi: int
    cursor: Cursor | None = None  # set while second ``lo`` is known only from cursor.last_key on
    count: int = 0
    start: int = 0

    @property
    def end(self) -> int:
        return self.start + self.count

    @property
    def clean_lo(self) -> int:
        """The oldest second known whole."""
        return self.lo + 1 if self.cursor is not None else self.lo


@dataclass(frozen=True, slots=True)
class Segment:
    """A public snapshot of one segment (operations find the live one by its ``max_time``)."""

    min_time: int
    max_time: int
    partial_bottom: bool  # the oldest second is known only in part
    count: int


@dataclass(frozen=True, slots=True)
class Span:
    """What one fetch proved: the exact messages between two positions of the service order.

    Top: every message up to and including second ``top`` (``above`` None), or, for a chain
    continued with ``above``, the messages before ``above.last_key`` in its second. Bottom:
    complete down to ``min_time`` (``below`` None), or from ``below.last_key`` in its second on.
    """

    messages: Sequence[Message]  # oldest -> newest
    min_time: int
    top: int
    above: Cursor | None = None
    below: Cursor | None = None


@dataclass(slots=True)
class _Run:
    """Consecutive pages of one chain, newest page first, not folded in yet."""

    pages: list[Sequence[Message]]
    min_time: int
    top: int
    above: Cursor | None
    below: Cursor | None


class ChainRuns:
    """Pages of concurrent chains as they land, joined per chain into one span each, so that
    they can be folded in a batch at a time (every fold costs the view a pass over the rows
    after it)."""

    __slots__ = ("_done", "_open", "messages")

    def __init__(self) -> None:
        self._open: dict[Cursor, _Run] = {}  # by the cursor the chain goes on from
        self._done: list[_Run] = []
        self.messages = 0

    def add(
        self,
        messages: Sequence[Message],
        min_time: int,
        max_time: int,
        after: Cursor | None,
        below: Cursor | None,
    ) -> None:
        """One page: ``after`` is the cursor it continued (None: a chain's first page),
        ``below`` where its chain goes on (None: done down to ``min_time``)."""
        run = None if after is None else self._open.pop(after, None)
        if run is None:
            run = _Run([], min_time, max_time, after, None)
        run.pages.append(messages)
        run.min_time, run.below = min_time, below
        self.messages += len(messages)
        if below is None:
            self._done.append(run)
        else:
            self._open[below] = run

    def seconds(self) -> int:
        """Seconds the pending spans know whole (a cursor's second counts at neither end)."""
        total = 0
        for run in (*self._done, *self._open.values()):
            low = run.min_time if run.below is None else run.below.max_time + 1
            top = run.top if run.above is None else run.above.max_time - 1
            total += max(0, top - low + 1)
        return total

    def take(self) -> list[Span]:
        """Every pending span (oldest messages first in each); nothing stays pending."""
        runs = [*self._done, *self._open.values()]
        self._done, self._open, self.messages = [], {}, 0
        return [
            Span(
                tuple(m for page in reversed(run.pages) for m in page),
                run.min_time,
                run.top,
                run.above,
                run.below,
            )
            for run in runs
        ]


@dataclass(frozen=True, slots=True)
class Splice:
    """The messages ``old`` at ``start`` were replaced by ``inserted`` messages."""

    start: int
    old: Sequence[Message]
    inserted: int


@dataclass(frozen=True, slots=True)
class GapBounds:
    min_time: int
    max_time: int
    older: Seg | None
    newer: Seg | None


class Store:
    """The loaded messages of one window and the segments they form."""

    __slots__ = ("keys", "max_time", "min_time", "msgs", "recalled", "segs")

    def __init__(self, min_time: int, max_time: int) -> None:
        self.min_time = min_time
        self.max_time = max_time
        self.msgs: list[Message] = []
        self.keys: dict[str, Message] = {}
        self.segs: list[Seg] = []
        self.recalled = 0

    # -- lookups -----------------------------------------------------------------------------

    def seg_at(self, t: int) -> Seg | None:
        """The segment whose seconds ``lo..hi`` include ``t`` (``lo`` may be partial)."""
        segs = self.segs
        k = bisect_left(segs, t, key=lambda s: s.hi)
        if k < len(segs) and segs[k].lo <= t:
            return segs[k]
        return None

    def index_of(self, seg: Seg) -> int:
        for k, s in enumerate(self.segs):
            if s is seg:
                return k
        return -1

    def seg_of_message(self, i: int) -> int:
        """Index of the segment holding message ``i``; ``len(segs)`` past the end."""
        return bisect_right(self.segs, i, key=lambda s: s.end)

    def first_after(self, t: int, lo: int = 0, hi: int | None = None) -> int:
        """Index of the first message newer than second ``t``."""
        return bisect_right(self.msgs, t, lo, len(self.msgs) if hi is None else hi, key=_time)

    def first_at(self, t: int, lo: int = 0, hi: int | None = None) -> int:
        """Index of the first message at or after second ``t``."""
        return bisect_left(self.msgs, t, lo, len(self.msgs) if hi is None else hi, key=_time)

    def position(self, msg: Message) -> int:
        """Index of a loaded message (found by time, then identity within its second)."""
        i = self.first_at(msg.time)
        msgs = self.msgs
        while i < len(msgs) and msgs[i] is not msg:
            i += 1
        return i

    def gaps(self) -> list[GapBounds]:
        """Every stretch not known whole, oldest first, with the segments around it."""
        segs = self.segs
        if not segs:
            return [GapBounds(self.min_time, self.max_time, None, None)]
        out: list[GapBounds] = []
        older: Seg | None = None
        for seg in segs:
            lo = self.min_time if older is None else older.hi + 1
            if lo < seg.clean_lo:
                out.append(GapBounds(lo, seg.clean_lo - 1, older, seg))
            older = seg
        if segs[-1].hi < self.max_time:
            out.append(GapBounds(segs[-1].hi + 1, self.max_time, segs[-1], None))
        return out

    def gap_at(self, t: int) -> GapBounds | None:
        for gap in self.gaps():
            if gap.min_time <= t <= gap.max_time:
                return gap
        return None

    def covered_seconds(self) -> int:
        return sum(s.hi - s.clean_lo + 1 for s in self.segs)

    @property
    def start_reached(self) -> bool:
        segs = self.segs
        return bool(segs) and segs[0].cursor is None and segs[0].lo <= self.min_time

    @property
    def end_reached(self) -> bool:
        return bool(self.segs) and self.segs[-1].hi >= self.max_time

    @property
    def complete(self) -> bool:
        return len(self.segs) == 1 and self.start_reached and self.end_reached

    def sample_bottom(self, seg: Seg, sample: int) -> tuple[int, int]:
        """(messages, seconds) of the oldest ``sample`` messages of ``seg``, from its bottom."""
        k = min(seg.count, sample)
        newest = seg.hi if k == seg.count else self.msgs[seg.start + k - 1].time
        return k, newest - seg.lo + 1

    def snapshot(self, seg: Seg) -> Segment:
        return Segment(seg.lo, seg.hi, seg.cursor is not None, seg.count)

    # -- merging -----------------------------------------------------------------------------

    def merge(self, span: Span, anchor: Seg | None = None) -> Splice | None:
        """Fold a proven span in; ``anchor`` is the segment whose chain ``span.above`` continued.

        A continuation whose anchor has moved on meanwhile is stale and dropped (None): its top
        is only defined against the cursor it was asked with.
        """
        msgs, segs = self.msgs, self.segs
        _check(span)
        rest = list(span.messages)
        if span.above is not None:
            k = -1 if anchor is None else self.index_of(anchor)
            if k < 0 or anchor is None or anchor.cursor != span.above:
                return None
            b = k + 1
            hi, q_top = anchor.hi, anchor.start
            floor = k  # the anchor's own bottom sits above the span
        else:
            qmax = span.top
            b = bisect_right(segs, qmax + 1, key=lambda s: s.clean_lo)
            top = segs[b - 1] if b and segs[b - 1].hi > qmax else None
            if top is not None:
                hi, q_top = top.hi, self.first_after(qmax, top.start, top.end)
            else:
                hi = qmax
                q_top = segs[b].start if b < len(segs) else len(msgs)
            floor = b
        # Segments reaching the span from below: touching a clean bottom, or overlapping.
        need = span.min_time - 1 if span.below is None else span.below.max_time
        a = min(bisect_left(segs, need, key=lambda s: s.hi), b)
        lower_lo, lower_cursor = (span.min_time, None) if span.below is None else (
            span.below.max_time, span.below)
        p = segs[a].start if a < b else q_top
        if a < floor and self._lower_wins(segs[a], span, rest):
            low = segs[a]
            lower_lo, lower_cursor = low.lo, low.cursor
            if span.below is None:
                p = self.first_at(span.min_time, low.start, low.end)
            else:
                cut = span.below.max_time
                p = self.first_after(cut, low.start, low.end)
                rest = [m for m in rest if m.time != cut]
        q = max(p, q_top)
        merged_count = sum(s.count for s in segs[a:b])
        old = msgs[p:q]
        inserted = self._splice(p, q, rest)
        merged = Seg(lower_lo, hi, lower_cursor, merged_count - (q - p) + len(inserted))
        segs[a:b] = [merged]
        self._renumber()
        return Splice(p, old, len(inserted))

    @staticmethod
    def _lower_wins(seg: Seg, span: Span, rest: Sequence[Message]) -> bool:
        """Whether ``seg`` knows more below the span's bottom than the span itself."""
        if span.below is None:
            return seg.lo < span.min_time
        cut = span.below.max_time
        if seg.lo != cut:
            return seg.lo < cut
        if seg.cursor is None:
            return True  # the whole second against a part of it
        # Two ends of one same-second burst: the longer suffix contains the other's first key.
        return not any(m.key == seg.cursor.last_key for m in rest if m.time == cut)

    def _splice(self, p: int, q: int, fresh: list[Message]) -> list[Message]:
        """msgs[p:q] = fresh, deduped by MsgKey; keeps the objects already loaded."""
        msgs, keys = self.msgs, self.keys
        old = msgs[p:q]
        replaced = {m.key: m for m in old}
        out: list[Message] = []
        seen: set[str] = set()
        for m in fresh:
            if m.key in seen or (m.key in keys and m.key not in replaced):
                continue
            seen.add(m.key)
            out.append(replaced.get(m.key, m))
        for m in old:
            if m.key not in seen:
                del keys[m.key]
        for m in out:
            keys[m.key] = m
        self.recalled += sum(1 for m in out if m.recalled) - sum(1 for m in old if m.recalled)
        msgs[p:q] = out
        return out

    def _renumber(self) -> None:
        start = 0
        for seg in self.segs:
            seg.start = start
            start += seg.count


def _check(span: Span) -> None:
    """Reject a reply whose messages contradict the positions it claims."""
    low = span.min_time if span.below is None else span.below.max_time
    top = span.top if span.above is None else span.above.max_time
    prev = low
    for m in span.messages:
        if m.time < prev or m.time > top:
            raise ProtocolError(
                "admin_getroammsg returned messages out of order or outside the asked range"
            )
        prev = m.time
