"""Marks and notes in the TUI, driven as a user would: `m`, `'`/`"`, `a`/`:note`, `:marks clear`;
kept across runs (a new app on the same data dir); a marked message the service stopped
returning reported; hostile notes inert."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shellkit import (
    END,
    SHANGHAI,
    WEEK,
    build_app,
    clock,
    make_sandbox,
    record_notices,
    settle,
)
from textual.widgets import Checkbox, Input, RadioButton, Static

from roamtui.im.model import message_obj
from roamtui.sandbox import DEMO_SDKAPPID, ListStore, SandboxService, demo_connection
from roamtui.settings.marks import MarkStore, Pair
from roamtui.ui.app import RoamApp
from roamtui.ui.factory import IN_PROCESS_ENDPOINT, make_app
from roamtui.ui.screens.export_dialog import ExportDialog
from roamtui.ui.screens.inspector import InspectorScreen, plain_text
from roamtui.ui.search_controller import SearchPane
from roamtui.ui.transcript import Transcript
from roamtui.ui.transcript.strips import MARK_GLYPH, NOTE_GLYPH
from roamtui.ui.widgets.command_line import Command, CommandError, parse_command

SIZE = (120, 40)
ME, PEER = "alice", "bob"


def transcript_of(app: RoamApp) -> Transcript:
    return app.screen.query_one(Transcript)


def status(app: RoamApp) -> str:
    return str(app.screen.query_one("#status-stats", Static).render())


def gutters(t: Transcript) -> dict[str, str]:
    """The gutter cell of each message's first line on screen, by the message's MsgKey."""
    out: dict[str, str] = {}
    layout, index = t.row_layout, t.row_layout.index
    for y in range(t.viewport_height):
        line = t.top_line + y
        if line >= index.total:
            break
        row, offset = index.row_at(line)
        msg = layout.message(row)
        if msg is not None and offset == 0:
            out[msg.key] = t.render_line(y).text[0]
    return out


def list_app(messages: list[dict[str, Any]], store: MarkStore) -> RoamApp:
    service = SandboxService(ListStore({(ME, PEER): messages}), rate_limit=None)
    return make_app(connection=demo_connection(IN_PROCESS_ENDPOINT), account=ME, peer=PEER,
                    window=(END - WEEK, END), tz=SHANGHAI, transport=service.mock_transport(),
                    profile_name="demo", clock=clock, marks=store)


def chat(n: int) -> list[dict[str, Any]]:
    return [message_obj(sender=ME if i % 2 else PEER, receiver=PEER if i % 2 else ME,
                        time=END - 3600 + 60 * i, text=f"line {i}", seq=100 + i, random=i + 1)
            for i in range(n)]


async def test_marks_and_notes_survive_a_restart(tmp_path: Path) -> None:
    sandbox = make_sandbox(300)
    path = tmp_path / "data" / "marks.json"
    app = build_app(sandbox, marks=MarkStore(path))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        t = transcript_of(app)
        marked = []
        for _ in range(3):
            assert t.cursor_message is not None
            marked.append(t.cursor_message.key)
            await pilot.press("m", "k", "k")
        await pilot.press("j", "j")  # back on the oldest of the three
        assert t.cursor_message is not None and t.cursor_message.key == marked[2]
        await pilot.press("a", *"why", "enter")
        await settle(pilot)
        assert "3 marked" in status(app)
        shown = gutters(t)
        assert shown[marked[0]] == MARK_GLYPH and shown[marked[1]] == MARK_GLYPH
        assert shown[marked[2]] == NOTE_GLYPH
        assert sum(1 for glyph in shown.values() if glyph != " ") == 3
    # A new app on the same data dir: the same marks and note, drawn and counted.
    again = build_app(sandbox, marks=MarkStore(path))
    async with again.run_test(size=SIZE) as pilot:
        await settle(pilot)
        t = transcript_of(again)
        assert "3 marked" in status(again)
        shown = gutters(t)
        assert [shown[k] for k in marked] == [MARK_GLYPH, MARK_GLYPH, NOTE_GLYPH]
        await pilot.press("quotation_mark", "quotation_mark")  # newest mark is under the cursor
        await settle(pilot)
        assert t.cursor_message is not None and t.cursor_message.key == marked[2]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(again.screen, InspectorScreen)
        assert "why" in plain_text(again.screen.items)
        await pilot.press("escape", "apostrophe")
        await settle(pilot)
        assert t.cursor_message is not None and t.cursor_message.key == marked[1]
        again.screen.action_command_line("marks clear")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        assert "marked" not in status(again)
    assert len(MarkStore(path).book(Pair(DEMO_SDKAPPID, sandbox.account, sandbox.peer))) == 0


async def test_a_mark_that_is_not_loaded_is_fetched_and_landed_on() -> None:
    sandbox = make_sandbox(600)
    oldest = sandbox.messages()[1]
    store = MarkStore.memory()
    store.book(Pair(DEMO_SDKAPPID, sandbox.account, sandbox.peer)).toggle(
        oldest["MsgKey"], oldest["MsgTimeStamp"])
    app = build_app(sandbox, marks=store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        t = transcript_of(app)
        assert t.timeline.index_of_key(oldest["MsgKey"]) is None  # only the newest pages
        await pilot.press("quotation_mark")
        await settle(pilot)
        assert t.cursor_message is not None and t.cursor_message.key == oldest["MsgKey"]
        assert gutters(t)[oldest["MsgKey"]] == MARK_GLYPH


async def test_a_marked_message_the_service_no_longer_returns_is_reported(tmp_path: Path) -> None:
    messages = chat(30)
    gone, kept = messages[12], messages[20]
    store = MarkStore(tmp_path / "marks.json")
    book = store.book(Pair(DEMO_SDKAPPID, ME, PEER))
    book.toggle(gone["MsgKey"], gone["MsgTimeStamp"])
    book.toggle(kept["MsgKey"], kept["MsgTimeStamp"])
    app = list_app([m for m in messages if m is not gone], MarkStore(tmp_path / "marks.json"))
    notices = record_notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert transcript_of(app).timeline.complete
        warned = [n for n in notices.texts("warning") if "no longer" in n]
        assert len(warned) == 1 and gone["MsgKey"] in warned[0] and kept["MsgKey"] not in warned[0]
        assert "2 marked (1 not returned)" in status(app)
        await pilot.press("G", "quotation_mark", "quotation_mark")  # skips the missing one
        await settle(pilot)
    assert MarkStore(tmp_path / "marks.json").book(Pair(DEMO_SDKAPPID, ME, PEER)).is_marked(
        gone["MsgKey"])  # reported, never dropped


async def test_hostile_notes_stay_inert(tmp_path: Path) -> None:
    hostile = "[bold red]boom[/] \x1b[2J\x1b]52;c;aGk=\x07 \u202eevil"
    app = list_app(chat(5), MarkStore(tmp_path / "marks.json"))
    notices = record_notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.action_command_line(f"note {hostile}")  # a pasted line, escapes and all
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, InspectorScreen)
        text = plain_text(screen.items)
        assert "[bold red]boom[/]" in text  # shown as typed, never as markup
        assert "\x1b" not in text and "\u202e" not in text and "\x07" not in text
        drawn = "".join(str(w.render()) for w in screen.query(Static))
        assert "[bold red]boom[/]" in drawn and "\x1b" not in drawn
        await pilot.press("escape", "a")
        await settle(pilot)
        prompt = app.screen.query_one("#command").value  # type: ignore[attr-defined]
        assert prompt.startswith("note [bold red]boom[/]") and "\x1b" not in prompt
        assert all(markup is False for _, _, markup in notices.seen)


def test_note_and_marks_commands_parse() -> None:
    assert parse_command(":note  refund [b]x[/b] ") == Command("note", "refund [b]x[/b]")
    assert parse_command("note") == Command("note", "")
    assert parse_command("marks clear") == Command("marks", "clear")
    assert parse_command("marks") == Command("marks", "")
    for bad in ("marks drop", "marks all"):
        try:
            parse_command(bad)
        except CommandError as exc:
            assert "marks clear" in str(exc)
        else:
            raise AssertionError(bad)


async def test_e_exports_marked_only_with_context_and_the_note_inert(tmp_path: Path) -> None:
    messages = chat(30)
    store = MarkStore(tmp_path / "marks.json")
    book = store.book(Pair(DEMO_SDKAPPID, ME, PEER))
    for i in (4, 5, 20):
        book.toggle(messages[i]["MsgKey"], messages[i]["MsgTimeStamp"])
    book.set_note(messages[20]["MsgKey"], messages[20]["MsgTimeStamp"], "<b>why</b> \x1b[31m")
    app = list_app(messages, store)
    notices = record_notices(app)
    target = tmp_path / "marked.html"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        assert "3 marked" in str(dialog.query_one("#export-marked", Checkbox).label)
        dialog.query_one("#export-html", RadioButton).value = True
        dialog.query_one("#export-marked", Checkbox).value = True
        await pilot.pause()
        assert "-marked" in dialog.query_one("#export-path", Input).value
        dialog.query_one("#export-context", Input).value = "1"
        dialog.query_one("#export-path", Input).value = str(target)
        await pilot.click("#export-go")
        for _ in range(100):
            await settle(pilot)
            if not isinstance(app.screen, ExportDialog):
                break
    page = target.read_text("utf-8")
    keys = [m["MsgKey"] for i, m in enumerate(messages) if i in (3, 4, 5, 6, 19, 20, 21)]
    assert [k for k in keys if f'id="{k}"' in page] == keys and page.count('<article') == 7
    assert "SELECTION" in page and "7 of the 30 messages" in page
    assert "&lt;b&gt;why&lt;/b&gt;" in page and "<b>why</b>" not in page and "\x1b" not in page
    said = [n for n in notices.texts() if "7 of 30 messages (marked only)" in n]
    assert said and "a selection" in said[0] and "complete" not in said[0]


async def test_m_shows_only_the_marked_messages_with_a_line_of_context(tmp_path: Path) -> None:
    messages = chat(30)
    store = MarkStore.memory()
    book = store.book(Pair(DEMO_SDKAPPID, ME, PEER))
    for i in (4, 5, 20):
        book.toggle(messages[i]["MsgKey"], messages[i]["MsgTimeStamp"])
    app = list_app(messages, store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("M")
        await settle(pilot)
        pane = app.screen.query_one(SearchPane)
        view = pane.filter_view
        assert pane.filtering and view.match_count == 3
        drawn = [str(view.render_line(y).text) for y in range(5)]
        # 3 (context), 4, 5 (its context is 4, a match), 19 (context), 20
        assert [line.split()[-1] for line in drawn] == ["3", "4", "5", "19", "20"]
        assert drawn[0].startswith("  ") and drawn[1].startswith("▸ ")
        await pilot.press("k", "k", "enter")  # the first marked message, in the transcript
        await settle(pilot)
        t = transcript_of(app)
        assert not pane.filtering and t.cursor_message is not None
        assert t.cursor_message.key == messages[4]["MsgKey"]


async def test_the_marked_view_fetches_the_rest_of_the_window_first() -> None:
    sandbox = make_sandbox(600)
    oldest = sandbox.messages()[2]
    store = MarkStore.memory()
    store.book(Pair(DEMO_SDKAPPID, sandbox.account, sandbox.peer)).toggle(
        oldest["MsgKey"], oldest["MsgTimeStamp"])
    app = build_app(sandbox, marks=store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not transcript_of(app).timeline.complete
        app.screen.action_command_line("marks")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await settle(pilot)
        view = app.screen.query_one(SearchPane).filter_view
        assert view.match_count == 1 and view.selected_message is not None
        assert view.selected_message.key == oldest["MsgKey"]


async def test_a_missing_mark_is_reported_once_its_stretch_is_loaded_not_before() -> None:
    sandbox = make_sandbox(600)
    objs = sandbox.messages()
    newest, oldest = objs[-1], objs[0]
    store = MarkStore.memory()
    book = store.book(Pair(DEMO_SDKAPPID, sandbox.account, sandbox.peer))
    book.toggle("gone_near_the_end", newest["MsgTimeStamp"] - 1)  # inside the first page
    book.toggle("gone_at_the_start", oldest["MsgTimeStamp"])  # not loaded yet: unknown
    app = build_app(sandbox, marks=store)
    notices = record_notices(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not transcript_of(app).timeline.complete
        warned = [n for n in notices.texts("warning") if "no longer" in n]
        assert len(warned) == 1 and "gone_near_the_end" in warned[0]
        assert "gone_at_the_start" not in warned[0]
        assert "2 marked (1 not returned)" in status(app)


async def test_m_in_the_marked_view_unmarks_the_selected_one_and_the_view_follows() -> None:
    messages = chat(30)
    store = MarkStore.memory()
    book = store.book(Pair(DEMO_SDKAPPID, ME, PEER))
    for i in (4, 20):
        book.toggle(messages[i]["MsgKey"], messages[i]["MsgTimeStamp"])
    app = list_app(messages, store)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("M")
        await settle(pilot)
        view = app.screen.query_one(SearchPane).filter_view
        await pilot.press("G")  # the last marked one in the view
        await settle(pilot)
        assert view.match_count == 2 and view.selected_message is not None
        assert view.selected_message.key == messages[20]["MsgKey"]
        await pilot.press("m")  # the selected one, not the hidden transcript's cursor (29)
        await settle(pilot)
        assert not book.is_marked(messages[20]["MsgKey"]) and book.is_marked(messages[4]["MsgKey"])
        assert not book.is_marked(messages[29]["MsgKey"])
        assert view.match_count == 1 and "1 marked" in status(app)
        await pilot.press("M")  # again: everything
        await settle(pilot)
        assert not app.screen.query_one(SearchPane).filtering
