"""Helpers of the search UI tests (imported as `searchkit`): a crafted conversation served by the
in-process sandbox behind a valve that can hold calls back, a host app with the browse screen's
search pane around a transcript, and a handle on the parts a user looks at.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta, timezone
from itertools import pairwise
from typing import Any

import httpx
from rich.style import Style
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from roamtui.history.timeline import Timeline
from roamtui.im.client import ImClient
from roamtui.im.limiter import RateLimiter
from roamtui.im.model import message_obj
from roamtui.im.roam import RoamQuery
from roamtui.sandbox import ListStore, SandboxService, demo_connection
from roamtui.ui.search_controller import SearchPane
from roamtui.ui.transcript import Transcript
from roamtui.ui.transcript.strips import GUTTER
from roamtui.ui.widgets.filter_view import FilterView
from roamtui.ui.widgets.find_bar import FindBar

TZ = timezone(timedelta(hours=8))
T0 = 1_584_712_800
ME, PEER = "alice", "bob"
N = 300
SIZE = (110, 30)


def elem(kind: str, **content: Any) -> dict[str, Any]:
    return {"MsgType": kind, "MsgContent": content}


NESTED = message_obj(sender=PEER, receiver=ME, time=T0 - 500, text="the parcel was torn")
SPECIAL: dict[int, dict[str, Any]] = {
    10: {"text": "my refund for order E123 please"},
    40: {"text": "i said something awful", "flag_bits": 8},
    60: {"body": [elem("TIMFileElem", FileName="invoice.pdf", FileSize=122_880)]},
    61: {"body": [elem("TIMLocationElem", Desc="Shenzhen office", Latitude=22.54,
                       Longitude=113.93)]},
    62: {"body": [elem("TIMCustomElem", Desc="order card", Data="{}")]},
    63: {"body": [elem("TIMRelayElem", Title="Chat history of Li", MsgNum=1,
                       MsgList=[NESTED])]},
    120: {"text": "REFUND now"},
    280: {"text": "the refund arrived"},
    285: {"text": "oops wrong chat", "flag_bits": 8},
    290: {"text": "Refund policy?"},
    292: {"body": [elem("TIMImageElem", ImageFormat=1, ImageInfoArray=[
        {"Type": 1, "Size": 1_887_437, "Width": 2448, "Height": 3264, "URL": "u"}])]},
    295: {"text": "[@click=app.quit] \x1b[31mred\x1b[0m bell\x07"},
}


def conversation() -> list[dict[str, Any]]:
    out = []
    for i in range(N):
        sender, receiver = (ME, PEER) if i % 2 else (PEER, ME)
        fields: dict[str, Any] = {"text": f"line {i:04d} about nothing"}
        fields.update(SPECIAL.get(i, {}))
        out.append(message_obj(sender=sender, receiver=receiver, time=T0 + 30 * i,
                               seq=1000 + i, random=i + 1, **fields))
    return out


MESSAGES = conversation()


def key_of(i: int) -> str:
    return str(MESSAGES[i]["MsgKey"])


class Valve(httpx.AsyncBaseTransport):
    """The sandbox behind a valve: ``hold()`` stops calls, ``release(n)`` lets n (or all) pass."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.budget: int | None = None
        self.calls = 0
        self._changed = asyncio.Event()

    def hold(self) -> None:
        self.budget = 0

    def release(self, calls: int | None = None) -> None:
        self.budget = calls
        self._changed.set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        while self.budget is not None and self.budget <= 0:
            self._changed.clear()
            await self._changed.wait()
        if self.budget is not None:
            self.budget -= 1
        self.calls += 1
        return await self.inner.handle_async_request(request)


def make_timeline(valve: Valve) -> Timeline:
    client = ImClient(demo_connection("http://127.0.0.1:9"), transport=valve, max_retries=0,
                      limiter=RateLimiter(200))
    query = RoamQuery(ME, PEER, T0, T0 + 30 * N + 60, page_size=20)
    return Timeline(client, query, TZ)


