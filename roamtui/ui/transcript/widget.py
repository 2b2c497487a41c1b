"""The transcript: one Line-API ScrollView over a conversation timeline.

Oldest at the top, newest at the bottom, opened at the newest end. Only rows near the viewport
are drawn (strips cached by content); rows inserted above move the scroll by their height, a
resize keeps the cursor's message on screen; gap rows near the viewport are filled by a worker.

:class:`Transcript` is the Textual-facing part (keys, messages, the reactive cursor, scrolling,
drawing) over plain objects: :class:`~.layout.TranscriptLayout` (rows at a width, in a
:class:`~.index.LineIndex`), :class:`~.viewport.Viewport` (what is on screen, held in place),
:class:`~.cursor.Cursor` (moves, MsgKey), :class:`~.loader.Loader` (fetch workers), StripPainter.
Messages (:mod:`.messages`, all bubble): ``CursorMoved``, ``StatsChanged``, ``LoadFailed``
(``r`` retries), ``InspectRequested`` (Enter), ``TimelineSwapped`` (:meth:`swap_timeline`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import tzinfo
from time import monotonic
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import Worker

from roamtui.history.navigation import StepUnit
from roamtui.history.rows import EdgeRow, RowsChanged
from roamtui.history.timeline import Timeline
from roamtui.im.model import Message
from roamtui.settings.marks import MarkBook
from roamtui.ui.transcript import messages, strips
from roamtui.ui.transcript.cursor import Cursor
from roamtui.ui.transcript.index import GAP, MESSAGES
from roamtui.ui.transcript.layout import TranscriptLayout, expand_refusal, layout_for
from roamtui.ui.transcript.loader import Landing, Loader, failed_rows
from roamtui.ui.transcript.strips import GUTTER, StripPainter, gutter_glyph
from roamtui.ui.transcript.viewport import Viewport

STATS_INTERVAL = 0.25  # seconds between checks of the calls in flight while loading
BACKGROUND_PAUSE = 0.02  # seconds between slices of measuring far rows
BACKGROUND_SLICE = 0.008  # seconds of measuring per slice
NOTICE_SECONDS = 3.0  # how long "end of window" and the like stay on screen


class Transcript(ScrollView, can_focus=True):
    """A chat transcript over a :class:`Timeline`; see the module docstring."""

    DEFAULT_CSS = strips.DEFAULT_CSS
    COMPONENT_CLASSES: ClassVar[set[str]] = strips.COMPONENT_CLASSES

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "inspect", "Inspect"),
        Binding("x", "toggle_expand", "Expand"),
        Binding("r", "retry", "Retry load"),
        Binding("j,down", "cursor_down", "Next message", show=False),
        Binding("k,up", "cursor_up", "Previous message", show=False),
        Binding("pagedown,space", "page_down", "Page down", show=False),
        Binding("pageup,b", "page_up", "Page up", show=False),
        Binding("ctrl+d", "half_page_down", "Half page down", show=False),
        Binding("ctrl+u", "half_page_up", "Half page up", show=False),
        Binding("g,home", "top", "Oldest end of the window", show=False),
        Binding("G,end", "bottom", "Newest end of the window", show=False),
        Binding("d", "step(1, 'day')", "One day later", show=False),
        Binding("D", "step(-1, 'day')", "One day earlier", show=False),
        Binding("o", "step(1, 'hour')", "One hour later", show=False),
        Binding("O", "step(-1, 'hour')", "One hour earlier", show=False),
    ]

    CursorMoved = messages.CursorMoved
    StatsChanged = messages.StatsChanged
    LoadFailed = messages.LoadFailed
    InspectRequested = messages.InspectRequested
    TimelineSwapped = messages.TimelineSwapped

    highlight: reactive[re.Pattern[str] | None] = reactive(None, init=False)
    """Search hits to mark in message bodies (``transcript--match``); None marks nothing."""

    cursor_row: reactive[int | None] = reactive(None, init=False, always_update=True,
                                                repaint=False)
    """The row of the selected message, if any (move it with :meth:`set_cursor`); the watcher
    keeps its MsgKey and posts ``CursorMoved`` when the position changes."""

    def __init__(self, timeline: Timeline, tz: tzinfo, *, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.tz = tz  # the zone of the day separators and of a day's step
        self.names: tuple[Mapping[str, str], bool] = ({}, False)  # nicknames; accounts instead?
        self.viewport = Viewport(layout_for(timeline, tz, self.names), self)
        self.cursor = Cursor(self.viewport, self)
        self.loader = Loader(self)
        self._painter = StripPainter(self.get_component_rich_style, lambda: self.rich_style)
        #: Counts the user's own moves (keys, clicks): a jump that lands after a newer move
        #: must not take the cursor away from where the user went meanwhile.
        self.moves = 0
        self._last_position: tuple[str | None, int | None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._holding = False  # True while the view itself moves the scroll to hold an anchor
        self._measure_queued = False
        self._resync_queued = False
        self._background = False
        self._said = ""  # the last notice, and when: repeats ring the bell instead of stacking
        self._said_at = 0.0
        #: The marks of this conversation side, drawn in the gutter (None draws none).
        self.marks: MarkBook | None = None

    # -- reading ------------------------------------------------------------------------------

    @property
    def timeline(self) -> Timeline:
        return self.viewport.layout.timeline

    @property
    def row_layout(self) -> TranscriptLayout:
        """The rows as laid out at the current width (read it, do not change it)."""
        return self.viewport.layout

    @property
    def cursor_message(self) -> Message | None:
        """The selected message, if any."""
        return self.cursor.message

    @property
    def viewport_height(self) -> int:
        return max(1, self.scrollable_content_region.height)

    @property
    def top_line(self) -> int:
        return round(self.scroll_y)

    def visible_rows(self, margin: int = 0) -> range:
        """Rows on screen, widened by ``margin`` lines above and below."""
        return self.viewport.visible_rows(margin)

    def drop_caches(self) -> None:
        """Forget every drawn strip and wrapped row; they are rebuilt when next drawn."""
        self._painter.clear()
        self.row_layout.clear_cache()
        self.refresh()

    # -- changing what is shown ---------------------------------------------------------------

    def goto_time(self, t: int, *, announce: bool = False, earlier: bool = False) -> None:
        """Fetch around ``t``; land on the first message at or after it (``earlier``: the last at
        or before it), however long the quiet stretch; with ``announce`` (``:goto``) a landing
        far from ``t`` says "nothing between …"."""
        self.moves += 1
        self.loader.jump(Landing(t, earlier=earlier, moves=self.moves, announce=announce))

    def set_cursor(self, row: int | None, *, reveal: bool = True, center: bool = False) -> None:
        """Select the message on ``row`` and bring it into view (centred with ``center``)."""
        self.cursor.select(row, reveal=reveal, center=center)

    def swap_timeline(self, timeline: Timeline) -> None:
        """Show another timeline (the other side, or a new query) from its newest end; the old
        one's jobs are cancelled and its counts no longer shown. Posts ``TimelineSwapped``."""
        self.workers.cancel_node(self)
        self._disconnect()
        self.viewport.layout = layout_for(timeline, self.tz, self.names)
        self.loader.reset()
        self.set_reactive(Transcript.cursor_row, None)  # said once the new timeline lands
        self.cursor.remember(None)
        self._painter.clear()
        if self.is_mounted:
            self._connect()
            self.loader.sync_retry()
            self.loader.post_stats()
        self.post_message(self.TimelineSwapped(timeline))

    def set_names(self, names: Mapping[str, str], *, accounts: bool = False) -> None:
        """Senders by nickname (``names``: account -> nickname, untrusted), or by account."""
        self.names, at_end = (dict(names), accounts), self.scroll_y >= self.max_scroll_y
        if self.viewport.set_context(layout_for(self.timeline, self.tz, self.names).ctx):
            self.drop_caches()  # the rows on screen are measured anew, the view held
            if at_end or self.loader.land_end:  # the newest end stays, however late names come
                self.cursor.to_end(keep=not self.loader.land_end and not self.cursor.at_edge(1))

    # -- lifecycle ----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._connect()
        self.set_interval(STATS_INTERVAL, self.loader.post_stats)

    def on_unmount(self) -> None:
        self._disconnect()

    def _connect(self) -> None:
        timeline = self.timeline

        def changed(change: RowsChanged) -> None:
            if timeline is self.timeline:  # ignore a late event of a swapped-out timeline
                self._rows_changed(change)

        self._unsubscribe = timeline.subscribe(changed)
        self.row_layout.reset()
        self.loader.open()
        self.sync_width()
        self.update_virtual_size()
        self.cursor.to_end()

    def _disconnect(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.loader.settled(event)

    # -- geometry -----------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self.viewport.resizing = True  # the cursor keeps its message: Viewport.resized
        self.sync_width()
        self.loader.fill_near()
        self.call_after_refresh(lambda: self.viewport.resized(self.cursor_row))

    def sync_width(self) -> None:
        """Re-wrap for the current width, keeping the message at the top of the view in place."""
        width = self.scrollable_content_region.width - GUTTER
        if width > 0 and self.viewport.set_width(width):
            self._painter.clear()
            self.measure_visible()
            self.refresh()
        self.loader.finish_opening()

    def update_virtual_size(self) -> None:
        layout = self.row_layout
        self.virtual_size = Size(layout.width + GUTTER, layout.index.total)

    def measure_visible(self) -> None:
        """Make the heights on screen (and a page around) exact; the rest follows in slices."""
        self.viewport.measure_visible()
        self._measure_later()

    def measure_slice(self) -> None:
        """Measure estimated rows for a few milliseconds without moving what is on screen."""
        self._background = False
        self.viewport.measure_slice(BACKGROUND_SLICE)
        self._measure_later()

    def _measure_later(self) -> None:
        if self.row_layout.pending and not self._background and self.is_mounted:
            self._background = True
            self.set_timer(BACKGROUND_PAUSE, self.measure_slice)

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
            if not (self._holding or self.viewport.resizing):
                self.cursor.keep_in_view()
            self.loader.fill_near()

    # -- timeline changes ---------------------------------------------------------------------

    def _rows_changed(self, change: RowsChanged) -> None:
        """Mirror a timeline change in the line index, keeping the viewed message in place.
        Runs inside the timeline's notification (in a fetch worker, on the app's loop), so no
        frame sees the two disagree; the follow-up (prefetch, stats, bindings) runs later."""
        self.splice_rows(change.index, change.inserted, change.removed)
        if self.loader.land_end:
            self.cursor.to_end()
        self.call_later(self.loader.after_change)

    def splice_rows(self, at: int, inserted: int, removed: int) -> None:
        """Apply a change of the rows to the layout without moving what is on screen. Until the
        layout is spliced here, row numbers mean the old rows: nothing before may read the
        timeline by row. The virtual size grows before the scroll moves (or it is clamped)."""
        anchor = self.viewport.anchor(range(at, at + removed))
        self.row_layout.splice(at, inserted, removed)
        self.cursor.after_splice(at, inserted, removed)
        self.viewport.restore_after_splice(anchor, at, inserted, removed)
        self.measure_visible()
        self.refresh()

    # -- the cursor's position ----------------------------------------------------------------

    def watch_cursor_row(self, old: int | None, new: int | None) -> None:
        self.cursor.remember(new)
        index = self.row_layout.index
        for changed in {old, new}:
            if changed is not None and changed < len(index):
                self.refresh_lines(index.start(changed), index.height(changed))
        self.position_changed()

    def position_changed(self) -> None:
        """Post ``CursorMoved`` if the selected message (or the viewed time) is another."""
        message = self.cursor_message
        at = message.time if message is not None else self.viewport.time_at_top()
        position = (None if message is None else message.key, at)
        if position != self._last_position:
            self._last_position = position
            self.post_message(self.CursorMoved(message, at))

    def say(self, text: str) -> None:
        """Tell why a key did nothing; the same words again while they still show ring the bell."""
        now = monotonic()
        if self._said == text and now - self._said_at < NOTICE_SECONDS:
            self.app.bell()
        else:
            self.notify(text, timeout=NOTICE_SECONDS, markup=False)
            self._said, self._said_at = text, now

    # -- actions ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "retry":
            return bool(failed_rows(self.row_layout))
        return True

    def action_cursor_down(self) -> None:
        self.moves += 1
        self.cursor.step(1)

    def action_cursor_up(self) -> None:
        self.moves += 1
        self.cursor.step(-1)

    def action_page_down(self) -> None:
        self.moves += 1
        self.cursor.page(self.viewport_height)

    def action_page_up(self) -> None:
        self.moves += 1
        self.cursor.page(-self.viewport_height)

    def action_half_page_down(self) -> None:
        self.moves += 1
        self.cursor.page(self.viewport_height // 2)

    def action_half_page_up(self) -> None:
        self.moves += 1
        self.cursor.page(-(self.viewport_height // 2))

    def action_top(self) -> None:
        """Go to the oldest end of the window (fetched around it when not loaded)."""
        self.moves += 1
        if len(self.row_layout.index) and self.timeline.row(0) == EdgeRow("start"):
            self.loader.land_end = False
            self.cursor.to_start()
        else:
            self.goto_time(self.timeline.query.min_time)

    def action_bottom(self) -> None:
        """Go to the newest end of the window (fetched around it when not loaded)."""
        count = len(self.row_layout.index)
        self.moves += 1
        if count and self.timeline.row(count - 1) == EdgeRow("end"):
            self.loader.land_end = False
            self.cursor.to_end()
        else:
            self.goto_time(self.timeline.query.max_time)

    def action_step(self, count: int, unit: StepUnit) -> None:
        """``d``/``D`` a calendar day (in the transcript's zone), ``o``/``O`` an hour, on or
        back from the cursor's time."""
        self.loader.step(count, unit)

    def action_retry(self) -> None:
        """Load again the failed stretch nearest to the middle of the screen."""
        self.loader.retry()

    def action_inspect(self) -> None:
        message = self.cursor_message
        if message is not None:
            self.post_message(self.InspectRequested(message))

    def action_toggle_expand(self) -> None:
        """Expand or fold the selected message (a merged forward, or a long text)."""
        cursor = self.cursor_row
        if cursor is not None and self.row_layout.toggle(cursor):
            self.update_virtual_size()
            self.viewport.reveal(cursor)
            self.refresh()
        else:
            self.say(expand_refusal(self.cursor_message))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        row = None if offset is None else self.viewport.row_on_screen(offset.y)
        if row is None:
            return
        kind = self.row_layout.index.kind(row)
        if kind == GAP:
            self.loader.fill(row, retry=True)
        elif kind in MESSAGES:
            self.moves += 1
            self.set_cursor(row, reveal=False)

    # -- drawing ------------------------------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._painter.restyle()

    def watch_highlight(self) -> None:
        self.refresh()

    def render_line(self, y: int) -> Strip:
        layout = self.row_layout
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
        if not index.is_exact(row) and not self.viewport.measuring and not self._measure_queued:
            # Drawn before it was measured (a path that skipped measure_visible): fix it after
            # this frame rather than change the layout while the frame is being drawn.
            self._measure_queued = True
            self.call_later(self._queued_measure)
        gutter = gutter_glyph(self.marks, layout.message(row), offset)
        strip = self._painter.strip(layout, row, offset, row == self.cursor_row, self.highlight,
                                    gutter)
        return Strip.blank(layout.width + GUTTER, self.rich_style) if strip is None else strip

    def _queued_measure(self) -> None:
        self._measure_queued = False
        self.measure_visible()

    def _resync(self) -> None:
        """Lay every row out again from the timeline, the cursor kept on its message."""
        self._resync_queued = False
        self.row_layout.reset()
        self._painter.clear()
        self.cursor.refind()
        self.update_virtual_size()
        self.measure_visible()
        self.refresh()
