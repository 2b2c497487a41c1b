"""Steps and :goto over a conversation with a quiet day: each step counts from the time the
last one named (no drift towards where it landed), lands on the first message at or after the
new time (back: the last at or before it), and says what it crossed ("nothing between Sat 22:30
and Sun 09:00")."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from test_transcript_steps import cursor_time, every_half_hour
from transcriptkit import World, running, settle, world

from roamtui.history.navigation import quiet_notice

UTC = ZoneInfo("UTC")


def at(day: int, hour: int, minute: int = 0) -> int:
    """2020-03-<day> in UTC: the 6th is a Friday, the 7th (Saturday) has no message."""
    return int(datetime(2020, 3, day, hour, minute, tzinfo=UTC).timestamp())


def gap_day() -> World:
    messages = [
        *every_half_hour(at(6, 10), at(6, 22, 30)),  # Friday, until 22:30
        *every_half_hour(at(8, 9), at(8, 12)),  # Sunday morning; Saturday is quiet
        *every_half_hour(at(9, 10), at(9, 10)),  # Monday 10:00
        *every_half_hour(at(9, 23), at(9, 23)),  # Monday 23:00
    ]
    return world(messages=messages, tz=UTC)


def said(w: World) -> list[str]:
    return [str(n.message) for n in w.notices()]


def test_the_notice_names_both_ends_in_the_zone() -> None:
    assert quiet_notice(at(7, 22, 30), at(8, 9), UTC) == "nothing between Sat 22:30 and Sun 09:00"
    assert quiet_notice(at(8, 14, 22), at(8, 21, 49), UTC) == "nothing between 14:22 and 21:49"
    assert quiet_notice(at(8, 9), at(8, 9, 5), UTC) is None  # a pause, not a quiet stretch
    assert quiet_notice(at(9, 23, 30), at(9, 23), UTC) == (
        "nothing between 23:30 and the end of the window")
    assert quiet_notice(at(8, 22, 30), at(8, 12), UTC, earlier=True) == (
        "nothing between 12:00 and 22:30")
    assert quiet_notice(at(6, 1), at(6, 10), UTC, earlier=True) == (
        "nothing between the start of the window and 01:00")
    # A step clamped to the window's end (or start) does not name that end as a quiet stretch.
    window = (at(6, 1), at(9, 23, 30))
    assert quiet_notice(at(9, 23, 30), at(9, 23), UTC, window=window) == (
        "end of window: the last message is at 23:00")
    assert quiet_notice(at(6, 1), at(6, 10), UTC, earlier=True, window=window) == (
        "start of window: the first message is at 10:00")
    assert quiet_notice(at(9, 23, 20), at(9, 23), UTC, window=window) == (
        "nothing between 23:20 and the end of the window")


async def test_day_steps_cross_the_quiet_day_from_the_named_times() -> None:
    w = gap_day()
    async with running(w, size=(100, 30)) as (pilot, t):
        t.goto_time(at(6, 22, 30))
        await settle(pilot)
        assert cursor_time(t) == at(6, 22, 30)
        await pilot.press("d")  # Saturday 22:30 names nothing: the first message after it
        await settle(pilot)
        assert cursor_time(t) == at(8, 9)
        assert said(w)[-1] == "nothing between Sat 22:30 and Sun 09:00"
        await pilot.press("d")  # Sunday 22:30 named: Monday 10:00 is the next message
        await settle(pilot)
        assert cursor_time(t) == at(9, 10)
        assert said(w)[-1] == "nothing between Sun 22:30 and Mon 10:00"
        await pilot.press("d")  # from Monday 22:30 (named), not 10:00 (landed): 23:00
        await settle(pilot)
        assert cursor_time(t) == at(9, 23)
        assert said(w)[-1] == "nothing between 22:30 and 23:00"
        await pilot.press("D")  # Sunday 22:30 named: back, the last message at or before it
        await settle(pilot)
        assert cursor_time(t) == at(8, 12)
        assert said(w)[-1] == "nothing between 12:00 and 22:30"
        await pilot.press("D")  # Saturday 22:30 named: Friday's last message
        await settle(pilot)
        assert cursor_time(t) == at(6, 22, 30)
        assert said(w)[-1] == "nothing between Fri 22:30 and Sat 22:30"


async def test_hour_steps_are_whole_hours_and_say_the_quiet_night() -> None:
    w = gap_day()
    async with running(w, size=(100, 30)) as (pilot, t):
        t.goto_time(at(8, 12))
        await settle(pilot)
        await pilot.press("o")  # 13:00 names nothing until Monday 10:00
        await settle(pilot)
        assert cursor_time(t) == at(9, 10)
        assert said(w)[-1] == "nothing between Sun 13:00 and Mon 10:00"
        await pilot.press("O")  # one hour before the named 13:00: 12:00 exactly, said nothing
        await settle(pilot)
        assert cursor_time(t) == at(8, 12)


async def test_goto_says_when_it_lands_far_from_the_time_or_past_the_end() -> None:
    w = gap_day()
    async with running(w, size=(100, 30)) as (pilot, t):
        t.goto_time(at(7, 14, 22), announce=True)
        await settle(pilot)
        assert cursor_time(t) == at(8, 9)
        assert said(w)[-1] == "nothing between Sat 14:22 and Sun 09:00"
        t.goto_time(at(9, 23) + 30, announce=True)
        await settle(pilot)
        assert cursor_time(t) == at(9, 23)
        assert said(w)[-1] == "nothing between 23:00 and the end of the window"
