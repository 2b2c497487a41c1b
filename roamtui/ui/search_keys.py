"""The keys of the search pane that pick messages by kind or sender, and what a filter change
tells the screen.

Jump by kind (``]``/``[`` recalled, ``}``/``{`` non-text, ``>``/``<`` one-sided) and the
filters (``!`` only recalled, ``%`` only one-sided, ``@`` only the sender of the selected
message; ``:filter …`` on the browse screen, ``F`` opens it) are single keys: the transcript
owns j k g G d D o O r x y Y p e q and Enter, the screen q p P : t y Y e m a ' ", and
reference/ux.md keeps u/U, c, i, J and r/R for marks, copy, the histogram, raw JSON and
repeated jumps.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from textual.binding import Binding
from textual.message import Message as TextualMessage

from roamtui.history.filters import FilterError, MessageFilter, parse_filter
from roamtui.history.timeline import Timeline
from roamtui.im.model import Message

if TYPE_CHECKING:
    from roamtui.ui.search_controller import SearchPane

KIND_KEYS = (("right_square_bracket", "recalled", True, "Next recalled message"),
             ("left_square_bracket", "recalled", False, "Previous recalled message"),
             ("right_curly_bracket", "non_text", True, "Next non-text element"),
             ("left_curly_bracket", "non_text", False, "Previous non-text element"),
             ("greater_than_sign", "one_sided", True, "Next one-sided message"),
             ("less_than_sign", "one_sided", False, "Previous one-sided message"))

FILTER_BINDINGS = (
    Binding("exclamation_mark", "filter_kind('recalled')", "Only recalled (again: all)",
            show=False),
    Binding("at", "filter_sender", "Only this sender (again: all)", show=False),
    Binding("percent_sign", "filter_kind('one-sided')", "Only one-sided (again: all)",
            show=False),
)


class FilterChanged(TextualMessage, namespace="search"):
    """The filter in force, or whether its view is shown, changed; ``label`` is empty when
    none is in force. Out of its view (Esc) the filter still steers n/N and the counter, and
    the label says how to see the list again, so a whole transcript is not read as filtered."""

    def __init__(self, wanted: MessageFilter, *, listed: bool = True) -> None:
        super().__init__()
        self.filter = wanted
        label = wanted.label()
        self.label = label if listed or not label else f"{label} (n/N; & lists)"


def sender_toggled(current: MessageFilter, sender: str | None) -> MessageFilter:
    """``@``: only ``sender``'s messages, or anyone's again when that is the filter already."""
    if sender is None or current.senders == (sender,):
        return current.from_sender(None)
    return current.from_sender(sender)


def toggle_kind(pane: SearchPane, kind: str) -> None:
    """``!``: only messages of ``kind`` (again: all of them)."""
    pane.set_filter(pane.session.filter.toggled(kind))


def toggle_sender(pane: SearchPane, cursor: Message | None) -> None:
    """``@``: only the messages of the selected one's sender (in the filter view, the one
    selected there; else the transcript's cursor); again: everyone's."""
    message = (pane.filter_view.selected_message if pane.filtering else None) or cursor
    pane.set_filter(sender_toggled(pane.session.filter, message.sender if message else None))


def filter_command(pane: SearchPane, argument: str,
                   parties: Mapping[str, str] | None = None) -> str | None:
    """``:filter ARGUMENT`` (``history.filters.parse_filter``, ``from`` one of ``parties``:
    account -> nickname); the one-line reason when it cannot be read (nothing changes then)."""
    try:
        wanted = parse_filter(argument, pane.session.filter, parties)
    except FilterError as exc:
        return str(exc)
    pane.set_filter(wanted)
    return None


class Swapped(Protocol):  # what Transcript.TimelineSwapped carries (handled by its name)
    timeline: Timeline
