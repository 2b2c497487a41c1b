"""Pictures of the main screens (pytest-textual-snapshot), 120×40 and 80×24.

Deterministic: a generated dataset with a fixed end, a fixed clock and zone (Asia/Shanghai),
every worker finished, no blinking cursor. Update with `pytest tests/ui/test_snapshots.py
--snapshot-update` and look at the SVGs before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from shellkit import SHANGHAI, Sandbox, build_app, make_sandbox, settle
from textual.pilot import Pilot
from textual.widgets import Input

from roamtui.history.timeparse import format_time
from roamtui.settings.recent import RecentQueries, RecentQuery
from roamtui.ui.screens.browse import BrowseScreen

Compare = Callable[..., bool]


async def _steady(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def _recalled_time(box: Sandbox) -> int:
    """A recalled message near the end of the window, with non-text elements around it."""
    messages = box.messages()
    recalled = [m for m in messages if m.get("MsgFlagBits") == 8]
    return int(recalled[-1]["MsgTimeStamp"])


def test_query_screen(snap_compare: Compare, tmp_path: Path) -> None:
    store = RecentQueries(tmp_path / "recent.json")
    store.remember(RecentQuery("cust_1002", "agent_bob", "-24h", "now", "UTC", "demo"))
    store.remember(RecentQuery("cust_1001", "agent_alice", "yesterday", "today", "Asia/Shanghai"))
    app = build_app(make_sandbox(), open_transcript=False, recent=store)

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.pause()
        screen = pilot.app.screen
        screen.query_one("#account", Input).value = "cust_1001"
        screen.query_one("#since", Input).value = "-3h"
        await pilot.press("ctrl+o")  # the missing peer is flagged next to its field
        await _steady(pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_transcript_with_recalled_messages_and_placeholders(snap_compare: Compare) -> None:
    box = make_sandbox()
    when = _recalled_time(box)
    app = build_app(box)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, BrowseScreen)
        screen.goto(format_time(when, SHANGHAI, "%Y-%m-%d %H:%M:%S"))
        await _steady(pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_transcript_at_80x24(snap_compare: Compare) -> None:
    app = build_app(make_sandbox())
    assert snap_compare(app, terminal_size=(80, 24), run_before=_steady)


def test_help_screen(snap_compare: Compare) -> None:
    app = build_app(make_sandbox())

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("f1")
        await _steady(pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
