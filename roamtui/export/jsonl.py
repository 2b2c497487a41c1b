"""``jsonl``: one message per line, oldest first, each line the message object exactly as the
service returned it (``Message.raw_json``: every field, unknown ones too).

NEL, U+2028/U+2029 and lone surrogates are written as ``\\uXXXX`` escapes: the same JSON value,
but no line splitter cuts the line and the file stays valid UTF-8. No header: the provenance
goes to stderr (``roamtui export``) or the notice (the TUI).

Read from both sides (``--sides both``) each line is a wrapper, ``{"held_by": H, "message":
M}`` — and ``"peer_message": P`` when both hold it but the peer's object differs — with H
``both`` or the account name of the only holder, and M (and P) the service's object exactly
as received, its text copied byte for byte into the line. A wrapper, not a second file: the
side stays on the line it describes (no join by MsgKey to get wrong), one file keeps the
atomic write, the digest and the ``-o -`` / FIFO streaming of every other format, and a
reader told ``--sides both`` takes ``line["message"]`` to get the plain objects back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from roamtui.atomicfile import TextSink
from roamtui.export.provenance import ExportMeta
from roamtui.im.model import Message
from roamtui.text import json_escape


def json_line(msg: Message) -> str:
    """The message object as received, as one line of JSON text (no newline)."""
    return json_escape(msg.raw_json, line_safe_only=True)


def write_jsonl(messages: Iterable[Message], out: TextSink,
                held_by: Mapping[str, str] | None = None,
                peer_objects: Mapping[str, str] | None = None) -> int:
    """One message per line, in the order given (oldest first); returns the count. With
    ``held_by`` (both sides read), each line is the documented wrapper."""
    n = 0
    for msg in messages:
        if held_by is None:
            out.write(json_line(msg))
        else:
            held = json.dumps(held_by.get(msg.key, "unknown"), ensure_ascii=False)
            out.write(f'{{"held_by":{json_escape(held, line_safe_only=True)},'
                      f'"message":{json_line(msg)}')
            peer = None if peer_objects is None else peer_objects.get(msg.key)
            if peer is not None:
                out.write(f',"peer_message":{json_escape(peer, line_safe_only=True)}')
            out.write("}")
        out.write("\n")
        n += 1
    return n


def write(messages: Iterable[Message], meta: ExportMeta, out: TextSink) -> int:
    """The registry's writer: jsonl carries no header, so only ``meta``'s sides are used."""
    return write_jsonl(messages, out, meta.held_by, meta.peer_objects)
