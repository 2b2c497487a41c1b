"""Search on the browse screen: the glue between the find bar, the search core and the transcript.

:class:`SearchPane` wraps the transcript (``with SearchPane(): yield Transcript(...)``), so its
keys work whenever the transcript, the find bar or the filter view has the focus. The state is
a :class:`~roamtui.history.search_session.SearchSession`; the pane adapts keys and messages to
it, runs its work in exclusive workers and draws what it says: *scan* (index and results,
nearest the cursor first: ``3/≥17…`` while counting), *fetch* (the rest of the window; the
counter reads ``17+`` until final) and *jump* (the next
recalled / non-text / one-sided message); ``TimelineSwapped`` makes the session follow;
:meth:`SearchPane.set_filter` puts a filter in force (``history.filters``). Keys: see
``search_keys``. Esc, a layer a press: the find input; the fetch; the filter view; the search,
its highlight and filter. ``/`` brings a closed search back.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.worker import Worker

from roamtui.history.filters import MessageFilter
from roamtui.history.timeline import LoadProgress, Timeline
from roamtui.im.model import Message
from roamtui.ui.search_keys import KIND_KEYS, FilterChanged, Swapped
from roamtui.ui.transcript import Transcript
from roamtui.ui.widgets.filter_view import FilterView
from roamtui.ui.widgets.find_bar import FindBar

if TYPE_CHECKING:
    # The search core (index, query compiler, regex engine) is imported with the session, when
    # search is first used: not before the first frame of the transcript.
    from roamtui.history.search import Kind, SearchQuery
    from roamtui.history.search_session import Move, SearchSession

#: Least interval (seconds) between two redraws of the counter and progress while busy.
REDRAW_INTERVAL = 0.1


class SearchPane(Vertical):
    """The transcript with its find bar and filter view; see the module docstring."""

    HELP_GROUP = "Search"
    DEFAULT_CSS = """
    SearchPane { height: 1fr; }
    SearchPane > FilterView { display: none; }
    SearchPane.-filtering > FilterView { display: block; }
    SearchPane.-filtering > Transcript { display: none; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash,ctrl+f", "find", "Find"),
        Binding("n", "step(True)", "Next match", show=False),
        Binding("N", "step(False)", "Previous match", show=False),
        Binding("ampersand", "toggle_filter", "Filter"),
        *(Binding(key, f"jump({kind!r}, {forward})", label, show=False)
          for key, kind, forward, label in KIND_KEYS),
        Binding("escape", "escape", "Stop fetching / leave filter / close search / back",
                show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._session: SearchSession | None = None  # made on first use (see `session`)
        self._mounted = False
        self._indexing = False  # the index follows the timeline once search was first used
        self._bar_for_jump = False  # the bar was opened only to show a jump's fetch
        self._filtering = False
        self._scan: Worker[None] | None = None
        self._fetch: Worker[None] | None = None
        self._progress_shown = 0.0

    def compose(self) -> ComposeResult:
        yield FilterView(id="filter-view")
        yield FindBar(id="find-bar")

    def on_mount(self) -> None:
        self._mounted = True

    def on_unmount(self) -> None:
        if self._session is not None:
            self._session.close()

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    @property
    def bar(self) -> FindBar:
        return self.query_one(FindBar)

    @property
    def filter_view(self) -> FilterView:
        return self.query_one(FilterView)

    @property
    def filtering(self) -> bool:
        return self._filtering

    def _set_filtering(self, on: bool) -> None:
        self._filtering = on
        self.set_class(on, "-filtering")
        self.post_message(FilterChanged(self.session.filter, listed=on))

    @property
    def session(self) -> SearchSession:
        """The search state, made when first needed: until then there is nothing to search,
        so nothing is indexed or followed (a new session catches up with the timeline whole,
        from where the cursor is)."""
        assert self._mounted, "the search pane is not mounted"
        if self._session is None:
            from roamtui.history.search_session import SearchSession

            self._session = SearchSession(self.transcript.timeline, self._timeline_changed)
            self._session.look_at(self.transcript.cursor_message)
        return self._session

    # -- following the transcript ---------------------------------------------------------------

    def on_transcript_timeline_swapped(self, event: Swapped) -> None:
        """``p`` (or a new query) swapped the timeline: a new index and fetch for the query."""
        if self._session is None:
            self.refresh_bindings()  # a session made later searches the new timeline
            return
        if not self.session.follow(event.timeline):
            return
        for worker in (self._scan, self._fetch):
            if worker is not None:
                worker.cancel()
        if self.session.query is not None:
            self._kick(restart=True)
            self._start_fetch()
        self._show(bindings=True)

    def _timeline_changed(self) -> None:
        if self._indexing:
            self._kick()

    @on(Transcript.CursorMoved)
    def _cursor_moved(self) -> None:
        """The counter's first number is the match under the cursor, however it got there."""
        if not self.filtering and self._session is not None:
            self.session.current = None  # the counter reads the cursor instead
            self.session.look_at(self.transcript.cursor_message)  # a scan goes on from there
            self._show_counter()

    # -- actions ---------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        session = self._session
        if not self._mounted:
            return True
        # No session yet is a session never used: no query, no fetch, nothing active.
        if action == "step":
            return session is not None and session.last_query is not None
        if action == "escape":
            bars = self.query(FindBar)
            busy = session is not None and (session.fetch_state == "running" or session.active)
            return bool(busy or self.filtering or (bars and bars.first().is_open))
        return True

    def action_find(self) -> None:
        """Open the find bar, the closed search brought back; a stopped or failed fetch retried."""
        session = self.session
        self._bar_for_jump = False
        session.rearm()
        self._begin_indexing()
        self._restore()
        self.bar.open()  # its text selected: typing replaces the query
        if session.query is not None:
            self._start_fetch()
        self._show_status()
        self.refresh_bindings()

    def action_step(self, forward: bool) -> None:
        """``n`` / ``N``: the next (newer) or previous (older) match, centred."""
        session = self.session
        session.ask(self.transcript.moves)
        if self.filtering:
            self.filter_view.action_move(1 if forward else -1)
            return
        if self._restore():
            self.bar.open(focus=False)
        if session.results is None:
            return
        self._step(session.step(forward, self.transcript.cursor_message))

    def action_toggle_filter(self) -> None:
        """``&``: only the matching messages, with context; again to go back at the selected one."""
        session = self.session
        if self.filtering:
            self._leave_filter(self.filter_view.selected_message)
            return
        if self._restore():
            self.bar.open(focus=False)
        if session.results is None:
            self.bar.open()
            session.notice = "type what to look for (or ! @ :filter), then & shows only those"
            self._show_status()
            return
        self._set_filtering(True)
        self.filter_view.show_search(session, session.current or self.transcript.cursor_message,
                                     center=True)
        self.filter_view.focus()
        self._show_status()

    def action_escape(self) -> None:
        if self.session.fetch_state == "running":
            self._stop_fetch()
        elif self.filtering:
            self._leave_filter(self.filter_view.selected_message)
        else:
            self._close()

    def action_jump(self, kind: Kind, forward: bool) -> None:
        """``]``/``[`` recalled, ``}``/``{`` non-text, ``>``/``<`` one-sided: the next/previous."""
        if self.filtering:
            self._leave_filter(self.filter_view.selected_message)
        self.session.ask(self.transcript.moves)
        self._start("search-jump", partial(self._jump, kind, forward))

    def set_filter(self, wanted: MessageFilter) -> None:
        """Keep only what ``wanted`` passes, in the filter view (left when none is in force)."""
        self.session.set_filter(wanted)
        self._applied(None)
        if wanted.active != self.filtering and (wanted.active or self.session.query is None):
            self.action_toggle_filter()
        self.post_message(FilterChanged(wanted, listed=self.filtering))

    # -- the find bar and the filter view --------------------------------------------------------

    @on(FindBar.Changed)
    def _bar_changed(self, event: FindBar.Changed) -> None:
        self.session.notice = ""
        self._apply(event.query, seek=True)

    @on(FindBar.Step)
    def _bar_step(self, event: FindBar.Step) -> None:
        self.action_step(event.forward)

    @on(FindBar.Leave)
    def _bar_leave(self) -> None:
        (self.filter_view if self.filtering else self.transcript).focus()

    @on(FindBar.StopRequested)
    def _bar_stop(self) -> None:
        self._stop_fetch()

    @on(FilterView.Chosen)
    def _filter_chosen(self, event: FilterView.Chosen) -> None:
        self._leave_filter(event.message)

    @on(FilterView.Selected)
    def _filter_selected(self, event: FilterView.Selected) -> None:
        self.session.current = event.message
        self._show_counter()

    # -- queries ---------------------------------------------------------------------------------

    def _restore(self) -> bool:
        """Bring the closed search back (shown in the bar); whether there was one to bring."""
        query = self.session.restore()
        if query is None:
            return False
        self.bar.show_query(query)  # the bar may show something else by now
        self._applied(None)
        return True

    def _apply(self, query: SearchQuery, *, seek: bool) -> None:
        """Put ``query`` in force: highlight at once; move once the nearest match is certain
        (after the first steps of the scan), count as it goes on."""
        self._applied(self.session.apply(query, seek=seek, moves=self.transcript.moves))

    def _applied(self, reason: str | None) -> None:
        self._begin_indexing()  # from now on the index follows the timeline
        session = self.session
        self.bar.set_error(reason)
        matcher = session.matcher
        self.transcript.highlight = None if matcher is None else matcher.highlight
        if session.active:  # a filter, like a search, covers the whole window
            self._start_fetch()
        session.look_at(self.transcript.cursor_message)  # the scan starts at the screen
        self._kick(restart=True)
        if self.filtering:
            self.filter_view.show_search(self.session, self.filter_view.selected_message)
        self._show(bindings=True)

    def _start(self, group: str, work: Callable[[], Coroutine[None, None, None]]) -> Worker[None]:
        """Run ``work`` in ``group``, cancelling the group's older worker (a stale one)."""
        return self.run_worker(work, name=group, group=group, exclusive=True, exit_on_error=False)

    def _begin_indexing(self) -> None:
        if not self._indexing:
            self._indexing = True
            self._kick()

    def _kick(self, *, restart: bool = False) -> None:
        """Make sure a scan runs; ``restart`` replaces a running one (a new query)."""
        session = self._session
        if session is None or (not self._indexing and session.results is None):
            return
        if self._scan is not None and not self._scan.is_finished and not restart:
            return
        self._scan = self._start("search-scan",
                                 partial(session.scan, self._scanned, redraw=REDRAW_INTERVAL))

    def _scanned(self, settled: bool) -> None:
        """Results grew: counter, filter view; moves that waited for the scan, once certain."""
        session = self.session
        reason = session.give_up()
        if reason is not None:  # a regex too slow on some message: refused, like an invalid one
            self.bar.set_error(reason)
            self.transcript.highlight = None
            self._stop_fetch()
        else:  # what waited for the scan, as soon as it is certain (nearest match, n/N)
            moves, missed = session.ready(self.transcript.cursor_message)
            for move in moves:
                self._go_to(move)
            if missed:
                self.app.bell()
        if self.filtering:
            self.filter_view.show_search(self.session, self.filter_view.selected_message)
        self._show()

    def _step(self, move: Move | None) -> None:
        if move is not None:
            self._go_to(move)
        elif self.session.pending_step is None:
            self.app.bell()  # nothing to go to (the session's notice says why)
        self._show()

    def _go_to(self, move: Move | Message) -> None:
        """Put the transcript's cursor on the move's message, centred (fetched around it if need
        be); a deferred move the user overtook with a move of their own is dropped."""
        from roamtui.history.search_session import Move

        transcript = self.transcript
        if isinstance(move, Message):
            move = Move(move)
        if not self.session.wanted(move, transcript.moves):
            return
        self.session.current = move.target
        # Run in the transcript's own task: a message it posted from a call made here would
        # have this pane as its sender, and Textual stops a message at its sender, so the
        # screen would never hear of the move (CursorMoved).
        transcript.call_next(self._move_cursor, transcript, move.target)

    @staticmethod
    def _move_cursor(transcript: Transcript, message: Message) -> None:
        row = transcript.timeline.index_of_key(message.key) if message.key else None
        if row is None:
            transcript.goto_time(message.time)
        else:
            transcript.set_cursor(row, center=True)

    # -- the rest of the window -----------------------------------------------------------------

    def _start_fetch(self) -> None:
        session = self.session
        if session.begin_fetch():
            self._fetch = self._start("search-fetch", partial(self._fetch_rest, session.timeline))
            self.refresh_bindings()

    async def _fetch_rest(self, timeline: Timeline) -> None:
        session = self.session
        try:
            await session.fetch(self._fetch_progress)
        finally:
            if session.timeline is timeline:
                self._fetch_settled()

    def _fetch_progress(self, progress: LoadProgress) -> None:
        if time.monotonic() - self._progress_shown >= REDRAW_INTERVAL:
            self._progress_shown = time.monotonic()
            self._show_status()

    def _fetch_settled(self) -> None:
        session = self.session
        self._kick()
        self._show(bindings=True)
        waited = session.pending_jump is not None
        jump = session.take_jump()
        if jump is not None:
            self._start("search-jump", partial(self._jump, *jump, fetch=False))
        elif waited and self._bar_for_jump:
            self._close()

    def _stop_fetch(self) -> None:
        if self.session.stop_fetch():
            if self._fetch is not None:
                self._fetch.cancel()
            if self._bar_for_jump:
                self._close()
            self._show(bindings=True)

    async def _jump(self, kind: Kind, forward: bool, *, fetch: bool = True) -> None:  # by kind
        from roamtui.history.search_session import Move

        session = self.session
        found = await session.find_kind(kind, forward, self.transcript.cursor_message)
        if found is not None:
            self._go_to(Move(found, deferred=True))
            if self._bar_for_jump:
                self._close()
            return
        if fetch and session.wait_for_jump(kind, forward):  # look again once the window is in
            if not self.bar.is_open:
                self._bar_for_jump = True
                self.bar.open(focus=False)
            self._start_fetch()
            self._show_status()
            return
        if self._bar_for_jump:
            self._close()
        self.notify(session.none_found(kind, forward), timeout=3, markup=False)

    # -- filter view, closing, showing -----------------------------------------------------------

    def _leave_filter(self, message: Message | None) -> None:
        self._set_filtering(False)
        self.transcript.focus()
        self._show_status()
        if message is not None:
            self.session.current = message
            # After the transcript is laid out again, or centring would use a stale height.
            self.call_after_refresh(self._go_to, message)

    def _close(self) -> None:
        """Close the bar and drop the highlight; ``n``/``N`` bring the query back."""
        self._bar_for_jump = False
        if self.filtering:
            self._leave_filter(None)
        self._stop_fetch()
        self.session.clear()
        self.transcript.highlight = None
        self.bar.close()
        self.transcript.focus()
        self.refresh_bindings()

    def _show(self, *, bindings: bool = False) -> None:
        """Counter and status line (and the keys shown, with ``bindings``) as the session is."""
        self._show_counter()
        self._show_status()
        if bindings:
            self.refresh_bindings()

    def _show_counter(self) -> None:
        session = self._session
        if session is None or session.results is None:
            return self.bar.set_counter("")
        current = session.current or (None if self.filtering else self.transcript.cursor_message)
        text = session.counter(current)
        if "/" not in text and session.results.matches:  # the cursor is on no match
            text = f"-/{text}"
        self.bar.set_counter(text, none=text == "no matches")

    def _show_status(self) -> None:
        """The bar's second line: error > the fetch > the filter view > a notice."""
        bar, session = self.bar, self.session
        if bar.invalid:
            return  # the error stays until the query changes
        if session.fetch_state == "failed" and session.results is not None:
            bar.show_fetch_failed(session.fetch_error)
        else:
            bar.set_status(*session.status_line(self.filtering))
