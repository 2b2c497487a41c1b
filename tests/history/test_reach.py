"""A jump as the transcript makes it (Timeline.jump, then navigation.reach) over a slow, faulty
sandbox: it lands on the message the truth says (the first at or after the time, the last at
or before it going back), across quiet stretches of seconds to days, same-second bursts cut by
pages and the window's edges; what it loaded equals the service's messages in order, nothing
doubled; a landing far from its time says so; the first window above a gap is sized by the
density seen, not fixed."""

from __future__ import annotations

import datetime as dt

import pytest
from timelinekit import T0, Served, Shadow, check, record

from roamtui.history.navigation import (
    SEEK_CALLS,
    SEEK_MESSAGES,
    quiet_notice,
    reach,
    seek,
    seek_width,
)
from roamtui.history.rows import MessageRow
from roamtui.history.timeline import Timeline

DAY = 86_400
# Busy clusters (eight messages a second for six seconds, a same-second burst of 40 in the
# middle of each), separated by quiet stretches of growing length: 40 s, 15 min, 5 h, 2 days.
QUIET = [40, 900, 5 * 3600, 2 * DAY]


def clusters() -> tuple[list[dict[str, object]], list[int]]:
    out: list[dict[str, object]] = []
    starts: list[int] = []
    at = T0
    for pause in [0, *QUIET]:
        at += pause
        starts.append(at)
        for second in range(6):
            for _ in range(40 if second == 3 else 8):
                out.append(record(len(out), at + second, seq=10_000 - len(out)))
        at += 6
    return out, starts


def served(*, faults: float = 0.0) -> tuple[Served, list[int]]:
    messages, starts = clusters()
    s = Served(messages, T0 - 600, starts[-1] + 3600, page_size=10, fault_rate=faults,
               seed=5)
    s.service.faults.latency_ms = 1.0  # jittered: concurrent replies land out of order
    return s, starts


async def go(tl: Timeline, t: int, earlier: bool) -> MessageRow:
    await tl.jump(t)
    await reach(tl, t, earlier)
    row, _side = seek(tl, t, earlier)
    assert row is not None
    item = tl.row(row)
    assert isinstance(item, MessageRow), item
    return item


def times(starts: list[int]) -> list[tuple[int, bool]]:
    out: list[tuple[int, bool]] = []
    for k, start in enumerate(starts):
        out += [(start, False), (start + 3, False), (start + 3, True), (start + 5, True)]
        if k + 1 < len(starts):
            out += [(start + 10, False), (start + 10, True)]  # inside the quiet stretch after
    out += [(T0 - 300, False), (T0 - 300, True), (starts[-1] + 1800, False),
            (starts[-1] + 1800, True)]  # before the first message, after the last
    return out


@pytest.mark.parametrize("faults", [0.0, 0.3])
async def test_a_jump_then_reach_lands_where_the_truth_says_across_every_quiet_stretch(
    faults: float,
) -> None:
    s, starts = served(faults=faults)
    async with s.client:
        for t, earlier in times(starts):
            tl = s.timeline()
            shadow = Shadow(tl)
            await tl.open()
            calls = tl.calls
            landed = await go(tl, t, earlier)
            assert landed.msg.key == s.landing(t, earlier), (t - T0, earlier)
            assert tl.calls - calls <= 4 + SEEK_CALLS
            assert not tl.complete  # it loaded around the time, not the whole window
            check(tl, s, shadow)


async def test_a_landing_across_a_quiet_stretch_says_nothing_was_there() -> None:
    s, starts = served()
    async with s.client:
        tl = s.timeline()
        await tl.open()
        t = starts[3] + 60  # just after the fourth cluster: two quiet days follow
        landed = await go(tl, t, False)
        assert landed.msg.time == starts[4]
        notice = quiet_notice(t, landed.msg.time, dt.UTC)
        assert notice is not None and notice.startswith("nothing between")
        # Going back from inside those days: the last message of the fourth cluster.
        tl = s.timeline()
        await tl.open()
        landed = await go(tl, starts[4] - 3600, True)
        assert landed.msg.time == starts[3] + 5
        check(tl, s)


async def test_the_first_window_above_a_gap_is_sized_by_the_density_seen() -> None:
    messages, starts = clusters()
    s = Served(messages, T0 - 600, starts[-1] + 5, page_size=10)  # ends at the last message
    async with s.client:
        tl = s.timeline()
        await tl.open()  # the newest page: 10 messages of the last cluster's last seconds
        dense = seek_width(tl)
        await tl.load_all()
        sparse = seek_width(tl)
        # The window is over two days long and 30 s of it hold messages: the pooled
        # density says so once it is loaded.
        assert 1 <= dense < 60 < sparse
        seconds = sum(hi - lo + 1 for lo, hi in tl.covered())
        assert sparse == pytest.approx(SEEK_MESSAGES * seconds / tl.loaded_count, abs=1)


async def test_reach_walks_a_chain_that_ends_just_above_the_gap_instead_of_probing() -> None:
    # Second 3 of the first cluster is a burst of 40: a jump's page that ends inside it leaves
    # a chain whose next page reaches the gap's bottom; reach continues it (one call).
    s, starts = served()
    async with s.client:
        tl = s.timeline()
        await tl.open()
        await tl.jump(starts[0] + 3, context=0, max_calls=1)
        partial = [seg for seg in tl.segments if seg.partial_bottom]
        assert partial and partial[0].min_time == starts[0] + 3
        calls = tl.calls
        landed = await go(tl, starts[0] + 3, False)
        assert landed.msg.key == s.landing(starts[0] + 3, False)
        assert tl.calls - calls <= 4 + 2
        check(tl, s)
