"""The transcript widget driven like a user would: opening, loading, retrying, moving around."""

from __future__ import annotations

import pytest
from transcriptkit import (
    HEAD,
    ME,
    PEER,
    World,
    bursts,
    cursor_id,
    everything_drawn,
    ids_on_screen,
    running,
    screen,
    scroll_to_gap,
    scroll_to_top,
    settle,
    top_id,
    world,
)

from roamtui.ui import render
from roamtui.ui.transcript import Transcript
from roamtui.ui.transcript import widget as transcript_widget
from roamtui.ui.transcript.index import MESSAGES, LineIndex

# -- opening ----------------------------------------------------------------------------------


async def test_opens_at_the_newest_end_with_the_cursor_on_the_newest_message() -> None:
    w = world()
    async with running(w) as (_pilot, t):
        shown = ids_on_screen(t)
        assert shown == w.ids[-len(shown):] and len(shown) > 20
        assert "end of window" in screen(t)[-1]
        assert t.cursor_message is not None and t.cursor_message.text().startswith("m0399")
        moved = [m for m in w.seen if isinstance(m, Transcript.CursorMoved)]
        assert moved[-1].message is t.cursor_message
        assert moved[-1].at == w.messages[-1]["MsgTimeStamp"]
        # Only the newest pages were fetched: the window is ten pages long.
        assert t.timeline.loaded_count < 200 and w.gate.calls <= 4
        stats = [m for m in w.seen if isinstance(m, Transcript.StatsChanged)][-1]
        assert (stats.loaded, stats.complete, stats.gaps) == (t.timeline.loaded_count, False, 1)


async def test_scrolling_to_the_top_shows_every_message_exactly_once() -> None:
    w = world()
    async with running(w, size=(100, 30)) as (pilot, t):
        presses = await scroll_to_top(pilot, t)
        assert presses > 5  # several pages, loaded on the way
        drawn = everything_drawn(t)
        ids = [m.group(3) for line in drawn if (m := HEAD.match(line))]
        assert ids == w.ids
        assert drawn[0].strip("— ") == "start of window" and "end of window" in drawn[-1]
        assert sum("Saturday, 2020-03-21" in line for line in drawn) == 1  # one day separator
        stats = [m for m in w.seen if isinstance(m, Transcript.StatsChanged)][-1]
        assert (stats.loaded, stats.complete, stats.gaps) == (400, True, 0)


async def test_rows_inserted_above_keep_the_viewed_message_on_the_same_screen_row() -> None:
    w = world()
    async with running(w) as (pilot, t):
        w.gate.open.clear()  # the next older page waits until we look
        for _ in range(10):
            if t.timeline.gaps and t.timeline.gaps[0].state == "loading":
                break
            await pilot.press("pageup")
            await pilot.pause()
        assert t.timeline.gaps[0].state == "loading"
        assert "loading older messages…" in render.plain(t.row_layout.lines(0)[0])
        before, row = top_id(t)
        scroll, loaded = t.scroll_y, t.timeline.loaded_count
        w.gate.open.set()
        await settle(pilot)
        assert t.timeline.loaded_count > loaded
        assert t.scroll_y > scroll  # the rows went in above
        assert top_id(t) == (before, row)


async def test_gap_row_shows_loading_then_error_and_r_retries() -> None:
    w = world()
    async with running(w) as (pilot, t):
        w.gate.failing = True
        await scroll_to_gap(pilot, t)
        failed = [m for m in w.seen if isinstance(m, Transcript.LoadFailed)]
        assert failed and "502" in str(failed[-1].error)
        for _ in range(5):  # the failed gap is within a page above the screen
            if any("⚠" in line for line in screen(t)):
                break
            await pilot.press("pageup")
        banner = next(line for line in screen(t) if "⚠" in line)
        assert banner.strip().endswith("— r to retry")
        loaded = t.timeline.loaded_count
        w.gate.failing = False
        await pilot.press("r")
        await settle(pilot)
        assert t.timeline.loaded_count > loaded
        assert not any("⚠" in line for line in screen(t))


async def test_r_after_a_failed_first_load_opens_at_the_newest_end() -> None:
    w = world()
    w.gate.failing = True
    async with running(w) as (pilot, t):
        assert [m for m in w.seen if isinstance(m, Transcript.LoadFailed)]
        assert t.timeline.loaded_count == 0 and t.cursor_message is None
        assert any("r to retry" in line for line in screen(t))
        w.gate.failing = False
        await pilot.press("r")
        await settle(pilot)
        shown = ids_on_screen(t)
        assert shown == w.ids[-len(shown):] and len(shown) > 20
        assert "end of window" in screen(t)[-1] and t.scroll_y == t.max_scroll_y
        assert t.cursor_message is not None and t.cursor_message.text().startswith("m0399")
        moved = [m for m in w.seen if isinstance(m, Transcript.CursorMoved)]
        assert moved[-1].message is t.cursor_message


