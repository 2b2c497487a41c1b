"""Loading the whole window: pages fold in as they land, so rows and search counts grow during
the fetch, and what landed stays when the load is stopped or fails. A gate in front of the
client holds calls back, so that each test looks at a fetch in the middle, deterministically."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_timeline_properties import Case, cases, step
from timelinekit import T0, Served, Shadow, check, record

from roamtui.history.search import SearchQuery
from roamtui.history.search_session import SearchSession
from roamtui.history.timeline import GapRow, LoadProgress, Timeline
from roamtui.im.errors import RoamError, TransportError
from roamtui.im.roam import API, ChainPage, RoamCaller, fetch_window

HOUR = 3600


class Gate:
    """Passes ``allowed`` calls through, then holds the others until ``open()``, or fails them
    with ``failure``. Counts what it saw, so a test can wait until a fetch is at rest."""

    def __init__(self, inner: RoamCaller) -> None:
        self.inner = inner
        self.allowed = 1 << 30
        self.failure: RoamError | None = None
        self.started = self.answered = self.failed = self.held = 0
        self._open = asyncio.Event()

    def close_after(self, calls: int) -> None:
        self.allowed = self.started + calls
        self._open.clear()

    def open(self) -> None:
        self.allowed = 1 << 30
        self._open.set()

    async def call(self, api: str, body: dict[str, Any]) -> dict[str, Any]:
        self.started += 1
        if self.started > self.allowed:
            if self.failure is not None:
                self.failed += 1
                raise self.failure
            self.held += 1
            try:
                await self._open.wait()
            finally:
                self.held -= 1
        reply = await self.inner.call(api, body)
        self.answered += 1
        return reply


async def at_rest(gate: Gate, tl: Timeline) -> None:
    """Run the loop until every answered call is folded in and every other one is held or
    failed (bounded by steps, not time); ``tl`` makes all its calls through ``gate``."""
    quiet = 0
    for _ in range(20_000):
        waiting = gate.started - gate.answered - gate.failed
        if waiting == gate.held and tl.calls == gate.answered:
            quiet += 1
            if quiet > 50:  # and stays so: no worker is between two calls
                return
        else:
            quiet = 0
        await asyncio.sleep(0)
    raise AssertionError("the fetch never came to rest")


def conversation(n: int = 900, step: int = 4, mark: Callable[[int], bool] = lambda i: False
                 ) -> list[dict[str, Any]]:
    return [record(i, T0 + i * step, text="needle" if mark(i) else "") for i in range(n)]


def gated(served: Served) -> tuple[Gate, Timeline]:
    gate = Gate(served.client)
    return gate, Timeline(gate, served.query(), served.tz, concurrency=4)


async def test_pages_fold_in_while_the_window_loads() -> None:
    served = Served(conversation(), T0, T0 + HOUR, page_size=20)
    async with served.client:
        gate, tl = gated(served)
        shadow = Shadow(tl)
        await tl.open()
        opened = tl.loaded_count
        reports: list[LoadProgress] = []
        gate.close_after(8)
        task = asyncio.create_task(tl.load_all(reports.append))
        await at_rest(gate, tl)
        # Eight pages are in (the open page's oldest second is fetched whole again, so one
        # message comes twice and counts once); what is folded in is exact.
        assert opened < tl.loaded_count < len(served.truth())
        assert reports[-1].messages == opened + 8 * 20 - 1 and reports[-1].calls == 8
        assert 0 < reports[-1].fraction < 1
        check(tl, served, shadow)
        # What is not in yet shows as being loaded, so the view does not fetch it again.
        assert tl.gaps and all(g.state == "loading" for g in tl.gaps)
        gate.open()
        result = await task
        assert tl.complete and [m.key for m in tl.messages()] == [k for _, k in served.truth()]
        assert result.added == len(served.truth()) - opened
        check(tl, served, shadow)
        fractions = [r.fraction for r in reports]
        assert fractions == sorted(fractions) and fractions[-1] == 1.0


async def test_a_long_load_changes_the_rows_in_batches_not_page_by_page() -> None:
    served = Served(conversation(4000, 1), T0, T0 + 2 * HOUR, page_size=20)
    async with served.client:
        tl = Timeline(served.client, served.query(), served.tz, concurrency=8)
        await tl.open()
        shadow = Shadow(tl)
        folds: set[int] = set()  # a batch is folded in between two calls
        tl.subscribe(lambda change: folds.add(tl.calls))
        result = await tl.load_all()
        assert result.calls >= 190 and tl.complete
        # Each batch adds a share of what is loaded: a few dozen batches over 200 pages.
        assert 5 < len(folds) < result.calls // 4
        check(tl, served, shadow)


async def test_stopping_a_load_keeps_what_landed() -> None:
    served = Served(conversation(), T0, T0 + HOUR, page_size=20)
    async with served.client:
        gate, tl = gated(served)
        shadow = Shadow(tl)
        await tl.open()
        gate.close_after(6)
        task = asyncio.create_task(tl.load_all())
        await at_rest(gate, tl)
        landed = [m.key for m in tl.messages()]
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert [m.key for m in tl.messages()] == landed and len(landed) == 7 * 20 - 1
        assert all(g.state == "idle" for g in tl.gaps)
        assert gate.held == 0  # the held calls were cancelled too
        check(tl, served, shadow)
        gate.open()
        result = await tl.load_all()
        assert result.added == len(served.truth()) - len(landed)
        assert tl.complete and [m.key for m in tl.messages()] == [k for _, k in served.truth()]
        check(tl, served, shadow)


async def test_a_failed_load_keeps_what_landed_and_the_rest_carries_the_error() -> None:
    served = Served(conversation(), T0, T0 + HOUR, page_size=20)
    async with served.client:
        gate, tl = gated(served)
        shadow = Shadow(tl)
        await tl.open()
        gate.failure = TransportError("connection refused by the test")
        gate.close_after(5)
        with pytest.raises(TransportError):
            await tl.load_all()
        assert tl.loaded_count == 6 * 20 - 1 and not tl.complete
        rows = [tl.row(i) for i in range(len(tl))]
        gap_rows = [r for r in rows if isinstance(r, GapRow)]
        assert gap_rows and all(r.gap.state == "error" for r in gap_rows)
        assert all(r.gap.error is gate.failure for r in gap_rows)
        check(tl, served, shadow)
        gate.failure = None
        gate.open()
        await tl.load_all()
        assert tl.complete and not tl.gaps
        check(tl, served, shadow)


async def test_the_window_fetch_hands_over_each_page_as_it_lands() -> None:
    burst = [record(2000 + i, T0 + 1800, seq=9000 - i) for i in range(45)]
    messages = conversation(300, 9)[:200] + burst + conversation(300, 9)[200:]
    served = Served(messages, T0, T0 + HOUR, page_size=10)
    async with served.client:
        pages: list[ChainPage] = []
        gate = Gate(served.client)
        got = await fetch_window(gate, served.query(), concurrency=6, on_page=pages.append)
        assert len(pages) == gate.answered
        assert sorted(m.key for p in pages for m in p.messages) == sorted(m.key for m in got)
        bottoms = {p.next for p in pages if p.next is not None}
        for p in pages:
            # Every continuation goes on from a page that landed before it.
            assert p.after is None or p.after in bottoms
            low = p.min_time if p.next is None else p.next.max_time
            top = p.max_time if p.after is None else p.after.max_time
            assert all(low <= m.time <= top for m in p.messages)
        assert [m.key for m in got] == [k for _, k in served.truth()]
        assert API == "v4/openim/admin_getroammsg"


def count_of(counter: str) -> int:
    return int(counter.rstrip("+"))


async def test_the_search_count_grows_while_the_rest_of_the_window_is_fetched() -> None:
    served = Served(conversation(mark=lambda i: i % 5 == 0), T0, T0 + HOUR, page_size=20)
    total = 900 // 5
    async with served.client:
        gate, tl = gated(served)
        await tl.open()
        session = SearchSession(tl, lambda: None)
        session.search(SearchQuery("needle").compile())
        await session.scan(lambda settled: None)
        first = session.counter(None)
        assert first == "4+"  # the newest page only: more may come
        gate.close_after(10)
        task = asyncio.create_task(session.fetch(lambda p: None))
        await at_rest(gate, tl)
        assert session.fetch_state == "running"
        await session.scan(lambda settled: None)
        middle = session.counter(None)
        assert middle.endswith("+") and count_of(first) < count_of(middle) < total
        assert count_of(middle) == sum(1 for m in tl.messages() if "needle" in m.text())
        gate.open()
        await task
        await session.scan(lambda settled: None)
        assert session.fetch_state == "done" and session.counter(None) == str(total)
        session.close()


async def test_stopping_the_search_fetch_keeps_the_matches_found_so_far() -> None:
    served = Served(conversation(mark=lambda i: i % 5 == 0), T0, T0 + HOUR, page_size=20)
    async with served.client:
        gate, tl = gated(served)
        await tl.open()
        session = SearchSession(tl, lambda: None)
        session.search(SearchQuery("needle").compile())
        gate.close_after(10)
        task = asyncio.create_task(session.fetch(lambda p: None))
        await at_rest(gate, tl)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await session.scan(lambda settled: None)
        assert session.fetch_state == "stopped"
        found = sum(1 for m in tl.messages() if "needle" in m.text())
        assert tl.loaded_count == 11 * 20 - 1 and session.counter(None) == f"{found}+"
        status = session.fetch_status()
        assert status is not None and status[1] == "info" and "stopped" in status[0]
        session.close()


async def stop_midway(case: Case, before: int, calls: int, fail: bool, seed: int) -> None:
    """Some operations, then a whole-window load stopped (or failing) after ``calls`` more
    calls, then the rest of the operations and a load that finishes."""
    served = Served(
        case.messages, T0, T0 + case.span - 1, case.page_size, case.page_cap, case.tz, seed=seed
    )
    async with served.client:
        gate = Gate(served.client)
        tl = Timeline(gate, served.query(), served.tz, concurrency=4)
        shadow = Shadow(tl)
        for op in case.ops[:before]:
            await step(tl, op)
        kept = {m.key for m in tl.messages()}
        if fail:
            gate.failure = TransportError("connection reset by the test")
        gate.close_after(calls)
        task = asyncio.create_task(tl.load_all())
        await at_rest(gate, tl)
        if not task.done():
            task.cancel()
        outcome = (await asyncio.gather(task, return_exceptions=True))[0]
        check(tl, served, shadow)
        assert kept <= {m.key for m in tl.messages()}, "a load lost messages"
        if isinstance(outcome, RoamError):
            assert tl.gaps and all(g.state == "error" for g in tl.gaps)
        else:
            assert all(g.state == "idle" for g in tl.gaps)
        gate.failure = None
        gate.open()
        for op in case.ops[before:]:
            await step(tl, op)
            check(tl, served, shadow)
        await tl.load_all()
        check(tl, served, shadow)
        assert tl.complete and [m.key for m in tl.messages()] == [k for _, k in served.truth()]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.integers(0, 10), st.integers(0, 40), st.booleans(), st.integers(0, 2**16))
def test_a_load_stopped_or_failing_anywhere_leaves_the_timeline_exact(
    case: Case, before: int, calls: int, fail: bool, seed: int
) -> None:
    asyncio.run(stop_midway(case, before, calls, fail, seed))
