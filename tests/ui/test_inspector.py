"""The inspector (Enter), and copying text, MsgKey and raw JSON, driven through the real app."""

from __future__ import annotations

import json
from datetime import UTC
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from inspectkit import (
    ACCOUNT,
    PEER,
    T0,
    Notices,
    build_app,
    chatter,
    opened,
    record,
    text_body,
    until,
)
from textual.widget import Widget
from textual.widgets import Static

from roamtui.im.model import message_obj, parse_message
from roamtui.ui.clipboard import defuse_text, pretty_json
from roamtui.ui.screens.browse import BrowseScreen
from roamtui.ui.screens.inspector import Field, InspectorScreen, describe

HOSTILE = (
    "[@click=app.quit]press me[/] [b]bold[/b] \x1b[2J\x1b]52;c;ZXZpbA==\x07 bell\x07 "
    "\u202eevil\u202c zero\u200bwidth \x9b31m c1"
)
LONG = "\n".join(f"line {n:03} " + "x" * 70 for n in range(200))


def _rich_record(i: int, t: int) -> dict[str, Any]:
    """Every kind of field the inspector must show, unknown ones included."""
    inner = record(90, T0 - 86400, text="forwarded words")
    del inner["MsgKey"]
    body = [
        *text_body(LONG),
        {"MsgType": "TIMFileElem", "MsgContent": {
            "Url": "https://cos.example/f/1", "UUID": "file-uuid", "FileSize": 122880,
            "FileName": "invoice.pdf"}},
        {"MsgType": "TIMRelayElem", "MsgContent": {
            "Title": "chat history", "MsgNum": 1, "CompatibleText": "upgrade to view",
            "AbstractList": ["agent: hello"], "MsgList": [inner]}},
        {"MsgType": "TIMMysteryElem", "MsgContent": {"Secret": "sauce", "N": 3}},
    ]
    return record(i, t, body=body, flag_bits=8, is_peer_read=1,
                  CloudCustomData='{"ticket": 42}', MsgClientTime=t - 1)


def _at(widget: Widget, y: float) -> bool:
    return widget.scroll_y == y


def _inspector_text(screen: InspectorScreen) -> str:
    statics = screen.query(Static)
    return "\n".join(str(static.visual) for static in statics)


def _shown(screen: InspectorScreen) -> list[str]:
    return [str(static.content) for static in screen.query(Static)]


async def test_enter_shows_every_field_of_the_selected_message() -> None:
    records = [*chatter(5), _rich_record(5, T0 + 5 * 60)]
    app, _, _ = build_app(records, (T0 - 2 * 86400, T0 + 3600))
    async with app.run_test(size=(120, 40)) as pilot:
        await opened(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, InspectorScreen))
        screen = app.screen
        assert isinstance(screen, InspectorScreen)
        text = _inspector_text(screen)
        rec = records[-1]
        for expected in (
            rec["MsgKey"], "1005", "7000005",  # MsgKey, MsgSeq, MsgRandom
            "2023-11-14 22:18:20 +00:00", "Asia/Shanghai", "2023-11-15 06:18:20 +08:00",
            "8 (recalled)", "1 (the peer sent a read receipt)", '{"ticket": 42}',
            "invoice.pdf", "122880 bytes (120 KB)", "https://cos.example/f/1",
            "chat history", "upgrade to view", "agent: hello", "forwarded words",
            "TIMMysteryElem", "sauce", "MsgClientTime",
        ):
            assert expected in text, expected
        # The long text whole, not folded as in the transcript.
        assert LONG in text
        # The raw JSON exactly as the service returned it, pretty-printed.
        assert json.dumps(rec, indent=2, ensure_ascii=False) in text
        assert text.index("Raw JSON") > text.index("forwarded words")


async def test_inspector_scrolls_and_closes_with_escape_and_q() -> None:
    records = [*chatter(3), _rich_record(3, T0 + 3 * 60)]
    app, _, _ = build_app(records, (T0 - 86400, T0 + 3600))
    async with app.run_test(size=(100, 30)) as pilot:
        await opened(pilot)
        for close in ("escape", "q"):
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, InspectorScreen))
            body = app.screen.query_one("#inspector-body")
            assert body.max_scroll_y > 0  # the long message does not fit: it scrolls
            await pilot.press("G")
            await until(pilot, partial(_at, body, body.max_scroll_y))
            await pilot.press("g")
            await until(pilot, partial(_at, body, 0))
            await pilot.press(close)
            await until(pilot, lambda: isinstance(app.screen, BrowseScreen))


