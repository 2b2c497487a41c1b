"""Helpers for the app-shell tests (imported as `shellkit`): a fixed clock and zone, the
in-process sandbox, a transport that fails on demand, and a notice recorder.

Everything runs through `roamtui.factory.make_app` with the sandbox's mock transport: no socket,
no wall clock in what is asserted or pictured.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from textual.pilot import Pilot

from roamtui.im.client import Connection
from roamtui.im.limiter import RateLimiter
from roamtui.sandbox import Dataset, SandboxService, demo_connection
from roamtui.settings.recent import RecentQueries
from roamtui.ui.app import RoamApp
from roamtui.ui.factory import IN_PROCESS_ENDPOINT, make_app

#: 2020-03-20 10:00:00 in Asia/Shanghai: the end of every test dataset and "now" for the app.
END = 1584669600
SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEK = 7 * 86400


def clock() -> float:
    return float(END)


class FailingTransport(httpx.AsyncBaseTransport):
    """Answers the first `failures` calls with a service error, then passes calls through."""

    def __init__(self, inner: httpx.AsyncBaseTransport, failures: int, code: int = 60006) -> None:
        self.inner = inner
        self.failures = failures
        self.code = code
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if self.failures > 0:
            self.failures -= 1
            await request.aread()
            info = "injected [b]x[/b]"  # markup in the service's text must stay text
            body = {"ActionStatus": "FAIL", "ErrorCode": self.code, "ErrorInfo": info}
            return httpx.Response(200, content=json.dumps(body).encode())
        return await self.inner.handle_async_request(request)


@dataclass
class Sandbox:
    """A generated dataset served in-process, and the app's view of it."""

    dataset: Dataset
    service: SandboxService
    transport: httpx.AsyncBaseTransport
    account: str
    peer: str

    def messages(self, account: str | None = None, peer: str | None = None) -> list[dict[str, Any]]:
        """The messages of the conversation in the default window, oldest first."""
        a, b = account or self.account, peer or self.peer
        view = self.dataset.messages_between(a, b, END - WEEK, END)
        return [self.dataset.message_obj(record.index) for record in view]


def make_sandbox(messages: int = 1500, *, failures: int = 0, seed: int = 0) -> Sandbox:
    dataset = Dataset(seed=seed, messages=messages, end_time=END)
    service = SandboxService(dataset)
    transport: httpx.AsyncBaseTransport = service.mock_transport()
    if failures:
        transport = FailingTransport(transport, failures)
    account, peer = dataset.conversations[0]
    return Sandbox(dataset, service, transport, account, peer)


def build_app(
    sandbox: Sandbox | None = None,
    *,
    open_transcript: bool = True,
    connection: Connection | None = None,
    recent: RecentQueries | None = None,
    **options: Any,
) -> RoamApp:
    """The app as `roamtui demo` makes it, over `sandbox`, at the fixed clock and zone."""
    box = sandbox if sandbox is not None else make_sandbox()
    options.setdefault("show_endpoint", False)  # as the demo: no loopback host in the header
    # Each app its own limiter: an earlier test's 60007 answers (storms, quotas) cut the
    # process-wide one, and its back-off would show in this app's status bar.
    options.setdefault("limiter", RateLimiter())
    return make_app(
        connection=connection if connection is not None else demo_connection(IN_PROCESS_ENDPOINT),
        account=box.account if open_transcript else None,
        peer=box.peer if open_transcript else None,
        window=(END - WEEK, END) if open_transcript else None,
        tz=SHANGHAI,
        transport=box.transport,
        profile_name="demo",
        recent=recent,
        clock=clock,
        **options,
    )


async def settle(pilot: Pilot[Any], rounds: int = 30) -> None:
    """Wait until no worker is running and the screen has caught up (no sleeps)."""
    app = pilot.app
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(worker.is_running for worker in app.workers):
            await pilot.pause()
            return


@dataclass
class Notices:
    """Every notification the app raised: (message, severity, markup)."""

    seen: list[tuple[str, str, bool]] = field(default_factory=list)

    def texts(self, severity: str | None = None) -> list[str]:
        return [m for m, s, _ in self.seen if severity is None or s == severity]


def record_notices(app: RoamApp) -> Notices:
    notices = Notices()
    original: Callable[..., Any] = app.notify

    def notify(message: str, *args: Any, **kwargs: Any) -> Any:
        notices.seen.append(
            (str(message), str(kwargs.get("severity", "information")), kwargs.get("markup", True))
        )
        return original(message, *args, **kwargs)

    app.notify = notify  # type: ignore[method-assign]
    return notices
