"""The find bar, the filter view and jump-by-kind, driven with keys as a user would.

A host app composes the browse screen's search pane around a transcript over the in-process
sandbox (searchkit); a valve in front of the sandbox holds calls back so that "the rest of the
window is still being fetched" can be looked at. The last tests go through
`roamtui.factory.make_app`.
"""

from __future__ import annotations

import time

from searchkit import (
    ME,
    MESSAGES,
    PEER,
    SIZE,
    T0,
    Failing,
    Host,
    Parts,
    Valve,
    key_of,
    make_timeline,
    running,
    screen_text,
    styles_of,
)
from shellkit import SHANGHAI, build_app, make_sandbox
from textual.widgets import Input, Static

from roamtui.history.timeparse import format_time
from roamtui.im.model import message_obj, parse_message
from roamtui.sandbox import ListStore, SandboxService
from roamtui.ui.commands import key_entries
from roamtui.ui.transcript import Transcript

# -- find bar -------------------------------------------------------------------------------------


async def test_typing_highlights_counts_and_moves_then_the_fetch_makes_it_final() -> None:
    async with running(hold=True) as p:
        await p.find("refund")
        # Over what is loaded at once: two hits, the cursor on the latest one (at or before it).
        await p.until(lambda: p.counter == "2/2+", "the loaded part counted")
        assert p.cursor_key == key_of(290)
        assert "fetching the rest of the window" in p.bar.status_text
        hits = styles_of(p.transcript, "refund")  # 280, on screen below the cursor's row
        assert hits and all(hit != before for hit, before in hits)  # drawn marked
        assert p.transcript.highlight is not None
        p.valve.release()
        await p.until(lambda: p.counter == "4/4", "final count after the fetch")
        assert p.transcript.timeline.complete
        assert p.bar.status_text == ""
        assert p.cursor_key == key_of(290)


async def test_n_and_N_walk_the_matches_and_wrap_with_a_notice() -> None:
    async with running() as p:
        await p.find("refund")
        await p.until(lambda: p.counter == "4/4", "final")
        await p.pilot.press("escape")  # leave the input: the bar and the highlight stay
        assert p.transcript.has_focus and p.bar.is_open
        seen = []
        for key in ("N", "N", "N", "N", "n", "n"):
            await p.pilot.press(key)
            await p.pilot.pause()
            seen.append((p.counter, p.cursor_key))
        assert seen == [("3/4", key_of(280)), ("2/4", key_of(120)), ("1/4", key_of(10)),
                        ("4/4", key_of(290)), ("1/4", key_of(10)), ("2/4", key_of(120))]
        await p.pilot.press("N", "N")
        assert "wrapped" in p.bar.status_text


async def test_a_step_that_finds_nothing_yet_says_so_until_the_rest_of_the_window_is_in() -> None:
    async with running(hold=True) as p:
        await p.find("awful")  # only in an older page, not loaded yet
        await p.pilot.press("escape", "N")
        await p.pilot.pause()
        assert p.bar.status_text.startswith("no matches yet: fetching the rest of the window")
        assert p.bar.status_text.count("fetching") == 1  # said once, not twice
        p.valve.release()
        await p.until(lambda: p.counter == "1/1", "the match arrived")
        await p.pilot.pause()
        assert p.cursor_key == key_of(40)
        assert "no matches" not in p.bar.status_text  # no longer true: gone
    async with running(hold=True) as p:
        await p.find("nowhere in this chat")
        await p.pilot.press("escape", "n")
        await p.pilot.pause()
        assert p.bar.status_text.startswith("no matches yet")
        p.valve.release()
        await p.until(lambda: p.transcript.timeline.complete, "the whole window in")
        await p.until(lambda: p.bar.status_text == "no matches", "the notice made final")


async def test_n_past_the_newest_match_while_fetching_wraps_to_the_true_oldest() -> None:
    async with running(hold=True) as p:
        await p.find("refund")
        await p.until(lambda: p.counter == "2/2+", "the loaded part counted")
        assert p.cursor_key == key_of(290)  # the newest match
        await p.pilot.press("escape", "n")  # past it: the oldest match is not loaded yet
        await p.pilot.pause()
        assert p.cursor_key == key_of(290)  # not the oldest loaded one (280): it waits
        p.valve.release()
        await p.until(lambda: p.counter == "1/4", "the true oldest match")
        assert p.cursor_key == key_of(10) and "wrapped" in p.bar.status_text


