"""The transcript screen at 80×24 and 60 columns as a user sees it: the footer keeps the keys
that matter, the status and position lines keep their fields apart, and a resize never takes
the cursor off its message or off the screen."""

from __future__ import annotations

from shellkit import Sandbox, build_app, settle
from textual.content import Content
from textual.widgets import Static

from roamtui.ui.factory import demo_app
from roamtui.ui.transcript import Transcript
from roamtui.ui.widgets.status_bar import KeyFooter, filter_forms


def _text(app: object, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())  # type: ignore[attr-defined]


def _footer_keys(app: object) -> set[str]:
    footer = app.screen.query_one(KeyFooter)  # type: ignore[attr-defined]
    return {str(getattr(k, "key", "")) for k in footer.children if k.display}


async def test_the_footer_at_80x24_keeps_quit_command_find_goto_export_and_swap(
    sandbox: Sandbox,
) -> None:
    app = build_app(sandbox)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert {"q", "colon", "slash", "t", "e", "p", "f1"} <= _footer_keys(app)
    async with build_app(sandbox).run_test(size=(60, 24)) as pilot:
        await settle(pilot)
        assert {"q", "colon", "f1"} <= _footer_keys(pilot.app)


async def test_at_60_columns_the_fields_stay_apart(sandbox: Sandbox) -> None:
    app = build_app(sandbox)
    async with app.run_test(size=(60, 24)) as pilot:
        await settle(pilot)
        who, stats = _text(app, "#status-who"), _text(app, "#status-stats")
        assert f"{sandbox.account} ⇄ {sandbox.peer}" in who  # whole, not cut
        assert " · partial · " in stats or " · complete · " in stats
        assert "⟲" in stats and len(who.rstrip()) + len(stats) <= 60
        at, window = _text(app, "#position-at"), _text(app, "#position-window")
        assert window.startswith("  ") and len(at) + len(window) <= 60
        assert "→" in window and "Asia/Shanghai" in window


async def test_a_resize_keeps_the_cursor_on_its_message_and_on_screen(sandbox: Sandbox) -> None:
    app = build_app(sandbox)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        t = app.screen.query_one(Transcript)
        await pilot.press(*"k" * 20)
        await settle(pilot)
        chosen = t.cursor_message
        for size in ((60, 24), (80, 24), (60, 16), (120, 40)):
            await pilot.resize_terminal(*size)
            await settle(pilot)
            await pilot.pause(0.1)
            assert t.cursor_message is chosen, size
            row = t.cursor_row
            assert row is not None
            index = t.row_layout.index
            top, view = t.top_line, t.viewport_height
            assert top <= index.start(row) and index.start(row + 1) <= top + view, size


async def test_both_sides_the_side_label_reads_whole_at_120_and_the_accounts_at_80() -> None:
    # The demo's nicknames once pushed `side: both` out at 120 (`si…`) and cut the accounts at 80:
    # the host, the call count and the nicknames go first, then the counts' words.
    cases = ((120, "side: both", "one-sided"), (80, "cust_1001 ⇄ agent_alice", "◧"))
    for width, wanted, one_sided in cases:
        with demo_app(in_process=True, both_sides=True, end_time=1_760_000_000) as app:
            async with app.run_test(size=(width, 24)) as pilot:
                await settle(pilot)
                who = app.screen.query_one("#status-who", Static)
                text = str(who.render())
                assert wanted in text
                assert Content(text).cell_length <= who.size.width, (width, text)
                assert one_sided in _text(app, "#status-stats")  # still says both sides' count


async def test_a_filter_shortens_before_the_parties_and_the_completeness_are_cut() -> None:
    # At 60 columns `filter: recalled · from agent_alice (n/N; & lists)` once pushed the parties
    # out (`…`) and cut the counts mid-word (`1,035 · comple`, `1,0`); at 80 the parties went.
    for width in (60, 80, 120):
        with demo_app(in_process=True, end_time=1_760_000_000) as app:
            async with app.run_test(size=(width, 24)) as pilot:
                await settle(pilot)
                for keys in ([*":filter recalled", "enter"], [*":filter from agent_alice",
                                                               "enter"], ["escape"]):
                    await pilot.press(*keys)
                    await settle(pilot)
                    who = app.screen.query_one("#status-who", Static)
                    stats = app.screen.query_one("#status-stats", Static)
                    shown_who, shown_stats = str(who.render()), str(stats.render())
                    assert "cust_1001 ⇄ agent_alice" in shown_who, (width, keys)
                    assert Content(shown_who).cell_length <= who.size.width, (width, shown_who)
                    assert Content(shown_stats).cell_length <= stats.size.width
                    assert who.size.width + stats.size.width <= width
                    assert "1,035 · complete" in shown_stats or "1,035 loaded · complete" in \
                        shown_stats, (width, shown_stats)
                    assert "⧩" in shown_stats or "filter" in shown_stats  # still says so


def test_the_filter_field_s_forms_shorten_the_hint_then_the_terms() -> None:
    assert filter_forms("recalled · from agent_alice (n/N; & lists)") == [
        "filter: recalled · from agent_alice (n/N; & lists)",
        "⧩ recalled · from agent_alice (n/N; & lists)",
        "⧩ recalled · from agent_alice", "⧩ recalled +1", "filter", "⧩ 2"]
    assert filter_forms("one-sided") == ["filter: one-sided", "⧩ one-sided", "filter", "⧩"]
