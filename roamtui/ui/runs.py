"""Styled runs of plain text, and their greedy word wrap to a width in terminal cells.

A :class:`Run` is text drawn in one role; a line is a tuple of runs. Wrapping measures cells
(East Asian wide characters take two, combining marks none) and never cuts inside a grapheme.
Text with wide characters has no spaces to break at: it breaks before and after each wide
character, but not inside a run of narrow ones (an order code ``SAVE34-1197`` in Chinese text
stays whole when it fits a line), nor before closing punctuation (``。``) or after an opening one
(``「``), the basic rule of CJK typesetting.
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


def crop_right(runs: Sequence[Run], cells: int, cut_role: str = "fold") -> list[Run]:
    """The first ``cells`` cells of the runs, the last an ellipsis (in ``cut_role``) marking
    the cut."""
    if runs_width(runs) <= cells:
        return list(runs)
    out: list[Run] = []
    used = 0
    for run in runs:
        width = cell_len(run.text)
        if used + width >= cells:  # the ellipsis takes the last cell, even after a whole run
            head, _ = _cut(run.text, max(0, cells - used - 1))  # a wide character whole
            out += [Run(head, run.role)] if head else []
            out.append(Run("…", cut_role))
            break
        out.append(run)
        used += width
    return out


def fit_row(runs: Sequence[Run], tail: Sequence[Run], room: int) -> list[Run]:
    """``runs`` then ``tail`` in ``room`` cells: the runs cut with an ellipsis when they do not
    fit, so the tail (a read mark) stays and a cut row never reads as a whole message."""
    tail_cells = runs_width(tail)
    if runs_width(runs) + tail_cells <= room:
        return [*runs, *tail]
    return [*crop_right(runs, max(1, room - tail_cells)), *tail]


#: The role of an element's placeholder: kept whole on one line when it fits, else broken at
#: its own spaces like words (``[merged forward: Escalation`` / ``notes · 4 msgs]``).
PLACEHOLDER = "placeholder"

_TOKENS = re.compile(r"\n| +|[^ \n]+")
# Where a word with wide characters may break (by ranges rather than a lookup per character: a
# character put on the wrong side only loses or gains a break; cells are measured exactly).
_WIDE = re.compile("[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff"
                   "\ua000-\ua4cf\ua960-\ua97f\uac00-\ud7a3\uf900-\ufaff\ufe10-\ufe19"
                   "\ufe30-\ufe6f\uff00-\uff60\uffe0-\uffe6\U0001f300-\U0001f64f"
                   "\U0001f680-\U0001f6ff\U0001f900-\U0001faff\U00020000-\U0003fffd]")
#: Never at the start of a line (they close what is before, or join it), never at its end.
_CLOSING = frozenset("。，、．：；！？）」』】〕》〉〗〙〛”’…‥・ー々ゝゞヽヾ～")
_OPENING = frozenset("（「『【〔《〈〖〘〚“‘")
_JOINER = "\u200d"  # glues the characters on both sides (emoji sequences)
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u20d0-\u20ff\ufe00-\ufe0f\ufe20-\ufe2f"
                    "\U0001f3fb-\U0001f3ff]")
Piece = tuple[str, str, int]  # text, role, cells


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
    last, whole = -1, 0  # the last run of the placeholder being added, and its cells
    for i, run in enumerate(runs):
        if PLACEHOLDER in run.role and "\n" not in run.text:
            if i > last:
                last, whole = _placeholder_end(runs, i)
            if whole <= width:
                # A placeholder such as "[image 1080×720 2.1 MB]" stays whole when it fits a
                # line; a longer one breaks at its spaces below, as words do, not mid-word.
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


def _placeholder_end(runs: Sequence[Run], start: int) -> tuple[int, int]:
    """The last run of the placeholder whose first is ``runs[start]`` (a visible control
    character in a file name is a run of its own), and the cells of the whole placeholder."""
    end, cells = start, 0
    while end < len(runs) and PLACEHOLDER in runs[end].role and "\n" not in runs[end].text:
        cells += cell_len(runs[end].text)
        end += 1
    return end - 1, cells


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

    def word(self, pieces: list[Piece]) -> None:
        if not pieces:
            return
        cells = sum(piece[2] for piece in pieces)
        # CJK text has no spaces: it breaks between characters, but not inside a placeholder
        # ("[file 报告.pdf 1 MB]") that fits a line: that moves to the next one whole.
        if any(piece_cells > len(text) for text, _, piece_cells in pieces) and not (
                cells <= self.width and any(PLACEHOLDER in role for _, role, _ in pieces)):
            self.wide_word(pieces)
            return
        if self.used + cells > self.width and self.line:
            self.newline()  # other words move to the next line whole
        for text, role, piece_cells in pieces:
            self.chop(text, role, piece_cells)

    def wide_word(self, pieces: list[Piece]) -> None:
        """A word with wide characters, broken only where the module docstring allows."""
        text = "".join(piece[0] for piece in pieces)
        roles: list[tuple[int, str]] = []  # where each piece ends, and its role
        for piece in pieces:
            roles.append(((roles[-1][0] if roles else 0) + len(piece[0]), piece[1]))
        start, left = 0, sum(piece[2] for piece in pieces)
        while start < len(text):
            room = self.width - self.used
            # ``left`` adds up the pieces' widths; joined, a sequence may measure otherwise.
            if left <= room and cell_len(text[start:]) <= room:
                self.span(text, roles, start, len(text))
                return
            head, _ = _cut(text[start:], room)
            end = _break_before(text, start, start + len(head))
            if end == start and self.line:
                self.newline()  # nothing that fits may end a line here: all on the next one
                continue
            if end == start:  # not even a whole line holds a piece that may end one: cut
                end = start + len(head or _cut(text[start:], self.width + 1)[0])
            left -= self.span(text, roles, start, end)
            start = end
            if start < len(text):
                self.newline()

    def span(self, text: str, roles: list[tuple[int, str]], start: int, end: int) -> int:
        """Add ``text[start:end]`` in the roles of its pieces; its width in cells."""
        added = 0
        for piece_end, role in roles:
            lo, hi = start, min(end, piece_end)
            if lo < hi:
                part = text[lo:hi]
                cells = cell_len(part)
                self.add(part, role, cells)
                added += cells
                start = hi
        return added

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


def _break_before(text: str, start: int, end: int) -> int:
    """The last place in ``(start, end]`` where a line may break in ``text``; ``start`` when
    none: between two characters when one is wide, unless the second closes or joins or the
    first opens."""
    for i in range(end, start, -1):
        if i == len(text):
            return i
        before, after = text[i - 1], text[i]
        if after in _CLOSING or before in _OPENING or _MARKS.match(after) or _JOINER in (
                before, after):
            continue
        if _WIDE.match(before) or _WIDE.match(after):
            return i
    return start


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
