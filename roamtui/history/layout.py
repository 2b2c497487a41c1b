"""The row layout of a timeline: reading rows, splicing them as knowledge grows, gap states.

The base of :class:`~roamtui.history.timeline.Timeline`, which adds the operations that fetch.
Messages stay in the store's one list; only day separators, gaps and window edges are stored
as rows (:class:`RowTable`). Folding a span in rebuilds just the rows between the message
before it and the message after it, and tells subscribers exactly which rows were replaced.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import tzinfo

from roamtui.history.rows import (
    DayClock,
    DayRow,
    EdgeRow,
    Gap,
    GapRow,
    GapState,
    Marker,
    MessageRow,
    Row,
    RowsChanged,
    RowTable,
    Token,
    changed_span,
)
from roamtui.history.segments import Seg, Segment, Span, Store
from roamtui.im.errors import RoamError
from roamtui.im.model import Message
from roamtui.im.roam import RoamQuery


@dataclass(slots=True)
class _Pin:
    """Loads working on one stretch of the window (often one second), and the last failure."""

    lo: int
    hi: int
    loading: int = 0
    error: RoamError | None = None

    def meets(self, lo: int, hi: int) -> bool:
        return self.lo <= hi and lo <= self.hi


class RowLayout:
    """One query's loaded history as rows: messages, day separators, gaps, window edges."""

    def __init__(self, query: RoamQuery, tz: tzinfo) -> None:
        self.query = query
        self.tz = tz
        self._store = Store(query.min_time, query.max_time)
        self._table = RowTable()
        self._clock = DayClock(tz)
        self._pins: dict[tuple[int, int], _Pin] = {}
        self._subscribers: list[Callable[[RowsChanged], None]] = []
        self._table.splice(0, 0, self._zone(0, 0))

    # -- reading -----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._store.msgs) + len(self._table)

    def row(self, i: int) -> Row:
        if not 0 <= i < len(self):
            raise IndexError(f"row {i} of {len(self)}")
        marker, m = self._table.locate(i)
        if marker is not None:
            return marker
        return MessageRow(self._store.msgs[m], m)

    def index_of_key(self, key: str) -> int | None:
        msg = self._store.keys.get(key)
        if msg is None:
            return None
        return self._table.row_of_message(self._store.position(msg))

    def index_at_time(self, t: int) -> int:
        """The row of the first message at or after ``t``, or of the gap holding ``t``."""
        st, table = self._store, self._table
        t = min(max(t, st.min_time), st.max_time)
        seg = st.seg_at(t)
        if seg is None or seg.clean_lo > t:
            for j, row in table.gap_rows():
                if row.gap.min_time <= t <= row.gap.max_time:
                    return table.pos[j]
        else:
            i = st.first_at(t, seg.start, seg.end)
            if i < seg.end:
                return table.row_of_message(i)
            if seg.count:  # after its last message comes the row of what lies above it
                return table.row_of_message(seg.end - 1) + 1
        for j, row in table.gap_rows():
            if row.gap.min_time > t:
                return table.pos[j]
        return len(self) - 1

    def messages(self) -> Sequence[Message]:
        """Every loaded message, oldest first (a snapshot)."""
        return tuple(self._store.msgs)

    @property
    def loaded_count(self) -> int:
        return len(self._store.msgs)

    @property
    def recalled_count(self) -> int:
        return self._store.recalled

    @property
    def complete(self) -> bool:
        """The whole window is loaded."""
        return self._store.complete

    @property
    def start_reached(self) -> bool:
        return self._store.start_reached

    @property
    def end_reached(self) -> bool:
        return self._store.end_reached

    @property
    def gaps(self) -> list[Gap]:
        return [self._gap(g.min_time, g.max_time) for g in self._store.gaps()]

    def covered(self) -> list[tuple[int, int]]:
        """The stretches of seconds known whole (a partial bottom second left out), oldest first."""
        return [(s.clean_lo, s.hi) for s in self._store.segs if s.clean_lo <= s.hi]

    def covered_seconds(self) -> int:
        """How many seconds :meth:`covered` spans: over :attr:`loaded_count`, the density of
        everything loaded."""
        return self._store.covered_seconds()

    def messages_in(self, lo: int, hi: int) -> Sequence[Message]:
        """The loaded messages of seconds ``lo..hi``, in service order."""
        st = self._store
        return st.msgs[st.first_at(lo) : st.first_after(hi)]

    def holds_key(self, key: str) -> bool:
        return key in self._store.keys

    @property
    def segments(self) -> list[Segment]:
        return [self._store.snapshot(s) for s in self._store.segs]

    def subscribe(self, cb: Callable[[RowsChanged], None]) -> Callable[[], None]:
        """Call ``cb`` after every change of the rows; returns the way to stop."""
        self._subscribers.append(cb)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(cb)

        return unsubscribe

    # -- rows --------------------------------------------------------------------------------

    def _apply(self, span: Span, anchor: Seg | None = None) -> int:
        """Merge a proven span and splice the rows around it; returns messages added."""
        st, table = self._store, self._table
        old_count, old_len = len(st.msgs), len(self)
        splice = st.merge(span, anchor)
        if splice is None:
            return 0
        p, q = splice.start, splice.start + len(splice.old)
        # The rows between message p-1 and old message q are all that can change: segment
        # bounds only move inside the stretch the span covered.
        r0 = table.row_of_message(p - 1) + 1 if p else 0
        r1 = table.row_of_message(q) if q < old_count else old_len
        before = table.tokens(r0, r1, splice.old, first=p)
        after = self._zone(p, p + splice.inserted)
        table.splice(r0, r1, after)
        offset, removed, inserted = changed_span(before, after)
        self._emit(r0 + offset, removed, inserted)
        return splice.inserted - len(splice.old)

    def _zone(self, p: int, end: int) -> list[Token]:
        """Rows from just after message ``p - 1`` to just before message ``end``."""
        st = self._store
        msgs, day = st.msgs, self._clock.date_of
        out: list[Token] = list(self._markers_before(p))
        i = p
        while i < end:
            stop = min(st.segs[st.seg_of_message(i)].end, end)
            prev = day(msgs[i].time)
            out.append(msgs[i])
            i += 1
            while i < stop:
                m = msgs[i]
                d = day(m.time)
                if d != prev:
                    out.append(DayRow(d))
                    prev = d
                out.append(m)
                i += 1
            out.extend(self._markers_before(i))
        return out

    def _markers_before(self, i: int) -> list[Marker]:
        """The rows between message ``i - 1`` and message ``i`` (``i`` may be either end)."""
        st = self._store
        msgs, segs = st.msgs, st.segs
        if not segs:
            return [GapRow(self._gap(st.min_time, st.max_time))]
        day = self._clock.date_of
        kp = st.seg_of_message(i - 1) if i > 0 else -1
        kn = st.seg_of_message(i) if i < len(msgs) else len(segs)
        if kp == kn:
            d = day(msgs[i].time)
            return [] if d == day(msgs[i - 1].time) else [DayRow(d)]
        out: list[Marker] = []
        if kp < 0:
            if st.start_reached:
                out.append(EdgeRow("start"))
            else:
                out.append(GapRow(self._gap(st.min_time, segs[0].clean_lo - 1)))
        for k in range(max(kp, 0), kn):  # what lies above each segment ending here
            seg = segs[k]
            if k + 1 < len(segs):
                out.append(GapRow(self._gap(seg.hi + 1, segs[k + 1].clean_lo - 1)))
            elif seg.hi >= st.max_time:
                out.append(EdgeRow("end"))
            else:
                out.append(GapRow(self._gap(seg.hi + 1, st.max_time)))
        if i < len(msgs):
            out.append(DayRow(day(msgs[i].time)))
        return out

    def _emit(self, index: int, removed: int, inserted: int) -> None:
        if removed or inserted:
            change = RowsChanged(index, removed, inserted)
            for cb in list(self._subscribers):
                cb(change)

    # -- gap states --------------------------------------------------------------------------

    def _gap(self, lo: int, hi: int) -> Gap:
        state: GapState = "idle"
        error: RoamError | None = None
        for pin in self._pins.values():
            if pin.meets(lo, hi):
                if pin.loading:
                    return Gap(lo, hi, "loading")
                if pin.error is not None:
                    state, error = "error", pin.error
        return Gap(lo, hi, state, error)

    @contextlib.contextmanager
    def _working(self, lo: int, hi: int | None = None) -> Iterator[None]:
        """Mark the gaps meeting seconds ``lo..hi`` (default: the one second ``lo``) loading;
        keep a failure on them, clear the failures there on success."""
        hi = lo if hi is None else hi
        pin = self._pins.setdefault((lo, hi), _Pin(lo, hi))
        pin.loading += 1
        self._refresh_gaps()
        try:
            yield
        except RoamError as exc:
            pin.error = exc
            raise
        except Exception as exc:
            # Not a failure the core knows (a bug, or a reply nobody foresaw): the gap still
            # shows it and waits for the user, or the view would refill it by itself at once.
            pin.error = RoamError(f"internal error while loading ({type(exc).__name__})")
            raise
        else:
            # A load that worked here answers the failures told about this stretch.
            for other in self._pins.values():
                if other.meets(lo, hi):
                    other.error = None
        finally:
            pin.loading -= 1
            self._prune_pins()
            self._refresh_gaps()

    def _prune_pins(self) -> None:
        gaps = self._store.gaps()
        for key, pin in list(self._pins.items()):
            if pin.loading:
                continue
            inside = any(pin.meets(g.min_time, g.max_time) for g in gaps)
            if pin.error is None or not inside:
                del self._pins[key]

    def _refresh_gaps(self) -> None:
        table = self._table
        for j, row in list(table.gap_rows()):
            old = row.gap
            new = self._gap(old.min_time, old.max_time)
            if new.state != old.state or new.error is not old.error:
                table.replace(j, GapRow(new))
                self._emit(table.pos[j], 1, 1)
