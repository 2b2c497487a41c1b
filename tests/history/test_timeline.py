"""The timeline as the transcript uses it: what it shows first, how rows grow above the user's
place, same-second bursts cut by pages and by segments, day separators in the chosen zone,
gaps that carry their error until a retry, cancellation, jumps, and load_all under a jump."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from timelinekit import T0, Served, Shadow, all_rows, check, message_rows, record

from roamtui.history.timeline import (
    DayRow,
    EdgeRow,
    GapRow,
    LoadProgress,
    MessageRow,
    RowsChanged,
    Timeline,
)
from roamtui.im.errors import RoamError

HOUR = 3600


def spread(n: int, start: int, step: int) -> list[dict[str, object]]:
    return [record(i, start + i * step) for i in range(n)]


async def test_before_open_the_whole_window_is_one_gap() -> None:
    served = Served(spread(10, T0, 60), T0, T0 + HOUR)
    tl = served.timeline()
    assert all_rows(tl) == [GapRow(tl.gaps[0])]
    assert (tl.gaps[0].min_time, tl.gaps[0].max_time) == (T0, T0 + HOUR)
    assert not tl.complete and tl.calls == 0
    await served.client.aclose()


async def test_open_shows_the_newest_page_with_the_older_rest_as_a_gap() -> None:
    served = Served(spread(50, T0, 60), T0, T0 + 2 * HOUR, page_size=20)
    async with served.client:
        tl = served.timeline()
        result = await tl.open()
        assert (result.calls, result.added) == (1, 20)
        rows = all_rows(tl)
        newest = [k for _, k in served.truth()][-20:]
        assert message_rows(rows) == newest
        assert isinstance(rows[0], GapRow) and rows[0].gap.max_time == T0 + 30 * 60
        assert isinstance(rows[1], DayRow) and rows[-1] == EdgeRow("end")
        check(tl, served)
        # Opening again costs nothing: the newest end is loaded.
        assert (await tl.open()).calls == 0


async def test_an_empty_window_is_complete_after_one_call() -> None:
    served = Served(spread(5, T0, 60), T0 + 10 * HOUR, T0 + 11 * HOUR)
    async with served.client:
        tl = served.timeline()
        assert (await tl.open()).calls == 1
        assert all_rows(tl) == [EdgeRow("start"), EdgeRow("end")]
        assert tl.complete and tl.loaded_count == 0


async def test_older_pages_land_above_and_the_users_row_keeps_its_content() -> None:
    served = Served(spread(100, T0, 30), T0, T0 + 2 * HOUR, page_size=15)
    async with served.client:
        tl = served.timeline()
        shadow = Shadow(tl)
        await tl.open()
        watched = tl.messages()[0].key  # the oldest message on screen
        at = tl.index_of_key(watched)
        assert at is not None
        shadow.changes.clear()
        result = await tl.load_older()
        assert result.added == 15
        moved = tl.index_of_key(watched)
        assert moved is not None and moved > at
        # A view shifting its place by every change above it lands on the same message.
        place = at
        for change in shadow.changes:
            if change.index + change.removed <= place:
                place += change.inserted - change.removed
        assert place == moved
        check(tl, served, shadow)
        while not tl.start_reached:
            await tl.load_older()
        assert all_rows(tl)[0] == EdgeRow("start")
        assert tl.complete and tl.calls == 7
        check(tl, served, shadow)


async def test_a_burst_bigger_than_a_page_is_not_called_complete_until_passed() -> None:
    burst = T0 + 600
    messages = spread(5, T0, 60) + [record(100 + i, burst, seq=999 - i) for i in range(23)]
    served = Served(messages, T0, T0 + HOUR, page_size=10)
    async with served.client:
        tl = served.timeline()
        shadow = Shadow(tl)
        await tl.open()
        (seg,) = tl.segments
        assert seg.partial_bottom and seg.min_time == burst
        assert tl.gaps[0].max_time == burst  # the burst's second is still a gap
        assert tl.index_at_time(burst) == 0  # where the burst starts is not loaded yet
        await tl.load_older()
        assert tl.segments[0].partial_bottom and tl.loaded_count == 20
        await tl.load_older()  # the last 3 of the burst and everything older
        assert not tl.gaps and [m.key for m in tl.messages()] == [k for _, k in served.truth()]
        check(tl, served, shadow)


async def test_a_burst_cut_between_two_segments_joins_in_service_order() -> None:
    burst = T0 + 1800
    older = spread(30, T0, 50)
    messages = older + [record(200 + i, burst, seq=5000 - i) for i in range(25)]
    served = Served(messages, T0, T0 + HOUR, page_size=10)
    async with served.client:
        tl = served.timeline()
        shadow = Shadow(tl)
        await tl.open()  # the burst's newest 10 only
        await tl.jump(T0 + 300, context=5)  # a segment far below it
        for _ in range(40):
            if len(tl.segments) == 1:
                break
            result = await tl.load_newer(tl.segments[0])
            assert 1 <= result.calls <= 2
            check(tl, served, shadow)
        assert len(tl.segments) == 1
        burst_keys = [m.key for m in tl.messages() if m.time == burst]
        assert burst_keys == [k for t, k in served.truth() if t == burst]


async def test_day_separators_follow_the_chosen_zone_and_every_gap() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    # 15:00 .. 17:00 UTC: midnight in Shanghai (UTC+8) falls at 16:00 UTC.
    start = int(dt.datetime(2024, 3, 1, 15, tzinfo=dt.UTC).timestamp())
    served = Served(spread(12, start, 600), start, start + 2 * HOUR, page_size=4, tz=shanghai)
    async with served.client:
        tl = served.timeline()
        await tl.load_all()
        days = [row.date for row in all_rows(tl) if isinstance(row, DayRow)]
        assert days == [dt.date(2024, 3, 1), dt.date(2024, 3, 2)]
        utc = Served(spread(12, start, 600), start, start + 2 * HOUR, page_size=4)
        async with utc.client:
            flat = utc.timeline()
            await flat.load_all()
            assert [r.date for r in all_rows(flat) if isinstance(r, DayRow)] == [
                dt.date(2024, 3, 1)
            ]
        # After a gap the date is shown again even on the same day.
        split = Served(spread(60, start, 60), start, start + HOUR, page_size=4, tz=shanghai)
        async with split.client:
            tl2 = split.timeline()
            await tl2.open()
            await tl2.jump(start + 60, context=1)
            rows = all_rows(tl2)
            gap_at = next(i for i, r in enumerate(rows) if isinstance(r, GapRow))
            assert isinstance(rows[gap_at + 1], DayRow)
            check(tl2, split)


async def test_a_failed_load_leaves_the_gap_with_its_error_then_a_retry_fills_it() -> None:
    served = Served(spread(40, T0, 60), T0, T0 + HOUR, page_size=10, retries=0)
    async with served.client:
        tl = served.timeline()
        shadow = Shadow(tl)
        await tl.open()
        before = all_rows(tl)
        served.set_faults(1.0)
        with pytest.raises(RoamError) as failure:
            await tl.load_older()
        gap = tl.gaps[0]
        assert gap.state == "error" and gap.error is failure.value
        assert all_rows(tl)[0] == GapRow(gap)
        assert message_rows(all_rows(tl)) == message_rows(before)
        check(tl, served, shadow)
        served.set_faults(0.0)
        result = await tl.fill(gap, "bottom")
        assert result.added == 10
        assert all(g.state == "idle" and g.error is None for g in tl.gaps)
        check(tl, served, shadow)


async def test_a_load_shows_its_gap_loading_and_cancelling_it_changes_nothing() -> None:
    served = Served(spread(40, T0, 60), T0, T0 + HOUR, page_size=10)
    served.service.faults.latency_ms = 60_000.0  # a reply that never comes in this test
    async with served.client:
        tl = served.timeline()
        seen: list[str] = []

        def watch(change: RowsChanged) -> None:
            for i in range(change.index, change.index + change.inserted):
                row = tl.row(i)
                if isinstance(row, GapRow):
                    seen.append(row.gap.state)

        tl.subscribe(watch)
        task = asyncio.create_task(tl.jump(T0 + 1200))
        while "loading" not in seen:
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert all_rows(tl) == [GapRow(tl.gaps[0])] and tl.gaps[0].state == "idle"
        assert seen[-1] == "idle"


async def test_jump_shows_both_sides_of_a_time_in_a_few_calls() -> None:
    served = Served(spread(3000, T0, 20), T0, T0 + 60_000, page_size=50)
    async with served.client:
        tl = served.timeline()
        shadow = Shadow(tl)
        await tl.open()
        target = T0 + 31_111
        result = await tl.jump(target)
        assert result.calls <= 4
        at = tl.index_at_time(target)
        row = tl.row(at)
        assert isinstance(row, MessageRow) and row.msg.time >= target
        prev = tl.row(at - 1)
        assert isinstance(prev, MessageRow) and prev.msg.time < target
        window = all_rows(tl)[at - 20 : at + 20]
        assert all(isinstance(r, MessageRow) for r in window)
        check(tl, served, shadow)
        # Jumping again inside what is loaded costs nothing.
        assert (await tl.jump(target - 60)).calls == 0


async def test_index_at_time_points_at_gaps_and_past_a_segments_last_message() -> None:
    served = Served(spread(10, T0 + 100, 100), T0, T0 + 5000, page_size=3)
    async with served.client:
        tl = served.timeline()
        await tl.open()  # messages at +800, +900, +1000; the window goes on to +5000
        gap_row = tl.index_at_time(T0 + 50)
        assert isinstance(tl.row(gap_row), GapRow)
        exact = tl.row(tl.index_at_time(T0 + 900))
        assert isinstance(exact, MessageRow) and exact.msg.time == T0 + 900
        between = tl.row(tl.index_at_time(T0 + 901))
        assert isinstance(between, MessageRow) and between.msg.time == T0 + 1000
        assert tl.row(tl.index_at_time(T0 + 4000)) == EdgeRow("end")
        assert tl.index_of_key("nope") is None


async def test_load_all_reports_progress_and_ends_with_exactly_the_window() -> None:
    served = Served(spread(400, T0, 9), T0, T0 + HOUR, page_size=25)
    async with served.client:
        tl = served.timeline()
        shadow = Shadow(tl)
        await tl.open()
        await tl.jump(T0 + 1000)
        reports: list[LoadProgress] = []
        result = await tl.load_all(reports.append)
        assert reports and reports[-1].fraction == 1.0
        assert reports[-1].messages == 400 and reports[-1].calls == result.calls
        fractions = [r.fraction for r in reports]
        assert fractions == sorted(fractions)
        assert tl.complete and [m.key for m in tl.messages()] == [k for _, k in served.truth()]
        check(tl, served, shadow)


async def test_load_all_and_a_jump_at_the_same_time_stay_exact() -> None:
    served = Served(spread(600, T0, 5), T0, T0 + HOUR, page_size=20)
    served.service.faults.latency_ms = 2.0
    async with served.client:
        tl = served.timeline()
        shadow = Shadow(tl)
        await tl.open()
        await asyncio.gather(tl.load_all(), tl.jump(T0 + 1500), tl.load_older())
        assert tl.complete
        assert [m.key for m in tl.messages()] == [k for _, k in served.truth()]
        check(tl, served, shadow)


async def test_rows_are_read_cheaply_and_out_of_range_is_an_error() -> None:
    served = Served(spread(30, T0, 60), T0, T0 + HOUR, page_size=30)
    async with served.client:
        tl = Timeline(served.client, served.query(), dt.UTC)
        await tl.open()
        with pytest.raises(IndexError):
            tl.row(len(tl))
        with pytest.raises(IndexError):
            tl.row(-1)
        first = tl.row(2)
        assert isinstance(first, MessageRow) and first.index_in_loaded == 0
