"""Keys typed faster than the app draws (a burst read from the terminal at once, often before
the first page is in) land where the key before them sent the focus: `/refund` searches for
"refund" and never opens the export dialog (`e`) or retries (`r`)."""

from __future__ import annotations

from typing import Any

import pytest
from shellkit import build_app, make_sandbox, settle
from textual import events
from textual.app import App
from textual.widgets import Input

from roamtui.ui.screens.browse import BrowseScreen
from roamtui.ui.widgets.command_line import CommandLine
from roamtui.ui.widgets.find_bar import FindBar

NAMES = {"/": "slash", ":": "colon", " ": "space", "-": "minus", "_": "underscore",
         "\r": "enter", "\t": "tab"}


def burst(app: App[Any], text: str) -> None:
    """Post every key of ``text`` at once, as the driver does with one read of the terminal
    (``\r`` is Enter, ``\t`` Tab)."""
    for ch in text:
        app.post_message(events.Key(NAMES.get(ch, ch), ch))


async def browsing(app: App[Any], pilot: Any) -> BrowseScreen:
    """The transcript once its first page is in."""
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, BrowseScreen)
    return screen


@pytest.mark.parametrize("settled", [False, True])
async def test_slash_then_a_fast_word_is_a_search(settled: bool) -> None:
    app = build_app(make_sandbox(800))
    async with app.run_test(size=(100, 30)) as pilot:
        if settled:
            await settle(pilot)
        burst(app, "/refund")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen), type(app.screen).__name__
        bar = app.screen.query_one(FindBar)
        assert bar.input.value == "refund"


async def test_colon_then_a_fast_command_is_typed_into_the_prompt() -> None:
    app = build_app(make_sandbox(800))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        burst(app, ":goto -2h")
        await pilot.pause()
        assert isinstance(app.screen, BrowseScreen)
        assert app.screen.query_one(CommandLine).value == "goto -2h"


async def test_a_fast_command_with_its_enter_runs_whole() -> None:
    """`:goto …` and Enter in one burst (a line pasted from a ticket): the command runs with
    all of its text, not as an empty command."""
    app = build_app(make_sandbox(800))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await browsing(app, pilot)
        before = screen.transcript.cursor_message
        assert before is not None
        burst(app, ":goto -2h\r")
        await settle(pilot)
        line = screen.query_one(CommandLine)
        assert not line.is_open and line.history == ["goto -2h"]
        after = screen.transcript.cursor_message
        assert after is not None and after.time < before.time


async def test_a_fast_search_with_its_enter_searches_the_whole_word() -> None:
    app = build_app(make_sandbox(800))
    async with app.run_test(size=(100, 30)) as pilot:
        burst(app, "/refund\r")
        await settle(pilot)
        bar = app.screen.query_one(FindBar)
        assert bar.input.value == "refund"
        assert isinstance(app.screen, BrowseScreen)


async def test_goto_minus_two_hours_steps_back_each_time() -> None:
    """`:goto -2h` lands on the last message at or before the time it names, so a second one
    goes on back (landing on the first at or after it, it came back to where it started)."""
    app = build_app(make_sandbox(800))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await browsing(app, pilot)
        times = []
        for _ in range(3):
            start = screen.transcript.cursor_message
            assert start is not None
            await pilot.press("colon", *"goto -2h", "enter")
            await settle(pilot)
            landed = screen.transcript.cursor_message
            assert landed is not None and landed.time <= start.time - 7200
            times.append(landed.time)
        assert times == sorted(times, reverse=True) and len(set(times)) == 3


# -- keys after Enter or Tab in the same burst go where those leave the focus ---------------------


async def test_a_key_after_a_fast_command_and_its_enter_acts_after_the_command() -> None:
    """`:goto -2h` Enter `D` in one burst: the command runs whole (its Enter not lost, the `D`
    not typed into it), then `D` steps a day back from the time the command named."""
    app = build_app(make_sandbox(800))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await browsing(app, pilot)
        before = screen.transcript.cursor_message
        assert before is not None
        burst(app, ":goto -2h\rD")
        await settle(pilot)
        line = screen.query_one(CommandLine)
        assert not line.is_open and line.history == ["goto -2h"]
        after = screen.transcript.cursor_message
        assert after is not None and after.time <= before.time - 7200 - 86400
        assert screen.transcript.has_focus


async def test_a_fast_search_its_enter_and_n_step_to_the_next_match() -> None:
    """`/refund` Enter `n` in one burst (as less users type it): the search, the keys back to
    the transcript, and `n` steps; the `n` is not typed into the query."""
    app = build_app(make_sandbox(800))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await browsing(app, pilot)
        burst(app, "/refund\r")
        await settle(pilot)
        on_enter = screen.transcript.cursor_message
        burst(app, "/refund\rn")
        await settle(pilot)
        bar = screen.query_one(FindBar)
        assert bar.input.value == "refund" and bar.is_open
        assert screen.transcript.has_focus
        stepped = screen.transcript.cursor_message
        assert stepped is not None and on_enter is not None and stepped.key != on_enter.key
        assert "refund" in stepped.search_text().casefold()


async def test_a_fast_account_tab_and_peer_fill_both_fields() -> None:
    app = build_app(make_sandbox(800), open_transcript=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = app.screen
        account, peer = screen.query_one("#account", Input), screen.query_one("#peer", Input)
        assert account.has_focus
        burst(app, "cust_1003\tagent_alice")
        await settle(pilot)
        assert (account.value, peer.value) == ("cust_1003", "agent_alice")
        assert peer.has_focus
