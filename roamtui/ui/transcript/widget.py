"""The transcript: one Line-API ScrollView over a conversation timeline.

Oldest at the top, newest at the bottom; it opens at the newest end with the cursor on the
newest message. Only rows near the viewport are drawn, from an LRU of strips keyed by content
(never by row number), so inserting older pages above costs nothing to what is on screen.
Stretches that are not loaded are gap rows; a gap within a page of the viewport is filled by
an async worker, and rows inserted above move the scroll offset by their height so the view
never jumps.

Messages (all bubble): ``CursorMoved`` when the selected message changes, ``StatsChanged``
when counts or calls change, ``LoadFailed`` when a fetch fails (``r`` retries) and
``InspectRequested`` on Enter. ``goto_time`` jumps, ``swap_timeline`` replaces the timeline
(side swap or a new query) and ``highlight`` (a compiled pattern or None) marks search hits.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import tzinfo
from typing import ClassVar, Literal

from textual import on
from textual.binding import Binding, BindingType
from textual.message import Message as TextualMessage

from roamtui.history.timeline import EdgeRow, GapRow, RowsChanged, Timeline
from roamtui.im.errors import RoamError
from roamtui.im.model import Message
from roamtui.ui.render import RenderContext
from roamtui.ui.transcript.layout import GAP, TranscriptLayout, expand_refusal, reach, seek
from roamtui.ui.transcript.view import MESSAGES, TranscriptView

STATS_INTERVAL = 0.25  # seconds between checks of the calls in flight while loading


@dataclass(frozen=True, slots=True)
class _Landing:
    """Where a jump puts the cursor once its rows are in."""

    time: int
    earlier: bool = False  # the last message at or before ``time``, not the first at or after
    origin: Message | None = None  # where a step started: landing there again means an edge
    moves: int = 0  # the view's count of user moves when asked: a newer move cancels the landing


class Transcript(TranscriptView, can_focus=True):
    """A chat transcript over a :class:`Timeline`; see the module docstring for its messages."""

    # Readable on the dark, light and ANSI themes: no role puts a colour on a background of
    # the same hue (the ANSI themes map "muted" backgrounds to the plain colour), and the
    # cursor uses Textual's block-cursor variables like OptionList and DataTable do.
    DEFAULT_CSS = """
    Transcript {
        overflow-x: hidden;
        overflow-y: scroll;
        background: $surface;
        color: $foreground;
        & > .transcript--time { color: $text-muted; }
        & > .transcript--self { color: $text-primary; text-style: bold; }
        & > .transcript--peer { color: $text-accent; text-style: bold; }
        & > .transcript--placeholder { color: $text-secondary; text-style: italic; }
        & > .transcript--recalled { color: $text-muted; text-style: strike; }
        & > .transcript--badge { color: $text-warning; text-style: bold; }
        & > .transcript--read { color: $text-success; }
        & > .transcript--day { color: $text-muted; text-style: bold; }
        & > .transcript--gap { color: $text-muted; background: $panel; }
        & > .transcript--loading { color: $text-accent; background: $panel; }
        & > .transcript--error { color: $text-error; text-style: bold; }
        & > .transcript--edge { color: $text-muted; }
        & > .transcript--control { color: $text-error; text-style: bold; }
        & > .transcript--fold { color: $text-muted; text-style: italic; }
        & > .transcript--nested { color: $text-muted; }
        & > .transcript--match { text-style: reverse bold; }
        & > .transcript--cursor {
            color: $block-cursor-blurred-foreground;
            background: $block-cursor-blurred-background;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .transcript--cursor {
            color: $block-cursor-foreground;
            background: $block-cursor-background;
            text-style: $block-cursor-text-style;
        }
    }
    """

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
        Binding("d", "step(86400)", "One day later", show=False),
        Binding("D", "step(-86400)", "One day earlier", show=False),
        Binding("o", "step(3600)", "One hour later", show=False),
        Binding("O", "step(-3600)", "One hour earlier", show=False),
    ]

    class CursorMoved(TextualMessage):
        """The selected message (or, without one, the viewed position) changed."""

        def __init__(self, message: Message | None, time: int | None) -> None:
            super().__init__()
            self.message = message
            # Shadows Textual's creation stamp on purpose: this is the position's Unix time.
            self.time = time  # type: ignore[assignment]

        def can_replace(self, message: TextualMessage) -> bool:
            return isinstance(message, Transcript.CursorMoved)

    class StatsChanged(TextualMessage):
        """Loaded and recalled counts, completeness, API calls and gaps changed."""

        def __init__(self, loaded: int, recalled: int, complete: bool, calls: int,
                     in_flight: int, gaps: int) -> None:
            super().__init__()
            self.loaded = loaded
            self.recalled = recalled
            self.complete = complete
            self.calls = calls
            self.in_flight = in_flight
            self.gaps = gaps

        def can_replace(self, message: TextualMessage) -> bool:
            return isinstance(message, Transcript.StatsChanged)

    class LoadFailed(TextualMessage):
        """A fetch failed; its gap shows the error and ``r`` retries it."""

        def __init__(self, error: RoamError) -> None:
            super().__init__()
            self.error = error

    class InspectRequested(TextualMessage):
        """Enter on a message: show its details."""

        def __init__(self, message: Message) -> None:
            super().__init__()
            self.message = message

    class _Settled(TextualMessage):
        """A fetch worker ended: done, failed, or cancelled (by a newer job of its group)."""

        def __init__(self, timeline: Timeline, job: Hashable, token: int,
                     error: RoamError | None, cancelled: bool, land: _Landing | None) -> None:
            super().__init__()
            self.timeline = timeline
            self.job = job
            self.token = token
            self.error = error
            self.cancelled = cancelled
            self.land = land

    def __init__(self, timeline: Timeline, tz: tzinfo, *, name: str | None = None,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(_layout_for(timeline, tz), name=name, id=id, classes=classes)
        self._tz = tz
        self._jobs: dict[Hashable, int] = {}  # running jobs: what they do -> their token
        self._tokens = itertools.count()
        self._pending: _Landing | None = None  # where a jump in flight will land
        self._land_end = True
        self._last_stats: tuple[int, ...] | None = None
        self._last_position: tuple[str | None, int | None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._can_retry = False  # what the footer shows for ``r``; rebuilt only when it flips

    # -- public API ---------------------------------------------------------------------------

    @property
    def timeline(self) -> Timeline:
        return self._row_layout.timeline

    def goto_time(self, t: int) -> None:
        """Fetch around ``t`` and land with the cursor on the first message at or after it (else
        the last before it), however long the quiet stretch after ``t``."""
        self.moves += 1
        self._jump(_Landing(t, moves=self.moves))

    def swap_timeline(self, timeline: Timeline) -> None:
        """Show another timeline (the other side, or a new query); it opens at its newest end."""
        self.workers.cancel_node(self)
        self._disconnect()
        self._row_layout = _layout_for(timeline, self._tz)
        self._jobs.clear()
        self._pending = None
        self._put_cursor(None)
        self._land_end = True
        self._strips.clear()
        self._last_stats = None  # the counts of the old timeline must not stay on show
        if self.is_mounted:
            self._connect()
            self._sync_retry()
            self._post_stats()

    # -- lifecycle ----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._connect()
        self.set_interval(STATS_INTERVAL, self._post_stats)

    def on_unmount(self) -> None:
        self._disconnect()

    def _connect(self) -> None:
        timeline = self.timeline

        def changed(change: RowsChanged) -> None:
            if timeline is self.timeline:  # ignore a late event of a swapped-out timeline
                self._rows_changed(change)

        self._unsubscribe = timeline.subscribe(changed)
        self._row_layout.reset()
        # open() makes no call when the newest end is loaded already.
        self._start_job("open", timeline.open, group="history-open")
        self.sync_width()
        self.update_virtual_size()
        self.land_at_end()

    def _disconnect(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    # -- timeline changes ---------------------------------------------------------------------

    def _rows_changed(self, change: RowsChanged) -> None:
        """Mirror a timeline change in the line index, keeping the viewed message in place.

        Runs inside the timeline's notification (on the app's event loop, in a fetch worker),
        so the index never disagrees with the timeline when a frame is drawn; the follow-up
        (prefetch, stats, bindings) runs later as the widget's own callback.
        """
        self.splice_rows(change.index, change.inserted, change.removed)
        if self._land_end:
            self.land_at_end()
        self.call_later(self._after_change)

    def sync_width(self) -> None:
        super().sync_width()
        self._finish_opening()

    def _finish_opening(self) -> None:
        """Land at the newest end once the first page is in and the width is known."""
        if self._land_end and "open" not in self._jobs and self._row_layout.width:
            self._land_end = False
            self.land_at_end()

    def _after_change(self) -> None:
        self._viewport_moved()
        self._post_stats()
        self._sync_retry()

    def _sync_retry(self) -> None:
        """Refresh the bindings when ``r`` comes or goes (a refresh rebuilds the whole footer)."""
        can_retry = bool(self._failed_rows())
        if can_retry != self._can_retry:
            self._can_retry = can_retry
            self.refresh_bindings()

    def _position_changed(self) -> None:
        message = self.cursor_message
        time = message.time if message is not None else self.time_at_top()
        position = (None if message is None else message.key, time)
        if position != self._last_position:
            self._last_position = position
            self.post_message(self.CursorMoved(message, time))

    # -- loading ------------------------------------------------------------------------------

    def _start_job(self, job: Hashable, work: Callable[[], Awaitable[object]], *, group: str,
                   land: _Landing | None = None) -> None:
        """Run one timeline operation in an exclusive worker of ``group``; it reports back.

        ``work`` makes the coroutine inside the worker, so a worker cancelled before it starts
        leaves no coroutine behind that was never awaited.
        """
        token = next(self._tokens)
        self._jobs[job] = token
        timeline = self.timeline

        async def run() -> None:
            error: RoamError | None = None
            cancelled = True
            try:
                await work()
                cancelled = False
            except RoamError as exc:
                error, cancelled = exc, False
            except Exception as exc:  # a bug must not take the app down: one line, logged
                self.log.error(f"transcript {group}: {exc!r}")
                error = RoamError(f"internal error while loading ({type(exc).__name__})")
                cancelled = False
            finally:
                self.post_message(self._Settled(timeline, job, token, error, cancelled, land))

        self.run_worker(run(), name=f"transcript {group}", group=group, exclusive=True,
                        exit_on_error=False)
        self._post_stats()

    @on(_Settled)
    def _settled(self, event: _Settled) -> None:
        if event.timeline is not self.timeline:
            return  # a job of a swapped-out timeline, cancelled by the swap
        current = self._jobs.get(event.job) == event.token  # not replaced by a newer one
        if current:
            del self._jobs[event.job]
        if event.error is not None:
            self.post_message(self.LoadFailed(event.error))
        self._finish_opening()
        if current and event.land is not None and not event.cancelled:
            self._pending = None
            if event.land.moves == self.moves:  # else the user went elsewhere meanwhile
                self._land(event.land)
        self._after_change()

    def _jump(self, landing: _Landing) -> None:
        self._land_end = False
        self._pending = landing
        timeline = self.timeline

        async def work() -> None:
            await timeline.jump(landing.time)
            await reach(timeline, landing.time, landing.earlier)

        self._start_job("jump", work, group="history-jump", land=landing)

    def _land(self, landing: _Landing) -> None:
        """The cursor on the message ``landing`` asks for, centred; a gap in the way (a failed
        or unfinished load) is centred instead, to show its state; an edge is said."""
        if not len(self._row_layout.index):
            return
        row, _ = seek(self.timeline, landing.time, landing.earlier)
        if row is not None and self._row_layout.index.kind(row) == GAP:
            self.center_row(row)
            self._clamp_cursor()
            return
        if row is not None:
            self.set_cursor(row, center=True)
        origin = landing.origin
        if origin is None or self.cursor_message not in (None, origin):
            return
        if (landing.time < origin.time) if landing.earlier else (landing.time > origin.time):
            self.say("start of window" if landing.earlier else "end of window")

    def _viewport_moved(self) -> None:
        """Fill every idle gap within a page of the viewport, above or below it."""
        if "open" in self._jobs or not self._row_layout.width:
            return  # the newest page comes first; the gap on screen is the one it fills
        index = self._row_layout.index
        for row in self.visible_rows(margin=self.viewport_height):
            if index.kind(row) == GAP:
                self._fill_gap(row, retry=False)

    def _fill_gap(self, row: int, *, retry: bool) -> None:
        item = self.timeline.row(row)
        if not isinstance(item, GapRow):
            return
        gap = item.gap
        if gap.state == "loading" or (gap.state == "error" and not retry):
            return
        if ("gap", gap.min_time) in self._jobs:
            return
        index = self._row_layout.index
        edge: Literal["top", "bottom"]
        if index.find(MESSAGES, row - 1, -1) is None:
            group, edge = "history-older", "bottom"
        elif index.find(MESSAGES, row + 1, 1) is None:
            group, edge = "history-newer", "top"
        else:
            # Fill from the side the user comes from: a gap above the middle of the screen
            # is reached scrolling up, so it grows from its newer (bottom) side.
            middle = self.top_line + self.viewport_height // 2
            edge = "bottom" if index.start(row) < middle else "top"
            group = f"history-gap-{gap.min_time}"
        timeline = self.timeline
        self._start_job(("gap", gap.min_time), lambda: timeline.fill(gap, edge), group=group)

    def _failed_rows(self) -> list[int]:
        rows = []
        for row in self._row_layout.index.rows_of(GAP):
            item = self.timeline.row(row)
            if isinstance(item, GapRow) and item.gap.state == "error":
                rows.append(row)
        return rows

    def _post_stats(self) -> None:
        timeline = self.timeline
        in_flight = int(getattr(timeline.client, "calls_in_flight", 0))
        gaps = self._row_layout.index.count(GAP)
        stats = (timeline.loaded_count, timeline.recalled_count, int(timeline.complete),
                 timeline.calls, in_flight, gaps)
        if stats != self._last_stats:
            self._last_stats = stats
            self.post_message(self.StatsChanged(stats[0], stats[1], timeline.complete,
                                                stats[3], in_flight, gaps))

    # -- actions ------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "retry":
            return bool(self._failed_rows())
        return True

    def action_top(self) -> None:
        """Go to the oldest end of the window (fetched around it when not loaded)."""
        index = self._row_layout.index
        self.moves += 1
        if len(index) and self.timeline.row(0) == EdgeRow("start"):
            self._land_end = False
            self.scroll_to_line(0, hold=True)
            self.set_cursor(index.find(MESSAGES, 0, 1), reveal=False)
        else:
            self.goto_time(self.timeline.query.min_time)

    def action_bottom(self) -> None:
        """Go to the newest end of the window (fetched around it when not loaded)."""
        index = self._row_layout.index
        self.moves += 1
        if len(index) and self.timeline.row(len(index) - 1) == EdgeRow("end"):
            self._land_end = False
            self.land_at_end()
        else:
            self.goto_time(self.timeline.query.max_time)

    def action_step(self, seconds: int) -> None:
        """Step ``seconds`` (a day or an hour) from the cursor's time: back to the last message
        at or before it, forward to the first at or after it; quick presses add up."""
        earlier = seconds < 0
        query = self.timeline.query
        pending = self._pending
        if pending is None and self.at_edge(-1 if earlier else 1):
            self.say("start of window" if earlier else "end of window")
            return
        base: int | None
        if pending is not None:  # pressed again before the last jump landed: add up
            base, origin = pending.time, pending.origin
        else:
            origin = self.cursor_message
            base = origin.time if origin is not None else self.time_at_top()
        if base is None:
            base = query.max_time
        target = min(max(base + seconds, query.min_time), query.max_time)
        self.moves += 1
        self._jump(_Landing(target, earlier, origin, self.moves))

    def action_retry(self) -> None:
        """Load again the failed stretch nearest to the middle of the screen.

        When nothing could be loaded at all (the first page failed), this is the opening
        again: it lands at the newest end, cursor and all, as a fresh open does.
        """
        rows = self._failed_rows()
        if rows and not self.timeline.loaded_count:
            if "open" not in self._jobs:
                self._land_end = True
                self._start_job("open", self.timeline.open, group="history-open")
        elif rows:
            middle = self.top_line + self.viewport_height // 2
            index = self._row_layout.index
            self._fill_gap(min(rows, key=lambda r: abs(index.start(r) - middle)), retry=True)

    def action_inspect(self) -> None:
        message = self.cursor_message
        if message is not None:
            self.post_message(self.InspectRequested(message))

    def action_toggle_expand(self) -> None:
        """Expand or fold the selected message (a merged forward, or a long text)."""
        cursor = self._cursor
        if cursor is not None and self._row_layout.toggle(cursor):
            self.update_virtual_size()
            self.reveal(cursor)
            self.refresh()
        else:
            self.say(expand_refusal(self.cursor_message))

    def row_clicked(self, row: int) -> None:
        if self._row_layout.index.kind(row) == GAP:
            self._fill_gap(row, retry=True)
        else:
            super().row_clicked(row)


def _layout_for(timeline: Timeline, tz: tzinfo) -> TranscriptLayout:
    query = timeline.query
    return TranscriptLayout(timeline, RenderContext.for_parties(tz, query.account, query.peer))
