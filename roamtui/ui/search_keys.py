"""The keys of the search pane that pick messages by kind or sender, and what a filter change
tells the screen.

Jump by kind (``]``/``[`` recalled, ``}``/``{`` non-text, ``>``/``<`` one-sided) and the
filters (``!`` only recalled, ``@`` only the sender of the selected message; ``:filter …`` on
the browse screen, ``F`` opens it) are single keys: the transcript owns j k g G d D o O r x y
Y p e q and Enter, the screen q p P : t y Y e m a ' ", and reference/ux.md keeps u/U, c, i, J
and r/R for marks, copy, the histogram, raw JSON and repeated jumps.
"""

from __future__ import annotations

from typing import Protocol

from textual.binding import Binding
from textual.message import Message as TextualMessage

from roamtui.history.filters import MessageFilter
from roamtui.history.timeline import Timeline

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
)


class FilterChanged(TextualMessage, namespace="search"):
    """The filter in force changed; ``label`` is empty when none is."""

    def __init__(self, wanted: MessageFilter) -> None:
        super().__init__()
        self.filter = wanted
        self.label = wanted.label()


def sender_toggled(current: MessageFilter, sender: str | None) -> MessageFilter:
    """``@``: only ``sender``'s messages, or anyone's again when that is the filter already."""
    if sender is None or current.senders == (sender,):
        return current.from_sender(None)
    return current.from_sender(sender)


class Swapped(Protocol):  # what Transcript.TimelineSwapped carries (handled by its name)
    timeline: Timeline
