"""Filters by kind and sender as a support agent uses them: `:filter recalled` shows every
recalled message of the window (not only the loaded ones), `from NAME` adds a sender, the
search combines with both, `!` and `@` toggle them, the status bar says what is in force."""

from __future__ import annotations

from shellkit import Sandbox, build_app, record_notices, settle
from textual.widgets import Static

from roamtui.im.model import parse_message
from roamtui.ui.search_controller import SearchPane
from roamtui.ui.widgets.filter_view import FilterView
from roamtui.ui.widgets.status_bar import StatusBar

SIZE = (120, 40)


def who(app: object) -> str:
    """The status bar's text (who, then the counts)."""
    screen = app.screen  # type: ignore[attr-defined]
    return "".join(str(screen.query_one(f"#status-{part}", Static).render())
                   for part in ("who", "stats"))


def shown(app: object) -> list[str]:
    """MsgKeys of the filter view's rows."""
    view = app.screen.query_one(FilterView)  # type: ignore[attr-defined]
    return [msg.key for msg in view.shown_messages] if view.display else []


async def command(pilot: object, text: str) -> None:
    await pilot.press("colon", *text, "enter")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]


async def test_filter_recalled_covers_the_whole_window_and_combines(sandbox: Sandbox) -> None:
    window = [parse_message(obj) for obj in sandbox.messages()]
    recalled = [m.key for m in window if m.recalled]
    alice_recalled = [m.key for m in window if m.recalled and m.sender == sandbox.peer]
    assert recalled and alice_recalled and len(alice_recalled) < len(recalled)
    app = build_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.screen.query_one(SearchPane)
        assert pane.transcript.timeline.loaded_count < len(window)  # only the newest pages
        await command(pilot, "filter recalled")
        assert pane.filtering and shown(app) == recalled
        assert "filter: recalled" in who(app)
        await command(pilot, f"filter from {sandbox.peer}")
        assert shown(app) == alice_recalled
        # At 120 columns the word goes before the counts' (status_bar.filter_forms).
        assert f"⧩ recalled · from {sandbox.peer} │" in who(app)
        await command(pilot, "filter clear")
        assert not pane.filtering and "filter:" not in who(app)


async def test_keys_toggle_and_the_search_narrows_the_filter(sandbox: Sandbox) -> None:
    window = [parse_message(obj) for obj in sandbox.messages()]
    app = build_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.screen.query_one(SearchPane)
        sender = pane.transcript.cursor_message.sender  # type: ignore[union-attr]
        await pilot.press("at")  # only the sender of the selected message
        await settle(pilot)
        assert shown(app) == [m.key for m in window if m.sender == sender]
        await pilot.press("exclamation_mark")  # and recalled
        await settle(pilot)
        assert shown(app) == [m.key for m in window if m.sender == sender and m.recalled]
        await pilot.press("at", "exclamation_mark")  # both off again
        await settle(pilot)
        assert not pane.filtering and "filter:" not in who(app)
        await pilot.press("exclamation_mark")
        await pilot.press("slash", *"退款", "enter")  # a search within the recalled ones
        await settle(pilot)
        wanted = [m.key for m in window if m.recalled and "退款" in m.search_text().casefold()]
        assert pane.session.results is not None
        keys = [pane.session.index.messages[i].key for i in pane.session.results.matches]
        assert keys == wanted


async def test_a_wrong_filter_is_one_line_naming_the_kinds(sandbox: Sandbox) -> None:
    app = build_app(sandbox)
    notices = record_notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await command(pilot, "filter recaled")
        [text] = notices.texts("warning")
        assert "unknown filter 'recaled'" in text and "recalled, non-text" in text
        assert "filter:" not in who(app)


async def test_a_command_closed_in_the_filter_view_leaves_its_keys_on_the_list(
    sandbox: Sandbox,
) -> None:
    """`:` then Esc (or an empty or failing command) in the filter view: Enter, m, y still act
    on the message selected in the list, not on the hidden transcript's cursor."""
    window = [parse_message(obj) for obj in sandbox.messages()]
    app = build_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        pane = app.screen.query_one(SearchPane)
        await command(pilot, "filter recalled")
        assert pane.filtering and isinstance(app.focused, FilterView)
        await pilot.press("colon", "escape")
        await settle(pilot)
        assert isinstance(app.focused, FilterView)
        await command(pilot, "")  # an empty command: a notice, the list keeps the keys
        assert isinstance(app.focused, FilterView)
        await command(pilot, "filter from nobody-at-all")  # leaves the list empty
        assert pane.filtering and isinstance(app.focused, FilterView)
        await command(pilot, "filter not from")
        chosen = pane.filter_view.selected_message
        assert chosen is not None and chosen.recalled
        await pilot.press("enter")  # shown in the transcript: the one chosen in the list
        await settle(pilot)
        assert not pane.filtering and pane.transcript.cursor_message == chosen
        assert chosen.key in {m.key for m in window if m.recalled}


async def test_filter_from_takes_the_nickname_shown_and_names_the_parties_otherwise(
    sandbox: Sandbox,
) -> None:
    window = [parse_message(obj) for obj in sandbox.messages()]
    app = build_app(sandbox)
    notices = record_notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        names = app.screen.query_one(StatusBar).names
        nickname = names.get(sandbox.peer)
        assert nickname, names  # the demo's agents have nicknames
        await command(pilot, f"filter from {nickname.upper()}")
        assert shown(app) == [m.key for m in window if m.sender == sandbox.peer]
        await command(pilot, "filter from someone-else")
        [said] = [n for n in notices.texts("warning") if "neither party" in n]
        assert sandbox.account in said and sandbox.peer in said and nickname in said
        assert shown(app) == [m.key for m in window if m.sender == sandbox.peer]  # unchanged


async def test_out_of_its_view_the_filter_in_force_says_how_to_list_it(sandbox: Sandbox) -> None:
    app = build_app(sandbox)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        pane = app.screen.query_one(SearchPane)
        await command(pilot, "filter recalled")
        assert pane.filtering and "filter: recalled │" in who(app)
        await pilot.press("escape")  # the whole transcript again; n/N still go by the filter
        await settle(pilot)
        assert not pane.filtering and "filter: recalled (n/N; & lists)" in who(app)
        await pilot.press("ampersand")
        await settle(pilot)
        assert pane.filtering and "filter: recalled │" in who(app)
