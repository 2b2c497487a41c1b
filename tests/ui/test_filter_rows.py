"""The filter view's rows as a support agent reads them (TRYOUT-19 problem 8): a row too long for
the terminal ends in `…` and still shows its read mark, a one-sided message carries the
transcript's `◧ only …` badge, and the position line follows the selected row."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len
from shellkit import settle
from textual.widgets import Static

from roamtui.history.timeparse import format_time
from roamtui.ui import render
from roamtui.ui.factory import demo_app
from roamtui.ui.runs import Run, crop_right, fit_row, runs_width
from roamtui.ui.transcript import Transcript
from roamtui.ui.widgets.filter_view import FilterView

END = 1_760_000_000


def test_a_row_cut_at_a_run_boundary_still_ends_in_an_ellipsis() -> None:
    # Once the cut fell exactly after a whole run and the rest went without a trace.
    assert crop_right([Run("abcde", "a"), Run("fgh", "b")], 5) == [Run("abcd", "a"),
                                                                   Run("…", render.FOLD)]
    assert crop_right([Run("你好世界", "a")], 6) == [Run("你好", "a"), Run("…", render.FOLD)]
    tail = [Run(" ✓", render.READ)]
    assert fit_row([Run("x" * 30, "t")], tail, 12) == [Run("x" * 9, "t"), Run("…", render.FOLD),
                                                       *tail]
    assert fit_row([Run("short", "t")], tail, 12) == [Run("short", "t"), *tail]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("ab 你好😀")), max_size=15), max_size=4),
       st.integers(min_value=1, max_value=30))
def test_a_fitted_row_never_exceeds_its_room_and_keeps_its_tail(parts: list[str], room: int
                                                                 ) -> None:
    runs = [Run(text, "t") for text in parts]
    tail = [Run(" ✓", render.READ)]
    fitted = fit_row(runs, tail, room + 2)
    assert runs_width(fitted) <= room + 2 and fitted[-1] == tail[0]
    cut = runs_width(runs) > room
    assert (fitted[-2:-1] == [Run("…", render.FOLD)]) == cut


def _rows(view: FilterView) -> list[str]:
    """The lines drawn on screen, from the top of the view."""
    return [view.render_line(y).text for y in range(view.scrollable_content_region.height)]


async def test_long_rows_end_in_an_ellipsis_and_keep_the_read_mark() -> None:
    for width in (60, 120):
        with demo_app(in_process=True, end_time=END) as app:
            async with app.run_test(size=(width, 24)) as pilot:
                await settle(pilot)
                await pilot.press(*":filter from agent_alice", "enter")
                await settle(pilot)
                view = app.screen.query_one(FilterView)
                await pilot.press("g")  # from the first match: line k of the view is known
                await settle(pilot)
                lines, messages = _rows(view), iter(view.shown_messages)
                cut = 0
                for line in lines:
                    assert cell_len(line) <= view.scrollable_content_region.width
                    if not line.startswith("▸ "):
                        continue
                    message = next(messages)
                    body = render.plain(tuple(render.body_runs(message)))
                    if message.is_peer_read:
                        assert line.rstrip().endswith(render.READ_MARK), (width, line)
                    if body.rstrip(" ✓")[-3:] not in line:  # its end is not shown: cut
                        cut += 1
                        assert "…" in line, (width, line)
                assert cut or width == 120  # at 60 columns most rows are cut


async def test_one_sided_rows_carry_the_badge_and_the_position_line_follows() -> None:
    with demo_app(in_process=True, both_sides=True, end_time=END) as app:
        async with app.run_test(size=(100, 24)) as pilot:
            await settle(pilot)
            await pilot.press("percent_sign")
            await settle(pilot)
            view = app.screen.query_one(FilterView)
            matches = [line for line in _rows(view) if line.startswith("▸ ")]
            assert matches and all(render.HELD_MARK in line for line in matches), matches
            await pilot.resize_terminal(60, 24)  # no room for the name: the mark alone
            await settle(pilot)
            matches = [line for line in _rows(view) if line.startswith("▸ ")]
            assert matches and all("◧ " in line and cell_len(line) <= 58 for line in matches)
            assert all(line.rstrip().endswith(("…", "✓")) or len(line.rstrip()) < 58
                       for line in matches), matches
            await pilot.resize_terminal(100, 24)
            await settle(pilot)
            at = app.screen.query_one("#position-at", Static)
            tz = app.screen.target.tz  # type: ignore[attr-defined]
            for key in ("k", "k", "g"):
                await pilot.press(key)
                await settle(pilot)
                selected = view.selected_message
                assert selected is not None
                assert format_time(selected.time, tz, "%Y-%m-%d %H:%M:%S") in str(at.render())
            await pilot.press("escape")  # the transcript at the selected message, shown there
            await settle(pilot)
            cursor = app.screen.query_one(Transcript).cursor_message
            assert cursor is not None and cursor.key == selected.key
            assert format_time(cursor.time, tz, "%Y-%m-%d %H:%M:%S") in str(at.render())
