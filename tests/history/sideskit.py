"""A conversation whose two parties hold different histories, behind the sandbox, and the checks
every two-sided timeline state must pass (against the truth of each side, not the timeline)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from timelinekit import ACCOUNT, PEER, Served, Shadow, check

from roamtui.history.sides import Held, TwoSidedTimeline
from roamtui.history.timeline import Timeline
from roamtui.im.roam import RoamQuery
from roamtui.sandbox import ListStore, MessageStore
from roamtui.sandbox.sides import SidedStore, SidePlan


@dataclass
class SidedServed(Served):
    """``messages`` (the whole conversation, in service order) served with ``ours`` as the
    account's plan and ``theirs`` as the peer's."""

    ours: SidePlan = field(default_factory=SidePlan)
    theirs: SidePlan = field(default_factory=SidePlan)
    sided: SidedStore = field(init=False)

    def store(self) -> MessageStore:
        plans = {(ACCOUNT, PEER): self.ours, (PEER, ACCOUNT): self.theirs}
        self.sided = SidedStore(ListStore({(ACCOUNT, PEER): self.messages}), plans)
        return self.sided

    def query(self, *, swapped: bool = False) -> RoamQuery:
        a, b = (PEER, ACCOUNT) if swapped else (ACCOUNT, PEER)
        return RoamQuery(a, b, self.min_time, self.max_time, self.page_size)

    def timeline(self) -> TwoSidedTimeline:
        return TwoSidedTimeline(self.client, self.query(), self.tz)

    def one_side(self, *, swapped: bool = False) -> Timeline:
        return Timeline(self.client, self.query(swapped=swapped), self.tz)

    def holds(self, plan: SidePlan, m: dict[str, Any]) -> bool:
        return not plan.hides(m["MsgTimeStamp"], m["MsgKey"])

    def truth(self) -> list[tuple[int, str]]:
        """The union of both sides' truths in the window, in the service's order."""
        return [
            (m["MsgTimeStamp"], m["MsgKey"])
            for m in sorted(self.messages, key=lambda m: m["MsgTimeStamp"])
            if self.min_time <= m["MsgTimeStamp"] <= self.max_time
            and (self.holds(self.ours, m) or self.holds(self.theirs, m))
        ]

    def holder(self, key: str) -> Held:
        m = next(m for m in self.messages if m["MsgKey"] == key)
        ours, theirs = self.holds(self.ours, m), self.holds(self.theirs, m)
        assert ours or theirs
        return Held.BOTH if ours and theirs else Held.ACCOUNT if ours else Held.PEER


def check_sides(tl: TwoSidedTimeline, served: SidedServed, shadow: Shadow | None = None) -> None:
    """The merged timeline is a timeline like any (segments exact against the union of both
    truths, rows, gaps), and every merged message's holder is the truth — none is called
    one-sided before the other side's coverage of its second is known."""
    check(tl, served, shadow)
    counts = {Held.BOTH: 0, Held.ACCOUNT: 0, Held.PEER: 0}
    for m in tl.messages():
        held = tl.held(m.key)
        assert held is not None and held is not Held.UNKNOWN
        assert held is served.holder(m.key), f"{m.key} said {held}"
        counts[held] += 1
    c = tl.side_counts
    assert (c.both, c.account_only, c.peer_only) == tuple(counts.values())
    assert tl.one_sided_count == c.account_only + c.peer_only
    # A message one side has loaded but the merged view has not is unknown yet, never one-sided.
    merged = {m.key for m in tl.messages()}
    for side in (tl.account_side, tl.peer_side):
        for m in side.messages():
            if m.key not in merged:
                assert tl.held(m.key) is Held.UNKNOWN


def keys(messages: Sequence[Any]) -> list[str]:
    return [m.key for m in messages]
