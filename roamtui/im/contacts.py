"""v4/recentcontact/get_list: an account's one-to-one conversations, paged to the end.

The same :class:`~roamtui.im.client.ImClient` as admin_getroammsg makes the calls (limiter,
deadline, retries, re-signing, redaction, error table). A page answers with ``SessionItem``
(``Type`` 1: a peer in ``To_Account``; 2: a group, not ours to read), ``CompleteFlag`` and four
cursors the next call sends back as they came (``TimeStamp``/``StartIndex`` for ordinary,
``TopTimeStamp``/``TopStartIndex`` for pinned conversations). What they mean inside is the
service's business (``docs/profile-and-contacts.md``), so they are only ever echoed.

Nothing on one page can prove the service honest, so the walk is bounded like
:mod:`roamtui.im.guard` bounds the roaming one: a cursor the walk has sent before, handed back
while ``CompleteFlag`` stays 0, is refused at once (the next call would repeat a page forever);
so are :data:`STALL_PAGES` pages in a row that bring nothing new, more than :data:`MAX_PAGES`
pages, or more than :data:`MAX_CONVERSATIONS` conversations (the service keeps a few hundred).
Each stop is one ProtocolError line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from roamtui.im.errors import ProtocolError
from roamtui.im.roam import RoamCaller

API = "v4/recentcontact/get_list"
#: Bit 0 pinned conversations apart, bit 1 empty conversations too, bit 2 pinned ones paged
#: (the documented bits; newer pages of the docs say 15 or 63 "to get everything").
ASSIST_FLAGS = 7
#: Pages a walk may take: the service keeps at most a few hundred conversations an account.
MAX_PAGES = 200
#: Conversations a walk may collect before it is stopped (memory stays bounded).
MAX_CONVERSATIONS = 20_000
#: Pages in a row without a conversation not seen before, while the list says it goes on.
STALL_PAGES = 3
#: Seconds before a conversation's last message its window opens (``roamtui peers`` hints, the
#: query screen's list): the last exchange, whole, and where it stands in the day.
LOOKBACK = 86_400
#: Bytes of a UserID; a To_Account past it is not an account.
MAX_ACCOUNT_BYTES = 128

_CURSOR_FIELDS = ("TimeStamp", "StartIndex", "TopTimeStamp", "TopStartIndex")


@dataclass(frozen=True, slots=True)
class ListCursor:
    """Where the next page starts, as the service handed it out (all 0: the first page)."""

    time_stamp: int = 0
    start_index: int = 0
    top_time_stamp: int = 0
    top_start_index: int = 0

    def fields(self) -> dict[str, int]:
        return dict(zip(_CURSOR_FIELDS, (self.time_stamp, self.start_index,
                                         self.top_time_stamp, self.top_start_index),
                        strict=True))


FIRST = ListCursor()


@dataclass(frozen=True, slots=True)
class Conversation:
    """One one-to-one conversation of the account: the peer and the time of its last message
    (0: the service lists it without a message)."""

    peer: str
    last_time: int
    pinned: bool = False

    def since_text(self, tz: tzinfo) -> str | None:
        """Where its window opens, :data:`LOOKBACK` before the last message, as ISO 8601 with
        the UTC offset (``2020-03-19T10:40+08:00``: reads back the same in any zone); None
        when it has no message."""
        if not self.last_time:
            return None
        start = datetime.fromtimestamp(max(0, self.last_time - LOOKBACK), tz)
        return start.isoformat(timespec="minutes")


@dataclass(frozen=True, slots=True)
class ContactPage:
    conversations: tuple[Conversation, ...]  # one-to-one entries, in the reply's order
    groups: int  # Type 2 entries (group conversations), skipped
    complete: bool
    next: ListCursor  # what the next call sends (meaningless when complete)


@dataclass(frozen=True, slots=True)
class ConversationList:
    """An account's one-to-one conversations, newest first, and what it took to list them."""

    account: str
    conversations: tuple[Conversation, ...]
    pages: int
    groups: int  # group conversations the list held (not shown)
    skipped: int = 0  # one-to-one conversations left out by ``since``


def build_body(account: str, cursor: ListCursor = FIRST, flags: int = ASSIST_FLAGS
               ) -> dict[str, Any]:
    return {"From_Account": account, **cursor.fields(), "AssistFlags": flags}


