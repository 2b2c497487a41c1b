"""Shared pieces of the inspector and export-dialog tests: a conversation behind the sandbox
(mock transport, no socket) and the app built through the real factory."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from textual.notifications import Notify
from textual.pilot import Pilot

from roamtui.sandbox import ListStore, SandboxService, demo_connection
from roamtui.ui.app import RoamApp
from roamtui.ui.factory import IN_PROCESS_ENDPOINT, make_app
from roamtui.ui.screens.browse import BrowseScreen
from roamtui.ui.transcript import Transcript

T0 = 1_700_000_000  # 2023-11-14 22:13:20 UTC, 2023-11-15 06:13:20 in Shanghai
ACCOUNT, PEER = "cust_7", "agent_3"
ZONE = ZoneInfo("Asia/Shanghai")


def text_body(text: str) -> list[dict[str, Any]]:
    return [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]


def record(i: int, t: int, *, body: list[dict[str, Any]] | None = None, text: str | None = None,
           flag_bits: int = 0, is_peer_read: int = 0, **extra: Any) -> dict[str, Any]:
    """A message as the service stores it; ``i`` makes MsgSeq, MsgRandom and MsgKey unique."""
    sender, receiver = (ACCOUNT, PEER) if i % 2 else (PEER, ACCOUNT)
    return {
        "From_Account": sender, "To_Account": receiver, "MsgSeq": 1000 + i,
        "MsgRandom": 7_000_000 + i, "MsgTimeStamp": t, "MsgFlagBits": flag_bits,
        "IsPeerRead": is_peer_read, "MsgKey": f"{1000 + i}_{7_000_000 + i}_{t}",
        "MsgBody": body if body is not None else text_body(text or f"message {i}"),
        **extra,
    }


def chatter(n: int, *, start: int = T0, step: int = 60) -> list[dict[str, Any]]:
    """``n`` plain messages, one every ``step`` seconds, every seventh one recalled."""
    return [record(i, start + i * step, flag_bits=8 if i % 7 == 3 else 0) for i in range(n)]


class Gate(httpx.AsyncBaseTransport):
    """Passes requests to the sandbox; once closed, holds them until opened again."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.open = asyncio.Event()
        self.open.set()
        self.held = 0

    def close_gate(self) -> None:
        self.open.clear()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not self.open.is_set():
            self.held += 1
            await self.open.wait()
        return await self.inner.handle_async_request(request)


def build_app(
    records: list[dict[str, Any]],
    window: tuple[int, int],
    **service_options: Any,
) -> tuple[RoamApp, SandboxService, Gate]:
    """The app opened straight on the conversation, served by a sandbox holding ``records``."""
    service = SandboxService(ListStore({(ACCOUNT, PEER): records}), **service_options)
    gate = Gate(service.mock_transport())
    app = make_app(
        connection=demo_connection(IN_PROCESS_ENDPOINT),
        account=ACCOUNT,
        peer=PEER,
        window=window,
        tz=ZONE,
        transport=gate,
        clock=lambda: float(window[1]),
        max_rps=200,
    )
    return app, service, gate


class Notices:
    """Collects the notifications the app shows (through the public message hook)."""

    def __init__(self) -> None:
        self.seen: list[Notify] = []

    def __call__(self, message: object) -> None:
        if isinstance(message, Notify):
            self.seen.append(message)

    @property
    def texts(self) -> list[str]:
        return [n.notification.message for n in self.seen]


async def until(pilot: Pilot[Any], predicate: Callable[[], bool], *, rounds: int = 400) -> None:
    """Let the app run until ``predicate`` holds (a bounded number of turns, no wall clock)."""
    for _ in range(rounds):
        if predicate():
            return
        await pilot.pause()
    raise AssertionError("the app never reached the expected state")


async def opened(pilot: Pilot[Any]) -> Transcript:
    """The transcript once its first page is in and the cursor sits on the newest message."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, BrowseScreen))
    transcript = app.screen.query_one(Transcript)
    await until(pilot, lambda: transcript.cursor_message is not None)
    return transcript
