"""Exports read from both sides (``--sides both``): each side's whole window, merged, with who
holds each message.

The service keeps one roaming history per account; :func:`fetch_both` reads the window as the
account holds it and as the peer holds it (the same client: one limiter, one budget), merges
the two by MsgKey in the service's order (:func:`roamtui.history.sides_merge.merge_sides`)
and says for every message ``both`` or the account name of its only holder. Both windows are
fetched whole, so nothing is called one-sided before the other side is known. From the TUI,
:func:`timeline_sides` reads the same from a two-sided transcript (what it has merged).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from roamtui.history.sides import TwoSidedTimeline
from roamtui.history.sides_merge import Held, held_by_name, merge_sides
from roamtui.im.model import Message
from roamtui.im.pagelog import PageRecord
from roamtui.im.roam import PARTY_FIELDS, FetchProgress, RoamCaller, RoamQuery, fetch_window


@dataclass(frozen=True, slots=True)
class BothSides:
    """The merged window and who holds what."""

    messages: list[Message]
    held_by: dict[str, str] | None  # MsgKey -> "both" or the only holder; None: one side
    peer_objects: dict[str, str]  # both hold it, the peer's JSON differs: MsgKey -> that JSON
    calls: int  # pages of both fetches

    def meta(self) -> dict[str, Any]:
        """What :class:`~roamtui.export.provenance.ExportMeta` takes of it."""
        return {"held_by": self.held_by, "peer_objects": self.peer_objects}


async def fetch_sides(
    client: RoamCaller,
    query: RoamQuery,
    *,
    both: bool,
    progress: Callable[[FetchProgress], None] | None = None,
    on_record: Callable[[PageRecord], None] | None = None,
) -> BothSides:
    """The whole window as the export job wants it: one side's (``held_by`` None), or both."""
    if both:
        return await fetch_both(client, query, progress=progress, on_record=on_record)
    messages = await fetch_window(client, query, progress=progress, on_record=on_record)
    return BothSides(messages, None, {}, 0)


async def fetch_both(
    client: RoamCaller,
    query: RoamQuery,
    *,
    progress: Callable[[FetchProgress], None] | None = None,
    on_record: Callable[[PageRecord], None] | None = None,
) -> BothSides:
    """Both sides' whole windows, concurrently on one client, merged; a RoamError of either is
    raised (nothing half-merged is returned). One side, then the other, on the one client."""
    swapped = dataclasses.replace(query, account=query.peer, peer=query.account)
    seen: dict[int, FetchProgress] = {}

    def reporter(side: int) -> Callable[[FetchProgress], None]:
        def report(p: FetchProgress) -> None:
            seen[side] = p
            if progress is not None:
                parts = list(seen.values())
                # Each side covers the window once: the two together, half of their sum.
                progress(FetchProgress(
                    sum(x.messages for x in parts), sum(x.calls for x in parts),
                    sum(x.covered_seconds for x in parts) // 2, p.total_seconds))

        return report

    # One side after the other, each with the whole limiter: the sliced fetch sizes its
    # chains by the limiter's rate times the round trip, and two fetches at once see longer
    # round trips, start more chains and end more of them on short pages (measured: +10 % to
    # +20 % calls). When the rate is the bound, as for any long window, it takes no longer.
    ours = await fetch_window(client, query, progress=reporter(0), on_record=on_record)
    theirs = await fetch_window(client, swapped, progress=reporter(1), on_record=on_record)
    merged = merge_sides(ours, theirs)
    held_by = {m.key: held_by_name(held, query.account, query.peer) for m, held, _ in merged}
    peers = {m.key: p.raw_json for m, _, p in merged if p is not None and p.raw_json != m.raw_json}
    calls = sum(p.calls for p in seen.values())
    return BothSides([m for m, _, _ in merged], held_by, peers, calls)


def timeline_sides(timeline: object, messages: Sequence[Message]) -> BothSides | None:
    """Who holds what of ``messages``, read from a two-sided transcript; None for one side."""
    if not isinstance(timeline, TwoSidedTimeline):
        return None
    q = timeline.query
    held_by: dict[str, str] = {}
    peers: dict[str, str] = {}
    for m in messages:
        held = timeline.held(m.key) or Held.UNKNOWN
        held_by[m.key] = held_by_name(held, q.account, q.peer)
        other = timeline.peer_object(m.key)
        if other is not None:
            peers[m.key] = other.raw_json
    return BothSides(list(messages), held_by, peers, timeline.calls)


def summary_text(sides: BothSides | None, account: str, peer: str) -> str:
    """``; both sides read: 910 held by both, 20 only cust_1001, 59 only agent_alice`` for the
    command line's summary; "" when one side was read."""
    if sides is None or sides.held_by is None:
        return ""
    values = list(sides.held_by.values())
    both, mine, theirs = (values.count(v) for v in ("both", account, peer))
    return (f"; both sides read: {both} held by both, {mine} only {account}, "
            f"{theirs} only {peer}")


def manifest_sides(sides: BothSides | None, query: RoamQuery,
                   records: Sequence[PageRecord]) -> dict[str, Any]:
    """``{"sides": …}`` for a bundle's manifest read from both sides (``{}`` for one side):
    both were read, each kind counted, and how many of the page records each side's fetch
    made (each record is tagged with its side)."""
    if sides is None or sides.held_by is None:
        return {}
    values = list(sides.held_by.values())
    reader = PARTY_FIELDS[query.naming][0]
    readers = [r.request.get(reader) for r in records]
    return {"sides": {"read": [query.account, query.peer],
            "counts": {"both": values.count("both"), "only_account": values.count(query.account),
                       "only_peer": values.count(query.peer)},
            "pages": {"account": readers.count(query.account),
                      "peer": readers.count(query.peer)}}}
