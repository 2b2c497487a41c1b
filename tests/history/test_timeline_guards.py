"""The timeline against a service whose paging never ends: every operation, and the view's way of
filling whatever gap comes into sight again and again, must stop with one clear ProtocolError
after a bounded number of calls, keep what was loaded before, and leave the error on the gap
(which the view does not fill by itself again); honest dense seconds still load whole."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from timelinekit import T0, Served, check, record

from roamtui.history.timeline import Timeline
from roamtui.im.errors import ProtocolError
from roamtui.im.guard import FLOOR_PAGES, PAGES_PER_SECOND, inside_cap
from roamtui.im.roam import RoamQuery

HOUR = 3600
PAGE = 100
#: A hostile service gives up here, so that a loop the guards miss fails the test, not hangs it.
HARD_STOP = 20_000
BROKEN = "stopped — the service's paging looks broken"


class SameSecond:
    """Fresh messages and a fresh, well-formed cursor on every page, never Complete, all at the
    asked MaxTime: a chain that never leaves the second it starts in."""

    per_page = 3  # short pages: as good as full ones for the guard

    def __init__(self) -> None:
        self.calls = 0
        self.made = 0

    def second(self, body: dict[str, Any]) -> int:
        return int(body["MaxTime"])

    async def call(self, api: str, body: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        if self.calls > HARD_STOP:
            raise AssertionError(f"still paging after {HARD_STOP} calls")
        await asyncio.sleep(0)
        t = self.second(body)
        n = min(body["MaxCnt"], self.per_page)
        page = [record(self.made + k, t) for k in range(n)]
        self.made += n
        return {"ActionStatus": "OK", "ErrorCode": 0, "Complete": 0, "MsgCnt": n,
                "LastMsgTime": t, "LastMsgKey": page[0]["MsgKey"], "MsgList": page}


class Creeping(SameSecond):
    """A chain that goes down one second a page: each page makes a second whole."""

    per_page = 1

    def second(self, body: dict[str, Any]) -> int:
        top = int(body["MaxTime"])
        return top - 1 if "LastMsgKey" in body and top > body["MinTime"] else top


def hostile(service: SameSecond | None = None, span: int = HOUR) -> tuple[SameSecond, Timeline]:
    service = service or SameSecond()
    query = RoamQuery("cust_7", "agent_3", T0, T0 + span, PAGE)
    return service, Timeline(service, query, dt.UTC)


async def until_stopped(op: Callable[[], Awaitable[object]]) -> ProtocolError:
    """Repeat ``op`` until it raises, as the view fills a gap in sight after every load."""
    for _ in range(HARD_STOP):
        try:
            await op()
        except ProtocolError as exc:
            return exc
    raise AssertionError("the operation never stopped")


def stuck_line(t: int, pages: int) -> str:
    second = dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    return f"admin_getroammsg kept paging inside second {second} UTC ({pages} pages); {BROKEN}"


CAP = inside_cap(PAGE)


async def test_scrolling_up_into_a_second_that_never_ends_stops() -> None:
    service, tl = hostile()
    await tl.open()
    error = await until_stopped(tl.load_older)
    assert service.calls == tl.calls == CAP + 1  # before: unbounded
    assert str(error) == stuck_line(T0 + HOUR, CAP + 1)
    # What came before stays, and the gap below carries the error.
    assert tl.loaded_count == 3 * CAP
    gap = tl.gaps[0]
    assert gap.state == "error" and gap.error is error
    # A retry (r) costs one call, not another round.
    with pytest.raises(ProtocolError, match="kept paging inside second"):
        await tl.fill(gap, "bottom")
    assert service.calls == CAP + 2 and tl.loaded_count == 3 * CAP


async def test_filling_a_gap_from_its_bottom_over_and_over_stops() -> None:
    service, tl = hostile()
    error = await until_stopped(lambda: tl.fill(tl.gaps[-1], "bottom"))
    assert "kept paging inside second" in str(error)
    assert service.calls == CAP + 1


async def test_filling_a_gap_from_its_top_over_and_over_stops() -> None:
    service, tl = hostile()
    await tl.open()
    error = await until_stopped(lambda: tl.fill(tl.gaps[0], "top"))
    assert "kept paging inside second" in str(error)
    assert service.calls <= CAP + 2


async def test_loading_newer_over_and_over_stops() -> None:
    service, tl = hostile()
    await tl.jump(T0)

    async def newer() -> None:
        await tl.load_newer(tl.segments[0])

    error = await until_stopped(newer)
    assert "kept paging inside second" in str(error)
    assert service.calls <= CAP + 6


@pytest.mark.parametrize("max_calls", [1, 4])
async def test_jumping_over_and_over_stops(max_calls: int) -> None:
    service, tl = hostile()
    error = await until_stopped(lambda: tl.jump(T0 + HOUR // 2, context=0, max_calls=max_calls))
    assert str(error) == stuck_line(T0 + HOUR // 2, CAP + 1)
    assert service.calls <= CAP + max_calls


async def test_load_all_stops_and_keeps_what_landed() -> None:
    service, tl = hostile()
    with pytest.raises(ProtocolError, match="kept paging inside second") as err:
        await tl.load_all()
    assert service.calls == CAP + 1
    assert tl.loaded_count == 3 * CAP  # every page but the one past the cap
    assert [g.state for g in tl.gaps] == ["error"] and tl.gaps[0].error is err.value
    # Once more (r): the fetch starts the second over, its own budget again, then stops.
    with pytest.raises(ProtocolError):
        await tl.load_all()
    assert service.calls == 2 * (CAP + 1)


async def test_load_all_after_open_keeps_what_was_loaded() -> None:
    service, tl = hostile()
    await tl.open()
    opened = [m.key for m in tl.messages()]
    with pytest.raises(ProtocolError, match="kept paging inside second"):
        await tl.load_all()
    # The gap's top second is fetched whole again; this service's version of it contradicts
    # the one loaded (other newest messages), so the loaded one stays as it was.
    assert service.calls == 1 + CAP + 1
    assert [m.key for m in tl.messages()] == opened


async def test_the_view_filling_every_gap_in_sight_comes_to_rest() -> None:
    # As the transcript does: fill any gap that is neither loading nor failed, from the side
    # the user comes from, until none is left to fill.
    service, tl = hostile()
    await tl.open()
    for sweep in range(HARD_STOP):
        idle = [g for g in tl.gaps if g.state == "idle"]
        if not idle:
            break
        for gap in idle:
            with contextlib.suppress(ProtocolError):
                await tl.fill(gap, "top" if sweep % 2 else "bottom")
    else:
        raise AssertionError("the gaps never came to rest")
    assert tl.gaps and all(g.state == "error" for g in tl.gaps)
    assert service.calls <= CAP + 2


async def test_a_chain_creeping_down_a_second_a_page_runs_out_of_the_timelines_budget() -> None:
    # Each page makes a second whole, at half a page a second the budget still runs out.
    service, tl = hostile(Creeping(), span=10 * 86_400)
    await tl.open()
    error = await until_stopped(tl.load_older)
    assert str(error).startswith("admin_getroammsg kept paging: ") and str(error).endswith(BROKEN)
    assert service.calls <= int(FLOOR_PAGES / (1 - PAGES_PER_SECOND)) + 2  # before: 864,000
    # The stop refuses the next call: every page that came is loaded.
    assert tl.loaded_count == service.calls and tl.gaps[0].state == "error"


# --- honest dense seconds -------------------------------------------------------------------


async def test_a_second_of_450_messages_loads_whole_page_by_page_and_at_once() -> None:
    burst = [record(i, T0 + 600) for i in range(450)]
    messages = [record(1000 + i, T0 + 60 * i) for i in range(10)] + burst
    messages += [record(2000 + i, T0 + 601 + i) for i in range(5)]
    messages.sort(key=lambda m: m["MsgTimeStamp"])
    served = Served(messages, T0, T0 + HOUR, page_size=100)
    async with served.client:
        tl = served.timeline()
        await tl.open()
        while not tl.complete:
            await tl.load_older()
        check(tl, served)
        assert [m.key for m in tl.messages()] == [k for _, k in served.truth()]
        again = served.timeline()
        await again.open()
        await again.load_all()
        check(again, served)
        assert [m.key for m in again.messages()] == [k for _, k in served.truth()]
