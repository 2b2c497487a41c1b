"""The transcript screen: status bar, the transcript, the `:` prompt, the position line, keys.

The screen owns no data: the Transcript widget drives the timeline and reports through its
messages; this screen turns them into the status and position lines and one-line notices.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, ClassVar, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen

from roamtui.history.timeparse import TimeParseError, parse_goto
from roamtui.im.errors import CREDENTIAL_CODES, ServiceError
from roamtui.im.limiter import RateLimiter
from roamtui.settings.defaults import empty_window_hint
from roamtui.settings.marks import MarkStore
from roamtui.text import error_line
from roamtui.ui.marking import MarkCount, Marking
from roamtui.ui.search_controller import SearchPane
from roamtui.ui.search_keys import (
    FILTER_BINDINGS,
    FilterChanged,
    filter_command,
    toggle_kind,
    toggle_sender,
)
from roamtui.ui.transcript import Transcript
from roamtui.ui.transcript.messages import CursorMoved, InspectRequested, LoadFailed, StatsChanged
from roamtui.ui.widgets.command_line import Command, CommandLine
from roamtui.ui.widgets.filter_view import FilterView
from roamtui.ui.widgets.sender_names import SenderNames
from roamtui.ui.widgets.status_bar import KeyFooter, PositionLine, StatusBar, format_stamp

if TYPE_CHECKING:
    from roamtui.history.timeline import Timeline
    from roamtui.im.model import Message
    from roamtui.im.profile import Nicknames
    from roamtui.ui.app import RoamApp


@dataclass(frozen=True, slots=True)
class BrowseTarget:
    """Which side's history to read, with whom, over which window, shown in which zone."""

    account: str
    peer: str
    min_time: int
    max_time: int
    tz: tzinfo
    both: bool = False  # read from both sides, merged (`--sides both`, `P`)

    def swapped(self) -> BrowseTarget:
        return BrowseTarget(self.peer, self.account, self.min_time, self.max_time, self.tz,
                            both=self.both)

    def toggled(self) -> BrowseTarget:
        """Both sides <-> this account's side only."""
        return BrowseTarget(self.account, self.peer, self.min_time, self.max_time, self.tz,
                            both=not self.both)


TimelineFactory = Callable[[BrowseTarget], "Timeline"]


ERROR_NOTICE_SECONDS = 8


