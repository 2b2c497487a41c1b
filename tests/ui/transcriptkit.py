"""Helpers of the transcript widget tests: a conversation on the in-process sandbox behind a
switchable gate, a host app, and ways to read what the transcript draws."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta, timezone, tzinfo
from typing import Any

import httpx
from rich.color import Color as RichColor
from textual.app import App, ComposeResult
from textual.message import Message as TextualMessage
from textual.notifications import Notification, Notify
from textual.pilot import Pilot

from roamtui.history.rows import EdgeRow
from roamtui.history.timeline import Timeline
from roamtui.im.client import ImClient
from roamtui.im.limiter import RateLimiter
from roamtui.im.model import message_obj
from roamtui.im.roam import RoamQuery
from roamtui.sandbox import ListStore, SandboxService, demo_connection
from roamtui.ui.transcript import Transcript
from roamtui.ui.transcript.strips import GUTTER

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


def bursts(*spans: tuple[int, int]) -> list[dict[str, Any]]:
    """Messages "m0000".. in bursts separated by quiet stretches: each span is (seconds after T0
    of its first message, how many), its messages 31 s apart."""
    out: list[dict[str, Any]] = []
    for start, count in spans:
        for k in range(count):
            i = len(out)
            sender, receiver = (ME, PEER) if i % 3 else (PEER, ME)
            out.append(message_obj(sender=sender, receiver=receiver, time=T0 + start + 31 * k,
                                   text=f"m{i:04d}", seq=1000 + i, random=7 * i + 1))
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
    tz: tzinfo = TZ
    seen: list[TextualMessage] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [str(m["MsgBody"][0]["MsgContent"]["Text"])[:5] for m in self.messages]

    def last_at_or_before(self, t: int) -> str:
        return self.ids[max(i for i, m in enumerate(self.messages) if m["MsgTimeStamp"] <= t)]

    def first_at_or_after(self, t: int) -> str:
        return self.ids[min(i for i, m in enumerate(self.messages) if m["MsgTimeStamp"] >= t)]

    def notices(self) -> list[Notification]:
        return [m.notification for m in self.seen if isinstance(m, Notify)]


def world(n: int = 400, extra: dict[int, dict[str, Any]] | None = None,
          page_size: int = 40, page_cap: int = 13_000,
          messages: list[dict[str, Any]] | None = None, tz: tzinfo = TZ) -> World:
    """A conversation on the sandbox: ``messages``, or ``conversation(n, extra)``, shown in
    ``tz``; the window runs from T0 (or the first message, if earlier) to a minute after the
    last message."""
    messages = conversation(n, extra) if messages is None else messages
    service = SandboxService(ListStore({(ME, PEER): messages}), rate_limit=None,
                             page_cap_bytes=page_cap)
    gate = Gate(service.mock_transport())
    limiter = RateLimiter(200)
    lo, hi = min(T0, messages[0]["MsgTimeStamp"]), messages[-1]["MsgTimeStamp"] + 60

    def make(account: str, peer: str) -> Timeline:
        client = ImClient(demo_connection("http://127.0.0.1:9"), transport=gate, max_retries=0,
                          limiter=limiter)
        return Timeline(client, RoamQuery(account, peer, lo, hi, page_size=page_size), tz)

    return World(messages, gate, make, tz)


class Host(App[None]):
    def __init__(self, w: World, kind: type[Transcript] = Transcript) -> None:
        super().__init__()
        self.w = w
        self.kind = kind

    def compose(self) -> ComposeResult:
        yield self.kind(self.w.make(ME, PEER), self.w.tz)

    def on_mount(self) -> None:
        self.query_one(Transcript).focus()


@asynccontextmanager
async def running(w: World, size: tuple[int, int] = (120, 40),
                  kind: type[Transcript] = Transcript) -> AsyncIterator[
        tuple[Pilot[None], Transcript]]:
    app = Host(w, kind)
    async with app.run_test(size=size, message_hook=w.seen.append) as pilot:
        await settle(pilot)
        yield pilot, app.query_one(Transcript)


async def settle(pilot: Pilot[None]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()


def cursor_id(t: Transcript) -> str | None:
    message = t.cursor_message
    return None if message is None else message.text()[:5]


def screen(t: Transcript) -> list[str]:
    """The lines on screen without the gutter (the mark column, tested in test_marks_ui)."""
    return [t.render_line(y).text[GUTTER:] for y in range(t.viewport_height)]


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


async def scroll_to_gap(pilot: Pilot[None], t: Transcript) -> None:
    for _ in range(20):
        await pilot.press("pageup")
        await settle(pilot)
        if t.timeline.gaps and t.timeline.gaps[0].state == "error":
            return
    raise AssertionError("the gap never failed")


def marks(t: Transcript, y: int) -> list[tuple[int, str]]:
    """The search hits drawn on screen line ``y``: (column after the gutter, text) of each
    marked segment."""
    out, x = [], -GUTTER
    for segment in t.render_line(y):
        if segment.style is not None and segment.style.reverse:
            out.append((x, segment.text))
        x += segment.cell_length
    return out


def contrast(a: RichColor, b: RichColor) -> float:
    """WCAG contrast ratio of two colours as Rich would draw them."""
    def luminance(color: RichColor) -> float:
        channels = [c / 255 for c in color.get_truecolor()]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)
