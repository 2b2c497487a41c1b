"""The search of the browse screen, without widgets: the query, the index kept in step with the
timeline, the results, the fetch of the rest of the window, and the moves the user asked for.

Textual-free. :class:`~roamtui.ui.search_controller.SearchPane` adapts keys and messages to
the methods here, runs the coroutines (:meth:`SearchSession.scan`, :meth:`SearchSession.fetch`,
:meth:`SearchSession.find_kind`) in its exclusive workers and draws what they report.

State (every transition is a method; nothing outside writes it):

- the query in force (valid, non-empty) and the last one, which ``/``, ``n``/``N`` and ``&``
  bring back after the search was closed;
- what the user asked for and waits on: a step (``n`` before its match is certain), the move
  to the nearest match of a new query, a jump by kind waiting for the fetch; each remembers
  the transcript's move count when asked, and is dropped when the user moved since;
- the fetch of the rest of the window (``search_fetch.WindowFetch``: ``idle`` → ``running``
  → ``done`` | ``failed`` | ``stopped``, and back to ``idle`` to try again), driven through
  :meth:`begin_fetch`, :meth:`stop_fetch`, :meth:`rearm` and :meth:`fetch`; read as
  :attr:`fetch_state`; a new timeline (:meth:`follow`) starts ``idle``.

Every coroutine gives the event loop a turn every few milliseconds (the index is built in
time-boxed slices, the results stepped as it grows). Scans go nearest first (``search_results``):
outward from where the user reads, or the way a waiting step goes, so that the matches on screen,
the nearest one and the next one are told after the first steps; the count completes after.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Coroutine

from roamtui.history.filters import MessageFilter
from roamtui.history.rows import RowsChanged
from roamtui.history.search import (
    DEFAULT_CHUNK,
    Kind,
    Matcher,
    SearchIndex,
    SearchQuery,
    SearchQueryError,
    SearchResults,
    counter_text,
    locate,
    splice_plan,
)
from roamtui.history.search_fetch import FetchState, StatusKind, WindowFetch
from roamtui.history.search_moves import SessionMoves
from roamtui.history.search_results import FIRST_STEP
from roamtui.history.timeline import LoadProgress, Timeline
from roamtui.im.model import Message

#: Seconds of index building between two turns of the event loop.
INDEX_BUDGET = 0.006
#: While the timeline keeps changing, catch-ups start at most this many times their planning
#: cost apart, so that planning takes no more than about a fifth of the event loop.
PLAN_SHARE = 5.0


class SearchSession(SessionMoves):
    """The search of one transcript; ``on_change`` is called (inside the timeline's loads)
    when its messages change, so the owner can schedule :meth:`scan`."""

    #: Messages a scan step looks at between two turns of the event loop.
    step_size = DEFAULT_CHUNK

    def __init__(self, timeline: Timeline, on_change: Callable[[], None]) -> None:
        self._on_change = on_change
        self.query: SearchQuery | None = None  # in force: valid and non-empty
        self.last_query: SearchQuery | None = None  # brought back after closing
        self.current: Message | None = None  # the match the counter shows, if not the cursor's
        self.notice = ""  # a short word on the last step or jump, for the status line
        self.pending_step: bool | None = None  # forward, waiting until its target is certain
        self._step_base: Message | None = None  # where the pending step was pressed
        self.cursor: Message | None = None  # where the user reads: the scan starts there
        self.pending_jump: tuple[Kind, bool] | None = None  # waiting for the fetch
        self.filter = MessageFilter()  # kinds and senders the results keep (history.filters)
        # n/N bring the closed query back, unless a filter was set alone since (they step it).
        self._revivable = True
        self._seek = False  # move to the match nearest the cursor once it is certain
        self._asked = 0  # the transcript's move count when a step, jump or seek was asked for
        self._attach(timeline)

    def _attach(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self.index = SearchIndex()
        self.matcher: Matcher | None = None
        self.results: SearchResults | None = None
        self.window = WindowFetch(timeline)  # a fetch of the timeline left behind ends there
        self._generation = 1  # changes seen; the index is in step when _synced equals it
        self._synced = 0
        self._chunk = 256
        self._plan_cost = 0.0  # seconds the last catch-up took to see what changed
        self._unsubscribe = timeline.subscribe(self._changed)

    def look_at(self, cursor: Message | None) -> None:
        """The user reads at ``cursor`` (None: the newest end): scans go outward from there."""
        self.cursor = cursor

    def close(self) -> None:
        """Stop following the timeline (the owner goes away)."""
        self._unsubscribe()

    def follow(self, timeline: Timeline) -> bool:
        """Search ``timeline`` from now on (the transcript swapped it): a new index, the fetch
        ``idle``, the query in force searched again. False when it is the same one."""
        if timeline is self.timeline:
            return False
        self._unsubscribe()
        matcher = self.matcher
        self._attach(timeline)
        self.current, self.pending_step, self.pending_jump = None, None, None
        self.search(matcher)
        return True

    def _changed(self, change: RowsChanged) -> None:
        self._generation += 1
        self._on_change()

    def touch(self) -> None:
        """Check the index against the timeline again on the next scan."""
        self._generation += 1

    # -- the query -----------------------------------------------------------------------------

    def apply(self, query: SearchQuery, *, seek: bool, moves: int) -> str | None:
        """Put ``query`` in force (or, empty or invalid, none); the reason when it is invalid.

        With ``seek``, the cursor moves to the match nearest it as soon as that is certain
        (unless the user moved since ``moves``)."""
        self.pending_step, self.current, self._seek = None, None, False
        matcher, reason = None, None
        if query.text:
            try:
                matcher = query.compile()
            except SearchQueryError as exc:  # shown in the bar, never raised
                reason = exc.reason
        self.query = query if matcher is not None else None
        self.search(matcher)
        if matcher is not None:
            self.last_query, self._seek, self._asked = query, seek, moves
        return reason

    def restore(self, *, stepping: bool = False) -> SearchQuery | None:
        """Bring the last query back when none is in force (no move); the query brought back.
        ``stepping`` (n/N, &): not when a filter was put in force alone since it was closed."""
        if self.query is not None or self.last_query is None or (
                stepping and not self._revivable):
            return None
        query = self.last_query
        self.apply(query, seek=False, moves=self._asked)
        return query

    def clear(self) -> None:
        """Close the search: no query in force, nothing waiting (the last query kept, and the
        filter: it goes on steering n/N until it is changed or dropped)."""
        self.query, self.current, self._revivable = None, None, True
        self._seek, self.pending_step, self.pending_jump, self.notice = False, None, None, ""
        self.search(None)

    def set_filter(self, wanted: MessageFilter) -> None:
        """Keep only what ``wanted`` passes (with the query in force, or alone)."""
        self.filter, self.current = wanted, None
        if not wanted.active or self.query is None:  # n/N: the closed search, or the filter
            self._revivable = not wanted.active
        self.search(self.matcher)

    @property
    def active(self) -> bool:
        """A query or a filter is in force: there are results to show, step and fetch for."""
        return self.results is not None

    def search(self, matcher: Matcher | None) -> None:
        self.matcher = matcher
        keep = self.filter.test if self.filter.active else None
        self.results = (None if matcher is None and keep is None
                        else self.index.search(matcher, keep=keep))

    @property
    def refusal(self) -> str | None:
        """Why the query in force was given up while searching (a regex too slow), or None."""
        return None if self.results is None else self.results.error

    def give_up(self) -> str | None:
        """Drop a query the search refused while running; the reason, None when there is none.
        It is not brought back later either."""
        reason = self.refusal
        if reason is not None:
            if self.last_query == self.query:
                self.last_query = None
            self.clear()
        return reason

    # -- reading the results ------------------------------------------------------------------

    @property
    def in_step(self) -> bool:
        return self._synced == self._generation

    @property
    def final(self) -> bool:
        """The results cover the whole window: nothing left to fetch, index or scan."""
        results = self.results
        return bool(self.timeline.complete and self.in_step and results is not None
                    and results.done)

    def rank_of(self, message: Message | None) -> int | None:
        """1-based number of ``message`` among the matches, None if it is not one (0 while the
        matches before it are still being counted)."""
        if message is None or self.results is None:
            return None
        at, found = locate(self.index.messages, message)
        return self.results.number(at) if found else None

    @property
    def counting(self) -> bool:
        """The scan of the loaded messages has not covered them all yet."""
        return self.results is not None and not self.results.done

    def counter(self, current: Message | None) -> str:
        total = 0 if self.results is None else len(self.results.matches)
        return counter_text(self.rank_of(current), total, self.final, counting=self.counting)

    def fetch_status(self) -> tuple[str, StatusKind] | None:
        """What the find bar says about the rest of the window, and in which style."""
        return self.window.status(self.results is not None)

    def status_line(self, filtering: bool) -> tuple[str | None, StatusKind]:
        """The find bar's second line but for an error (``WindowFetch.line``)."""
        matched = self.results is not None and bool(self.results.matches)
        return self.window.line(self.results is not None, self.notice, filtering, matched)

    # -- the fetch of the rest of the window ---------------------------------------------------

    @property
    def fetch_state(self) -> FetchState:
        return self.window.state

    @property
    def fetch_error(self) -> str:
        return self.window.error

    def begin_fetch(self) -> bool:
        """``idle``/``done`` → ``running`` when there is something left to fetch."""
        return self.window.begin()

    def stop_fetch(self) -> bool:
        """``running`` → ``stopped`` (the owner cancels the worker); a jump waiting for it is
        dropped. False when no fetch was running."""
        stopped = self.window.stop()
        if stopped:
            self.pending_jump = None
        return stopped

    def rearm(self) -> None:
        """``stopped``/``failed`` → ``idle``: the next :meth:`begin_fetch` tries again."""
        self.window.rearm()

    def fetch(self, progress: Callable[[LoadProgress], None]) -> Coroutine[None, None, None]:
        """Load the rest of the window of the timeline followed now, even if the coroutine
        runs later (beginning the fetch if need be); :attr:`fetch_state` says how it ended.
        Never raises but for cancellation (``stopped``)."""
        window = self.window

        async def run() -> None:
            try:
                await window.run(progress)
            finally:
                if window is self.window:
                    self.touch()

        return run()

    # -- work (run by the owner's workers) -----------------------------------------------------

    async def scan(self, report: Callable[[bool], None], *, redraw: float = 0.1) -> None:
        """Scan what is indexed, then catch the index up slice by slice, scanning as it grows.

        ``report(settled)`` after the first step, when a move waited for is certain, at most
        every ``redraw`` seconds in between, and after each pass (``settled`` when the results
        cover every loaded message)."""
        planned = -math.inf
        while True:
            results = self.results
            if results is not None:
                shown = -math.inf  # told after the first step: it holds the screen
                self._aim()
                for _ in results.steps(self.step_size, FIRST_STEP):
                    if time.monotonic() - shown > redraw or self._awaited():
                        shown = time.monotonic()
                        report(False)
                    await asyncio.sleep(0)
                    self._aim()
            settled = self.in_step
            report(settled)
            if settled:
                return
            # A whole-window fetch changes the timeline with every page, and each catch-up
            # starts with a pass over every loaded message: catch up again only after a pause.
            pause = planned + max(redraw, PLAN_SHARE * self._plan_cost) - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            planned = time.monotonic()
            await self._catch_up(report, redraw)

    async def _catch_up(self, report: Callable[[bool], None], redraw: float) -> None:
        generation, index = self._generation, self.index
        began = time.perf_counter()
        messages = self.timeline.messages()
        start, removed, inserted = splice_plan(index.messages, messages)
        self._plan_cost = time.perf_counter() - began
        at, end, first = start, start + inserted, True
        shown = time.monotonic()
        while first or at < end:
            if self._generation != generation or index is not self.index:
                return  # newer knowledge: plan again from what the index holds now
            take = min(end - at, self._chunk)
            began = time.perf_counter()
            index.splice(at, removed if first else 0, messages[at:at + take])
            spent = time.perf_counter() - began
            if take:
                self._chunk = max(32, min(8192, int(take * INDEX_BUDGET / max(spent, 1e-5))))
            first, at = False, at + take
            if self.results is not None:
                for _ in self.results.steps(self.step_size):
                    pass
            if time.monotonic() - shown > redraw:
                shown = time.monotonic()
                report(False)
            await asyncio.sleep(0)
        self._synced = generation
