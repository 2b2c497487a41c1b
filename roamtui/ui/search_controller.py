"""Search on the browse screen: the glue between the find bar, the search core and the transcript.

:class:`SearchPane` wraps the transcript (``with SearchPane(): yield Transcript(...)``), so
its keys work whenever the transcript, the find bar or the filter view has the focus. One
timeline's search state is a :class:`~roamtui.ui.search_session.SearchSession`, whose work runs
in exclusive workers: *scan* (index and results; a newer query cancels a stale scan), *fetch*
(the rest of the window while a query is in force; the counter reads ``17+`` until final) and
*jump* (the next recalled / non-text message, fetching the window when none is loaded).

Keys: ``/`` or Ctrl+F find, ``n``/``N`` next/previous match, ``&`` filter view, ``]``/``[``
next/previous recalled message, ``}``/``{`` next/previous non-text element. Esc, one layer per
press: leave the find input; stop the fetch; leave the filter view; close the search and its
highlight. ``/`` brings a closed search back and starts a stopped or failed fetch again.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from functools import partial
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.worker import Worker

from roamtui.history.search import Kind, SearchQuery, SearchQueryError
from roamtui.history.timeline import LoadProgress
from roamtui.im.model import Message
from roamtui.ui.render import RenderContext
from roamtui.ui.search_session import SearchSession
from roamtui.ui.transcript import Transcript
from roamtui.ui.widgets.filter_view import FilterView
from roamtui.ui.widgets.find_bar import FindBar

#: Least interval (seconds) between two redraws of the counter and progress while busy.
REDRAW_INTERVAL = 0.1
KIND_NAMES: dict[str, str] = {"recalled": "recalled message", "non_text": "non-text element"}
#: Jump by kind: single keys, as the transcript owns j k g G d D o O r x y Y p e q and Enter.
KIND_KEYS = (("right_square_bracket", "recalled", True, "Next recalled message"),
             ("left_square_bracket", "recalled", False, "Previous recalled message"),
             ("right_curly_bracket", "non_text", True, "Next non-text element"),
             ("left_curly_bracket", "non_text", False, "Previous non-text element"))


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
        Binding("escape", "escape", "Stop fetching / leave filter / close search", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._session: SearchSession | None = None
        self._indexing = False  # the index follows the timeline once search was first used
        self._query: SearchQuery | None = None  # in force: valid and non-empty
        self._last_query: SearchQuery | None = None  # brought back by n/N after closing
        self._current: Message | None = None
        self._seek = False  # the next settled scan moves to the match nearest the cursor
        self._pending_step: bool | None = None
        self._pending_jump: tuple[Kind, bool] | None = None
        self._bar_for_jump = False  # the bar was opened only to show a jump's fetch
        self._notice = ""
        self._scan: Worker[None] | None = None
        self._fetch: Worker[None] | None = None
        self._progress_shown = 0.0
        self._asked = 0  # the transcript's move count when a step or jump was asked for

    def compose(self) -> ComposeResult:
        yield FilterView(id="filter-view")
        yield FindBar(id="find-bar")

    def on_mount(self) -> None:
        self._sync()

    def on_unmount(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

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
        return self.has_class("-filtering")

    @property
    def session(self) -> SearchSession:
        return self._sync()

    # -- following the transcript ---------------------------------------------------------------

    def _sync(self) -> SearchSession:
        """The session of the transcript's timeline (``p`` swaps it: new index, new fetch)."""
        timeline = self.transcript.timeline
        session = self._session
        if session is not None and session.timeline is timeline:
            return session
        if session is not None:
            session.close()
        for worker in (self._scan, self._fetch):
            if worker is not None:
                worker.cancel()
        session = self._session = SearchSession(timeline, self._timeline_changed)
        self._current = None
        if self._query is not None:
            session.search(self._query.compile())
            self._kick()
            self._start_fetch()
        return session

    def _timeline_changed(self) -> None:
        if self._indexing:
            self._kick()

    @on(Transcript.StatsChanged)
    def _stats_changed(self) -> None:
        self._sync()

    @on(Transcript.CursorMoved)
    def _cursor_moved(self) -> None:
        """The counter's first number is the match under the cursor, however it got there."""
        self._sync()
        if not self.filtering:
            self._current = None  # the counter reads the cursor instead
            self._show_counter()

    # -- actions ---------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "step":
            return self._last_query is not None
        if action == "escape":
            bars = self.query(FindBar)
            fetching = self._session is not None and self._session.fetch_state == "running"
            return bool(fetching or self.filtering or (bars and bars.first().is_open)
                        or self._query is not None)
        return True

    def action_find(self) -> None:
        """Open the find bar, the closed search brought back; a stopped or failed fetch retried."""
        session = self._sync()
        self._bar_for_jump = False
        if session.fetch_state in ("stopped", "failed"):
            session.fetch_state = "idle"
        self._begin_indexing()
        if self._query is None and self._last_query is not None:
            self._apply(self._last_query, seek=False, restore=True)
        self.bar.open()  # its text selected: typing replaces the query
        if self._query is not None:
            self._start_fetch()
        self._show_status()
        self.refresh_bindings()

    def action_step(self, forward: bool) -> None:
        """``n`` / ``N``: the next (newer) or previous (older) match, centred."""
        session = self._sync()
        self._asked = self.transcript.moves
        if self.filtering:
            self.filter_view.action_move(1 if forward else -1)
            return
        if self._query is None and self._last_query is not None:
            self._apply(self._last_query, seek=False, restore=True)
            self.bar.open(focus=False)
        results = session.results
        if results is None:
            return
        if not results.matches and not results.done:
            self._pending_step = forward  # taken when the first scan of the query settles
            return
        self._step(forward)

    def action_toggle_filter(self) -> None:
        """``&``: only the matching messages, with context; again to go back at the selected one."""
        session = self._sync()
        if self.filtering:
            self._leave_filter(self.filter_view.selected_message)
            return
        if self._query is None and self._last_query is not None:
            self._apply(self._last_query, seek=False, restore=True)
            self.bar.open(focus=False)
        if session.results is None:
            self.bar.open()
            self._notice = "type what to look for, then & shows only the matching messages"
            self._show_status()
            return
        self.add_class("-filtering")
        self._refresh_filter(self._current or self.transcript.cursor_message, center=True)
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
        """``]``/``[`` recalled, ``}``/``{`` non-text: the next/previous such message."""
        self._sync()
        if self.filtering:
            self._leave_filter(self.filter_view.selected_message)
        self._asked = self.transcript.moves
        self._start("search-jump", partial(self._jump, kind, forward))

    # -- the find bar and the filter view --------------------------------------------------------

    @on(FindBar.Changed)
    def _bar_changed(self, event: FindBar.Changed) -> None:
        self._notice = ""
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
        self._current = event.message
        self._show_counter()

    # -- queries ---------------------------------------------------------------------------------

    def _apply(self, query: SearchQuery, *, seek: bool, restore: bool = False) -> None:
        """Put ``query`` in force: highlight at once; count and move when the scan settles."""
        session = self._sync()
        self._begin_indexing()
        bar = self.bar
        if restore:  # brought back by /, n/N or & (the bar may show something else by now)
            bar.show_query(query)
        self._pending_step, self._current, self._seek = None, None, False
        matcher, reason = None, None
        if query.text:
            try:
                matcher = query.compile()
            except SearchQueryError as exc:  # shown in the bar, never raised
                reason = exc.reason
        bar.set_error(reason)
        self._query = query if matcher is not None else None
        session.search(matcher)
        self.transcript.highlight = None if matcher is None else matcher.pattern
        if matcher is not None:
            self._last_query, self._seek = query, seek
            self._asked = self.transcript.moves
            self._start_fetch()
        self._kick(restart=True)
        if self.filtering:
            self._refresh_filter(self.filter_view.selected_message)
        self._show_counter()
        self._show_status()
        self.refresh_bindings()

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
        """Results grew: counter, filter view; a new query's first settled scan moves to a match."""
        session = self._sync()
        results = session.results
        if results is not None and settled and results.done:
            if self._seek and results.matches:
                self._seek = False
                target = session.nearest(self.transcript.cursor_message)
                if target is not None:
                    self._go_to(target, deferred=True)
            if self._pending_step is not None:
                forward, self._pending_step = self._pending_step, None
                self._step(forward, deferred=True)
        if self.filtering:
            self._refresh_filter(self.filter_view.selected_message)
        self._show_counter()
        self._show_status()

    def _step(self, forward: bool, *, deferred: bool = False) -> None:
        session = self.session
        base = self.transcript.cursor_message or self._current
        target, wrapped = session.step_from(base, forward)
        self._notice = ""
        if target is None:
            self.app.bell()
            self._notice = ("no matches yet: fetching the rest of the window"
                            if session.fetch_state == "running" else "no matches")
        else:
            if wrapped:
                self._notice = ("wrapped: back to the oldest match" if forward
                                else "wrapped: on to the newest match")
            self._go_to(target, deferred=deferred)
        self._show_counter()
        self._show_status()

    def _go_to(self, message: Message, *, deferred: bool = False) -> None:
        """Put the transcript's cursor on ``message``, centred (fetched around it if need be).

        ``deferred``: the move was asked for earlier (a scan or a fetch had to finish first);
        when the user has moved the cursor since, it is dropped: the last key wins.
        """
        transcript = self.transcript
        if deferred and transcript.moves != self._asked:
            return
        self._current = message
        # Run in the transcript's own task: a message it posted from a call made here would
        # have this pane as its sender, and Textual stops a message at its sender, so the
        # screen would never hear of the move (CursorMoved).
        transcript.call_next(self._move_cursor, transcript, message)

    @staticmethod
    def _move_cursor(transcript: Transcript, message: Message) -> None:
        row = transcript.timeline.index_of_key(message.key) if message.key else None
        if row is None:
            transcript.goto_time(message.time)
        else:
            transcript.set_cursor(row, center=True)

    # -- the rest of the window -----------------------------------------------------------------

    def _start_fetch(self) -> None:
        session = self._session
        if session is None or session.timeline.complete:
            return
        if session.fetch_state not in ("idle", "done"):
            return
        session.fetch_state = "running"
        self._fetch = self._start("search-fetch", partial(self._fetch_rest, session))
        self.refresh_bindings()

    async def _fetch_rest(self, session: SearchSession) -> None:
        try:
            await session.fetch(self._fetch_progress)
        finally:
            if session is self._session:
                self._fetch_settled()

    def _fetch_progress(self, progress: LoadProgress) -> None:
        now = time.monotonic()
        if now - self._progress_shown >= REDRAW_INTERVAL:
            self._progress_shown = now
            self._show_status()

    def _fetch_settled(self) -> None:
        session = self.session
        self._kick()
        self._show_counter()
        self._show_status()
        self.refresh_bindings()
        if self._pending_jump is None:
            return
        kind, forward = self._pending_jump
        self._pending_jump = None
        if session.fetch_state == "done":
            self._start("search-jump", partial(self._jump, kind, forward, fetch=False))
        elif self._bar_for_jump:
            self._close()

    def _stop_fetch(self) -> None:
        session = self._session
        if session is not None and session.fetch_state == "running" and self._fetch is not None:
            self._fetch.cancel()
            session.fetch_state = "stopped"
            self._pending_jump = None
            if self._bar_for_jump:
                self._close()
            self._show_counter()
            self._show_status()
            self.refresh_bindings()

    # -- jump by kind ---------------------------------------------------------------------------

    async def _jump(self, kind: Kind, forward: bool, *, fetch: bool = True) -> None:
        session = self._sync()
        found = await session.find_kind(kind, forward, self.transcript.cursor_message)
        if found is not None:
            self._go_to(found, deferred=True)
            if self._bar_for_jump:
                self._close()
            return
        what = KIND_NAMES[kind]
        complete = session.timeline.complete
        if fetch and not complete:  # look again once the window is in (joining a fetch)
            self._pending_jump = (kind, forward)
            if not self.bar.is_open:
                self._bar_for_jump = True
                self.bar.open(focus=False)
            if session.fetch_state in ("stopped", "failed"):
                session.fetch_state = "idle"
            self._notice = f"looking for the {'next' if forward else 'previous'} {what}"
            self._start_fetch()
            self._show_status()
            return
        if self._bar_for_jump:
            self._close()
        where = "after" if forward else "before"
        scope = "" if complete else " in what is loaded"
        self.notify(f"No {what} {where} this one{scope}.", timeout=3, markup=False)

    # -- filter view, closing, showing -----------------------------------------------------------

    def _refresh_filter(self, keep: Message | None, *, center: bool = False) -> None:
        session = self.session
        timeline = session.timeline
        results = session.results
        ctx = RenderContext.for_parties(timeline.tz, timeline.query.account, timeline.query.peer)
        empty = ("no matching messages yet: fetching the rest of the window…"
                 if session.fetch_state == "running" else "no matching messages")
        self.filter_view.show_matches(session.index.messages,
                                      () if results is None else results.matches,
                                      session.matcher, ctx, keep, empty, center=center)

    def _leave_filter(self, message: Message | None) -> None:
        self.remove_class("-filtering")
        self.transcript.focus()
        self._show_status()
        if message is not None:
            self._current = message
            # After the transcript is laid out again, or centring would use a stale height.
            self.call_after_refresh(self._go_to, message)

    def _close(self) -> None:
        """Close the bar and drop the highlight; ``n``/``N`` bring the query back."""
        self._bar_for_jump = False
        if self.filtering:
            self._leave_filter(None)
        self._stop_fetch()
        self._query, self._current = None, None
        self._seek, self._pending_step, self._notice = False, None, ""
        self.session.search(None)
        self.transcript.highlight = None
        self.bar.close()
        self.transcript.focus()
        self.refresh_bindings()

    def _show_counter(self) -> None:
        session = self._session
        if session is None or session.results is None:
            self.bar.set_counter("")
            return
        current = self._current or (None if self.filtering else self.transcript.cursor_message)
        text = session.counter(current)
        if "/" not in text and session.results.matches:  # the cursor is on no match
            text = f"-/{text}"
        self.bar.set_counter(text, none=text == "no matches")

    def _show_status(self) -> None:
        """The bar's second line: error > the fetch > the filter view > a notice."""
        bar = self.bar
        if bar.input.has_class("-invalid"):
            return  # the error stays until the query changes
        session = self.session
        fetch = session.fetch_status()
        if fetch is not None and session.fetch_state == "failed":
            bar.show_fetch_failed(session.fetch_error)
        elif fetch is not None:
            text, kind = fetch
            notice = f"{self._notice}: " if self._notice and kind == "progress" else ""
            bar.set_status(notice + text, kind)
        elif self.filtering:
            bar.set_status("filter: matches with context — Enter or & shows the selected one, "
                           "Esc goes back", "info")
        else:
            bar.set_status(self._notice or None, "info")
