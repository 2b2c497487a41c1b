"""Find bar keys as a real terminal sends them, the failed-fetch line and its way out, the
counter after the cursor moves by other means, and the footer's Help key at any width.

Terminals send Alt+C as ``Key('alt+c', 'c')`` (the pilot's ``press('alt+c')`` sends no
character), so those keys are posted as the app's driver would post them.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from searchkit import T0, Failing, key_of, running
from shellkit import build_app, make_sandbox, settle
from textual import events
from textual.app import App
from textual.pilot import Pilot

from roamtui.ui.widgets.find_bar import StatusLine
from roamtui.ui.widgets.status_bar import KeyFooter


def terminal_key(app: App[Any], key: str, character: str) -> None:
    """What the driver does with a key read from a terminal: post it to the app."""
    app.post_message(events.Key(key, character))


def visible(widget: Any) -> str:
    """The text a widget shows on screen (what is cut off is not there)."""
    return "".join(seg.text for seg in widget.render_line(0))


# -- Alt+C / Alt+R with a character, as a terminal sends them -------------------------------------


async def test_alt_c_from_a_terminal_cycles_case_and_types_nothing() -> None:
    async with running() as p:
        await p.find("refund")
        await p.until(lambda: p.counter == "4/4", "all four, case ignored (smart)")
        terminal_key(p.app, "alt+c", "c")
        await p.until(lambda: p.bar.case == "sensitive", "case toggled")
        assert p.bar.input.value == "refund"
        await p.until(lambda: p.counter == "2/2", "lower-case 'refund' only")
        assert p.cursor_key == key_of(280)
        assert p.bar.input.has_focus


async def test_alt_r_from_a_terminal_toggles_regex_and_types_nothing() -> None:
    async with running() as p:
        await p.find("r.fund")
        await p.until(lambda: p.counter == "no matches", "literal: nothing")
        terminal_key(p.app, "alt+r", "r")
        await p.until(lambda: p.bar.regex, "regex on")
        assert p.bar.input.value == "r.fund"
        await p.until(lambda: p.counter == "4/4", "as a regex: all four")


async def test_plain_and_shifted_letters_are_still_typed() -> None:
    async with running() as p:
        await p.pilot.press("slash")
        terminal_key(p.app, "c", "c")
        terminal_key(p.app, "C", "C")
        await p.until(lambda: p.bar.input.value == "cC", "typed")
        assert p.bar.case == "smart" and not p.bar.regex


# -- a failed fetch: the way out stays visible, and works -----------------------------------------


async def test_a_failed_fetch_keeps_its_way_out_visible_at_80_and_120_columns() -> None:
    async with running(hold=True) as p:
        await p.find("refund")
        await p.until(lambda: p.counter == "2/2+", "the loaded part counted")
        p.valve.inner = Failing()
        p.valve.release()
        await p.until(lambda: p.pane.session.fetch_state == "failed", "failed")
        for width in (80, 120):
            await p.pilot.resize_terminal(width, 24)
            await p.pilot.pause()
            shown = " ".join(visible(line) for line in p.bar.query(StatusLine) if line.display)
            assert "/ tries again" in shown, (width, shown)
            assert "fetch failed" in shown and "90001" in shown, (width, shown)
        assert p.bar.status_kind == "error"
        # The advice that no longer fits is in the tooltip.
        assert "report it" in str(p.bar.query_one("#find-status").tooltip)


async def test_slash_after_a_failed_fetch_and_esc_brings_the_query_back_and_retries() -> None:
    async with running(hold=True) as p:
        await p.find("refund")
        await p.until(lambda: p.counter == "2/2+", "the loaded part counted")
        sandbox = p.valve.inner
        p.valve.inner = Failing()
        p.valve.release()
        await p.until(lambda: p.pane.session.fetch_state == "failed", "failed")
        await p.pilot.press("escape", "escape")  # leave the input, then close the search
        assert not p.bar.is_open and p.transcript.highlight is None
        p.valve.inner = sandbox
        await p.pilot.press("slash")
        assert p.bar.is_open and p.bar.input.has_focus
        assert p.bar.input.value == "refund"
        assert p.bar.input.selected_text == "refund"  # typing replaces it
        assert p.transcript.highlight is not None
        await p.until(lambda: p.counter.endswith("/4"), "the retried fetch counted all four")
        assert p.transcript.timeline.complete
        await p.pilot.press(*"oops")
        await p.until(lambda: p.counter == "1/1", "the typed text replaced the query")
        assert p.bar.input.value == "oops"


# -- the counter follows the cursor ---------------------------------------------------------------


async def test_the_counter_says_the_cursor_left_the_matches_after_G_or_a_jump() -> None:
    async with running() as p:
        await p.find("refund")
        await p.until(lambda: p.counter == "4/4", "final")
        await p.pilot.press("escape", "N")
        assert (p.counter, p.cursor_key) == ("3/4", key_of(280))
        await p.pilot.press("G")  # the newest message, not a match
        await p.until(lambda: p.cursor_key == key_of(299), "at the newest")
        assert p.counter == "-/4"
        await p.pilot.press("N")  # from the cursor: the newest match
        assert (p.counter, p.cursor_key) == ("4/4", key_of(290))
        p.transcript.goto_time(T0 + 30 * 100)  # what :goto does
        await p.until(lambda: p.cursor_key == key_of(100), "jumped")
        assert p.counter == "-/4"
        await p.pilot.press("n")
        assert (p.counter, p.cursor_key) == ("2/4", key_of(120))
        await p.pilot.press("k")  # j / k onto a message that is no match
        assert p.counter == "-/4"
        await p.pilot.press("j")  # and back onto the match
        assert p.counter == "2/4"


# -- the footer -----------------------------------------------------------------------------------


def footer_keys(pilot: Pilot[Any]) -> list[str]:
    """The footer's keys as drawn, left to right; each must be drawn whole, none over another."""
    screen = pilot.app.screen
    footer = screen.query_one(KeyFooter).region
    keys = sorted((k for k in screen.query("FooterKey") if k.display and k.region.width),
                  key=lambda k: k.region.x)
    for key in keys:
        assert footer.contains_region(key.region), f"{visible(key)!r} is cut off"
    for left, right in pairwise(keys):
        assert left.region.right <= right.region.x, f"{visible(left)!r} is drawn over"
    return [visible(k).strip() for k in keys]


async def test_help_is_in_the_footer_whole_at_80_columns_and_in_the_filter_view() -> None:
    app = build_app(make_sandbox())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        shown = footer_keys(pilot)
        assert "f1 Help" in shown and "^p palette" in shown, shown
        assert "/ Find" in shown, shown
        await pilot.resize_terminal(120, 40)
        await pilot.press("slash", *"refund", "escape", "ampersand")
        await settle(pilot)
        assert pilot.app.screen.query_one("#search").has_class("-filtering")
        shown = footer_keys(pilot)
        assert "f1 Help" in shown and "⏎ Show in the transcript" in shown, shown
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert "f1 Help" in footer_keys(pilot)
        await pilot.resize_terminal(160, 40)  # wide again: the keys dropped come back
        await settle(pilot)
        assert "e Export" in footer_keys(pilot)
