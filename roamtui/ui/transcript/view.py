"""The drawing and scrolling half of the transcript: strips, the message cursor, anchoring.

:class:`TranscriptView` draws a :class:`TranscriptLayout` with the Line API and keeps what the
user is looking at in place when rows change above it or the width changes. It knows nothing
about loading; :class:`~roamtui.ui.transcript.widget.Transcript` builds on it.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from time import monotonic
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.cache import LRUCache
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from roamtui.im.model import Message
from roamtui.ui import render
from roamtui.ui.render import Line
from roamtui.ui.transcript.layout import EDGE, GAP, MESSAGE, RECALLED, TranscriptLayout

MESSAGES = bytes((MESSAGE, RECALLED))
BACKGROUND_PAUSE = 0.02  # seconds between slices of measuring far rows
BACKGROUND_SLICE = 0.008  # seconds of measuring per slice
NOTICE_SECONDS = 3.0  # how long "end of window" and the like stay on screen

Anchor = tuple[int, int, int]  # (row, line inside the row, screen line it is drawn on)


class TranscriptView(ScrollView):
    """A Line-API view of laid-out rows with a cursor on messages."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        *(f"transcript--{role}" for role in render.ROLES),
        "transcript--cursor",
        f"transcript--{render.MATCH}",
    }

    highlight: reactive[re.Pattern[str] | None] = reactive(None, init=False)
    """Search hits to mark in message bodies (``transcript--match``); None marks nothing."""

    def __init__(self, layout: TranscriptLayout, *, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._row_layout = layout
        self._cursor: int | None = None
        # The cursor's message key, kept apart from its row: when the timeline changes, its
        # rows are renumbered before this view hears of it, so the old row cannot be read back.
        self._cursor_key: str | None = None
        #: Counts the user's own moves (keys, clicks): a jump that lands after a newer move
        #: must not take the cursor away from where the user went meanwhile.
        self.moves = 0
        self._strips: LRUCache[Hashable, Strip] = LRUCache(2048)
        self._styles: dict[tuple[str, bool], Style] = {}
        self._theme_generation = 0
        self._holding = False  # True while the view itself moves the scroll to hold an anchor
        self._measuring = False
        self._measure_queued = False
        self._resync_queued = False
        self._background = False
        self._said = ""  # the last notice, and when: repeats ring the bell instead of stacking
        self._said_at = 0.0

    # -- hooks for the subclass ---------------------------------------------------------------

    def _position_changed(self) -> None:
        """The cursor moved to another message (or the viewed position changed without one)."""

    def _viewport_moved(self) -> None:
        """The view scrolled, resized or its rows changed."""

    # -- reading ------------------------------------------------------------------------------

    @property
    def row_layout(self) -> TranscriptLayout:
        """The rows as laid out at the current width (read it, do not change it)."""
        return self._row_layout

    def drop_caches(self) -> None:
        """Forget every drawn strip and wrapped row; they are rebuilt when next drawn."""
        self._strips.clear()
        self._row_layout.clear_cache()
        self.refresh()

    @property
    def cursor_message(self) -> Message | None:
        """The selected message, if any."""
        return None if self._cursor is None else self._row_layout.message(self._cursor)

    @property
    def cursor_row(self) -> int | None:
        """The row the cursor is on, if any."""
        return self._cursor

    @property
    def viewport_height(self) -> int:
        return max(1, self.scrollable_content_region.height)

    @property
    def top_line(self) -> int:
        return round(self.scroll_y)

    def visible_rows(self, margin: int = 0) -> range:
        """Rows on screen, widened by ``margin`` lines above and below."""
        index = self._row_layout.index
        if not len(index):
            return range(0)
        first, _ = index.row_at(self.top_line - margin)
        last, _ = index.row_at(self.top_line + self.viewport_height - 1 + margin)
        return range(first, last + 1)

    def time_at_top(self) -> int | None:
        """Time of the first message on screen (or the nearest one above it)."""
        index = self._row_layout.index
        if not len(index):
            return None
        row, _ = index.row_at(self.top_line)
        found = index.find(MESSAGES, row, 1)
        if found is None:
            found = index.find(MESSAGES, row, -1)
        message = None if found is None else self._row_layout.message(found)
        return None if message is None else message.time

    # -- geometry -----------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self.sync_width()
        self._viewport_moved()

    def sync_width(self) -> None:
        """Re-wrap for the current width, keeping the message at the top of the view in place."""
        width = self.scrollable_content_region.width
        if width <= 0:
            return
        anchor = self.view_anchor()
        if self._row_layout.set_width(width):
            self._strips.clear()
            self.update_virtual_size()
            self.restore_anchor(anchor)
            self.measure_visible()
            self.refresh()

    def measure_visible(self) -> None:
        """Make the heights on screen (and a page around) exact, holding the view in place.

        Rows far away keep estimated heights; they are measured a slice at a time afterwards.
        """
        if self._measuring:
            return
        self._measuring = True
        try:
            index = self._row_layout.index
            for _ in range(4):  # shrinking rows can bring more rows into view: a few rounds
                rows = self.visible_rows(margin=self.viewport_height)
                first = index.first_inexact(rows.start) if rows else None
                if first is None or first not in rows:
                    break
                anchor = self.view_anchor()
                if self._row_layout.measure_rows(rows):
                    self.update_virtual_size()
                    self.restore_anchor(anchor)
        finally:
            self._measuring = False
        self._schedule_background()

    def _queued_measure(self) -> None:
        self._measure_queued = False
        self.measure_visible()

    def _schedule_background(self) -> None:
        if self._row_layout.pending and not self._background and self.is_mounted:
            self._background = True
            self.set_timer(BACKGROUND_PAUSE, self.measure_slice)

    def measure_slice(self) -> None:
        """Measure estimated rows for a few milliseconds without moving what is on screen."""
        self._background = False
        anchor = self.view_anchor()
        if self._row_layout.measure_pending(BACKGROUND_SLICE):
            self.update_virtual_size()
            self.restore_anchor(anchor)
        self._schedule_background()

    def update_virtual_size(self) -> None:
        self.virtual_size = Size(self._row_layout.width, self._row_layout.index.total)

    def view_anchor(self, skip: range = range(0)) -> Anchor | None:
        """What the user is looking at: the first message on screen, rows in ``skip`` excluded.

        A message is preferred over day, gap and edge rows, so a gap that turns into messages
        above it does not push the message being read down.
        """
        index = self._row_layout.index
        if not len(index):
            return None
        top = self.top_line
        top_row, offset = index.row_at(top)
        row = top_row
        found = index.find(MESSAGES, row, 1)
        bottom, _ = index.row_at(top + self.viewport_height - 1)
        if found is not None and found <= bottom and found not in skip:
            row, offset = found, (offset if found == top_row else 0)
        if row in skip:
            row, offset = skip.stop, 0
            if row >= len(index):
                return None
        return row, offset, index.start(row) + offset - top

    def restore_anchor(self, anchor: Anchor | None) -> None:
        """Scroll so the anchored row is drawn on the same screen line again."""
        if anchor is None:
            return
        row, offset, screen = anchor
        index = self._row_layout.index
        if row >= len(index):
            return
        offset = min(offset, index.height(row) - 1)
        self.scroll_to_line(index.start(row) + offset - screen, hold=True)

    def scroll_to_line(self, y: int, *, hold: bool = False) -> None:
        """Scroll without animation; ``hold`` keeps the cursor where it is."""
        self._holding = hold
        try:
            # force: the scrollbar state may lag a virtual size set in this same call
            self.scroll_to(y=max(0, y), animate=False, force=True, immediate=True)
        finally:
            self._holding = False

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self.measure_visible()
            if not self._holding:
                self._clamp_cursor()
            self._viewport_moved()

    # -- rows changed -------------------------------------------------------------------------

    def splice_rows(self, at: int, inserted: int, removed: int) -> None:
        """Apply a change of the rows to the layout without moving what is on screen.

        Called after the timeline changed: until the layout is spliced here, row numbers mean
        the old rows, so nothing before the splice may read the timeline by row. The virtual
        size grows before the scroll moves, or the scroll would be clamped to the old height.
        """
        anchor = self.view_anchor(range(at, at + removed))
        self._row_layout.splice(at, inserted, removed)
        self._shift_cursor(at, inserted, removed, self._cursor_key)
        self.update_virtual_size()
        if self._row_layout.width and anchor is not None:
            row, offset, screen = anchor
            if row >= at + removed:
                row += inserted - removed
            self.restore_anchor((row, offset, screen))
        self.measure_visible()
        self.refresh()

    def _shift_cursor(self, at: int, inserted: int, removed: int, key: str | None) -> None:
        cursor = self._cursor
        if cursor is None or cursor < at:
            return
        if cursor >= at + removed:
            self._cursor = cursor + inserted - removed
            return
        found = self._row_layout.timeline.index_of_key(key) if key else None
        index = self._row_layout.index
        if found is None and len(index):
            found = index.find(MESSAGES, min(at, len(index) - 1), 1)
            if found is None:
                found = index.find(MESSAGES, len(index) - 1, -1)
        self._put_cursor(found)
        self._position_changed()

    def _put_cursor(self, row: int | None) -> None:
        self._cursor = row
        message = None if row is None else self._row_layout.message(row)
        self._cursor_key = None if message is None else message.key

    # -- cursor -------------------------------------------------------------------------------

    def set_cursor(self, row: int | None, *, reveal: bool = True, center: bool = False) -> None:
        old = self._cursor
        self._put_cursor(row)
        index = self._row_layout.index
        for changed in {old, row}:
            if changed is not None and changed < len(index):
                self.refresh_lines(index.start(changed), index.height(changed))
        if row is not None and center:
            self.center_row(row)
        elif row is not None and reveal:
            self.reveal(row)
        if old != row or row is None:
            self._position_changed()

    def _measure_row(self, row: int) -> None:
        if self._row_layout.measure_rows((row,)):
            self.update_virtual_size()

    def center_row(self, row: int) -> None:
        self._measure_row(row)
        index = self._row_layout.index
        view = self.viewport_height
        middle = index.start(row) + min(index.height(row), view) // 2
        self.scroll_to_line(middle - view // 2, hold=True)

    def reveal(self, row: int) -> None:
        """Scroll the least needed to show the row (its top when it is taller than the view)."""
        self._measure_row(row)
        index = self._row_layout.index
        start, height = index.start(row), index.height(row)
        top, view = self.top_line, self.viewport_height
        if start < top:
            self.scroll_to_line(start, hold=True)
        elif start + height > top + view:
            self.scroll_to_line(min(start, start + height - view), hold=True)

    def _clamp_cursor(self) -> None:
        """Keep the cursor on a visible message when the user scrolls away from it."""
        index = self._row_layout.index
        rows = self.visible_rows()
        cursor = self._cursor
        if not rows or (cursor is not None and cursor in rows):
            return
        if cursor is not None and cursor > rows[-1]:
            found = index.find(MESSAGES, rows[-1], -1)
        else:
            found = index.find(MESSAGES, rows[0], 1)
        if found is not None and found in rows:
            self.set_cursor(found, reveal=False)
        else:
            self._position_changed()

    def step_cursor(self, step: int) -> None:
        """The next (1) or previous (-1) message; past the last one, show what lies beyond."""
        index = self._row_layout.index
        if not len(index):
            return
        start = self._cursor if self._cursor is not None else self.visible_rows()[0]
        found = index.find(MESSAGES, start + step, step)
        if found is not None:
            self.set_cursor(found)
        else:
            self.scroll_to_line(0 if step < 0 else index.total)

    def page(self, lines: int) -> None:
        """Scroll by ``lines`` and move the cursor the same distance."""
        index = self._row_layout.index
        if not len(index):
            return
        self.scroll_to_line(self.top_line + lines, hold=True)
        if self._cursor is not None:
            row, _ = index.row_at(index.start(self._cursor) + lines)
            found = index.find(MESSAGES, row, 1 if lines < 0 else -1)
            if found is None:
                found = index.find(MESSAGES, row, -1 if lines < 0 else 1)
            if found is not None:
                self.set_cursor(found)
        self._clamp_cursor()

    # actions bound by the Transcript (keys in its BINDINGS)

    def action_cursor_down(self) -> None:
        self.moves += 1
        self.step_cursor(1)

    def action_cursor_up(self) -> None:
        self.moves += 1
        self.step_cursor(-1)

    def action_page_down(self) -> None:
        self.moves += 1
        self.page(self.viewport_height)

    def action_page_up(self) -> None:
        self.moves += 1
        self.page(-self.viewport_height)

    def action_half_page_down(self) -> None:
        self.moves += 1
        self.page(self.viewport_height // 2)

    def action_half_page_up(self) -> None:
        self.moves += 1
        self.page(-(self.viewport_height // 2))

    def at_edge(self, step: int) -> bool:
        """Whether the window's start (``step`` -1) or end (1) lies next to the cursor, with no
        message or unloaded stretch between them."""
        if self._cursor is None:
            return False
        index = self._row_layout.index
        found = index.find(bytes((MESSAGE, RECALLED, GAP, EDGE)), self._cursor + step, step)
        return found is not None and index.kind(found) == EDGE

    def say(self, text: str) -> None:
        """Tell why a key did nothing; the same words again while they still show ring the bell."""
        now = monotonic()
        if self._said == text and now - self._said_at < NOTICE_SECONDS:
            self.app.bell()
        else:
            self.notify(text, timeout=NOTICE_SECONDS, markup=False)
            self._said, self._said_at = text, now

    def land_at_end(self) -> None:
        """The newest end: scrolled to the bottom, the cursor on the last message."""
        index = self._row_layout.index
        self.scroll_to_line(index.total, hold=True)
        self.set_cursor(index.find(MESSAGES, len(index) - 1, -1), reveal=False)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        index = self._row_layout.index
        if offset is None or self.top_line + offset.y >= index.total:
            return
        row, _ = index.row_at(self.top_line + offset.y)
        self.row_clicked(row)

    def row_clicked(self, row: int) -> None:
        if self._row_layout.index.kind(row) in MESSAGES:
            self.moves += 1
            self.set_cursor(row, reveal=False)

    # -- drawing ------------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._theme_generation += 1
        self._strips.clear()
        self._styles.clear()

    def watch_highlight(self) -> None:
        self.refresh()

    def render_line(self, y: int) -> Strip:
        layout = self._row_layout
        index = layout.index
        line_no = self.top_line + y
        if line_no >= index.total or not layout.width:
            return Strip.blank(self.scrollable_content_region.width, self.rich_style)
        if len(index) != len(layout.timeline):
            # Never expected (every change of the timeline is spliced in as it happens), but a
            # view out of step must not take the app down: draw blank, rebuild after the frame.
            if not self._resync_queued:
                self._resync_queued = True
                self.log.error(f"transcript rows {len(index)} != timeline rows "
                               f"{len(layout.timeline)}; rebuilding")
                self.call_later(self._resync)
            return Strip.blank(self.scrollable_content_region.width, self.rich_style)
        row, offset = index.row_at(line_no)
        if not index.is_exact(row) and not self._measuring and not self._measure_queued:
            # Drawn before it was measured (a path that skipped measure_visible): fix it after
            # this frame rather than change the layout while the frame is being drawn.
            self._measure_queued = True
            self.call_later(self._queued_measure)
        cursor = row == self._cursor
        pattern = self.highlight
        pattern_key = None if pattern is None else (pattern.pattern, pattern.flags)
        key = (layout.row_key(row), offset, layout.width, cursor, pattern_key,
               self._theme_generation)
        strip = self._strips.get(key)
        if strip is None:
            lines = layout.marked_lines(row, pattern)
            if offset >= len(lines):  # never expected: heights and lines come from one place
                return Strip.blank(layout.width, self.rich_style)
            strip = self._build_strip(lines[offset], layout.width, cursor)
            self._strips[key] = strip
        return strip

    def _resync(self) -> None:
        """Lay every row out again from the timeline, the cursor kept on its message."""
        self._resync_queued = False
        key = self._cursor_key
        self._row_layout.reset()
        self._strips.clear()
        found = None if key is None else self._row_layout.timeline.index_of_key(key)
        self._put_cursor(found)
        self.update_virtual_size()
        self.measure_visible()
        self.refresh()

    def _style(self, role: str, cursor: bool) -> Style:
        """The style of a role, on the cursor row or not.

        Full component styles, not partial ones: only they resolve "auto" and translucent
        theme colours (such as ``$text-muted``) against the background.
        """
        style = self._styles.get((role, cursor))
        if style is None:
            names = tuple(f"transcript--{part}" for part in role.split())
            style = self.get_component_rich_style(*names) if names else self.rich_style
            if cursor:  # the cursor's colours win over the role's; its text styles add up
                style += self.get_component_rich_style("transcript--cursor")
            self._styles[(role, cursor)] = style
        return style

    def _build_strip(self, line: Line, width: int, cursor: bool) -> Strip:
        segments = [Segment(run.text, self._style(run.role, cursor)) for run in line if run.text]
        cells = sum(cell_len(run.text) for run in line)
        pad = self._style("", cursor)
        if cells <= width:  # the usual case: one Strip, padded to the width
            segments.append(Segment(" " * (width - cells), pad))
            return Strip(segments, width)
        return Strip(segments, cells).adjust_cell_length(width, pad)

