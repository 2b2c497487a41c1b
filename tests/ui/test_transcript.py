"""The transcript widget driven like a user would, over a timeline on the in-process sandbox."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from typing import Any

import httpx
import pytest
from textual.app import App, ComposeResult
from textual.message import Message as TextualMessage
from textual.pilot import Pilot

from roamtui.history.rows import EdgeRow
from roamtui.history.timeline import Timeline
from roamtui.im.client import ImClient
from roamtui.im.limiter import RateLimiter
from roamtui.im.model import message_obj
from roamtui.im.roam import RoamQuery
from roamtui.sandbox import ListStore, SandboxService, demo_connection
from roamtui.ui import render
from roamtui.ui.widgets import transcript_view
from roamtui.ui.widgets.transcript import Transcript
from roamtui.ui.widgets.transcript_layout import LineIndex

TZ = timezone(timedelta(hours=8))
T0 = 1_584_712_800  # 2020-03-20 22:00:00 +08:00: the conversation crosses midnight
ME, PEER = "alice", "bob"
HEAD = re.compile(r"^(\d\d:\d\d:\d\d) (\S+)\s+(m\d{4})\b")


def conversation(n: int, extra: dict[int, dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """``n`` messages "m0000".. every 31 s, with a same-second burst every 40 messages."""
    out = []
    t = T0
    for i in range(n):
        t += 0 if i % 40 in (1, 2, 3) else 31
        sender, receiver = (ME, PEER) if i % 3 else (PEER, ME)
        words = " ".join(f"w{i}" for _ in range(i % 7 * 6))
        obj = message_obj(sender=sender, receiver=receiver, time=t, text=f"m{i:04d} {words}",
                          seq=1000 + i, random=7 * i + 1, is_peer_read=i % 4 == 0)
        obj.update((extra or {}).get(i, {}))
        out.append(obj)
    return out


class Gate(httpx.AsyncBaseTransport):
    """The sandbox behind a switch: calls wait while closed, and can be made to fail."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.open = asyncio.Event()
        self.open.set()
        self.failing = False
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self.open.wait()
        self.calls += 1
        if self.failing:
            return httpx.Response(502, text="bad gateway")
        return await self.inner.handle_async_request(request)


@dataclass
class World:
    messages: list[dict[str, Any]]
    gate: Gate
    make: Callable[[str, str], Timeline]
    seen: list[TextualMessage] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [str(m["MsgBody"][0]["MsgContent"]["Text"])[:5] for m in self.messages]


def world(n: int = 400, extra: dict[int, dict[str, Any]] | None = None,
          page_size: int = 40, page_cap: int = 13_000) -> World:
    messages = conversation(n, extra)
    service = SandboxService(ListStore({(ME, PEER): messages}), rate_limit=None,
                             page_cap_bytes=page_cap)
    gate = Gate(service.mock_transport())
    limiter = RateLimiter(200)
    lo, hi = T0, messages[-1]["MsgTimeStamp"] + 60

    def make(account: str, peer: str) -> Timeline:
        client = ImClient(demo_connection("http://127.0.0.1:9"), transport=gate, max_retries=0,
                          limiter=limiter)
        return Timeline(client, RoamQuery(account, peer, lo, hi, page_size=page_size), TZ)

    return World(messages, gate, make)


class Host(App[None]):
    def __init__(self, w: World) -> None:
        super().__init__()
        self.w = w

    def compose(self) -> ComposeResult:
        yield Transcript(self.w.make(ME, PEER), TZ)

    def on_mount(self) -> None:
        self.query_one(Transcript).focus()


@asynccontextmanager
async def running(w: World, size: tuple[int, int] = (120, 40)) -> AsyncIterator[
        tuple[Pilot[None], Transcript]]:
    app = Host(w)
    async with app.run_test(size=size, message_hook=w.seen.append) as pilot:
        await settle(pilot)
        yield pilot, app.query_one(Transcript)


