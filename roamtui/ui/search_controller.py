"""Search on the browse screen: the glue between the find bar, the search core and the transcript.

:class:`SearchPane` wraps the transcript (``with SearchPane(): yield Transcript(...)``), so its
keys work whenever the transcript, the find bar or the filter view has the focus. The state is
a :class:`~roamtui.history.search_session.SearchSession`; the pane adapts keys and messages to
it, runs its work in exclusive workers and draws what it says: *scan* (index and results,
nearest the cursor first: ``3/≥17…`` while counting), *fetch* (the rest of the window; the
counter reads ``17+`` until final) and *jump* (the next
recalled / non-text / one-sided message; the moves and the fetch are ``search_motion``'s);
``TimelineSwapped`` makes the session follow; :meth:`SearchPane.set_filter` puts a filter in
force (``history.filters``). Keys: see ``search_keys``. n/N step through the search AND the
filter, or the filter alone, also out of the filter view. Enter in the bar, as in less, goes
to the match and gives the keys back to the transcript. Esc, a layer a press: the find input;
the fetch; the filter view; the search and its highlight; the filter. ``/`` brings a closed
search back (n/N and ``&`` too, unless a filter was set alone since).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.worker import Worker

from roamtui.history.filters import MessageFilter
from roamtui.im.model import Message
from roamtui.ui.search_keys import KIND_KEYS, FilterChanged, Swapped
from roamtui.ui.search_motion import REDRAW_INTERVAL, Motion
from roamtui.ui.transcript import Transcript
from roamtui.ui.widgets.filter_view import FilterView
from roamtui.ui.widgets.find_bar import FindBar

if TYPE_CHECKING:
    # The search core (index, query compiler, regex engine) is imported with the session, when
    # search is first used: not before the first frame of the transcript.
    from roamtui.history.search import Kind, SearchQuery
    from roamtui.history.search_moves import Move
    from roamtui.history.search_session import SearchSession


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
        Binding("escape", "escape",
                "Stop fetching / leave the filter view / close search / drop filter / back",
                show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._session: SearchSession | None = None  # made on first use (see `session`)
        self._mounted = False
        self._indexing = False  # the index follows the timeline once search was first used
        self.motion = Motion(self)  # moves, jumps and the fetch they wait on
        self._filtering = False
        self._scan: Worker[None] | None = None

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
        for worker in (self._scan, self.motion.fetch):
            if worker is not None:
                worker.cancel()
        if self.session.query is not None:
            self.kick(restart=True)
            self.motion.start_fetch()
        self.show(bindings=True)

    def _timeline_changed(self) -> None:
        if self._indexing:
            self.kick()

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
        if action == "step":  # a filter alone is stepped through too
            return session is not None and (session.last_query is not None or session.active)
        if action == "escape":
            bars = self.query(FindBar)
            busy = session is not None and (session.fetch_state == "running" or session.active)
            return bool(busy or self.filtering or (bars and bars.first().is_open))
        return True

    def action_find(self) -> None:
        """Open the find bar, the closed search brought back; a stopped or failed fetch retried."""
        session = self.session
        self.motion.bar_for_jump = False
        session.rearm()
        self._begin_indexing()
        self._restore()
        self.bar.open()  # its text selected: typing replaces the query
        if session.query is not None:
            self.motion.start_fetch()
        self.show_status()
        self.refresh_bindings()

    def action_step(self, forward: bool) -> None:
        """``n`` / ``N``: the next (newer) or previous (older) match, centred."""
        session = self.session
        session.ask(self.transcript.moves)
        if self.filtering:
            self.filter_view.action_move(1 if forward else -1)
            return
        if self._restore(stepping=True):  # search AND the filter in force, if any
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
        if self._restore(stepping=True):  # a filter set alone since is listed alone
            self.bar.open(focus=False)
        if session.results is None:
            self.bar.open()
            session.notice = "type what to look for (or ! @ :filter), then & shows only those"
            self.show_status()
            return
        self._set_filtering(True)
        self.filter_view.show_search(session, session.current or self.transcript.cursor_message,
                                     center=True)
        self.filter_view.focus()
        self.show_status()

    def action_escape(self) -> None:
        session = self.session
        if session.fetch_state == "running":
            self.motion.stop_fetch()
        elif self.filtering:
            self._leave_filter(self.filter_view.selected_message)
        elif self.bar.is_open or not session.filter.active:
            self.close_search()
        else:  # the search closed, the filter still steering n/N: the last layer
            label = session.filter.label()
            self.set_filter(MessageFilter())
            self.notify(f"filter off ({label})", timeout=3, markup=False)

    def action_jump(self, kind: Kind, forward: bool) -> None:
        """``]``/``[`` recalled, ``}``/``{`` non-text, ``>``/``<`` one-sided: the next/previous."""
        if self.filtering:
            self._leave_filter(self.filter_view.selected_message)
        self.session.ask(self.transcript.moves)
        self.start_worker("search-jump", partial(self.motion.jump, kind, forward))

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
        # At once, not via focus() (queued): keys typed right after Enter or Esc in the bar
        # (n, N) are the transcript's.
        self.screen.set_focus(self.filter_view if self.filtering else self.transcript)

    @on(FindBar.Done)
    def _bar_done(self) -> None:
        """Enter in the bar, as in less: to the match (the one under the cursor, else the
        nearest once certain) and the keys back to the transcript; the bar stays open."""
        session = self.session
        if self.bar.invalid:
            return  # the reason is shown; the focus stays to mend the query
        cursor = self.transcript.cursor_message
        if not self.filtering and session.query is not None and (
                session.rank_of(session.current or cursor) is None):
            session.seek(self.transcript.moves)
            self.kick()
            self._ready()
        self._bar_leave()

    @on(FindBar.StopRequested)
    def _bar_stop(self) -> None:
        self.motion.stop_fetch()

    @on(FilterView.Chosen)
    def _filter_chosen(self, event: FilterView.Chosen) -> None:
        self._leave_filter(event.message)

    @on(FilterView.Selected)
    def _filter_selected(self, event: FilterView.Selected) -> None:
        self.session.current = event.message
        self._show_counter()

    # -- queries ---------------------------------------------------------------------------------

    def _restore(self, *, stepping: bool = False) -> bool:
        """Bring the closed search back (shown in the bar); whether there was one to bring."""
        query = self.session.restore(stepping=stepping)
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
            self.motion.start_fetch()
        session.look_at(self.transcript.cursor_message)  # the scan starts at the screen
        self.kick(restart=True)
        if self.filtering:
            self.filter_view.show_search(self.session, self.filter_view.selected_message)
        self.show(bindings=True)

    def start_worker(self, group: str, work: Callable[[], Coroutine[None, None, None]]
                     ) -> Worker[None]:
        """Run ``work`` in ``group``, cancelling the group's older worker (a stale one)."""
        return self.run_worker(work, name=group, group=group, exclusive=True, exit_on_error=False)

    def _begin_indexing(self) -> None:
        if not self._indexing:
            self._indexing = True
            self.kick()

    def kick(self, *, restart: bool = False) -> None:
        """Make sure a scan runs; ``restart`` replaces a running one (a new query)."""
        session = self._session
        if session is None or (not self._indexing and session.results is None):
            return
        if self._scan is not None and not self._scan.is_finished and not restart:
            return
        self._scan = self.start_worker("search-scan",
                                 partial(session.scan, self._scanned, redraw=REDRAW_INTERVAL))

    def _scanned(self, settled: bool) -> None:
        """Results grew: counter, filter view; moves that waited for the scan, once certain."""
        session = self.session
        reason = session.give_up()
        if reason is not None:  # a regex too slow on some message: refused, like an invalid one
            self.bar.set_error(reason)
            self.transcript.highlight = None
            self.motion.stop_fetch()
        else:
            self._ready()
        if self.filtering:
            self.filter_view.show_search(self.session, self.filter_view.selected_message)
        self.show()

    def _ready(self) -> None:
        """Make the moves that waited for the scan, as soon as they are certain (the nearest
        match, n/N)."""
        moves, missed = self.session.ready(self.transcript.cursor_message)
        for move in moves:
            self.motion.go_to(move)
        if missed:
            self._tell_step()

    def _step(self, move: Move | None) -> None:
        if move is not None:
            self.motion.go_to(move)
        if move is not None or self.session.pending_step is None:
            self._tell_step(bell=move is None)
        self.show()

    def _tell_step(self, *, bell: bool = True) -> None:
        """A bell when a step found nothing (the notice says why: in the bar, or, a filter
        alone being stepped with the bar closed, in a toast)."""
        session = self.session
        if bell:
            self.app.bell()
        if session.query is None and session.notice and not self.bar.is_open:
            self.notify(session.notice, timeout=3, markup=False)

    # -- filter view, closing, showing -----------------------------------------------------------

    def _leave_filter(self, message: Message | None) -> None:
        self._set_filtering(False)
        self.transcript.focus()
        self.show_status()
        if message is not None:
            self.session.current = message
            # After the transcript is laid out again, or centring would use a stale height.
            self.call_after_refresh(self.motion.go_to, message)

    def close_search(self) -> None:
        """Close the bar and drop the highlight; ``n``/``N`` bring the query back."""
        self.motion.bar_for_jump = False
        if self.filtering:
            self._leave_filter(None)
        self.motion.stop_fetch()
        self.session.clear()
        self.transcript.highlight = None
        self.bar.close()
        self.transcript.focus()
        self.refresh_bindings()

    def show(self, *, bindings: bool = False) -> None:
        """Counter and status line (and the keys shown, with ``bindings``) as the session is."""
        self._show_counter()
        self.show_status()
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

    def show_status(self) -> None:
        """The bar's second line: error > the fetch > the filter view > a notice."""
        bar, session = self.bar, self.session
        if bar.invalid:
            return  # the error stays until the query changes
        if session.fetch_state == "failed" and session.results is not None:
            bar.show_fetch_failed(session.fetch_error)
        else:
            bar.set_status(*session.status_line(self.filtering))