def _bad(what: str) -> ProtocolError:
    return ProtocolError(f"malformed recentcontact/get_list reply: {what}")


def _whole(doc: Mapping[str, Any], name: str, default: int | None = None) -> int:
    value = doc.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        state = "missing" if value is None else "not a non-negative integer"
        raise _bad(f"{name} is {state}")
    return value


def _conversation(item: Mapping[str, Any]) -> Conversation:
    peer = item.get("To_Account")
    if not isinstance(peer, str) or not peer or len(peer.encode("utf-8", "surrogatepass")) > (
        MAX_ACCOUNT_BYTES
    ):
        raise _bad("a one-to-one item has no To_Account a UserID could be")
    top = _whole(item, "TopFlag", 0)
    return Conversation(peer, _whole(item, "MsgTime", 0), top == 1)


def parse_page(reply: object) -> ContactPage:
    """One reply read (ProtocolError when it cannot be)."""
    if not isinstance(reply, dict):
        raise _bad(f"the reply is a {type(reply).__name__}, not an object")
    complete = _whole(reply, "CompleteFlag")
    if complete not in (0, 1):
        raise _bad(f"CompleteFlag is {complete}, not 0 or 1")
    items = reply.get("SessionItem", [])
    if items is None:
        items = []
    if not isinstance(items, list):
        raise _bad("SessionItem is not a list")
    found: list[Conversation] = []
    groups = 0
    for item in items:
        if not isinstance(item, dict):
            raise _bad("an item of SessionItem is not an object")
        kind = _whole(item, "Type")
        if kind == 1:
            found.append(_conversation(item))
        else:
            groups += 1  # 2 is a group; any other type is not a one-to-one conversation either
    if complete:
        return ContactPage(tuple(found), groups, True, FIRST)
    cursor = ListCursor(*(_whole(reply, name) for name in _CURSOR_FIELDS))
    return ContactPage(tuple(found), groups, False, cursor)


async def fetch_page(client: RoamCaller, account: str, cursor: ListCursor = FIRST
                     ) -> ContactPage:
    return parse_page(await client.call(API, build_body(account, cursor)))


async def fetch_conversations(
    client: RoamCaller,
    account: str,
    *,
    since: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ConversationList:
    """Every one-to-one conversation of ``account`` whose last message is at or after ``since``
    (all without it), newest first; ``progress(pages, conversations)`` after each page.

    A RoamError of a call is raised as it is; a walk the guards stop is a ProtocolError.
    """
    latest: dict[str, Conversation] = {}
    sent: set[ListCursor] = {FIRST}
    cursor = FIRST
    groups = pages = stalled = 0
    while True:
        if pages >= MAX_PAGES:
            raise ProtocolError(
                f"recentcontact/get_list kept paging past {MAX_PAGES} pages "
                f"({len(latest)} conversations); stopped — the service's paging looks broken"
            )
        page = await fetch_page(client, account, cursor)
        pages += 1
        groups += page.groups
        fresh = 0
        for conv in page.conversations:
            known = latest.get(conv.peer)
            if known is None:
                fresh += 1
            if known is None or conv.last_time > known.last_time:
                latest[conv.peer] = Conversation(
                    conv.peer, conv.last_time, conv.pinned or (known is not None and known.pinned)
                )
        if len(latest) > MAX_CONVERSATIONS:
            raise ProtocolError(
                f"recentcontact/get_list listed more than {MAX_CONVERSATIONS:,} conversations; "
                "stopped"
            )
        if progress is not None:
            progress(pages, len(latest))
        if page.complete:
            break
        if page.next in sent:
            raise ProtocolError(
                "recentcontact/get_list handed back a cursor it had already been sent while "
                "CompleteFlag stays 0; stopped instead of asking for the same page again"
            )
        stalled = 0 if fresh else stalled + 1
        if stalled >= STALL_PAGES:
            raise ProtocolError(
                f"recentcontact/get_list returned {STALL_PAGES} pages in a row with nothing "
                "new while CompleteFlag stays 0; stopped instead of looping"
            )
        sent.add(page.next)
        cursor = page.next
    chosen = [c for c in latest.values() if since is None or c.last_time >= since]
    chosen.sort(key=lambda c: (-c.last_time, c.peer))
    return ConversationList(account, tuple(chosen), pages, groups, len(latest) - len(chosen))
