"""The transcript's line index: which screen line belongs to which timeline row, at one width.

Sizes live in flat arrays (a few bytes per row), so 100,000 loaded messages cost little memory,
and finding the row under a line is a bisection over prefix sums. A row's height is exact once
it was measured at the current width; until then it is an estimate. Each row's kind is its
:class:`~roamtui.history.rows.RowKind`, one byte, so finding the next message (or gap) is a
scan of bytes.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

from roamtui.history.rows import RowKind

MESSAGE, RECALLED, DAY, GAP, EDGE = RowKind  # bound once: the hot paths compare rows with them
MESSAGES = bytes((MESSAGE, RECALLED))  # the kinds the cursor can stand on
UNKNOWN = -2  # one-line width not computed yet
_KINDS = tuple(RowKind)


class LineIndex:
    """Per-row heights, kinds and one-line widths, with prefix sums of the heights."""

    __slots__ = ("_exact", "_heights", "_kinds", "_natural", "_starts")

    def __init__(self) -> None:
        self._heights = array("I")
        self._starts = array("Q", [0])  # _starts[i] = first line of row i; one extra at the end
        self._kinds = bytearray()
        self._natural = array("i")  # body width of a one-paragraph message, -1, or UNKNOWN
        self._exact = bytearray()  # 1 when the height was measured at the current width

    def __len__(self) -> int:
        return len(self._heights)

    @property
    def total(self) -> int:
        """Lines of all rows together."""
        return self._starts[-1]

    def start(self, row: int) -> int:
        return self._starts[row]

    def height(self, row: int) -> int:
        return self._heights[row]

    def kind(self, row: int) -> RowKind:
        return _KINDS[self._kinds[row]]

    def natural(self, row: int) -> int:
        return self._natural[row]

    def is_exact(self, row: int) -> bool:
        return bool(self._exact[row])

    def first_inexact(self, start: int = 0) -> int | None:
        row = self._exact.find(0, start)
        return None if row < 0 else row

    def row_at(self, line: int) -> tuple[int, int]:
        """The row drawn on ``line`` and the line's offset inside it (clamped to the rows)."""
        count = len(self._heights)
        if count == 0:
            return 0, 0
        line = max(0, min(line, self.total - 1))
        row = bisect_right(self._starts, line, 0, count) - 1
        return row, line - self._starts[row]

    def splice(self, index: int, removed: int, kinds: Sequence[RowKind], natural: Sequence[int],
               heights: Sequence[int], exact: bytes) -> None:
        """Replace ``removed`` rows at ``index`` with new ones."""
        self._heights[index:index + removed] = array("I", heights)
        self._kinds[index:index + removed] = bytes(kinds)
        self._natural[index:index + removed] = array("i", natural)
        self._exact[index:index + removed] = exact
        self.resum(index)

    def measured(self, row: int, height: int, natural: int) -> bool:
        """Record an exact height; True when it differs (call :meth:`resum` afterwards)."""
        self._exact[row] = 1
        self._natural[row] = natural
        if self._heights[row] == height:
            return False
        self._heights[row] = height
        return True

    def invalidate(self, row: int) -> None:
        self._exact[row] = 0

    def reset_heights(self, heights: array[int], exact: bytearray) -> None:
        self._heights = heights
        self._exact = exact
        self.resum(0)

    def resum(self, index: int) -> None:
        """Prefix sums again from ``index`` on (earlier starts are still right)."""
        base = self._starts[index]
        del self._starts[index:]
        self._starts.extend(accumulate(self._heights[index:], initial=base))

    def find(self, kinds: bytes, start: int, step: int) -> int | None:
        """The first row from ``start`` (inclusive) going by ``step`` whose kind is in ``kinds``."""
        row = start
        count = len(self._kinds)
        while 0 <= row < count:
            if self._kinds[row] in kinds:
                return row
            row += step
        return None

    def count(self, kind: RowKind) -> int:
        return self._kinds.count(kind)

    def rows_of(self, kind: RowKind) -> list[int]:
        """Every row of one kind (cheap: kinds are bytes searched in C)."""
        out: list[int] = []
        row = self._kinds.find(kind)
        while row >= 0:
            out.append(row)
            row = self._kinds.find(kind, row + 1)
        return out
