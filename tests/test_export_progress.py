"""The export's progress bar as a user watches it on a terminal: bar, counts, window covered,
ETA, one line per storm of retries, fitted to the width."""

from __future__ import annotations

import asyncio
import io

import pytest
from rich.cells import cell_len as fit_cells

from roamtui.cli import progress
from roamtui.cli.progress import ProgressLine, bar
from roamtui.im.client import ClientEvent
from roamtui.im.roam import FetchProgress

DAY = 86_400


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _line(width: int = 120) -> tuple[ProgressLine, io.StringIO, Clock]:
    err, clock = io.StringIO(), Clock()
    return ProgressLine(err, "cust_1001 ⇄ agent_alice", clock=clock,
                        width=lambda: width), err, clock


def _last(err: io.StringIO) -> str:
    return err.getvalue().split("\r")[-1].removesuffix("\x1b[K")


def _retry(detail: str) -> ClientEvent:
    return ClientEvent("retry", "admin_getroammsg", 1, detail)


def test_the_bar_shows_share_messages_calls_window_and_eta() -> None:
    line, err, clock = _line()
    clock.now += 10  # ten seconds for a quarter of the window: about thirty to go
    line(FetchProgress(messages=1234, calls=56, covered_seconds=7 * DAY // 4,
                       total_seconds=7 * DAY))
    assert _last(err) == ("cust_1001 ⇄ agent_alice [█████░░░░░░░░░░░░░░░] 25% · "
                          "1,234 msgs · 56 calls · 1.8/7.0 d · ETA 30s")


def test_full_only_when_whole_and_no_eta_at_the_end() -> None:
    assert bar(0.999) == "[" + "█" * 19 + "░" + "]"
    line, err, clock = _line()
    clock.now += 5
    line(FetchProgress(messages=10, calls=3, covered_seconds=3600, total_seconds=3600))
    assert "100%" in _last(err) and "ETA" not in _last(err) and "1.0/1.0 h" in _last(err)


def test_a_narrow_terminal_drops_parts_from_the_end_never_the_bar() -> None:
    line, err, clock = _line(width=80)
    clock.now += 10
    line(FetchProgress(messages=1234, calls=56, covered_seconds=DAY, total_seconds=4 * DAY))
    assert _last(err) == ("cust_1001 ⇄ agent_alice [██░░░░░░░░] 25% · 1,234 msgs · 56 calls · "
                          "1.0/4.0 d")
    line, err, clock = _line(width=56)
    line(FetchProgress(messages=1234, calls=56, covered_seconds=DAY, total_seconds=4 * DAY))
    assert _last(err) == "cust_1001 ⇄ agent_alice [██░░░░░░░░] 25% · 1,234 msgs"


def test_a_storm_of_retries_is_one_line_and_a_count_on_the_bar() -> None:
    line, err, clock = _line()
    line(FetchProgress(messages=0, calls=1, covered_seconds=0, total_seconds=DAY))
    for _ in range(6):  # six retries a second apart: one storm
        clock.now += 1
        line.retrying(_retry("HTTP 502; retry 1/4, 0.25s"))
    assert err.getvalue().count("retrying: HTTP 502") == 1
    assert _last(err).endswith("· 6 retries")
    clock.now += 30  # quiet, then another storm: its own line
    line.retrying(_retry("91000 internal error; retry 1/4, 0.25s"))
    lines = [x.split("\r")[-1] for x in err.getvalue().split("\n")[:-1]]
    assert [x.removeprefix("\x1b[K") for x in lines] == [
        "cust_1001 ⇄ agent_alice: retrying: HTTP 502; retry 1/4, 0.25s",
        "cust_1001 ⇄ agent_alice: retrying: 91000 internal error; retry 1/4, 0.25s",
    ]
    assert _last(err).endswith("· 7 retries")  # the export's count: it only grows


def test_a_hung_first_call_shows_the_wait_growing_and_a_stalled_eta_gives_way_to_the_wait(
) -> None:
    line, err, clock = _line()
    line.tick()  # the export starts: at once a line, not a blank terminal
    assert _last(err) == "cust_1001 ⇄ agent_alice: waiting for the first reply… 0s"
    clock.now += 8
    line.tick()  # nothing came back: the wait is counted
    assert _last(err) == "cust_1001 ⇄ agent_alice: waiting for the first reply… 8s"
    clock.now += 1
    line(FetchProgress(messages=500, calls=5, covered_seconds=DAY // 2, total_seconds=DAY))
    assert "ETA " in _last(err)
    clock.now += 2  # a reply a little late: still an ETA at the pace so far
    line.tick()
    assert "ETA " in _last(err) and "waiting" not in _last(err)
    clock.now += 8  # a reply very late: how long, not an ETA that stands still or reads 0s
    line.tick()
    assert _last(err).endswith("· waiting 10s") and "ETA" not in _last(err)
    clock.now += 1
    line(FetchProgress(messages=600, calls=6, covered_seconds=DAY * 3 // 4, total_seconds=DAY))
    assert "ETA " in _last(err)  # the next page: the ETA is back


def test_every_line_fits_a_narrow_terminal_in_cells() -> None:
    err = io.StringIO()
    clock = Clock()
    line = ProgressLine(err, "王小明 (cust_1002) ⇄ agent_bob", clock=clock, width=lambda: 30)
    line.tick()
    assert fit_cells(_last(err)) <= 29 and _last(err).startswith("waiting 0s · 王小明")
    line(FetchProgress(messages=5000, calls=50, covered_seconds=DAY // 2, total_seconds=DAY))
    assert fit_cells(_last(err)) <= 29


async def test_ticking_redraws_until_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    err = io.StringIO()
    line = ProgressLine(err, "a ⇄ b", width=lambda: 120)
    monkeypatch.setattr(progress, "TICK", 0.01)
    task = asyncio.create_task(line.ticking())
    await asyncio.sleep(0.1)
    task.cancel()
    draws = err.getvalue().count("waiting for the first reply")
    assert draws >= 3
    await asyncio.sleep(0.05)
    assert err.getvalue().count("waiting for the first reply") == draws  # stopped


def test_parts_are_dropped_whole_when_a_wide_character_is_at_the_cut() -> None:
    err = io.StringIO()
    line = ProgressLine(err, "客服小王 ⇄ 客服小李", clock=Clock(), width=lambda: 40)
    line(FetchProgress(messages=1035, calls=5, covered_seconds=DAY // 2, total_seconds=DAY))
    shown = _last(err)
    assert fit_cells(shown) <= 39 and not shown.endswith("…")  # whole parts, none cut
