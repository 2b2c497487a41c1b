"""What an export says about itself: where the records came from, the window, the fetch, and the
one row per message that the formats for people (csv, txt) print.

:class:`ExportMeta` is built once per export by the job (:meth:`ExportJob.provenance`) and read
by every writer; :func:`header_rows` and :func:`message_rows` are the shared parts of the csv and
txt layouts, so both tell a reader the same things in the same words.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from types import MappingProxyType
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from roamtui import __version__
from roamtui.export.body import body_lines, content, layout
from roamtui.export.selection import Selection
from roamtui.history.timeparse import zone_name
from roamtui.im.model import Message, RelayElem
from roamtui.im.profile import party_label
from roamtui.im.roam import API

if TYPE_CHECKING:
    from roamtui.im.client import Connection

RECALLED_MARK = "RECALLED"
#: The receiver sent a read receipt for the message (IsPeerRead).
MARKED_MARK = "MARKED"
READ_MARK = "READ"
_KIND_NAMES = {
    "TIMTextElem": "text", "TIMLocationElem": "location", "TIMFaceElem": "face",
    "TIMCustomElem": "custom", "TIMSoundElem": "voice", "TIMImageElem": "image",
    "TIMFileElem": "file", "TIMVideoFileElem": "video", "TIMRelayElem": "merged forward",
}
_NO_NAMES: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class ExportMeta:
    """Provenance printed in the csv and txt headers (and the other formats' own)."""

    account: str  # whose history was read (From_Account / Operator_Account)
    peer: str
    min_time: int  # the window, inclusive Unix seconds
    max_time: int
    tz: tzinfo  # the zone people read the times in
    fetched_at: int  # Unix seconds when the fetch finished
    pages: int  # admin_getroammsg replies that carried messages or ended a chain
    calls: int  # HTTP calls made, retries included
    complete: bool  # every page of the window was fetched
    source: str = ""  # endpoint, SDKAppID and admin: where the records came from
    note: str = ""  # why the window is partial, when it is
    #: Which slice of the window this file is ("2 of 3 of the window …"); empty: the whole.
    part: str = ""
    #: A slice's: the export's whole window (what keeps its slices together); None: this one.
    whole: tuple[int, int] | None = None
    #: Display names (nicknames) by account, when known; an account not here shows as itself.
    #: Untrusted text (portrait_get): each writer makes it inert for its format.
    names: Mapping[str, str] = field(default_factory=lambda: _NO_NAMES)
    #: The agent's notes by MsgKey (untrusted: typed, or a hand-edited file); every format
    #: for people writes them with their message.
    notes: Mapping[str, str] = field(default_factory=lambda: _NO_NAMES)
    #: MsgKeys of the marked messages (flagged in the formats for people).
    marked: frozenset[str] = frozenset()
    #: Set when the file holds a selection (the marked messages with context), not the window.
    selection: Selection | None = None
    #: Read from both sides (``--sides both``): MsgKey -> ``both`` or the account name of the
    #: only side holding it. None: one side (``account``'s) was read.
    held_by: Mapping[str, str] | None = None
    #: Both sides hold it, but the peer's object differs: MsgKey -> the peer's JSON as received.
    peer_objects: Mapping[str, str] = field(default_factory=lambda: _NO_NAMES)

    def display(self, account: str) -> str:
        """The name a person knows ``account`` by: its nickname when known, else the account."""
        return self.names.get(account) or account

    def party(self, account: str) -> str:
        """``nickname (account)`` for headers, or the account when its nickname is not known."""
        return party_label(self.names.get(account, ""), account)


def source_of(connection: Connection | None) -> str:
    """Endpoint (scheme, host, port, path only: never a query or user info), SDKAppID and
    admin: where the records came from."""
    if connection is None:
        return ""
    parts = urlsplit(connection.endpoint)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    endpoint = f"{parts.scheme}://{host}{parts.path}" if parts.scheme else ""
    return f"{endpoint} · SDKAppID {connection.sdkappid} · admin {connection.identifier}".strip(
        " ·"
    )


@dataclass(frozen=True, slots=True)
class MessageRow:
    """One message as the formats for people show it (text still untrusted: writers sanitise)."""

    time: str
    unix_time: int
    sender: str
    receiver: str
    recalled: bool
    read: bool  # IsPeerRead: the receiver sent a read receipt
    content: str  # the content (text and placeholders), line breaks kept
    key: str
    #: The messages its merged forwards carry, one indented line each (see export.body).
    forwarded: tuple[str, ...] = ()
    #: Read from both sides: ``both`` or the only holder's account; "" when one side was read.
    held_by: str = ""

    @property
    def full_text(self) -> str:
        """The content, then the forwarded messages on lines of their own."""
        return "\n".join((self.content, *self.forwarded))


def iso_time(ts: int, tz: tzinfo) -> str:
    """``2020-03-20T10:40:05+08:00``; ``@<ts>`` when outside the calendar."""
    try:
        return datetime.fromtimestamp(ts, tz).isoformat()
    except (OverflowError, ValueError, OSError):
        return f"@{ts}"


def kind_name(kind: str) -> str:
    return _KIND_NAMES.get(kind, kind or "unknown")


def message_rows(messages: Iterable[Message], tz: tzinfo,
                 held_by: Mapping[str, str] | None = None
                 ) -> tuple[list[MessageRow], Counter[str]]:
    """One row per message, in order, and how many elements of each kind they hold; with
    ``held_by`` (both sides read) each row says who holds its message."""
    rows: list[MessageRow] = []
    kinds: Counter[str] = Counter()
    for msg in messages:
        elements = msg.elements
        for e in elements:
            kinds[kind_name(e.kind)] += 1
        if any(isinstance(e, RelayElem) for e in elements):
            lines = body_lines(msg)
            text, forwarded = lines[0].text, tuple(layout(lines[1:], tz))
        else:
            text, forwarded = content(msg), ()
        held = "" if held_by is None else held_by.get(msg.key, "unknown")
        rows.append(MessageRow(iso_time(msg.time, tz), msg.time, msg.sender, msg.receiver,
                               msg.recalled, msg.is_peer_read, text, msg.key, forwarded, held))
    return rows, kinds


def _kinds_text(kinds: Counter[str]) -> str:
    text = kinds.pop("text", 0)
    parts = [f"text {text}"] if text else []
    parts.extend(f"{name} {n}" for name, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
    return ", ".join(parts) or "none"


def _in_zones(label: str, times: tuple[int, int], tz: tzinfo, zone: str) -> list[list[str]]:
    """The UTC row, and the zone's row only when it reads differently (not for UTC itself)."""
    utc = [iso_time(t, UTC) for t in times]
    local = [iso_time(t, tz) for t in times]
    return [[f"{label} UTC", *utc]] + ([[f"{label} {zone}", *local]] if local != utc else [])


def _once(label: str, utc: str, local: str) -> list[str]:
    """One value when the zone reads as UTC, else both (``X = Y`` in txt)."""
    return [label, utc] if local == utc else [label, utc, local]


def header_rows(
    meta: ExportMeta, rows: Sequence[MessageRow], kinds: Counter[str]
) -> list[list[str]]:
    """(label, value, …) rows shared by the csv and txt headers."""
    zone = zone_name(meta.tz)
    recalled = sum(1 for row in rows if row.recalled)
    state = "complete" if meta.complete else "PARTIAL"
    if not meta.complete:
        state += " — messages may be missing" + (f" ({meta.note})" if meta.note else "")
    chosen = meta.selection
    if chosen is not None:  # the window was fetched whole (or not); the file is never whole
        state = ("window fetched complete" if meta.complete else state) + "; this file holds "\
            f"only a selection of {chosen.selected:,} of {chosen.total:,} messages"
    fields = [
        ["export", f"roamtui {__version__}, {API}"],
        ["account", meta.party(meta.account)],
        ["peer", meta.party(meta.peer)],
        *_in_zones("window", (meta.min_time, meta.max_time), meta.tz, zone),
        _once("fetched at", iso_time(meta.fetched_at, UTC), iso_time(meta.fetched_at, meta.tz)),
        ["pages", str(meta.pages)],
        ["calls", str(meta.calls)],
        ["completeness", state],
        ["messages", str(len(rows)) if chosen is None
         else f"{len(rows)} (selected of {chosen.total:,})"],
        ["recalled", str(recalled)],
        ["read receipts", str(sum(1 for row in rows if row.read))],
        ["elements by type", _kinds_text(kinds)],
    ]
    if chosen is not None:
        fields.append(["selection", chosen.describe()])
        if chosen.absent:
            fields.append(["marked, absent", chosen.absent_text()])
    noted = sum(1 for row in rows if row.key in meta.notes)
    if meta.marked or noted:
        fields.append(["marked", str(sum(1 for row in rows if row.key in meta.marked))])
        fields.append(["notes", str(noted)])
    if meta.held_by is not None:
        both = sum(1 for row in rows if row.held_by == "both")
        mine = sum(1 for row in rows if row.held_by == meta.account)
        theirs = sum(1 for row in rows if row.held_by == meta.peer)
        fields += [
            ["sides read", "both: the account's and the peer's histories, merged by MsgKey"],
            ["held by both", str(both)],
            ["only in the account's", str(mine)],
            ["only in the peer's", str(theirs)],
        ]
    if meta.part:
        fields.append(["slice", meta.part])
    if meta.source:
        fields.append(["source", meta.source])
    return fields
