"""`?` / F1: every key of the screen it was opened from, the `:` commands and the time forms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from roamtui.ui.commands import KeyEntry, grouped
from roamtui.ui.widgets.command_line import COMMANDS

TIME_FORMS = (
    ("-2h  -30m  -7d  +1h", "relative to now (on the query screen) or to the cursor (:goto)"),
    ("10:40", "that time of the day being viewed / of today"),
    ("2020-03-20 10:40", "a date and time in the chosen zone"),
    ("2020-03-20T10:40:00+08:00", "ISO 8601 with its own offset"),
    ("@1584669600", "Unix seconds"),
    ("now  today  yesterday", "named moments"),
)

MARKS = (
    ("✓", "the peer read the message (IsPeerRead)"),
    ("⟲ recalled", "a recalled message, with its content when the service returned it"),
    ("▸ / ▾", "a merged forward or long message that x expands / folds"),
    ("▌ / ✎", "in the left column: a message you marked (m) / one with your note (a, :note)"),
)


def _row(keys: str, text: str, key_style: str = "bold $accent") -> Horizontal:
    """Keys in their own column; the text wraps in the other, never under the keys."""
    return Horizontal(
        Static(Content.assemble((keys, key_style)), classes="help-key", markup=False),
        Static(Content(text), classes="help-text", markup=False),
        classes="help-row",
    )


class HelpScreen(ModalScreen[None]):
    """A scrollable list of every binding, grouped by where it lives. Esc, q, ? or F1 close it."""

    HELP_GROUP = "Help"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "dismiss_help", "Close help"),
        Binding("j,down", "scroll(1)", "Scroll down", show=False),
        Binding("k,up", "scroll(-1)", "Scroll up", show=False),
    ]

    def __init__(self, entries: Sequence[KeyEntry], *, title: str = "Keys") -> None:
        super().__init__()
        self.entries = list(entries)
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog"):
            yield Static(
                Content.assemble((f" roamtui — {self.title_text}", "bold")),
                id="help-title",
                markup=False,
            )
            with VerticalScroll(id="help-body"):
                for group, entries in grouped(self.entries):
                    yield Static(Content.assemble((group, "bold $primary")), classes="help-group")
                    for entry in entries:
                        yield _row(entry.keys_text, entry.description)
                yield Static(
                    Content.assemble((": commands", "bold $primary")), classes="help-group"
                )
                for name, text in COMMANDS:
                    yield _row(name, text)
                yield Static(Content.assemble(("Times", "bold $primary")), classes="help-group")
                for form, text in TIME_FORMS:
                    yield _row(form, text, "bold")
                yield Static(Content.assemble(("Marks", "bold $primary")), classes="help-group")
                for mark, text in MARKS:
                    yield _row(mark, text, "bold")
            yield Static(
                Content.assemble(
                    ("  Esc, q, ? or F1 close this · Ctrl+P lists every action", "$text-muted")
                ),
                id="help-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        self.query_one("#help-body", VerticalScroll).focus()

    def action_dismiss_help(self) -> None:
        self.dismiss(None)

    def action_scroll(self, lines: int) -> None:
        body = self.query_one("#help-body", VerticalScroll)
        body.scroll_to(y=body.scroll_y + lines, animate=False)
