"""n/N with a filter in force out of its view, Enter in the find bar as in less, and the first
match of a query typed while the transcript is still opening.

A filter alone (`:filter recalled`, `!`, `@`, `%`, then Esc or `&` back to the transcript) is
stepped through by n/N, the rest of the window fetched as for a search; with a search too, n/N
keep to both, also after the find bar was closed (the status bar still names the filter).
"""

from __future__ import annotations

import asyncio

import httpx
from searchkit import ME, MESSAGES, PEER, SIZE, Host, Parts, key_of, make_timeline, running
from shellkit import record_notices

from roamtui.history.filters import MessageFilter
from roamtui.sandbox import ListStore, SandboxService

RECALLED = MessageFilter(kinds=("recalled",))  # 40 and 285 in searchkit's conversation


async def test_n_and_N_step_through_a_filter_alone_with_the_usual_notices() -> None:
    async with running(hold=True) as p:
        notices = record_notices(p.app)  # type: ignore[arg-type]
        p.pane.set_filter(RECALLED)
        await p.pilot.pause()
        assert p.pane.filtering and p.pane.session.fetch_state == "running"
        await p.pilot.press("ampersand", "G")  # the whole transcript again, the filter on
        assert not p.pane.filtering and p.transcript.has_focus and not p.bar.is_open
        await p.until(lambda: p.cursor_key == key_of(299), "at the newest")
        await p.pilot.press("N")
        await p.until(lambda: p.cursor_key == key_of(285), "the previous recalled message")
        p.valve.release()  # the rest of the window: 40 comes in
        await p.until(lambda: p.transcript.timeline.complete, "the whole window")
        await p.settle()
        await p.pilot.press("N")
        await p.until(lambda: p.cursor_key == key_of(40), "the older recalled message")
        await p.pilot.press("N")  # none older: round to the newest, said
        await p.until(lambda: p.cursor_key == key_of(285), "wrapped to the newest")
        assert "wrapped: on to the newest message kept (recalled)" in notices.texts()
        await p.pilot.press("n")
        await p.until(lambda: p.cursor_key == key_of(40), "wrapped to the oldest")
        assert "wrapped: back to the oldest message kept (recalled)" in notices.texts()
        assert not p.bar.is_open  # a filter alone: no query to show


async def test_a_filter_set_alone_is_stepped_not_an_old_closed_search() -> None:
    async with running() as p:
        await p.find("refund")
        await p.pilot.press("escape", "escape")  # the search closed
        assert not p.bar.is_open
        p.pane.set_filter(RECALLED)
        await p.pilot.press("ampersand", "G", "N")
        await p.until(lambda: p.cursor_key == key_of(285), "the recalled one, not a refund")
        assert not p.bar.is_open and p.transcript.highlight is None
        await p.pilot.press("slash")  # / still brings the closed search back
        assert p.bar.input.value == "refund"


async def test_with_a_search_n_keeps_to_the_filter_after_the_bar_is_closed() -> None:
    async with running() as p:
        await p.settle()
        p.pane.set_filter(RECALLED)  # what :filter recalled does
        await p.until(lambda: p.pane.session.final, "the whole window filtered")
        await p.find("o")  # in nearly every message; of the recalled ones, 40 and 285
        await p.until(lambda: p.counter == "2/2", "search AND filter")
        await p.pilot.press("escape")  # the bar's input: back to the list
        assert p.filter.has_focus
        await p.pilot.press("k", "enter")  # the older one, shown in the transcript
        await p.pilot.pause()
        assert not p.pane.filtering and p.cursor_key == key_of(40)
        await p.pilot.press("escape")  # closes the find bar; the filter stays in force
        assert not p.bar.is_open and p.pane.session.filter == RECALLED
        seen = []
        for key in ("n", "n", "N"):
            await p.pilot.press(key)
            await p.until(lambda: p.pane.session.query is not None, "the search back")
            await p.pilot.pause()
            seen.append((p.cursor_key, p.counter))
        assert seen == [(key_of(285), "2/2"), (key_of(40), "1/2"), (key_of(285), "2/2")]
        assert p.bar.is_open and p.bar.input.value == "o"
        await p.pilot.press("escape")  # the search closed again
        await p.pilot.press("escape")  # then the filter: the last layer
        assert p.pane.session.filter == MessageFilter()
        await p.pilot.press("n")  # the search alone: the next 'o' after 285
        await p.until(lambda: p.cursor_key == key_of(286), "the search without the filter")


# -- Enter in the find bar ------------------------------------------------------------------------


