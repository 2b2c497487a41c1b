"""What the user is looking at, held in place: the rows on screen, anchors, measuring there.

:class:`Viewport` is plain Python over a :class:`~roamtui.ui.transcript.layout.TranscriptLayout`
and a :class:`Surface` (the widget: where it is scrolled, how high it is, a way to scroll).
When rows change above the screen, the width changes or estimated heights become exact, it
notes the message being read (an :data:`Anchor`) and scrolls so that message is drawn on the
same screen line again: the view never jumps under the reader.
"""

from __future__ import annotations

from typing import Protocol

from roamtui.ui.render import RenderContext
from roamtui.ui.transcript.index import MESSAGES
from roamtui.ui.transcript.layout import TranscriptLayout

MEASURE_ROUNDS = 4  # shrinking rows can bring more rows into view: a few rounds at most

Anchor = tuple[int, int, int]  # (row, line inside the row, screen line it is drawn on)


class Surface(Protocol):
    """What a viewport needs of the widget that shows it."""

    @property
    def top_line(self) -> int: ...

    @property
    def viewport_height(self) -> int: ...

    def scroll_to_line(self, y: int, *, hold: bool = False) -> None: ...

    def update_virtual_size(self) -> None: ...


class Viewport:
    """The rows on screen and the anchor that keeps them there; see the module docstring."""

    def __init__(self, layout: TranscriptLayout, surface: Surface) -> None:
        self.layout = layout
        self.surface = surface
        self.measuring = False  # True while measure_visible runs (it scrolls, which re-enters)
        #: Between a resize and its layout: scrolls then keep the cursor on its message.
        self.resizing = False

    # -- reading ------------------------------------------------------------------------------

    def visible_rows(self, margin: int = 0) -> range:
        """Rows on screen, widened by ``margin`` lines above and below."""
        index = self.layout.index
        if not len(index):
            return range(0)
        top = self.surface.top_line
        first, _ = index.row_at(top - margin)
        last, _ = index.row_at(top + self.surface.viewport_height - 1 + margin)
        return range(first, last + 1)

    def time_at_top(self) -> int | None:
        """Time of the first message on screen (or the nearest one above it)."""
        index = self.layout.index
        if not len(index):
            return None
        row, _ = index.row_at(self.surface.top_line)
        found = index.find(MESSAGES, row, 1)
        if found is None:
            found = index.find(MESSAGES, row, -1)
        message = None if found is None else self.layout.message(found)
        return None if message is None else message.time

    def row_on_screen(self, y: int) -> int | None:
        """The row drawn on screen line ``y``, if any."""
        line = self.surface.top_line + y
        index = self.layout.index
        if y < 0 or line >= index.total:
            return None
        return index.row_at(line)[0]

    # -- anchors ------------------------------------------------------------------------------

    def anchor(self, skip: range = range(0)) -> Anchor | None:
        """What the user is looking at: the first message on screen, rows in ``skip`` excluded.

        A message is preferred over day, gap and edge rows, so a gap that turns into messages
        above it does not push the message being read down.
        """
        index = self.layout.index
        if not len(index):
            return None
        top = self.surface.top_line
        top_row, offset = index.row_at(top)
        row = top_row
        found = index.find(MESSAGES, row, 1)
        bottom, _ = index.row_at(top + self.surface.viewport_height - 1)
        if found is not None and found <= bottom and found not in skip:
            row, offset = found, (offset if found == top_row else 0)
        if row in skip:
            row, offset = skip.stop, 0
            if row >= len(index):
                return None
        return row, offset, index.start(row) + offset - top

    def restore(self, anchor: Anchor | None) -> None:
        """Scroll so the anchored row is drawn on the same screen line again."""
        if anchor is None:
            return
        row, offset, screen = anchor
        index = self.layout.index
        if row >= len(index):
            return
        offset = min(offset, index.height(row) - 1)
        self.surface.scroll_to_line(index.start(row) + offset - screen, hold=True)

    def restore_after_splice(self, anchor: Anchor | None, at: int, inserted: int,
                             removed: int) -> None:
        """:meth:`restore` an anchor taken before ``removed`` rows at ``at`` became
        ``inserted`` rows (rows after the change moved by the difference)."""
        self.surface.update_virtual_size()
        if not self.layout.width or anchor is None:
            return
        row, offset, screen = anchor
        if row >= at + removed:
            row += inserted - removed
        self.restore((row, offset, screen))

    # -- measuring ----------------------------------------------------------------------------

    def set_width(self, width: int) -> bool:
        """Re-wrap for a new width, keeping the message at the top of the view in place."""
        anchor = self.anchor()
        if not self.layout.set_width(width):
            return False
        self.surface.update_virtual_size()
        self.restore(anchor)
        return True

    def set_context(self, ctx: RenderContext) -> bool:
        """Draw with another context (the sender column's labels), keeping the view in place."""
        anchor = self.anchor()
        if not self.layout.set_context(ctx):
            return False
        self.surface.update_virtual_size()
        self.restore(anchor)
        self.measure_visible()  # the sender column's width changes every row's height
        return True

    def measure_visible(self) -> None:
        """Make the heights on screen (and a page around) exact, holding the view in place.

        Rows far away keep estimated heights; they are measured a slice at a time afterwards.
        """
        if self.measuring:
            return
        self.measuring = True
        try:
            index = self.layout.index
            for _ in range(MEASURE_ROUNDS):
                rows = self.visible_rows(margin=self.surface.viewport_height)
                first = index.first_inexact(rows.start) if rows else None
                if first is None or first not in rows:
                    break
                anchor = self.anchor()
                if self.layout.measure_rows(rows):
                    self.surface.update_virtual_size()
                    self.restore(anchor)
        finally:
            self.measuring = False

    def measure_slice(self, seconds: float) -> None:
        """Measure estimated rows for about ``seconds`` without moving what is on screen."""
        anchor = self.anchor()
        if self.layout.measure_pending(seconds):
            self.surface.update_virtual_size()
            self.restore(anchor)

    def measure_row(self, row: int) -> None:
        if self.layout.measure_rows((row,)):
            self.surface.update_virtual_size()

    # -- bringing a row into view -------------------------------------------------------------

    def center(self, row: int) -> None:
        """Scroll so ``row`` is in the middle of the screen (its top part, when taller)."""
        self.measure_row(row)
        index = self.layout.index
        view = self.surface.viewport_height
        middle = index.start(row) + min(index.height(row), view) // 2
        self.surface.scroll_to_line(middle - view // 2, hold=True)

    def resized(self, cursor: int | None) -> None:
        """After a resize's layout (Textual clamps the scroll as it lays a smaller screen
        out): the cursor kept its message rather than moving to one left on screen; show it."""
        self.resizing = False
        if cursor is not None:
            self.reveal(cursor)

    def reveal(self, row: int) -> None:
        """Scroll the least needed to show the row (its top when it is taller than the view)."""
        self.measure_row(row)
        index = self.layout.index
        start, height = index.start(row), index.height(row)
        top, view = self.surface.top_line, self.surface.viewport_height
        if start < top:
            self.surface.scroll_to_line(start, hold=True)
        elif start + height > top + view:
            self.surface.scroll_to_line(min(start, start + height - view), hold=True)
