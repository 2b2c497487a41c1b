"""admin_getroammsg: request bodies, validated pages, the continuation loop and the window fetch.

The service pages newest → oldest, each page oldest → newest, and continues a chain with
``MaxTime = LastMsgTime`` plus ``LastMsgKey`` (PRODUCT.md §3, tim-api.md §1.5). One chain is
strictly sequential, so :func:`fetch_window` runs many chains at once over disjoint ranges of
whole seconds (:mod:`roamtui.im.window`: as many as the limiter can feed).

Nothing may be skipped silently, so a page whose cursor is not its oldest message is refused
(the next call would jump over what lies between), and no fetch may run forever, so every
chain answers to the budgets of :mod:`roamtui.im.guard`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from roamtui.im.errors import ProtocolError
from roamtui.im.guard import ChainGuard, PagingGuard
from roamtui.im.model import Message, parse_message
from roamtui.im.pagelog import PageRecord

API = "v4/openim/admin_getroammsg"

FieldNaming = Literal["from-to", "operator-peer"]

#: Request field names of the two parties, per naming generation of the service docs.
PARTY_FIELDS: Mapping[str, tuple[str, str]] = {
    "from-to": ("From_Account", "To_Account"),
    "operator-peer": ("Operator_Account", "Peer_Account"),
}


class RoamCaller(Protocol):
    """What the roaming functions need from a client (``ImClient`` fits)."""

    async def call(self, api: str, body: dict[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class RoamQuery:
    """One conversation and an inclusive window of Unix seconds."""

    account: str
    peer: str
    min_time: int
    max_time: int
    page_size: int = 100
    naming: FieldNaming = "from-to"

    def __post_init__(self) -> None:
        if self.min_time > self.max_time:
            raise ValueError("the window starts after it ends")
        if self.page_size < 1:
            raise ValueError("page_size must be at least 1")
        if self.naming not in PARTY_FIELDS:
            raise ValueError(f"unknown api_fields naming {self.naming!r}")

    @property
    def total_seconds(self) -> int:
        return self.max_time - self.min_time + 1


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a chain continues: ``MaxTime`` and ``LastMsgKey`` for the next call."""

    max_time: int
    last_key: str


@dataclass(frozen=True, slots=True)
class Page:
    messages: tuple[Message, ...]  # oldest -> newest, as in the reply
    complete: bool
    next: Cursor | None  # None when complete
    msg_cnt: int | None = None  # the reply's MsgCnt, as it said
    attempts: int | None = None  # HTTP attempts the call took, when the client says


@dataclass(frozen=True, slots=True)
class FetchProgress:
    messages: int
    calls: int
    covered_seconds: int  # seconds of the window known to be fetched whole
    total_seconds: int

    @property
    def fraction(self) -> float:
        return self.covered_seconds / self.total_seconds if self.total_seconds else 1.0


@dataclass(frozen=True, slots=True)
class ChainPage:
    """One page of a window fetch as it lands, placed in the service order by its chain.

    The messages are everything the service holds between two positions: the top is second
    ``max_time`` whole (``after`` None, a chain's first page) or what comes before
    ``after.last_key`` in its second; the bottom is second ``min_time`` whole (``next`` None, the
    chain is done) or ``next.last_key`` and what follows it in its second.
    """

    messages: tuple[Message, ...]  # not seen before in this fetch, oldest -> newest
    min_time: int
    max_time: int
    after: Cursor | None
    next: Cursor | None


def build_body(
    q: RoamQuery,
    cursor: Cursor | None = None,
    *,
    min_time: int | None = None,
    max_time: int | None = None,
) -> dict[str, Any]:
    """The JSON body of one call; ``min_time``/``max_time`` narrow it to a slice.

    A cursor's ``max_time`` wins over ``max_time``: the continuation rule fixes MaxTime.
    """
    first, second = PARTY_FIELDS[q.naming]
    body: dict[str, Any] = {
        first: q.account,
        second: q.peer,
        "MaxCnt": q.page_size,
        "MinTime": q.min_time if min_time is None else min_time,
        "MaxTime": q.max_time if max_time is None else max_time,
    }
    if cursor is not None:
        body["MaxTime"] = cursor.max_time
        body["LastMsgKey"] = cursor.last_key
    return body


def _bad(what: str) -> ProtocolError:
    return ProtocolError(f"malformed admin_getroammsg reply: {what}")


def _int_field(reply: Mapping[str, Any], name: str) -> int:
    value = reply.get(name)
    # bool is an int subclass; True is not a timestamp.
    if isinstance(value, bool) or not isinstance(value, int):
        state = "missing" if value is None else f"a {type(value).__name__}, not an integer"
        raise _bad(f"{name} is {state}")
    return value


