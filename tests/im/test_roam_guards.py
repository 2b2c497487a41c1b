"""im.roam against hostile services: a chain stuck inside one second or creeping down a second a
page must end with one clear ProtocolError after a bounded number of calls, keeping what came
before; a cursor that is not the page's oldest message must never skip anything; and honest
dense seconds (several pages of one second) must still load whole."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_roam import T0, FakeService, keys_of, msg, query

from roamtui.im.errors import ProtocolError
from roamtui.im.guard import FLOOR_PAGES, PAGES_PER_SECOND, inside_cap, page_cap
from roamtui.im.roam import ChainPage, RoamQuery, fetch_page, fetch_window, iter_pages

#: A hostile service gives up here, so that a loop the guards miss fails the test, not hangs it.
HARD_STOP = 20_000
BROKEN = "stopped — the service's paging looks broken"


class Hostile:
    """Fresh messages and a fresh, well-formed cursor (its page's oldest message) on every page,
    never Complete; ``second(body)`` says at which second a page's messages lie."""

    def __init__(
        self,
        second: Callable[[dict[str, Any]], int],
        *,
        spread_first: bool = False,
        per_page: int | None = None,
    ) -> None:
        self.second = second
        self.per_page = per_page  # default: MaxCnt
        # A chain's first page reaches over two seconds (so that the window fetch splits the
        # rest among idle workers, each a new chain), its cursor in the older one.
        self.spread_first = spread_first
        self.calls = 0
        self.made = 0

    async def call(self, api: str, body: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.calls > HARD_STOP:
            raise AssertionError(f"still paging after {HARD_STOP} calls")
        await asyncio.sleep(0)
        t = self.second(body)
        n = min(body["MaxCnt"], self.per_page or body["MaxCnt"])
        page = [msg(self.made + k, t) for k in range(n)]
        if self.spread_first and "LastMsgKey" not in body and t > body["MinTime"]:
            page[0] = msg(self.made, t - 1)
        self.made += n
        return {"ActionStatus": "OK", "ErrorCode": 0, "Complete": 0, "MsgCnt": n,
                "LastMsgTime": page[0]["MsgTimeStamp"], "LastMsgKey": page[0]["MsgKey"],
                "MsgList": page}


def same_second(*, spread_first: bool = False, per_page: int | None = None) -> Hostile:
    """The issue's chain: every page at the asked MaxTime (the slice's top second)."""
    return Hostile(lambda body: body["MaxTime"], spread_first=spread_first, per_page=per_page)


def creeping() -> Hostile:
    """A chain that goes down one second a page: progress, but never an end in sight."""
    def second(body: dict[str, Any]) -> int:
        top = body["MaxTime"]
        return top - 1 if "LastMsgKey" in body and top > body["MinTime"] else top
    return Hostile(second)


async def drain(service: Any, q: RoamQuery) -> int:
    """Pages until the chain ends; the number of pages."""
    return len([page async for page in iter_pages(service, q)])


# --- a chain inside one second ----------------------------------------------------------------


async def test_iter_pages_stops_a_chain_that_stays_inside_one_second() -> None:
    service = same_second()
    q = query(page_size=100)
    with pytest.raises(ProtocolError) as err:
        await drain(service, q)
    cap = inside_cap(q.page_size)
    assert service.calls == cap + 1  # before: unbounded (1,471 calls in 30 s)
    text = str(err.value)
    assert text == (f"admin_getroammsg kept paging inside second 2020-03-20 03:00:00 UTC "
                    f"({cap + 1} pages); {BROKEN}")
    assert "\n" not in text


@pytest.mark.parametrize("concurrency", [1, 4, 16])
async def test_fetch_window_stops_chains_that_stay_inside_one_second(concurrency: int) -> None:
    service = same_second()
    q = query(page_size=100)
    with pytest.raises(ProtocolError, match="kept paging inside second 2020-03-20 03:00:00 UTC"):
        await fetch_window(service, q, concurrency=concurrency)
    # The chain stays inside its top second, so the rest is not split among idle workers.
    assert service.calls == inside_cap(q.page_size) + 1


@pytest.mark.parametrize("concurrency", [4, 16])
async def test_fetch_window_stops_parallel_chains_each_stuck_in_its_own_second(
    concurrency: int,
) -> None:
    service = same_second(spread_first=True, per_page=5)  # short pages count the same
    q = query(page_size=100)
    with pytest.raises(ProtocolError, match="kept paging inside second"):
        await fetch_window(service, q, concurrency=concurrency)
    # Each chain gets its second's budget after its first page; the first to spend it stops
    # them all.
    assert service.calls <= concurrency * (inside_cap(q.page_size) + 2)


async def test_at_a_small_maxcnt_the_budget_of_the_window_stops_parallel_stuck_chains() -> None:
    # 500 pages a second at MaxCnt 10, but 16 chains share the window's floor of pages.
    service = same_second(spread_first=True)
    with pytest.raises(ProtocolError) as err:
        await fetch_window(service, query(page_size=10), concurrency=16)
    # The chains' first pages made a second whole each, half a page more to spend for each.
    assert str(err.value).startswith("admin_getroammsg kept paging: 1,008 pages for 16 seconds")
    assert service.calls <= FLOOR_PAGES + 2 * 16


async def test_pages_fetched_before_the_stop_stay_with_the_caller() -> None:
    service = same_second()
    q = query(page_size=10)
    pages: list[ChainPage] = []
    with pytest.raises(ProtocolError):
        await fetch_window(service, q, concurrency=1, on_page=pages.append)
    # Everything but the page that passed the cap reached on_page, each message once.
    assert len(pages) == service.calls - 1
    keys = [m.key for p in pages for m in p.messages]
    assert len(keys) == len(set(keys)) == (service.calls - 1) * q.page_size
    kept = []
    with pytest.raises(ProtocolError):
        async for page in iter_pages(same_second(), q):
            kept.append(page)
    assert len(kept) == inside_cap(q.page_size)


def test_the_cap_inside_one_second_is_generous_and_scales_with_small_pages() -> None:
    # 50 pages, or as many pages as 5,000 messages need at a small MaxCnt.
    assert inside_cap(100) == 50 and inside_cap(1000) == 50
    assert inside_cap(20) == 250 and inside_cap(1) == 5000


# --- a chain creeping down, a second a page -----------------------------------------------------


def budget_bound() -> int:
    # pages <= FLOOR + RATE * covered, and a creeping chain covers a second a page.
    return int(FLOOR_PAGES / (1 - PAGES_PER_SECOND)) + 2


async def test_iter_pages_stops_a_chain_that_creeps_down_a_second_a_page() -> None:
    service = creeping()
    q = query(max_time=T0 + 1_000_000, page_size=2)
    with pytest.raises(ProtocolError) as err:
        await drain(service, q)
    assert service.calls <= budget_bound()  # before: a million calls, one per second of window
    assert str(err.value).startswith("admin_getroammsg kept paging: ")
    assert str(err.value).endswith(BROKEN)


async def test_fetch_window_stops_chains_that_creep_down_a_second_a_page() -> None:
    service = creeping()
    q = query(max_time=T0 + 1_000_000, page_size=2)
    with pytest.raises(ProtocolError, match="kept paging: "):
        await fetch_window(service, q, concurrency=8)
    assert service.calls <= budget_bound() + 8


class Erratic:
    """Never Complete, fresh messages, a well-formed cursor, anything else at random: pages of
    any length, staying in a second or going down a few, the oldest message below the rest."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.calls = 0
        self.made = 0

    async def call(self, api: str, body: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.calls > HARD_STOP:
            raise AssertionError(f"still paging after {HARD_STOP} calls")
        await asyncio.sleep(0)
        rng, lo, hi = self.rng, body["MinTime"], body["MaxTime"]
        top = max(lo, hi - rng.choice([0, 0, 0, 1, rng.randrange(4)]))
        n = rng.randint(1, body["MaxCnt"])
        oldest = max(lo, top - rng.choice([0, 0, 1]))
        page = [msg(self.made + k, oldest if k == 0 else top) for k in range(n)]
        self.made += n
        return {"ActionStatus": "OK", "ErrorCode": 0, "Complete": 0, "MsgCnt": n,
                "LastMsgTime": oldest, "LastMsgKey": page[0]["MsgKey"], "MsgList": page}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32), st.integers(1, 600), st.integers(1, 6), st.integers(1, 8))
def test_any_chain_that_never_completes_ends_within_the_budget(
    seed: int, span: int, page_size: int, concurrency: int
) -> None:
    q = query(max_time=T0 + span - 1, page_size=page_size)
    bound = page_cap(span) + concurrency

    async def run() -> None:
        serial = Erratic(seed)
        with pytest.raises(ProtocolError, match=BROKEN):
            await drain(serial, q)
        assert serial.calls <= bound
        window = Erratic(seed)
        with pytest.raises(ProtocolError, match=BROKEN):
            await fetch_window(window, q, concurrency=concurrency)
        assert window.calls <= bound

    asyncio.run(run())


# --- honest dense seconds -------------------------------------------------------------------


@pytest.mark.parametrize("burst", [450, 5_000])
async def test_a_second_holding_many_pages_still_loads_whole(burst: int) -> None:
    convo = [msg(i, T0 + 7) for i in range(3)] + [msg(i, T0 + 42) for i in range(3, 3 + burst)]
    convo += [msg(i, T0 + 43) for i in range(3 + burst, 10 + burst)]
    q = query(page_size=100)
    pages = [page async for page in iter_pages(FakeService(convo), q)]
    assert [m.key for page in reversed(pages) for m in page.messages] == keys_of(convo)
    for concurrency in (1, 16):
        got = await fetch_window(FakeService(convo), q, concurrency=concurrency)
        assert [m.key for m in got] == keys_of(convo)


# --- the cursor must be the page's oldest message ---------------------------------------------


def lying_first_page(service: FakeService, below: int) -> FakeService:
    """The first reply's LastMsgTime/LastMsgKey name the message ``below`` places under its
    oldest one, so that continuing from there skips the messages between."""
    real = service.reply
    everything = service.messages

    def reply(body: dict[str, Any]) -> dict[str, Any]:
        out = real(body)
        if len(service.bodies) == 1 and not out["Complete"]:
            oldest = everything.index(out["MsgList"][0])
            liar = everything[oldest - below]
            out["LastMsgTime"], out["LastMsgKey"] = liar["MsgTimeStamp"], liar["MsgKey"]
            service._chain_of_cursor[liar["MsgKey"]] = service.chains
        return out

    service.reply = reply  # type: ignore[method-assign]
    return service


def five_hundred() -> list[dict[str, Any]]:
    return [msg(i, T0 + 3 * i) for i in range(500)]


async def test_a_lying_cursor_never_reports_the_window_complete() -> None:
    # The issue: 101 of 500 messages skipped, exit 0, "complete".
    q = query(max_time=T0 + 1500, page_size=100)
    with pytest.raises(ProtocolError) as err:
        await fetch_window(lying_first_page(FakeService(five_hundred()), 101), q, concurrency=1)
    assert str(err.value) == ("admin_getroammsg reply's LastMsgTime is not the time of its oldest "
                              "message (MsgList[0]); refusing to skip messages")
    with pytest.raises(ProtocolError, match="refusing to skip messages"):
        await drain(lying_first_page(FakeService(five_hundred()), 101), q)


def page_reply(messages: list[dict[str, Any]], last_time: int, last_key: str) -> dict[str, Any]:
    return {"ActionStatus": "OK", "ErrorCode": 0, "Complete": 0, "MsgCnt": len(messages),
            "LastMsgTime": last_time, "LastMsgKey": last_key, "MsgList": messages}


class One:
    """The same reply to every call."""

    def __init__(self, reply: dict[str, Any]) -> None:
        self.reply = reply

    async def call(self, api: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.reply


async def test_a_cursor_naming_another_message_of_the_same_second_is_refused() -> None:
    page = [msg(1, T0 + 5), msg(2, T0 + 5), msg(3, T0 + 6)]
    with pytest.raises(ProtocolError) as err:
        await fetch_page(One(page_reply(page, T0 + 5, page[1]["MsgKey"])), query())
    assert str(err.value) == ("admin_getroammsg reply's LastMsgKey is not its oldest message "
                              "(MsgList[0]); refusing to skip messages")


async def test_a_cursor_below_the_oldest_message_is_refused() -> None:
    page = [msg(1, T0 + 50), msg(2, T0 + 51)]
    with pytest.raises(ProtocolError, match="LastMsgTime is not the time of its oldest"):
        await fetch_page(One(page_reply(page, T0 + 10, "1000_0_1584669610")), query())


async def test_the_oldest_message_without_a_key_is_checked_against_the_key_it_is_given() -> None:
    # A message without MsgKey is known by MsgSeq_MsgRandom_MsgTimeStamp (model.py), as the
    # sandbox names it too: a cursor with that key continues; any other cannot be checked.
    first = {k: v for k, v in msg(1, T0 + 5).items() if k != "MsgKey"}
    rest = [msg(2, T0 + 6)]
    ok = await fetch_page(One(page_reply([first, *rest], T0 + 5, f"1001_1_{T0 + 5}")), query())
    assert ok.next is not None and ok.next.last_key == f"1001_1_{T0 + 5}"
    with pytest.raises(ProtocolError, match=r"MsgList\[0\] has no MsgKey"):
        await fetch_page(One(page_reply([first, *rest], T0 + 5, "something-else")), query())


async def test_an_empty_page_that_is_not_complete_is_refused_by_itself() -> None:
    # Nothing to check a cursor against: it cannot be followed.
    with pytest.raises(ProtocolError, match="empty page while Complete stays 0"):
        await fetch_page(One(page_reply([], T0 + 5, "k")), query())


async def test_a_page_not_oldest_first_is_refused() -> None:
    page = [msg(2, T0 + 9), msg(1, T0 + 5)]
    with pytest.raises(ProtocolError, match="not oldest → newest"):
        await fetch_page(One(page_reply(page, T0 + 9, page[0]["MsgKey"])), query())


async def test_a_page_longer_than_maxcnt_is_refused() -> None:
    page = [msg(i, T0 + 5) for i in range(11)]
    with pytest.raises(ProtocolError, match="11 messages, more than the MaxCnt of 10"):
        await fetch_page(One(page_reply(page, T0 + 5, page[0]["MsgKey"])), query(page_size=10))
