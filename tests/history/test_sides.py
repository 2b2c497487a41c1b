"""Both sides of a conversation: the sandbox's per-side histories and the two-sided timeline.

The truth is the sandbox's: each side's plan (cleared before a second, deleted messages,
SyncOtherMachine=2 sends) says what each account holds. The merged timeline must equal the
union of both truths in the service's order, with the right holder for every message, after
every step of lazy loading, jumps and fills, under injected faults; and reading both sides
costs at most twice the calls of one side plus two.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sideskit import SidedServed, check_sides, keys
from timelinekit import ACCOUNT, PEER, T0, Shadow, record

from roamtui.history.sides import Held
from roamtui.history.sides_merge import held_by_name, intersect, merge_sides, subtract
from roamtui.im.errors import RoamError
from roamtui.im.model import parse_message
from roamtui.sandbox.sides import SidePlan, held_keys


def conversation(n: int, *, per_second: int = 3, step: int = 7) -> list[dict[str, Any]]:
    """``n`` messages, ``per_second`` in a second, MsgSeq rising as the service orders them."""
    return [record(i, T0 + (i // per_second) * step, seq=i) for i in range(n)]


def plans_for(messages: list[dict[str, Any]]) -> tuple[SidePlan, SidePlan]:
    """The account cleared the oldest fifth and deleted every 11th message it sent; every 13th
    message the peer sent was never synced to the peer; the peer deleted every 17th."""
    cleared = messages[len(messages) // 5]["MsgTimeStamp"]
    ours = SidePlan(
        cleared_before=cleared,
        deleted=frozenset(m["MsgKey"] for i, m in enumerate(messages)
                          if m["From_Account"] == ACCOUNT and i % 11 == 0),
    )
    theirs = SidePlan(
        unsynced=frozenset(m["MsgKey"] for i, m in enumerate(messages)
                           if m["From_Account"] == PEER and i % 13 == 0),
        deleted=frozenset(m["MsgKey"] for i, m in enumerate(messages) if i % 17 == 5),
    )
    return ours, theirs


def served_for(n: int = 400, **kw: Any) -> SidedServed:
    messages = conversation(n)
    ours, theirs = plans_for(messages)
    last = messages[-1]["MsgTimeStamp"]
    return SidedServed(messages, T0, last + 30, ours=ours, theirs=theirs, **kw)


# -- the sandbox --------------------------------------------------------------------------


def test_reading_as_each_side_returns_that_sides_history_only() -> None:
    served = served_for(120)
    ours = held_keys(served.sided, ACCOUNT, PEER, 0, 2**40)
    theirs = held_keys(served.sided, PEER, ACCOUNT, 0, 2**40)
    everything = [m["MsgKey"] for m in served.messages]
    assert ours == [m["MsgKey"] for m in served.messages if served.holds(served.ours, m)]
    assert theirs == [m["MsgKey"] for m in served.messages if served.holds(served.theirs, m)]
    assert set(ours) != set(theirs) and set(ours) | set(theirs) <= set(everything)
    cleared = served.ours.cleared_before
    assert cleared is not None
    assert all(m["MsgTimeStamp"] >= cleared for m in served.messages if m["MsgKey"] in ours)
    # Unsynced sends are the peer's own messages, held by the account only.
    assert all(k not in theirs for k in served.theirs.unsynced)


def test_the_service_pages_each_side_through_its_own_history() -> None:
    served = served_for(200)

    async def read() -> tuple[list[str], list[str]]:
        async with served.client:
            ours, theirs = served.one_side(), served.one_side(swapped=True)
            await ours.load_all()
            await theirs.load_all()
            return keys(ours.messages()), keys(theirs.messages())

    ours, theirs = asyncio.run(read())
    assert ours == held_keys(served.sided, ACCOUNT, PEER, 0, 2**40)
    assert theirs == held_keys(served.sided, PEER, ACCOUNT, 0, 2**40)


# -- merging ------------------------------------------------------------------------------


def msg(key: str, t: int, seq: int) -> Any:
    return parse_message({"MsgKey": key, "MsgTimeStamp": t, "MsgSeq": seq, "MsgRandom": 1,
                          "From_Account": ACCOUNT, "To_Account": PEER, "MsgBody": []})


def test_merge_keeps_each_sides_order_and_says_who_holds_what() -> None:
    a1, a2, s1, s2, b1, b2 = (msg(k, 5, q) for k, q in
                              [("a1", 1), ("a2", 4), ("s1", 2), ("s2", 6), ("b1", 3), ("b2", 7)])
    late = msg("late", 9, 0)
    ours, theirs = [a1, s1, a2, s2], [s1, b1, s2, b2, late]
    got = [(m.key, held.value) for m, held, _ in merge_sides(ours, theirs)]
    assert got == [("a1", "account"), ("s1", "both"), ("b1", "peer"), ("a2", "account"),
                   ("s2", "both"), ("b2", "peer"), ("late", "peer")]
    assert held_by_name(Held.ACCOUNT, "amy", "bo") == "amy"
    assert held_by_name(Held.PEER, "amy", "bo") == "bo"
    assert held_by_name(Held.BOTH, "amy", "bo") == "both"


def test_stretch_arithmetic() -> None:
    assert intersect([(0, 10), (20, 30)], [(5, 25)]) == [(5, 10), (20, 25)]
    assert subtract([(0, 30)], [(5, 10), (20, 25)]) == [(0, 4), (11, 19), (26, 30)]
    assert subtract([(5, 10)], [(0, 40)]) == []


# -- the two-sided timeline ---------------------------------------------------------------


def test_lazy_loading_claims_nothing_early_and_ends_as_the_union() -> None:
    served = served_for(400, page_size=10)

    async def go() -> None:
        async with served.client:
            tl = served.timeline()
            shadow = Shadow(tl)
            await tl.open()
            check_sides(tl, served, shadow)
            assert tl.loaded_count  # the newest stretch both sides know
            await tl.jump(T0 + 300)
            check_sides(tl, served, shadow)
            for _ in range(6):
                gaps = tl.gaps
                if not gaps:
                    break
                await tl.fill(gaps[-1], "bottom")
                check_sides(tl, served, shadow)
                await tl.fill(tl.gaps[0], "top")
                check_sides(tl, served, shadow)
            await tl.load_all()
            check_sides(tl, served, shadow)
            assert tl.complete
            assert keys(tl.messages()) == [k for _, k in served.truth()]
            c = tl.side_counts
            assert c.account_only and c.peer_only and c.both

    asyncio.run(go())


def test_injected_faults_leave_errors_on_gaps_and_change_no_holder() -> None:
    served = served_for(300, page_size=8, fault_rate=0.3, retries=0, seed=3)

    async def go() -> int:
        failures = 0
        async with served.client:
            tl = served.timeline()
            shadow = Shadow(tl)
            for step in range(30):
                try:
                    if step % 5 == 0:
                        await tl.jump(T0 + step * 23)
                    elif tl.gaps:
                        await tl.fill(tl.gaps[step % len(tl.gaps)], "bottom")
                except RoamError:
                    failures += 1
                    assert any(g.state == "error" and g.error is not None for g in tl.gaps)
                check_sides(tl, served, shadow)
                assert all(g.state != "loading" for g in tl.gaps)
            served.set_faults(0.0)
            await tl.load_all()
            check_sides(tl, served, shadow)
            assert keys(tl.messages()) == [k for _, k in served.truth()]
        return failures

    assert asyncio.run(go()) > 0  # the faults did happen


@pytest.mark.parametrize("page_size", [5, 30])
def test_both_sides_cost_at_most_twice_one_side_plus_two(page_size: int) -> None:
    """The same browsing (open, a jump, filling what comes into sight) on one side and on
    both: calls counted at the service."""
    async def browse(two: bool) -> int:
        served = served_for(600, page_size=page_size)
        async with served.client:
            tl = served.timeline() if two else served.one_side()
            await tl.open()
            await tl.jump(T0 + 700)
            for _ in range(3):
                if tl.gaps:
                    await tl.fill(tl.gaps[-1], "bottom")
            return served.service.stats().calls

    one, both = asyncio.run(browse(False)), asyncio.run(browse(True))
    assert both <= 2 * one + 2, (one, both)


# -- property: random deletions on both sides ---------------------------------------------


@st.composite
def sided_cases(draw: st.DrawFn) -> tuple[SidedServed, list[tuple[str, int]]]:
    n = draw(st.integers(0, 60))
    per_second = draw(st.integers(1, 8))
    messages = conversation(n, per_second=per_second, step=draw(st.sampled_from([1, 60, 4000])))
    gone = st.sets(st.integers(0, max(n - 1, 0)), max_size=n) if n else st.just(set())
    ours_gone, theirs_gone = draw(gone), draw(gone)
    cleared = None
    if n and draw(st.booleans()):
        cleared = messages[draw(st.integers(0, n - 1))]["MsgTimeStamp"]
    ours = SidePlan(cleared, frozenset(messages[i]["MsgKey"] for i in ours_gone))
    theirs = SidePlan(unsynced=frozenset(messages[i]["MsgKey"] for i in theirs_gone))
    last = messages[-1]["MsgTimeStamp"] if messages else T0
    served = SidedServed(
        messages, T0, last + draw(st.integers(0, 100)), ours=ours, theirs=theirs,
        page_size=draw(st.integers(1, 9)), page_cap=draw(st.sampled_from([700, 13 * 1024])),
        fault_rate=draw(st.sampled_from([0.0, 0.2])), retries=12, seed=draw(st.integers(0, 99)),
    )
    ops = draw(st.lists(st.tuples(st.sampled_from(["open", "jump", "fill", "older"]),
                                  st.integers(0, 5000)), max_size=6))
    return served, ops


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sided_cases())
def test_random_deletions_merge_to_the_union_with_the_right_holders(
    case: tuple[SidedServed, list[tuple[str, int]]],
) -> None:
    served, ops = case

    async def go() -> None:
        async with served.client:
            tl = served.timeline()
            shadow = Shadow(tl)
            for kind, x in ops:
                if kind == "open":
                    await tl.open()
                elif kind == "jump":
                    await tl.jump(T0 + x)
                elif kind == "older":
                    segs = tl.segments
                    await tl.load_older(segs[x % len(segs)] if segs else None)
                elif tl.gaps:
                    await tl.fill(tl.gaps[x % len(tl.gaps)], "bottom" if x % 2 else "top")
                check_sides(tl, served, shadow)
            await tl.load_all()
            check_sides(tl, served, shadow)
            assert tl.complete
            assert keys(tl.messages()) == [k for _, k in served.truth()]

    asyncio.run(go())
