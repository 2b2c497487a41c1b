"""The message cursor: where each move takes it, and its MsgKey kept apart from its row.

:class:`Cursor` is plain Python. The row itself is the widget's reactive ``cursor_row`` (its
watcher posts ``CursorMoved``); this object moves it, through a :class:`CursorSurface`, and
keeps the MsgKey of the message it stands on. When the timeline changes, its rows are
renumbered before the view hears of it, so the old row number cannot be read back: the key
finds the message again (:meth:`Cursor.after_splice`). Only message rows hold the cursor.
"""

from __future__ import annotations

from typing import Protocol

from roamtui.im.model import Message
from roamtui.ui.transcript.index import EDGE, GAP, MESSAGES
from roamtui.ui.transcript.layout import TranscriptLayout
from roamtui.ui.transcript.viewport import Surface, Viewport

_STOPS = bytes((*MESSAGES, GAP, EDGE))  # what lies between the cursor and an end of the window


class CursorSurface(Surface, Protocol):
    """A viewport's surface that also holds the cursor's row (a reactive on the widget)."""

    @property
    def cursor_row(self) -> int | None: ...

    @cursor_row.setter
    def cursor_row(self, row: int | None) -> None: ...

    def position_changed(self) -> None:
        """Say the viewed position (there is no message to stand on, or it scrolled)."""


class Cursor:
    """The message cursor's moves over a :class:`Viewport`; see the module docstring."""

    def __init__(self, viewport: Viewport, surface: CursorSurface) -> None:
        self.viewport = viewport
        self.surface = surface
        self.key: str | None = None  # MsgKey of the selected message

    @property
    def layout(self) -> TranscriptLayout:
        return self.viewport.layout

    @property
    def row(self) -> int | None:
        return self.surface.cursor_row

    @property
    def message(self) -> Message | None:
        row = self.row
        return None if row is None else self.layout.message(row)

    def remember(self, row: int | None) -> None:
        """The cursor now stands on ``row``: keep its message's key."""
        message = None if row is None else self.layout.message(row)
        self.key = None if message is None else message.key

    def select(self, row: int | None, *, reveal: bool = True, center: bool = False) -> None:
        """Put the cursor on ``row`` and bring it into view (centred with ``center``)."""
        self.surface.cursor_row = row
        if row is not None and center:
            self.viewport.center(row)
        elif row is not None and reveal:
            self.viewport.reveal(row)

    # -- moves --------------------------------------------------------------------------------

    def step(self, step: int) -> None:
        """The next (1) or previous (-1) message; past the last one, show what lies beyond."""
        index = self.layout.index
        if not len(index):
            return
        start = self.row if self.row is not None else self.viewport.visible_rows()[0]
        found = index.find(MESSAGES, start + step, step)
        if found is not None:
            self.select(found)
        else:
            self.surface.scroll_to_line(0 if step < 0 else index.total)

    def page(self, lines: int) -> None:
        """Scroll by ``lines`` and move the cursor the same distance, to a message on the page
        that scrolled into view when there is one."""
        index = self.layout.index
        if not len(index):
            return
        self.surface.scroll_to_line(self.surface.top_line + lines, hold=True)
        if self.row is not None:
            row, _ = index.row_at(index.start(self.row) + lines)
            found = index.find(MESSAGES, row, 1 if lines < 0 else -1)
            if found is None:
                found = index.find(MESSAGES, row, -1 if lines < 0 else 1)
            if found is not None:
                self.select(found)
        self.keep_in_view()

    def keep_in_view(self) -> None:
        """After a scroll: a cursor off screen moves to the nearest message on screen, on the
        side it left by; with none there, the position the screen shows is said instead."""
        index = self.layout.index
        rows = self.viewport.visible_rows()
        cursor = self.row
        if not rows or (cursor is not None and cursor in rows):
            return
        if cursor is not None and cursor > rows[-1]:
            found = index.find(MESSAGES, rows[-1], -1)
        else:
            found = index.find(MESSAGES, rows[0], 1)
        if found is not None and found in rows:
            self.select(found, reveal=False)
        else:
            self.surface.position_changed()

    def to_start(self) -> None:
        """The oldest end: scrolled to the top, the cursor on the first message."""
        self.surface.scroll_to_line(0, hold=True)
        self.select(self.layout.index.find(MESSAGES, 0, 1), reveal=False)

    def to_end(self, *, keep: bool = False) -> None:
        """The newest end: scrolled to the bottom, the cursor on the last message (``keep``:
        where it is, e.g. on the match a search put it on while nicknames came in)."""
        index = self.layout.index
        self.surface.scroll_to_line(index.total, hold=True)
        if not keep:
            self.select(index.find(MESSAGES, len(index) - 1, -1), reveal=False)

    def at_edge(self, step: int) -> bool:
        """Whether the window's start (``step`` -1) or end (1) lies next to the cursor, with no
        message or unloaded stretch between them."""
        if self.row is None:
            return False
        index = self.layout.index
        found = index.find(_STOPS, self.row + step, step)
        return found is not None and index.kind(found) == EDGE

    # -- rows changed -------------------------------------------------------------------------

    def after_splice(self, at: int, inserted: int, removed: int) -> None:
        """Follow a change the layout was just spliced with: ``removed`` rows at ``at`` became
        ``inserted`` rows. A cursor below moves by the difference (the same message: nothing
        to say); one on a replaced row is found again by its key, or goes to the next message
        (else the last) when its message is gone."""
        cursor = self.row
        if cursor is None or cursor < at:
            return
        if cursor >= at + removed:
            self.surface.cursor_row = cursor + inserted - removed
            return
        found = self.layout.timeline.index_of_key(self.key) if self.key else None
        index = self.layout.index
        if found is None and len(index):
            found = index.find(MESSAGES, min(at, len(index) - 1), 1)
            if found is None:
                found = index.find(MESSAGES, len(index) - 1, -1)
        self.surface.cursor_row = found

    def refind(self) -> None:
        """After the rows were laid out anew: back on the message with the kept key."""
        key = self.key
        self.surface.cursor_row = None if key is None else self.layout.timeline.index_of_key(key)
