"""im.roam against a small in-test service: bodies, reply validation, continuation, loop guards,
the window fetch's order, concurrency, progress and cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from roamtui.im.errors import ProtocolError
from roamtui.im.roam import (
    API,
    Cursor,
    FetchProgress,
    Page,
    RoamQuery,
    build_body,
    fetch_page,
    fetch_window,
    iter_pages,
)

T0 = 1_584_669_600


def msg(i: int, t: int, *, seq: int | None = None) -> dict[str, Any]:
    seq = 1000 + i if seq is None else seq
    return {
        "From_Account": "user1" if i % 2 else "user2",
        "To_Account": "user2" if i % 2 else "user1",
        "MsgSeq": seq,
        "MsgRandom": i,
        "MsgTimeStamp": t,
        "MsgFlagBits": 0,
        "MsgKey": f"{seq}_{i}_{t}",
        "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": f"msg {i}"}}],
    }


class FakeService:
    """admin_getroammsg over a list kept in service order (by time, then as listed)."""

    def __init__(self, messages: Sequence[dict[str, Any]], *, repeat_boundary: bool = False):
        self.messages = list(messages)
        self.repeat_boundary = repeat_boundary
        self.bodies: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.gate: asyncio.Event | None = None
        self.cancelled = 0
        # Which chain (a first call and its continuations) served each second.
        self._chain_of_cursor: dict[str, int] = {}
        self.chains_per_second: dict[int, set[int]] = {}
        self.chains = 0

    def reply(self, body: dict[str, Any]) -> dict[str, Any]:
        lo, hi = body["MinTime"], body["MaxTime"]
        window = [m for m in self.messages if lo <= m["MsgTimeStamp"] <= hi]
        key = body.get("LastMsgKey")
        if key is not None:
            cut = next(i for i, m in enumerate(window) if m["MsgKey"] == key)
            window = window[: cut + 1] if self.repeat_boundary else window[:cut]
        page = window[-body["MaxCnt"] :]
        complete = len(page) == len(window)
        if key is None:
            self.chains += 1
            chain = self.chains
        else:
            chain = self._chain_of_cursor[key]
        for m in page:
            self.chains_per_second.setdefault(m["MsgTimeStamp"], set()).add(chain)
        if page:
            self._chain_of_cursor[page[0]["MsgKey"]] = chain
        out: dict[str, Any] = {
            "ActionStatus": "OK",
            "ErrorCode": 0,
            "ErrorInfo": "",
            "Complete": int(complete),
            "MsgCnt": len(page),
            "MsgList": page,
        }
        if page:
            out["LastMsgTime"] = page[0]["MsgTimeStamp"]
            out["LastMsgKey"] = page[0]["MsgKey"]
        return out

    async def call(self, api: str, body: dict[str, Any]) -> dict[str, Any]:
        assert api == API
        self.bodies.append(dict(body))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            # Yield a few times so that concurrent callers really overlap.
            for _ in range(3):
                await asyncio.sleep(0)
            if self.gate is not None:
                await self.gate.wait()
            return self.reply(body)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.in_flight -= 1


class ScriptedService:
    """Answers with the given replies in turn, whatever is asked."""

    def __init__(self, replies: Sequence[dict[str, Any]]):
        self.replies = list(replies)
        self.calls = 0

    async def call(self, api: str, body: dict[str, Any]) -> dict[str, Any]:
        reply = self.replies[min(self.calls, len(self.replies) - 1)]
        self.calls += 1
        return reply


def conversation(seconds: Sequence[int]) -> list[dict[str, Any]]:
    """One message per entry, at T0 + entry; entries must be sorted."""
    return [msg(i, T0 + s) for i, s in enumerate(seconds)]


def query(**kw: Any) -> RoamQuery:
    base: dict[str, Any] = {"account": "user2", "peer": "user1", "min_time": T0,
                            "max_time": T0 + 3600, "page_size": 10}
    base.update(kw)
    return RoamQuery(**base)


async def collect(service: Any, q: RoamQuery) -> tuple[list[str], list[Page]]:
    pages = [page async for page in iter_pages(service, q)]
    keys = [m.key for page in reversed(pages) for m in page.messages]
    return keys, pages


def keys_of(messages: Sequence[dict[str, Any]]) -> list[str]:
    return [m["MsgKey"] for m in messages]


# --- bodies -----------------------------------------------------------------------------------


def test_body_from_to_without_cursor_has_no_last_key() -> None:
    body = build_body(query(page_size=100))
    assert body == {"From_Account": "user2", "To_Account": "user1", "MaxCnt": 100,
                    "MinTime": T0, "MaxTime": T0 + 3600}


def test_body_operator_peer_with_cursor_follows_the_continuation_rule() -> None:
    q = query(naming="operator-peer")
    body = build_body(q, Cursor(T0 + 80, "549396494_2578554_1584669680"))
    assert body == {"Operator_Account": "user2", "Peer_Account": "user1", "MaxCnt": 10,
                    "MinTime": T0, "MaxTime": T0 + 80,
                    "LastMsgKey": "549396494_2578554_1584669680"}


def test_body_slice_bounds_narrow_the_window() -> None:
    body = build_body(query(), min_time=T0 + 5, max_time=T0 + 9)
    assert (body["MinTime"], body["MaxTime"]) == (T0 + 5, T0 + 9)
    assert "LastMsgKey" not in body


@pytest.mark.parametrize(
    "kw", [{"min_time": T0 + 1, "max_time": T0}, {"page_size": 0}, {"naming": "sender-receiver"}]
)
def test_query_rejects_impossible_input(kw: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        query(**kw)


# --- one page ---------------------------------------------------------------------------------


async def test_fetch_page_parses_the_seed_reply_shape() -> None:
    service = FakeService(conversation([80, 89, 95]))
    page = await fetch_page(service, query(page_size=2))
    assert [m.text() for m in page.messages] == ["msg 1", "msg 2"]  # oldest -> newest
    assert not page.complete
    assert page.next == Cursor(T0 + 89, page.messages[0].key)


GOOD = {"ActionStatus": "OK", "ErrorCode": 0, "Complete": 0, "MsgCnt": 1,
        "LastMsgTime": T0 + 5, "LastMsgKey": msg(0, T0 + 5)["MsgKey"], "MsgList": [msg(0, T0 + 5)]}


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"Complete": None}, "Complete is missing"),
        ({"Complete": "0"}, "Complete is a str"),
        ({"Complete": True}, "Complete is a bool"),
        ({"Complete": 2}, "Complete is 2"),
        ({"MsgList": {"0": msg(0, T0)}}, "MsgList"),
        ({"MsgList": None}, "MsgList"),
        ({"LastMsgKey": None}, "LastMsgKey"),
        ({"LastMsgKey": 17}, "LastMsgKey"),
        ({"LastMsgTime": "1584669605"}, "LastMsgTime is a str"),
        ({"LastMsgTime": T0 + 7200}, "LastMsgTime"),
        ({"MsgList": [msg(0, T0 - 1)]}, "outside the asked range"),
    ],
)
async def test_malformed_replies_raise_a_clear_protocol_error(
    change: dict[str, Any], words: str
) -> None:
    reply = {k: v for k, v in {**GOOD, **change}.items() if v is not None}
    with pytest.raises(ProtocolError) as err:
        await fetch_page(ScriptedService([reply]), query())
    assert words in str(err.value)
    assert "admin_getroammsg" in str(err.value)


async def test_a_reply_that_is_not_an_object_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="not an object"):
        await fetch_page(ScriptedService([["not", "a", "dict"]]), query())  # type: ignore[list-item]


async def test_a_complete_empty_window_may_omit_the_list() -> None:
    page = await fetch_page(ScriptedService([{"ActionStatus": "OK", "Complete": 1}]), query())
    assert page == Page((), True, None)


# --- the one-after-another loop ---------------------------------------------------------------


async def test_iter_pages_walks_newest_first_and_collects_the_whole_conversation() -> None:
    convo = conversation(range(0, 3000, 100))  # 30 messages, pages of 10
    service = FakeService(convo)
    keys, pages = await collect(service, query())
    assert keys == keys_of(convo)
    assert [len(p.messages) for p in pages] == [10, 10, 10]
    assert pages[0].messages[-1].key == convo[-1]["MsgKey"]
    # Every follow-up asks MaxTime = LastMsgTime with LastMsgKey, MinTime and MaxCnt unchanged.
    for before, after in zip(service.bodies, service.bodies[1:], strict=False):
        assert after["MinTime"] == before["MinTime"] and after["MaxCnt"] == before["MaxCnt"]
    for page, body in zip(pages, service.bodies[1:], strict=False):
        assert page.next is not None
        assert (body["MaxTime"], body["LastMsgKey"]) == (page.next.max_time, page.next.last_key)


async def test_iter_pages_follows_the_key_through_a_burst_larger_than_a_page() -> None:
    convo = conversation([5] + [42] * 35 + [43])
    keys, _ = await collect(FakeService(convo), query())
    assert keys == keys_of(convo)


async def test_iter_pages_drops_the_repeated_boundary_message() -> None:
    convo = conversation([1, 2, 2, 2, 3, 7, 7, 9, 9, 9, 10, 11, 12])
    keys, _ = await collect(FakeService(convo, repeat_boundary=True), query(page_size=4))
    assert keys == keys_of(convo)


async def test_iter_pages_both_namings_read_the_same_history() -> None:
    convo = conversation(range(0, 50, 2))
    a, _ = await collect(FakeService(convo), query(naming="from-to"))
    service = FakeService(convo)
    b, _ = await collect(service, query(naming="operator-peer"))
    assert a == b == keys_of(convo)
    assert all("Operator_Account" in body and "From_Account" not in body
               for body in service.bodies)


async def test_iter_pages_handles_short_pages_that_are_not_complete() -> None:
    convo = conversation(range(12))
    first = {"ActionStatus": "OK", "Complete": 0, "MsgList": convo[9:],
             "LastMsgTime": T0 + 9, "LastMsgKey": convo[9]["MsgKey"]}
    rest = {"ActionStatus": "OK", "Complete": 1, "MsgList": convo[:9]}
    keys, pages = await collect(ScriptedService([first, rest]), query())
    assert keys == keys_of(convo)
    assert [p.complete for p in pages] == [False, True]


def stuck(reply_list: list[dict[str, Any]]) -> dict[str, Any]:
    """A page that is not complete, its cursor its oldest message (as parse_page demands)."""
    cursor = reply_list[0] if reply_list else {"MsgTimeStamp": T0, "MsgKey": "k0"}
    return {"ActionStatus": "OK", "Complete": 0, "MsgList": reply_list,
            "LastMsgTime": cursor["MsgTimeStamp"], "LastMsgKey": cursor["MsgKey"]}


async def test_a_repeating_cursor_stops_the_loop() -> None:
    page = stuck([msg(1, T0 + 5), msg(2, T0 + 6)])
    other = stuck([msg(1, T0 + 5), msg(3, T0 + 5)])  # a fresh message, the same cursor
    service = ScriptedService([page, other])
    with pytest.raises(ProtocolError, match="repeated a continuation cursor"):
        await collect(service, query())
    assert service.calls == 2


async def test_an_empty_page_with_complete_zero_stops_the_loop() -> None:
    service = ScriptedService([stuck([msg(1, T0 + 5)]), stuck([])])
    with pytest.raises(ProtocolError, match="empty page"):
        await collect(service, query())
    assert service.calls == 2


async def test_a_page_of_already_seen_messages_stops_the_loop() -> None:
    first = stuck([msg(1, T0 + 5), msg(2, T0 + 5)])
    service = ScriptedService([first, stuck([msg(2, T0 + 5)])])  # a new cursor, nothing new
    with pytest.raises(ProtocolError, match="already seen"):
        await collect(service, query())


async def test_the_window_fetch_has_the_same_loop_guards() -> None:
    service = ScriptedService([stuck([msg(1, T0 + 5)])])
    with pytest.raises(ProtocolError, match="repeated a continuation cursor"):
        await fetch_window(service, query(), concurrency=4)


# --- the window fetch -------------------------------------------------------------------------


def bursty() -> list[dict[str, Any]]:
    seconds = [0, 3, 3, 9] + [100] * 37 + list(range(200, 900, 7)) + [1500] * 23 + [3600] * 12
    return conversation(seconds)


async def test_fetch_window_returns_exactly_the_conversation_in_service_order() -> None:
    convo = bursty()
    # The service's order within a second is not the MsgSeq order: it must be kept as is.
    for i, m in enumerate(convo):
        m["MsgSeq"] = 10_000 - i
        m["MsgKey"] = f"{m['MsgSeq']}_{i}_{m['MsgTimeStamp']}"
    service = FakeService(convo)
    got = await fetch_window(service, query(page_size=8), concurrency=6)
    assert [m.key for m in got] == keys_of(convo)
    assert service.max_in_flight > 1


async def test_fetch_window_equals_the_one_after_another_loop() -> None:
    convo = bursty()
    serial, _ = await collect(FakeService(convo), query(page_size=5))
    window = await fetch_window(FakeService(convo), query(page_size=5))
    assert [m.key for m in window] == serial


async def test_fetch_window_never_cuts_a_second_between_slices() -> None:
    # Every second holds a burst of more than a page: any cut would show as two chains.
    convo = conversation([s for s in range(0, 3600, 60) for _ in range(9)])
    service = FakeService(convo)
    got = await fetch_window(service, query(page_size=4), concurrency=8)
    assert [m.key for m in got] == keys_of(convo)
    assert service.chains > 1
    assert all(len(chains) == 1 for chains in service.chains_per_second.values())


async def test_fetch_window_drops_repeated_boundary_messages() -> None:
    convo = bursty()
    got = await fetch_window(FakeService(convo, repeat_boundary=True), query(page_size=6))
    assert [m.key for m in got] == keys_of(convo)


async def test_fetch_window_of_an_empty_window_is_one_call() -> None:
    service = FakeService([])
    assert await fetch_window(service, query()) == []
    assert len(service.bodies) == 1


async def test_fetch_window_reports_progress_up_to_the_whole_window() -> None:
    convo = bursty()
    seen: list[FetchProgress] = []
    service = FakeService(convo)
    got = await fetch_window(service, query(page_size=8), progress=seen.append)
    last = seen[-1]
    assert (last.messages, last.calls) == (len(got), len(service.bodies))
    assert last.covered_seconds == last.total_seconds == 3601 and last.fraction == 1.0
    assert [p.calls for p in seen] == list(range(1, len(seen) + 1))
    covered = [p.covered_seconds for p in seen]
    assert covered == sorted(covered)


async def test_fetch_window_raises_the_slice_error_itself() -> None:
    convo = bursty()
    service = FakeService(convo)
    real_reply = service.reply
    replies = 0

    def broken(body: dict[str, Any]) -> dict[str, Any]:
        nonlocal replies
        replies += 1
        out = real_reply(body)
        if replies == 3:
            out["Complete"] = "yes"
        return out

    service.reply = broken  # type: ignore[method-assign]
    with pytest.raises(ProtocolError, match="Complete is a str"):
        await fetch_window(service, query(page_size=4))


async def test_cancelling_fetch_window_cancels_every_call_in_flight() -> None:
    # No burst at the top: a chain inside its top second walks it before the rest is split.
    service = FakeService(conversation(range(0, 3600, 5)))
    service.gate = asyncio.Event()
    task = asyncio.create_task(fetch_window(service, query(page_size=4), concurrency=8))
    await until(lambda: len(service.bodies) >= 1 and service.in_flight == 1)
    service.gate.set()
    await until(lambda: service.in_flight >= 2)
    service.gate.clear()
    await until(lambda: service.in_flight >= 3)
    stuck_calls = service.in_flight
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert service.in_flight == 0 and service.cancelled == stuck_calls
    assert asyncio.all_tasks() == {asyncio.current_task()}


async def until(condition: Callable[[], bool]) -> None:
    """Let the loop run until ``condition`` holds (bounded by steps, not time)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


def test_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError):
        asyncio.run(fetch_window(FakeService([]), query(), concurrency=0))