async def test_in_small_steps_the_counter_says_it_is_counting_then_final() -> None:
    async with running() as p:
        await p.find("refund")
        await p.until(lambda: p.counter == "4/4", "the whole window loaded and counted")
        p.pane.session.step_size = 4  # 75 steps, with turns of the event loop between
        shown: list[str] = []
        set_counter = p.bar.set_counter

        def record(text: str, *, none: bool = False) -> None:
            shown.append(text)
            set_counter(text, none=none)

        p.bar.set_counter = record  # type: ignore[method-assign]
        await p.pilot.press("escape", "g")  # the oldest message: no match before it
        await p.find("line 01")  # 100..199 but 120
        await p.until(lambda: p.counter == "1/99", "moved to the nearest, counted")
        assert p.cursor_key == key_of(100)
        counting = [k for k, text in enumerate(shown) if text.endswith("…")]
        assert counting and counting[-1] < shown.index("1/99")  # counting, then final
        await p.pilot.press("escape", "N")
        await p.until(lambda: p.cursor_key == key_of(199), "wrapped to the newest match")
        assert p.counter == "99/99" and "wrapped" in p.bar.status_text


async def test_placeholders_and_nested_messages_are_found() -> None:
    async with running() as p:
        for text, index in [("invoice.pdf", 60), ("shenzhen", 61), ("order card", 62),
                            ("chat history of li", 63), ("parcel was torn", 63),
                            ("2448×3264", 292)]:
            await p.find(text)
            await p.until(lambda: p.counter == "1/1", f"{text!r} found once")
            assert p.cursor_key == key_of(index), text


async def test_case_is_smart_by_default_and_toggles_with_alt_c_or_a_click() -> None:
    async with running() as p:
        await p.find("Refund")  # a capital: case-sensitive
        await p.until(lambda: p.counter == "1/1", "only 'Refund'")
        await p.find("REFUND")
        await p.until(lambda: p.counter == "1/1", "only 'REFUND'")
        assert p.cursor_key == key_of(120)
        await p.find("refund")  # all four; the cursor stays on the match it is on
        await p.until(lambda: p.counter == "2/4", "all four")
        await p.pilot.press("alt+c")  # smart -> match case: 10 and 280, from 120 back to 10
        await p.until(lambda: p.counter == "1/2", "lower-case only")
        assert p.cursor_key == key_of(10)
        assert "match" in str(p.app.query_one("#find-case").render())
        await p.pilot.click("#find-case")  # match -> ignore case
        await p.find("REFUND")
        await p.until(lambda: p.counter == "1/4", "case ignored")
        assert p.bar.input.has_focus  # clicking a toggle did not take the focus


async def test_an_invalid_regex_is_flagged_in_the_bar_never_raised() -> None:
    async with running() as p:
        await p.pilot.press("slash", "alt+r")
        await p.pilot.press(*"refund(")
        await p.until(lambda: p.bar.invalid, "flagged")
        assert p.bar.status_kind == "error"
        assert "invalid regex" in p.bar.status_text
        assert p.transcript.highlight is None
        assert p.counter == ""
        await p.pilot.press("backspace")
        await p.until(lambda: p.counter == "4/4", "valid again")
        assert not p.bar.invalid
        await p.find("ref.nd (now|policy)")
        await p.until(lambda: p.counter == "2/2", "a real regex")
        await p.find("x*", valid=False)  # matches the empty text: refused, not 'everything'
        assert "match everything" in p.bar.status_text and p.counter == ""
        assert p.app.is_running


async def test_hostile_text_is_found_literally_and_shown_inert() -> None:
    async with running() as p:
        await p.find("[@click=app.quit]")
        await p.until(lambda: p.counter == "1/1", "found")
        assert p.cursor_key == key_of(295)
        await p.pilot.press("escape", "ampersand")
        text = "\n".join(screen_text(p.filter))
        assert "[@click=app.quit] ␛[31mred␛[0m bell␇" in text
        await p.pilot.press("enter")
        assert p.app.is_running


# -- the rest of the window: progress and cancel --------------------------------------------------


async def test_progress_is_shown_and_esc_stops_the_fetch_slash_resumes() -> None:
    async with running(hold=True) as p:
        await p.find("refund")
        await p.until(lambda: p.counter == "2/2+", "loaded part")
        p.valve.release(2)
        await p.until(lambda: "calls ·" in p.bar.status_text, "progress figures")
        assert "messages ·" in p.bar.status_text and "%" in p.bar.status_text
        assert p.bar.status_kind == "progress"
        await p.pilot.press("escape")  # leaves the input
        assert p.pane.session.fetch_state == "running"
        await p.pilot.press("escape")  # stops the fetch
        assert p.pane.session.fetch_state == "stopped"
        assert p.counter.endswith("+")
        assert "stopped" in p.bar.status_text
        assert p.bar.is_open and p.transcript.highlight is not None
        p.valve.release()
        await p.settle()
        assert p.counter.endswith("+")  # nothing went on fetching
        await p.pilot.press("slash")
        await p.until(lambda: p.counter == "4/4", "fetched after /")


