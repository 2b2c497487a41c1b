"""The find bar of the browse screen: query, case and regex toggles, counter, one status line.

It is docked under the transcript and is not modal: the transcript keeps its keys while the bar
is open. The bar only reads what the user types and shows what it is told; the search itself is
done by :class:`~roamtui.ui.search_controller.SearchPane`, which listens to its messages:

- ``Changed`` (debounced while typing, at once for a toggle) with the :class:`SearchQuery`;
- ``Done`` for Enter: as in less, go to the match and give the keys back (``n``/``N`` step);
- ``Step`` for Down (next) and Shift+Enter / Up (previous), staying in the bar;
- ``Leave`` for Esc in the bar (the first layer: give the focus back, keep the search);
- ``StopRequested`` when the progress line (``✕ stop``) is clicked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Static

if TYPE_CHECKING:
    # The search core is imported when a query is typed, not before the first frame.
    from roamtui.history.search import CaseMode, SearchQuery

#: Typing pauses this long (seconds) before the query is searched: one search per burst of keys.
DEBOUNCE = 0.08

CASE_LABELS: dict[CaseMode, str] = {
    "smart": "Aa smart",
    "sensitive": "Aa match",
    "insensitive": "aa ignore",
}
CASE_HINTS: dict[CaseMode, str] = {
    "smart": "smart case: case-sensitive only when the query has a capital (alt+c)",
    "sensitive": "case-sensitive (alt+c)",
    "insensitive": "case ignored (alt+c)",
}
StatusKind = Literal["info", "progress", "error"]


class Chip(Static, can_focus=False):
    """A clickable toggle that never takes the focus from the query input."""

    class Clicked(Message):
        def __init__(self, chip: Chip) -> None:
            super().__init__()
            self.chip = chip

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Clicked(self))


def split_way_out(line: str) -> tuple[str, str]:
    """``"what — what to press"`` as (what, what to press); ("line", "") without a dash."""
    what, dash, way_out = line.rpartition(" — ")
    return (what, way_out) if dash else (line, "")


def _with_modifier(key: str) -> bool:
    """Alt / Ctrl / Super combinations (a shifted letter is plain text)."""
    modifiers = key.split("+")[:-1]
    return any(m != "shift" for m in modifiers)


class FindInput(Input):
    """The query input; a key with a modifier is never text, so it reaches the bar's bindings.

    A terminal sends Alt+C as ``key='alt+c', character='c'``: a plain Input would insert the
    ``c`` and stop the key, and the case toggle would never run.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        # Input's own Enter (submit), described for the help: what it does here.
        Binding("enter", "submit", "Go to the match, keys back to the transcript (n/N step)",
                show=False),
    ]

    def check_consume_key(self, key: str, character: str | None) -> bool:
        return not _with_modifier(key) and super().check_consume_key(key, character)

    def on_key(self, event: events.Key) -> None:
        if event.is_printable and _with_modifier(event.key):
            # Textual's documented way to keep a base class's handler from running (Input's
            # would insert the character and stop the key); the key still bubbles up to the
            # bar's bindings, as bubbling clears prevent_default.
            event.prevent_default()


class StatusLine(Static, can_focus=False):
    """The bar's second line: an error, the fetch progress (click to stop), or a notice."""

    class Clicked(Message):
        pass

    def on_click(self, event: events.Click) -> None:
        event.stop()
        self.post_message(self.Clicked())


