"""``jsonl``: one message per line, oldest first, each line the message object exactly as the
service returned it (``Message.raw_json``: every field, unknown ones too).

NEL, U+2028/U+2029 and lone surrogates are written as ``\\uXXXX`` escapes: the same JSON value,
but no line splitter cuts the line and the file stays valid UTF-8. No header: the provenance
goes to stderr (``roamtui export``) or the notice (the TUI).
"""

from __future__ import annotations

from collections.abc import Iterable

from roamtui.atomicfile import TextSink
from roamtui.export.provenance import ExportMeta
from roamtui.im.model import Message
from roamtui.text import json_escape


def json_line(msg: Message) -> str:
    """The message object as received, as one line of JSON text (no newline)."""
    return json_escape(msg.raw_json, line_safe_only=True)


def write_jsonl(messages: Iterable[Message], out: TextSink) -> int:
    """One message per line, in the order given (oldest first); returns the count."""
    n = 0
    for msg in messages:
        out.write(json_line(msg))
        out.write("\n")
        n += 1
    return n


def write(messages: Iterable[Message], meta: ExportMeta, out: TextSink) -> int:
    """The registry's writer: jsonl carries no header, so ``meta`` is not written."""
    return write_jsonl(messages, out)
