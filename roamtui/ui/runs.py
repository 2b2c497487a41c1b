"""Styled runs of plain text, and their greedy word wrap to a width in terminal cells.

A :class:`Run` is text drawn in one role; a line is a tuple of runs. Wrapping measures cells
(East Asian wide characters take two, combining marks none) and never cuts inside a grapheme.
:mod:`roamtui.ui.render` builds the runs of each row; the transcript and the filter view fit and
measure them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.cells import cell_len, set_cell_size, split_graphemes


@dataclass(frozen=True, slots=True)
class Run:
    """A piece of plain text drawn in one role."""

    text: str
    role: str


Line = tuple[Run, ...]
Span = tuple[int, int]


def fit(text: str, width: int) -> str:
    """Crop (with an ellipsis) or pad ``text`` to exactly ``width`` cells."""
    if cell_len(text) > width:
        return set_cell_size(text, max(0, width - 1)) + "…"
    return set_cell_size(text, width)


def runs_width(runs: Iterable[Run]) -> int:
    return sum(cell_len(run.text) for run in runs)


#: The role of an element's placeholder: kept whole on one line when it fits.
PLACEHOLDER = "placeholder"

_TOKENS = re.compile(r"\n| +|[^ \n]+")


def wrap(runs: Sequence[Run], width: int) -> list[list[Run]]:
    """Greedy word wrap of runs to ``width`` cells; newlines break, long words are split.

    A word may span runs (``abc`` then a visible ``␛`` then ``def`` is one word). Spaces where
    a line breaks are dropped.
    """
    width = max(1, width)
    if runs_width(runs) <= width and not any("\n" in run.text for run in runs):
        return [list(runs)]
    out = _Wrapper(width)
    word: list[tuple[str, str, int]] = []
    for run in runs:
        if PLACEHOLDER in run.role.split() and "\n" not in run.text:
            # A placeholder such as "[image 1080×720 2.1 MB]" stays whole when it fits a line.
            word.append((run.text, run.role, cell_len(run.text)))
            continue
        for match in _TOKENS.finditer(run.text):
            token = match.group()
            if token[0] not in " \n":
                word.append((token, run.role, cell_len(token)))
                continue
            out.word(word)
            word = []
            if token == "\n":
                out.newline()
            else:
                out.space(token, run.role)
    out.word(word)
    out.newline()
    return out.lines


class _Wrapper:
    """The lines being filled by :func:`wrap`."""

    __slots__ = ("line", "lines", "used", "width")

    def __init__(self, width: int) -> None:
        self.width = width
        self.lines: list[list[Run]] = []
        self.line: list[Run] = []
        self.used = 0

    def newline(self) -> None:
        self.lines.append(self.line)
        self.line = []
        self.used = 0

    def add(self, text: str, role: str, cells: int) -> None:
        line = self.line
        if line and line[-1].role == role:
            line[-1] = Run(line[-1].text + text, role)
        else:
            line.append(Run(text, role))
        self.used += cells

    def space(self, text: str, role: str) -> None:
        if self.used + len(text) > self.width:
            if self.line:
                self.newline()
            return
        self.add(text, role, len(text))

    def word(self, pieces: list[tuple[str, str, int]]) -> None:
        if not pieces:
            return
        cells = sum(piece[2] for piece in pieces)
        # Wide (CJK) text has no spaces and may break between any two characters; other words
        # move to the next line whole.
        wide = any(piece_cells > len(text) for text, _, piece_cells in pieces)
        if self.used + cells > self.width and self.line and not wide:
            self.newline()
        for text, role, piece_cells in pieces:
            self.chop(text, role, piece_cells)

    def chop(self, text: str, role: str, cells: int) -> None:
        """Add text, breaking it across lines wherever the width runs out."""
        while text:
            room = self.width - self.used
            if cells <= room:
                self.add(text, role, cells)
                return
            head, head_cells = _cut(text, room)
            if not head and not self.line:  # a glyph wider than the whole line
                head, head_cells = _cut(text, self.width + 1)
            if head:
                self.add(head, role, head_cells)
                text = text[len(head):]
                cells -= head_cells
            self.newline()


def _cut(text: str, room: int) -> tuple[str, int]:
    """The longest start of ``text`` that fits in ``room`` cells, and its width."""
    if text.isascii():  # sanitised ASCII is printable: one cell per character
        return text[:room], min(room, len(text))
    # Measure only a window a little longer than the room (zero-width marks take no cell),
    # so chopping a long text costs its length, not its length squared.
    size = 2 * room + 16
    while True:
        window = text[:size]
        spans, _ = split_graphemes(window)
        used = 0
        end = 0
        for _, stop, cells in spans:
            if used + cells > room:
                return text[:end], used
            used += cells
            end = stop
        if size >= len(text):
            return text[:end], used
        size *= 2
