"""The segment store folding in results that land late or overlap: what concurrent loads do
rarely, replayed here on purpose with a simulated service over one conversation."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from timelinekit import T0, record

from roamtui.history.segments import Seg, Span, Store
from roamtui.im.errors import ProtocolError
from roamtui.im.model import Message, parse_message
from roamtui.im.roam import Cursor

BURST = T0 + 50


def conversation() -> list[Message]:
    """Quiet seconds, a 12-message burst in one second (MsgSeq unordered), quiet seconds."""
    raw = [record(i, T0 + 10 * i) for i in range(5)]
    raw += [record(100 + i, BURST, seq=(7 * i) % 12) for i in range(12)]
    raw += [record(200 + i, BURST + 10 + 10 * i) for i in range(5)]
    return [parse_message(m) for m in raw]


TRUTH = conversation()
LO, HI = T0, T0 + 200


def page(lo: int, hi: int, n: int, after: Cursor | None = None) -> Span:
    """What the service answers for MinTime=lo, MaxTime=hi (or a cursor), MaxCnt=n."""
    top = hi if after is None else after.max_time
    found = [m for m in TRUTH if lo <= m.time <= top]
    if after is not None:
        found = found[: [m.key for m in found].index(after.last_key)]
    got = found[-n:]
    below = None if len(found) <= n else Cursor(got[0].time, got[0].key)
    return Span(got, lo, top, after, below)


def check(store: Store) -> None:
    keys = [m.key for m in store.msgs]
    assert len(keys) == len(set(keys)) == len(store.keys)
    at = 0
    for seg in store.segs:
        assert seg.start == at
        mine = store.msgs[seg.start : seg.end]
        whole = [m for m in TRUTH if seg.clean_lo <= m.time <= seg.hi]
        if seg.cursor is None:
            assert mine == whole
        else:
            second = [m for m in TRUTH if m.time == seg.lo]
            start = [m.key for m in second].index(seg.cursor.last_key)
            assert mine == second[start:] + whole
        at = seg.end
    assert at == len(store.msgs)
    for older, newer in zip(store.segs, store.segs[1:], strict=False):
        assert older.hi < newer.clean_lo - 1 or (older.hi < newer.lo and newer.cursor)


def keys(msgs: Sequence[Message]) -> list[str]:
    return [m.key for m in msgs]


def test_a_continuation_overtaken_by_the_chain_it_continued_is_dropped() -> None:
    store = Store(LO, HI)
    store.merge(page(LO, HI, 4))
    asked = store.segs[0]
    late = page(LO, HI, 4, asked.cursor)
    store.merge(page(LO, HI, 4, asked.cursor), asked)  # the same call, answered first
    now = store.segs[0]
    store.merge(page(LO, HI, 4, now.cursor), now)
    before = keys(store.msgs)
    assert store.merge(late, asked) is None
    assert store.merge(late, store.segs[0]) is None  # its cursor is not the one asked at
    assert keys(store.msgs) == before
    check(store)


@pytest.mark.parametrize("longer_first", [True, False])
def test_two_ends_of_one_burst_keep_the_longer_one(longer_first: bool) -> None:
    # Both pages end inside the burst; the one with more room reaches further into it.
    short = page(LO, BURST + 20, 4)  # 2 quiet messages, then 2 of the burst
    long = page(LO, BURST, 9)  # 9 of the burst
    assert short.below is not None and long.below is not None
    assert short.below.max_time == long.below.max_time == BURST
    store = Store(LO, HI)
    for span in (long, short) if longer_first else (short, long):
        store.merge(span)
        check(store)
    (seg,) = store.segs
    assert seg.cursor == long.below and seg.count == 11


def test_a_page_ending_in_a_second_already_known_whole_keeps_the_whole_one() -> None:
    for lo in (BURST - 5, BURST):  # known from before the burst, or from its second on
        store = Store(LO, HI)
        store.merge(page(lo, BURST, 20))  # the whole burst
        assert store.segs[0].cursor is None
        overlapping = page(lo, BURST + 20, 4)
        assert overlapping.below is not None and overlapping.below.max_time == BURST
        store.merge(overlapping)
        check(store)
        (seg,) = store.segs
        assert (seg.lo, seg.hi, seg.cursor) == (lo, BURST + 20, None)


def test_a_late_window_over_segments_found_meanwhile_absorbs_them() -> None:
    store = Store(LO, HI)
    store.merge(page(LO, HI, 3))
    store.merge(page(LO, BURST - 1, 2))
    store.merge(page(LO, T0 + 15, 1))
    assert len(store.segs) == 3
    store.merge(page(T0 + 5, HI - 30, 100))  # a whole-stretch fetch started before them
    check(store)
    (seg,) = store.segs
    assert (seg.lo, seg.cursor, seg.hi) == (T0 + 5, None, HI)
    store.merge(page(LO, T0 + 5, 100))
    check(store)
    assert store.complete and keys(store.msgs) == keys(TRUTH)


def test_the_newer_side_knowing_the_end_of_a_second_is_joined_by_the_whole_second() -> None:
    store = Store(LO, HI)
    store.merge(page(LO, HI, 8))  # the quiet end and 3 of the burst
    newer = store.segs[0]
    assert newer.cursor is not None and newer.lo == BURST
    store.merge(page(LO, BURST, 100))  # everything up to and including the burst's second
    check(store)
    assert store.complete and keys(store.msgs) == keys(TRUTH)


def test_a_reply_outside_what_was_asked_is_refused_before_anything_changes() -> None:
    store = Store(LO, HI)
    store.merge(page(LO, HI, 3))
    before = keys(store.msgs)
    bad = Span(list(reversed(TRUTH[:3])), LO, HI - 100)
    with pytest.raises(ProtocolError):
        store.merge(bad)
    assert keys(store.msgs) == before and len(store.segs) == 1


def test_lookups_by_time() -> None:
    store = Store(LO, HI)
    store.merge(page(LO, HI, 8))
    seg = store.segs[0]
    assert store.seg_at(BURST) is seg and store.seg_at(BURST - 1) is None
    assert [(g.min_time, g.max_time) for g in store.gaps()] == [(LO, BURST)]
    assert isinstance(store.gap_at(LO), type(store.gaps()[0]))
    assert store.position(store.msgs[3]) == 3
    assert store.index_of(Seg(0, 0)) == -1
