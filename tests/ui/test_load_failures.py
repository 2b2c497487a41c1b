"""A reply that breaks loading stops it: the transcript shows the failure and waits for `r`;
nothing calls the service again by itself (a deep-JSON reply used to make the TUI re-call
~40 times a second, burning the app's shared quota)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from shellkit import Sandbox, build_app, make_sandbox, record_notices, settle

from roamtui.history.timeline import GapRow
from roamtui.ui.transcript import Transcript

HOSTILE = {
    "deep JSON": b"[" * 100_000,
    "deep object": b'{"a":' * 50_000,
    "not JSON": b"<html>proxy error</html>",
}


class Hostile(httpx.AsyncBaseTransport):
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # Loads only: the transcript's one nickname lookup (portrait_get) is not a load.
        self.calls += request.url.path.endswith("admin_getroammsg")
        await request.aread()
        return httpx.Response(200, content=self.body)


def gap_states(transcript: Transcript) -> list[str]:
    tl = transcript.timeline
    return [row.gap.state for i in range(len(tl)) if isinstance(row := tl.row(i), GapRow)]


@pytest.mark.parametrize("name", list(HOSTILE))
async def test_a_hostile_reply_stops_loading_until_r(name: str) -> None:
    box = make_sandbox(200)
    hostile = Hostile(HOSTILE[name])
    app = build_app(Sandbox(box.dataset, box.service, hostile, box.account, box.peer))
    notices = record_notices(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, rounds=200)
        first = hostile.calls
        assert 1 <= first <= 5  # one load: its attempts, never a loop
        await asyncio.sleep(1.0)
        await settle(pilot)
        assert hostile.calls == first, "the app called the service again by itself"
        transcript = app.screen.query_one(Transcript)
        assert gap_states(transcript) == ["error"]
        assert any("press r to retry" in text for text in notices.texts("error"))
        assert app.is_running
        await pilot.press("r")
        await settle(pilot, rounds=200)
        again = hostile.calls
        assert first < again <= 2 * first
        await asyncio.sleep(0.5)
        await settle(pilot)
        assert hostile.calls == again
        assert app.is_running
