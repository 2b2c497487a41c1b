"""Jumps into the sandbox's own kind of history (sessions of chat between quiet stretches,
same-second bursts of 260 messages, pages cut near 13 KB), as the transcript makes them: the
jump, reach while a gap hides the landing row, then the gaps within half a screen filled. Over a
slow sandbox that fails 30 % of its calls (retried), the landing is the message the truth says
and what is loaded equals the service's messages in order, nothing lost or doubled."""

from __future__ import annotations

import random

import pytest
from timelinekit import T0, Served, Shadow, check

from roamtui.history.navigation import reach, seek
from roamtui.history.rows import GapRow, MessageRow
from roamtui.history.timeline import Timeline
from roamtui.sandbox import Dataset

HALF_SCREEN = 15


def bursty(fault_rate: float) -> tuple[Served, int]:
    """A generated conversation of 4,000 messages over ten days, served from a list in the
    service's order; and the second of its biggest same-second burst."""
    dataset = Dataset(seed=4, messages=4000, end_time=T0 + 10 * 86_400, pairs=1)
    ((a, b),) = dataset.conversations
    span = dataset.span(a, b)
    assert span is not None
    records = dataset.messages_between(a, b, *span)
    messages = [dataset.message_obj(r.index) for r in records]
    counts: dict[int, int] = {}
    for m in messages:
        counts[m["MsgTimeStamp"]] = counts.get(m["MsgTimeStamp"], 0) + 1
    burst = max(counts, key=counts.__getitem__)
    assert counts[burst] > 100  # more than three pages in one second
    s = Served(messages, span[0] - 3600, span[1] + 3600, page_size=100,
               fault_rate=fault_rate, seed=9)
    s.service.faults.latency_ms = 1.0  # jittered: concurrent replies land out of order
    return s, burst


async def fill_screen(tl: Timeline, key: str) -> None:
    """Fill the gaps within half a screen of the message ``key`` as the view does, each from
    the side the view comes from (bounded: a fill without progress fails, never hangs)."""
    for _ in range(200):
        row = tl.index_of_key(key)  # rows inserted above move it
        assert row is not None
        near = range(max(0, row - HALF_SCREEN), min(len(tl), row + HALF_SCREEN + 1))
        holes = [i for i in near if isinstance(tl.row(i), GapRow)]
        if not holes:
            return
        item = tl.row(holes[0])
        assert isinstance(item, GapRow)
        await tl.fill(item.gap, "bottom" if holes[0] < row else "top")
    raise AssertionError("the screen never became whole")


@pytest.mark.parametrize("fault_rate", [0.0, 0.3])
async def test_jumps_into_a_bursty_history_land_right_and_load_it_exactly(
    fault_rate: float,
) -> None:
    s, burst = bursty(fault_rate)
    truth = s.truth()
    first, last = truth[0][0], truth[-1][0]
    rng = random.Random(3)
    targets = [(rng.randrange(first, last + 1), rng.random() < 0.3) for _ in range(10)]
    targets += [(burst, False), (burst, True), (burst + 1, True), (first - 60, False),
                (first - 60, True), (last + 60, False), (last + 60, True)]
    async with s.client:
        for t, earlier in targets:
            tl = s.timeline()
            shadow = Shadow(tl)
            await tl.open()
            await tl.jump(t)
            await reach(tl, t, earlier)
            row, _side = seek(tl, t, earlier)
            assert row is not None
            item = tl.row(row)
            assert isinstance(item, MessageRow), (t - T0, earlier, item)
            assert item.msg.key == s.landing(t, earlier), (t - T0, earlier)
            await fill_screen(tl, item.msg.key)
            check(tl, s, shadow)
            assert not tl.complete
