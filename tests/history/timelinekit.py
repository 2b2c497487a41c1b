"""Shared pieces of the timeline tests: conversations served by the sandbox through the real
ImClient, and an independent check that a Timeline's state and rows match the truth."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from roamtui.history.timeline import (
    DayRow,
    EdgeRow,
    GapRow,
    MessageRow,
    Row,
    RowsChanged,
    Timeline,
)
from roamtui.im.client import ImClient
from roamtui.im.limiter import RateLimiter
from roamtui.im.roam import RoamQuery
from roamtui.sandbox import ListStore, MessageStore, SandboxService, demo_connection
from roamtui.sandbox.faults import Fault, FaultPlan

T0 = 1_700_000_000
ACCOUNT, PEER = "cust_7", "agent_3"
# Slow replies would only test the client's timeout, with real waiting; the rest is enough.
QUICK_FAULTS = (Fault.HTTP_502, Fault.ERROR_91000, Fault.TRUNCATED)


class Unlimited(RateLimiter):
    """No pacing: these tests check content, and the sandbox's quota is off for them."""

    async def acquire(self) -> None:
        await asyncio.sleep(0)


async def no_wait(_seconds: float) -> None:
    await asyncio.sleep(0)


def record(i: int, t: int, *, text: str = "", seq: int | None = None) -> dict[str, Any]:
    """A message dict as the service stores it; ``i`` makes the key unique."""
    seq = i if seq is None else seq
    sender, receiver = (ACCOUNT, PEER) if i % 3 else (PEER, ACCOUNT)
    return {
        "From_Account": sender, "To_Account": receiver, "MsgSeq": seq, "MsgRandom": i,
        "MsgTimeStamp": t, "MsgFlagBits": 8 if i % 7 == 0 else 0, "IsPeerRead": i % 2,
        "MsgKey": f"{seq}_{i}_{t}",
        "MsgBody": [{"MsgType": "TIMTextElem", "MsgContent": {"Text": f"m{i} {text}"}}],
    }


@dataclass
class Served:
    """A conversation behind the sandbox, and a Timeline over one window of it."""

    messages: list[dict[str, Any]]  # the store's order within a second is the service's
    min_time: int
    max_time: int
    page_size: int = 20
    page_cap: int = 13 * 1024
    tz: dt.tzinfo = dt.UTC
    fault_rate: float = 0.0
    retries: int = 12
    seed: int = 0
    service: SandboxService = field(init=False)
    client: ImClient = field(init=False)

    def store(self) -> MessageStore:
        """What the sandbox serves (a subclass may serve each side its own history)."""
        return ListStore({(ACCOUNT, PEER): self.messages})

    def __post_init__(self) -> None:
        self.service = SandboxService(
            self.store(),
            rate_limit=None,
            page_cap_bytes=self.page_cap,
        )
        self.set_faults(self.fault_rate)
        self.client = ImClient(
            demo_connection("http://sandbox.test"),
            transport=self.service.mock_transport(),
            limiter=Unlimited(200),
            sleep=no_wait,
            timeout=0.5,
            max_retries=self.retries,
        )

    def set_faults(self, rate: float) -> None:
        self.service.faults = FaultPlan(fault_rate=rate, seed=self.seed, faults=QUICK_FAULTS)

    def query(self) -> RoamQuery:
        return RoamQuery(ACCOUNT, PEER, self.min_time, self.max_time, self.page_size)

    def timeline(self) -> Timeline:
        return Timeline(self.client, self.query(), self.tz)

    def truth(self) -> list[tuple[int, str]]:
        """(time, MsgKey) of the window in service order."""
        ordered = sorted(self.messages, key=lambda m: m["MsgTimeStamp"])  # stable
        return [
            (m["MsgTimeStamp"], m["MsgKey"])
            for m in ordered
            if self.min_time <= m["MsgTimeStamp"] <= self.max_time
        ]

    def landing(self, t: int, earlier: bool) -> str:
        """The key a move to ``t`` lands on, from the truth: at-or-before going back, at-or-after
        going on, and the nearest message when that side has none."""
        truth = self.truth()
        before = [k for when, k in truth if when <= t]
        after = [k for when, k in truth if when >= t]
        if earlier:
            return before[-1] if before else after[0]
        return after[0] if after else before[-1]