async def settle(pilot: Pilot[None]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()


def screen(t: Transcript) -> list[str]:
    return [t.render_line(y).text for y in range(t.viewport_height)]


def ids_on_screen(t: Transcript) -> list[str]:
    return [m.group(3) for line in screen(t) if (m := HEAD.match(line))]


def top_id(t: Transcript) -> tuple[str, int]:
    """The first message id on screen and the screen line it is drawn on."""
    for y, line in enumerate(screen(t)):
        if m := HEAD.match(line):
            return m.group(3), y
    raise AssertionError("no message on screen")


async def scroll_to_top(pilot: Pilot[None], t: Transcript) -> int:
    """PgUp until the start of the window is on screen; returns the presses needed."""
    for presses in range(200):
        if t.top_line == 0 and t.timeline.row(0) == EdgeRow("start"):
            return presses
        await pilot.press("pageup")
        await settle(pilot)
    raise AssertionError("never reached the start of the window")


def everything_drawn(t: Transcript) -> list[str]:
    """Every line of the transcript as drawn, top to bottom, by scrolling through it."""
    lines: dict[int, str] = {}
    total = t.virtual_size.height
    for top in range(0, total, t.viewport_height):
        t.scroll_to_line(top)
        for y, text in enumerate(screen(t)):
            if t.top_line + y < total:
                lines[t.top_line + y] = text
    return [lines[i] for i in range(total)]


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
        assert moved[-1].time == w.messages[-1]["MsgTimeStamp"]
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


async def scroll_to_gap(pilot: Pilot[None], t: Transcript) -> None:
    for _ in range(20):
        await pilot.press("pageup")
        await settle(pilot)
        if t.timeline.gaps and t.timeline.gaps[0].state == "error":
            return
    raise AssertionError("the gap never failed")


# -- what messages look like ------------------------------------------------------------------


HOSTILE = {
    5: "[@click=app.quit]click me[/] [b]not bold[/b]",
    6: "\x1b[31mred\x1b[0m\x07 bell \u202eevil",
    7: "y" * 5000,
}


async def test_hostile_text_is_shown_inert() -> None:
    n = 12
    extra = {i: {"MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]}
             for i, text in HOSTILE.items()}
    w = world(n, extra)
    async with running(w) as (pilot, t):
        drawn = everything_drawn(t)
        joined = "\n".join(drawn)
        assert "[@click=app.quit]click me[/] [b]not bold[/b]" in joined
        assert "␛[31mred␛[0m␇ bell ⟨U+202E⟩evil" in joined
        assert "\x1b" not in joined and "\x07" not in joined
        long_lines = [line for line in drawn if "yyyy" in line]
        assert len(long_lines) == render.FOLD_AT
        assert any("more lines (x to expand)" in line for line in drawn)
        for y in range(t.viewport_height):  # nothing clickable or linked reached the screen
            for segment in t.render_line(y):
                assert segment.style is None or not segment.style.meta
        await pilot.click(Transcript, offset=(40, 5))
        assert pilot.app.is_running


async def test_recalled_messages_have_a_badge_and_their_own_style() -> None:
    w = world(10, {8: {"MsgFlagBits": 8}})
    async with running(w) as (_pilot, t):
        line_no, line = next((y, s) for y, s in enumerate(screen(t)) if "m0008" in s)
        assert render.BADGE_TEXT in line
        styles = [seg.style for seg in t.render_line(line_no) if "m0008" in seg.text]
        assert styles and all(s is not None and s.strike for s in styles)
        plain = next(y for y, s in enumerate(screen(t)) if "m0007" in s)
        assert not any(seg.style and seg.style.strike for seg in t.render_line(plain))
        stats = [m for m in w.seen if isinstance(m, Transcript.StatsChanged)][-1]
        assert stats.recalled == 1


async def test_placeholders_and_merged_forward_expand_in_place() -> None:
    inner = [message_obj(sender="carol", receiver="dave", time=T0 - 100 + i, text=f"inner {i}")
             for i in range(3)]
    for item in inner:
        del item["MsgKey"]
    extra = {
        4: {"MsgBody": [{"MsgType": "TIMFileElem", "MsgContent": {
            "FileName": "invoice.pdf", "FileSize": 122_880, "Url": "", "UUID": ""}}]},
        9: {"MsgBody": [{"MsgType": "TIMRelayElem", "MsgContent": {
            "Title": "evidence", "MsgNum": 3, "MsgList": inner}}]},
    }
    w = world(10, extra)
    async with running(w) as (pilot, t):
        text = "\n".join(screen(t))
        assert "[file invoice.pdf 120 KB]" in text
        assert "[merged forward: evidence · 3 msgs] ▸" in text
        assert t.cursor_message is not None and t.cursor_message.seq == 1009
        await pilot.press("x")
        text = "\n".join(screen(t))
        assert "▾" in text and all(f"carol: inner {i}" in text for i in range(3))
        assert "end of window" in screen(t)[-1] or "end of window" in text
        await pilot.press("x")
        assert "inner 0" not in "\n".join(screen(t))


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
        assert moved.time == message.time


async def test_day_and_hour_steps_jump_from_the_cursor() -> None:
    w = world(400)
    async with running(w) as (pilot, t):
        start = t.cursor_message
        assert start is not None
        await pilot.press("O")
        await settle(pilot)
        after = t.cursor_message
        assert after is not None
        assert start.time - 3600 <= after.time <= start.time - 3600 + 62


async def test_quick_steps_add_up_before_the_jumps_land() -> None:
    w = world(400)
    async with running(w) as (pilot, t):
        start = t.cursor_message
        assert start is not None
        w.gate.open.clear()  # the jumps cannot land until all three keys are pressed
        await pilot.press("O", "O", "O")
        w.gate.open.set()
        await settle(pilot)
        after = t.cursor_message
        assert after is not None
        assert start.time - 3 * 3600 <= after.time <= start.time - 3 * 3600 + 62


async def test_resize_rewraps_and_keeps_the_top_message_in_place() -> None:
    w = world(400)
    async with running(w) as (pilot, t):
        await pilot.press("pageup", "pageup")
        await settle(pilot)
        before, row = top_id(t)
        height = t.virtual_size.height
        await pilot.resize_terminal(60, 40)
        await settle(pilot)
        assert t.virtual_size.height > height  # long messages wrap into more lines
        assert all(len(line.rstrip()) <= t.scrollable_content_region.width for line in screen(t))
        assert top_id(t) == (before, row)


async def test_highlight_marks_matches() -> None:
    w = world(20)
    async with running(w) as (pilot, t):
        t.highlight = re.compile("m0017")
        await pilot.pause()
        y = next(y for y, s in enumerate(screen(t)) if "m0017" in s)
        plain_y = next(y for y, s in enumerate(screen(t)) if "m0016" in s)
        hit = [seg for seg in t.render_line(y) if seg.text == "m0017"]
        assert hit and hit[0].style != next(
            seg.style for seg in t.render_line(plain_y) if "m0016" in seg.text)


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
    monkeypatch.setattr(transcript_view, "BACKGROUND_PAUSE", 3600)  # slices run when we say
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

