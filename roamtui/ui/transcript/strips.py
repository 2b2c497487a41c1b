"""How the transcript looks: its component classes, their styles, and the strips drawn with them.

:class:`StripPainter` turns one line of a laid-out row (runs of text, each with a role) into a
Strip of the widget's width, styled with the widget's component classes
(``transcript--<role>``, ``transcript--cursor``, ``transcript--match``), after a one-cell
gutter (:data:`GUTTER`: ``▌`` on the lines of a marked message, ``✎`` on the first line of one
with a note; ``transcript--mark``). Strips are cached by what the row shows (its content key,
the line inside it, the width, cursor, search pattern, gutter and theme), never by row number,
so rows inserted above leave the cache valid.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.cache import LRUCache
from textual.strip import Strip

from roamtui.im.model import Message
from roamtui.settings.marks import MarkBook
from roamtui.ui import render
from roamtui.ui.runs import Line
from roamtui.ui.transcript.layout import TranscriptLayout

STRIP_CACHE = 2048  # a few dozen screens of lines
#: Cells left of every line for the mark of its message; the rows are laid out without them.
GUTTER = 1
MARK_GLYPH = "▌"
NOTE_GLYPH = "✎"
MARK_ROLE = "mark"

#: The widget's DEFAULT_CSS: the style of every role. Readable on the dark, light and ANSI
#: themes: no role puts a colour on a background of the same hue (the ANSI themes map "muted"
#: backgrounds to the plain colour), and the cursor uses Textual's block-cursor variables like
#: OptionList and DataTable do.
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
        & > .transcript--held-self { color: $text-primary; background: $primary-muted;
                                     text-style: bold; }
        & > .transcript--held-peer { color: $text-accent; background: $accent-muted;
                                     text-style: bold; }
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
        & > .transcript--mark { color: $text-warning; text-style: bold; }
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

#: Every component class the painter asks the widget for.
COMPONENT_CLASSES = {
    *(f"transcript--{role}" for role in render.ROLES),
    "transcript--cursor",
    f"transcript--{render.MATCH}",
    f"transcript--{MARK_ROLE}",
}


class StripPainter:
    """Draws and caches the transcript's strips; see the module docstring."""

    def __init__(self, component_style: Callable[..., Style],
                 base_style: Callable[[], Style]) -> None:
        self._component_style = component_style  # the widget's get_component_rich_style
        self._base_style = base_style  # the widget's own rich style
        self._strips: LRUCache[Hashable, Strip] = LRUCache(STRIP_CACHE)
        self._styles: dict[tuple[str, bool], Style] = {}
        self._theme_generation = 0

    def clear(self) -> None:
        """Forget every strip (the rows were laid out again)."""
        self._strips.clear()

    def restyle(self) -> None:
        """The theme or the widget's styles changed: forget strips and styles."""
        self._theme_generation += 1
        self._strips.clear()
        self._styles.clear()

    def strip(self, layout: TranscriptLayout, row: int, offset: int, cursor: bool,
              pattern: re.Pattern[str] | None, gutter: str = " ") -> Strip | None:
        """Line ``offset`` of ``row`` after ``gutter`` (one cell), with ``pattern``'s hits
        marked; None if it has no such line (never expected: heights and lines come from one
        place)."""
        pattern_key = None if pattern is None else (pattern.pattern, pattern.flags)
        key = (layout.row_key(row), offset, layout.width, cursor, pattern_key, gutter,
               self._theme_generation)
        strip = self._strips.get(key)
        if strip is None:
            lines = layout.marked_lines(row, pattern)
            if offset >= len(lines):
                return None
            strip = self._build(lines[offset], layout.width, cursor, gutter)
            self._strips[key] = strip
        return strip

    def _style(self, role: str, cursor: bool) -> Style:
        """The style of a role, on the cursor row or not.

        Full component styles, not partial ones: only they resolve "auto" and translucent
        theme colours (such as ``$text-muted``) against the background.
        """
        style = self._styles.get((role, cursor))
        if style is None:
            names = tuple(f"transcript--{part}" for part in role.split())
            style = self._component_style(*names) if names else self._base_style()
            if cursor:  # the cursor's colours win over the role's; its text styles add up
                style += self._component_style("transcript--cursor")
            self._styles[(role, cursor)] = style
        return style

    def _build(self, line: Line, width: int, cursor: bool, gutter: str) -> Strip:
        segments = [Segment(gutter, self._style(MARK_ROLE, cursor))]
        segments.extend(Segment(run.text, self._style(run.role, cursor))
                        for run in line if run.text)
        cells = sum(cell_len(run.text) for run in line)
        pad = self._style("", cursor)
        if cells <= width:  # the usual case: one Strip, padded to the width
            segments.append(Segment(" " * (width - cells), pad))
            return Strip(segments, width + GUTTER)
        return Strip(segments, cells + GUTTER).adjust_cell_length(width + GUTTER, pad)


def gutter_glyph(book: MarkBook | None, msg: Message | None, offset: int) -> str:
    """What the gutter shows on line ``offset`` of the row of ``msg``: a note's sign on its
    first line, the mark on every line of a marked message, else a space."""
    if book is None or msg is None:
        return " "
    mark = book.get(msg.key)
    if mark is None:
        return " "
    if offset == 0 and mark.note:
        return NOTE_GLYPH
    return MARK_GLYPH if mark.marked else " "