class CountingTranscript(Transcript):
    """Counts the footer rebuilds it asks for."""

    refreshes = 0

    def refresh_bindings(self) -> None:
        self.refreshes += 1
        super().refresh_bindings()


async def test_bindings_are_refreshed_only_when_retry_comes_or_goes() -> None:
    w = world()
    async with running(w, size=(100, 30), kind=CountingTranscript) as (pilot, t):
        assert isinstance(t, CountingTranscript)
        loaded = t.timeline.loaded_count
        for _ in range(4):  # pages come in, nothing fails: nothing in the footer changes
            await pilot.press("pageup", "pageup")
            await settle(pilot)
        assert t.timeline.loaded_count > loaded and t.refreshes == 0
        w.gate.failing = True
        await scroll_to_gap(pilot, t)
        await settle(pilot)
        assert t.refreshes == 1 and t.check_action("retry", ())
        w.gate.failing = False
        await pilot.press("r")
        await settle(pilot)
        assert not t.timeline.gaps or t.timeline.gaps[0].state != "error"
        assert t.refreshes == 2 and not t.check_action("retry", ())


# -- moving around ----------------------------------------------------------------------------


async def test_keys_move_the_cursor_and_enter_asks_to_inspect() -> None:
    w = world(30)
    async with running(w) as (pilot, t):
        await pilot.press("k", "k", "up")
        assert t.cursor_message is not None and t.cursor_message.seq == 1026
        await pilot.press("j")
        assert t.cursor_message.seq == 1027
        await pilot.press("enter")
        await pilot.pause()
        asked = [m for m in w.seen if isinstance(m, Transcript.InspectRequested)]
        assert asked and asked[-1].message.seq == 1027
        await pilot.press("g")
        await settle(pilot)
        assert t.cursor_message.seq == 1000 and t.top_line == 0
        await pilot.press("G")
        await settle(pilot)
        assert t.cursor_message.seq == 1029 and t.scroll_y == t.max_scroll_y


async def test_click_selects_a_message() -> None:
    w = world(30)
    async with running(w) as (pilot, t):
        y = next(y for y, s in enumerate(screen(t)) if "m0020" in s)
        await pilot.click(Transcript, offset=(30, y))
        assert t.cursor_message is not None and t.cursor_message.seq == 1020


