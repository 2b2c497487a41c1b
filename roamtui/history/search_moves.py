"""The moves a search session makes for the user: ``n``/``N`` (and what they wait for), the
nearest match of a new query or of Enter in the find bar, and jumps by kind.

Textual-free. :class:`SessionMoves` is the part of
:class:`~roamtui.history.search_session.SearchSession` that decides where the cursor goes;
the session holds the state it reads (the results, the index, the query and filter in force)
and the owner makes the moves. Each move asked for remembers the transcript's move count, and
a deferred one is dropped when the user moved since (the last key wins). With a filter in
force and no query, a step goes to the next message the filter keeps, with the same notices
(``wrapped: …``, ``no … yet`` while the rest of the window comes).
"""

from __future__ import annotations

from dataclasses import dataclass

from roamtui.history.filters import MessageFilter
from roamtui.history.search import Kind, SearchIndex, SearchQuery, SearchResults, find_kind
from roamtui.history.search_fetch import NO_MATCHES_YET, WindowFetch
from roamtui.history.search_results import nearest_match, position_of, step_target
from roamtui.history.timeline import Timeline
from roamtui.im.model import Message

KIND_NAMES: dict[Kind, str] = {"recalled": "recalled message", "non_text": "non-text element",
                               "one_sided": "one-sided message"}


@dataclass(frozen=True, slots=True)
class Move:
    """Where the cursor should go; ``deferred`` when it was asked for earlier (a scan or a fetch
    had to finish first), so that it is dropped if the user moved meanwhile."""

    target: Message
    deferred: bool = False


