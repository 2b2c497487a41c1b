"""What the transcript tells the screen around it (every message bubbles).

Read them as ``Transcript.CursorMoved`` and so on (the widget names each of them); handlers
are ``on_transcript_cursor_moved`` and the like, or ``@on(Transcript.CursorMoved)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message as TextualMessage

from roamtui.im.errors import RoamError
from roamtui.im.model import Message

if TYPE_CHECKING:
    from roamtui.history.timeline import Timeline


class CursorMoved(TextualMessage, namespace="transcript"):
    """The selected message (or, without one, the viewed position) changed.

    ``at`` is the position's Unix time: the message's, or without one that of the first
    message on screen (None when nothing is loaded).
    """

    def __init__(self, message: Message | None, at: int | None) -> None:
        super().__init__()
        self.message = message
        self.at = at

    def can_replace(self, message: TextualMessage) -> bool:
        return isinstance(message, CursorMoved)


class StatsChanged(TextualMessage, namespace="transcript"):
    """Loaded and recalled counts, completeness, API calls and gaps changed."""

    def __init__(self, loaded: int, recalled: int, complete: bool, calls: int,
                 in_flight: int, gaps: int, one_sided: int | None = None) -> None:
        super().__init__()
        self.one_sided = one_sided  # None: one side is read
        self.loaded = loaded
        self.recalled = recalled
        self.complete = complete
        self.calls = calls
        self.in_flight = in_flight
        self.gaps = gaps

    def can_replace(self, message: TextualMessage) -> bool:
        return isinstance(message, StatsChanged)


class LoadFailed(TextualMessage, namespace="transcript"):
    """A fetch failed; its gap shows the error and ``r`` retries it."""

    def __init__(self, error: RoamError) -> None:
        super().__init__()
        self.error = error


class InspectRequested(TextualMessage, namespace="transcript"):
    """Enter on a message: show its details."""

    def __init__(self, message: Message) -> None:
        super().__init__()
        self.message = message


class TimelineSwapped(TextualMessage, namespace="transcript"):
    """The transcript shows another timeline now (``swap_timeline``: the other side, or a new
    query); whatever follows the transcript's timeline (the search) follows this one."""

    def __init__(self, timeline: Timeline) -> None:
        super().__init__()
        self.timeline = timeline
