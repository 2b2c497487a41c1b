"""Marks and notes on the browse screen: the glue between the keys, the store and the transcript.

:class:`Marking` belongs to a :class:`~roamtui.ui.screens.browse.BrowseScreen` and holds the
:class:`~roamtui.settings.marks.MarkBook` of the side being read (``p`` swaps the book with
the side). ``m`` toggles the mark of the message under the cursor, ``'`` / ``"`` go to the
next / previous marked message (fetched around it when it is not loaded), ``a`` or
``:note TEXT`` attach a note (plain text, shown inert), ``:marks clear`` removes them all;
``M``, ``:marks`` or ``:filter marked`` keep only the marked messages (the kind "marked" of
``history.filters``, registered here: the filter view shows each with a line of context).

A marked message the service no longer returns is reported, never dropped from the book: once
a loaded stretch of the window covers the second a mark was made at and the MsgKey is not in
it, one notice names it (time and MsgKey) and the status bar counts it as missing.
"""

from __future__ import annotations

import weakref
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING

from roamtui.history.filters import FilterKind, register_kind
from roamtui.history.timeparse import format_time
from roamtui.settings.marks import Mark, MarkBook, MarkError, MarkStore, Pair
from roamtui.text import one_line

if TYPE_CHECKING:
    from roamtui.history.segments import Segment
    from roamtui.im.model import Message
    from roamtui.ui.transcript import Transcript

#: MsgKeys named in one "not returned" notice; the rest are counted.
NAMED_MISSING = 3
#: The browse screens' marks alive in the process: a filter kind tests one message, and only
#: the screen's book knows whether it is marked on the side being read.
_LIVE: weakref.WeakSet[Marking] = weakref.WeakSet()


def is_marked(msg: Message) -> bool:
    """Whether ``msg`` is marked on the side a browse screen reads (``:filter marked``, ``M``)."""
    return any(marking.book.is_marked(msg.key) for marking in list(_LIVE))


register_kind(FilterKind("marked", "marked", "messages you marked (m) on the side being read",
                         is_marked))


@dataclass(frozen=True, slots=True)
class MarkCount:
    """What the status bar says: marked messages, and how many of them did not come back."""

    marked: int = 0
    missing: int = 0


def covered(segments: Sequence[Segment], t: int) -> bool:
    """Whether a loaded stretch holds every message of second ``t`` (so a MsgKey of that second
    that is not loaded was not returned); ``segments`` oldest first, as the timeline has them."""
    k = bisect_left(segments, t, key=lambda seg: seg.max_time)
    if k == len(segments):
        return False
    seg = segments[k]
    return seg.min_time < t or (seg.min_time == t and not seg.partial_bottom)


