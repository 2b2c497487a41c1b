"""Transcript rows and the compact index of where the non-message rows sit among the messages.

The timeline never holds one row object per message: messages live in one list, and only the
few other rows (day separators, gaps, window edges) are stored, each with its row index. A
message's row is built when asked for. Lookups are O(log n); a splice costs the size of the
change plus a shift of the later non-message rows (a few per day of history).

Every row says what it is with :class:`RowKind` (``row.row_kind``), the one set of kinds the
timeline and the transcript's line index share.
"""

from __future__ import annotations

import datetime as dt
import enum
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Literal, TypeAlias

from roamtui.im.errors import RoamError
from roamtui.im.model import Message

GapState = Literal["idle", "loading", "error"]
EdgeKind = Literal["start", "end"]


class RowKind(enum.IntEnum):
    """What a row is. Small numbers on purpose: the transcript's line index keeps one byte
    per row, and every kind from :attr:`DAY` on is drawn as one line."""

    MESSAGE = 0
    RECALLED = 1  # a message its sender recalled (MsgFlagBits bit 8)
    DAY = 2  # the calendar day of the messages below, in the timeline's zone
    GAP = 3  # a stretch not known to be loaded
    EDGE = 4  # an end of the window: nothing older (or newer) is in it


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch of the window, in inclusive Unix seconds, not known to be loaded.

    ``max_time`` may also hold loaded messages: the newer neighbour can know only the end of
    that second (a same-second burst cut by a page boundary).
    """

    min_time: int
    max_time: int
    state: GapState = "idle"
    error: RoamError | None = None


@dataclass(frozen=True, slots=True)
class MessageRow:
    msg: Message
    # Position in Timeline.messages() when the row was read; it moves when older pages land.
    index_in_loaded: int = field(default=-1, compare=False)

    @property
    def row_kind(self) -> RowKind:
        return RowKind.RECALLED if self.msg.recalled else RowKind.MESSAGE


@dataclass(frozen=True, slots=True)
class DayRow:
    date: dt.date
    row_kind: ClassVar[RowKind] = RowKind.DAY


@dataclass(frozen=True, slots=True)
class GapRow:
    gap: Gap
    row_kind: ClassVar[RowKind] = RowKind.GAP


@dataclass(frozen=True, slots=True)
class EdgeRow:
    kind: EdgeKind  # "start": the window's oldest end is reached; "end": its newest end
    row_kind: ClassVar[RowKind] = RowKind.EDGE


Row: TypeAlias = MessageRow | DayRow | GapRow | EdgeRow
Marker: TypeAlias = DayRow | GapRow | EdgeRow
Token: TypeAlias = Message | Marker  # a row as stored: messages stay bare


@dataclass(frozen=True, slots=True)
class RowsChanged:
    """``removed`` rows starting at ``index`` were replaced by ``inserted`` rows."""

    index: int
    removed: int
    inserted: int


class DayClock:
    """The calendar date of a Unix time in one zone, caching the bounds of the last day seen."""

    __slots__ = ("_date", "_hi", "_lo", "tz")

    def __init__(self, tz: dt.tzinfo) -> None:
        self.tz = tz
        self._lo = 1
        self._hi = 0
        self._date = dt.date.min

    def _midnight(self, day: dt.date) -> int:
        return int(dt.datetime.combine(day, dt.time(0), tzinfo=self.tz).timestamp())

    def date_of(self, t: int) -> dt.date:
        if self._lo <= t < self._hi:
            return self._date
        day = dt.datetime.fromtimestamp(t, self.tz).date()
        try:
            lo, hi = self._midnight(day), self._midnight(day + dt.timedelta(days=1))
        except (OverflowError, ValueError):  # dates at the ends of the calendar
            return day
        # A zone whose midnight is skipped by a DST change could give bounds that miss t;
        # then the answer is right but not cached.
        if lo <= t < hi:
            self._lo, self._hi, self._date = lo, hi, day
        return day


def same_row(a: Token, b: Token) -> bool:
    return a is b or (not isinstance(a, Message) and a == b)


def changed_span(old: Sequence[Token], new: Sequence[Token]) -> tuple[int, int, int]:
    """(offset, removed, inserted) after trimming what both lists share at their ends."""
    n = min(len(old), len(new))
    pre = 0
    while pre < n and same_row(old[pre], new[pre]):
        pre += 1
    post = 0
    while post < n - pre and same_row(old[-1 - post], new[-1 - post]):
        post += 1
    return pre, len(old) - pre - post, len(new) - pre - post


class RowTable:
    """The non-message rows in order, each with its row index (``pos``, strictly increasing)."""

    __slots__ = ("markers", "pos")

    def __init__(self) -> None:
        self.markers: list[Marker] = []
        self.pos: list[int] = []

    def __len__(self) -> int:
        return len(self.markers)

    def locate(self, r: int) -> tuple[Marker | None, int]:
        """The marker at row ``r``, or None and the index of the message shown there."""
        j = bisect_right(self.pos, r) - 1
        if j >= 0 and self.pos[j] == r:
            return self.markers[j], -1
        return None, r - (j + 1)

    def markers_before(self, i: int) -> int:
        """How many markers come before message ``i`` (``pos[j] - j`` counts messages before j)."""
        pos = self.pos
        return bisect_right(range(len(pos)), i, key=lambda j: pos[j] - j)

    def row_of_message(self, i: int) -> int:
        return i + self.markers_before(i)

    def tokens(
        self, r0: int, r1: int, messages: Sequence[Message], first: int = 0
    ) -> list[Token]:
        """Rows ``r0 <= r < r1`` as stored; ``messages[0]`` is message number ``first``."""
        out: list[Token] = []
        j = bisect_left(self.pos, r0)
        pos, markers = self.pos, self.markers
        for r in range(r0, r1):
            if j < len(pos) and pos[j] == r:
                out.append(markers[j])
                j += 1
            else:
                out.append(messages[r - j - first])
        return out

    def splice(self, r0: int, r1: int, tokens: Sequence[Token]) -> None:
        """Rows ``r0 <= r < r1`` are now ``tokens``; later markers shift accordingly."""
        j0 = bisect_left(self.pos, r0)
        j1 = bisect_left(self.pos, r1)
        new_pos: list[int] = []
        new_markers: list[Marker] = []
        for k, tok in enumerate(tokens):
            if not isinstance(tok, Message):
                new_pos.append(r0 + k)
                new_markers.append(tok)
        delta = len(tokens) - (r1 - r0)
        self.pos[j0:j1] = new_pos
        self.markers[j0:j1] = new_markers
        if delta:
            pos = self.pos
            for j in range(j0 + len(new_pos), len(pos)):
                pos[j] += delta

    def replace(self, j: int, marker: Marker) -> None:
        self.markers[j] = marker

    def gap_rows(self) -> Iterator[tuple[int, GapRow]]:
        """(index into markers, row) of every gap row."""
        for j, marker in enumerate(self.markers):
            if isinstance(marker, GapRow):
                yield j, marker
