"""``rsmf_manifest.json`` (RSMF 2.0): participants, the conversation, one event per message.

- **participants**: the account whose history was read (the custodian), the peer, then anyone
  else a message names, in the order they first appear; ``id`` is the account, ``display`` its
  nickname when :attr:`ExportMeta.names` knows it, else the account again.
- **one conversation**: ``type: "direct"``, ``platform`` :data:`PLATFORM`, ``custodian`` the
  account whose history was read, ``participants`` everyone above.
- **one event per message**, in order: ``type: "message"``, ``id`` = MsgKey, ``participant`` =
  the sender, ``timestamp`` ISO 8601 with the export zone's offset, ``body`` = the text with
  placeholders exactly as ``txt`` shows it (:mod:`roamtui.export.body`), ``direction`` outgoing
  when the custodian sent it, ``deleted: true`` for a recalled message, ``read_receipts`` (the
  receiver, ``read``) when the service says ``IsPeerRead``, and ``custom`` name/value pairs for
  MsgSeq, MsgRandom, MsgFlagBits, MsgTimeStamp and CloudCustomData (when not empty).

**Merged forwards are body text, not events of their own.** The messages a forward carries were
sent earlier, often between other people, in another conversation: as events they would enter
this conversation at their old times (out of order, outside the slice's dates, counted in
``X-RSMF-EventCount``), bring in participants who never took part in it, and need ids the
service does not give them (a forwarded message's MsgKey is not unique across forwards). RSMF's
``parent`` is for replies in a thread, which a forward is not. As the body of the message that
forwarded them, each on its own indented line with its time and sender, they read as the
custodian saw them: one message holding a quoted conversation. The event's ``custom``
``ForwardedMessages`` says how many it carries.

Untrusted text stays data: the manifest is written by :mod:`json` with every non-ASCII and
control character as a ``\\uXXXX`` escape, so no byte of it can act on a viewer; the text
itself is kept as the service returned it (evidence).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from roamtui.export.body import body_lines, joined
from roamtui.export.provenance import ExportMeta, iso_time
from roamtui.im.model import Message

VERSION = "2.0.0"
PLATFORM = "Tencent Cloud IM"
#: Stands in for a missing account (RSMF ids must not be empty).
NO_ACCOUNT = "(no account)"

Json = dict[str, Any]


def _pid(account: str) -> str:
    return account or NO_ACCOUNT


def conversation_id(meta: ExportMeta) -> str:
    """The conversation's id: the same in every slice of one export, and across exports of
    the same pair from the same side."""
    return f"c2c:{_pid(meta.account)}:{_pid(meta.peer)}"


def collection_id(meta: ExportMeta) -> str:
    """``eventcollectionid``: what keeps the slices of one export together in a review
    platform; derived from the pair and the whole window, so a re-export gives the same."""
    lo, hi = meta.whole or (meta.min_time, meta.max_time)
    seed = "\0".join((meta.account, meta.peer, str(lo), str(hi)))
    return "roamtui-" + hashlib.sha256(seed.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def participant_ids(messages: Iterable[Message], meta: ExportMeta) -> list[str]:
    """The custodian, the peer, then every other account a message names, first seen first."""
    ids = dict.fromkeys((_pid(meta.account), _pid(meta.peer)))
    for msg in messages:
        ids.setdefault(_pid(msg.sender))
        ids.setdefault(_pid(msg.receiver))
    return list(ids)


def _custom(pairs: Iterable[tuple[str, str]]) -> list[Json]:
    return [{"name": name, "value": value} for name, value in pairs if value]


def event(msg: Message, meta: ExportMeta, conversation: str) -> Json:
    """The message event of one message."""
    ev: Json = {"type": "message"}
    if msg.key:
        ev["id"] = msg.key
    ev["participant"] = _pid(msg.sender)
    ev["conversation"] = conversation
    when = iso_time(msg.time, meta.tz)
    if not when.startswith("@"):  # outside the calendar: only the custom MsgTimeStamp says it
        ev["timestamp"] = when
    lines = body_lines(msg)
    ev["body"] = joined(lines, meta.tz)
    ev["direction"] = "outgoing" if msg.sender == meta.account else "incoming"
    if msg.recalled:
        ev["deleted"] = True
    if msg.is_peer_read:
        ev["read_receipts"] = [{"participant": _pid(msg.receiver), "action": "read"}]
    forwarded = sum(1 for line in lines[1:] if line.time is not None)
    ev["custom"] = _custom((
        ("MsgSeq", str(msg.seq)), ("MsgRandom", str(msg.random)),
        ("MsgFlagBits", str(msg.flag_bits)), ("MsgTimeStamp", str(msg.time)),
        ("CloudCustomData", msg.cloud_custom_data),
        ("ForwardedMessages", str(forwarded) if forwarded else ""),
        ("Marked", "true" if msg.key in meta.marked else ""),
        ("Note", meta.notes.get(msg.key, "")),  # the agent's note, as typed (JSON-escaped)
    ))
    return ev


def manifest(messages: Sequence[Message], meta: ExportMeta) -> Json:
    """The manifest of one file: these messages, from this export's provenance."""
    ids = participant_ids(messages, meta)
    conv = conversation_id(meta)
    state = "complete" if meta.complete else "PARTIAL: messages may be missing"
    chosen = meta.selection
    if chosen is not None:
        state += f"; this file holds only a selection of {chosen.selected:,} of {chosen.total:,}"
    conversation: Json = {
        "id": conv,
        "display": f"{meta.display(meta.account)} ⇄ {meta.display(meta.peer)}",
        "platform": PLATFORM,
        "type": "direct",
        "participants": ids,
        "custodian": ids[0],
        "custom": _custom((
            ("Window", f"{iso_time(meta.min_time, meta.tz)} .. {iso_time(meta.max_time, meta.tz)}"),
            ("Completeness", state), ("Source", meta.source), ("Slice", meta.part),
            ("Selection", chosen.describe() if chosen is not None else ""),
            ("MarkedAbsent", chosen.absent_text() if chosen is not None else ""),
        )),
    }
    return {
        "version": VERSION,
        "eventcollectionid": collection_id(meta),
        "participants": [{"id": p, "display": meta.display(p), "account_id": p} for p in ids],
        "conversations": [conversation],
        "events": [event(msg, meta, conv) for msg in messages],
    }


def manifest_bytes(doc: Json) -> bytes:
    """The manifest as ASCII JSON: every non-ASCII or control character a ``\\u`` escape."""
    return json.dumps(doc, ensure_ascii=True, separators=(",", ":")).encode("ascii")
