"""Helpers of the key-storm test (imported as `stormkit`): a slow, faulty world and the checks
that must hold after every key.

The world: the in-process sandbox behind a transport that waits a random few to a hundred
milliseconds before each reply and sometimes fails it (HTTP 502, ErrorCode 91000, a reply cut
short, ErrorCode 60007), all drawn from one seed, so that an example replays the same way.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import dataclass
from typing import Any

import httpx
from shellkit import END, WEEK, Sandbox, build_app, settle
from textual import events
from textual.pilot import Pilot

from roamtui.history.timeline import MessageRow
from roamtui.sandbox import Dataset, SandboxService
from roamtui.ui.app import RoamApp
from roamtui.ui.screens.browse import BrowseScreen
from roamtui.ui.transcript import STATS_INTERVAL, Transcript
from roamtui.ui.transcript.index import MESSAGES
from roamtui.ui.widgets.status_bar import StatusBar


class SlowFaultyTransport(httpx.AsyncBaseTransport):
    """Latency and faults in front of a transport, drawn from ``seed``."""

    FAULTS = ("502", "91000", "truncated", "60007")

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        seed: int,
        *,
        latency: tuple[float, float] = (0.005, 0.12),
        fault_rate: float = 0.08,
    ) -> None:
        self.inner = inner
        self.rng = random.Random(f"storm:{seed}")
        self.latency = latency
        self.fault_rate = fault_rate
        self.calls = 0
        self.faults = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        delay = self.rng.uniform(*self.latency)
        fault = self.rng.choice(self.FAULTS) if self.rng.random() < self.fault_rate else None
        await asyncio.sleep(delay)
        if fault is None:
            return await self.inner.handle_async_request(request)
        self.faults += 1
        await request.aread()
        if fault == "502":
            return httpx.Response(502, content=b"<html>Bad Gateway</html>")
        if fault == "truncated":
            response = await self.inner.handle_async_request(request)
            body = await response.aread()
            return httpx.Response(200, content=body[: max(1, len(body) // 2)])
        code = int(fault)
        fail = {"ActionStatus": "FAIL", "ErrorCode": code, "ErrorInfo": "injected by the storm"}
        return httpx.Response(200, content=json.dumps(fail).encode())


@dataclass
class World:
    app: RoamApp
    transport: SlowFaultyTransport
    sandbox: Sandbox


def slow_world(seed: int, *, messages: int = 2500) -> World:
    """The app as `roamtui demo` makes it, over a slow and faulty sandbox."""
    dataset = Dataset(seed=seed % 7, messages=messages, end_time=END)
    service = SandboxService(dataset, rate_limit=None)
    transport = SlowFaultyTransport(service.mock_transport(), seed)
    account, peer = dataset.conversations[0]
    box = Sandbox(dataset, service, transport, account, peer)
    return World(build_app(box, max_rps=200), transport, box)


def check_alive(app: RoamApp, where: str) -> None:
    assert app.is_running, f"the app stopped after {where} (exit code {app.return_code})"


def check_transcript(app: RoamApp, where: str) -> None:
    """On the browse screen: rows agree with the timeline, the cursor is on a message row,
    and the status bar never calls a partial window complete."""
    screen = app.screen
    if not isinstance(screen, BrowseScreen):
        return
    transcript = screen.query_one(Transcript)
    layout = transcript.row_layout
    timeline = transcript.timeline
    index = layout.index
    assert len(index) == len(timeline), (
        f"after {where}: the transcript has {len(index)} rows, the timeline {len(timeline)}"
    )
    cursor = transcript.cursor_row
    if cursor is not None:
        assert 0 <= cursor < len(index), f"after {where}: cursor on row {cursor} of {len(index)}"
        assert index.kind(cursor) in MESSAGES, f"after {where}: cursor on a non-message row"
        assert isinstance(timeline.row(cursor), MessageRow)
    stats = screen.query_one(StatusBar).stats
    if stats.complete:
        assert timeline.complete, f"after {where}: status says complete, the window is partial"


async def check_counters(pilot: Pilot[Any], where: str) -> None:
    """Once the app is idle, the status bar counts what the timeline holds."""
    app = pilot.app
    await settle(pilot)
    await pilot.pause(STATS_INTERVAL * 1.5)  # the transcript reports its counts on a timer
    screen = app.screen
    if not isinstance(screen, BrowseScreen) or any(w.is_running for w in app.workers):
        return
    timeline = screen.query_one(Transcript).timeline
    stats = screen.query_one(StatusBar).stats
    assert stats.loaded == timeline.loaded_count, (
        f"after {where}: status bar says {stats.loaded} loaded, timeline holds "
        f"{timeline.loaded_count}"
    )
    assert stats.recalled == timeline.recalled_count, f"after {where}: recalled count differs"
    assert stats.complete == timeline.complete, f"after {where}: complete differs"


#: What a terminal sends for the named keys the storm uses (the rest are their own character).
CHARACTERS = {
    "slash": "/", "colon": ":", "minus": "-", "space": " ", "enter": "\r", "escape": "\x1b",
    "question_mark": "?", "ampersand": "&", "right_square_bracket": "]",
    "left_square_bracket": "[", "right_curly_bracket": "}", "left_curly_bracket": "{",
}


def burst(app: RoamApp, keys: tuple[str, ...]) -> None:
    """Post the keys at once, as the driver does with one read of the terminal."""
    for key in keys:
        character = CHARACTERS.get(key, key if len(key) == 1 else None)
        app.post_message(events.Key(key, character))


def window() -> tuple[int, int]:
    return END - WEEK, END
