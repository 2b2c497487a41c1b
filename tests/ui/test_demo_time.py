"""`roamtui demo --fixed-time`: the same screen whatever the wall clock says (screenshots)."""

from __future__ import annotations

import time
from datetime import UTC

import pytest
from shellkit import settle

from roamtui.cli import build_parser
from roamtui.cli.browse import StartError, demo_clock
from roamtui.cli.parsers import FIXED_DEMO_TIME
from roamtui.ui.factory import demo_app
from roamtui.ui.widgets.status_bar import PositionLine


def test_the_flag_alone_stops_the_clock_at_the_documented_time() -> None:
    build = build_parser()
    given = build.parse_args(["demo", "--fixed-time", "--tz", "UTC"])  # no T
    assert given.fixed_time == FIXED_DEMO_TIME
    clock = demo_clock(given.fixed_time, UTC)
    assert clock is not None and clock() == 1715018400.0
    assert demo_clock(None, UTC) is None
    assert build.parse_args(["demo"]).fixed_time is None


def test_a_bad_fixed_time_is_one_line() -> None:
    with pytest.raises(StartError, match="--fixed-time"):
        demo_clock("next tuesday-ish", UTC)


async def _screen_text(wall: float, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(time, "time", lambda: wall)
    with demo_app(messages=400, tz=UTC, in_process=True,
                  clock=demo_clock("2024-05-06 18:00", UTC)) as app:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            line = app.screen.query_one(PositionLine)
            return str(line.query_one("#position-at").render()) + " | " + str(
                line.query_one("#position-window").render())


async def test_two_runs_days_apart_show_the_same_times(monkeypatch: pytest.MonkeyPatch) -> None:
    first = await _screen_text(1_800_000_000.0, monkeypatch)
    later = await _screen_text(1_800_000_000.0 + 3 * 86400 + 1234, monkeypatch)
    assert first == later
    assert "2024-05-06" in first and "18:00" in first