async def test_a_failed_fetch_is_told_and_the_count_stays_partial() -> None:
    async with running(hold=True) as p:
        await p.find("refund")
        await p.until(lambda: p.counter == "2/2+", "loaded part")
        p.valve.inner = Failing()
        p.valve.release()
        await p.until(lambda: p.pane.session.fetch_state == "failed", "failed")
        await p.until(lambda: "fetch failed" in p.bar.status_text, "told")
        assert p.counter == "2/2+"


# -- filter view ----------------------------------------------------------------------------------


async def test_filter_view_shows_matches_with_context_and_dates_and_goes_back() -> None:
    async with running() as p:
        await p.find("refund")
        await p.until(lambda: p.counter == "4/4", "final")
        await p.pilot.press("escape", "ampersand")
        assert p.filter.display and not p.transcript.display
        assert p.filter.has_focus
        lines = [line.rstrip() for line in screen_text(p.filter) if line.strip()]
        matches = [line for line in lines if line.startswith("▸ ")]
        assert len(matches) == 4
        assert "2020-03-20 22:05:00" in matches[0] and "my refund for order" in matches[0]
        for i in (10, 120, 280, 290):  # each match comes after its previous message
            before = next(k for k, line in enumerate(lines) if f"line {i - 1:04d}" in line)
            assert lines[before + 1].startswith("▸ ")
        assert p.filter.selected_message is not None
        assert p.filter.selected_message.key == key_of(290)  # the current match is kept
        await p.pilot.press("k", "k")
        assert p.counter == "2/4"
        await p.pilot.press("enter")
        await p.pilot.pause()
        assert p.transcript.display and not p.filter.display
        assert p.cursor_key == key_of(120)
        assert p.transcript.has_focus
        await p.pilot.press("ampersand")
        assert p.filter.display
        await p.pilot.press("escape")  # back again, at the same match
        await p.pilot.pause()
        assert p.transcript.display and p.cursor_key == key_of(120)


async def test_filter_view_of_a_nested_match_shows_where_it_was_found() -> None:
    async with running() as p:
        await p.find("parcel")
        await p.until(lambda: p.counter == "1/1", "found")
        await p.pilot.press("escape", "ampersand")
        text = "\n".join(screen_text(p.filter))
        assert "[merged forward: Chat history" in text
        assert "found in: the parcel was torn" in text


# -- jump by kind ---------------------------------------------------------------------------------


async def test_jump_to_recalled_and_non_text_fetches_when_none_is_loaded() -> None:
    async with running() as p:
        await p.pilot.press("left_square_bracket")
        await p.pilot.pause()
        assert p.cursor_key == key_of(285)  # the loaded one, above the newest end
        await p.pilot.press("left_square_bracket")  # none loaded above: the window is fetched
        await p.until(lambda: p.cursor_key == key_of(40), "the older recalled message")
        assert p.transcript.timeline.complete
        assert not p.bar.is_open  # opened only to show the fetch
        await p.pilot.press("right_curly_bracket")
        await p.until(lambda: p.cursor_key == key_of(60), "next non-text element")
        await p.pilot.press("right_square_bracket")
        await p.until(lambda: p.cursor_key == key_of(285), "next recalled")
        await p.pilot.press("right_square_bracket")
        await p.pilot.pause()
        assert p.cursor_key == key_of(285)  # none after it: it stays


# -- Esc in layers --------------------------------------------------------------------------------


async def test_esc_closes_in_layers_and_n_brings_the_query_back() -> None:
    async with running() as p:
        await p.find("refund")
        await p.until(lambda: p.counter == "4/4", "final")
        await p.pilot.press("escape")
        assert p.transcript.has_focus and p.bar.is_open
        await p.pilot.press("escape")
        assert not p.bar.is_open and p.transcript.highlight is None
        await p.pilot.press("g")
        await p.pilot.press("n")
        await p.until(lambda: p.cursor_key == key_of(10), "first match from the top")
        assert p.transcript.highlight is not None and p.bar.is_open
        assert p.app.query_one("#find-input", Input).value == "refund"


