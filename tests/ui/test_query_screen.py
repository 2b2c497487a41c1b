"""The query screen: messages next to the field, presets, live window preview, submitting,
and recent queries that refill the form."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from searchkit import screen_text
from shellkit import Sandbox, build_app, settle
from textual.widgets import Input, OptionList, RadioSet, Static

from roamtui.settings.recent import RecentQueries, RecentQuery
from roamtui.ui.app import RoamApp
from roamtui.ui.screens.browse import BrowseScreen
from roamtui.ui.screens.query import QueryScreen, describe_span
from roamtui.ui.transcript import Transcript

SIZE = (120, 40)


def error_of(screen: Any, field: str) -> str:
    widget = screen.query_one(f"#{field}-error", Static)
    return str(widget.render()) if widget.display else ""


def field(screen: Any, name: str) -> Input:
    return screen.query_one(f"#{name}", Input)


async def fill(pilot: Any, **values: str) -> None:
    screen = pilot.app.screen
    for name, value in values.items():
        field(screen, name).value = value
    await pilot.pause()


def query_app(sandbox: Sandbox, tmp_path: Path | None = None) -> RoamApp:
    recent = RecentQueries(tmp_path / "recent.json") if tmp_path is not None else None
    return build_app(sandbox, open_transcript=False, recent=recent)


async def test_missing_accounts_are_flagged_next_to_their_fields(sandbox: Sandbox) -> None:
    app = query_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        assert isinstance(screen, QueryScreen)
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert "Type the queried account" in error_of(screen, "account")
        assert "Type the peer account" in error_of(screen, "peer")
        assert error_of(screen, "since") == ""
        assert field(screen, "account").has_focus  # the first problem gets the cursor
        assert isinstance(app.screen, QueryScreen)
        await pilot.press(*"cust_1001")
        assert error_of(screen, "account") == ""  # typing clears the message


async def test_bad_times_and_zone_are_flagged_next_to_their_fields(sandbox: Sandbox) -> None:
    app = query_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await fill(pilot, account="a", peer="b", since="last tuesday", until="-3x", tz="Mars/Base")
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert error_of(screen, "tz").startswith("unknown time zone 'Mars/Base'")
        await fill(pilot, tz="UTC")
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert "cannot read 'last tuesday'" in error_of(screen, "since")
        assert "cannot read '-3x'" in error_of(screen, "until")
        assert field(screen, "since").has_class("-invalid")
        await fill(pilot, since="-1h", until="-2h")
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert error_of(screen, "since") == ""
        assert "Until is before since" in error_of(screen, "until")
        assert isinstance(app.screen, QueryScreen)


async def test_same_account_twice_is_refused(sandbox: Sandbox) -> None:
    app = query_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await fill(pilot, account="cust_1001", peer="cust_1001")
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert "another account" in error_of(app.screen, "peer")
        await fill(pilot, peer="agent alice")
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert "spaces or control characters" in error_of(app.screen, "peer")


async def test_presets_fill_the_window_and_the_preview_follows(sandbox: Sandbox) -> None:
    app = query_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        preview = screen.query_one("#window-preview", Static)
        assert "(7 d)" in str(preview.render())
        radios = screen.query_one("#preset", RadioSet)
        radios.focus()
        await pilot.press("home", "enter")  # the first preset: 1 h
        await pilot.pause()
        assert (field(screen, "since").value, field(screen, "until").value) == ("-1h", "now")
        assert "(1 h)" in str(preview.render())
        assert "2020-03-20 09:00:00 → 2020-03-20 10:00:00" in str(preview.render())
        await fill(pilot, since="-90m")
        assert radios.pressed_index == 4  # typing a window of one's own means "custom"
        assert "(1 h 30 min)" in str(preview.render())
        await fill(pilot, since="-24h")
        assert radios.pressed_index == 2


async def test_submitting_opens_the_transcript_and_remembers_the_query(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    app = query_app(sandbox, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await fill(
            pilot, account=sandbox.account, peer=sandbox.peer, since="-2d", tz="Asia/Shanghai"
        )
        field(app.screen, "peer").focus()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
        target = app.screen.target
        assert (target.account, target.peer) == (sandbox.account, sandbox.peer)
        assert target.max_time - target.min_time == 2 * 86400
        transcript = app.screen.query_one(Transcript)
        assert transcript.cursor_message is not None
        assert transcript.cursor_message.key == sandbox.messages()[-1]["MsgKey"]
    stored = RecentQueries(tmp_path / "recent.json").load()
    assert stored == [
        RecentQuery(sandbox.account, sandbox.peer, "-2d", "now", "Asia/Shanghai", "demo")
    ]


async def test_an_account_the_service_does_not_know_is_not_kept_among_recent_queries(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    app = query_app(sandbox, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await fill(pilot, account=sandbox.account + "x", peer=sandbox.peer)  # a typo
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
        shown = "\n".join(screen_text(app.screen.query_one(Transcript)))
        assert "does not exist" in shown  # the user is told
        assert app.recent == []
        await pilot.press("escape")  # back to the form: fix it and go again
        await settle(pilot)
        await fill(pilot, account=sandbox.account)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert app.screen.query_one(Transcript).cursor_message is not None
    stored = RecentQueries(tmp_path / "recent.json").load()
    assert [(q.account, q.peer) for q in stored] == [(sandbox.account, sandbox.peer)]


async def test_recent_queries_are_listed_and_refill_the_form(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    store = RecentQueries(tmp_path / "recent.json")
    other, other_peer = sandbox.dataset.conversations[1]
    store.remember(RecentQuery(other, other_peer, "-1h", "now", "UTC", "demo"))
    store.remember(RecentQuery(sandbox.account, sandbox.peer, "yesterday", "today", "UTC", "demo"))
    app = query_app(sandbox, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        options = screen.query_one("#recent", OptionList)
        assert options.option_count == 2
        assert "yesterday … today" in str(options.get_option_at_index(0).prompt)
        options.focus()
        await pilot.press("down", "enter")  # the second entry
        await pilot.pause()
        assert field(screen, "account").value == other
        assert field(screen, "since").value == "-1h"
        assert field(screen, "tz").value == "UTC"
        assert screen.query_one("#preset", RadioSet).pressed_index == 0
        assert screen.query_one("#open").has_focus
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
        # the just-used query moves to the top of the list
        assert [q.account for q in store.load()] == [other, sandbox.account]


async def test_preview_shows_the_window_in_the_typed_zone(sandbox: Sandbox) -> None:
    app = query_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await fill(pilot, since="2020-03-19 08:00", until="2020-03-19 09:30", tz="UTC")
        shown = str(app.screen.query_one("#window-preview", Static).render())
        assert "2020-03-19 08:00:00 → 2020-03-19 09:30:00" in shown
        assert "(1 h 30 min)" in shown


def test_span_descriptions() -> None:
    assert describe_span(7 * 86400) == "7 d"
    assert describe_span(3600 + 1800) == "1 h 30 min"
    assert describe_span(86400 + 3600 + 60) == "1 d 1 h"
    assert describe_span(45) == "45 s"


async def test_at_60_columns_every_window_preset_and_the_whole_preview_are_shown(
    sandbox: Sandbox,
) -> None:
    app = query_app(sandbox)
    async with app.run_test(size=(60, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        form = screen.query_one("#query-form").content_region
        presets = list(screen.query("#preset RadioButton"))
        assert [str(b.label) for b in presets] == ["1 h", "today", "24 h", "7 d", "custom"]
        assert all(b.region.right <= form.right for b in presets)
        preview = screen.query_one("#window-preview", Static)
        assert preview.region.right <= form.right and preview.region.height >= 2  # wrapped
        assert "(7 d)" in str(preview.render())


async def test_tab_goes_from_account_to_peer(sandbox: Sandbox) -> None:
    app = query_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        field(screen, "account").focus()
        await pilot.press(*"cust_1003", "tab", *"agent_alice")
        assert field(screen, "account").value == "cust_1003"
        assert field(screen, "peer").value == "agent_alice"
        await pilot.click("#list-peers")  # the button still works, by mouse (and ctrl+l)
        await pilot.pause()
        assert not isinstance(app.screen, QueryScreen)


async def test_the_recent_list_says_when_queries_are_not_kept(sandbox: Sandbox,
                                                              tmp_path: Path) -> None:
    for app, says in ((query_app(sandbox), "are not kept (ROAMTUI_RECENT=off"),
                      (query_app(sandbox, tmp_path), "no recent queries yet")):
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            options = app.screen.query_one("#recent", OptionList)
            assert says in str(options.get_option_at_index(0).prompt)
