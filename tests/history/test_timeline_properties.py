"""Property tests: random conversations (same-second bursts bigger than a page, short pages from
the sandbox's reply cap) served through the real ImClient, random sequences of open /
load_older / load_newer / jump / fill, with and without injected faults. After every step the
timeline holds no duplicate, keeps the service's order, each segment equals the truth of its
span, the rest is gaps, and the rows (day separators included) match both the contract and a
copy kept by replaying RowsChanged. After load_all it holds exactly the window."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from timelinekit import T0, Served, Shadow, check, record

from roamtui.history.timeline import Timeline
from roamtui.im.errors import RoamError

ZONES = [dt.UTC, ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")]
Op = tuple[Any, ...]


@dataclass(frozen=True)
class Case:
    messages: list[dict[str, Any]]
    span: int  # the window is T0 .. T0 + span - 1
    page_size: int
    page_cap: int
    tz: dt.tzinfo
    ops: list[Op]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    # Up to four days, so that day separators and DST (New York) come into play.
    span = draw(st.sampled_from([1, 60, 3_600, 90_000, 4 * 86_400]))
    page_size = draw(st.integers(1, 12))
    seconds = draw(st.lists(st.integers(-20, span + 20), max_size=24))
    if draw(st.booleans()):  # a cluster of busy neighbouring seconds
        base = draw(st.integers(0, span - 1))
        seconds += [base + k for k in range(draw(st.integers(1, 6)))]
    messages: list[dict[str, Any]] = []
    for offset in sorted(seconds):
        for _ in range(draw(st.integers(1, 2 * page_size + 3))):  # often more than a page
            i = len(messages)
            # MsgSeq unordered on purpose: the service's order within a second is the list's.
            seq = draw(st.integers(0, 2**32 - 1))
            text = draw(st.sampled_from(["", "x" * 300, "字" * 150]))
            messages.append(record(i, T0 + offset, text=text, seq=seq))
    op = st.one_of(
        st.tuples(st.just("open")),
        st.tuples(st.just("older"), st.integers(-1, 4)),
        st.tuples(st.just("newer"), st.integers(0, 4)),
        st.tuples(st.just("jump"), st.integers(-30, span + 30), st.integers(1, 30)),
        st.tuples(st.just("fill"), st.integers(0, 4), st.sampled_from(["top", "bottom"])),
    )
    return Case(
        messages=messages,
        span=span,
        page_size=page_size,
        page_cap=draw(st.sampled_from([600, 2_000, 13 * 1024])),
        tz=draw(st.sampled_from(ZONES)),
        ops=draw(st.lists(op, min_size=1, max_size=10)),
    )


async def step(tl: Timeline, op: Op) -> None:
    kind = op[0]
    if kind == "open":
        await tl.open()
    elif kind == "older":
        segs = tl.segments
        await tl.load_older(None if op[1] < 0 or not segs else segs[op[1] % len(segs)])
    elif kind == "newer":
        segs = tl.segments
        if segs:
            await tl.load_newer(segs[op[1] % len(segs)])
    elif kind == "jump":
        await tl.jump(T0 + op[1], context=op[2])
    else:
        gaps = tl.gaps
        if gaps:
            await tl.fill(gaps[op[1] % len(gaps)], op[2])


async def run(case: Case, *, fault_rate: float, retries: int, seed: int) -> int:
    served = Served(
        case.messages, T0, T0 + case.span - 1, case.page_size, case.page_cap, case.tz,
        fault_rate=fault_rate, retries=retries, seed=seed,
    )
    failures = 0
    async with served.client:
        tl = served.timeline()
        shadow = Shadow(tl)
        check(tl, served, shadow)
        for op in case.ops:
            try:
                await step(tl, op)
            except RoamError:
                failures += 1
                # The failed stretch stays a gap, and says why.
                assert any(g.state == "error" and g.error is not None for g in tl.gaps)
            check(tl, served, shadow)
            assert all(g.state != "loading" for g in tl.gaps)
        served.set_faults(0.0)
        await tl.load_all()
        check(tl, served, shadow)
        assert tl.complete and not tl.gaps
        assert [m.key for m in tl.messages()] == [k for _, k in served.truth()]
    return failures


PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(cases())
def test_random_operations_keep_the_timeline_exact(case: Case) -> None:
    assert asyncio.run(run(case, fault_rate=0.0, retries=0, seed=0)) == 0


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.integers(0, 2**16))
def test_faults_absorbed_by_client_retries_change_nothing(case: Case, seed: int) -> None:
    assert asyncio.run(run(case, fault_rate=0.25, retries=12, seed=seed)) == 0


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.integers(0, 2**16))
def test_failed_loads_leave_the_model_exact_and_the_error_on_the_gap(case: Case, seed: int) -> None:
    asyncio.run(run(case, fault_rate=0.35, retries=0, seed=seed))


async def run_concurrently(case: Case, groups: list[int], seed: int) -> None:
    """The same operations, started a few at a time so that their replies interleave."""
    served = Served(
        case.messages, T0, T0 + case.span - 1, case.page_size, case.page_cap, case.tz, seed=seed
    )
    served.service.faults.latency_ms = 1.0  # jittered: replies come back in shuffled order
    async with served.client:
        tl = served.timeline()
        shadow = Shadow(tl)
        ops = list(case.ops)
        for size in groups:
            batch, ops = ops[:size], ops[size:]
            if not batch:
                break
            await asyncio.gather(*(step(tl, op) for op in batch))
            check(tl, served, shadow)
        await asyncio.gather(tl.load_all(), *(step(tl, op) for op in ops))
        check(tl, served, shadow)
        assert tl.complete
        assert [m.key for m in tl.messages()] == [k for _, k in served.truth()]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.lists(st.integers(2, 4), min_size=1, max_size=4), st.integers(0, 2**16))
def test_concurrent_operations_keep_the_timeline_exact(
    case: Case, groups: list[int], seed: int
) -> None:
    asyncio.run(run_concurrently(case, groups, seed))