class SessionMoves:
    """Where the steps, the seek and the jumps of a search session go (the session's state is
    declared here for the type checker; :class:`SearchSession` sets it)."""

    timeline: Timeline
    window: WindowFetch
    index: SearchIndex
    results: SearchResults | None
    query: SearchQuery | None
    filter: MessageFilter
    current: Message | None
    cursor: Message | None
    notice: str
    pending_step: bool | None
    pending_jump: tuple[Kind, bool] | None
    _step_base: Message | None
    _seek: bool
    _asked: int
    _synced: int

    def ask(self, moves: int) -> None:
        """A step or a jump is asked for at the transcript's move count ``moves``."""
        self._asked = moves

    def wanted(self, move: Move, moves: int) -> bool:
        """Whether ``move`` still stands: the last key wins over a deferred move."""
        return not move.deferred or moves == self._asked

    def step(self, forward: bool, cursor: Message | None, *,
             deferred: bool = False) -> Move | None:
        """``n``/``N``: the next (previous) match after the cursor; None, with :attr:`notice`
        saying why, when there is none, or when it is not known yet (:attr:`pending_step`:
        the scan looks that way first, and :meth:`ready` makes the move once it knows)."""
        results = self.results
        if results is None:
            return None
        base = cursor or self.current
        target, wrapped, known = self._step_target(base, forward)
        if not known:  # the user's key wins over moving to the nearest match
            self.pending_step, self._step_base, self._seek = forward, base, False
            return None
        self.notice = ""
        if target is None:
            # While fetching, the bar's line goes on with the fetch's progress.
            running = self.window.state == "running"
            self.notice = NO_MATCHES_YET if running and self.query is not None else (
                f"no {self._noun(True)}{' yet' if running else ''}")
            return None
        if wrapped:
            self.notice = (f"wrapped: back to the oldest {self._noun()}" if forward
                           else f"wrapped: on to the newest {self._noun()}")
        return Move(self.index.messages[target], deferred)

    def ready(self, cursor: Message | None) -> tuple[list[Move], bool]:
        """The moves that waited for the scan and are certain now (the nearest match of a new
        query, a step pressed while counting), and whether a waiting step found nothing (bell)."""
        results = self.results
        moves: list[Move] = []
        missed = False
        if results is None or results.error is not None:
            return moves, missed
        target, known = nearest_match(results, cursor, whole=self._synced > 0)
        if self._seek and known and target is not None:  # else it waits for pages to come
            self._seek = False
            moves.append(Move(self.index.messages[target], deferred=True))
        if self.pending_step is not None:
            forward, base = self.pending_step, self._step_base
            if self._step_target(base, forward)[2]:
                self.pending_step = None
                move = self.step(forward, base, deferred=True)
                if move is None:
                    missed = True
                else:
                    moves.append(move)
        return moves, missed

    def _awaited(self) -> bool:
        """Something :meth:`ready` would move to now."""
        results, whole = self.results, self._synced > 0
        if results is None:
            return False
        target, known = nearest_match(results, self.current or self.cursor, whole=whole)
        return (self._seek and known and target is not None) or (
            self.pending_step is not None
            and self._step_target(self._step_base, self.pending_step)[2])

    def _step_target(self, base: Message | None, forward: bool
                     ) -> tuple[int | None, bool, bool]:
        """:func:`step_target`; a wrap is certain only once the window is in: while it is
        fetched, the oldest (newest) match may be in a page not here yet."""
        assert self.results is not None
        target, wrapped, known = step_target(self.results, base, forward,
                                             whole=self._synced > 0)
        return target, wrapped, known and not (wrapped and self.window.state == "running")

    def _aim(self) -> None:
        """Point the scan at what the user waits for: a step's way, the nearest older match
        of a new query, else outward from where they read."""
        results = self.results
        if results is None:
            return
        messages = self.index.messages
        if self.pending_step is not None:
            forward = self.pending_step
            at = position_of(messages, self._step_base, forward) + (1 if forward else -1)
            results.aim(at, forward, wrap=True)
            return
        reader = self.current or self.cursor
        at = len(messages) - 1 if reader is None else position_of(messages, reader, True)
        results.aim(at, False if self._seek else None)

    def seek(self, moves: int) -> None:
        """Move to the match nearest the cursor as soon as it is certain (Enter in the bar),
        unless the user moved since ``moves``."""
        self._seek, self._asked, self.pending_step = self.results is not None, moves, None

    def _noun(self, plural: bool = False) -> str:
        """What a step goes to: a match, or (a filter alone) a message the filter keeps."""
        if self.query is not None or not self.filter.active:
            return "matches" if plural else "match"
        return f"{'messages' if plural else 'message'} kept ({self.filter.label()})"

    # -- jumps by kind --------------------------------------------------------------------------

    def wait_for_jump(self, kind: Kind, forward: bool) -> bool:
        """No ``kind`` is loaded that way: wait for the fetch of the window (started or joined;
        a stopped or failed one is tried again); False when the window is all loaded."""
        if self.timeline.complete or (kind == "one_sided"
                                      and not hasattr(self.timeline, "only_holder")):
            return False
        self.pending_jump = (kind, forward)
        self.window.rearm()
        self.notice = f"looking for the {'next' if forward else 'previous'} {KIND_NAMES[kind]}"
        return True

    def none_found(self, kind: Kind, forward: bool) -> str:
        """What to say when no message of ``kind`` lies that way."""
        if kind == "one_sided" and not hasattr(self.timeline, "only_holder"):
            return "One side is read: press P to read both sides and mark what only one holds."
        where = "after" if forward else "before"
        scope = "" if self.timeline.complete else " in what is loaded"
        return f"No {KIND_NAMES[kind]} {where} this one{scope}."

    def take_jump(self) -> tuple[Kind, bool] | None:
        """The jump that waited for a fetch that just ended, if it can look again now."""
        jump, self.pending_jump = self.pending_jump, None
        return jump if jump is not None and self.window.state == "done" else None

    async def find_kind(self, kind: Kind, forward: bool, cursor: Message | None) -> Message | None:
        """The next (previous) loaded message of ``kind`` after (before) ``cursor``."""
        test = None
        if kind == "one_sided":  # only a timeline read from both sides knows who holds what
            holder = getattr(self.timeline, "only_holder", None)
            test = (lambda m: False) if holder is None else (lambda m: holder(m.key) is not None)
        return await find_kind(self.timeline.messages(), kind, forward, cursor, test)
