"""Where the search pane takes the cursor, and the fetch of the rest of the window that a
search, a filter or a jump waits on.

:class:`Motion` belongs to a :class:`~roamtui.ui.search_controller.SearchPane`: it puts the
transcript's cursor on a match (or a message a filter keeps) centred, drops a deferred move
the user overtook with one of their own, jumps by kind (``]``/``[``, ``}``/``{``, ``>``/``<``),
looking again once the window is in, and runs the fetch of the rest of the window in the
pane's exclusive workers (progress redrawn at most every ``REDRAW_INTERVAL``). The decisions
are the session's (``history.search_moves``); this is their Textual side.
"""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING

from roamtui.history.timeline import LoadProgress, Timeline
from roamtui.im.model import Message

if TYPE_CHECKING:
    from textual.worker import Worker

    from roamtui.history.search import Kind
    from roamtui.history.search_moves import Move
    from roamtui.ui.search_controller import SearchPane
    from roamtui.ui.transcript import Transcript

#: Least interval (seconds) between two redraws of the counter and progress while busy.
REDRAW_INTERVAL = 0.1


class Motion:
    """The moves of ``pane`` and the fetch they wait on; see the module docstring."""

    def __init__(self, pane: SearchPane) -> None:
        self.pane = pane
        self.bar_for_jump = False  # the bar was opened only to show a jump's fetch
        self.fetch: Worker[None] | None = None
        self._progress_shown = 0.0

    def go_to(self, move: Move | Message) -> None:
        """Put the transcript's cursor on the move's message, centred (fetched around it if need
        be); a deferred move the user overtook with a move of their own is dropped."""
        from roamtui.history.search_moves import Move

        pane = self.pane
        transcript = pane.transcript
        if isinstance(move, Message):
            move = Move(move)
        if not pane.session.wanted(move, transcript.moves):
            return
        pane.session.current = move.target
        # Run in the transcript's own task: a message it posted from a call made here would
        # have this pane as its sender, and Textual stops a message at its sender, so the
        # screen would never hear of the move (CursorMoved).
        transcript.call_next(self._move_cursor, transcript, move.target)

    @staticmethod
    def _move_cursor(transcript: Transcript, message: Message) -> None:
        row = transcript.timeline.index_of_key(message.key) if message.key else None
        if row is None:
            transcript.goto_time(message.time)  # a jump: the opening no longer lands
        else:
            # The fetch of the window can bring the newest page before the transcript's own
            # opening call answers (a slow or retried one): landing at the newest end then,
            # the opening would take the cursor off the match. This move is the landing.
            transcript.loader.land_end = False
            transcript.set_cursor(row, center=True)

    # -- the rest of the window -----------------------------------------------------------------

    def start_fetch(self) -> None:
        pane = self.pane
        session = pane.session
        if session.begin_fetch():
            self.fetch = pane.start_worker("search-fetch",
                                           partial(self._fetch_rest, session.timeline))
            pane.refresh_bindings()

    async def _fetch_rest(self, timeline: Timeline) -> None:
        pane = self.pane
        session = pane.session
        try:
            await session.fetch(self._fetch_progress)
        finally:
            if session.timeline is timeline:
                self._fetch_settled()

    def _fetch_progress(self, progress: LoadProgress) -> None:
        pane = self.pane
        if time.monotonic() - self._progress_shown >= REDRAW_INTERVAL:
            self._progress_shown = time.monotonic()
            pane.show_status()

    def _fetch_settled(self) -> None:
        pane = self.pane
        session = pane.session
        pane.kick()
        pane.show(bindings=True)
        waited = session.pending_jump is not None
        jump = session.take_jump()
        if jump is not None:
            pane.start_worker("search-jump", partial(self.jump, *jump, fetch=False))
        elif waited and self.bar_for_jump:
            pane.close_search()

    def stop_fetch(self) -> None:
        pane = self.pane
        if pane.session.stop_fetch():
            if self.fetch is not None:
                self.fetch.cancel()
            if self.bar_for_jump:
                pane.close_search()
            pane.show(bindings=True)

    async def jump(self, kind: Kind, forward: bool, *, fetch: bool = True) -> None:  # by kind
        from roamtui.history.search_moves import Move

        pane = self.pane
        session = pane.session
        found = await session.find_kind(kind, forward, pane.transcript.cursor_message)
        if found is not None:
            self.go_to(Move(found, deferred=True))
            if self.bar_for_jump:
                pane.close_search()
            return
        if fetch and session.wait_for_jump(kind, forward):  # look again once the window is in
            if not pane.bar.is_open:
                self.bar_for_jump = True
                pane.bar.open(focus=False)
            self.start_fetch()
            pane.show_status()
            return
        if self.bar_for_jump:
            pane.close_search()
        pane.notify(session.none_found(kind, forward), timeout=3, markup=False)