async def test_goto_fetches_around_the_time_and_centres_the_first_message_after_it() -> None:
    w = world(2000, page_size=40)
    async with running(w) as (pilot, t):
        calls = w.gate.calls
        target = w.messages[700]["MsgTimeStamp"]
        t.goto_time(target - 5)
        await settle(pilot)
        message = t.cursor_message
        assert message is not None and message.text().startswith("m0700")
        assert "m0700" in ids_on_screen(t)
        row = next(y for y, s in enumerate(screen(t)) if "m0700" in s)
        assert abs(row - t.viewport_height // 2) <= 2
        assert w.gate.calls - calls <= 6  # not a walk through 1300 newer messages
        moved = [m for m in w.seen if isinstance(m, Transcript.CursorMoved)][-1]
        assert moved.at == message.time


async def test_hour_step_back_lands_on_the_last_message_at_or_before_the_target() -> None:
    w = world(400)
    async with running(w) as (pilot, t):
        start = t.cursor_message
        assert start is not None
        await pilot.press("O")
        await settle(pilot)
        assert cursor_id(t) == w.last_at_or_before(start.time - 3600)
        await pilot.press("o")
        await settle(pilot)
        assert cursor_id(t) == w.first_at_or_after(start.time)


async def test_quick_steps_add_up_before_the_jumps_land() -> None:
    w = world(400)
    async with running(w) as (pilot, t):
        start = t.cursor_message
        assert start is not None
        w.gate.open.clear()  # the jumps cannot land until all three keys are pressed
        await pilot.press("O", "O", "O")
        w.gate.open.set()
        await settle(pilot)
        assert cursor_id(t) == w.last_at_or_before(start.time - 3 * 3600)


# Three bursts of 100 messages (52 minutes each): A at T0, B 50 hours later (more than a
# silent day after A), C 3 hours after B (an hour's step cannot reach it from B either).
A, B, C = 0, 50 * 3600, 53 * 3600
SIZE = (100, 20)


def quiet() -> World:
    return world(messages=bursts((A, 100), (B, 100), (C, 100)), page_size=10)


async def test_hour_steps_back_cross_quiet_stretches_longer_than_an_hour() -> None:
    w = quiet()
    async with running(w, SIZE) as (pilot, t):
        assert cursor_id(t) == "m0299"  # the newest message
        landed = []
        for _ in range(4):
            await pilot.press("O")
            await settle(pilot)
            landed.append(cursor_id(t))
        # the last of B, the last of A, then (nothing an hour before it) the first of A
        assert landed == ["m0199", "m0099", "m0000", "m0000"]
        # each quiet stretch crossed is said; the first of A is the start of the window
        assert [n.message for n in w.notices()] == [
            "nothing between 00:51 and 02:51", "nothing between Fri 22:51 and Sun 23:51",
            "start of window"]


async def test_day_and_hour_steps_cross_quiet_stretches_not_loaded_yet() -> None:
    w = quiet()
    async with running(w, SIZE) as (pilot, t):
        await pilot.press("g")
        await settle(pilot)
        assert cursor_id(t) == "m0000"
        assert t.timeline.index_of_key(w.messages[100]["MsgKey"]) is None  # B is not loaded
        await pilot.press("d")  # a day later is in the silence: the first message after it
        await settle(pilot)
        assert cursor_id(t) == "m0100" and "m0100" in ids_on_screen(t)
        await pilot.press("o")
        await settle(pilot)
        assert cursor_id(t) == "m0200"
        await pilot.press("D")  # back across the silent day
        await settle(pilot)
        assert cursor_id(t) == "m0099"
        await pilot.press("D")  # nothing a day before the end of A: its first message
        await settle(pilot)
        assert cursor_id(t) == "m0000"
        assert [n.message for n in w.notices()] == [  # every silence crossed is said
            "nothing between Sat 22:00 and Mon 00:00", "nothing between 01:00 and 03:00",
            "nothing between Fri 22:51 and Sun 01:00"]


async def test_a_step_that_cannot_load_shows_the_failed_stretch_and_works_after_retry() -> None:
    w = quiet()
    async with running(w, SIZE) as (pilot, t):
        w.gate.failing = True
        await pilot.press("O")
        await settle(pilot)
        assert [m for m in w.seen if isinstance(m, Transcript.LoadFailed)]
        assert any("r to retry" in line for line in screen(t))
        w.gate.failing = False
        await pilot.press("r")
        await settle(pilot)
        assert not any("r to retry" in line for line in screen(t))
        t.set_cursor(t.timeline.index_of_key(w.messages[299]["MsgKey"]))
        await pilot.press("O")
        await settle(pilot)
        assert cursor_id(t) == "m0199"


# -- keys that do nothing say why -------------------------------------------------------------


async def test_steps_past_the_ends_say_so_and_leave_the_cursor() -> None:
    w = quiet()
    async with running(w) as (pilot, t):
        await pilot.press("d")
        await pilot.pause()
        assert cursor_id(t) == "m0299"
        await pilot.press("g")
        await settle(pilot)
        await pilot.press("O")
        await pilot.pause()
        assert cursor_id(t) == "m0000"
        notices = w.notices()
        assert [n.message for n in notices] == ["end of window", "start of window"]
        assert not any(n.markup for n in notices)


async def test_quick_steps_that_end_past_the_newest_message_say_end_of_window() -> None:
    w = quiet()
    async with running(w) as (pilot, t):
        w.gate.open.clear()
        await pilot.press("O", "d", "d")  # an hour back, then two days on: past the end
        w.gate.open.set()
        await settle(pilot)
        assert cursor_id(t) == "m0299"
        assert [n.message for n in w.notices()] == ["end of window"]


async def test_the_same_notice_again_rings_the_bell_instead_of_stacking(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transcript_widget, "monotonic", lambda: 1000.0)  # all at one moment
    w = quiet()
    async with running(w) as (pilot, _t):
        bells: list[int] = []
        monkeypatch.setattr(pilot.app, "bell", lambda: bells.append(1))
        await pilot.press("d", "o", "d")
        await pilot.pause()
        assert [n.message for n in w.notices()] == ["end of window"]
        assert len(bells) == 2
        await pilot.press("x")
        await pilot.pause()
        assert [n.message for n in w.notices()][-1] == "nothing to expand"


async def test_x_says_why_a_message_cannot_expand() -> None:
    relay = {"MsgType": "TIMRelayElem", "MsgContent": {
        "Title": "big", "MsgNum": 120, "JsonMsgKey": "k-9[b]\x1b[31m"}}
    w = world(4, {3: {"MsgBody": [relay]}})
    async with running(w) as (pilot, t):
        await pilot.press("x")  # the merged forward is the newest message
        await pilot.press("k", "x")
        await pilot.pause()
        notices = w.notices()
        assert [n.message for n in notices] == [
            "the forwarded messages are not included in this record (JsonMsgKey k-9[b]␛[31m)",
            "nothing to expand",
        ]
        assert not any(n.markup for n in notices)
        assert t.cursor_message is not None and t.cursor_message.seq == 1002


async def test_resize_rewraps_and_keeps_the_top_message_in_place() -> None:
    w = world(400)
    async with running(w) as (pilot, t):
        await pilot.press("pageup", "pageup")
        await settle(pilot)
        before, row = top_id(t)
        # The cursor on the top message: holding the top keeps the cursor on screen too (a
        # cursor the re-wrap would push off the screen is scrolled back: test_narrow.py).
        t.set_cursor(t.row_layout.index.find(MESSAGES, t.row_layout.index.row_at(t.top_line)[0],
                                             1), reveal=False)
        chosen = t.cursor_message
        height = t.virtual_size.height
        await pilot.resize_terminal(60, 40)
        await settle(pilot)
        assert t.virtual_size.height > height  # long messages wrap into more lines
        assert all(len(line.rstrip()) <= t.scrollable_content_region.width for line in screen(t))
        assert top_id(t) == (before, row) and t.cursor_message is chosen


async def test_swap_timeline_reads_the_other_side_from_its_newest_end() -> None:
    w = world(100)
    async with running(w) as (pilot, t):
        t.swap_timeline(w.make(PEER, ME))
        await settle(pilot)
        assert t.timeline.query.account == PEER
        assert ids_on_screen(t)[-1] == "m0099"
        # The colours follow the side: the queried account is "self".
        line_no = next(y for y, s in enumerate(screen(t)) if "m0099" in s)
        sender = next(seg for seg in t.render_line(line_no) if seg.text.strip() == PEER)
        other = next(y for y, s in enumerate(screen(t)) if "m0098" in s)
        other_sender = next(seg for seg in t.render_line(other) if seg.text.strip() == ME)
        assert sender.style != other_sender.style


async def test_a_huge_insert_is_measured_on_screen_first_and_the_rest_later_in_place(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transcript_widget, "BACKGROUND_PAUSE", 3600)  # slices run when we say
    w = world(1200, page_size=5000, page_cap=10_000_000)  # the newest page is the whole window
    async with running(w, size=(70, 30)) as (_pilot, t):
        assert w.gate.calls == 1 and t.timeline.complete
        assert ids_on_screen(t)[-1] == "m1199"
        index = t.row_layout.index
        assert all(index.is_exact(row) for row in t.visible_rows())
        assert t.row_layout.pending
        before = top_id(t)
        for _ in range(1000):
            if not t.row_layout.pending:
                break
            t.measure_slice()
            assert top_id(t) == before  # corrected heights above do not move the view
        assert not t.row_layout.pending
        ids = [m.group(3) for line in everything_drawn(t) if (m := HEAD.match(line))]
        assert ids == w.ids


# -- the line index ---------------------------------------------------------------------------


def test_line_index_finds_rows_by_line_and_splices() -> None:
    index = LineIndex()
    index.splice(0, 0, [0, 0, 2], [5, 5, -1], [1, 3, 1], b"\1\1\1")
    assert index.total == 5
    assert [index.row_at(y) for y in range(5)] == [(0, 0), (1, 0), (1, 1), (1, 2), (2, 0)]
    index.splice(0, 0, [0, 0], [1, 1], [2, 2], b"\0\1")  # two rows inserted above
    assert index.total == 9 and index.start(2) == 4 and index.row_at(4) == (2, 0)
    assert index.first_inexact() == 0 and index.first_inexact(1) is None
    index.splice(1, 2, [3], [-1], [1], b"\1")  # two rows replaced by one
    assert [index.height(i) for i in range(len(index))] == [2, 1, 3, 1]
    assert index.total == 7 and index.find(bytes([2]), 0, 1) == 3
    assert index.rows_of(0) == [0, 2] and index.count(3) == 1
    assert index.measured(0, 4, 9) and index.is_exact(0)
    index.resum(0)
    assert index.total == 9 and index.start(1) == 4

