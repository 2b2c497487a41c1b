"""The app shell driven as a user would: demo start, swap sides, :goto, retry, help, palette,
the secret prompt, and the start-up checks of `roamtui [ACCOUNT PEER]`.

Every app is built by roamtui.factory.make_app over the in-process sandbox (shellkit).
"""

from __future__ import annotations

import argparse
import io
import threading
from typing import Any

import pytest
from rich.cells import cell_len
from shellkit import (
    SHANGHAI,
    Sandbox,
    build_app,
    make_sandbox,
    record_notices,
    settle,
)
from textual.binding import Binding
from textual.widgets import Input, Select, Static

from roamtui.cli.browse import run_demo, run_tui
from roamtui.history.timeparse import format_time
from roamtui.im.client import Connection
from roamtui.sandbox import DEMO_ADMIN, DEMO_SDKAPPID, DEMO_SECRET_KEY, demo_connection
from roamtui.settings.connection import Resolved
from roamtui.settings.credentials import CredentialError
from roamtui.ui.app import RoamApp
from roamtui.ui.commands import RoamCommands
from roamtui.ui.factory import IN_PROCESS_ENDPOINT
from roamtui.ui.screens.browse import BrowseScreen
from roamtui.ui.screens.help import HelpScreen
from roamtui.ui.screens.query import QueryScreen
from roamtui.ui.screens.secret_prompt import SecretPrompt
from roamtui.ui.transcript import Transcript

SIZE = (120, 40)


