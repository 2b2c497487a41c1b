"""Where a move through time lands (history.navigation), without an app: the first message at
or after a time, the last at or before it going back, across quiet stretches and gaps not
loaded yet, and steps of calendar days across daylight-saving changes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from timelinekit import T0, Served, check, record

from roamtui.history.navigation import SEEK_CALLS, reach, seek, stepped
from roamtui.history.rows import GapRow, MessageRow
from roamtui.history.timeline import Timeline

DAY = 86_400
HOUR = 3600
# Three bursts of 100 messages 31 s apart (52 minutes each): A at T0, B 50 hours later (more
# than a silent day after A), C 3 hours after B; B holds a same-second burst of five.
A, B, C = T0, T0 + 50 * HOUR, T0 + 53 * HOUR
A_END, B_END, C_END = A + 99 * 31, B + 99 * 31, C + 99 * 31
BURST = B + 50 * 31


def conversation() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for start in (A, B, C):
        for k in range(100):
            out.append(record(len(out), start + 31 * k))
            if start + 31 * k == BURST:
                out += [record(len(out), BURST, seq=9000 - n) for n in range(4)]
    return out


def served() -> Served:
    return Served(conversation(), T0, C_END + 60, page_size=10)


def landed(tl: Timeline, t: int, earlier: bool) -> str:
    row, _side = seek(tl, t, earlier)
    assert row is not None
    item = tl.row(row)
    assert isinstance(item, MessageRow), f"seek({t}, {earlier}) found {item}"
    return item.msg.key


TIMES = [
    T0 - 100, A, A + 30, A + 31, A_END, A_END + 1,  # around the first burst
    A + DAY, B - 1,  # inside the silence
    B, BURST - 1, BURST, BURST + 1,  # a same-second burst: its first, or its last going back
    B_END + HOUR, C - 1, C_END, C_END + 60,  # the last message and past it
]


async def test_seek_over_a_loaded_window_lands_at_or_after_or_at_or_before() -> None:
    s = served()
    async with s.client:
        tl = s.timeline()
        await tl.load_all()
        check(tl, s)
        for t in TIMES:
            for earlier in (False, True):
                assert landed(tl, t, earlier) == s.landing(t, earlier), (t, earlier)


async def test_seek_says_which_side_it_found_a_message_on() -> None:
    s = served()
    async with s.client:
        tl = s.timeline()
        await tl.load_all()
        # Back from before the first message: nothing there, so the first one after.
        row, side = seek(tl, T0 - 100, True)
        assert row is not None and side is False
        # On from after the last message: the last one before.
        row, side = seek(tl, C_END + 60, False)
        assert row is not None and side is True
        row, side = seek(tl, BURST, True)
        assert row is not None and side is True


async def test_seek_names_the_gap_that_may_hide_the_landing() -> None:
    s = served()
    async with s.client:
        tl = s.timeline()
        await tl.open()  # only the newest page: the first burst and the silence are a gap
        for t in (A + 10 * 60, A + DAY, B_END + HOUR):
            for earlier in (False, True):
                row, _side = seek(tl, t, earlier)
                assert row is not None and isinstance(tl.row(row), GapRow), (t, earlier)


async def test_seek_in_a_window_without_messages_finds_nothing() -> None:
    s = Served(conversation(), A + DAY, B - 1, page_size=10)  # inside the silence
    async with s.client:
        tl = s.timeline()
        await tl.load_all()
        assert tl.complete and not tl.loaded_count
        assert seek(tl, A + DAY + 5, False) == (None, False)
        assert seek(tl, A + DAY + 5, True) == (None, True)


@pytest.mark.parametrize(
    ("start", "t", "earlier"),
    [
        # From the window's start on into the silence: the first message of B, above a gap
        # with no cursor towards it, found by windows probed from the gap's bottom.
        ("start", A + DAY, False),
        ("start", A_END + 1, False),
        ("start", BURST, False),
        # From the middle of B on past its end: C, three quiet hours later.
        ("B", B_END + HOUR, False),
        # From the newest end back into the silences: the last message before them.
        ("end", B - 1, True),
        ("end", A + DAY, True),
        ("end", BURST, True),
    ],
)
async def test_reach_loads_across_quiet_stretches_and_gaps(
    start: str, t: int, earlier: bool
) -> None:
    s = served()
    async with s.client:
        tl = s.timeline()
        await tl.open()
        if start != "end":
            await tl.jump(A if start == "start" else B + 50 * 31)
        calls = tl.calls
        await tl.jump(t)  # as the transcript does: the jump first, then reach
        await reach(tl, t, earlier)
        assert landed(tl, t, earlier) == s.landing(t, earlier)
        assert tl.calls - calls <= 4 + SEEK_CALLS
        assert not tl.complete  # it loaded what the landing needs, not the whole window
        check(tl, s)


async def test_reach_alone_fills_the_gap_below_page_by_page() -> None:
    s = served()
    async with s.client:
        tl = s.timeline()
        await tl.open()  # the newest page of C
        calls = tl.calls
        await reach(tl, C - 1, True)  # the rest of C is between: ten pages of it
        assert landed(tl, C - 1, True) == s.landing(C - 1, True)
        assert 5 <= tl.calls - calls <= SEEK_CALLS
        check(tl, s)


async def test_reach_does_nothing_when_the_landing_is_loaded() -> None:
    s = served()
    async with s.client:
        tl = s.timeline()
        await tl.load_all()
        calls = tl.calls
        await reach(tl, A + DAY, False)
        assert tl.calls == calls


NEW_YORK = ZoneInfo("America/New_York")


def local(*fields: int) -> int:
    return int(datetime(*fields, tzinfo=NEW_YORK).timestamp())


def test_a_day_step_keeps_the_wall_clock_across_daylight_saving_changes() -> None:
    spring = local(2020, 3, 7, 12)
    assert stepped(spring, 1, "day", NEW_YORK) == local(2020, 3, 8, 12) == spring + 23 * 3600
    assert stepped(local(2020, 3, 8, 12), -1, "day", NEW_YORK) == spring
    autumn = local(2020, 10, 31, 12)
    assert stepped(autumn, 1, "day", NEW_YORK) == local(2020, 11, 1, 12) == autumn + 25 * 3600
    assert stepped(local(2020, 11, 1, 12), -1, "day", NEW_YORK) == autumn
    assert stepped(spring, 3, "day", NEW_YORK) == local(2020, 3, 10, 12)


def test_an_hour_step_is_3600_seconds_even_across_a_change() -> None:
    before = local(2020, 3, 8, 1, 30)  # EST; 02:00 jumps to 03:00
    assert stepped(before, 1, "hour", NEW_YORK) == before + 3600 == local(2020, 3, 8, 3, 30)
    assert stepped(before, -2, "hour", NEW_YORK) == before - 7200