def parse_page(reply: object, body: Mapping[str, Any]) -> Page:
    """Validate one reply against the request that produced it."""
    if not isinstance(reply, dict):
        raise _bad(f"the reply is a {type(reply).__name__}, not an object")
    complete = _int_field(reply, "Complete")
    if complete not in (0, 1):
        raise _bad(f"Complete is {complete}, not 0 or 1")
    raw_list = reply.get("MsgList")
    if raw_list is None and complete == 1:
        raw_list = []  # an empty window may come back without a list
    if not isinstance(raw_list, list):
        raise _bad("MsgList is missing or not a list")
    if len(raw_list) > body["MaxCnt"]:
        raise _bad(f"MsgList holds {len(raw_list)} messages, more than the MaxCnt of "
                   f"{body['MaxCnt']} asked for")
    min_time, max_time = body["MinTime"], body["MaxTime"]
    messages = tuple(parse_message(obj) for obj in raw_list)
    prev = min_time
    for msg in messages:
        if not min_time <= msg.time <= max_time:
            # Merging slices relies on every message lying inside the range it was asked for.
            raise _bad(f"a message at {msg.time} lies outside the asked range "
                       f"{min_time}..{max_time}")
        if msg.time < prev:
            raise _bad("MsgList is not oldest → newest")
        prev = msg.time
    cnt = reply.get("MsgCnt")
    msg_cnt = cnt if isinstance(cnt, int) and not isinstance(cnt, bool) else None
    if complete == 1:
        return Page(messages, True, None, msg_cnt)
    last_time = _int_field(reply, "LastMsgTime")
    last_key = reply.get("LastMsgKey")
    if not isinstance(last_key, str) or not last_key:
        raise _bad("Complete is 0 but LastMsgKey is missing or not a string")
    if not min_time <= last_time <= max_time:
        raise _bad(f"LastMsgTime {last_time} lies outside the asked range {min_time}..{max_time}")
    _check_cursor(raw_list, messages, last_time, last_key)
    return Page(messages, False, Cursor(last_time, last_key), msg_cnt)


def _check_cursor(
    raw_list: list[Any], messages: tuple[Message, ...], last_time: int, last_key: str
) -> None:
    """The cursor of a page must be its oldest message, MsgList[0] (tim-api.md §1.5): a cursor
    below it would make the next call skip what lies between, silently."""
    if not messages:
        # Nothing to check the cursor against, and nothing that could be progress.
        raise ProtocolError(
            "admin_getroammsg returned an empty page while Complete stays 0; "
            "stopped instead of asking again forever"
        )
    oldest = messages[0]
    if last_time != oldest.time:
        raise ProtocolError(
            "admin_getroammsg reply's LastMsgTime is not the time of its oldest message "
            "(MsgList[0]); refusing to skip messages"
        )
    if last_key != oldest.key:
        # A keyless message is known by the key model.py makes for it (the sample's
        # MsgSeq_MsgRandom_MsgTimeStamp, as the sandbox names it too); any other cursor
        # cannot be checked.
        keyless = not raw_list[0].get("MsgKey")
        raise ProtocolError(
            "admin_getroammsg reply's LastMsgKey is not its oldest message (MsgList[0]"
            + (" has no MsgKey" if keyless else "")
            + "); refusing to skip messages"
        )


async def fetch_page(
    client: RoamCaller,
    q: RoamQuery,
    cursor: Cursor | None = None,
    *,
    min_time: int | None = None,
    max_time: int | None = None,
) -> Page:
    """One call; the reply is validated (ProtocolError) and its messages parsed."""
    body = build_body(q, cursor, min_time=min_time, max_time=max_time)
    counted = getattr(client, "call_counted", None)  # ImClient says how many attempts it took
    if counted is None:
        return parse_page(await client.call(API, body), body)
    reply, attempts = await counted(API, body)
    return dataclasses.replace(parse_page(reply, body), attempts=attempts)


def unseen(messages: Iterable[Message], seen: set[str]) -> tuple[Message, ...]:
    """The messages not seen before, in the order given; marks them seen."""
    out = []
    for msg in messages:
        if msg.key not in seen:
            seen.add(msg.key)
            out.append(msg)
    return tuple(out)


async def iter_pages(
    client: RoamCaller, q: RoamQuery, cursor: Cursor | None = None
) -> AsyncIterator[Page]:
    """The documented one-page-after-another loop, newest page first, deduped by MsgKey.

    Raises ProtocolError instead of looping when the service stops making progress, or when
    its paging cannot be honest (:mod:`roamtui.im.guard`).
    """
    seen: set[str] = set()
    guard = ChainGuard(cursor, PagingGuard(q.page_size))
    start = q.max_time if cursor is None else cursor.max_time
    while True:
        guard.count_call(0 if cursor is None else start - cursor.max_time)  # seconds made whole
        page = await fetch_page(client, q, cursor)
        fresh = unseen(page.messages, seen)
        cursor = guard.check(page, len(fresh))
        yield Page(fresh, page.complete, page.next)
        if cursor is None:
            return


async def fetch_window(
    client: RoamCaller,
    q: RoamQuery,
    *,
    progress: Callable[[FetchProgress], None] | None = None,
    concurrency: int = 16,
    on_page: Callable[[ChainPage], None] | None = None,
    on_record: Callable[[PageRecord], None] | None = None,
) -> list[Message]:
    """The whole window, oldest → newest, fetched as concurrent slices under the client's limiter.

    Order: by time, then the service's order within one second. Deduped by MsgKey. Cancelling
    the caller cancels every sub-task; the first error of any slice is raised as is. The
    window's chains share one :class:`~roamtui.im.guard.PagingGuard`.
    ``on_page`` sees each page as it lands (before ``progress``), so that a caller can keep
    what arrived when the fetch is cancelled or fails; an exception it raises stops the fetch.
    ``on_record`` gets each call's :class:`~roamtui.im.pagelog.PageRecord` (evidence manifests).
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    from roamtui.im.window import WindowFetch  # the worker pool's own module, imported late:
    # it builds on this one

    return await WindowFetch(client, q, progress, concurrency, on_page, on_record).run()
