"""The search session without an app: the query and the last one, steps that wait, the move
count that drops a deferred move, the fetch's state machine, following a swapped timeline, and
an event loop that keeps turning while a pathological regex is searched over 100,000 messages.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC
from typing import Any, cast

import httpx
import pytest

from roamtui.history import search_runner
from roamtui.history.search import SearchQuery
from roamtui.history.search_moves import Move
from roamtui.history.search_runner import SlowRegex
from roamtui.history.search_session import SearchSession
from roamtui.history.timeline import Timeline
from roamtui.im.client import ImClient
from roamtui.im.limiter import RateLimiter
from roamtui.im.model import Message, message_obj, parse_message
from roamtui.im.roam import RoamQuery
from roamtui.sandbox import ListStore, SandboxService, demo_connection

T0 = 1_700_000_000
N = 300


@pytest.fixture(autouse=True)
def fresh_runners() -> Iterator[None]:
    search_runner._runner.cache_clear()
    yield
    search_runner._runner.cache_clear()


def records() -> list[dict[str, Any]]:
    return [message_obj(sender="cust", receiver="agent", time=T0 + i * 60, seq=i, random=i,
                        key=f"k{i}", text="a refund please" if i % 50 == 7 else f"line {i}")
            for i in range(N)]


class Failing(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ActionStatus": "FAIL", "ErrorCode": 90001,
                                         "ErrorInfo": "bad json"})


def timeline(transport: httpx.AsyncBaseTransport | None = None) -> Timeline:
    service = SandboxService(ListStore({("cust", "agent"): records()}), rate_limit=None)
    client = ImClient(demo_connection("http://127.0.0.1:9"), max_retries=0,
                      transport=transport or service.mock_transport(), limiter=RateLimiter(200))
    return Timeline(client, RoamQuery("cust", "agent", T0, T0 + N * 60, page_size=20), UTC)


async def settle(session: SearchSession) -> None:
    await session.scan(lambda settled: None)


# -- the query ------------------------------------------------------------------------------------


async def test_the_query_in_force_and_the_last_one() -> None:
    tl = timeline()
    await tl.open()
    session = SearchSession(tl, lambda: None)
    assert session.apply(SearchQuery("refund"), seek=True, moves=0) is None
    assert session.query == session.last_query == SearchQuery("refund")
    reason = session.apply(SearchQuery("refund(", regex=True), seek=True, moves=0)
    assert reason is not None and reason.startswith("invalid regex")
    assert session.query is None and session.results is None
    assert session.last_query == SearchQuery("refund")  # an invalid query is never the last
    session.clear()
    assert session.restore() == SearchQuery("refund")  # what / or n brings back
    assert session.query == SearchQuery("refund") and session.results is not None
    assert session.restore() is None  # one is in force already
    session.close()


async def test_a_step_before_the_first_scan_waits_and_a_move_since_drops_it() -> None:
    tl = timeline()
    await tl.open()
    session = SearchSession(tl, lambda: None)
    session.apply(SearchQuery("line 29"), seek=False, moves=3)  # 290..299 are loaded
    session.ask(3)
    assert session.step(False, None) is None and session.pending_step is False
    await settle(session)
    moves, missed = session.ready(None)
    assert not missed and len(moves) == 1
    move = moves[0]
    assert move.deferred and move.target.key == "k299"  # from the newest end, going back
    assert session.wanted(move, 3)
    assert not session.wanted(move, 4)  # the user moved meanwhile: the last key wins
    assert session.wanted(Move(move.target), 4)  # a move asked for now always stands
    session.close()


async def test_a_new_query_moves_to_the_nearest_match_once_settled() -> None:
    tl = timeline()
    await tl.open()
    session = SearchSession(tl, lambda: None)
    session.apply(SearchQuery("line 28"), seek=True, moves=0)
    await settle(session)
    (move,), _ = session.ready(tl.messages()[-1])  # the cursor on line 299
    assert move.target.key == "k289"  # the latest mention before the cursor
    assert session.ready(None) == ([], False)  # once
    session.close()


# -- the fetch of the rest of the window ---------------------------------------------------------


async def test_the_fetch_runs_to_done_and_the_count_is_final() -> None:
    tl = timeline()
    await tl.open()
    session = SearchSession(tl, lambda: None)
    session.apply(SearchQuery("refund"), seek=False, moves=0)
    assert session.fetch_state == "idle"
    assert session.begin_fetch() and session.fetch_state == "running"
    assert not session.begin_fetch()  # one at a time
    await session.fetch(lambda p: None)
    await settle(session)
    assert session.fetch_state == "done" and session.counter(None) == str(N // 50)
    assert not session.begin_fetch()  # nothing left
    session.close()


async def test_a_failed_fetch_says_why_in_one_line_and_can_be_tried_again() -> None:
    failing = SearchSession(timeline(Failing()), lambda: None)
    failing.apply(SearchQuery("refund"), seek=False, moves=0)
    await failing.fetch(lambda p: None)
    assert failing.fetch_state == "failed"
    assert "90001" in failing.fetch_error and "\n" not in failing.fetch_error
    status = failing.fetch_status()
    assert status is not None and status[1] == "error" and "/ tries again" in status[0]
    assert not failing.begin_fetch()  # failed: not again until rearmed
    failing.rearm()
    assert failing.fetch_state == "idle" and failing.begin_fetch()
    failing.close()


async def test_stopping_the_fetch_and_a_fetch_left_behind_by_a_swap() -> None:
    tl = timeline()
    await tl.open()
    session = SearchSession(tl, lambda: None)
    session.apply(SearchQuery("refund"), seek=False, moves=0)
    session.begin_fetch()
    session.wait_for_jump("recalled", True)
    task = asyncio.create_task(session.fetch(lambda p: None))
    await asyncio.sleep(0)
    assert session.stop_fetch() and session.fetch_state == "stopped"
    assert session.pending_jump is None  # the jump that waited for it is dropped
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert session.fetch_state == "stopped"
    session.rearm()
    assert session.begin_fetch()
    old = asyncio.create_task(session.fetch(lambda p: None))
    other = timeline()
    await other.open()
    assert session.follow(other) and not session.follow(other)
    assert session.timeline is other and session.fetch_state == "idle"
    assert session.query == SearchQuery("refund") and session.results is not None
    await old  # the old timeline's fetch ends; the new one's state is untouched
    assert session.fetch_state == "idle"
    session.close()


# -- a pathological regex never stops the event loop ---------------------------------------------


class Frozen:
    """A timeline whose window is all loaded (what the session reads of it)."""

    complete = True

    def __init__(self, messages: list[Message]) -> None:
        self._messages = messages

    def subscribe(self, callback: Callable[[Any], None]) -> Callable[[], None]:
        return lambda: None

    def messages(self) -> list[Message]:
        return self._messages


async def test_a_pathological_regex_over_100k_messages_never_stalls_the_event_loop() -> None:
    def make(i: int, text: str) -> Message:
        return parse_message(message_obj(sender="a", receiver="b", time=T0 + i, text=text,
                                         seq=i, random=i))

    plain = [make(i, text) for i, text in enumerate(["aaa bbb", "hello", "a refund?", "ok"])]
    messages = [plain[i % 4] for i in range(100_000)]
    for at in (40_000, 90_000):
        messages[at] = make(at, "a" * 5000 + "!")
    session = SearchSession(cast(Timeline, Frozen(messages)), lambda: None)
    # Verbose: the static check cannot read it, so only the timeout stands in the way.
    assert session.apply(SearchQuery("(?x) (a+)+ $", regex=True), seek=True, moves=0) is None
    gaps: list[float] = []
    done = asyncio.Event()

    # CPU time of this thread between two turns of the loop: what the scan ran at a stretch.
    # Not wall time, which a loaded machine stretches (a timed assertion flaked at load 5).
    async def ticker() -> None:
        last = time.thread_time()
        while not done.is_set():
            await asyncio.sleep(0.005)
            now = time.thread_time()
            gaps.append(now - last)
            last = now

    tick = asyncio.create_task(ticker())
    began = time.thread_time()
    await session.scan(lambda settled: None)
    done.set()
    await tick
    assert session.refusal == SlowRegex.reason
    assert max(gaps) < 0.5, max(gaps)  # the UI's event loop kept turning
    assert time.thread_time() - began < 30
    assert session.give_up() == SlowRegex.reason
    assert session.query is None and session.last_query is None  # not brought back by n
    session.close()


# -- nearest the cursor first ----------------------------------------------------------------------


async def counted(step_size: int = 16) -> tuple[Timeline, SearchSession]:
    """A session over the whole window, indexed, stepping ``step_size`` messages at a time."""
    tl = timeline()
    await tl.open()
    await tl.load_all(lambda p: None)
    session = SearchSession(tl, lambda: None)
    session.step_size = step_size
    await settle(session)  # the index is built
    return tl, session


async def test_a_new_query_moves_before_the_count_is_final_and_the_counter_says_so() -> None:
    tl, session = await counted()
    cursor = tl.messages()[150]
    session.look_at(cursor)
    session.apply(SearchQuery("refund"), seek=True, moves=0)  # matches: 7, 57, 107, ...
    seen: list[tuple[str, list[str], bool]] = []

    def report(settled: bool) -> None:
        moves, _ = session.ready(cursor)
        assert session.results is not None
        seen.append((session.counter(cursor), [m.target.key for m in moves],
                     session.results.done))

    await session.scan(report)
    first_move = next(k for k, (_, moves, _) in enumerate(seen) if moves)
    assert seen[first_move][1] == ["k107"]  # the latest mention before the cursor
    assert not seen[first_move][2]  # known before the whole window was counted
    assert seen[0][0].endswith("…") and "≥" in seen[0][0]  # told it is still counting
    assert seen[-1][0] == "6" and seen[-1][2]  # then final (the cursor is on no match)
    assert sum(bool(moves) for _, moves, _ in seen) == 1
    session.close()


async def press_while_counting(session: SearchSession, cursor: Message, forward: bool
                               ) -> tuple[bool, list[tuple[str, bool, str]]]:
    """``n`` (``N``) pressed after the first step of a new query's scan: whether it had to wait,
    and the moves made (target, whether the count was final then, the notice)."""
    session.look_at(cursor)
    session.apply(SearchQuery("refund"), seek=False, moves=0)
    pressed: list[bool] = []
    moved: list[tuple[str, bool, str]] = []

    def report(settled: bool) -> None:
        assert session.results is not None
        if not pressed:
            move = session.step(forward, cursor)
            pressed.append(move is None)
            if move is not None:
                moved.append((move.target.key, session.results.done, session.notice))
            else:
                assert session.pending_step is forward
            return
        moves, missed = session.ready(cursor)
        assert not missed
        moved.extend((m.target.key, session.results.done, session.notice) for m in moves)

    await session.scan(report)
    return pressed[0], moved


async def test_n_and_N_pressed_while_counting_go_to_the_right_match() -> None:
    # (cursor, n or N, where it goes, wraps, waits: not among the first messages looked at)
    for start, forward, expected, wraps, waits in [(150, False, "k107", False, True),
                                                   (150, True, "k157", False, False),
                                                   (290, True, "k7", True, True),
                                                   (3, False, "k257", True, True)]:
        tl, session = await counted()  # a new session: nothing to narrow from
        waited, moved = await press_while_counting(session, tl.messages()[start], forward)
        assert len(moved) == 1 and waited == waits, (start, moved)
        key, done, notice = moved[0]
        assert key == expected, start
        assert ("wrapped" in notice) == wraps
        assert not done or wraps  # found before the count was final, unless it had to wrap
        session.close()