# -- through the app factory (the browse screen as `roamtui demo` builds it) ----------------------


async def test_find_on_the_demo_counts_the_whole_window() -> None:
    sandbox = make_sandbox()
    every = [parse_message(m) for m in sandbox.messages()]
    expected = sum("refund" in m.search_text().casefold() for m in every)
    app = build_app(sandbox)
    async with app.run_test(size=(120, 40)) as pilot:
        transcript = app.screen.query_one(Transcript)
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        assert transcript.timeline.loaded_count < len(every)  # the window is not all loaded
        parts = Parts(pilot)
        await parts.find("refund")
        await parts.until(lambda: parts.counter.endswith(f"/{expected}"), "the whole window")
        assert transcript.timeline.complete
        message = transcript.cursor_message
        assert message is not None and "refund" in message.search_text().casefold()
        # The newest mention: no match after the cursor.
        later = [m for m in every if m.time > message.time]
        assert not any("refund" in m.search_text().casefold() for m in later)
        await pilot.press("escape", "ampersand", "g", "enter")  # the oldest, via the filter
        await parts.until(lambda: parts.counter == f"1/{expected}", "first match")
        first = next(m for m in every if "refund" in m.search_text().casefold())
        assert parts.cursor_key == first.key
        # The screen hears of the move: its position line shows the match's time.
        position = str(app.screen.query_one("#position-at", Static).render())
        assert format_time(first.time, SHANGHAI, "%Y-%m-%d %H:%M:%S") in position


async def test_every_search_key_is_in_the_help_and_the_palette() -> None:
    app = build_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        keys = {entry.description: entry.keys for entry in key_entries(app.screen)}
        assert keys["Find"] == ("/", "^f")
        assert keys["Next match"] == ("n",) and keys["Previous match"] == ("N",)
        assert keys["Filter"] == ("&",)
        assert keys["Next recalled message"] == ("]",)
        assert keys["Previous recalled message"] == ("[",)
        assert keys["Next non-text element"] == ("}",)
        assert keys["Previous non-text element"] == ("{",)


async def test_the_search_follows_a_side_swap() -> None:
    app = build_app(make_sandbox())
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        parts = Parts(pilot)
        await parts.find("refund")
        await parts.until(lambda: not parts.counter.endswith("+"), "final")
        before = parts.transcript.timeline
        await pilot.press("escape", "p")  # read the other side: a new timeline
        await parts.until(lambda: parts.pane.session.timeline is not before, "followed")
        assert parts.pane.session.timeline is parts.transcript.timeline
        await parts.until(lambda: parts.transcript.timeline.complete
                          and not parts.counter.endswith("+"), "final on the other side")
        assert parts.transcript.highlight is not None and parts.bar.is_open


# -- a pathological regex -------------------------------------------------------------------------


async def test_a_pathological_regex_is_refused_and_the_app_never_freezes() -> None:
    hostile = [dict(m) for m in MESSAGES]
    hostile[5] = message_obj(sender=PEER, receiver=ME, time=T0 + 150, seq=1005, random=6,
                             text="a" * 5000 + "!")
    valve = Valve(SandboxService(ListStore({(ME, PEER): hostile}), rate_limit=None)
                  .mock_transport())
    app = Host(make_timeline(valve))
    async with app.run_test(size=SIZE) as pilot:
        p = Parts(pilot, valve)
        await p.settle()
        gaps: list[float] = []
        last = [time.thread_time()]  # CPU time, which a loaded machine does not stretch

        def tick() -> None:
            now = time.thread_time()
            gaps.append(now - last[0])
            last[0] = now

        app.set_interval(0.01, tick)
        # Verbose mode: the reader cannot check it; the timeouts refuse it all the same.
        await p.pilot.press("slash", "alt+r", *"(?x)(a+)+$")
        # Typed key by key, a part of it ("(?") may be searched first and be invalid: wait for
        # the whole pattern's refusal.
        await p.until(lambda: p.bar.invalid and "too long" in p.bar.status_text, "refused")
        assert p.bar.status_kind == "error"
        assert p.transcript.highlight is None and p.counter == ""
        assert p.transcript.timeline.complete  # the whole window was searched
        # Not a speed target: unbounded, this pattern runs for minutes between two ticks; the
        # bound only tells "froze" from "kept going" (the refusal is the behaviour checked above).
        assert max(gaps) < 2.0, max(gaps)
        await p.pilot.press("escape", "escape", "n")  # not brought back by n
        assert not p.bar.is_open
