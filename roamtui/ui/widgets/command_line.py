"""The `:` prompt of the browse screen: `goto <time>`, `swap`, `note TEXT`, `marks clear`,
`theme <name>`, `help`, `q`.

Parsing is a plain function (`parse_command`) so it is tested without an app; the widget only
reads a line, posts `Run` or `Invalid`, and closes itself with Esc or after Enter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from textual import on
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Input

from roamtui.history.filters import KINDS

Verb = Literal["goto", "quit", "exit", "help", "swap", "theme", "note", "marks", "filter"]

COMMANDS: tuple[tuple[str, str], ...] = (
    ("goto TIME", "jump to a time: 10:40 (on the day shown), 2020-03-20 10:40, -2h, @1584669600"),
    ("swap", "read the other party's side of the conversation (same as p)"),
    ("filter KIND|from NAME|clear", "only recalled / non-text messages, or one sender's (NAME: "
     "account or nickname; with the search too); not KIND takes one away (F; ! recalled, "
     "@ this sender)"),
    ("note TEXT", "a note on the message under the cursor, kept with its mark (a); "
     "note alone removes it"),
    ("marks", "only the marked messages, each with a line of context (same as M)"),
    ("marks clear", "remove every mark and note of this side of the conversation"),
    ("theme NAME", "switch theme: textual-dark, textual-light, ansi-dark, ansi-light, …"),
    ("help", "the key and command list (same as ? or F1)"),
    ("q, quit", "the same as q: quit when opened from the command line, else back"),
    ("exit", "quit roamtui"),
)


class CommandSuggester(Suggester):
    """The rest of a command as it is typed, greyed; the filter kinds as they are now (more
    are registered by the modules that add them), so that `F`'s ``filter `` shows one."""

    WORDS = ("goto ", "swap", "note ", "marks", "marks clear", "theme ", "help", "quit", "exit")

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=False)

    async def get_suggestion(self, value: str) -> str | None:
        filters = [f"filter {name}" for name in KINDS] + ["filter from ", "filter clear"]
        for word in (*self.WORDS, *filters):
            if word.startswith(value) and word != value:
                return word
        return None


_ALIASES: dict[str, Verb] = {
    "goto": "goto",
    "go": "goto",
    "g": "goto",
    "t": "goto",
    "q": "quit",
    "quit": "quit",
    "back": "quit",
    "exit": "exit",
    "qa": "exit",
    "q!": "exit",
    "help": "help",
    "h": "help",
    "?": "help",
    "swap": "swap",
    "p": "swap",
    "theme": "theme",
    "note": "note",
    "marks": "marks",
    "filter": "filter",
    "f": "filter",
}
_TRY = "goto 10:40, filter recalled, swap, theme NAME, help or q"
_NEEDS_ARGUMENT: frozenset[Verb] = frozenset({"goto", "theme", "filter"})
_MAY_TAKE_ARGUMENT: frozenset[Verb] = frozenset({"note"})


@dataclass(frozen=True, slots=True)
class Command:
    """One parsed command line: the verb and the rest of the line."""

    verb: Verb
    argument: str = ""


class CommandError(ValueError):
    """A line that is not a command; `str()` is the one-line reason shown to the user."""


def parse_command(line: str) -> Command:
    """`goto 10:40` → Command("goto", "10:40"); a leading `:` is allowed; errors say what works."""
    text = line.strip().removeprefix(":").strip()
    if not text:
        raise CommandError(f"empty command; try {_TRY}")
    word, _, rest = text.partition(" ")
    verb = _ALIASES.get(word.lower())
    if verb is None:
        raise CommandError(f"unknown command {word!r}; try {_TRY}")
    argument = rest.strip()
    if verb in _NEEDS_ARGUMENT and not argument:
        example = {"goto": "goto 10:40", "filter": "filter recalled"}.get(verb, "theme ansi-dark")
        raise CommandError(f"{verb} needs an argument, e.g. {example}")
    if verb == "marks" and argument.lower() not in ("", "clear"):
        raise CommandError("marks shows only the marked messages; marks clear removes every "
                           "mark and note of this conversation side")
    if verb not in _NEEDS_ARGUMENT | _MAY_TAKE_ARGUMENT | {"marks"} and argument:
        raise CommandError(f"{verb} takes no argument")
    return Command(verb, argument)


class CommandLine(Input):
    """A one-line prompt, shown by `:` and hidden again after use."""

    DEFAULT_CSS = """
    CommandLine { display: none; }
    CommandLine.-open { display: block; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", show=False),
        Binding("up", "history(-1)", "Previous command", show=False),
        Binding("down", "history(1)", "Next command", show=False),
    ]

    class Run(Message):
        """The user entered a valid command."""

        def __init__(self, command: Command) -> None:
            super().__init__()
            self.command = command

    class Invalid(Message):
        """The user entered something that is not a command."""

        def __init__(self, reason: str, line: str) -> None:
            super().__init__()
            self.reason = reason
            self.line = line

    class Closed(Message):
        """The prompt was closed (Esc or after a command); focus should go back."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            placeholder="goto 10:40 · goto 2020-03-20 10:40 · goto -2h · swap · theme NAME · help",
            suggester=CommandSuggester(),
            id=id,
            compact=True,
            # `t` opens the prompt with "goto " typed: keep it, do not select it for overwrite.
            select_on_focus=False,
        )
        self.history: list[str] = []
        self._history_at = 0

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def open(self, text: str = "") -> None:
        """Show the prompt, prefilled with `text`, and focus it."""
        self.value = text
        self.cursor_position = len(text)
        self._history_at = len(self.history)
        self.add_class("-open")
        # Focus now, not via focus() (which is queued): keys typed right after `:` are already
        # waiting in the queue and must land here, not on the transcript's own bindings.
        self.screen.set_focus(self, scroll_visible=False)

    def action_history(self, step: int) -> None:
        """Walk through the commands entered before (Up older, Down newer)."""
        at = min(max(self._history_at + step, 0), len(self.history))
        self._history_at = at
        self.value = self.history[at] if at < len(self.history) else ""
        self.cursor_position = len(self.value)

    def action_close(self) -> None:
        self.remove_class("-open")
        self.value = ""
        self.post_message(self.Closed())

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        line = event.value
        self.action_close()
        try:
            command = parse_command(line)
        except CommandError as exc:
            self.post_message(self.Invalid(str(exc), line))
            return
        if not self.history or self.history[-1] != line:
            self.history.append(line)
        self.post_message(self.Run(command))
