"""``txt``: for people. A provenance header, a rule, then one line per message with fixed
columns: time in the chosen zone (ISO 8601), sender → receiver, MsgKey, ``RECALLED`` mark,
``READ`` mark (the receiver sent a read receipt: IsPeerRead), content. The messages a merged
forward carries follow on lines of their own under the content column, behind a ``│`` per
level, each with its date, time and sender (:mod:`roamtui.export.body`). When the export
carries marks, a ``MARKED`` column flags the marked messages, and the agent's note on a message
follows it on a line of its own (``NOTE: …``, made inert like the content).

Line breaks inside a message show as ``⏎``, tabs as ``␉``; every other control, bidi control,
zero-width or other invisible format character and lone surrogate is made visible
(:func:`roamtui.text.file_text`: ``pay<U+200B>pal.com``), as the transcript shows them.

Read from both sides (``--sides both``), a column after the marks says ``ONLY <account>`` for
a message only one side's history holds (blank: both hold it), as the transcript's badge.
"""

from __future__ import annotations

from collections.abc import Iterable

from roamtui.atomicfile import TextSink
from roamtui.export.provenance import (
    MARKED_MARK,
    READ_MARK,
    RECALLED_MARK,
    ExportMeta,
    header_rows,
    message_rows,
)
from roamtui.history.timeparse import zone_name
from roamtui.im.model import Message
from roamtui.text import file_text

TITLE = "Conversation export (read-only copy of Tencent Cloud IM roaming messages)"


def _inline(text: str) -> str:
    return file_text(text, " ⏎ ", "␉")


def only_mark(held_by: str) -> str:
    """``ONLY cust_1001`` for a message one side holds; "" for both (or one side read)."""
    return "" if held_by in ("", "both") else "ONLY " + file_text(held_by, " ", " ")


def write_txt(messages: Iterable[Message], meta: ExportMeta, out: TextSink) -> int:
    """A header for people, then one line per message; returns the message count."""
    rows, kinds = message_rows(messages, meta.tz, meta.held_by)
    fields = header_rows(meta, rows, kinds)
    width = max(len(row[0]) for row in fields) + 2
    out.write(TITLE + "\n")
    for label, *values in fields:
        out.write(f"{(label[0].upper() + label[1:] + ':').ljust(width)}")
        joint = " .. " if label.startswith("window") else " = "
        out.write(joint.join(_inline(v) for v in values) + "\n")
    zone = zone_name(meta.tz)
    out.write(f"{'Columns:'.ljust(width)}time ({zone}) · sender → receiver · MsgKey · "
              f"{RECALLED_MARK} mark · {READ_MARK} mark (read receipt) · "
              + (f"{MARKED_MARK} mark · " if meta.marked else "")
              + ("ONLY <account> (held by one side) · " if meta.held_by is not None else "")
              + "content; forwarded messages indented below"
              + ("; NOTE: the note on the message above" if meta.notes else "") + "\n")
    out.write("=" * 78 + "\n")
    if not rows:
        out.write("(no messages in this window)\n")
        return 0
    parties = [f"{file_text(x.sender, ' ', ' ')} → {file_text(x.receiver, ' ', ' ')}"
               for x in rows]
    keys = [file_text(x.key, " ", " ") for x in rows]
    party_w = max(len(p) for p in parties)
    key_w = max(len(k) for k in keys)
    mark_w = len(RECALLED_MARK) if any(x.recalled for x in rows) else 0
    read_w = len(READ_MARK) if any(x.read for x in rows) else 0
    marked_w = len(MARKED_MARK) if meta.marked else 0
    only = [only_mark(x.held_by) for x in rows]
    only_w = max(len(o) for o in only)
    for row, party, key, held in zip(rows, parties, keys, only, strict=True):
        cols = [row.time, party.ljust(party_w), key.ljust(key_w)]
        if mark_w:
            cols.append((RECALLED_MARK if row.recalled else "").ljust(mark_w))
        if read_w:
            cols.append((READ_MARK if row.read else "").ljust(read_w))
        if marked_w:
            cols.append((MARKED_MARK if row.key in meta.marked else "").ljust(marked_w))
        if only_w:
            cols.append(held.ljust(only_w))
        lead = "  ".join(cols) + "  "
        out.write((lead + _inline(row.content)).rstrip() + "\n")
        margin = " " * len(lead)
        for line in row.forwarded:
            out.write((margin + _inline(line)).rstrip() + "\n")
        note = meta.notes.get(row.key)
        if note:
            out.write((margin + "NOTE: " + _inline(note)).rstrip() + "\n")
    return len(rows)
