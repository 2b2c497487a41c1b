"""Timeline rows laid out at one width: their heights, their drawn lines, what is expanded.

:class:`TranscriptLayout` keeps a :class:`~roamtui.ui.transcript.index.LineIndex` in step with
the timeline (:meth:`~TranscriptLayout.splice` mirrors each change) and measures rows at the
current width. Small changes (a page of history) are measured at once; a huge insert or a new
width measures only what is on screen right away and leaves the rest to be measured a slice at
a time, so nothing freezes the UI. Drawn lines are cached by what a row shows, never by its
position, so rows inserted above cost nothing to what is on screen.

Message rows are drawn by :mod:`roamtui.ui.render`; the one-line rows (day separators, gaps,
the window's edges) are drawn here, as banners centred in the width.
"""

from __future__ import annotations

import re
import time
from array import array
from collections.abc import Hashable, Iterable, Mapping
from datetime import date, datetime, tzinfo
from typing import TYPE_CHECKING

from rich.cells import cell_len
from textual.cache import LRUCache

from roamtui.history.rows import DayRow, EdgeRow, GapRow, MessageRow
from roamtui.im.model import Message, RelayElem
from roamtui.ui import render
from roamtui.ui.render import RenderContext
from roamtui.ui.runs import Line, Run, fit, runs_width
from roamtui.ui.transcript.index import (
    DAY,
    EDGE,
    GAP,
    MESSAGE,
    MESSAGES,
    RECALLED,
    UNKNOWN,
    LineIndex,
)

if TYPE_CHECKING:
    from roamtui.history.timeline import Timeline

MEASURE_AT_ONCE = 256  # a change of at most this many rows is measured right away
MARKED_CACHE = 256  # rows drawn with search hits: a few screens' worth


def expandable(msg: Message) -> bool:
    """Whether the message holds a merged forward with messages to show."""
    return any(isinstance(e, RelayElem) and e.messages for e in msg.elements)


def expand_refusal(msg: Message | None) -> str:
    """Why ``x`` leaves ``msg`` as it is, in words for the user."""
    for elem in () if msg is None else msg.elements:
        if isinstance(elem, RelayElem) and not elem.messages:
            # The key is message content: untrusted, so made inert, and cut when long.
            key = render.safe_line(elem.json_msg_key, render.TEXT)
            key = fit(key, 40) if cell_len(key) > 40 else key
            return ("the forwarded messages are not included in this record"
                    + (f" (JsonMsgKey {key})" if key else ""))
    return "nothing to expand"


def _may_mark(msg: Message, pattern: re.Pattern[str], expanded: bool) -> bool:
    """Whether drawing ``msg`` with ``pattern`` can mark anything: every text the drawing
    searches (its text, what its placeholders do not show, the forwarded messages' when
    expanded) is searched here, without building or wrapping a line."""
    messages = [msg]
    if expanded:
        messages += [m for e in msg.elements if isinstance(e, RelayElem) for m in e.messages]
    # Through match_spans, as the drawing itself: the search's runner, never an unbounded re
    # call (a pathological pattern the static check missed must not freeze the drawing).
    # Imported here, with a highlight only: the search core is not loaded before the first frame.
    from roamtui.history.search_query import match_spans

    return any(match_spans(text, pattern, 1) for m in messages
               for text in (m.text(), *(x for e in m.elements for x in e.extras())))


# -- sizes and one-line rows ---------------------------------------------------------------


def simple_width(msg: Message) -> int:
    """Cells of the message body if it is one paragraph (fits one line when wide enough), else -1.

    Lets the line index size most rows without wrapping them: such a row is one line high
    whenever this is at most the text width.
    """
    runs = render.body_runs(msg)
    if any("\n" in run.text for run in runs):
        return -1
    return runs_width(runs)


def banner(text: str, role: str, width: int, fill: str = " ") -> Line:
    """One centred line of ``text`` padded with ``fill`` to the width."""
    text = f" {text} " if fill != " " else text
    room = width - cell_len(text)
    if room <= 0:
        return (Run(fit(text, max(1, width)), role),)
    left = room // 2
    return (Run(fill * left + text + fill * (room - left), role),)


def day_lines(day: date, width: int) -> list[Line]:
    return [banner(f"{day:%A, %Y-%m-%d}", render.DAY, width, "─")]


def span_text(start: int, end: int, tz: tzinfo) -> str:
    """A time range, with dates only when the two ends fall on different days."""
    a = datetime.fromtimestamp(start, tz)
    b = datetime.fromtimestamp(end, tz)
    if a.date() == b.date():
        return f"{a:%H:%M}–{b:%H:%M}"
    return f"{a:%Y-%m-%d %H:%M} – {b:%Y-%m-%d %H:%M}"


def error_text(error: object) -> str:
    """A failure as one inert line (the core's errors are already one redacted line)."""
    return render.safe_line(str(error) or type(error).__name__, render.ERROR)


