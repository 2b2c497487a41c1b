"""The transcript's plain parts without an app: the viewport holds the message being read in
place while older pages land above it, and the cursor keeps its message by MsgKey through
changes that renumber the rows; a fake surface stands in for the widget."""

from __future__ import annotations

from transcriptkit import ME, PEER, TZ, world

from roamtui.history.rows import MessageRow, RowsChanged
from roamtui.history.timeline import Timeline
from roamtui.ui.render import RenderContext
from roamtui.ui.transcript.cursor import Cursor
from roamtui.ui.transcript.index import MESSAGES
from roamtui.ui.transcript.layout import TranscriptLayout
from roamtui.ui.transcript.viewport import Viewport


class FakeSurface:
    """A screen of ``height`` lines scrolled to ``top_line``, holding the cursor's row (its
    setter does what the widget's watcher does: the cursor remembers its message's key)."""

    def __init__(self, height: int = 20) -> None:
        self.top_line = 0
        self.viewport_height = height
        self.total = 0
        self._row: int | None = None
        self.positions = 0
        self.cursor: Cursor | None = None

    @property
    def cursor_row(self) -> int | None:
        return self._row

    @cursor_row.setter
    def cursor_row(self, row: int | None) -> None:
        self._row = row
        assert self.cursor is not None
        self.cursor.remember(row)

    def scroll_to_line(self, y: int, *, hold: bool = False) -> None:
        self.top_line = max(0, min(y, self.total - self.viewport_height))

    def update_virtual_size(self) -> None:
        assert self.cursor is not None
        self.total = self.cursor.layout.index.total

    def position_changed(self) -> None:
        self.positions += 1


def parts(timeline: Timeline) -> tuple[FakeSurface, Viewport, Cursor]:
    layout = TranscriptLayout(timeline, RenderContext.for_parties(TZ, ME, PEER))
    surface = FakeSurface()
    viewport = Viewport(layout, surface)
    cursor = surface.cursor = Cursor(viewport, surface)
    layout.reset()
    viewport.set_width(100)
    surface.update_virtual_size()

    def changed(change: RowsChanged) -> None:  # what the widget does with each change
        anchor = viewport.anchor(range(change.index, change.index + change.removed))
        layout.splice(change.index, change.inserted, change.removed)
        cursor.after_splice(change.index, change.inserted, change.removed)
        viewport.restore_after_splice(anchor, change.index, change.inserted, change.removed)

    timeline.subscribe(changed)
    return surface, viewport, cursor


def first_message_on_screen(viewport: Viewport) -> tuple[str, int]:
    index = viewport.layout.index
    for row in viewport.visible_rows():
        if index.kind(row) in MESSAGES:
            message = viewport.layout.message(row)
            assert message is not None
            return message.key, index.start(row) - viewport.surface.top_line
    raise AssertionError("no message on screen")


async def test_older_pages_landing_above_keep_the_view_and_the_cursor_on_their_messages() -> None:
    w = world(400)
    timeline = w.make(ME, PEER)
    surface, viewport, cursor = parts(timeline)
    await timeline.open()
    cursor.to_end()
    assert cursor.message is not None and cursor.message.text().startswith("m0399")
    surface.scroll_to_line(0)  # the top of what is loaded: the gap, then the oldest messages
    cursor.keep_in_view()
    held, key = cursor.message, cursor.key
    before = first_message_on_screen(viewport)
    await timeline.load_older()
    assert timeline.loaded_count > 40
    key_at_top, line = before  # the same message on the same screen line
    row = timeline.index_of_key(key_at_top)
    assert row is not None and viewport.layout.index.start(row) - surface.top_line == line
    assert cursor.message is held and cursor.key == key
    assert cursor.row == timeline.index_of_key(held.key)
    assert isinstance(timeline.row(cursor.row), MessageRow)


async def test_cursor_moves_over_the_line_index() -> None:
    w = world(30)
    timeline = w.make(ME, PEER)
    surface, viewport, cursor = parts(timeline)
    await timeline.load_all()
    cursor.to_start()
    assert cursor.message is not None and cursor.message.seq == 1000
    assert cursor.at_edge(-1) and not cursor.at_edge(1)
    cursor.step(1)
    cursor.step(1)
    assert cursor.message is not None and cursor.message.seq == 1002
    cursor.page(surface.viewport_height)
    assert cursor.row is not None and cursor.row in viewport.visible_rows()
    cursor.to_end()
    assert cursor.message is not None and cursor.message.seq == 1029
    assert cursor.at_edge(1) and not cursor.at_edge(-1)
    row = cursor.row
    cursor.step(1)  # past the last message: the cursor stays, the view shows the end
    assert cursor.row == row