async def test_hostile_text_is_shown_inert_and_copied_defused() -> None:
    records = [*chatter(2), record(2, T0 + 120, text=HOSTILE, CloudCustomData="[red]x[/red]")]
    app, _, _ = build_app(records, (T0 - 3600, T0 + 3600))
    notices = Notices()
    async with app.run_test(size=(120, 40), message_hook=notices) as pilot:
        await opened(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, InspectorScreen))
        screen = app.screen
        assert isinstance(screen, InspectorScreen)
        shown = "\n".join(_shown(screen))
        # Markup is text, not style or action; escape sequences and controls are visible.
        assert "[@click=app.quit]press me[/]" in shown
        assert "[b]bold[/b]" in shown and "[red]x[/red]" in shown
        assert "␛[2J" in shown and "␇" in shown and "⟨U+202E⟩" in shown
        assert "⟨U+200B⟩" in shown and "⟨U+009B⟩" in shown
        for raw in ("\x1b", "\x07", "\u202e", "\x9b", "\u200b"):
            assert raw not in shown
        await pilot.click("#inspector-body", offset=(30, 12))
        await pilot.pause()
        assert app.is_running and isinstance(app.screen, InspectorScreen)

        await pilot.press("y")
        assert "\x1b" not in app.clipboard and "\u202e" not in app.clipboard
        assert "␛[2J" in app.clipboard and "[@click=app.quit]press me[/]" in app.clipboard
        assert any("control character(s) made visible" in t for t in notices.texts)
        # Untrusted text in a notice must never be read as markup.
        assert all(not n.notification.markup for n in notices.seen)

        await pilot.press("J")
        copied = json.loads(app.clipboard)
        assert copied == records[-1]  # same object, the dangerous characters only escaped
        assert "\x1b" not in app.clipboard and "\u202e" not in app.clipboard


async def test_y_and_Y_copy_text_and_key_from_the_transcript() -> None:
    records = chatter(6)
    app, _, _ = build_app(records, (T0 - 3600, T0 + 3600))
    notices = Notices()
    async with app.run_test(size=(100, 30), message_hook=notices) as pilot:
        transcript = await opened(pilot)
        selected = transcript.cursor_message
        assert selected is not None and selected.key == records[-1]["MsgKey"]
        await pilot.press("y")
        assert app.clipboard == "message 5"
        assert notices.texts[-1].startswith("Copied the message text (9 characters)")
        await pilot.press("Y")
        assert app.clipboard == records[-1]["MsgKey"]
        assert records[-1]["MsgKey"] in notices.texts[-1]
        await pilot.press("k", "y")
        assert app.clipboard == "message 4"


async def test_copy_raw_json_from_the_inspector_with_c() -> None:
    records = [*chatter(2), _rich_record(2, T0 + 120)]
    app, _, _ = build_app(records, (T0 - 86400, T0 + 3600))
    notices = Notices()
    async with app.run_test(size=(100, 30), message_hook=notices) as pilot:
        await opened(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, InspectorScreen))
        await pilot.press("c")
        assert json.loads(app.clipboard) == records[-1]
        assert notices.texts[-1].startswith("Copied the raw JSON")
        await pilot.press("Y")
        assert app.clipboard == records[-1]["MsgKey"]


async def test_a_recalled_message_without_content_says_there_is_nothing_to_copy() -> None:
    gone = record(1, T0 + 60, body=[], flag_bits=8)
    del gone["MsgBody"]
    app, _, _ = build_app([record(0, T0, text="hi"), gone], (T0 - 3600, T0 + 3600))
    notices = Notices()
    async with app.run_test(size=(100, 30), message_hook=notices) as pilot:
        await opened(pilot)
        app.copy_to_clipboard("before")
        await pilot.press("y")
        assert app.clipboard == "before"
        assert "recalled" in notices.texts[-1] and "Nothing to copy" in notices.texts[-1]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, InspectorScreen))
        text = _inspector_text(app.screen)  # type: ignore[arg-type]
        assert "no elements: the service returned no content for this recalled message" in text


@pytest.mark.parametrize("text", ["\ud800 lone", "a\u2028b\u2029c", "\x85\x9f", "ok 😀‍🔥"])
def test_copies_are_valid_utf8_and_json_round_trips(text: str) -> None:
    obj = {"From_Account": ACCOUNT, "To_Account": PEER, "Text": text}
    pretty = pretty_json(obj)
    pretty.encode("utf-8")  # a lone surrogate must not reach the terminal
    assert json.loads(pretty) == obj
    defused, count = defuse_text(text)
    defused.encode("utf-8")
    assert count == sum(1 for ch in text if ch in "\ud800\u2028\u2029\x85\x9f")
    if "😀" in text:
        assert defused == text  # zero-width joiners of emoji are kept


def test_the_time_is_said_once_when_the_zone_is_utc() -> None:
    msg = parse_message(message_obj(sender="a", receiver="b", time=1_700_000_000, text="hi"))
    for tz, labels in ((UTC, ["UTC"]), (ZoneInfo("Asia/Shanghai"), ["UTC", "Asia/Shanghai"])):
        fields = [i.label for i in describe(msg, tz) if isinstance(i, Field)]
        times = fields[fields.index("UTC"):fields.index("MsgTimeStamp")]
        assert times == labels