def gap_lines(row: GapRow, width: int, tz: tzinfo, *, older_edge: bool) -> list[Line]:
    """The banner of a stretch that is not loaded: idle, loading or failed."""
    gap = row.gap
    if gap.state == "error":
        # The advice to press r must survive a narrow screen: the error text is cut instead.
        reason = error_text(gap.error or "loading failed")
        room = max(render.MIN_TEXT_WIDTH, width - cell_len("⚠  — r to retry"))
        if cell_len(reason) > room:
            reason = fit(reason, room)
        return [banner(f"⚠ {reason} — r to retry", render.ERROR, width)]
    if gap.state == "loading":
        what = "older messages" if older_edge else span_text(gap.min_time, gap.max_time, tz)
        return [banner(f"loading {what}…", render.LOADING, width)]
    text = f"⋯ not loaded: {span_text(gap.min_time, gap.max_time, tz)} (scroll here to load)"
    return [banner(text, render.GAP, width)]


def edge_lines(row: EdgeRow, width: int) -> list[Line]:
    text = "start of window" if row.kind == "start" else "end of window"
    return [banner(text, render.EDGE, width, "—")]


class TranscriptLayout:
    """Timeline rows laid out at one width: heights, rendered lines and expansion state."""

    def __init__(self, timeline: Timeline, ctx: RenderContext, *, cache_size: int = 512) -> None:
        self.timeline = timeline
        self.ctx = ctx
        self.width = 0
        self.index = LineIndex()
        self.expanded: set[str] = set()
        self._lines: LRUCache[tuple[Hashable, int], tuple[Line, ...]] = LRUCache(cache_size)
        self._marked: LRUCache[Hashable, tuple[Line, ...]] = LRUCache(MARKED_CACHE)
        self._scan = 0  # where the background measuring goes on

    @property
    def text_width(self) -> int:
        return self.ctx.text_width(self.width)

    @property
    def pending(self) -> bool:
        """Some rows still have estimated heights."""
        return self.index.first_inexact() is not None

    def message(self, i: int) -> Message | None:
        if 0 <= i < len(self.index) and self.index.kind(i) <= RECALLED:
            row = self.timeline.row(i)
            if isinstance(row, MessageRow):
                return row.msg
        return None

    def row_key(self, i: int) -> Hashable:
        """What a row's drawing depends on, independent of its position in the timeline."""
        row = self.timeline.row(i)
        if isinstance(row, MessageRow):
            msg = row.msg
            return (MESSAGE, msg.key or id(msg), msg.key in self.expanded)
        if isinstance(row, DayRow):
            return (DAY, row.date)
        if isinstance(row, GapRow):
            return (GAP, row.gap, self._older_edge(i))
        return (EDGE, row.kind)

    def _older_edge(self, i: int) -> bool:
        """A gap before every message: loading it means loading older history."""
        return self.index.find(MESSAGES, i - 1, -1) is None

    def lines(self, i: int) -> tuple[Line, ...]:
        key = (self.row_key(i), self.width)
        cached = self._lines.get(key)
        if cached is None:
            cached = self._draw(i)
            self._lines[key] = cached
        return cached

    def marked_lines(self, i: int, pattern: re.Pattern[str] | None) -> tuple[Line, ...]:
        """Row ``i``'s lines with the hits of ``pattern`` marked in its message's body.

        As many lines as :meth:`lines`, broken at the same places; cached apart, as a new
        pattern (each keystroke in the find bar) replaces them all.
        """
        if pattern is None or self.index.kind(i) > RECALLED:
            return self.lines(i)
        key = (self.row_key(i), self.width, pattern.pattern, pattern.flags)
        cached = self._marked.get(key)
        if cached is None:
            msg = self.message(i)
            expanded = msg is not None and msg.key in self.expanded
            if msg is None or not _may_mark(msg, pattern, expanded):
                return self.lines(i)  # drawn as it is, without wrapping it again
            cached = tuple(render.message_lines(msg, max(1, self.width), self.ctx,
                                                expanded=expanded, pattern=pattern))
            self._marked[key] = cached
        return cached

    def _draw(self, i: int) -> tuple[Line, ...]:
        row = self.timeline.row(i)
        width = max(1, self.width)
        if isinstance(row, MessageRow):
            msg = row.msg
            return tuple(render.message_lines(msg, width, self.ctx,
                                              expanded=msg.key in self.expanded))
        if isinstance(row, DayRow):
            return tuple(day_lines(row.date, width))
        if isinstance(row, GapRow):
            return tuple(gap_lines(row, width, self.ctx.tz, older_edge=self._older_edge(i)))
        return tuple(edge_lines(row, width))

    # -- measuring ----------------------------------------------------------------------------

    def measure(self, i: int) -> bool:
        """Make row ``i``'s height exact; True when it changed (prefix sums not updated)."""
        index = self.index
        if index.is_exact(i):
            return False
        natural = index.natural(i)
        if index.kind(i) >= DAY or not self.width:
            return index.measured(i, 1, natural)
        msg = self.message(i)
        if msg is None:
            return index.measured(i, 1, natural)
        if natural == UNKNOWN:
            natural = simple_width(msg)
        if 0 <= natural <= self.text_width and msg.key not in self.expanded:
            return index.measured(i, 1, natural)
        # Counted without the lines cache: measuring far rows must not evict what is on screen.
        key = (self.row_key(i), self.width)
        lines = self._lines.get(key) or self._draw(i)
        return index.measured(i, len(lines), natural)

    def measure_rows(self, rows: Iterable[int]) -> bool:
        """Make the given rows exact; True when any height (and so the sums) changed."""
        first: int | None = None
        for i in rows:
            if self.measure(i) and (first is None or i < first):
                first = i
        if first is None:
            return False
        self.index.resum(first)
        return True

    def measure_pending(self, seconds: float) -> bool:
        """Measure estimated rows for about ``seconds``; True when any height changed."""
        deadline = time.perf_counter() + seconds
        index = self.index
        first: int | None = None
        row = index.first_inexact(self._scan) if self._scan < len(index) else None
        if row is None:
            row = index.first_inexact()
        while row is not None:
            if self.measure(row) and (first is None or row < first):
                first = row
            self._scan = row + 1
            if time.perf_counter() >= deadline:
                break
            row = index.first_inexact(self._scan) if self._scan < len(index) else None
        if first is None:
            return False
        index.resum(first)
        return True

    def set_width(self, width: int) -> bool:
        """Size every row for a new width: exact where cheap, estimated where a wrap is needed."""
        if width == self.width:
            return False
        self.width = width
        text_width = self.text_width
        index = self.index
        count = len(index)
        heights = array("I", bytes(4 * count))
        exact = bytearray(count)
        for i in range(count):
            natural = index.natural(i)
            if index.kind(i) >= DAY or 0 <= natural <= text_width:
                heights[i] = 1
                exact[i] = 1
            elif natural > 0:  # one paragraph: its wrapped height is close to this
                heights[i] = min(-(-natural // text_width), render.FOLD_AT + 1)
            else:
                heights[i] = index.height(i)
        for key in self.expanded:
            row = self.timeline.index_of_key(key)
            if row is not None:
                exact[row] = 0
        index.reset_heights(heights, exact)
        self._scan = 0
        return True

    def set_context(self, ctx: RenderContext) -> bool:
        """Draw with another context (senders by nickname or by account): every row is drawn
        and sized anew at the same width; False when nothing changes."""
        if ctx == self.ctx:
            return False
        self.ctx = ctx
        self.clear_cache()
        width, self.width = self.width, 0
        if width:
            self.set_width(width)
        return True

    def reset(self) -> None:
        """Forget every row and size the whole timeline again (a swapped or reset timeline)."""
        self.index = LineIndex()
        self.clear_cache()
        self.splice(0, len(self.timeline), 0)

    def splice(self, index: int, inserted: int, removed: int) -> None:
        """Mirror a timeline change: ``removed`` rows at ``index`` replaced by ``inserted`` rows."""
        kinds = [self.timeline.row(i).row_kind for i in range(index, index + inserted)]
        exact = bytes(int(kind >= DAY) for kind in kinds)
        self.index.splice(index, removed, kinds, [UNKNOWN] * inserted, [1] * inserted, exact)
        if inserted <= MEASURE_AT_ONCE:
            self.measure_rows(range(index, index + inserted))
        if self._scan > index:
            self._scan = index

    def toggle(self, i: int) -> bool:
        """Expand or collapse a message (a merged forward or a folded long text)."""
        msg = self.message(i)
        if msg is None:
            return False
        if msg.key in self.expanded:
            self.expanded.discard(msg.key)
        elif expandable(msg) or len(self.lines(i)) > render.FOLD_AT:
            self.expanded.add(msg.key)
        else:
            return False
        self.index.invalidate(i)
        self.measure_rows((i,))
        return True

    def clear_cache(self) -> None:
        self._lines.clear()
        self._marked.clear()


def layout_for(timeline: Timeline, tz: tzinfo,
               names: tuple[Mapping[str, str], bool] | None = None) -> TranscriptLayout:
    """The layout of a timeline's rows; one read from both sides marks one-sided messages;
    ``names`` (account -> nickname, and whether accounts are shown instead) label the senders."""
    from roamtui.history.sides import TwoSidedTimeline

    query = timeline.query
    holder = timeline.only_holder if isinstance(timeline, TwoSidedTimeline) else None
    nicknames, accounts = names if names is not None else ({}, False)
    ctx = RenderContext.for_parties(tz, query.account, query.peer, holder, nicknames,
                                    accounts=accounts)
    return TranscriptLayout(timeline, ctx)
