"""The transcript's jumps and loads as workers, and its steps through time: a newer jump
replaces the older, a swapped-out timeline's job is ignored, an unexpected error is one line
and waits for `r`, a swap is announced; `d`/`D` step calendar days in the chosen zone across
daylight-saving changes, `o`/`O` an hour."""

from __future__ import annotations

from datetime import datetime
from typing import NoReturn
from zoneinfo import ZoneInfo

import pytest
from textual.pilot import Pilot
from textual.worker import Worker, WorkerCancelled, WorkerState
from transcriptkit import ME, PEER, cursor_id, running, screen, settle, world

from roamtui.history import timeline as timeline_module
from roamtui.im.model import message_obj
from roamtui.ui.transcript import Transcript

NEW_YORK = ZoneInfo("America/New_York")
HALF_HOUR = 1800


def local(*fields: int) -> int:
    return int(datetime(*fields, tzinfo=NEW_YORK).timestamp())


def every_half_hour(start: int, end: int) -> list[dict[str, object]]:
    """Messages "m0000".. every 1,800 s from ``start`` to ``end`` (Unix seconds)."""
    out = []
    for i, t in enumerate(range(start, end + 1, HALF_HOUR)):
        sender, receiver = (ME, PEER) if i % 3 else (PEER, ME)
        out.append(message_obj(sender=sender, receiver=receiver, time=t, text=f"m{i:04d}",
                               seq=1000 + i, random=7 * i + 1))
    return out


def cursor_time(t: Transcript) -> int | None:
    message = t.cursor_message
    return None if message is None else message.time


# -- steps through time -----------------------------------------------------------------------


async def test_day_steps_keep_the_wall_clock_across_the_spring_change() -> None:
    # 2020-03-08 02:00 EST -> 03:00 EDT in New York: that day has 23 hours.
    w = world(messages=every_half_hour(local(2020, 3, 6), local(2020, 3, 10)), tz=NEW_YORK)
    async with running(w, size=(100, 30)) as (pilot, t):
        start = local(2020, 3, 7, 12)
        t.goto_time(start)
        await settle(pilot)
        assert cursor_time(t) == start
        await pilot.press("d")
        await settle(pilot)
        assert cursor_time(t) == local(2020, 3, 8, 12) == start + 23 * 3600
        await pilot.press("D")
        await settle(pilot)
        assert cursor_time(t) == start
        await pilot.press("d", "d")  # quick presses add up: two calendar days
        await settle(pilot)
        assert cursor_time(t) == local(2020, 3, 9, 12)


async def test_day_steps_keep_the_wall_clock_across_the_autumn_change() -> None:
    # 2020-11-01 02:00 EDT -> 01:00 EST: that day has 25 hours.
    w = world(messages=every_half_hour(local(2020, 10, 30), local(2020, 11, 3)), tz=NEW_YORK)
    async with running(w, size=(100, 30)) as (pilot, t):
        start = local(2020, 10, 31, 12)
        t.goto_time(start)
        await settle(pilot)
        assert cursor_time(t) == start
        await pilot.press("d")
        await settle(pilot)
        assert cursor_time(t) == local(2020, 11, 1, 12) == start + 25 * 3600
        await pilot.press("D")
        await settle(pilot)
        assert cursor_time(t) == start


async def test_hour_steps_stay_3600_seconds_across_a_change() -> None:
    w = world(messages=every_half_hour(local(2020, 3, 7), local(2020, 3, 9)), tz=NEW_YORK)
    async with running(w, size=(100, 30)) as (pilot, t):
        start = local(2020, 3, 8, 1, 30)  # EST, half an hour before the clocks go forward
        t.goto_time(start)
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert cursor_time(t) == start + 3600 == local(2020, 3, 8, 3, 30)
        await pilot.press("O", "O")
        await settle(pilot)
        assert cursor_time(t) == start - 3600


# -- jobs as workers --------------------------------------------------------------------------


def jump_states(seen: list[object]) -> list[WorkerState]:
    return [m.state for m in seen if isinstance(m, Worker.StateChanged)
            and m.worker.group == "history-jump" and m.state != WorkerState.PENDING]


async def test_a_newer_jump_replaces_the_older_one_which_never_lands() -> None:
    w = world(2000, page_size=40)
    async with running(w) as (pilot, t):
        w.gate.open.clear()  # both jumps wait for their pages
        t.goto_time(w.messages[300]["MsgTimeStamp"])
        await pilot.pause()
        t.goto_time(w.messages[900]["MsgTimeStamp"])
        await pilot.pause()
        w.gate.open.set()
        await settle(pilot)
        assert cursor_id(t) == "m0900"
        states = jump_states(w.seen)
        assert WorkerState.CANCELLED in states and states[-1] == WorkerState.SUCCESS


async def settle_after_cancel(pilot: Pilot[None]) -> None:
    """settle(), where waiting on a worker the swap cancelled raises WorkerCancelled."""
    for _ in range(50):
        try:
            await settle(pilot)
            return
        except WorkerCancelled:
            await pilot.pause()
    raise AssertionError("the workers never settled")


async def test_a_job_of_a_swapped_out_timeline_is_ignored() -> None:
    w = world(2000, page_size=40)
    async with running(w) as (pilot, t):
        w.gate.open.clear()
        t.goto_time(w.messages[300]["MsgTimeStamp"])  # would land far from the newest end
        await pilot.pause()
        old = t.timeline
        t.swap_timeline(w.make(PEER, ME))
        w.gate.open.set()
        await settle_after_cancel(pilot)
        assert t.timeline is not old and t.timeline.query.account == PEER
        assert cursor_id(t) == "m1999"  # the new timeline opened at its newest end
        # One message (seen once by each node it bubbles through), naming the new timeline.
        swapped = {id(m): m for m in w.seen if isinstance(m, Transcript.TimelineSwapped)}
        assert [m.timeline for m in swapped.values()] == [t.timeline]
        assert not [m for m in w.seen if isinstance(m, Transcript.LoadFailed)]


async def test_an_unexpected_error_is_one_line_and_its_gap_waits_for_r(
        monkeypatch: pytest.MonkeyPatch) -> None:
    w = world(400)
    bugs: list[int] = []

    async def broken(*_args: object, **_kwargs: object) -> NoReturn:
        bugs.append(1)
        raise ZeroDivisionError("a bug in reading a page")

    async with running(w) as (pilot, t):
        with monkeypatch.context() as patch:
            patch.setattr(timeline_module, "fetch_page", broken)
            t.goto_time(w.messages[50]["MsgTimeStamp"])
            await settle(pilot)
            failed = [m for m in w.seen if isinstance(m, Transcript.LoadFailed)]
            assert failed
            assert str(failed[-1].error) == "internal error while loading (ZeroDivisionError)"
            assert any(g.state == "error" for g in t.timeline.gaps)
            assert any("r to retry" in line for line in screen(t))
            tries = len(bugs)
            for _ in range(5):
                await settle(pilot)
            assert len(bugs) == tries, "the view loaded the failed stretch again by itself"
            assert t.check_action("retry", ()) and pilot.app.is_running
        loaded = t.timeline.loaded_count
        await pilot.press("r")
        await settle(pilot)
        assert t.timeline.loaded_count > loaded