def text_of(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def transcript_of(app: RoamApp) -> Transcript:
    return app.screen.query_one(Transcript)


def stamp(t: int) -> str:
    return format_time(t, SHANGHAI, "%Y-%m-%d %H:%M:%S")


async def test_demo_opens_on_the_newest_messages(sandbox: Sandbox) -> None:
    app = build_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
        newest = sandbox.messages()[-1]
        transcript = transcript_of(app)
        assert transcript.cursor_message is not None
        assert transcript.cursor_message.key == newest["MsgKey"]
        # the newest end is in view (the last lines may be the end-of-window banner)
        assert transcript.max_scroll_y - transcript.scroll_y < transcript.size.height // 4
        assert stamp(newest["MsgTimeStamp"]) in text_of(app.screen, "#position-at")
        status = text_of(app.screen, "#status-who")
        # Both parties named, by nickname and account (the demo's accounts have nicknames).
        assert f"({sandbox.account}) ⇄ " in status and status.count(f"({sandbox.peer})") == 1
        assert "demo" in status
        assert "loaded" in text_of(app.screen, "#status-stats")
        assert "Asia/Shanghai" in text_of(app.screen, "#position-window")


async def test_p_reads_the_other_side_at_the_same_message(sandbox: Sandbox) -> None:
    app = build_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("k", "k", "k")
        before = transcript_of(app).cursor_message
        assert before is not None
        await pilot.press("p")
        await settle(pilot)
        transcript = transcript_of(app)
        assert transcript.timeline.query.account == sandbox.peer
        assert transcript.timeline.query.peer == sandbox.account
        # The side read is the account shown first (and named by `side:` when there is room).
        who = text_of(app.screen, "#status-who")
        assert f"{sandbox.peer}) ⇄ " in who or f" {sandbox.peer} ⇄ " in who
        assert f"side: {sandbox.account}" not in who
        after = transcript.cursor_message
        assert after is not None and after.key == before.key
        await pilot.press("p")
        await settle(pilot)
        assert transcript_of(app).timeline.query.account == sandbox.account


async def test_goto_lands_on_the_first_message_at_that_time(sandbox: Sandbox) -> None:
    messages = sandbox.messages()
    target = messages[len(messages) // 3]
    when = target["MsgTimeStamp"]
    expected = next(m for m in messages if m["MsgTimeStamp"] >= when)
    app = build_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("colon", *f"goto {stamp(when)}", "enter")
        await settle(pilot)
        transcript = transcript_of(app)
        assert transcript.cursor_message is not None
        assert transcript.cursor_message.key == expected["MsgKey"]
        assert stamp(expected["MsgTimeStamp"]) in text_of(app.screen, "#position-at")
        assert transcript.has_focus  # the prompt closed and gave the keys back


async def test_goto_relative_is_counted_from_the_cursor(sandbox: Sandbox) -> None:
    app = build_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        cursor = transcript_of(app).cursor_message
        assert cursor is not None
        wanted = cursor.time - 6 * 3600
        # A step back, as D and O: the last message at or before the time it names.
        expected = [m for m in sandbox.messages() if m["MsgTimeStamp"] <= wanted][-1]
        await pilot.press("t", *"-6h", "enter")  # `t` opens the prompt with "goto " typed
        await settle(pilot)
        landed = transcript_of(app).cursor_message
        assert landed is not None and landed.key == expected["MsgKey"]


async def test_bad_commands_and_times_are_one_line_notices(sandbox: Sandbox) -> None:
    app = build_app(sandbox)
    notices = record_notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("colon", *"jump 10:40", "enter")
        await pilot.press("colon", *"goto yesterdayish", "enter")
        await pilot.press("colon", *"goto 2019-01-01 10:00", "enter")
        await settle(pilot)
        warnings = notices.texts("warning")
        assert any("unknown command 'jump'" in w for w in warnings)
        assert any("cannot read 'yesterdayish'" in w for w in warnings)
        assert any("outside the window" in w for w in warnings)
        assert all("\n" not in w for w in warnings)
        assert isinstance(app.screen, BrowseScreen)


async def test_a_failed_load_is_reported_and_r_retries() -> None:
    box = make_sandbox(failures=1)
    app = build_app(box)
    notices = record_notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        transcript = transcript_of(app)
        assert transcript.cursor_message is None
        errors = notices.texts("error")
        assert len(errors) == 1 and "60006" in errors[0] and "press r to retry" in errors[0]
        # The service's ErrorInfo is untrusted: the notice must not be parsed as markup.
        assert all(not markup for _, severity, markup in notices.seen if severity == "error")
        await pilot.press("r")
        await settle(pilot)
        newest = box.messages()[-1]
        assert transcript.timeline.index_of_key(newest["MsgKey"]) is not None
        assert "0 loaded" not in text_of(app.screen, "#status-stats")


def _keys_of(binding: Binding, app: RoamApp) -> list[str]:
    return [app.get_key_display(b) for b in Binding.make_bindings([binding])]


async def test_help_lists_every_binding_of_the_app_screen_and_transcript(sandbox: Sandbox) -> None:
    app = build_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        shown = "\n".join(str(s.render()) for s in app.screen.query(Static))
        bindings = [
            *Binding.make_bindings(RoamApp.BINDINGS),
            *Binding.make_bindings(BrowseScreen.BINDINGS),
            *Binding.make_bindings(Transcript.BINDINGS),
        ]
        assert bindings
        for binding in bindings:
            if binding.system and not binding.description:
                continue
            if binding.action == "back":  # opened from the command line: q quits, Esc goes back
                continue
            for key in _keys_of(binding, app):
                assert key in shown, f"{key} ({binding.description}) missing from help"
            assert binding.description in shown
        assert "goto TIME" in shown  # the : commands too
        assert "close search / drop filter / back" in shown
        assert "IsPeerRead" in shown and "⟲ recalled" in shown  # the marks legend
        await pilot.press("escape")
        assert isinstance(app.screen, BrowseScreen)


async def test_palette_offers_every_action_of_the_screen(sandbox: Sandbox) -> None:
    app = build_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        provider = RoamCommands(app.screen)
        titles = [hit.text for hit in [h async for h in provider.discover()]]
        for expected in (
            "Transcript screen: Swap sides",
            "Transcript screen: Go to time",
            "Transcript: Retry load",
            "Transcript: Newest end of the window",
            "Everywhere: Help",
            "Theme: ANSI dark (terminal colours)",
        ):
            assert expected in titles
        hits = [h async for h in provider.search("swap sides")]
        assert hits and hits[0].text == "Transcript screen: Swap sides"
        await hits[0].command()
        await settle(pilot)
        assert transcript_of(app).timeline.query.account == sandbox.peer


async def test_themes_cycle_through_dark_light_and_ansi(sandbox: Sandbox) -> None:
    app = build_app(sandbox, open_transcript=False, theme="textual-dark")
    async with app.run_test(size=SIZE) as pilot:
        seen = [app.theme]
        for _ in range(4):
            await pilot.press("ctrl+t")
            seen.append(app.theme)
        assert seen == ["textual-dark", "textual-light", "ansi-dark", "ansi-light", "textual-dark"]


async def test_q_quits_a_transcript_opened_from_the_command_line(sandbox: Sandbox) -> None:
    app = build_app(sandbox)  # as `roamtui ACCOUNT PEER` opens it
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0 and not app.is_running


async def test_esc_goes_back_there_q_stays_text_and_the_form_has_a_quit_button(
    sandbox: Sandbox,
) -> None:
    app = build_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("escape")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, QueryScreen)
        assert screen.query_one("#account", Input).value == sandbox.account
        assert screen.query_one("#peer", Input).value == sandbox.peer
        assert "Open transcript" in str(screen.query_one("#open").render())
        field = screen.query_one("#peer", Input)
        field.focus()
        await pilot.press("end", "q")
        assert field.value == sandbox.peer + "q" and app.is_running  # q typed is text
        await pilot.press("backspace", "ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)  # opened from the form: q goes back to it
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, QueryScreen) and app.is_running
        assert "Quit" in str(app.screen.query_one("#quit").render())
        await pilot.click("#quit")
        await pilot.pause()
        assert app.return_code == 0 and not app.is_running


async def test_a_missing_secret_is_asked_for_and_kept_in_memory(sandbox: Sandbox) -> None:
    bare = Connection(IN_PROCESS_ENDPOINT, DEMO_SDKAPPID, DEMO_ADMIN)
    app = build_app(sandbox, connection=bare)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SecretPrompt)
        secret_input = app.screen.query_one("#secret-value", Input)
        assert secret_input.password
        secret_input.value = DEMO_SECRET_KEY
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
        assert transcript_of(app).cursor_message is not None
        assert DEMO_SECRET_KEY not in repr(app.session.resolved)