async def test_enter_goes_to_the_match_and_gives_the_keys_back() -> None:
    async with running() as p:
        await p.find("refund")
        await p.until(lambda: p.counter == "4/4", "final, on the newest match")
        await p.pilot.press("enter")
        assert p.transcript.has_focus and p.bar.is_open
        assert (p.counter, p.cursor_key) == ("4/4", key_of(290))  # it stays on that match
        assert p.transcript.highlight is not None
        await p.pilot.press("n")  # the transcript's n, not typed into the query
        assert (p.counter, p.cursor_key) == ("1/4", key_of(10))
        assert p.bar.input.value == "refund"
        await p.pilot.press("G", "slash")  # off every match; / focuses the bar, query selected
        assert p.bar.input.has_focus and p.bar.input.selected_text == "refund"
        await p.pilot.press("enter")  # to the nearest match
        await p.until(lambda: p.cursor_key == key_of(290), "the nearest match")
        assert p.transcript.has_focus and p.counter == "4/4"


async def test_shift_enter_up_and_down_step_without_leaving_the_bar() -> None:
    async with running() as p:
        await p.find("refund")
        await p.until(lambda: p.counter == "4/4", "final")
        await p.pilot.press("shift+enter")
        assert (p.counter, p.cursor_key) == ("3/4", key_of(280))
        await p.pilot.press("up")
        assert p.counter == "2/4" and p.bar.input.has_focus
        await p.pilot.press("down")
        assert p.counter == "3/4" and p.bar.input.has_focus
        await p.pilot.press("enter")  # the match it is on: no step
        assert (p.counter, p.cursor_key) == ("3/4", key_of(280))
        assert p.transcript.has_focus


# -- a query typed while the transcript opens -----------------------------------------------------


class Gate(httpx.AsyncBaseTransport):
    """Every call waits until the test lets it through, in any order (``let(i)``: the i-th)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.calls: list[asyncio.Event] = []
        self.opened = False

    def let(self, i: int) -> None:
        self.calls[i].set()

    def open(self) -> None:
        self.opened = True
        for call in self.calls:
            call.set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        passed = asyncio.Event()
        self.calls.append(passed)
        if not self.opened:
            await passed.wait()
        return await self.inner.handle_async_request(request)


async def test_a_query_typed_before_the_first_page_lands_on_the_nearest_match() -> None:
    """The fetch of the rest of the window brings the newest page before the transcript's own
    opening call answers (that one was slow, or retried): the move to the nearest match waits
    for the opening, which would otherwise take the cursor back to the newest message."""
    gate = Gate(SandboxService(ListStore({(ME, PEER): MESSAGES}), rate_limit=None)
                .mock_transport())
    app = Host(make_timeline(gate))
    async with app.run_test(size=SIZE) as pilot:
        p = Parts(pilot, gate)  # type: ignore[arg-type]
        await pilot.press("slash", *"refund")
        await p.until(lambda: p.bar.query_now.text == "refund" and len(gate.calls) >= 2,
                      "the opening's call and the fetch's first waiting")
        for i in range(1, len(gate.calls)):  # the fetch's pages first, the opening's last
            gate.let(i)
        await p.until(lambda: p.counter.endswith("2+"), "the newest pages searched")
        gate.let(0)
        await p.until(lambda: p.cursor_key == key_of(290), "on the nearest match")
        gate.open()
        await p.until(lambda: p.counter == "4/4", "the whole window")
        await p.settle()
        assert p.cursor_key == key_of(290)
        await p.pilot.press("enter")  # the match it is on, not a wrap to the oldest
        assert p.cursor_key == key_of(290)




async def test_nicknames_arriving_after_the_first_match_leave_the_cursor_on_it() -> None:
    """The parties' nicknames come in their own call, at any time: with the view at the newest
    end they re-measured the rows and put the cursor back on the newest message, off the match
    a search had just moved it to (the tryout's 2 runs in 15: the counter stayed '-/63+')."""
    async with running() as p:
        await p.find("refund")
        await p.until(lambda: p.counter == "4/4", "final, on the newest match")
        await p.pilot.press("enter")
        assert p.cursor_key == key_of(290)
        p.transcript.set_names({ME: "Alice (Support)", PEER: "王小明"})
        await p.pilot.pause()
        assert p.cursor_key == key_of(290) and p.counter == "4/4"
    async with running() as p:  # on the newest message, the view stays at the newest end
        await p.pilot.press("G")
        await p.until(lambda: p.cursor_key == key_of(299), "at the newest")
        p.transcript.set_names({ME: "Alice (Support)", PEER: "王小明"})
        await p.pilot.pause()
        assert p.cursor_key == key_of(299)
        assert p.transcript.scroll_y >= p.transcript.max_scroll_y


async def test_the_help_says_what_enter_does_in_the_find_bar() -> None:
    from roamtui.ui.commands import key_entries

    async with running() as p:
        await p.find("refund")
        assert p.bar.input.has_focus
        keys = {entry.description: entry.keys for entry in key_entries(p.app.screen)}
        enter = "Go to the match, keys back to the transcript (n/N step)"
        assert enter in keys, keys
        assert "Previous match" in keys