class FindBar(Vertical):
    """Query input with toggles and counter; see the module docstring for what it posts."""

    HELP_GROUP = "Find bar"
    DEFAULT_CSS = """
    FindBar {
        height: auto;
        display: none;
        background: $panel;
        &.-open { display: block; }
        & > #find-row { height: 1; }
        & #find-prompt { width: 2; color: $text-accent; text-style: bold; }
        & #find-input { width: 1fr; height: 1; background: $boost; }
        & #find-input:focus { background: $primary 20%; }
        & #find-input.-invalid { background: $error 30%; }
        & .find-chip { width: auto; height: 1; padding: 0 1; margin-left: 1; color: $text-muted; }
        & .find-chip.-on { color: $text; background: $accent 35%; text-style: bold; }
        & #find-counter { width: auto; min-width: 9; height: 1; padding: 0 1;
                          text-align: right; text-style: bold; }
        & #find-counter.-none { color: $text-warning; }
        & #find-status-row { height: 1; display: none; padding: 0 1; color: $text-muted; }
        & #find-status-row.-shown { display: block; }
        & #find-status-row.-progress { color: $text-accent; }
        & #find-status-row.-error { color: $text-error; }
        & #find-status { width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
        & #find-hint { width: auto; margin-left: 1; text-style: bold; }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Leave the find bar", show=False),
        Binding("down", "step(True)", "Next match", show=False),
        Binding("up,shift+enter", "step(False)", "Previous match", show=False),
        Binding("alt+c", "cycle_case", "Case: smart / match / ignore", show=False),
        Binding("alt+r", "toggle_regex", "Regex on / off", show=False),
    ]

    class Changed(Message):
        """The query or a toggle changed (empty text means: nothing to search)."""

        def __init__(self, query: SearchQuery) -> None:
            super().__init__()
            self.query = query

    class Step(Message):
        """Go to the next (``forward``) or previous match."""

        def __init__(self, forward: bool) -> None:
            super().__init__()
            self.forward = forward

    class Leave(Message):
        """Esc inside the bar: give the focus back and keep the search."""

    class Done(Message):
        """Enter inside the bar: go to the match and give the focus back (the bar stays)."""

    class StopRequested(Message):
        """The user clicked the progress line to stop fetching the rest of the window."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.case: CaseMode = "smart"
        self.regex = False
        self._open = False
        self._invalid = False
        self._timer: Timer | None = None
        self._status_kind: StatusKind | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="find-row"):
            yield Static("/", id="find-prompt", markup=False)
            yield FindInput(placeholder="find in the window (text, file names, places, titles…)",
                            id="find-input", compact=True)
            yield Chip(CASE_LABELS[self.case], id="find-case", classes="find-chip", markup=False)
            yield Chip(".* regex", id="find-regex", classes="find-chip", markup=False)
            yield Static("", id="find-counter", markup=False)
        with Horizontal(id="find-status-row"):
            yield StatusLine("", id="find-status", markup=False)
            yield StatusLine("", id="find-hint", markup=False)

    def on_mount(self) -> None:
        self._show_toggles()

    # -- reading and showing ------------------------------------------------------------------

    @property
    def input(self) -> Input:
        return self.query_one("#find-input", Input)

    @property
    def is_open(self) -> bool:
        """The bar is shown (its classes are for styling only: read this)."""
        return self._open

    @property
    def invalid(self) -> bool:
        """The query is flagged invalid (:meth:`set_error`); its reason is the status line."""
        return self._invalid

    @property
    def query_now(self) -> SearchQuery:
        """What the bar says right now (not waiting for the debounce)."""
        from roamtui.history.search import SearchQuery

        return SearchQuery(self.input.value, self.case, self.regex)

    @property
    def counter_text(self) -> str:
        return str(self.query_one("#find-counter", Static).render())

    @property
    def status_text(self) -> str:
        """The whole status line: its text, then its way out (``… — / tries again``)."""
        if not self.query_one("#find-status-row").has_class("-shown"):
            return ""
        text = str(self.query_one("#find-status", StatusLine).render())
        hint = str(self.query_one("#find-hint", StatusLine).render())
        return f"{text} — {hint}" if hint else text

    @property
    def status_kind(self) -> StatusKind | None:
        return self._status_kind

    def open(self, *, focus: bool = True) -> None:
        """Show the bar; with ``focus`` the input takes the keys (its text selected)."""
        self._open = True
        self.add_class("-open")
        if focus:
            # Focus now, not via focus() (which is queued): keys typed right after `/` are
            # already waiting and must land in the input, not on the transcript's bindings.
            self.screen.set_focus(self.input, scroll_visible=False)
            self.input.select_all()  # also when it had the focus already (ctrl+f again)

    def close(self) -> None:
        """Hide the bar; the query text and toggles stay for the next time."""
        self._cancel_timer()
        self._open = False
        self.remove_class("-open")

    def set_counter(self, text: str, *, none: bool = False) -> None:
        counter = self.query_one("#find-counter", Static)
        counter.update(text)
        counter.set_class(none, "-none")

    def set_error(self, reason: str | None) -> None:
        """Flag the query as invalid (``reason`` in the status line) or clear the flag."""
        self._invalid = reason is not None
        self.input.set_class(self._invalid, "-invalid")
        if reason is not None:
            self.set_status(reason, "error")
        elif self._status_kind == "error":
            self.set_status(None)

    def set_status(self, text: str | None, kind: StatusKind = "info", *,
                   hint: str | None = None, detail: str | None = None) -> None:
        """One line under the input: the fetch progress, an error, or a short notice.

        ``hint``, what to press (by default what follows the last `` — `` in ``text``), sits
        at the right end and is never cut off: a line too long loses the end of its ``text``
        instead. ``detail`` is the line's tooltip.
        """
        if hint is None:
            text, hint = split_way_out(text or "")
        row = self.query_one("#find-status-row")
        shown = bool(text)
        self._status_kind = kind if shown else None
        hint = hint if shown else ""
        status = self.query_one("#find-status", StatusLine)
        status.update(Content(text or ""))
        # Content, not a str: a str tooltip is read as markup, and an error can quote the service.
        status.tooltip = Content(detail) if shown and detail else None
        way_out = self.query_one("#find-hint", StatusLine)
        way_out.update(Content(hint))
        way_out.display = bool(hint)
        row.set_class(shown, "-shown")
        for name in ("info", "progress", "error"):
            row.set_class(shown and kind == name, f"-{name}")

    def show_fetch_failed(self, error: str) -> None:
        """The rest of the window could not be fetched: ``error`` short, the whole in a tooltip."""
        self.set_status("fetch failed (matches in the loaded part only): "
                        + error.split(" — ")[0], "error", hint="/ tries again", detail=error)

    # -- the user's input ---------------------------------------------------------------------

    @on(Input.Changed, "#find-input")
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self._cancel_timer()
        self._timer = self.set_timer(DEBOUNCE, self._emit)

    @on(Input.Submitted, "#find-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._flush()
        self.post_message(self.Done())

    @on(Chip.Clicked)
    def _chip_clicked(self, event: Chip.Clicked) -> None:
        if event.chip.id == "find-case":
            self.action_cycle_case()
        else:
            self.action_toggle_regex()

    @on(StatusLine.Clicked)
    def _status_clicked(self) -> None:
        if self._status_kind == "progress":
            self.post_message(self.StopRequested())

    def action_leave(self) -> None:
        self._flush()
        self.post_message(self.Leave())

    def action_step(self, forward: bool) -> None:
        self._flush()
        self.post_message(self.Step(forward))

    def action_cycle_case(self) -> None:
        """Smart case → match case → ignore case → smart case."""
        from roamtui.history.search import CASE_MODES

        at = CASE_MODES.index(self.case)
        self.case = CASE_MODES[(at + 1) % len(CASE_MODES)]
        self._show_toggles()
        self._emit()

    def action_toggle_regex(self) -> None:
        self.regex = not self.regex
        self._show_toggles()
        self._emit()

    def show_query(self, query: SearchQuery) -> None:
        """Show ``query`` (text and toggles) without searching it: a query brought back."""
        self.case, self.regex = query.case, query.regex
        self._show_toggles()
        with self.input.prevent(Input.Changed):
            self.input.value = query.text

    # -- internals ----------------------------------------------------------------------------

    def _show_toggles(self) -> None:
        case = self.query_one("#find-case", Chip)
        case.update(CASE_LABELS[self.case])
        case.tooltip = CASE_HINTS[self.case]
        case.set_class(self.case != "smart", "-on")
        regex = self.query_one("#find-regex", Chip)
        regex.set_class(self.regex, "-on")
        regex.tooltip = "regular expression (alt+r)" if self.regex else "plain text (alt+r)"

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def _flush(self) -> None:
        """Search now what was typed during the debounce, so Enter never acts on a stale query."""
        if self._timer is not None:
            self._emit()

    def _emit(self) -> None:
        self._cancel_timer()
        self.post_message(self.Changed(self.query_now))