class Shadow:
    """A copy of the rows kept only by replaying RowsChanged, as a view would."""

    def __init__(self, tl: Timeline) -> None:
        self.tl = tl
        self.rows: list[Row] = all_rows(tl)
        self.changes: list[RowsChanged] = []
        tl.subscribe(self.on_change)

    def on_change(self, change: RowsChanged) -> None:
        assert change.removed >= 0 and change.inserted >= 0
        assert 0 <= change.index <= len(self.rows) - change.removed
        self.changes.append(change)
        fresh = [self.tl.row(i) for i in range(change.index, change.index + change.inserted)]
        self.rows[change.index : change.index + change.removed] = fresh


def all_rows(tl: Timeline) -> list[Row]:
    return [tl.row(i) for i in range(len(tl))]


def expected_rows(tl: Timeline) -> list[Row]:
    """The rows as the contract describes them, built from the public state alone."""
    msgs, segs, gaps = tl.messages(), tl.segments, tl.gaps
    if not segs:
        return [GapRow(gap) for gap in gaps]
    # A gap ending in a partly known second sorts before the segment that knows its end.
    items: list[tuple[int, int, object]] = [(g.min_time, 0, g) for g in gaps]
    items += [(s.min_time, 1, s) for s in segs]
    items.sort(key=lambda x: (x[0], x[1]))
    rows: list[Row] = []
    if items[0][1] == 1:
        rows.append(EdgeRow("start"))
    for _, kind, item in items:
        if kind == 0:
            rows.append(GapRow(item))  # type: ignore[arg-type]
            continue
        prev: dt.date | None = None
        for m in msgs:
            if item.min_time <= m.time <= item.max_time:  # type: ignore[attr-defined]
                day = dt.datetime.fromtimestamp(m.time, tl.tz).date()
                if day != prev:
                    rows.append(DayRow(day))
                    prev = day
                rows.append(MessageRow(m))
    if items[-1][1] == 1:
        rows.append(EdgeRow("end"))
    return rows


def check(tl: Timeline, served: Served, shadow: Shadow | None = None) -> None:
    """Everything the contract promises about the state after any step."""
    truth = served.truth()
    msgs = list(tl.messages())
    keys = [m.key for m in msgs]
    assert len(keys) == len(set(keys)), "a message is doubled"
    assert tl.loaded_count == len(msgs)
    assert tl.recalled_count == sum(1 for m in msgs if m.recalled)
    order = {key: n for n, (_, key) in enumerate(truth)}
    assert all(k in order for k in keys), "a message from outside the window or nowhere"
    assert [order[k] for k in keys] == sorted(order[k] for k in keys), "service order broken"
    # Gaps and segments alternate and tile the window; a segment whose oldest second is known
    # only in part shares that second with the gap before it.
    pieces = sorted(
        [(g.min_time, 0, g.max_time, False) for g in tl.gaps]
        + [(s.min_time, 1, s.max_time, s.partial_bottom) for s in tl.segments]
    )
    at = served.min_time
    for n, (lo, kind, hi, partial) in enumerate(pieces):
        assert n == 0 or kind != pieces[n - 1][1], "two gaps or two segments meet"
        start = lo + 1 if partial else lo
        assert start == at and hi >= lo, f"{pieces[n]} does not continue at {at}"
        assert not partial or (n and pieces[n - 1][2] == lo), "a partial second not in a gap"
        at = hi + 1
    assert at == served.max_time + 1, "the window is not covered"
    inside = 0
    for seg in tl.segments:
        got = [m.key for m in msgs if seg.min_time <= m.time <= seg.max_time]
        inside += len(got)
        assert seg.count == len(got)
        whole = [k for t, k in truth if seg.min_time + seg.partial_bottom <= t <= seg.max_time]
        if seg.partial_bottom:
            burst = [k for t, k in truth if t == seg.min_time]
            part = [k for k in got if k not in whole]
            assert part and burst[len(burst) - len(part):] == part, "partial second not a suffix"
            assert got == part + whole
        else:
            assert got == whole, f"segment {seg} differs from the truth"
    assert inside == len(msgs), "a message outside every segment"
    assert tl.complete == (not tl.gaps)
    rows = all_rows(tl)
    assert rows == expected_rows(tl)
    for i, row in enumerate(rows):
        if isinstance(row, MessageRow):
            assert msgs[row.index_in_loaded] is row.msg
            assert tl.index_of_key(row.msg.key) == i
    if shadow is not None:
        assert shadow.rows == rows, "replaying RowsChanged does not give the rows"


def message_rows(rows: Sequence[Row]) -> list[str]:
    return [row.msg.key for row in rows if isinstance(row, MessageRow)]