class Marking:
    """One browse screen's marks; see the module docstring."""

    def __init__(self, store: MarkStore, sdkappid: int, transcript: Callable[[], Transcript],
                 notify: Callable[..., None], shown: Callable[[MarkCount], None],
                 selected: Callable[[], Message | None] | None = None) -> None:
        self.store = store
        self.sdkappid = sdkappid
        self._transcript = transcript  # the screen's transcript, looked up when needed
        self._notify = notify  # the screen's notify
        self._shown = shown  # tells the status bar the count
        #: The message the keys act on: the filter view's selection while it is shown.
        self._selected = selected or (lambda: self.transcript.cursor_message)
        self.book: MarkBook = store.book(Pair(sdkappid, "", ""))
        self._missing: set[str] = set()  # reported as not returned, for this timeline
        self._seen_loaded = -1  # loaded count when the missing check last ran
        self._seek: str | None = None  # a mark jumped to before it was loaded
        self._told_problem = False
        _LIVE.add(self)

    @property
    def transcript(self) -> Transcript:
        return self._transcript()

    def open(self, account: str, peer: str) -> None:
        """Show the marks of ``account``'s side of the conversation with ``peer``."""
        self.book = self.store.book(Pair(self.sdkappid, account, peer))
        self._missing.clear()
        self._seen_loaded = -1
        self._seek = None
        self.transcript.marks = self.book
        self.transcript.drop_caches()
        if self.store.problem is not None and not self._told_problem:
            self._told_problem = True
            self._notify(self.store.problem, title="Marks", severity="warning", timeout=10,
                         markup=False)
        self._show()

    def _show(self) -> None:
        self._shown(MarkCount(len(self.book), len(self._missing)))

    def _saved(self, change: Callable[[], object]) -> bool:
        """Run one change of the book; say why when it cannot be made or kept."""
        try:
            change()
        except MarkError as exc:
            self._notify(str(exc), severity="warning", timeout=5, markup=False)
            return False
        except OSError as exc:
            if not (self._told_problem and self.store.problem is not None):
                self._told_problem = self.store.problem is not None
                reason = one_line(exc.strerror or str(exc))
                self._notify(f"Kept for this session only: {reason}", title="Marks",
                             severity="warning", timeout=8, markup=False)
        self.transcript.refresh()
        self._show()
        return True

    # -- changes ----------------------------------------------------------------------------------

    def toggle(self) -> None:
        """``m``: mark the message under the cursor, or unmark it."""
        msg = self._cursor_message()
        if msg is not None:
            self._saved(lambda: self.book.toggle(msg.key, msg.time))

    def set_note(self, text: str) -> None:
        """``:note TEXT``: the note of the message under the cursor (empty: remove it)."""
        msg = self._cursor_message()
        if msg is None:
            return
        if self._saved(lambda: self.book.set_note(msg.key, msg.time, text)):
            said = "Note removed." if not text.strip() else "Note kept (the message is marked)."
            self._notify(said, timeout=3, markup=False)

    def note_prompt(self) -> str:
        """What ``a`` puts in the prompt: ``note `` and the note there is, to edit it."""
        msg = self._selected()
        note = "" if msg is None else one_line(self.book.note(msg.key), 400)
        return f"note {note}"

    def clear(self) -> None:
        """``:marks clear``: every mark and note of this side of the conversation."""
        count = len(self.book.entries())
        if self._saved(self.book.clear):
            self._missing.clear()
            self._show()
            self._notify(f"Cleared {count:,} marked or noted message(s).", timeout=4,
                         markup=False)

    def _cursor_message(self) -> Message | None:
        msg = self._selected()
        if msg is None:
            self._notify("No message under the cursor.", timeout=3, markup=False)
        elif not msg.key:
            self._notify("This message has no MsgKey, so it cannot be marked.", timeout=4,
                         markup=False)
            return None
        return msg

    # -- going to marks ---------------------------------------------------------------------------

    def step(self, forward: bool) -> None:
        """``'`` / ``"``: the next / previous marked message from the cursor. Loaded ones go in
        the transcript's order (within a second, the service's), the others by time; one that
        is not loaded is fetched around its time and the cursor put on it when it comes."""
        view = self.transcript
        timeline = view.timeline
        msg, at = view.cursor_message, view.cursor_row
        q = timeline.query
        here = view.viewport.time_at_top() if msg is None else msg.time
        if here is None:
            here = q.min_time if forward else q.max_time
        sign = 1 if forward else -1
        best: tuple[int, int, int, Mark] | None = None  # (signed time, loaded first, row, mark)
        for mark in self.book.marked():
            if not q.min_time <= mark.time <= q.max_time or mark.key in self._missing:
                continue
            row = timeline.index_of_key(mark.key)
            if row is not None and at is not None:
                ahead = row > at if forward else row < at
            else:
                ahead = mark.time * sign > here * sign or (row is None and mark.time == here)
            if not ahead or (msg is not None and mark.key == msg.key):
                continue
            rank = (mark.time * sign, 0 if row is not None else 1,
                    -1 if row is None else row * sign, mark)
            if best is None or rank[:3] < best[:3]:
                best = rank
        if best is None:
            where = "after" if forward else "before"
            self._notify(f"No marked message {where} this one.", timeout=3, markup=False)
            return
        mark = best[3]
        view.moves += 1
        row = timeline.index_of_key(mark.key)
        if row is not None:
            view.set_cursor(row, center=True)
        else:
            self._seek = mark.key
            view.goto_time(mark.time)

    # -- what the transcript reports --------------------------------------------------------------

    def rows_settled(self) -> None:
        """The timeline changed (a page came in): land a pending jump to a mark, and report the
        marked messages that a loaded stretch shows the service no longer returns."""
        view = self.transcript
        timeline = view.timeline
        if self._seek is not None:
            row = timeline.index_of_key(self._seek)
            if row is not None:
                self._seek = None
                view.set_cursor(row, center=True)
        loaded = timeline.loaded_count
        if loaded == self._seen_loaded:
            return
        self._seen_loaded = loaded
        q, segments = timeline.query, timeline.segments  # once: a snapshot per call
        gone = [m for m in self.book.marked() if m.key not in self._missing
                and q.min_time <= m.time <= q.max_time
                and timeline.index_of_key(m.key) is None and covered(segments, m.time)]
        if not gone:
            return
        self._missing.update(m.key for m in gone)
        if self._seek in self._missing:
            self._seek = None
        self._show()
        self._notify(missing_text(gone, view.tz), title="Marks", severity="warning",
                     timeout=12, markup=False)

    def timeline_swapped(self) -> None:
        self._missing.clear()
        self._seen_loaded = -1
        self._seek = None


def missing_text(gone: list[Mark], tz: tzinfo) -> str:
    """``2 marked messages no longer come back from the service: 10:40:05 (MsgKey …), …``."""
    named = ", ".join(f"{format_time(m.time, tz, '%Y-%m-%d %H:%M:%S')} (MsgKey "
                      f"{one_line(m.key, 80)})" for m in gone[:NAMED_MISSING])
    more = f" and {len(gone) - NAMED_MISSING} more" if len(gone) > NAMED_MISSING else ""
    noun = "message no longer comes" if len(gone) == 1 else "messages no longer come"
    return (f"{len(gone)} marked {noun} back from the service: {named}{more}. "
            "The marks are kept.")
