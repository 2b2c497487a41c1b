"""Start-up: what is held back until the first frame comes back afterwards, and works meanwhile.

The app opens on its transcript before building the `:` prompt, and tells the factory when its
first screen is drawn so that garbage collection, held off while starting, runs again.
"""

from __future__ import annotations

import asyncio
import gc

import httpx
import pytest
from shellkit import FailingTransport, build_app, make_sandbox, settle
from textual.widgets import Input

from roamtui.cli.browse import _collection_held
from roamtui.ui.app import RoamApp
from roamtui.ui.screens.browse import BrowseScreen
from roamtui.ui.screens.help import HelpScreen
from roamtui.ui.screens.query import QueryScreen
from roamtui.ui.transcript import Transcript

SIZE = (120, 40)


class GatedTransport(httpx.AsyncBaseTransport):
    """Holds every call until `gate` is set: the first page is as slow as the test wants."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.gate = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self.gate.wait()
        return await self.inner.handle_async_request(request)


class StartLog:
    """Records each `on_started` call with what the screen showed at that moment."""

    def __init__(self) -> None:
        self.app: RoamApp | None = None
        self.seen: list[str] = []

    def __call__(self) -> None:
        assert self.app is not None
        screen = self.app.screen
        if isinstance(screen, BrowseScreen):
            message = screen.query_one(Transcript).cursor_message
            self.seen.append("no message" if message is None else f"message {message.key}")
        else:
            self.seen.append(type(screen).__name__)


async def test_on_started_runs_once_when_the_first_messages_are_drawn() -> None:
    box = make_sandbox()
    log = StartLog()
    app = log.app = build_app(box, on_started=log)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        newest = box.messages()[-1]["MsgKey"]
        assert log.seen == [f"message {newest}"]
        await pilot.press("k", "k")
        await settle(pilot)
        assert len(log.seen) == 1


async def test_on_started_runs_when_the_query_screen_is_drawn() -> None:
    log = StartLog()
    app = log.app = build_app(make_sandbox(), open_transcript=False, on_started=log)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, QueryScreen)
        assert log.seen == ["QueryScreen"]


async def test_on_started_runs_when_the_first_page_fails() -> None:
    log = StartLog()
    box = make_sandbox()
    box.transport = FailingTransport(box.transport, 1, code=70020)  # stops: no retry
    app = log.app = build_app(box, on_started=log)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert log.seen == ["no message"]


async def test_command_prompt_takes_keys_typed_before_it_was_built() -> None:
    box = make_sandbox()
    gated = GatedTransport(box.transport)
    box.transport = gated
    app = build_app(box)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, BrowseScreen)
        assert not app.screen.query("#command")  # no messages yet: the prompt is not built
        await pilot.press("colon", *"help", "enter")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        gated.gate.set()
        await pilot.press("escape")
        await settle(pilot)
        prompt = app.screen.query_one("#command", Input)
        assert prompt.value == "" and not prompt.has_class("-open")


@pytest.mark.parametrize("enabled_before", [True, False])
def test_collection_is_back_as_it_was_however_the_start_ends(enabled_before: bool) -> None:
    was = gc.isenabled()
    try:
        (gc.enable if enabled_before else gc.disable)()
        with pytest.raises(RuntimeError), _collection_held():
            assert not gc.isenabled()
            raise RuntimeError("the app failed before its first frame")
        assert gc.isenabled() is enabled_before
        with _collection_held() as resume:
            resume()
            assert gc.isenabled() is enabled_before
        assert gc.isenabled() is enabled_before
    finally:
        (gc.enable if was else gc.disable)()
