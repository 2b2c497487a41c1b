"""The marked messages of a window, with context: what ``--marked [--context N]`` and the export
dialog's "marked only" write, and the notes every format carries.

:class:`MarkSet` is what the caller read from the marks store (``settings.marks``, which this
layer does not import): MsgKey → MsgTimeStamp of each marked message, MsgKey → note, and the
context asked for (None: the whole window, notes still written). :func:`select` cuts the
fetched window down to the marked messages and ``context`` messages on each side of each (runs
that touch are joined), in the window's order, and says what it did in a :class:`Selection`:
how many of how many messages, and which marked messages of the window the service did not
return (named in the provenance, never dropped in silence).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from roamtui.im.model import Message

#: Context asked for on the command line is capped here: more is a window, not a selection.
MAX_CONTEXT = 1000
#: MsgKeys named in the provenance's line about marked messages that were not returned.
NAMED_MISSING = 20


class Window(Protocol):
    """The window's ends (an ``im.roam.RoamQuery``)."""

    @property
    def min_time(self) -> int: ...
    @property
    def max_time(self) -> int: ...


@dataclass(frozen=True, slots=True)
class MarkSet:
    """The marks and notes of one side of a conversation, as plain data."""

    marked: Mapping[str, int] = field(default_factory=dict)  # MsgKey -> MsgTimeStamp
    notes: Mapping[str, str] = field(default_factory=dict)  # MsgKey -> note (untrusted)
    #: Messages of context on each side of each marked one; None: not a selection.
    context: int | None = None


@dataclass(frozen=True, slots=True)
class Selection:
    """What a selection export holds, for its provenance."""

    selected: int  # messages written
    total: int  # messages of the window that were fetched (or loaded)
    marked: int  # marked messages among them
    context: int
    complete: bool  # the window was fetched whole: a marked message not in it was not returned
    #: Marked messages of the window that are not among the fetched ones: (MsgKey, time).
    absent: tuple[tuple[str, int], ...] = ()

    def describe(self) -> str:
        """One line: a selection, of how many of how many messages, never "the window"."""
        around = (f", with {self.context} message{'' if self.context == 1 else 's'} of context "
                  "before and after each" if self.context else "")
        scope = "window" if self.complete else "loaded part of the window"
        return (f"a selection of {self.selected:,} of the {self.total:,} messages of the "
                f"{scope}: the {self.marked:,} marked message{'' if self.marked == 1 else 's'}"
                f"{around}; not the whole window")

    def absent_text(self) -> str:
        """The marked messages not in the file and why; empty when there are none."""
        if not self.absent:
            return ""
        named = ", ".join(f"{key} ({_utc(t)})" for key, t in self.absent[:NAMED_MISSING])
        more = (f" and {len(self.absent) - NAMED_MISSING} more"
                if len(self.absent) > NAMED_MISSING else "")
        why = ("no longer returned by the service" if self.complete
               else "not loaded (the window was written partial)")
        return f"{len(self.absent):,} marked, {why}: {named}{more}"


def _utc(t: int) -> str:
    try:
        return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return f"@{t}"


def select(messages: Sequence[Message], marks: MarkSet, window: Window, *,
           complete: bool) -> tuple[list[Message], Selection]:
    """The marked messages of ``messages`` (the window, oldest first) and ``marks.context``
    messages on each side of each, in order, and what was selected."""
    context = max(0, min(MAX_CONTEXT, marks.context or 0))
    marked_at = [i for i, msg in enumerate(messages) if msg.key in marks.marked]
    keep = bytearray(len(messages))
    for i in marked_at:
        keep[max(0, i - context):i + context + 1] = b"\x01" * (
            min(len(messages), i + context + 1) - max(0, i - context))
    chosen = [msg for msg, kept in zip(messages, keep, strict=True) if kept]
    found = {messages[i].key for i in marked_at}
    lo, hi = window.min_time, window.max_time
    absent = tuple(sorted(((key, t) for key, t in marks.marked.items()
                           if key not in found and lo <= t <= hi), key=lambda kt: (kt[1], kt[0])))
    return chosen, Selection(len(chosen), len(messages), len(found), context, complete, absent)


def manifest_section(notes: Mapping[str, str], marked: Collection[str],
                     keys: Collection[str]) -> dict[str, Any]:
    """What a bundle's manifest says of the marks: the marked messages and the notes among the
    messages it holds (``keys``); empty when there are none. (A bundle is always the whole
    window: ``--marked`` is refused for it, so ``roamtui verify`` can check its pages.)"""
    held = set(keys)
    shown = {k: v for k, v in notes.items() if k in held}
    flagged = sorted(k for k in marked if k in held)
    return {"marks": {"marked": flagged, "notes": shown}} if shown or flagged else {}
