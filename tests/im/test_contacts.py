"""recentcontact/get_list through the im layer: paged to the end against the sandbox (faults
too), and every way a service can lie about its cursors stopped in bounded calls."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from imfakes import FakeService, MakeClient, fail_reply

from roamtui.im.client import ImClient
from roamtui.im.contacts import (
    MAX_PAGES,
    STALL_PAGES,
    ListCursor,
    build_body,
    fetch_conversations,
)
from roamtui.im.errors import ProtocolError, ServiceError
from roamtui.im.limiter import RateLimiter
from roamtui.sandbox import Fault, ListStore, SandboxService, demo_connection
from roamtui.sandbox.people import Directory, Session


async def _no_wait(_seconds: float) -> None:
    await asyncio.sleep(0)


def _directory(n: int) -> Directory:
    directory = Directory()
    for i in range(n):
        directory.add_session("agent", Session(f"c{i:03d}", 1_000_000 + i // 4,
                                               pinned=i % 19 == 0))
        if i % 50 == 0:
            directory.add_session("agent", Session(group=f"@TGS#{i}", msg_time=1_000_000 + i))
    return directory


def _client(service: SandboxService) -> ImClient:
    return ImClient(demo_connection("http://sandbox.test"), transport=service.mock_transport(),
                    limiter=RateLimiter(200), sleep=_no_wait, timeout=0.3, max_retries=10)


@pytest.mark.parametrize("fault_rate", [0.0, 0.3])
async def test_the_list_is_paged_to_the_end_newest_first(fault_rate: float) -> None:
    service = SandboxService(ListStore({}), directory=_directory(230), contacts_page=20,
                             rate_limit=None, fault_rate=fault_rate, seed=5, slow_reply_s=0.5)
    service.faults.faults = (Fault.HTTP_502, Fault.ERROR_91000, Fault.TRUNCATED, Fault.SLOW)
    pages: list[tuple[int, int]] = []
    async with _client(service) as client:
        listed = await fetch_conversations(
            client, "agent", progress=lambda p, n: pages.append((p, n))
        )
    peers = [c.peer for c in listed.conversations]
    assert sorted(peers) == [f"c{i:03d}" for i in range(230)]
    times = [c.last_time for c in listed.conversations]
    assert times == sorted(times, reverse=True)
    assert sum(c.pinned for c in listed.conversations) == 13
    assert listed.groups == 5 and listed.pages == pages[-1][0] >= 12
    assert pages[-1][1] == 230
    if fault_rate:
        assert sum(service.stats().faults.values()) > 0


async def test_since_keeps_the_conversations_active_from_then_on() -> None:
    service = SandboxService(ListStore({}), directory=_directory(40), rate_limit=None)
    async with _client(service) as client:
        listed = await fetch_conversations(client, "agent", since=1_000_005)
    assert [c.last_time >= 1_000_005 for c in listed.conversations] == [True] * 20
    assert listed.skipped == 20


async def test_an_unknown_account_is_the_services_error() -> None:
    service = SandboxService(ListStore({}), directory=_directory(3), rate_limit=None)
    async with _client(service) as client:
        with pytest.raises(ServiceError) as caught:
            await fetch_conversations(client, "nobody")
    assert caught.value.code == 50001


def _page(items: list[dict[str, Any]], complete: int = 0, cursor: tuple[int, ...] = (5, 1, 0, 0)
          ) -> httpx.Response:
    body: dict[str, Any] = {"ActionStatus": "OK", "ErrorCode": 0, "ErrorInfo": "",
                            "SessionItem": items, "CompleteFlag": complete}
    body.update(zip(("TimeStamp", "StartIndex", "TopTimeStamp", "TopStartIndex"), cursor,
                    strict=True))
    return httpx.Response(200, json=body)


def _peer(name: str, t: int = 100) -> dict[str, Any]:
    return {"Type": 1, "To_Account": name, "MsgTime": t, "TopFlag": 0}


async def test_a_cursor_handed_back_again_is_refused_at_once(make_client: MakeClient) -> None:
    service = FakeService(_page([_peer("a")]), _page([_peer("b")]))  # the same cursor twice
    with pytest.raises(ProtocolError, match="cursor it had already been sent"):
        await fetch_conversations(make_client(service), "x")
    assert len(service.requests) == 2
    assert service.body(1) == build_body("x", ListCursor(5, 1, 0, 0))


async def test_a_cursor_back_to_the_first_page_is_refused(make_client: MakeClient) -> None:
    service = FakeService(_page([_peer("a")], cursor=(0, 0, 0, 0)))
    with pytest.raises(ProtocolError):
        await fetch_conversations(make_client(service), "x")
    assert len(service.requests) == 1


async def test_fresh_cursors_that_bring_nothing_new_are_stopped(make_client: MakeClient) -> None:
    replies = [_page([_peer("a")], cursor=(100 - i, i, 0, 0)) for i in range(20)]
    service = FakeService(*replies)
    with pytest.raises(ProtocolError, match="nothing new"):
        await fetch_conversations(make_client(service), "x")
    assert len(service.requests) == STALL_PAGES + 1


async def test_an_endless_list_is_stopped_by_the_page_budget(make_client: MakeClient) -> None:
    def endless(request: httpx.Request) -> httpx.Response:
        n = len(service.requests)
        return _page([_peer(f"p{n}")], cursor=(10**6 - n, n, 0, 0))

    service = FakeService(endless)
    with pytest.raises(ProtocolError, match="kept paging"):
        await fetch_conversations(make_client(service), "x")
    assert len(service.requests) == MAX_PAGES


@pytest.mark.parametrize("reply", [
    _page([{"Type": 1, "MsgTime": 5}], complete=1),  # a peer without an account
    _page([{"Type": 1, "To_Account": "a" * 200, "MsgTime": 5}], complete=1),
    _page([_peer("a")], complete=2),
    _page(["a"], complete=1),
    httpx.Response(200, json={"ActionStatus": "OK", "ErrorCode": 0, "SessionItem": [],
                              "CompleteFlag": 0}),  # goes on, but says nowhere from
    _page([{"Type": 1, "To_Account": "a", "MsgTime": -5}], complete=1),
])
async def test_a_malformed_page_is_refused(make_client: MakeClient, reply: httpx.Response
                                           ) -> None:
    with pytest.raises(ProtocolError):
        await fetch_conversations(make_client(FakeService(reply)), "x")


async def test_groups_and_repeats_are_not_listed_twice(make_client: MakeClient) -> None:
    service = FakeService(
        _page([_peer("a", 5), {"Type": 2, "GroupId": "@TGS#1", "MsgTime": 9}], cursor=(5, 1, 0, 0)),
        _page([_peer("a", 7), _peer("b", 6)], complete=1),
    )
    listed = await fetch_conversations(make_client(service), "x")
    assert [(c.peer, c.last_time) for c in listed.conversations] == [("a", 7), ("b", 6)]
    assert listed.groups == 1 and listed.pages == 2


async def test_a_service_error_is_raised_as_it_is(make_client: MakeClient) -> None:
    with pytest.raises(ServiceError) as caught:
        await fetch_conversations(make_client(FakeService(fail_reply(50003))), "x")
    assert "App admin" in str(caught.value)
