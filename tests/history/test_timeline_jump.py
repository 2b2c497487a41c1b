"""Jumping to a time: the budget of calls is kept, the landing row is the first message at or
after the time (a same-second burst cut by pages included), and when a jump stops before its
budget the screen around the landing row holds no gap."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_timeline_properties import Case, cases, step
from timelinekit import T0, Served, Shadow, check, record

from roamtui.history.timeline import BEFORE, EdgeRow, GapRow, MessageRow, Row, Timeline

HOUR = 3600


def landing_message(tl: Timeline, t: int) -> Row:
    return tl.row(tl.index_at_time(t))


async def test_a_jump_into_a_burst_bigger_than_a_page_lands_on_its_first_message() -> None:
    burst_at = T0 + HOUR
    messages = [record(i, T0 + 60 * i) for i in range(60)]
    burst = [record(1000 + i, burst_at, seq=5000 - i) for i in range(25)]
    messages = messages[:60] + burst + [record(2000 + i, T0 + HOUR + 60 * (i + 1))
                                         for i in range(300)]
    messages.sort(key=lambda m: m["MsgTimeStamp"])  # stable: the burst keeps its order
    served = Served(messages, T0, T0 + 6 * HOUR, page_size=10)
    async with served.client:
        tl = served.timeline()
        shadow = Shadow(tl)
        await tl.open()
        result = await tl.jump(burst_at)
        assert result.calls <= 4
        row = landing_message(tl, burst_at)
        first = next(k for t, k in served.truth() if t == burst_at)
        assert isinstance(row, MessageRow) and row.msg.key == first
        check(tl, served, shadow)


def screen(tl: Timeline, t: int, before: int, after: int) -> tuple[list[Row], list[Row]]:
    """The rows above the landing row until ``before`` messages or the window's start, and the
    rows from it on until ``after`` messages or the window's end."""
    at = tl.index_at_time(t)
    up: list[Row] = []
    i, seen = at - 1, 0
    while i >= 0 and seen < before:
        row = tl.row(i)
        up.append(row)
        seen += isinstance(row, MessageRow)
        if isinstance(row, (GapRow, EdgeRow)):
            break
        i -= 1
    down: list[Row] = []
    i, seen = at, 0
    while i < len(tl) and seen < after:
        row = tl.row(i)
        down.append(row)
        seen += isinstance(row, MessageRow)
        if isinstance(row, (GapRow, EdgeRow)):
            break
        i += 1
    return up, down


async def jump_after(case: Case, before: int, t: int, context: int, budget: int) -> None:
    served = Served(
        case.messages, T0, T0 + case.span - 1, case.page_size, case.page_cap, case.tz
    )
    async with served.client:
        tl = served.timeline()
        shadow = Shadow(tl)
        for op in case.ops[:before]:
            await step(tl, op)
        result = await tl.jump(T0 + t, context=context, max_calls=budget)
        assert result.calls <= budget
        check(tl, served, shadow)
        if result.calls < budget:
            # It stopped on its own: the screen around the landing row is whole.
            up, down = screen(tl, T0 + t, -int(-BEFORE * context // 1), context)
            assert not any(isinstance(r, GapRow) for r in up + down), (up, down)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.integers(0, 6), st.integers(-30, 4 * 86_400), st.integers(1, 30),
       st.integers(1, 6))
def test_a_jump_keeps_its_budget_and_stops_early_only_with_the_screen_whole(
    case: Case, before: int, t: int, context: int, budget: int
) -> None:
    asyncio.run(jump_after(case, before, min(t, case.span + 30), context, budget))
