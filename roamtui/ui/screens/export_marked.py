"""The export dialog's "marked only" row: a checkbox and the messages of context around each.

The dialog (:mod:`.export_dialog`) shows it when the conversation side has marked messages, and
hands :meth:`MarkedOnly.marks` to the export job: the side's notes always, and with the box
ticked, the marked messages and ``context`` messages before and after each (the job's
selection, as ``roamtui export --marked --context N`` writes). The file name gains
``-marked`` and the provenance says it is a selection of N of M messages.
"""

from __future__ import annotations

from dataclasses import replace

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.dom import DOMNode
from textual.message import Message as TextualMessage
from textual.widgets import Checkbox, Input, Label

from roamtui.export.job import ExportRefused
from roamtui.export.selection import MAX_CONTEXT, MarkSet
from roamtui.settings.marks import MarkBook

MARKED_TAG = "marked"


def mark_set(book: MarkBook | None) -> MarkSet | None:
    """The book's marks and notes as the export job takes them (None when there are none)."""
    if book is None or not book.entries():
        return None
    return MarkSet({m.key: m.time for m in book.marked()}, book.notes())


def only_marked(node: DOMNode) -> bool:
    """Whether ``node``'s "marked only" box is there and ticked."""
    rows = node.query(MarkedOnly) if node.is_attached else None
    return bool(rows) and rows is not None and rows.first().only


def job_marks(node: DOMNode, marks: MarkSet | None) -> MarkSet | None:
    """The marks for the job from ``node``'s row (``marks`` when it has none); ExportRefused
    when the context typed is out of range."""
    rows = node.query(MarkedOnly)
    if not rows:
        return marks
    chosen = rows.first().marks()
    if chosen is None:
        raise ExportRefused(f"context: 0 to {MAX_CONTEXT} messages before and after each "
                            "marked one")
    return chosen


class MarkedOnly(Horizontal):
    """``[x] Marked only (3 marked) · context [2]``; see the module docstring."""

    DEFAULT_CSS = """
    MarkedOnly { height: auto; margin-top: 1; }
    MarkedOnly > Checkbox { width: auto; }
    MarkedOnly > Label { width: auto; color: $text-muted; margin: 0 1 0 2; }
    MarkedOnly > Input { width: 8; }
    """

    class Changed(TextualMessage):
        """The box was ticked or cleared (the file name follows)."""

    def __init__(self, marks: MarkSet, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.base = marks
        self.count = len(marks.marked)

    def compose(self) -> ComposeResult:
        noun = "message" if self.count == 1 else "messages"
        yield Checkbox(f"Marked only ({self.count:,} marked {noun})", id="export-marked",
                       compact=True, disabled=not self.count)
        yield Label("context", classes="export-context-label")
        yield Input("0", id="export-context", restrict=r"[0-9]*", max_length=4, compact=True,
                    tooltip=f"messages before and after each marked one (0 to {MAX_CONTEXT})")

    @property
    def only(self) -> bool:
        return self.query_one("#export-marked", Checkbox).value

    def context(self) -> int | None:
        """The context typed, or None when it is out of range."""
        text = self.query_one("#export-context", Input).value.strip() or "0"
        value = int(text)
        return value if 0 <= value <= MAX_CONTEXT else None

    def marks(self) -> MarkSet | None:
        """What the job gets: the notes, and a context when only the marked are to be written;
        None when the context is out of range (the dialog says so)."""
        if not self.only:
            return self.base
        context = self.context()
        return None if context is None else replace(self.base, context=context)

    @on(Checkbox.Changed, "#export-marked")
    def _ticked(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.post_message(self.Changed())
