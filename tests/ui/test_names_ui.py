"""Who is who in the TUI: nicknames in the sender column (`i` for accounts), both parties in the
status bar, hostile nicknames inert, and the query screen's list of the account's
conversations (ctrl+l, Enter picks the peer and the window) with keys pressed while it loads."""

from __future__ import annotations

from typing import Any

from shellkit import END, SHANGHAI, Sandbox, build_app, make_sandbox, record_notices, settle
from textual.widgets import Input, OptionList, Static

from roamtui.history.rows import MessageRow
from roamtui.history.timeparse import parse_time
from roamtui.im.contacts import LOOKBACK
from roamtui.sandbox.directory import PORTRAIT_PATH, ApiError
from roamtui.ui.screens.browse import BrowseScreen
from roamtui.ui.screens.peers import PeersScreen
from roamtui.ui.screens.query import QueryScreen
from roamtui.ui.transcript import Transcript

HOSTILE = "[b]boss[/b]\x1b[31m\u202e"
SIZE = (120, 32)


def _hostile_box() -> Sandbox:
    box = make_sandbox(400)
    box.service.directory.nicknames[box.account] = HOSTILE
    box.service.directory.nicknames[box.peer] = "[red]Alice[/red]"
    return box


def _screen_text(transcript: Transcript) -> str:
    height = transcript.scrollable_content_region.height
    return "\n".join(transcript.render_line(y).text for y in range(height))


def _sender_cells(transcript: Transcript) -> set[str]:
    layout = transcript.row_layout
    tl = layout.timeline
    out = set()
    for i in range(len(tl)):
        if isinstance(tl.row(i), MessageRow):
            first = layout.lines(i)[0]
            out.add(first[2].text.strip())  # time, space, sender, ...
    return out


async def test_senders_show_nicknames_inert_and_i_shows_the_accounts() -> None:
    box = _hostile_box()
    app = build_app(box)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, BrowseScreen)
        transcript = screen.query_one(Transcript)
        senders = _sender_cells(transcript)
        assert senders == {"[b]boss[/b]␛[31…", "[red]Alice[/red]"}  # cut to the column
        shown = _screen_text(transcript)
        assert "[b]boss[/b]" in shown and "[red]Alice[/red]" in shown  # literally: no markup
        assert "\x1b" not in shown and "\u202e" not in shown
        # Wide enough for the nicknames beside the side label (narrower, the accounts alone).
        await pilot.resize_terminal(180, SIZE[1])
        await pilot.pause()
        status = str(screen.query_one("#status-who", Static).render())
        assert f"[b]boss[/b]␛[31m⟨U+202E⟩ ({box.account}) ⇄ [red]Alice[/red] ({box.peer})" in status
        await pilot.press("i")
        await pilot.pause()
        assert _sender_cells(transcript) == {box.account, box.peer}
        assert box.account in _screen_text(transcript)
        await pilot.press("i")
        await pilot.pause()
        assert "[red]Alice[/red]" in _sender_cells(transcript)


async def test_no_nickname_to_read_leaves_the_accounts() -> None:
    box = make_sandbox(300)

    def refuse(doc: dict[str, Any]) -> bytes:
        raise ApiError(40007, "Err_Profile_No_Permission")

    api = box.service.directory_api
    api.handlers = {**api.handlers, PORTRAIT_PATH: refuse}
    app = build_app(box)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        transcript = app.screen.query_one(Transcript)
        assert _sender_cells(transcript) == {box.account, box.peer}
        assert transcript.timeline.loaded_count > 0  # the transcript itself is unharmed


async def _open_list(pilot: Any, account: str) -> PeersScreen:
    query = pilot.app.screen
    assert isinstance(query, QueryScreen)
    query.query_one("#account", Input).value = account
    await pilot.press("ctrl+l")
    for _ in range(50):
        await pilot.pause()
        if isinstance(pilot.app.screen, PeersScreen):
            break
    screen = pilot.app.screen
    assert isinstance(screen, PeersScreen)
    return screen


async def test_the_query_screen_lists_the_conversations_and_enter_picks_one() -> None:
    box = make_sandbox(600)
    app = build_app(box, open_transcript=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        peers = await _open_list(pilot, "agent_alice")
        await settle(pilot)
        options = peers.query_one(OptionList)
        lines = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert [line.split()[0] for line in lines] == [c.peer for c in peers.conversations]
        assert {c.peer for c in peers.conversations} == {"cust_1001", "cust_1003"}
        shown = "\n".join(lines)
        assert "王小明" in shown and "[b]boss[/b]" in shown  # nicknames, literally
        status = str(peers.query_one("#peers-status", Static).render())
        assert "2 one-to-one conversation(s)" in status and "1 group" in status
        chosen = peers.conversations[0]
        await pilot.press("enter")
        await pilot.pause()
        query = app.screen
        assert isinstance(query, QueryScreen)
        assert query.query_one("#peer", Input).value == chosen.peer
        since = query.query_one("#since", Input).value
        assert chosen.last_time - LOOKBACK - 60 < parse_time(since, SHANGHAI) <= (
            chosen.last_time - LOOKBACK)
        await pilot.press("ctrl+o")
        await settle(pilot)
        browse = app.screen
        assert isinstance(browse, BrowseScreen)
        transcript = browse.query_one(Transcript)
        newest = transcript.cursor_message
        assert newest is not None and newest.time == chosen.last_time <= END


async def test_escape_while_the_list_loads_and_a_second_try() -> None:
    box = make_sandbox(300)
    box.service.faults.latency_ms = 300
    app = build_app(box, open_transcript=False)
    notices = record_notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await _open_list(pilot, "agent_bob")
        await pilot.press("escape")  # the first page is still in flight
        await pilot.pause()
        assert isinstance(app.screen, QueryScreen)
        await pilot.press("ctrl+l")  # the account is still there
        await settle(pilot, rounds=100)
        peers = app.screen
        assert isinstance(peers, PeersScreen)
        assert {c.peer for c in peers.conversations} == {"cust_1002", "cust_1006"}
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, QueryScreen)
        assert app.screen.query_one("#peer", Input).value == ""  # Esc picks nothing
    assert not notices.texts("error")


async def test_an_account_the_service_does_not_know_says_so_in_the_list() -> None:
    app = build_app(make_sandbox(200), open_transcript=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        peers = await _open_list(pilot, "nobody")
        await settle(pilot)
        status = str(peers.query_one("#peers-status", Static).render())
        assert status.startswith("Could not list the conversations: 50001")
        assert peers.query_one(OptionList).option_count == 0


async def test_a_bad_account_is_flagged_before_any_call() -> None:
    box = make_sandbox(200)
    app = build_app(box, open_transcript=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        before = box.service.stats().calls
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, QueryScreen)
        assert "Type the queried account" in str(app.screen.query_one("#account-error",
                                                                      Static).render())
        assert box.service.stats().calls == before