class Host(App[None]):
    def __init__(self, timeline: Timeline) -> None:
        super().__init__()
        self.timeline = timeline

    def compose(self) -> ComposeResult:
        with SearchPane(id="search"):
            yield Transcript(self.timeline, TZ, id="transcript")

    def on_mount(self) -> None:
        self.query_one(Transcript).focus()


class Parts:
    def __init__(self, pilot: Pilot[Any], valve: Valve | None = None) -> None:
        self.pilot = pilot
        self._valve = valve
        self.app = pilot.app
        screen = self.app.screen
        self.pane = screen.query_one(SearchPane)
        self.bar = screen.query_one(FindBar)
        self.transcript = screen.query_one(Transcript)
        self.filter = screen.query_one(FilterView)

    @property
    def valve(self) -> Valve:
        assert self._valve is not None, "this app has no valve"
        return self._valve

    @property
    def counter(self) -> str:
        return self.bar.counter_text

    @property
    def cursor_key(self) -> str | None:
        msg = self.transcript.cursor_message
        return None if msg is None else msg.key

    async def until(self, cond: Callable[[], bool], what: str) -> None:
        """Let the app run until ``cond`` holds (bounded; no timing is asserted)."""
        for _ in range(1500):
            if cond():
                await self.pilot.pause()  # and let what it set off land (a cursor move)
                return
            await self.pilot.pause(0.01)
        raise AssertionError(f"never happened: {what}; counter={self.counter!r}, "
                             f"status={self.bar.status_text!r}")

    async def settle(self) -> None:
        for _ in range(20):
            await self.app.workers.wait_for_complete()
            await self.pilot.pause()
            if not any(w.is_running for w in self.app.workers):
                return

    async def find(self, text: str, *, valid: bool = True) -> None:
        """``/``, type ``text`` (replacing what was there) and wait for the debounced search."""
        # In the input "/" is text: ctrl+f selects what was typed, so typing replaces it.
        await self.pilot.press("ctrl+f" if self.bar.input.has_focus else "slash")
        for ch in text:
            if ch.isascii():
                await self.pilot.press(ch)
            else:  # the pilot types ASCII keys only; this is what typing the character does
                self.bar.input.insert_text_at_cursor(ch)
        await self.until(lambda: self.bar.query_now.text == text, "typed")
        query = self.bar.query_now
        if not valid:
            await self.until(lambda: self.bar.invalid, "flagged invalid")
            return
        await self.until(lambda: self.pane.session.results is not None
                         and self.pane.session.matcher is not None
                         and self.pane.session.matcher.query == query, "query in force")


@asynccontextmanager
async def running(*, hold: bool = False) -> AsyncIterator[Parts]:
    valve = Valve(SandboxService(ListStore({(ME, PEER): MESSAGES}), rate_limit=None)
                  .mock_transport())
    app = Host(make_timeline(valve))
    async with app.run_test(size=SIZE) as pilot:
        parts = Parts(pilot, valve)
        await parts.settle()
        assert not parts.transcript.timeline.complete  # only the newest pages are loaded
        if hold:
            valve.hold()
        yield parts


def screen_text(widget: Transcript | FilterView) -> list[str]:
    """The lines on screen; a transcript's without its gutter (the mark column)."""
    height = widget.scrollable_content_region.height
    skip = GUTTER if isinstance(widget, Transcript) else 0
    return ["".join(seg.text for seg in widget.render_line(y))[skip:] for y in range(height)]


def styles_of(widget: Transcript, word: str) -> list[tuple[Style, Style]]:
    """(style of ``word``, style of the text just before it) wherever it is drawn alone."""
    out = []
    for y in range(widget.scrollable_content_region.height):
        segments = list(widget.render_line(y))
        for before, seg in pairwise(segments):
            if seg.text == word:
                out.append((seg.style or Style(), before.style or Style()))
    return out


class Failing(httpx.AsyncBaseTransport):
    """Every call answered with a service error that stops the fetch."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ActionStatus": "FAIL", "ErrorCode": 90001,
                                         "ErrorInfo": "bad json"})