async def test_cancelling_the_secret_prompt_stays_on_the_query_screen(sandbox: Sandbox) -> None:
    bare = Connection(IN_PROCESS_ENDPOINT, DEMO_SDKAPPID, DEMO_ADMIN)
    app = build_app(sandbox, connection=bare)
    notices = record_notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, QueryScreen)
        assert any("No secret given" in n for n in notices.texts("warning"))


async def test_resize_to_80x24_keeps_the_cursor_and_the_chrome(sandbox: Sandbox) -> None:
    app = build_app(sandbox)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        before = transcript_of(app).cursor_message
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        transcript = transcript_of(app)
        assert transcript.cursor_message == before
        for selector in ("#status", "#position"):
            region = app.screen.query_one(selector).region
            assert region.height == 1 and region.width == 80
        assert transcript.region.height == 24 - 3  # status, position line, footer
        # Nothing that matters is cut off: who is read, and when the cursor is.
        for selector in ("#status-who", "#position-at"):
            shown = app.screen.query_one(selector, Static)
            assert cell_len(str(shown.render())) <= shown.region.width, selector
        assert f"{sandbox.account} ⇄ {sandbox.peer}" in text_of(app.screen, "#status-who")


def _args(**values: Any) -> argparse.Namespace:
    base: dict[str, Any] = {
        name: None
        for name in (
            "account", "peer", "since", "until", "tz", "profile", "endpoint", "region",
            "sdkappid", "identifier", "max_rps", "page_size", "api_fields",
        )
    }
    base["debug"] = False
    base.update(values)
    return argparse.Namespace(**base)


def test_bad_demo_arguments_end_in_one_line() -> None:
    err = io.StringIO()
    args = argparse.Namespace(messages=100, latency_ms=0, seed=0, tz="Mars/Base", debug=False)
    assert run_demo(args, err=err) == 2
    assert err.getvalue().startswith("roamtui: unknown time zone 'Mars/Base'")
    assert len(err.getvalue().splitlines()) == 1


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({}, "no connection given"),
        ({"account": "a"}, "give both ACCOUNT and PEER"),
        (
            {"account": "a", "peer": "b", "since": "last tuesday", "endpoint": "http://127.0.0.1:9",
             "sdkappid": "1400000000", "identifier": "admin"},
            "cannot read 'last tuesday'",
        ),
        (
            {"account": "a", "peer": "b", "tz": "Mars/Base", "endpoint": "http://127.0.0.1:9",
             "sdkappid": "1400000000", "identifier": "admin"},
            "unknown time zone",
        ),
    ],
)
def test_bad_start_arguments_end_in_one_line(values: dict[str, Any], says: str) -> None:
    err = io.StringIO()
    assert run_tui(_args(**values), err=err) == 2
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("roamtui: ") and says in lines[0]
    assert "Traceback" not in err.getvalue()


async def test_another_profile_is_resolved_off_the_ui_thread(sandbox: Sandbox) -> None:
    threads: list[str] = []

    def resolve(name: str) -> Resolved:
        threads.append(threading.current_thread().name)
        if name == "broken":
            raise CredentialError("locked", "the keyring is locked; unlock it or set the env var")
        return Resolved.given(demo_connection(IN_PROCESS_ENDPOINT), profile_name=name)

    profiles = ["demo", "other", "broken"]
    app = build_app(sandbox, open_transcript=False, profiles=profiles, resolve_profile=resolve)
    notices = record_notices(app)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        screen.query_one("#account", Input).value = sandbox.account
        screen.query_one("#peer", Input).value = sandbox.peer
        select: Select[str] = screen.query_one("#profile", Select)
        select.value = "broken"
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, QueryScreen)
        assert any("keyring is locked" in n for n in notices.texts("error"))
        select.value = "other"
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert isinstance(app.screen, BrowseScreen)
        assert text_of(app.screen, "#status-who").startswith(" other │")
        assert transcript_of(app).cursor_message is not None
    assert threads and threading.main_thread().name not in threads
