"""The status bar names the budget of calls per second and this process's part (issue 20)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from shellkit import Sandbox, build_app, record_notices, settle
from textual.pilot import Pilot
from textual.widgets import Static

from roamtui.im.limiter import DEFAULT_RATE, shared_limiter
from roamtui.im.sharing import SharedSpec
from roamtui.sandbox import DEMO_SDKAPPID, demo_connection
from roamtui.settings.connection import Resolved
from roamtui.ui.factory import IN_PROCESS_ENDPOINT


@pytest.fixture(autouse=True)
def in_process_afterwards() -> Iterator[None]:
    yield
    shared_limiter(DEFAULT_RATE).share(None)  # the limiter is process-wide: leave it unshared


def shared(path: Path) -> Resolved:
    resolved = Resolved.given(demo_connection(IN_PROCESS_ENDPOINT), max_rps=40)
    return dataclasses.replace(
        resolved, rate_store="local", share=SharedSpec(DEMO_SDKAPPID, str(path))
    )


def stats_text(app: object) -> str:
    return str(app.screen.query_one("#status-stats", Static).render())  # type: ignore[attr-defined]


async def shows(pilot: Pilot[Any], app: object, text: str, seconds: float = 10.0) -> str:
    """The status bar's stats once they hold ``text`` (the field follows once a second)."""
    deadline = time.monotonic() + seconds
    while text not in (now := stats_text(app)) and time.monotonic() < deadline:
        await pilot.pause(0.1)
    return now


@pytest.mark.parametrize(("width", "shown"), [(160, "budget local shared 40/s · "),
                                               (120, "budget local 40/s")])
async def test_a_shared_budget_is_named_in_the_status_bar(
    sandbox: Sandbox, tmp_path: Path, width: int, shown: str
) -> None:
    app = build_app(sandbox, connection=shared(tmp_path / "budget.gcra"))
    async with app.run_test(size=(width, 30)) as pilot:
        await settle(pilot)
        text = await shows(pilot, app, shown)
        assert shown in text, text
        if width >= 150:
            assert "/s here" in text


async def test_a_budget_that_cannot_be_had_is_a_notice_and_in_process(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the runtime dir should be")
    app = build_app(sandbox, connection=shared(blocker / "budget.gcra"))
    notices = record_notices(app)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        assert "budget in-process 40/s" in await shows(pilot, app, "budget in-process 40/s")
        [notice] = [n for n in notices.texts("warning") if "local budget" in n]
        assert "cannot open the local budget" in notice and "its own budget" in notice


async def test_the_demo_alone_shows_no_budget(sandbox: Sandbox) -> None:
    app = build_app(sandbox)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        await pilot.pause(1.2)
        assert "budget" not in stats_text(app)


async def test_an_earlier_apps_back_off_does_not_show_in_a_new_app(sandbox: Sandbox) -> None:
    # Snapshot pictures showed `budget in-process 50/s ↓27.6/s` when an earlier test of the
    # process (a storm of 60007 answers) had cut the process-wide limiter: each test app has
    # its own (make_app's `limiter`), so no back-off it did not earn itself.
    process_wide = shared_limiter(DEFAULT_RATE)
    process_wide.rate_limited()
    try:
        app = build_app(sandbox)
        async with app.run_test(size=(160, 30)) as pilot:
            await settle(pilot)
            await pilot.pause(1.2)  # the budget field follows once a second
            assert "budget" not in stats_text(app)
    finally:
        process_wide.reset()
