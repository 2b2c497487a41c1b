"""A message's body as plain text lines: the one rendering every export format shares.

A message's content is its elements' display text in order, non-text elements as the one-line
placeholders of PRODUCT.md §4 (``[image 1280×720 310 KB]``), exactly what ``txt`` prints.
A merged forward (``TIMRelayElem``) carries the messages it forwards; they follow their
parent as lines of their own, one per forwarded message, each with its own time and sender and
one level deeper per forward it sits in, so a reader of any export sees what was forwarded
rather than only its title and count. A forward whose messages the service kept apart
(``JsonMsgKey``, large forwards) says so in a line of its own instead of staying silent.

Everything here is still untrusted text (line breaks kept): each writer makes it safe for its
medium — :func:`roamtui.text.file_text` for csv and txt, JSON for RSMF, HTML escaping for HTML.
:func:`body_lines` is the structure (for writers that lay lines out themselves);
:func:`plain_text` the whole body as one text with the forwarded lines indented (a csv cell, an
RSMF event body). Bounded: at most :data:`MAX_DEPTH` forwards deep and :data:`MAX_LINES`
forwarded lines per message; what is cut is said.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from roamtui.im.model import Message, RelayElem

#: Forwards nested deeper than this are summarised, not expanded.
MAX_DEPTH = 8
#: Forwarded lines shown under one message at most (the rest counted in one line).
MAX_LINES = 2_000
#: What an indented line starts with, once per level (as the transcript's gutter).
INDENT = "│ "
RECALLED_EMPTY = "(recalled; the service returned no content)"
NO_CONTENT = "(no content)"
_FORWARD_TIME = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True, slots=True)
class BodyLine:
    """One line of a body: the message's own content (depth 0), or a forwarded message."""

    depth: int  # 0: the message itself; n: inside n merged forwards
    text: str  # untrusted; may hold line breaks
    time: int | None = None  # a forwarded message's MsgTimeStamp (None: no message of its own)
    sender: str = ""  # a forwarded message's From_Account
    key: str = ""  # a forwarded message's MsgKey, when it has one


def content(msg: Message) -> str:
    """The message's content: text and placeholders; a stand-in when it has no elements."""
    if not msg.elements:
        return RECALLED_EMPTY if msg.recalled else NO_CONTENT
    return msg.text()


def body_lines(msg: Message) -> list[BodyLine]:
    """The content line, then every forwarded message (depth first, in order)."""
    lines = [BodyLine(0, content(msg))]
    _forwarded(msg, 1, lines)
    return lines


def _forwarded(msg: Message, depth: int, out: list[BodyLine]) -> None:
    for elem in msg.elements:
        if not isinstance(elem, RelayElem):
            continue
        if depth > MAX_DEPTH:
            out.append(BodyLine(depth, f"(a forward nested more than {MAX_DEPTH} deep: "
                                       "not expanded)"))
            continue
        if not elem.messages:
            if elem.msg_num > 0:
                out.append(BodyLine(depth, f"({elem.msg_num} forwarded messages not included: "
                                           "the service keeps large forwards apart)"))
            continue
        for inner in elem.messages:
            if len(out) > MAX_LINES:
                out.append(BodyLine(depth, "(more forwarded messages not shown)"))
                return
            out.append(BodyLine(depth, content(inner), inner.time, inner.sender, inner.key))
            _forwarded(inner, depth + 1, out)


def forward_head(line: BodyLine, tz: tzinfo) -> str:
    """``2020-03-19 09:00:05 carol: `` for a forwarded message, in the export's zone; empty for
    a line that is not a message (the sender is untrusted text: the writer sanitises it)."""
    if line.time is None:
        return ""
    try:
        when = datetime.fromtimestamp(line.time, tz).strftime(_FORWARD_TIME)
    except (OverflowError, ValueError, OSError):
        when = f"@{line.time}"
    return f"{when} {line.sender}: "


def layout(lines: Sequence[BodyLine], tz: tzinfo) -> list[str]:
    """Forwarded lines as text: each behind one :data:`INDENT` per level, with its head; its
    own line breaks continue under the same gutter (one string per physical line)."""
    out: list[str] = []
    for line in lines:
        gutter = INDENT * line.depth
        first, *rest = line.text.replace("\r\n", "\n").split("\n")
        out.append(gutter + forward_head(line, tz) + first)
        out.extend(gutter + more for more in rest)
    return out


def forwarded_lines(msg: Message, tz: tzinfo) -> list[str]:
    """The lines under the content: every forwarded message, laid out (:func:`layout`)."""
    return layout(body_lines(msg)[1:], tz)


def joined(lines: Sequence[BodyLine], tz: tzinfo) -> str:
    """:func:`body_lines` as one text: the content, then the forwarded lines."""
    return "\n".join((lines[0].text, *layout(lines[1:], tz)))


def plain_text(msg: Message, tz: tzinfo) -> str:
    """The whole body as one text: the content, then :func:`forwarded_lines`."""
    return joined(body_lines(msg), tz)