class BrowseScreen(Screen[None]):
    """One conversation. `q` quits if opened from the command line (as less does), else goes
    back to the query screen; Esc goes back once nothing else is open; `p` the other side."""

    HELP_GROUP = "Transcript screen"
    BINDINGS: ClassVar[list[BindingType]] = [
        # One key, two actions: check_action keeps the one that applies (the footer says which).
        Binding("q", "quit_app", "Quit"),
        Binding("q", "back", "Back"),
        Binding("escape", "back", "Back", show=False),
        Binding("p", "swap_sides", "Swap sides"),
        Binding("P", "toggle_both", "Both sides", show=False),
        Binding("colon", "command_line", "Command"),
        Binding("t", "goto_prompt", "Go to time"),
        Binding("y", "copy_text", "Copy text", show=False),
        Binding("Y", "copy_key", "Copy MsgKey", show=False),
        Binding("e", "export", "Export"),
        Binding("m", "toggle_mark", "Mark"),
        Binding("apostrophe", "step_mark(True)", "Next marked message", show=False),
        Binding("quotation_mark", "step_mark(False)", "Previous marked message", show=False),
        Binding("a", "note_prompt", "Note on the message (:note TEXT)", show=False),
        Binding("M", "marked_view", "Only the marked messages (:marks)", show=False),
        Binding("F", "filter_prompt", "Filter by kind or sender (:filter …)", show=False),
        *FILTER_BINDINGS,
        Binding("i", "toggle_accounts", "Accounts / nicknames", show=False),
    ]

    def __init__(
        self,
        target: BrowseTarget,
        *,
        make_timeline: TimelineFactory,
        profile: str | None,
        clock: Callable[[], float],
        from_command_line: bool = False,
        where: str | None = None,
        marks: MarkStore | None = None,
        sdkappid: int = 0,
        names: Nicknames | None = None,
    ) -> None:
        super().__init__()
        self.where = where  # the endpoint's host, by the window (None: the demo)
        self.names = names  # the run's nicknames (portrait_get), for SenderNames and exports
        #: Opened by `roamtui ACCOUNT PEER` with no query screen under it: `q` quits.
        self.from_command_line = from_command_line
        self.target = target
        self.make_timeline = make_timeline
        self.profile = profile
        self.clock = clock
        self.cursor_time: int | None = None
        self._last_error: str | None = None
        self._last_error_at = 0.0
        self._prompt_queued = False
        self.marking = Marking(marks if marks is not None else MarkStore.memory(), sdkappid,
                               lambda: self.transcript, self.notify, self._show_marks,
                               self._selected_message)

    def compose(self) -> ComposeResult:
        t = self.target
        yield StatusBar(
            profile=self.profile, account=t.account, peer=t.peer, id="status",
            both=t.both,
        )
        with SearchPane(id="search"):  # find bar, filter view and search keys around it
            yield Transcript(self.make_timeline(t), t.tz, id="transcript")
        # The `:` prompt (hidden until used) is mounted here after the first messages are drawn.
        yield PositionLine(window=(t.min_time, t.max_time), tz=t.tz, where=self.where,
                           id="position")
        yield KeyFooter()
        yield SenderNames(self.names)  # looks the parties' nicknames up, shows them

    def on_mount(self) -> None:
        self.query_one(Transcript).focus()
        self.marking.open(self.target.account, self.target.peer)
        # The budget's share changes with the other processes' calls, not only with ours.
        self.set_interval(1.0, self._show_budget)

    def _show_budget(self) -> None:
        limiter = getattr(self.transcript.timeline.client, "limiter", None)
        if not isinstance(limiter, RateLimiter):
            return  # a stand-in client (tests)
        for notice in limiter.take_notices():  # a fallback to another budget, or a return
            self.notify(notice, title="Calls per second", severity="warning", timeout=15,
                        markup=False)
        now = limiter.usage()
        bar = self.query_one(StatusBar)
        if not limiter.sharing and not now.backed_off and not bar.stats.budget:
            return  # this process alone (the demo, --rate-store process): nothing to share
        bar.stats = replace(bar.stats, budget=now.text(), budget_short=now.short(),
                            backed_off=now.backed_off)

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    # -- what the transcript reports -------------------------------------------------------------

    @on(CursorMoved)
    def _cursor_moved(self, event: CursorMoved) -> None:
        when = event.at
        self.cursor_time = when
        self.query_one(PositionLine).position = when
        if event.message is not None and not self._prompt_queued:
            self._prompt_queued = True
            self.call_after_refresh(self._command_line)

    @on(FilterView.Viewed)  # the position line follows its selection, then the cursor again
    def _filter_viewed(self, event: FilterView.Viewed) -> None:
        self.query_one(PositionLine).position = self.cursor_time if event.at is None else event.at

    @on(StatsChanged)
    def _stats_changed(self, event: StatsChanged) -> None:
        line = self.query_one(PositionLine)
        if event.complete and not (event.loaded or event.in_flight) and line.empty_hint is None:
            hint = line.empty_hint = empty_window_hint(self.target.account, self.target.peer)
            self.notify(hint[:1].upper() + hint[1:] + ".", title="Nothing here", timeout=20,
                        severity="warning", markup=False)
        bar = self.query_one(StatusBar)  # the budget fields are the status bar's own
        bar.stats = replace(bar.stats, loaded=event.loaded, recalled=event.recalled,
                            complete=event.complete, calls=event.calls, in_flight=event.in_flight,
                            gaps=event.gaps, one_sided=event.one_sided)
        self.marking.rows_settled()
        if (top := self.app.screen) is not self:  # a dialog over the transcript (`e`) follows it
            top.post_message(StatsChanged(event.loaded, event.recalled, event.complete,
                                          event.calls, event.in_flight, event.gaps,
                                          event.one_sided))

    def _show_marks(self, count: MarkCount) -> None:
        self.query_one(StatusBar).marked = (count.marked, count.missing)

    @on(LoadFailed)
    def _load_failed(self, event: LoadFailed) -> None:
        # str() of a RoamError is one redacted line with the code, meaning and advice;
        # markup=False because the service's ErrorInfo is text we do not control.
        text = error_line(event.error)
        error = event.error
        refused = isinstance(error, ServiceError) and error.code in CREDENTIAL_CODES
        if refused and cast("RoamApp", self.app).credentials_refused(self, text):
            return  # the app asks for the secret again
        now = time.monotonic()
        # One failure can be reported by both the load and its gap row: say it once.
        if self._last_error == text and now - self._last_error_at < ERROR_NOTICE_SECONDS:
            return
        self._last_error, self._last_error_at = text, now
        self.notify(
            f"{text} — press r to retry",
            title="Could not load messages",
            severity="error",
            timeout=ERROR_NOTICE_SECONDS,
            markup=False,
        )

    @on(InspectRequested)
    def _inspect(self, event: InspectRequested) -> None:
        # Imported on first use, like the export dialog: `roamtui demo` starts faster without.
        from roamtui.history.sides import held_text
        from roamtui.ui.screens.inspector import InspectorScreen

        key = event.message.key
        held = held_text(self.transcript.timeline, key)
        self.app.push_screen(InspectorScreen(event.message, self.target.tz,
                                             note=self.marking.book.note(key), held=held))

    # -- actions ----------------------------------------------------------------------------------

    def action_toggle_accounts(self) -> None:
        """`i`: the sender column shows the accounts instead of the nicknames, or back."""
        self.query_one(SenderNames).toggle()

    def action_copy_text(self) -> None:
        """`y`: the selected message's text (placeholders for other elements) to the clipboard."""
        message = self.transcript.cursor_message
        if message is not None:
            from roamtui.ui import clipboard  # `y`/`Y` only: not before the first frame

            clipboard.copy_message_text(self.app, message)

    def action_export(self) -> None:
        """`e`: write the window to a file in any export format, as `roamtui export` does."""
        from roamtui.ui.screens.export_dialog import ExportDialog
        from roamtui.ui.screens.export_marked import mark_set

        session = getattr(self.app, "session", None)
        self.app.push_screen(ExportDialog(self.transcript.timeline, clock=self.clock,
                                          remembered=getattr(session, "export_choice", None),
                                          marks=mark_set(self.marking.book), names=self.names))

    def action_copy_key(self) -> None:
        """`Y`: the selected message's MsgKey to the clipboard."""
        message = self.transcript.cursor_message
        if message is not None:
            from roamtui.ui import clipboard

            clipboard.copy_message_key(self.app, message)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "quit_app":  # refused: `q` falls through to its other binding, back
            return self.from_command_line
        return True

    def action_back(self) -> None:
        """Back to the query screen (the transcript and its fetches are dropped)."""
        cast("RoamApp", self.app).back_to_query()

    def action_quit_app(self) -> None:
        """`q` on a transcript opened from the command line: quit, as less and lnav do."""
        self.app.exit()

    def action_swap_sides(self) -> None:
        """Read the other party's stored history of the same conversation, at the same time."""
        keep = self.cursor_time
        self.target = self.target.swapped()
        self.query_one(StatusBar).set_sides(self.target.account, self.target.peer)
        transcript = self.transcript
        self.query_one(PositionLine).empty_hint = None
        transcript.swap_timeline(self.make_timeline(self.target))
        self.marking.open(self.target.account, self.target.peer)
        if keep is not None:
            transcript.goto_time(keep)
        self.notify(
            f"Now reading both sides as {self.target.account} (with {self.target.peer})."
            if self.target.both else
            f"Now reading {self.target.account}'s side (with {self.target.peer}).",
            timeout=3,
            markup=False,
        )

    def action_toggle_both(self) -> None:
        """`P`: read both sides merged (one-sided messages marked), or this account's only."""
        keep = self.cursor_time
        self.target = self.target.toggled()
        self.query_one(StatusBar).set_both(self.target.both)
        self.query_one(PositionLine).empty_hint = None
        transcript = self.transcript
        transcript.swap_timeline(self.make_timeline(self.target))
        if keep is not None:
            transcript.goto_time(keep)
        t = self.target
        said = (f"Reading both sides: {t.account}'s and {t.peer}'s histories, merged; what only "
                "one holds is marked." if t.both else f"Reading {t.account}'s side only.")
        self.notify(said, timeout=4, markup=False)

    def _command_line(self) -> CommandLine:
        """The `:` prompt, mounted now if it is not yet (it stays out of the first frame)."""
        built = self.query(CommandLine)
        if built:
            return built.first()
        line = CommandLine(id="command")
        self.mount(line, before=self.query_one(PositionLine))
        return line

    def action_command_line(self, text: str = "") -> None:
        self._command_line().open(text)

    def action_goto_prompt(self) -> None:
        self.action_command_line("goto ")

    # -- filters (history.filters, ui.search_keys): kept by the search pane, shown on top ------

    def action_filter_prompt(self) -> None:
        self.action_command_line("filter ")

    def action_filter_kind(self, kind: str) -> None:
        toggle_kind(self.query_one(SearchPane), kind)

    def action_filter_sender(self) -> None:
        toggle_sender(self.query_one(SearchPane), self.transcript.cursor_message)

    @on(FilterChanged)
    def _filter_changed(self, event: FilterChanged) -> None:
        self.query_one(StatusBar).filter_label = event.label

    def action_toggle_mark(self) -> None:
        """`m`: mark the message under the cursor (kept across runs), or unmark it."""
        self.marking.toggle()
        self._marks_changed()

    def action_step_mark(self, forward: bool) -> None:
        """`'` / `"`: the next / previous marked message."""
        self.marking.step(forward)

    def action_marked_view(self) -> None:
        """`M`: only the marked messages, each with a line of context (`:filter marked`; the
        rest of the window is fetched as for a search); again, or Esc, to see all."""
        toggle_kind(self.query_one(SearchPane), "marked")

    def _selected_message(self) -> Message | None:
        """The message `m`, `a` and `:note` act on: the filter view's, while it is shown."""
        pane = self.query_one(SearchPane)
        return pane.filter_view.selected_message if pane.filtering else \
            self.transcript.cursor_message

    def _marks_changed(self) -> None:
        """A mark changed: a filter keeping the marked messages is applied again."""
        pane = self.query_one(SearchPane)
        if "marked" in pane.session.filter.kinds:
            pane.set_filter(pane.session.filter)

    def action_note_prompt(self) -> None:
        """`a`: the `:` prompt with `note ` and the message's note, to write or edit it."""
        self.action_command_line(self.marking.note_prompt())

    @on(CommandLine.Closed)
    def _command_closed(self) -> None:
        # Back where `:` was pressed: in the filter view, its list (the keys then act on the
        # message shown selected there, never on the hidden transcript's cursor).
        pane = self.query_one(SearchPane)
        (pane.filter_view if pane.filtering else self.transcript).focus()

    @on(CommandLine.Invalid)
    def _command_invalid(self, event: CommandLine.Invalid) -> None:
        self.notify(event.reason, severity="warning", timeout=5, markup=False)

    @on(CommandLine.Run)
    def _command_run(self, event: CommandLine.Run) -> None:
        self.run_command(event.command)

    def _parties(self) -> dict[str, str]:
        """The conversation's two accounts and their nicknames ("" where none is known), from
        the run's nickname cache (what the sender column and the status bar show)."""
        names, t = self.names, self.target
        return {a: "" if names is None else names.nickname(a) for a in (t.account, t.peer)}

    def run_command(self, command: Command) -> None:
        """Carry out one `:` command."""
        if command.verb == "goto":
            self.goto(command.argument)
        elif command.verb == "filter" and (problem := filter_command(
                self.query_one(SearchPane), command.argument, self._parties())):
            self.notify(problem, severity="warning", timeout=6, markup=False)
        elif command.verb == "quit":  # `:q` does what `q` does
            self.action_quit_app() if self.from_command_line else self.action_back()
        elif command.verb == "exit":
            self.app.exit()
        elif command.verb == "help":
            cast("RoamApp", self.app).action_help()
        elif command.verb == "swap":
            self.action_swap_sides()
        elif command.verb == "note":
            self.marking.set_note(command.argument)
            self._marks_changed()
        elif command.verb == "marks" and command.argument:
            self.marking.clear()
            self._marks_changed()
        elif command.verb == "marks":
            self.action_marked_view()
        elif command.verb == "theme":
            if command.argument in self.app.available_themes:
                self.app.theme = command.argument
            else:
                names = ", ".join(sorted(self.app.available_themes))
                self.notify(f"unknown theme {command.argument!r}; known: {names}",
                            severity="warning", markup=False)

    def goto(self, text: str) -> int | None:
        """`:goto TEXT`: parse relative to the cursor's time; clamp into the window; jump."""
        t = self.target
        anchor = self.cursor_time if self.cursor_time is not None else t.max_time
        now = datetime.fromtimestamp(self.clock(), t.tz)
        try:
            when = parse_goto(text, t.tz, now, anchor)
        except (TimeParseError, ValueError) as exc:
            self.notify(str(exc), severity="warning", timeout=6, markup=False)
            return None
        if not t.min_time <= when <= t.max_time:
            edge = t.min_time if when < t.min_time else t.max_time
            self.notify(f"{format_stamp(when, t.tz)} is outside the window; going to its "
                        f"{'start' if edge == t.min_time else 'end'} instead.",
                        severity="warning", timeout=5, markup=False)
            when = edge
        # `-2h` steps back: onto the last message at or before the time, as D and O do (the first
        # at or after it could be the message the step started from, and a second -2h stuck).
        back = text.strip().startswith("-") and when < anchor
        self.transcript.goto_time(when, announce=True, earlier=back)
        return when
