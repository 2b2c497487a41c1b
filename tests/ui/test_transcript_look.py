"""What the transcript draws: hostile text, recalled messages, placeholders, search hits and
the cursor row in every theme, read from the strips it renders."""

from __future__ import annotations

import re

import pytest
from transcriptkit import (
    HEAD,
    PEER,
    T0,
    contrast,
    everything_drawn,
    marks,
    running,
    screen,
    settle,
    world,
)

from roamtui.im.model import message_obj
from roamtui.ui import render
from roamtui.ui.transcript import Transcript

# -- what messages look like ------------------------------------------------------------------


HOSTILE = {
    5: "[@click=app.quit]click me[/] [b]not bold[/b]",
    6: "\x1b[31mred\x1b[0m\x07 bell \u202eevil",
    7: "y" * 5000,
}


async def test_hostile_text_is_shown_inert() -> None:
    n = 12
    extra = {i: {"MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]}
             for i, text in HOSTILE.items()}
    w = world(n, extra)
    async with running(w) as (pilot, t):
        drawn = everything_drawn(t)
        joined = "\n".join(drawn)
        assert "[@click=app.quit]click me[/] [b]not bold[/b]" in joined
        assert "␛[31mred␛[0m␇ bell ⟨U+202E⟩evil" in joined
        assert "\x1b" not in joined and "\x07" not in joined
        long_lines = [line for line in drawn if "yyyy" in line]
        assert len(long_lines) == render.FOLD_AT
        assert any("more lines (x to expand)" in line for line in drawn)
        for y in range(t.viewport_height):  # nothing clickable or linked reached the screen
            for segment in t.render_line(y):
                assert segment.style is None or not segment.style.meta
        await pilot.click(Transcript, offset=(40, 5))
        assert pilot.app.is_running


async def test_recalled_messages_have_a_badge_and_their_own_style() -> None:
    w = world(10, {8: {"MsgFlagBits": 8}})
    async with running(w) as (_pilot, t):
        line_no, line = next((y, s) for y, s in enumerate(screen(t)) if "m0008" in s)
        assert render.BADGE_TEXT in line
        styles = [seg.style for seg in t.render_line(line_no) if "m0008" in seg.text]
        assert styles and all(s is not None and s.strike for s in styles)
        plain = next(y for y, s in enumerate(screen(t)) if "m0007" in s)
        assert not any(seg.style and seg.style.strike for seg in t.render_line(plain))
        stats = [m for m in w.seen if isinstance(m, Transcript.StatsChanged)][-1]
        assert stats.recalled == 1


async def test_placeholders_and_merged_forward_expand_in_place() -> None:
    inner = [message_obj(sender="carol", receiver="dave", time=T0 - 100 + i, text=f"inner {i}")
             for i in range(3)]
    for item in inner:
        del item["MsgKey"]
    extra = {
        4: {"MsgBody": [{"MsgType": "TIMFileElem", "MsgContent": {
            "FileName": "invoice.pdf", "FileSize": 122_880, "Url": "", "UUID": ""}}]},
        9: {"MsgBody": [{"MsgType": "TIMRelayElem", "MsgContent": {
            "Title": "evidence", "MsgNum": 3, "MsgList": inner}}]},
    }
    w = world(10, extra)
    async with running(w) as (pilot, t):
        text = "\n".join(screen(t))
        assert "[file invoice.pdf 120 KB]" in text
        assert "[merged forward: evidence · 3 msgs] ▸" in text
        assert t.cursor_message is not None and t.cursor_message.seq == 1009
        await pilot.press("x")
        text = "\n".join(screen(t))
        assert "▾" in text and all(f"carol: inner {i}" in text for i in range(3))
        assert "end of window" in screen(t)[-1] or "end of window" in text
        await pilot.press("x")
        assert "inner 0" not in "\n".join(screen(t))


# -- search hits ----------------------------------------------------------------------------


async def test_highlight_marks_only_message_text_never_times_or_names() -> None:
    w = world(20)
    async with running(w) as (pilot, t):
        t.highlight = re.compile("10")
        await pilot.pause()
        column = t.row_layout.ctx.prefix_width
        lines = screen(t)
        timed = [y for y, s in enumerate(lines) if (m := HEAD.match(s)) and "10" in m.group(1)]
        assert timed  # some rows were sent at hh:mm:10 or so
        for y, line in enumerate(lines):
            found = marks(t, y)
            assert all(x >= column and text == "10" for x, text in found)
            assert bool(found) == ("10" in line[column:])
        t.highlight = re.compile("^m001", re.MULTILINE)  # anchored at the message's start
        await pilot.pause()
        anchored = [y for y, s in enumerate(screen(t)) if s[column:].startswith("m001")]
        assert anchored and all(marks(t, y) == [(column, "m001")] for y in anchored)


async def test_a_hit_split_by_wrapping_is_marked_on_both_lines() -> None:
    text = "needle" * 40
    w = world(12, {11: {"MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": text}}]}})
    async with running(w, size=(100, 30)) as (pilot, t):
        assert t.row_layout.text_width % 6  # so that some "needle" straddles a line break
        t.highlight = re.compile("needle")
        await pilot.pause()
        column = t.row_layout.ctx.prefix_width
        rows = [y for y, s in enumerate(screen(t)) if "needle" in s or "dle" in s[column:]]
        assert len(rows) >= 3
        for y in rows:  # the body is nothing but needles: all of it is marked, cut or not
            body = screen(t)[y][column:].rstrip()
            assert "".join(text for _, text in marks(t, y)) == body


# -- the cursor row ---------------------------------------------------------------------------


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light", "ansi-dark", "ansi-light"])
async def test_the_sender_on_the_cursor_row_is_readable_in_every_theme(theme: str) -> None:
    w = world(30)
    async with running(w) as (pilot, t):
        pilot.app.theme = theme
        await pilot.press("k", "k")
        await settle(pilot)
        assert t.cursor_message is not None and t.cursor_message.sender == PEER
        for focused in (True, False):
            if not focused:
                t.blur()
                await pilot.pause()
            y = next(y for y, s in enumerate(screen(t)) if "m0027" in s)
            sender = next(seg.style for seg in t.render_line(y) if seg.text.strip() == PEER)
            cursor = t.get_component_rich_style("transcript--cursor")
            assert sender is not None and sender.bgcolor == cursor.bgcolor
            # On the cursor row the name takes the colour the theme pairs with the cursor
            # background: the peer's own colour there is as low as 1:1 (nord) or 2.9:1.
            assert sender.color == cursor.color
            assert sender.color is not None and sender.bgcolor is not None
            if not sender.color.is_system_defined:  # ANSI colours are the terminal's to choose
                assert contrast(sender.color, sender.bgcolor) >= 3
